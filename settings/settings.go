// Package settings declares quotesd's configuration once per setting: its
// name, default, help, and whether a running process may take a new value
// on SIGHUP (live) or only at a restart. Everything else derives from that
// one declaration: the command-line flags and their help ("(live)"), the
// QUOTESD_* environment variables, the lines of the --config file, what a
// reload applies and what it only warns about, and `serve --print-config`.
//
// Each frontend package owns a Config value whose Declare method binds its
// fields to settings on a fresh Set; nothing here is global, so parsing
// twice (a reload) builds two independent values that can be compared and
// swapped whole.
//
// Limits follow one rule, stated here once: a limit of 0 means no limit,
// where going without one is safe; where it is not, Validate refuses 0. A
// zero never means "the default", and a negative limit is always refused.
package settings

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Config is what every frontend's settings value offers: Declare binds its
// fields to settings on s (setting each field to its default), and
// Validate checks the values together, naming the flag at fault.
type Config interface {
	Declare(s *Set)
	Validate() error
}

// Source is where a setting's value came from.
type Source string

// The sources, weakest first: each overrides the ones before it.
const (
	FromDefault Source = "default"
	FromFile    Source = "file"
	FromEnv     Source = "environment"
	FromFlag    Source = "flag"
)

// Setting is one declared setting.
type Setting struct {
	Name    string
	Usage   string
	Default string
	// Live settings take a new value on SIGHUP; the others keep the value
	// they had at start until the next restart.
	Live bool
	// Secret settings are never flags and never shown: see Set.Secret.
	Secret bool
	// Example is a valid value other than the default, when the type alone
	// does not suggest one (an enumeration, a name): tests change each
	// setting to it.
	Example string
	// Computed, when the default is worked out where the process runs
	// (from its environment or host name), says how, for documentation
	// that must be the same wherever it is made: the man page, the sample
	// settings file.
	Computed string
	Source   Source
	Origin   string // the file and line, or the variable, the value came from

	value  flag.Value
	secret *secretSource
}

// Value returns the setting's current value in the form Set accepts.
func (st *Setting) Value() string { return st.value.String() }

// Kind names the setting's type: "bool", "int", "float", "duration" or
// "string" (the last also for custom types).
func (st *Setting) Kind() string { return kindOf(st.value) }

// Option qualifies a setting as it is declared.
type Option func(*Setting)

// Live marks a setting that a running process takes on SIGHUP.
func Live(st *Setting) { st.Live = true }

// Example gives a valid non-default value (see Setting.Example).
func Example(v string) Option { return func(st *Setting) { st.Example = v } }

// Computed says how a default worked out at start is found (see
// Setting.Computed).
func Computed(how string) Option { return func(st *Setting) { st.Computed = how } }

// Set is the settings of one parse: the declarations of every Config bound
// to it, and the flag set built from them.
type Set struct {
	fs     *flag.FlagSet
	list   []*Setting
	byName map[string]*Setting
	args   []string // what the command line held besides flags
}

// New returns an empty Set named name (the command, in usage errors).
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &Set{fs: fs, byName: map[string]*Setting{}}
}

// FlagSet returns the flags of the declared settings, for usage texts.
func (s *Set) FlagSet() *flag.FlagSet { return s.fs }

// Settings returns every setting in the order declared.
func (s *Set) Settings() []*Setting { return s.list }

// Lookup returns the setting name, or nil.
func (s *Set) Lookup(name string) *Setting { return s.byName[name] }

// declare records a setting whose flag is already on s.fs.
func (s *Set) declare(name string, opts []Option) *Setting {
	f := s.fs.Lookup(name)
	st := &Setting{Name: name, Default: f.DefValue, Source: FromDefault, value: f.Value}
	for _, o := range opts {
		o(st)
	}
	st.Usage = f.Usage
	if st.Live {
		f.Usage += " (live)"
	}
	s.add(st)
	return st
}

func (s *Set) add(st *Setting) {
	if s.byName[st.Name] != nil {
		panic("settings: " + st.Name + " declared twice")
	}
	s.list = append(s.list, st)
	s.byName[st.Name] = st
}

// String declares a string setting bound to p.
func (s *Set) String(p *string, name, def, usage string, opts ...Option) {
	s.fs.StringVar(p, name, def, usage)
	s.declare(name, opts)
}

// Bool declares a boolean setting bound to p.
func (s *Set) Bool(p *bool, name string, def bool, usage string, opts ...Option) {
	s.fs.BoolVar(p, name, def, usage)
	s.declare(name, opts)
}

// Int declares an integer setting bound to p.
func (s *Set) Int(p *int, name string, def int, usage string, opts ...Option) {
	s.fs.IntVar(p, name, def, usage)
	s.declare(name, opts)
}

// Int64 declares a 64-bit integer setting bound to p.
func (s *Set) Int64(p *int64, name string, def int64, usage string, opts ...Option) {
	s.fs.Int64Var(p, name, def, usage)
	s.declare(name, opts)
}

// Float declares a floating-point setting bound to p.
func (s *Set) Float(p *float64, name string, def float64, usage string, opts ...Option) {
	s.fs.Float64Var(p, name, def, usage)
	s.declare(name, opts)
}

// Duration declares a duration setting bound to p.
func (s *Set) Duration(p *time.Duration, name string, def time.Duration, usage string, opts ...Option) {
	s.fs.DurationVar(p, name, def, usage)
	s.declare(name, opts)
}

// Inverse declares a boolean setting bound to the opposite of *p: a field
// that turns something off (the zero value keeps it on) behind a flag that
// turns it on.
func (s *Set) Inverse(p *bool, name string, def bool, usage string, opts ...Option) {
	*p = !def
	s.fs.Var(inverse{p}, name, usage)
	s.declare(name, opts)
}

// inverse is a bool flag.Value holding the opposite of its field.
type inverse struct{ p *bool }

func (v inverse) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(!*v.p)
}

func (v inverse) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*v.p = !b
	return nil
}

func (v inverse) IsBoolFlag() bool { return true }

// Var declares a setting of a custom type; its current value is the
// default. v's String must give back what its Set accepts.
func (s *Set) Var(v flag.Value, name, usage string, opts ...Option) {
	s.fs.Var(v, name, usage)
	s.declare(name, opts)
}

// Set sets the setting name to value, as if from source.
func (s *Set) Set(name, value string, source Source, origin string) error {
	st := s.byName[name]
	if st == nil {
		return fmt.Errorf("unknown setting %q", name)
	}
	if st.Secret {
		return fmt.Errorf("%s is a secret: it is read from the file named by --%s-file or from %s, never set directly", name, name, st.secret.env)
	}
	if st.Source != source {
		s.startSource(st) // a list from a stronger source replaces the weaker's
	}
	// Through the value, not the FlagSet, so that only the command line's
	// flags count as set there (see applyArgs).
	if err := st.value.Set(value); err != nil {
		return err
	}
	st.Source, st.Origin = source, origin
	return nil
}

// EnvName is the environment variable of the flag name: QUOTESD_ and the
// name in upper case with dashes as underscores.
func EnvName(name string) string {
	return "QUOTESD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Change is one setting whose value differs between two Sets.
type Change struct {
	Name     string
	Old, New string // "(redacted)" for secrets
	Live     bool
}

// Diff lists the settings whose values differ from old to new, in the
// order new declares them. Both must declare the same settings.
func Diff(old, new *Set) []Change {
	var cs []Change
	for _, st := range new.list {
		o := old.byName[st.Name]
		if o == nil || o.Value() == st.Value() {
			continue
		}
		c := Change{Name: st.Name, Old: o.Value(), New: st.Value(), Live: st.Live}
		if st.Secret {
			c.Old, c.New = "(redacted)", "(redacted)"
		}
		cs = append(cs, c)
	}
	return cs
}

// Retain sets every restart-only setting of s back to its value in
// inForce, the settings a running process started with: s then holds what
// a reload applies, the new live settings and the old others.
func (s *Set) Retain(inForce *Set) error {
	return s.Keep(inForce, func(st *Setting) bool { return !st.Live })
}

// Keep sets every setting of s for which keep is true back to its value in
// inForce.
func (s *Set) Keep(inForce *Set, keep func(*Setting) bool) error {
	var errs []error
	for _, st := range s.list {
		o := inForce.byName[st.Name]
		if !keep(st) || o == nil || o.Value() == st.Value() {
			continue
		}
		s.startSource(st)
		if err := st.value.Set(o.Value()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", st.Name, err))
			continue
		}
		st.Source, st.Origin = o.Source, o.Origin
	}
	return errors.Join(errs...)
}

// Print writes every setting as a line of a --config file, with where its
// value came from; secrets show only whether they are set.
func (s *Set) Print(w io.Writer) error {
	width := 0
	for _, st := range s.list {
		width = max(width, len(st.Name))
	}
	for _, st := range s.list {
		v := strconv.Quote(st.Value())
		if st.Secret {
			v = "(redacted)"
			if st.Value() == "" {
				v = "(not set)"
			}
		}
		from := string(st.Source)
		if st.Origin != "" {
			from += " " + st.Origin
		}
		if st.Live {
			from += ", live"
		}
		prefix := ""
		if st.Secret {
			prefix = "# " // not a line the file may hold
		}
		if _, err := fmt.Fprintf(w, "%s%-*s = %s  # %s\n", prefix, width, st.Name, v, from); err != nil {
			return err
		}
	}
	return nil
}
