package settings

import (
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ParseArgs parses command-line arguments into fs as people expect of a
// command line: --name value, --name=value, and Go's -name alike, a bool
// flag alone or as --name=false; "--" ends the flags and "-" is an
// argument (stdin). With interspersed, flags may also follow arguments
// (quotesd today --tz Europe/Paris, quotesd backup out.db --db in.db);
// without, the first argument ends the flags (the command's name, whose
// flags are the command's to parse). It returns the arguments.
//
// -h, -help and --help, unless fs defines them, give an error matching
// flag.ErrHelp. Every other mistake is a *FlagError of one line, which for
// an unknown flag suggests the defined flag closest to it.
//
// Flags are set through fs.Set, so fs.Visit sees those given here.
func ParseArgs(fs *flag.FlagSet, args []string, interspersed bool) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(rest, args[i+1:]...), nil
		}
		if len(arg) < 2 || arg[0] != '-' {
			if !interspersed {
				return append(rest, args[i:]...), nil
			}
			rest = append(rest, arg)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
		value, hasValue := "", false
		if n, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = n, v, true
		}
		if name == "" || name[0] == '-' || name[0] == '=' {
			return nil, &FlagError{Flag: arg, Syntax: true}
		}
		f := fs.Lookup(name)
		if f == nil {
			if name == "h" || name == "help" {
				return nil, flag.ErrHelp
			}
			return nil, &FlagError{Flag: "--" + name, Unknown: true, Suggest: Suggest(name, flagNames(fs))}
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() && !hasValue {
			value, hasValue = "true", true
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, &FlagError{Flag: "--" + name, Missing: true}
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, &FlagError{Flag: "--" + name, Value: value, Err: ExplainValue(f.Value, err)}
		}
	}
	return rest, nil
}

// FlagError is a mistake on the command line, said in one line.
type FlagError struct {
	Flag    string // as people write it: --name (as given, for bad syntax)
	Unknown bool   // no flag of that name
	Suggest string // for an unknown flag, the name of a defined flag close to it
	Missing bool   // the flag takes a value, and none followed it
	Syntax  bool   // not a flag at all: ---name, -=x
	Value   string // otherwise the value refused,
	Err     error  // and why
}

func (e *FlagError) Error() string {
	switch {
	case e.Unknown && e.Suggest != "":
		return fmt.Sprintf("unknown flag %s: did you mean --%s?", e.Flag, e.Suggest)
	case e.Unknown:
		return "unknown flag " + e.Flag
	case e.Missing:
		return e.Flag + " needs a value"
	case e.Syntax:
		return "bad flag syntax: " + e.Flag
	}
	return fmt.Sprintf("invalid value %q for %s: %v", e.Value, e.Flag, e.Err)
}

func (e *FlagError) Unwrap() error { return e.Err }

// ExplainValue says what a flag of v's kind wants, where the flag package
// would say only "parse error"; other errors of its Set pass unchanged.
func ExplainValue(v flag.Value, err error) error {
	if strings.Contains(err.Error(), "out of range") {
		return errors.New("out of range")
	}
	if !strings.Contains(err.Error(), "parse error") && !strings.Contains(err.Error(), "invalid syntax") {
		return err // a custom type's own message: "want daily or random"
	}
	switch kindOf(v) {
	case "bool":
		return errors.New("want true or false")
	case "int":
		return errors.New("want a whole number")
	case "float":
		return errors.New("want a number")
	case "duration":
		return errors.New("want a duration such as 30s, 5m or 1h30m")
	}
	return err
}

// kindOf names the type of a flag's value: "bool", "int", "float",
// "duration" or "string" (also for custom types).
func kindOf(v flag.Value) string {
	switch v := v.(type) {
	case interface{ IsBoolFlag() bool }:
		if v.IsBoolFlag() {
			return "bool"
		}
	case flag.Getter:
		switch v.Get().(type) {
		case int, int64, uint, uint64:
			return "int"
		case float64:
			return "float"
		case time.Duration:
			return "duration"
		}
	}
	return "string"
}

func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// Suggest returns the candidate closest to name, if one is close enough to
// be a likely typo (an edit or two, fewer for short names), or "".
func Suggest(name string, candidates []string) string {
	name = strings.ToLower(name)
	best, bestDist := "", 0
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		d := editDistance(name, strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > max(1, len([]rune(name))/3) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// the fewest insertions, deletions, substitutions and transpositions of
// adjacent characters that turn one into the other.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
