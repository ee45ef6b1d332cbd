package publish

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quotesd/quotesd/quoter"
)

// post is what a day's post says, whatever the service: the quote, its
// day, and the links to its page and card image (both "" when quotesd
// does not know its public URL: then no link is given).
type post struct {
	Day      quoter.Date
	Quote    *quoter.Quote
	Target   string // the target's name
	Label    string // what the target draws from ("poetry"); "" for the whole library
	PageURL  string
	ImageURL string
}

// title is the post's heading: "Quote of the day, Monday 7 December 2026",
// with the tag or collection the target draws from.
func (p post) title() string {
	s := "Quote of the day"
	if p.Label != "" {
		s += " (" + p.Label + ")"
	}
	return s + ", " + p.Day.Time(time.UTC).Format("Monday 2 January 2006")
}

// plain is the quote as plain text: the text, then "— Attribution".
func (p post) plain() string {
	return p.Quote.Text + "\n— " + p.Quote.Attribution()
}

// cut returns s in at most n characters (runes, as Slack and Discord
// count), ending with "…" when shortened, at a space when one is near.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	if i := lastSpace(r); i > len(r)*3/4 {
		r = r[:i]
	}
	return strings.TrimRight(string(r), " \n") + "…"
}

// cutBytes is cut for limits in bytes (ntfy's).
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	if i := strings.LastIndexAny(s, " \n"); i > len(s)*3/4 {
		s = s[:i]
	}
	return strings.TrimRight(s, " \n") + "…"
}

func lastSpace(r []rune) int {
	for i := len(r) - 1; i >= 0; i-- {
		if r[i] == ' ' || r[i] == '\n' {
			return i
		}
	}
	return -1
}

// Slack's documented limits (https://api.slack.com/reference/block-kit):
// a section's text, 3000 characters; an image's alt text, 2000; a
// context element's text, like a section's. The top-level text is the
// notification's and the fallback of clients without blocks (Mattermost
// shows it, and ignores blocks); Slack truncates messages beyond 40,000.
const (
	slackSectionMax = 3000
	slackAltMax     = 2000
)

// slackEscape escapes the three characters Slack's mrkdwn reserves.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackBody is a Slack incoming webhook's payload: the quote in a section
// block (quoted, its attribution in italics), a context line with the
// title and the link to its page, and the card image when there is one.
func slackBody(p post) ([]byte, error) {
	attribution := "— _" + cut(slackEscape.Replace(p.Quote.Attribution()), slackSectionMax/4) + "_"
	quoted := "> " + strings.ReplaceAll(slackEscape.Replace(p.Quote.Text), "\n", "\n> ")
	text := cut(quoted, slackSectionMax-utf8.RuneCountInString(attribution)-1) + "\n" + attribution
	context := slackEscape.Replace(p.title())
	if p.PageURL != "" {
		context = "<" + p.PageURL + "|" + context + ">"
	}
	blocks := []any{
		map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}},
		map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": cut(context, slackSectionMax)}}},
	}
	if p.ImageURL != "" {
		blocks = append(blocks, map[string]any{"type": "image", "image_url": p.ImageURL, "alt_text": cut(p.plain(), slackAltMax)})
	}
	fallback := text
	if p.PageURL != "" {
		fallback = cut(text+"\n"+p.PageURL, slackSectionMax)
	}
	return json.Marshal(map[string]any{"text": fallback, "blocks": blocks})
}

// Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits):
// an embed's title 256 characters, description 4096, author name 256,
// footer 2048, and all of an embed's text together 6000; a message's
// content 2000.
const (
	discordTitleMax  = 256
	discordDescMax   = 4096
	discordAuthorMax = 256
	discordFooterMax = 2048
	discordTotalMax  = 6000
)

// discordEscape escapes the characters Discord's markdown gives a meaning
// to, so that a quote shows as written.
var discordEscape = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`, ">", `\>`, "#", `\#`, "-", `\-`)

// discordBody is a Discord webhook's payload: one embed, titled with the
// day and linked to the quote's page, the quote its description, the
// author its author, the work its footer, the card its image. No one is
// mentioned whatever the quote says (allowed_mentions).
func discordBody(p post) ([]byte, error) {
	title := cut(p.title(), discordTitleMax)
	author := cut(p.Quote.Author, discordAuthorMax)
	footer := cut(strings.TrimPrefix(strings.TrimPrefix(p.Quote.Attribution(), p.Quote.Author), ", "), discordFooterMax)
	room := discordTotalMax - utf8.RuneCountInString(title) - utf8.RuneCountInString(author) - utf8.RuneCountInString(footer)
	embed := map[string]any{
		"title":       title,
		"description": cut(discordEscape.Replace(p.Quote.Text), min(discordDescMax, room)),
		"author":      map[string]any{"name": author},
	}
	if footer != "" {
		embed["footer"] = map[string]any{"text": footer}
	}
	if p.PageURL != "" {
		embed["url"] = p.PageURL
	}
	if p.ImageURL != "" {
		embed["image"] = map[string]any{"url": p.ImageURL}
	}
	return json.Marshal(map[string]any{
		"embeds":           []any{embed},
		"allowed_mentions": map[string]any{"parse": []string{}},
	})
}

// ntfy's message limit is 4096 bytes by default (a longer one becomes an
// attachment: https://docs.ntfy.sh/publish/#limitations); its title is a
// notification's heading, kept short.
const (
	ntfyMessageMax = 4096
	ntfyTitleMax   = 250
	ntfyTagsMax    = 5
)

// ntfyBody is an ntfy JSON publish (https://docs.ntfy.sh/publish/#publish-as-json):
// the title, the quote as the message, its tags (those that name an emoji
// show as one), the quote's page opened on a click, the card attached.
func ntfyBody(p post, topic string) ([]byte, error) {
	tags := []string{"speech_balloon"}
	for _, tg := range p.Quote.Tags {
		if len(tags) == ntfyTagsMax {
			break
		}
		tags = append(tags, tg)
	}
	attribution := cutBytes("\n— "+p.Quote.Attribution(), ntfyMessageMax/4)
	m := map[string]any{
		"topic":   topic,
		"title":   cutBytes(p.title(), ntfyTitleMax),
		"message": cutBytes(p.Quote.Text, ntfyMessageMax-len(attribution)) + attribution,
		"tags":    tags,
	}
	if p.PageURL != "" {
		m["click"] = p.PageURL
	}
	if p.ImageURL != "" {
		m["attach"] = p.ImageURL
		m["filename"] = "quote-" + strconv.FormatInt(p.Quote.ID, 10) + ".png"
	}
	return json.Marshal(m)
}

// gotifyPriority is the posts' priority: Gotify's Android client makes a
// notification with sound from 4 up, and a quote is no alarm.
const gotifyPriority = 4

// gotifyBody is a Gotify message (POST /message): title, message,
// priority, and extras its clients read: plain text, the page opened on a
// click, the card as the notification's big image
// (https://gotify.net/docs/msgextras).
func gotifyBody(p post) ([]byte, error) {
	notification := map[string]any{}
	if p.PageURL != "" {
		notification["click"] = map[string]any{"url": p.PageURL}
	}
	if p.ImageURL != "" {
		notification["bigImageUrl"] = p.ImageURL
	}
	extras := map[string]any{"client::display": map[string]any{"contentType": "text/plain"}}
	if len(notification) > 0 {
		extras["client::notification"] = notification
	}
	return json.Marshal(map[string]any{
		"title":    p.title(),
		"message":  p.plain(),
		"priority": gotifyPriority,
		"extras":   extras,
	})
}

// jsonQuote is the quote as the json kind sends it: what a reader sees,
// not who curated it.
type jsonQuote struct {
	ID         int64    `json:"id"`
	Text       string   `json:"text"`
	Author     string   `json:"author"`
	Source     string   `json:"source,omitempty"`
	Year       int      `json:"year,omitempty"`
	Tags       []string `json:"tags"`
	Lang       string   `json:"lang"`
	Collection string   `json:"collection"`
}

// jsonPost is the json kind's payload, documented in docs/OPERATIONS.md.
type jsonPost struct {
	Event    string      `json:"event"` // "daily"
	Target   string      `json:"target"`
	Day      quoter.Date `json:"day"`
	Title    string      `json:"title"`
	Text     string      `json:"text"` // the quote as plain text, attributed
	Quote    jsonQuote   `json:"quote"`
	URL      string      `json:"url,omitempty"`
	ImageURL string      `json:"image_url,omitempty"`
}

func jsonBody(p post) ([]byte, error) {
	q := p.Quote
	tags := q.Tags
	if tags == nil {
		tags = []string{}
	}
	return json.Marshal(jsonPost{
		Event: "daily", Target: p.Target, Day: p.Day, Title: p.title(), Text: p.plain(),
		Quote:    jsonQuote{ID: q.ID, Text: q.Text, Author: q.Author, Source: q.Source, Year: q.Year, Tags: tags, Lang: q.Lang, Collection: q.Collection},
		URL:      p.PageURL,
		ImageURL: p.ImageURL,
	})
}
