package quoter

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultCollection is the collection of quotes added without one, and of the
// shipped library.
const DefaultCollection = "classics"

// MaxCollectionLen bounds a collection's name. Names are lower-case letters,
// digits and inner hyphens, so they fit in a URL query, an IRC word
// ("!quote @club-quotes") and a mail subject unquoted.
const MaxCollectionLen = 32

// Collection is a named part of the library, what fortune(6) calls a
// database. A public collection is served everywhere; a private one only
// where a filter names it (one IRC channel's own quotes, say), so a private
// collection is never drawn, listed, searched or scheduled for a filter that
// does not name it.
type Collection struct {
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"` // a human name; Name when empty
	Private bool   `json:"private"`
	Quotes  int    `json:"quotes"` // quotes in the library; set by the store
}

// Provenance says who did something to the library, how and from where. It is
// the provenance of a quote (who added it, who last edited it), of a
// submission and of a curator's decision.
//
// By, Via, Channel, File, Line and Grabbed are public; Mask and Account
// identify a person on a network and are shown to curators only (see
// Public).
type Provenance struct {
	By      string    `json:"by,omitempty"`      // a name: IRC nick, curator, CLI user
	Via     string    `json:"via,omitempty"`     // one of the Via* constants
	Channel string    `json:"channel,omitempty"` // IRC channel
	File    string    `json:"file,omitempty"`    // import file's base name
	Line    int       `json:"line,omitempty"`    // import line (from 1)
	Grabbed time.Time `json:"grabbed,omitzero"`  // for a grab: when the line was said
	Mask    string    `json:"mask,omitempty"`    // private: nick!user@host
	Account string    `json:"account,omitempty"` // private: services account
}

// Ways a Provenance's change came in.
const (
	ViaCLI        = "cli"        // quotesd add/edit
	ViaImport     = "import"     // quotesd import, or an admin upload
	ViaAPI        = "api"        // the JSON admin API
	ViaWeb        = "web"        // a curator in the browser's /admin
	ViaSubmission = "submission" // the public submission form, then approved
	ViaIRC        = "irc"        // a chat command
	ViaGrab       = "grab"       // IRC !grab of someone's line
)

// IsZero reports whether o records nothing.
func (o Provenance) IsZero() bool { return o == Provenance{} }

// Public is o without what identifies a person on a network (Mask,
// Account): what a quote page or a channel shows to anyone.
func (o Provenance) Public() Provenance {
	o.Mask, o.Account = "", ""
	return o
}

// Submission states.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
)

// Submission is a proposed change waiting for a curator: a new quote, or,
// when Corrects is set, a correction of a stored quote's attribution (the
// Quote then carries the suggested author, source and year). Nothing in a
// submission is served before a curator approves it.
type Submission struct {
	ID        int64      `json:"id"` // shown as "s12"
	Quote     Quote      `json:"quote"`
	Corrects  int64      `json:"corrects,omitempty"` // id of the quote a correction is for
	Note      string     `json:"note,omitempty"`     // the submitter's words to the curators
	From      Provenance `json:"from"`
	Submitted time.Time  `json:"submitted"`
	Status    string     `json:"status"` // Pending, Approved or Rejected
	Decided   time.Time  `json:"decided,omitzero"`
	DecidedBy Provenance `json:"decided_by,omitzero"`
	Reason    string     `json:"reason,omitempty"`   // a rejection's reason
	QuoteID   int64      `json:"quote_id,omitempty"` // the quote an approval added or corrected
}

// MaxNoteLen bounds a submission's note and a rejection's reason.
const MaxNoteLen = 500

// Curator is the part of the library that changes it under review: the
// collections, the moderation queue and the curators' credentials. Every
// store implements it beside Quoter (see Library).
type Curator interface {
	// Collections lists every collection, private ones included, by name.
	Collections(ctx context.Context) ([]Collection, error)

	// SetCollection creates c, or changes the title and privacy of the
	// collection named c.Name. Making a collection private or public
	// changes which cycles its quotes are in from the next day that has
	// not begun anywhere; the past keeps its quotes. Pins of its quotes on
	// days to come are dropped when it turns private (only public quotes
	// are pinned: Pin refuses a private one with EINVALID).
	// Errors: EINVALID for a malformed name or a title over 100 bytes.
	//
	// A collection is also created, public, by the first quote added or
	// imported into it (fortune's way: a file is a database); a frontend
	// that serves a collection privately creates it private first.
	SetCollection(ctx context.Context, c Collection) error

	// Submit validates s.Quote as Add would (ECONFLICT naming the stored
	// quote, "already quote #42"; ECONFLICT too when the same text is
	// pending already, "already submitted as s12"), then queues s as
	// Pending, setting its ID, Submitted and Status. A correction
	// (Corrects set) needs the quote to exist (ENOTFOUND, or EGONE) and
	// is not checked for duplicates; of its Quote only Author, Source and
	// Year are kept. Errors: EINVALID for the quote, a note over
	// MaxNoteLen or a malformed From.
	Submit(ctx context.Context, s *Submission) error

	// Submissions lists submissions in status ("" for all), newest first,
	// and the total number in that status.
	Submissions(ctx context.Context, status string, p Page) ([]*Submission, int, error)

	// Submission returns one submission. Errors: ENOTFOUND.
	Submission(ctx context.Context, id int64) (*Submission, error)

	// Approve publishes a pending submission, after applying edit (nil
	// for none) to what was proposed: a new quote is added (to its
	// collection, created public when there is none, as Add does) with
	// s.From as its AddedBy, and by as its EditedBy when edit changed
	// it (approved as proposed, EditedBy stays zero: the approval is
	// the submission's DecidedBy); a correction updates its quote's
	// author, source and year, and what edit sets, as Update would, with
	// by as the Update's By. It returns the quote, and records by, the
	// time and the quote's id on the submission.
	// Errors: ENOTFOUND; EINVALID when s is not pending; EINVALID or
	// ECONFLICT as for Add or Update.
	Approve(ctx context.Context, id int64, by Provenance, edit *Update) (*Quote, error)

	// Reject closes a pending submission without publishing it.
	// Errors: ENOTFOUND; EINVALID when s is not pending or reason is too long.
	Reject(ctx context.Context, id int64, by Provenance, reason string) error

	// SetPassword stores a curator's password hash (a PHC string, made
	// by the caller with package passwd: the store never sees a
	// password); an empty hash removes the curator (no error when there
	// was none). Errors: EINVALID for a name ValidCurator refuses or a
	// hash that is not a PHC string ("$argon2id$..."). PasswordHash
	// returns it; ENOTFOUND when there is no such curator.
	SetPassword(ctx context.Context, curator, hash string) error
	PasswordHash(ctx context.Context, curator string) (string, error)

	// SetAuthor stores the notes (Bio, Link) of the author a.Slug; its
	// Name and Count are ignored. Empty notes remove them. The author
	// need not have quotes yet (an import may bring the notes first).
	// Errors: EINVALID (see Author.ValidateNotes).
	SetAuthor(ctx context.Context, a Author) error
}

// Library is a whole store: what the frontends read and change (Quoter) and
// what its curators do (Curator).
type Library interface {
	Quoter
	Curator
}

// ValidCollection reports whether name is a well-formed collection name:
// lower-case ASCII letters, digits and hyphens, neither first nor last, at
// most MaxCollectionLen bytes. It returns an EINVALID error naming the
// problem, or nil.
func ValidCollection(name string) error {
	if name == "" {
		return Errorf(EINVALID, "collection name is empty")
	}
	if len(name) > MaxCollectionLen {
		return Errorf(EINVALID, "collection name %q is over %d bytes", name, MaxCollectionLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(name)-1:
		default:
			return Errorf(EINVALID, "collection name %q: want lower-case letters, digits and inner hyphens", name)
		}
	}
	return nil
}

// Collections splits a Filter.Collection value into its names, in order,
// without repeats; nil for the empty value (every public collection).
// Errors: EINVALID naming a malformed name.
func Collections(set string) ([]string, error) {
	if set == "" {
		return nil, nil
	}
	var names []string
	for name := range strings.SplitSeq(set, ",") {
		name = strings.TrimSpace(name)
		if err := ValidCollection(name); err != nil {
			return nil, err
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// MaxProvenanceLen bounds each text field of a Provenance, in bytes.
const MaxProvenanceLen = 300

// Validate reports the first problem with o as an EINVALID error: a field
// over MaxProvenanceLen bytes, not valid single-line UTF-8, or a negative
// line.
func (o Provenance) Validate() error {
	for _, f := range [...]struct{ name, value string }{
		{"by", o.By}, {"via", o.Via}, {"channel", o.Channel}, {"file", o.File}, {"mask", o.Mask}, {"account", o.Account},
	} {
		switch {
		case len(f.value) > MaxProvenanceLen:
			return Errorf(EINVALID, "provenance %s is over %d bytes", f.name, MaxProvenanceLen)
		case !utf8.ValidString(f.value) || hasControl(f.value, false):
			return Errorf(EINVALID, "provenance %s is not valid single-line UTF-8", f.name)
		}
	}
	if o.Line < 0 {
		return Errorf(EINVALID, "provenance line %d is negative", o.Line)
	}
	return nil
}

// SubmissionID formats a submission's id as frontends print it: "s12".
func SubmissionID(id int64) string { return "s" + strconv.FormatInt(id, 10) }

// ParseSubmissionID reads "s12" (or "12") back. Errors: EINVALID.
func ParseSubmissionID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimPrefix(s, "#"), "s"), 10, 64)
	if err != nil || id <= 0 {
		return 0, Errorf(EINVALID, "%q is not a submission id such as s12", s)
	}
	return id, nil
}

// MaxCuratorLen bounds a curator's name.
const MaxCuratorLen = 64

// ValidCurator reports whether name can name a curator: 1 to
// MaxCuratorLen bytes of single-line UTF-8 with no spaces.
func ValidCurator(name string) error {
	switch {
	case name == "":
		return Errorf(EINVALID, "curator name is empty")
	case len(name) > MaxCuratorLen:
		return Errorf(EINVALID, "curator name is over %d bytes", MaxCuratorLen)
	case !utf8.ValidString(name) || hasControl(name, false) || strings.ContainsFunc(name, unicode.IsSpace):
		return Errorf(EINVALID, "curator name %q: want one word of printable UTF-8", name)
	}
	return nil
}
