// Command quotesd serves one quote library over RFC 865, HTTP, SMTP and IRC,
// and works on it from the shell like fortune(6).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/settings"
)

// globals are the flags every subcommand takes, before or after its name.
type globals struct {
	DB     string // --db, env QUOTESD_DB
	TZ     string // --tz, env QUOTESD_TZ
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// shippedNoted is set once stderr has said that the shipped library
	// is being read for want of a file (see openShipped).
	shippedNoted bool
}

// The help of the global flags, which serve also declares as settings.
const (
	dbUsage = "quote library: a SQLite `file`, or a postgres:// URL of a PostgreSQL database (docs/OPERATIONS.md, \"PostgreSQL\")"
	tzUsage = "time `zone` that decides when the day rolls over (IANA name such as Europe/Paris; default: the system's)"
)

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.DB, "db", defaultDB, dbUsage)
	fs.StringVar(&g.TZ, "tz", "", tzUsage)
}

// runFunc runs a subcommand with the arguments that are not flags. It
// returns a usageError for bad usage (exit 2) and any other error for a
// failure (exit 1).
type runFunc func(ctx context.Context, g *globals, args []string) error

// subcommand is one verb of the CLI.
type subcommand struct {
	summary string // one line, for the list of commands
	args    string // what follows the name in its synopsis: "[--json] WORDS..."
	detail  string // optional paragraphs for its help and the man page
	// flags declares the command's flags on fs, bound to fresh values,
	// and returns the run function that reads them. Help, the man page and
	// the completions call it too, to list the flags.
	flags func(fs *flag.FlagSet) runFunc
	// run, for a command without flags, is its run function.
	run runFunc
	// ownArgs commands get their arguments unparsed, global flags given
	// before the name first (serve: its settings come from the
	// environment and a file as well); their flags only describe them.
	ownArgs bool
	// files says the command's arguments are files, and choices the words
	// they are one of, for completion.
	files   bool
	choices []string
}

// subcommands is filled by init functions of the files that implement them.
var subcommands = map[string]*subcommand{}

// usageError marks a mistake in how quotesd was called: exit status 2.
// help is set when the mistake was asking for the flags (-h): the help is
// then printed to stdout, and the exit status is 0.
type usageError struct {
	msg  string
	help bool
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) > 0 && isVersionFlag(args[0]) {
		args = append([]string{"version"}, args[1:]...)
	}
	top := newFlagSet("quotesd")
	g.register(top)
	if err := applyEnv(top); err != nil {
		return fail(stderr, err)
	}
	args, err := settings.ParseArgs(top, args, false)
	if errors.Is(err, flag.ErrHelp) || err == nil && len(args) == 0 {
		printHelp(stdout)
		return 0
	}
	if err != nil {
		return fail(stderr, flagError("", err))
	}
	name := args[0]
	if name == "help" {
		return fail(stderr, runHelp(stdout, args[1:]))
	}
	cmd, err := lookupCommand(name)
	if err != nil {
		return fail(stderr, err)
	}
	err = runCommand(ctx, g, top, name, cmd, args[1:])
	if ue, ok := err.(*usageError); ok && ue.help {
		printCommandHelp(stdout, name)
		return 0
	}
	return fail(stderr, explainLocked(g.DB, err))
}

// lookupCommand returns the subcommand name, or a usage error that
// suggests the closest one.
func lookupCommand(name string) (*subcommand, error) {
	if cmd, ok := subcommands[name]; ok {
		return cmd, nil
	}
	if near := settings.Suggest(name, commandNames()); near != "" {
		return nil, usagef("unknown command %q: did you mean %s?", name, near)
	}
	return nil, usagef("unknown command %q: run 'quotesd help' for the list", name)
}

// runCommand parses the arguments of the subcommand name, whose global
// flags before it top holds, and runs it.
func runCommand(ctx context.Context, g *globals, top *flag.FlagSet, name string, cmd *subcommand, args []string) error {
	if cmd.ownArgs {
		var given []string
		top.Visit(func(f *flag.Flag) { given = append(given, "--"+f.Name+"="+f.Value.String()) })
		return cmd.flags(newFlagSet(name))(ctx, g, append(given, args...))
	}
	fs := newFlagSet(name)
	run := cmd.run
	if cmd.flags != nil {
		run = cmd.flags(fs)
	}
	if err := applyEnv(fs); err != nil {
		return err
	}
	// The global flags after the name too; the environment has been read
	// into them already, and flags given before the name stay unless
	// given again.
	top.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	args, err := settings.ParseArgs(fs, args, true)
	if errors.Is(err, flag.ErrHelp) {
		return &usageError{help: true}
	}
	if err != nil {
		return flagError(name, err)
	}
	return run(ctx, g, args)
}

// newFlagSet returns a flag set that reports errors instead of printing
// them.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// applyEnv sets every flag of fs that the environment sets: QUOTESD_<FLAG>,
// upper case, dashes as underscores. Flags on the command line, parsed
// after, win.
func applyEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := settings.EnvName(f.Name)
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = usagef("invalid value %q for %s: %v", v, name, settings.ExplainValue(f.Value, e))
			}
		}
	})
	return err
}

// flagError turns a mistake in the flags of the command name ("" before
// any) into a usage error of one line.
func flagError(name string, err error) error {
	var fe *settings.FlagError
	if errors.As(err, &fe) && fe.Unknown && fe.Suggest == "" {
		if name == "" {
			return usagef("%v: 'quotesd help' lists the global flags", err)
		}
		return usagef("%s: %v: 'quotesd help %s' lists its flags", name, err, name)
	}
	if name == "" {
		return usagef("%v", err)
	}
	return usagef("%s: %v", name, err)
}

// fail prints err and returns the exit status for it.
func fail(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	msg := err.Error()
	// A quoter error's message is written for people; its Error() adds a
	// "quoter:" prefix (and, for EINTERNAL, the cause) meant for logs.
	var qe *quoter.Error
	if errors.As(err, &qe) && qe.Code != quoter.EINTERNAL {
		msg = strings.Replace(msg, qe.Error(), qe.Message, 1)
	}
	fmt.Fprintf(stderr, "quotesd: %s\n", msg)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
