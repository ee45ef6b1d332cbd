package settings

import (
	"fmt"
	"strings"
)

// secretSource is where a secret is read from.
type secretSource struct {
	env  string  // QUOTESD_<NAME>
	file *string // the value of the <name>-file setting
	p    *string // where the secret goes
}

// secretValue shows a secret's value to Diff and Adopt, never to a flag.
type secretValue struct{ p *string }

func (v secretValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v secretValue) Set(s string) error { *v.p = s; return nil }

// Secret declares a secret (a password, a token) bound to p. A secret is
// never a flag, so that it shows neither in ps(1) nor in a shell's history:
// it is read from the file named by the setting <name>-file (declared here
// too: a flag, a QUOTESD_<NAME>_FILE variable or a settings-file line), or,
// without one, from the environment variable QUOTESD_<NAME>. A file holds
// the secret on one line; a final newline is ignored. Options apply to
// both settings.
func (s *Set) Secret(p *string, name, usage string, opts ...Option) {
	file := new(string)
	env := EnvName(name)
	s.String(file, name+"-file", "", "`file` holding "+usage+" (or set "+env+")", opts...)
	*p = ""
	st := &Setting{Name: name, Usage: usage, Secret: true, Source: FromDefault, value: secretValue{p},
		secret: &secretSource{env: env, file: file, p: p}}
	for _, o := range opts {
		o(st)
	}
	s.add(st)
}

// readSecrets reads every declared secret from its file or variable.
func (s *Set) readSecrets(lookup func(string) (string, bool), readFile func(string) ([]byte, error)) error {
	for _, st := range s.list {
		src := st.secret
		if src == nil {
			continue
		}
		*src.p, st.Source, st.Origin = "", FromDefault, ""
		if path := *src.file; path != "" {
			b, err := readFile(path)
			if err != nil {
				return fmt.Errorf("reading --%s-file: %w", st.Name, err)
			}
			v, err := oneLine(string(b))
			if err != nil {
				return fmt.Errorf("--%s-file %s: %w", st.Name, path, err)
			}
			*src.p, st.Source, st.Origin = v, FromFile, path
			continue
		}
		if v, ok := lookup(src.env); ok && v != "" {
			v, err := oneLine(v)
			if err != nil {
				return fmt.Errorf("%s: %w", src.env, err)
			}
			*src.p, st.Source, st.Origin = v, FromEnv, src.env
		}
	}
	return nil
}

// oneLine returns the secret held in v: one line, a final newline ignored.
func oneLine(v string) (string, error) {
	v = strings.TrimSuffix(strings.TrimSuffix(v, "\n"), "\r")
	switch {
	case v == "":
		return "", fmt.Errorf("empty: put the secret on the first line")
	case strings.ContainsAny(v, "\r\n"):
		return "", fmt.Errorf("holds more than one line: a secret is one line")
	}
	return v, nil
}
