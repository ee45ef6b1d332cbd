package xmpp

// Reading stanzas: each one the server sends is read into a small tree,
// within a bound, before anything looks at it.

import (
	"encoding/xml"
	"errors"
	"io"
)

// Namespaces the bot reads or answers.
const (
	nsClient  = "jabber:client"
	nsMUC     = "http://jabber.org/protocol/muc"
	nsMUCUser = "http://jabber.org/protocol/muc#user"
	nsDelay   = "urn:xmpp:delay"
	nsOldDel  = "jabber:x:delay" // XEP-0091, what old servers still put on history
	nsPing    = "urn:xmpp:ping"
	nsVersion = "jabber:iq:version"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// element is a stanza, or a part of one, as read: a name, attributes,
// text and children. It keeps at most a stanza's bound of bytes.
type element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Text     string
	Children []*element
}

// errTooBig is a stanza past MaxStanza: it is read to its end, kept of
// nothing, and ignored.
var errTooBig = errors.New("stanza too big")

// readElement reads the element start opens from r, keeping at most max
// bytes of names, attributes and text (counted roughly, as their
// lengths). A bigger one is read to its end and errTooBig returned, so the
// stream stays in step.
func readElement(r xml.TokenReader, start xml.StartElement, max int) (*element, error) {
	root := &element{Name: start.Name, Attr: copyAttr(start.Attr)}
	size := sizeOf(start)
	stack := []*element{root}
	tooBig := false
	for len(stack) > 0 {
		tok, err := r.Token()
		if tok == nil {
			if err == nil || err == io.EOF {
				// The handler's reader ends with the stanza, sometimes
				// before its end element.
				break
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			size += sizeOf(t)
			if size > max {
				tooBig = true
			}
			e := &element{Name: t.Name}
			if !tooBig {
				e.Attr = copyAttr(t.Attr)
				top := stack[len(stack)-1]
				top.Children = append(top.Children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			size += len(t)
			if size > max {
				tooBig = true
			}
			if !tooBig {
				top := stack[len(stack)-1]
				top.Text += string(t)
			}
		}
	}
	if tooBig {
		return nil, errTooBig
	}
	return root, nil
}

func sizeOf(t xml.StartElement) int {
	n := len(t.Name.Local) + len(t.Name.Space) + 2
	for _, a := range t.Attr {
		n += len(a.Name.Local) + len(a.Name.Space) + len(a.Value) + 4
	}
	return n
}

func copyAttr(a []xml.Attr) []xml.Attr {
	out := make([]xml.Attr, len(a))
	copy(out, a)
	return out
}

// attr returns the value of the attribute local (in no namespace).
func (e *element) attr(local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == e.Name.Space) {
			return a.Value
		}
	}
	return ""
}

// child returns the first child named local in namespace space ("" any).
func (e *element) child(space, local string) *element {
	for _, c := range e.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			return c
		}
	}
	return nil
}

// statuses returns the MUC status codes of a presence or message
// (XEP-0045: 110 our own presence, 307 kicked, 301 banned, 303 nick
// changed, 210 the service changed our nick).
func (e *element) statuses() map[string]bool {
	x := e.child(nsMUCUser, "x")
	if x == nil {
		return nil
	}
	m := make(map[string]bool)
	for _, c := range x.Children {
		if c.Name.Local == "status" {
			m[c.attr("code")] = true
		}
	}
	return m
}

// errorCondition returns the defined condition of an error stanza
// (conflict, not-authorized, ...), or "".
func (e *element) errorCondition() string {
	er := e.child("", "error")
	if er == nil {
		return ""
	}
	for _, c := range er.Children {
		if c.Name.Space == nsStanzas && c.Name.Local != "text" {
			return c.Name.Local
		}
	}
	return ""
}

// delayed reports whether a message carries a delay (XEP-0203, or the
// older XEP-0091): room history, an offline message. Old news is never a
// command to answer.
func (e *element) delayed() bool {
	return e.child(nsDelay, "delay") != nil || e.child(nsOldDel, "x") != nil
}
