package web

import (
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// compressMinSize is the smallest body worth compressing. Below it the
// framing (a gzip header and trailer, a zstd frame) and the work cost more
// than they save: the JSON and text of the day, most API answers and every
// error stay as they are, and pay nothing but the Vary header.
const compressMinSize = 1024

// compressTypes are the media types compressed: text only. The icon is SVG
// (text); nothing served is already compressed, and anything added later
// that is (a woff2 font, a PNG) is left alone by not being listed here.
var compressTypes = []string{
	"text/html", "text/plain", "text/css", "image/svg+xml",
	"application/json", "application/problem+json", "application/atom+xml",
}

// Suffixes the compressor puts inside the ETag of a compressed response,
// so that each representation has its own strong validator (RFC 9110
// §8.8.3: a content coding makes a different representation). gzhttp
// replaces "gzip" by "zstd" in it for zstd.
const (
	etagSuffixGzip = "-gzip"
	etagSuffixZstd = "-zstd"
)

// compress negotiates a content coding (zstd or gzip, by Accept-Encoding,
// zstd on a tie) for text responses of compressMinSize bytes or more,
// through klauspost/compress's gzhttp: it buffers the start of the body,
// and compresses only once the body is long enough and its type is text.
// Every response says Vary: Accept-Encoding, compressed or not, except a
// rendition too short to be compressed (serveRendition knows its length
// and takes the header off). A request that offers neither coding goes
// straight to next, with no wrapper to pay for.
func compress(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		gzhttp.ContentTypes(compressTypes),
		gzhttp.SuffixETag(etagSuffixGzip),
		gzhttp.EnableZstd(true),
	)
	if err != nil {
		panic("web: compression options: " + err.Error()) // constant options
	}
	compressing := wrap(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !offersCoding(r.Header["Accept-Encoding"]) || r.Method == http.MethodHead {
			w.Header()["Vary"] = varyAcceptEncoding
			next.ServeHTTP(w, r)
			return
		}
		compressing.ServeHTTP(w, r)
	})
}

// offersCoding reports whether an Accept-Encoding field may offer gzip or
// zstd: a quick look that lets most other requests skip the wrapper, which
// parses the field properly (q=0 included).
func offersCoding(ae []string) bool {
	for _, v := range ae {
		if strings.Contains(v, "gzip") || strings.Contains(v, "zstd") {
			return true
		}
	}
	return false
}

// etagMatches reports whether the entity tag t from If-None-Match (weak
// prefix removed) matches etag or a compressed representation's tag made
// from it by compress.
func etagMatches(t, etag string) bool {
	if t == etag {
		return true
	}
	if len(etag) < 2 || len(t) != len(etag)+len(etagSuffixGzip) || t[:len(etag)-1] != etag[:len(etag)-1] {
		return false
	}
	s := t[len(etag)-1 : len(t)-1]
	return (s == etagSuffixGzip || s == etagSuffixZstd) && t[len(t)-1] == '"'
}
