package web_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/quotesd/quotesd/frontends/web"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

func TestFeed_IsValidAtomOfTheLast30Days(t *testing.T) {
	e := newEnv(t)
	w := e.get("/feed.atom")
	want(t, w, http.StatusOK)
	wantHeader(t, w, "Content-Type", "application/atom+xml; charset=utf-8")

	feed, err := gofeed.NewParser().ParseString(w.Body.String())
	if err != nil {
		t.Fatalf("gofeed cannot parse the feed: %v\n%s", err, truncate(w.Body.String()))
	}
	if feed.FeedType != "atom" || feed.Title == "" {
		t.Errorf("feed type %q, title %q", feed.FeedType, feed.Title)
	}
	if len(feed.Items) != 30 {
		t.Fatalf("feed has %d entries, want 30", len(feed.Items))
	}
	for i, item := range feed.Items {
		day := today.AddDays(-i)
		q := e.todays(day)
		if want := "http://example.com/day/" + day.String(); item.GUID != want || item.Link != want {
			t.Errorf("entry %d: id %q, link %q; want %q", i, item.GUID, item.Link, want)
		}
		// Updated: when the day's content last changed, the start of the
		// day or the quote's last change if later (this sample library
		// was made now, after the days the feed shows).
		wantUpdated := day.Time(zone)
		if q.Changed().After(wantUpdated) {
			wantUpdated = q.Changed().Truncate(time.Second)
		}
		if item.UpdatedParsed == nil || !item.UpdatedParsed.Equal(wantUpdated) {
			t.Errorf("entry %d: updated %v, want %v (start of day in the zone, or the quote's last change)", i, item.UpdatedParsed, wantUpdated)
		}
		if item.PublishedParsed == nil || !item.PublishedParsed.Equal(day.Time(zone)) {
			t.Errorf("entry %d: published %v, want %v (start of day in the zone)", i, item.PublishedParsed, day.Time(zone))
		}
		if !strings.Contains(item.Description, q.Author) || !strings.Contains(item.Content, "<blockquote>") {
			t.Errorf("entry %d: summary %q / content %q do not carry the quote", i, item.Description, item.Content)
		}
	}
}

// TestFeed_HasTheRequiredAtomElements checks RFC 4287's must-haves that a
// lenient parser would forgive: feed id, title, updated, and per entry id,
// title, updated; an author at feed level; a self link.
func TestFeed_HasTheRequiredAtomElements(t *testing.T) {
	e := newEnv(t)
	body := e.get("/feed.atom").Body.Bytes()
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Author  []struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Fatalf("feed is not Atom XML: %v", err)
	}
	if f.ID == "" || f.Title == "" || len(f.Author) == 0 || f.Author[0].Name == "" {
		t.Errorf("feed lacks id, title or author: %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Errorf("feed updated %q is not RFC 3339", f.Updated)
	}
	self := false
	for _, l := range f.Links {
		self = self || l.Rel == "self" && l.Href == "http://example.com/feed.atom"
	}
	if !self {
		t.Errorf("no rel=self link: %+v", f.Links)
	}
	ids := map[string]bool{}
	for _, en := range f.Entries {
		if en.ID == "" || en.Title == "" || ids[en.ID] {
			t.Errorf("entry lacks a unique id or a title: %+v", en)
		}
		ids[en.ID] = true
		if _, err := time.Parse(time.RFC3339, en.Updated); err != nil {
			t.Errorf("entry updated %q is not RFC 3339", en.Updated)
		}
		if en.Content.Type != "html" {
			t.Errorf("content type %q, want html", en.Content.Type)
		}
	}
}

func TestFeed_IDsAreStableAcrossDays(t *testing.T) {
	e := newEnv(t)
	first, _ := gofeed.NewParser().ParseString(e.get("/feed.atom").Body.String())
	e.clock.Set(now.Add(24 * time.Hour))
	second, _ := gofeed.NewParser().ParseString(e.get("/feed.atom").Body.String())
	if second.Items[1].GUID != first.Items[0].GUID || second.Items[1].Content != first.Items[0].Content {
		t.Errorf("yesterday's entry changed with the day: %q vs %q", second.Items[1].GUID, first.Items[0].GUID)
	}
}

func TestFeed_EscapesMarkupAndUsesTheBaseURL(t *testing.T) {
	q := quotertest.Sample()[0]
	q.Text = quotertest.Script
	lib := quotertest.NewLibrary(t, q) // the only quote, so today's
	e := newEnvWith(t, lib, func(c *web.Config) { c.BaseURL = "https://quotes.example.org/" })
	feed, err := gofeed.NewParser().ParseString(e.get("/feed.atom", "Host", "evil.example").Body.String())
	if err != nil {
		t.Fatal(err)
	}
	if feed.Items[0].GUID != "https://quotes.example.org/day/2026-03-14" {
		t.Errorf("entry id %q does not use the base URL", feed.Items[0].GUID)
	}
	if strings.Contains(feed.Items[0].Content, "<script>") || !strings.Contains(feed.Items[0].Content, "&lt;script&gt;") {
		t.Errorf("feed content is not escaped HTML: %q", feed.Items[0].Content)
	}
}
