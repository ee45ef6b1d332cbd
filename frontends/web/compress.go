package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
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
		for i := 0; i+4 <= len(v); i++ {
			if w := v[i : i+4]; strings.EqualFold(w, "gzip") || strings.EqualFold(w, "zstd") {
				return true
			}
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

// encoded is a rendition's body in a content coding, with its header
// values made once.
type encoded struct {
	body                    []byte
	codingH, etagH, lengthH []string
}

// zstdEncoder compresses the renditions that pack keeps; EncodeAll may be
// called from many goroutines at once. It is zstd's default level: the
// best level's encoder holds 51 MB of match tables (about 13 MB of them
// resident once used, for the life of the process) and took 13 ms to
// make and first use, which the first client of a started process
// waited for, to make today's page (3,727 bytes) 1,412 bytes where the
// default makes 1,486; the default's tables are 1.6 MB and its first use
// takes 0.4 ms.
var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic("web: zstd encoder: " + err.Error()) // constant options
	}
	return enc
})

// pack compresses rend's body once, with gzip at its best level and zstd
// at its default (see zstdEncoder), when it is long enough to be
// compressed: for the renditions of the memo of today, served many times
// a day, which compress would otherwise compress anew on every request.
// The encoded bodies and tags are those compress would make (the same
// suffixes).
func (rend *rendition) pack() {
	if len(rend.body) < compressMinSize {
		return
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level
	_, _ = zw.Write(rend.body)
	_ = zw.Close()
	rend.gzip = rend.encoded("gzip", etagSuffixGzip, b.Bytes())
	rend.zstd = rend.encoded("zstd", etagSuffixZstd, zstdEncoder().EncodeAll(rend.body, nil))
}

func (rend *rendition) encoded(coding, suffix string, body []byte) *encoded {
	etag := rend.etag[:len(rend.etag)-1] + suffix + `"`
	return &encoded{
		body:    body,
		codingH: []string{coding},
		etagH:   []string{etag},
		lengthH: []string{strconv.Itoa(len(body))},
	}
}

// encoding is the packed body that the Accept-Encoding field ae asks for,
// chosen as compress chooses: the higher q of gzip and zstd, zstd on a
// tie, neither at q=0 or when unnamed; nil for the body as it is.
func (rend *rendition) encoding(ae []string) *encoded {
	gz, zs := codingQ(ae)
	switch {
	case zs > 0 && zs >= gz:
		return rend.zstd
	case gz > 0:
		return rend.gzip
	}
	return nil
}

// codingQ returns the q-values that the Accept-Encoding field ae gives
// gzip and zstd (RFC 9110 §12.5.3), 0 for a coding it does not name, as
// gzhttp reads them: names in any case, the first mention of each
// counts, a q out of range is clamped, a malformed one is 0.
func codingQ(ae []string) (gzip, zstd float64) {
	gzip, zstd = -1, -1
	defer func() { gzip, zstd = max(gzip, 0), max(zstd, 0) }()
	for _, v := range ae {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "zstd" {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					var err error
					if q, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
						q = 0
					}
					q = min(max(q, 0), 1)
				}
			}
			if name == "gzip" && gzip < 0 {
				gzip = q
			} else if name == "zstd" && zstd < 0 {
				zstd = q
			}
		}
	}
	return gzip, zstd
}
