package xmpp

import (
	"encoding/xml"
	"strings"
	"testing"
)

// FuzzReadElement reads whatever a stranger could send as a stanza: the
// reader never panics, never keeps more than its bound, and whatever it
// returns the checks of handle.go (delay, statuses, error condition) can
// look at.
func FuzzReadElement(f *testing.F) {
	for _, seed := range []string{
		`<message from="a@b/c" type="groupchat"><body>!quote</body><delay xmlns="urn:xmpp:delay" stamp="2020-01-01T00:00:00Z"/></message>`,
		`<presence from="r@muc/n" type="unavailable"><x xmlns="http://jabber.org/protocol/muc#user"><item role="none"><reason>bye</reason></item><status code="307"/><status code="110"/></x></presence>`,
		`<presence type="error"><error type="cancel"><conflict xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`,
		`<iq type="get" id="1"><query xmlns="jabber:iq:version"/></iq>`,
		`<message><body>` + strings.Repeat("x", 300) + `</body></message>`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d := xml.NewDecoder(strings.NewReader(raw))
		tok, err := d.Token()
		start, ok := tok.(xml.StartElement)
		if err != nil || !ok {
			return
		}
		e, err := readElement(d, start, 256)
		if err != nil {
			return
		}
		if n := keptSize(e); n > 256 {
			t.Fatalf("kept %d bytes under a 256-byte bound", n)
		}
		_ = e.delayed()
		_ = e.statuses()
		_ = e.errorCondition()
		_ = e.attr("from")
	})
}

// keptSize counts what readElement kept, as it counts it.
func keptSize(e *element) int {
	n := sizeOf(xml.StartElement{Name: e.Name, Attr: e.Attr}) + len(e.Text)
	for _, c := range e.Children {
		n += keptSize(c)
	}
	return n
}
