package settings

import "strings"

// List declares a repeatable setting bound to p: a list of words, such as
// targets each written NAME=KIND:URL. Every flag, settings-file line or
// environment value adds the words it holds (separated by spaces), so
// `--publish a=... --publish b=...`, two `publish = ...` lines and
// QUOTESD_PUBLISH="a=... b=..." each give both. A stronger source replaces
// what the weaker ones gave, as for any setting: a flag on the command
// line does not add to the file's list but takes its place. An empty value
// empties the list. The value shows as its words joined by spaces, which
// Set accepts back (--print-config, reloads).
func (s *Set) List(p *[]string, name, usage string, opts ...Option) {
	*p = nil
	s.Var(&listValue{p: p}, name, usage, opts...)
}

// listValue is a List's flag.Value. fresh is set when the next Set starts
// a new source: it replaces the list rather than adding to it.
type listValue struct {
	p     *[]string
	fresh bool
}

func (v *listValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return strings.Join(*v.p, " ")
}

func (v *listValue) Set(s string) error {
	if v.fresh {
		*v.p, v.fresh = nil, false
	}
	*v.p = append(*v.p, strings.Fields(s)...)
	return nil
}

// startSource marks the list settings of s, or only st when not nil, so
// that their next value replaces the list: a new source begins.
func (s *Set) startSource(st *Setting) {
	for _, x := range s.list {
		if st != nil && x != st {
			continue
		}
		if v, ok := x.value.(*listValue); ok {
			v.fresh = true
		}
	}
}

// endSource clears the marks startSource left on lists no value came to.
func (s *Set) endSource() {
	for _, x := range s.list {
		if v, ok := x.value.(*listValue); ok {
			v.fresh = false
		}
	}
}
