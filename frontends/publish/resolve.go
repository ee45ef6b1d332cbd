package publish

import (
	"fmt"
	"net/url"
	"strings"
)

// target is a Spec with its secrets read: where its posts go, and how to
// keep those secrets out of every log line and error.
type target struct {
	Spec
	url    *url.URL // where the posts go (for ntfy, the server's root)
	topic  string   // ntfy's topic, the URL's last path segment
	secret string   // the secret= option's value, read; "" for none
	hide   *strings.Replacer
}

// Secrets come from a file or the environment, read through these (tests
// give their own).
type sources struct {
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
}

// read returns the value a reference (@/path or env:VAR) names: one line,
// a final newline ignored. The error names the reference, never a value.
func (src sources) read(ref string) (string, error) {
	var v string
	if path, ok := strings.CutPrefix(ref, "@"); ok {
		b, err := src.readFile(path)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", ref, err)
		}
		v = string(b)
	} else {
		name := strings.TrimPrefix(ref, "env:")
		s, ok := src.lookupEnv(name)
		if !ok || s == "" {
			return "", fmt.Errorf("%s: the variable %s is not set", ref, name)
		}
		v = s
	}
	v = strings.TrimSuffix(strings.TrimSuffix(v, "\n"), "\r")
	switch {
	case v == "":
		return "", fmt.Errorf("%s is empty: put the value on its first line", ref)
	case strings.ContainsAny(v, "\r\n"):
		return "", fmt.Errorf("%s holds more than one line: want the value on one line", ref)
	}
	return v, nil
}

// resolve reads sp's secrets and checks the URL they give.
func resolve(sp Spec, src sources) (*target, error) {
	t := &target{Spec: sp}
	raw := sp.Location
	var hidden []string
	if !strings.HasPrefix(raw, "http") {
		v, err := src.read(raw)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", sp.Name, err)
		}
		raw = v
		hidden = append(hidden, v)
	}
	if sp.Secret != "" {
		v, err := src.read(sp.Secret)
		if err != nil {
			return nil, fmt.Errorf("target %s: secret: %w", sp.Name, err)
		}
		t.secret = v
		hidden = append(hidden, v)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %s: %s does not hold an http or https URL", sp.Name, sp.Location)
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			hidden = append(hidden, p)
		}
		hidden = append(hidden, u.User.Username())
	}
	if sp.Location != raw {
		// A URL read from a secret: a webhook's token is in its path or
		// its query, which may show apart from the whole.
		// Short paths ("/", "/message") hold no token.
		if p := u.EscapedPath(); len(p) >= 16 {
			hidden = append(hidden, p)
		}
		hidden = append(hidden, u.RawQuery)
	}
	switch sp.Kind {
	case Ntfy:
		// Published as JSON to the server's root, the topic in the body
		// (https://docs.ntfy.sh/publish/#publish-as-json).
		dir, topic := splitLast(u.Path)
		if topic == "" {
			return nil, fmt.Errorf("target %s: want an ntfy topic's URL, https://ntfy.example.org/TOPIC", sp.Name)
		}
		t.topic = topic
		u.Path, u.RawPath = dir, ""
	case Gotify:
		// POST /message, the application's token in X-Gotify-Key.
		if !strings.HasSuffix(u.Path, "/message") {
			u.Path = strings.TrimSuffix(u.Path, "/") + "/message"
			u.RawPath = ""
		}
		if t.secret == "" && !u.Query().Has("token") {
			return nil, fmt.Errorf("target %s: gotify needs its application token: secret=@/path or secret=env:VAR", sp.Name)
		}
	}
	t.url = u
	var pairs []string
	for _, h := range hidden {
		if len(h) >= 4 { // shorter is no secret, and would blank common words
			pairs = append(pairs, h, "(redacted)")
		}
	}
	t.hide = strings.NewReplacer(pairs...)
	return t, nil
}

// splitLast splits a URL path at its last segment: "/a/topic" gives "/a/"
// and "topic".
func splitLast(p string) (dir, last string) {
	p = strings.TrimSuffix(p, "/")
	i := strings.LastIndex(p, "/")
	return p[:i+1], p[i+1:]
}

// where describes the target for logs: its name's URL without what may be
// secret (for a URL read from a file or the environment, only the host).
func (t *target) where() string {
	if !strings.HasPrefix(t.Location, "http") {
		return t.url.Scheme + "://" + t.url.Host + "/(redacted)"
	}
	return t.Location
}

// redact takes every secret of t out of s (an error, a service's answer).
func (t *target) redact(s string) string { return t.hide.Replace(s) }
