package settings

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Sources are where Load reads settings from.
type Sources struct {
	Args []string
	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ReadFile reads the settings file and secret files; nil means
	// os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// ConfigSetting names the setting that holds the settings file's path
	// ("config"); empty: there is no settings file.
	ConfigSetting string
}

// UsageError is a mistake in the settings themselves (an unknown name, a
// malformed value), as opposed to a failure to read them. InArgs says the
// mistake is on the command line, where a usage text helps.
type UsageError struct {
	Err    error
	InArgs bool
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Load builds a Set named name from src. declare binds fresh values to the
// Set it is given; it may be called more than once (first to find the
// settings file), and the values bound by its last call are the result.
// Precedence, weakest first: the declared defaults, the settings file, the
// environment (QUOTESD_<NAME>), the flags in Args. Secrets are then read
// (see Set.Secret). -h or --help gives an error matching flag.ErrHelp.
func Load(name string, declare func(*Set), src Sources) (*Set, error) {
	if src.LookupEnv == nil {
		src.LookupEnv = os.LookupEnv
	}
	if src.ReadFile == nil {
		src.ReadFile = os.ReadFile
	}
	s := New(name)
	declare(s)
	if err := s.applyEnv(src.LookupEnv); err != nil {
		return nil, err
	}
	if err := s.applyArgs(src.Args); err != nil {
		return nil, err
	}
	if src.ConfigSetting != "" {
		if path := s.Lookup(src.ConfigSetting).Value(); path != "" {
			text, err := src.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("reading settings: %w", err)
			}
			s = New(name)
			declare(s)
			if err := s.applyFile(path, string(text), src.ConfigSetting); err != nil {
				return nil, err
			}
			if err := s.applyEnv(src.LookupEnv); err != nil {
				return nil, err
			}
			if err := s.applyArgs(src.Args); err != nil {
				return nil, err
			}
		}
	}
	if err := s.readSecrets(src.LookupEnv, src.ReadFile); err != nil {
		return nil, err
	}
	return s, nil
}

// Args returns the arguments that were not flags.
func (s *Set) Args() []string { return s.args }

func (s *Set) applyEnv(lookup func(string) (string, bool)) error {
	for _, st := range s.list {
		if st.Secret {
			continue
		}
		env := EnvName(st.Name)
		if v, ok := lookup(env); ok {
			if err := s.Set(st.Name, v, FromEnv, env); err != nil {
				return usagef("invalid value %q for %s: %v", v, env, ExplainValue(st.value, err))
			}
		}
	}
	return nil
}

func (s *Set) applyArgs(args []string) error {
	s.startSource(nil)
	defer s.endSource()
	rest, err := ParseArgs(s.fs, args, true)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Err: err, InArgs: true}
	}
	s.args = rest
	s.fs.Visit(func(f *flag.Flag) {
		if st := s.byName[f.Name]; st != nil {
			st.Source, st.Origin = FromFlag, ""
		}
	})
	return nil
}

// applyFile sets settings from the lines of a settings file: "name =
// value", name a setting, value optionally in Go double quotes (write ""
// for an empty value); blank lines and lines starting with # are skipped.
// Errors name the file and line; every bad line is reported.
func (s *Set) applyFile(path, text, configSetting string) error {
	var errs []error
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		if err := s.applyLine(path, n, sc.Text(), configSetting); err != nil {
			errs = append(errs, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if len(errs) > 0 {
		return &UsageError{Err: errors.Join(errs...)}
	}
	return nil
}

// applyLine applies line n of the settings file path.
func (s *Set) applyLine(path string, n int, line, configSetting string) error {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	name, value, ok := strings.Cut(line, "=")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" {
		return usagef("%s:%d: want 'setting = value', got %q", path, n, line)
	}
	st := s.byName[name]
	if st == nil || name == configSetting {
		hint := " (settings are serve's flags without dashes, e.g. qotd-mode)"
		if near := Suggest(name, s.fileNames(configSetting)); near != "" {
			hint = ": did you mean " + near + "?"
		}
		return usagef("%s:%d: unknown setting %q%s", path, n, name, hint)
	}
	if strings.HasPrefix(value, `"`) {
		// A quoted value may be followed by a comment, as Print writes
		// them; an unquoted one runs to the end of the line (IRC
		// channels start with #).
		q, err := strconv.QuotedPrefix(value)
		rest := strings.TrimSpace(value[len(q):])
		if err != nil || rest != "" && !strings.HasPrefix(rest, "#") {
			return usagef("%s:%d: malformed quoted value %s", path, n, value)
		}
		value, _ = strconv.Unquote(q)
	}
	if err := s.Set(name, value, FromFile, path+":"+strconv.Itoa(n)); err != nil {
		return usagef("%s:%d: invalid value %q for %s: %v", path, n, value, name, ExplainValue(st.value, err))
	}
	return nil
}

// fileNames lists the settings a settings file may set.
func (s *Set) fileNames(configSetting string) []string {
	var names []string
	for _, st := range s.list {
		if !st.Secret && st.Name != configSetting {
			names = append(names, st.Name)
		}
	}
	return names
}
