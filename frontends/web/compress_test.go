package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// decompressed is the body of w decoded from its Content-Encoding.
func decompressed(t *testing.T, body io.Reader, coding string) string {
	t.Helper()
	var r io.Reader
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		r = body
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", coding, err)
	}
	return string(b)
}

func TestCompress_PagesByAcceptEncoding(t *testing.T) {
	e := newEnv(t)
	plain := e.get("/", "Accept", browserAccept)
	want(t, plain, http.StatusOK)
	wantHeader(t, plain, "Content-Encoding", "")
	plainTag := plain.Header().Get("ETag")
	for _, tc := range []struct{ name, ae, coding string }{
		{"Gzip", "gzip", "gzip"},
		{"ZstdOnATie", "gzip, deflate, br, zstd", "zstd"},
		{"QValuesDecide", "gzip;q=1, zstd;q=0.5", "gzip"},
		{"ZeroQRefuses", "gzip;q=0", ""},
		{"Identity", "identity", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get("/", "Accept", browserAccept, "Accept-Encoding", tc.ae)
			want(t, w, http.StatusOK)
			wantHeader(t, w, "Content-Encoding", tc.coding)
			wantHeader(t, w, "Vary", "Accept, Accept-Encoding")
			if got := decompressed(t, w.Body, tc.coding); got != plain.Body.String() {
				t.Errorf("decoded body differs from the plain one:\n%s", truncate(got))
			}
			wantTag := plainTag
			if tc.coding != "" {
				wantTag = strings.TrimSuffix(plainTag, `"`) + "-" + tc.coding + `"`
			}
			wantHeader(t, w, "ETag", wantTag)
			if cl := w.Header().Get("Content-Length"); tc.coding != "" && cl != "" {
				t.Errorf("compressed response keeps the plain Content-Length %s", cl)
			}
		})
	}
}

// A compressed copy revalidates with its own tag: 304, naming that tag so
// that a cache refreshes the copy it holds.
func TestCompress_CompressedETagRevalidates(t *testing.T) {
	e := newEnv(t)
	w := e.get("/", "Accept", browserAccept, "Accept-Encoding", "gzip")
	tag := w.Header().Get("ETag")
	if !strings.HasSuffix(tag, `-gzip"`) {
		t.Fatalf("ETag %q, want one of the gzip representation", tag)
	}
	for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag} {
		w = e.get("/", "Accept", browserAccept, "Accept-Encoding", "gzip", "If-None-Match", inm)
		want(t, w, http.StatusNotModified)
		wantHeader(t, w, "ETag", strings.TrimPrefix(tag, "W/"))
	}
	w = e.get("/", "Accept", browserAccept, "Accept-Encoding", "gzip", "If-None-Match", `"abc-gzip"`)
	want(t, w, http.StatusOK)
	// A plain copy revalidated by a client that now accepts zstd.
	plain := strings.TrimSuffix(tag, `-gzip"`) + `"`
	w = e.get("/", "Accept", browserAccept, "Accept-Encoding", "zstd", "If-None-Match", plain)
	want(t, w, http.StatusNotModified)
	wantHeader(t, w, "ETag", plain)
}

// Short bodies are sent as they are, with no Vary: the JSON of the day
// is the same whatever the client accepts.
func TestCompress_ShortBodiesAreSentAsTheyAre(t *testing.T) {
	e := newEnv(t)
	for _, ae := range []string{"", "gzip, zstd"} {
		w := e.get("/api/v1/today", "Accept-Encoding", ae)
		want(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Encoding", "")
		wantHeader(t, w, "Vary", "")
		if w.Body.Len() >= 1024 {
			t.Fatalf("today's JSON is %d bytes: the test needs a short one", w.Body.Len())
		}
	}
}

func TestCompress_TextAssetsAndFeed(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/static/style.css", "/feed.atom", "/api/openapi.json", "/authors"} {
		w := e.get(target, "Accept-Encoding", "gzip")
		want(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Encoding", "gzip")
		if v := w.Header().Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept-Encoding") {
			t.Errorf("%s: Vary %q, want Accept-Encoding in it", target, v)
		}
	}
	// HEAD is never compressed (it has no body to measure).
	w := e.do(http.MethodHead, "/static/style.css", nil, "Accept-Encoding", "gzip")
	want(t, w, http.StatusOK)
	wantHeader(t, w, "Content-Encoding", "")
}

// The page of the day is compressed once, when it is rendered; other
// pages by gzhttp on each request. Both choose the coding alike.
func TestCompress_PackedTodayChoosesAsTheWrapperDoes(t *testing.T) {
	e := newEnv(t)
	for _, ae := range []string{
		"gzip", "zstd", "GZIP", "gzip, zstd", "zstd;q=0.5, gzip;q=0.5", "zstd;q=0, gzip",
		"gzip;q=0.9, zstd;q=0.8", "gzip;q=0", "br", "identity", "*", "gzip;q=x, zstd;q=0.1",
		"Zstd;Q=0.3, gzip;q=0.2", "gzip;q=0.2, gzip;q=1, zstd;q=0.5", "gzip;q=2, zstd;q=1",
	} {
		today := e.get("/", "Accept", browserAccept, "Accept-Encoding", ae)
		other := e.get("/authors", "Accept", browserAccept, "Accept-Encoding", ae)
		got, want := today.Header().Get("Content-Encoding"), other.Header().Get("Content-Encoding")
		if got != want {
			t.Errorf("Accept-Encoding %q: the page of the day in %q, other pages in %q", ae, got, want)
		}
		if got != "" && !strings.Contains(decompressed(t, today.Body, got), "<html") {
			t.Errorf("Accept-Encoding %q: the page of the day does not decode as %s", ae, got)
		}
	}
}
