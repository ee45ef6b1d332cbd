package publish

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/quotesd/quotesd/quoter"
)

// Kind is the service a target is: how its posts are formatted and sent.
type Kind string

// The kinds of target.
const (
	Slack   Kind = "slack"   // Slack, Mattermost, and any Slack-compatible incoming webhook
	Discord Kind = "discord" // a Discord channel's webhook
	Ntfy    Kind = "ntfy"    // an ntfy topic (https://ntfy.sh/TOPIC or one's own server)
	Gotify  Kind = "gotify"  // a Gotify server's application (its token the target's secret)
	JSON    Kind = "json"    // a generic JSON POST, signed with HMAC-SHA256 of the body
)

// Kinds lists every kind, in the order the help gives them.
var Kinds = []Kind{Slack, Discord, Ntfy, Gotify, JSON}

// urlIsSecret reports whether the kind's URL itself holds the credential
// (Slack's and Discord's webhook URLs do): it may then only come from a
// file or the environment.
func (k Kind) urlIsSecret() bool { return k == Slack || k == Discord }

// Spec is one --publish value as written, parsed but not resolved: the
// references to secrets are not read yet. It holds no secret itself, so it
// may be shown (--print-config, logs).
//
//	NAME=KIND:LOCATION[?OPTIONS]
//
// LOCATION is the target's URL (http or https, no user or password in
// it), or @/path/to/file holding the URL on one line, or env:VAR naming
// the environment variable holding it. Slack and Discord URLs hold their
// token, so for them only the last two are accepted. OPTIONS are
// quotesd's own, taken out of the URL: tag=TAG and collection=NAME choose
// the quote (a daily poem), secret=@FILE or secret=env:VAR the target's
// secret (Gotify's application token, ntfy's access token, the json
// kind's HMAC key).
type Spec struct {
	Name       string
	Kind       Kind
	Location   string // the URL, "@/path" or "env:VAR"; without quotesd's options
	Tag        string
	Collection string
	Secret     string // "@/path" or "env:VAR"; "" for none
}

// names are what a target's name may be: it labels metrics and keys the
// daily record. It is compiled on first use, not at every start.
var names = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`) })

// options are the query parameters quotesd takes for itself.
var options = []string{"tag", "collection", "secret"}

// ParseSpec parses one --publish value; the error says what is wrong
// without repeating a secret (a spec holds none, but a mistaken literal
// URL might).
func ParseSpec(v string) (Spec, error) {
	name, rest, ok := strings.Cut(v, "=")
	if !ok {
		return Spec{}, errors.New("want NAME=KIND:URL (URL a literal URL, @/path/to/file or env:VAR)")
	}
	if !names().MatchString(name) {
		return Spec{}, fmt.Errorf("target name %q: want lower-case letters, digits, - and _ (at most 32)", name)
	}
	kind, loc, ok := strings.Cut(rest, ":")
	sp := Spec{Name: name, Kind: Kind(kind)}
	if !ok || !validKind(sp.Kind) {
		return Spec{}, fmt.Errorf("target %s: kind %q: want one of %s", name, kind, kindList())
	}
	var query string
	switch {
	case strings.HasPrefix(loc, "@") || strings.HasPrefix(loc, "env:"):
		loc, query, _ = strings.Cut(loc, "?")
		if err := checkRef(loc); err != nil {
			return Spec{}, fmt.Errorf("target %s: %v", name, err)
		}
		sp.Location = loc
	case strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://"):
		if sp.Kind.urlIsSecret() {
			return Spec{}, fmt.Errorf("target %s: a %s webhook URL holds its token: give it as @/path/to/file or env:VAR, not on the command line", name, sp.Kind)
		}
		u, err := url.Parse(loc)
		if err != nil || u.Host == "" {
			return Spec{}, fmt.Errorf("target %s: malformed URL (want http:// or https://host/...)", name)
		}
		if u.User != nil {
			return Spec{}, fmt.Errorf("target %s: the URL holds a user or password: give a credential as secret=@/path or secret=env:VAR", name)
		}
		q := u.Query()
		if q.Has("token") || q.Has("auth") || q.Has("key") {
			return Spec{}, fmt.Errorf("target %s: the URL holds a token: give it as secret=@/path or secret=env:VAR, or the whole URL as @/path", name)
		}
		own := url.Values{}
		for _, o := range options {
			if q.Has(o) {
				own[o] = q[o]
				q.Del(o)
			}
		}
		u.RawQuery = q.Encode()
		sp.Location, query = u.String(), own.Encode()
	default:
		return Spec{}, fmt.Errorf("target %s: after %q, want an http(s) URL, @/path/to/file or env:VAR", name, kind+":")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return Spec{}, fmt.Errorf("target %s: malformed options %q", name, query)
	}
	for k := range q {
		if !slices.Contains(options, k) {
			return Spec{}, fmt.Errorf("target %s: unknown option %q: want tag, collection or secret", name, k)
		}
	}
	sp.Tag, sp.Collection, sp.Secret = q.Get("tag"), q.Get("collection"), q.Get("secret")
	if sp.Secret != "" {
		if err := checkRef(sp.Secret); err != nil {
			return Spec{}, fmt.Errorf("target %s: secret: %v", name, err)
		}
	}
	switch {
	case sp.Kind == Gotify && sp.Secret == "" && !strings.HasPrefix(sp.Location, "@") && !strings.HasPrefix(sp.Location, "env:"):
		return Spec{}, fmt.Errorf("target %s: gotify needs its application token: secret=@/path or secret=env:VAR", name)
	case sp.Kind == JSON && sp.Secret == "":
		return Spec{}, fmt.Errorf("target %s: json needs the key its posts are signed with: secret=@/path or secret=env:VAR", name)
	case sp.Kind.urlIsSecret() && sp.Secret != "":
		return Spec{}, fmt.Errorf("target %s: a %s target's secret is its URL: no secret= option", name, sp.Kind)
	}
	return sp, nil
}

// String gives the spec back as written (it holds no secret).
func (sp Spec) String() string {
	q := url.Values{}
	for k, v := range map[string]string{"tag": sp.Tag, "collection": sp.Collection, "secret": sp.Secret} {
		if v != "" {
			q.Set(k, v)
		}
	}
	s := sp.Name + "=" + string(sp.Kind) + ":" + sp.Location
	if len(q) == 0 {
		return s
	}
	if strings.Contains(sp.Location, "?") {
		return s + "&" + q.Encode()
	}
	return s + "?" + q.Encode()
}

// Filter is the filter the target's quote is chosen with.
func (sp Spec) Filter() quoter.Filter {
	return quoter.Filter{Tag: sp.Tag, Collection: sp.Collection}
}

// checkRef checks a reference to a secret: @/absolute/path or env:VAR.
func checkRef(ref string) error {
	switch {
	case strings.HasPrefix(ref, "@"):
		if !strings.HasPrefix(ref, "@/") {
			return fmt.Errorf("%q: want @ and an absolute path", ref)
		}
	case strings.HasPrefix(ref, "env:"):
		if !envName().MatchString(strings.TrimPrefix(ref, "env:")) {
			return fmt.Errorf("%q: want env: and a variable name", ref)
		}
	default:
		// Not repeated: it may be the secret itself, written in the open.
		return errors.New("want @/path/to/file or env:VAR (the secret itself is never written in the setting)")
	}
	return nil
}

var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

func validKind(k Kind) bool { return slices.Contains(Kinds, k) }

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
