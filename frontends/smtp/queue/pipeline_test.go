package queue

import (
	"bufio"
	"bytes"
	"net/textproto"
	"testing"
)

func TestPipelineText_DotStuffsWithCRLFLikeTextproto(t *testing.T) {
	for _, in := range []string{
		"",
		"a",
		"Subject: x\r\n\r\nbody\r\n",
		"no final newline",
		".leading dot\r\n..two\r\nmid.dle\r\n.\r\n",
		"bare\nline\nfeeds\n.dot\n",
		"mixed\r\nends\n\r\n.\n",
		"\r\n",
		"\n",
		".",
	} {
		var want bytes.Buffer
		bw := bufio.NewWriter(&want)
		dw := textproto.NewWriter(bw).DotWriter()
		dw.Write([]byte(in))
		dw.Close()
		// The text whole, and cut in two at every place: the parts as
		// the queue stores them (a head and a shared text).
		for cut := 0; cut <= len(in); cut++ {
			p := &pipeline{}
			if err := p.text(text{head: []byte(in[:cut]), shared: []byte(in[cut:])}); err != nil {
				t.Fatal(err)
			}
			if got := p.out.String(); got != want.String() {
				t.Errorf("text(%q | %q) = %q, want %q (textproto's DotWriter)", in[:cut], in[cut:], got, want.String())
			}
		}
	}
}
