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
		p := &pipeline{}
		if err := p.text([]byte(in)); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		bw := bufio.NewWriter(&want)
		dw := textproto.NewWriter(bw).DotWriter()
		dw.Write([]byte(in))
		dw.Close()
		if got := p.out.String(); got != want.String() {
			t.Errorf("text(%q) = %q, want %q (textproto's DotWriter)", in, got, want.String())
		}
	}
}
