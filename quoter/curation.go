package quoter

import (
	"context"
	"time"
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
	// not begun anywhere; the past keeps its quotes.
	// Errors: EINVALID for a malformed name or title.
	SetCollection(ctx context.Context, c Collection) error

	// Submit validates s.Quote as Add would (ECONFLICT naming the stored
	// quote, "already quote #42"), then queues s as Pending, setting its
	// ID, Submitted and Status. A correction (Corrects set) needs the
	// quote to exist (ENOTFOUND) and is not checked for duplicates.
	Submit(ctx context.Context, s *Submission) error

	// Submissions lists submissions in status ("" for all), newest first,
	// and the total number in that status.
	Submissions(ctx context.Context, status string, p Page) ([]*Submission, int, error)

	// Submission returns one submission. Errors: ENOTFOUND.
	Submission(ctx context.Context, id int64) (*Submission, error)

	// Approve publishes a pending submission, after applying edit (nil
	// for none) to what was proposed: a new quote is added with
	// s.From as its AddedBy and by as its curator; a correction updates
	// its quote as Update would. It returns the quote.
	// Errors: ENOTFOUND; EINVALID when s is not pending; EINVALID or
	// ECONFLICT as for Add or Update.
	Approve(ctx context.Context, id int64, by Provenance, edit *Update) (*Quote, error)

	// Reject closes a pending submission without publishing it.
	// Errors: ENOTFOUND; EINVALID when s is not pending or reason is too long.
	Reject(ctx context.Context, id int64, by Provenance, reason string) error

	// SetPassword stores a curator's password hash (a PHC string, made
	// by the caller: the store never sees a password); an empty hash
	// removes the curator. PasswordHash returns it; ENOTFOUND when there
	// is no such curator.
	SetPassword(ctx context.Context, curator, hash string) error
	PasswordHash(ctx context.Context, curator string) (string, error)
}

// Library is a whole store: what the frontends read and change (Quoter) and
// what its curators do (Curator).
type Library interface {
	Quoter
	Curator
}
