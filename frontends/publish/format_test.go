package publish

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

var testDay = quoter.Date{Year: 2026, Month: 12, Day: 7}

// posts are the posts every format is checked with: a short quote with
// links, one near the library's longest, one far past every service's
// limits (a post never sees one, but the formats must hold anyway), and
// one full of the characters the services' markup gives a meaning to.
func testPosts() map[string]post {
	links := func(p post) post {
		p.PageURL, p.ImageURL = "https://quotes.example.org/quotes/7", "https://quotes.example.org/quotes/7.png"
		return p
	}
	huge := strings.Repeat("Tomorrow, and tomorrow, and tomorrow, creeps in this petty pace from day to day. ", 150)
	return map[string]post{
		"short":  links(post{Day: testDay, Target: "team", Quote: &quoter.Quote{ID: 7, Text: "Brevity is the soul of wit.", Author: "William Shakespeare", Source: "Hamlet", Year: 1603, Tags: []string{"wit"}, Lang: "en"}}),
		"long":   {Day: testDay, Target: "team", Label: "poetry", Quote: &quoter.Quote{ID: 8, Text: quotertest.Long, Author: "Jack Torrance", Lang: "en"}},
		"huge":   links(post{Day: testDay, Target: "team", Quote: &quoter.Quote{ID: 9, Text: huge, Author: strings.Repeat("Macbeth ", 60), Source: strings.Repeat("The Tragedy ", 300), Lang: "en"}}),
		"markup": {Day: testDay, Target: "team", Quote: &quoter.Quote{ID: 10, Text: quotertest.Script + " @everyone <@123> *bold* _it_ ~x~ `code` > quote # h", Author: "Mallory <m@example.org>", Lang: "en"}},
	}
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("payload is not a JSON object: %v\n%s", err, body)
	}
	return m
}

func runes(v any) int {
	s, _ := v.(string)
	return utf8.RuneCountInString(s)
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { a, _ := v.([]any); return a }

// Slack: https://api.slack.com/reference/block-kit/blocks — a section's
// text at most 3000 characters, an image's alt_text 2000, the top-level
// text the fallback that notifications and Mattermost show.
func TestSlack_PayloadIsBlockKitWithinLimits(t *testing.T) {
	for name, p := range testPosts() {
		t.Run(name, func(t *testing.T) {
			body, err := slackBody(p)
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, body)
			if n := runes(m["text"]); n == 0 || n > slackSectionMax {
				t.Errorf("text fallback has %d characters, want 1..%d", n, slackSectionMax)
			}
			blocks := arr(m["blocks"])
			if len(blocks) < 2 {
				t.Fatalf("blocks = %v, want a section and a context", blocks)
			}
			section := obj(blocks[0])
			if section["type"] != "section" || obj(section["text"])["type"] != "mrkdwn" {
				t.Errorf("first block = %v, want a section of mrkdwn text", section)
			}
			if n := runes(obj(section["text"])["text"]); n > slackSectionMax {
				t.Errorf("section text has %d characters, more than Slack's %d", n, slackSectionMax)
			}
			ctx := obj(blocks[1])
			if ctx["type"] != "context" || len(arr(ctx["elements"])) != 1 {
				t.Errorf("second block = %v, want a context with one element", ctx)
			}
			if p.ImageURL != "" {
				img := obj(blocks[2])
				if img["type"] != "image" || img["image_url"] != p.ImageURL || runes(img["alt_text"]) == 0 || runes(img["alt_text"]) > slackAltMax {
					t.Errorf("image block = %v, want the card with alt text of 1..%d characters", img, slackAltMax)
				}
				if !strings.Contains(obj(arr(ctx["elements"])[0])["text"].(string), "<"+p.PageURL+"|") {
					t.Errorf("context %v does not link to the quote's page", ctx)
				}
			} else if len(blocks) != 2 || strings.Contains(string(body), "http") {
				t.Errorf("without a base URL the post links nowhere; got %s", body)
			}
			if text, _ := obj(section["text"])["text"].(string); name == "markup" && (strings.Contains(text, "<script>") || !strings.Contains(text, "&lt;script&gt;")) {
				t.Errorf("mrkdwn's reserved characters are not escaped: %s", body)
			}
		})
	}
}

// Discord: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
// — title 256, description 4096, author name 256, footer 2048, all the
// embed's text 6000; no content (at most 2000) is needed with an embed.
func TestDiscord_PayloadIsAnEmbedWithinLimits(t *testing.T) {
	for name, p := range testPosts() {
		t.Run(name, func(t *testing.T) {
			body, err := discordBody(p)
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, body)
			if runes(m["content"]) > 2000 {
				t.Errorf("content has %d characters, more than 2000", runes(m["content"]))
			}
			if parse := arr(obj(m["allowed_mentions"])["parse"]); parse == nil || len(parse) != 0 {
				t.Errorf("allowed_mentions = %v, want parse: [] (a quote mentions no one)", m["allowed_mentions"])
			}
			embeds := arr(m["embeds"])
			if len(embeds) != 1 {
				t.Fatalf("embeds = %v, want one", embeds)
			}
			e := obj(embeds[0])
			title, desc, author, footer := runes(e["title"]), runes(e["description"]), runes(obj(e["author"])["name"]), runes(obj(e["footer"])["text"])
			for _, c := range []struct {
				field  string
				n, max int
			}{{"title", title, 256}, {"description", desc, 4096}, {"author.name", author, 256}, {"footer.text", footer, 2048}, {"total", title + desc + author + footer, 6000}} {
				if c.n > c.max {
					t.Errorf("%s has %d characters, more than Discord's %d", c.field, c.n, c.max)
				}
			}
			if desc == 0 || author == 0 || title == 0 {
				t.Errorf("embed %v lacks its title, description or author", e)
			}
			if p.PageURL != "" && (e["url"] != p.PageURL || obj(e["image"])["url"] != p.ImageURL) {
				t.Errorf("embed url %v, image %v; want the page %s and the card %s", e["url"], e["image"], p.PageURL, p.ImageURL)
			}
			if name == "markup" && !strings.Contains(e["description"].(string), `\*bold\*`) {
				t.Errorf("markdown is not escaped: %q", e["description"])
			}
		})
	}
}

// ntfy: https://docs.ntfy.sh/publish/#publish-as-json — topic, title,
// message (4096 bytes before it becomes an attachment), tags, click,
// attach.
func TestNtfy_PayloadIsAJSONPublishWithinLimits(t *testing.T) {
	for name, p := range testPosts() {
		t.Run(name, func(t *testing.T) {
			body, err := ntfyBody(p, "quotes-42")
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, body)
			if m["topic"] != "quotes-42" {
				t.Errorf("topic = %v, want quotes-42", m["topic"])
			}
			msg, _ := m["message"].(string)
			if len(msg) == 0 || len(msg) > ntfyMessageMax || !strings.Contains(msg, "— ") {
				t.Errorf("message of %d bytes, want 1..%d with its attribution: %q", len(msg), ntfyMessageMax, msg)
			}
			if title, _ := m["title"].(string); !strings.HasPrefix(title, "Quote of the day") {
				t.Errorf("title = %q", title)
			}
			if tags := arr(m["tags"]); len(tags) == 0 || len(tags) > ntfyTagsMax {
				t.Errorf("tags = %v", tags)
			}
			if p.PageURL != "" && (m["click"] != p.PageURL || m["attach"] != p.ImageURL) {
				t.Errorf("click %v, attach %v; want the page and the card", m["click"], m["attach"])
			}
			if p.PageURL == "" && (m["click"] != nil || m["attach"] != nil) {
				t.Errorf("without a base URL: click %v, attach %v; want none", m["click"], m["attach"])
			}
		})
	}
}

// Gotify: POST /message with title, message, priority and extras
// (https://gotify.net/docs/msgextras): client::display's contentType,
// client::notification's click.url and bigImageUrl.
func TestGotify_PayloadIsAMessageWithExtras(t *testing.T) {
	p := testPosts()["short"]
	body, err := gotifyBody(p)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, body)
	if m["title"] == "" || m["message"] != p.plain() || m["priority"] != float64(gotifyPriority) {
		t.Errorf("title %v, message %q, priority %v; want the title, %q, %d", m["title"], m["message"], m["priority"], p.plain(), gotifyPriority)
	}
	extras := obj(m["extras"])
	if obj(extras["client::display"])["contentType"] != "text/plain" {
		t.Errorf("client::display = %v, want text/plain", extras["client::display"])
	}
	n := obj(extras["client::notification"])
	if obj(n["click"])["url"] != p.PageURL || n["bigImageUrl"] != p.ImageURL {
		t.Errorf("client::notification = %v, want click.url %s and bigImageUrl %s", n, p.PageURL, p.ImageURL)
	}
}

func TestJSON_PayloadCarriesTheQuoteAndTheDay(t *testing.T) {
	p := testPosts()["short"]
	body, err := jsonBody(p)
	if err != nil {
		t.Fatal(err)
	}
	var got jsonPost
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Event != "daily" || got.Day != testDay || got.Target != "team" || got.Quote.ID != 7 || got.Quote.Author != "William Shakespeare" || got.URL != p.PageURL || got.ImageURL != p.ImageURL || got.Text != p.plain() {
		t.Errorf("payload = %+v", got)
	}
	if strings.Contains(string(body), "added_by") {
		t.Errorf("the payload tells who curated the quote: %s", body)
	}
}

func TestCut_KeepsWithinTheLimitAndSaysSo(t *testing.T) {
	s := strings.Repeat("word ", 1000)
	if got := cut(s, 100); utf8.RuneCountInString(got) > 100 || !strings.HasSuffix(got, "…") {
		t.Errorf("cut to 100: %d characters, %q", utf8.RuneCountInString(got), got)
	}
	if got := cutBytes(strings.Repeat("é", 3000), 4096); len(got) > 4096 || !utf8.ValidString(got) {
		t.Errorf("cutBytes to 4096: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if got := cut("short", 100); got != "short" {
		t.Errorf("cut of a short text = %q", got)
	}
}
