package quoter_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
)

func TestValidCollection(t *testing.T) {
	for _, ok := range []string{"classics", "club-quotes", "a", "x1", "2026", strings.Repeat("a", quoter.MaxCollectionLen)} {
		if err := quoter.ValidCollection(ok); err != nil {
			t.Errorf("ValidCollection(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "Club", "-x", "x-", "a b", "a_b", "a,b", "@club", "été", strings.Repeat("a", quoter.MaxCollectionLen+1)} {
		if err := quoter.ValidCollection(bad); quoter.ErrorCode(err) != quoter.EINVALID {
			t.Errorf("ValidCollection(%q) = %v, want EINVALID", bad, err)
		}
	}
}

func TestCollections_SplitsASet(t *testing.T) {
	for set, want := range map[string][]string{
		"":                       nil,
		"club":                   {"club"},
		"club-quotes, classics":  {"club-quotes", "classics"},
		"classics,club,classics": {"classics", "club"},
	} {
		if got, err := quoter.Collections(set); err != nil || !slices.Equal(got, want) {
			t.Errorf("Collections(%q) = %v, %v; want %v", set, got, err, want)
		}
	}
	for _, bad := range []string{",", "club,", "club,Bad"} {
		if _, err := quoter.Collections(bad); quoter.ErrorCode(err) != quoter.EINVALID {
			t.Errorf("Collections(%q): %v, want EINVALID", bad, err)
		}
	}
}

func TestFilter_MatchChecksTheCollectionByName(t *testing.T) {
	q := &quoter.Quote{Text: "t", Author: "a", Collection: "club"}
	for set, want := range map[string]bool{"": true, "club": true, "classics, club": true, "classics": false, "clu": false} {
		if got := (quoter.Filter{Collection: set}).Match(q); got != want {
			t.Errorf("Filter{Collection: %q}.Match(club's quote) = %v, want %v", set, got, want)
		}
	}
}

func TestProvenance_ValidateAndPublic(t *testing.T) {
	o := quoter.Provenance{By: "alice", Via: quoter.ViaIRC, Channel: "#club", Mask: "alice!a@host", Account: "alice", Line: 0}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", o, err)
	}
	if p := o.Public(); p.Mask != "" || p.Account != "" || p.By != "alice" || p.Channel != "#club" {
		t.Errorf("Public() = %+v, want the mask and account gone, the rest kept", p)
	}
	for _, bad := range []quoter.Provenance{
		{By: "a\nb"}, {Mask: "nick!u@h\x01"}, {File: strings.Repeat("f", quoter.MaxProvenanceLen+1)}, {Line: -1}, {Channel: "\xff"},
	} {
		if err := bad.Validate(); quoter.ErrorCode(err) != quoter.EINVALID {
			t.Errorf("Validate(%+v) = %v, want EINVALID", bad, err)
		}
	}
	q := quoter.Quote{Text: "t", Author: "a", AddedBy: quoter.Provenance{By: "x\x00"}}
	quoter.Normalize(&q)
	if err := q.Validate(); quoter.ErrorCode(err) != quoter.EINVALID || !strings.Contains(quoter.ErrorMessage(err), "added by") {
		t.Errorf("Validate(quote with a bad AddedBy) = %v", err)
	}
}

func TestSubmissionID_RoundTrips(t *testing.T) {
	if s := quoter.SubmissionID(12); s != "s12" {
		t.Errorf("SubmissionID(12) = %q", s)
	}
	for in, want := range map[string]int64{"s12": 12, "12": 12, "#s12": 12} {
		if got, err := quoter.ParseSubmissionID(in); err != nil || got != want {
			t.Errorf("ParseSubmissionID(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "s0", "s-1", "x12", "s1.5"} {
		if _, err := quoter.ParseSubmissionID(bad); quoter.ErrorCode(err) != quoter.EINVALID {
			t.Errorf("ParseSubmissionID(%q): %v, want EINVALID", bad, err)
		}
	}
}

func TestValidCurator(t *testing.T) {
	for _, ok := range []string{"admin", "carol", "ça-va"} {
		if err := quoter.ValidCurator(ok); err != nil {
			t.Errorf("ValidCurator(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "two words", "tab\there", strings.Repeat("a", quoter.MaxCuratorLen+1), "\xff"} {
		if err := quoter.ValidCurator(bad); quoter.ErrorCode(err) != quoter.EINVALID {
			t.Errorf("ValidCurator(%q) = %v, want EINVALID", bad, err)
		}
	}
}
