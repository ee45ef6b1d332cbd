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
	"sort"
	"strings"
	"syscall"

	"quotesd/quoter"
)

// globals are the flags every subcommand takes.
type globals struct {
	DB     string // --db, env QUOTESD_DB
	TZ     string // --tz, env QUOTESD_TZ
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// subcommand is one verb of the CLI. run gets the arguments after the verb;
// it returns a usageError for bad usage (exit 2) and any other error for a
// failure (exit 1).
type subcommand struct {
	summary string
	run     func(ctx context.Context, g *globals, args []string) error
}

// subcommands is filled by init functions of the files that implement them.
var subcommands = map[string]*subcommand{}

// usageError marks a mistake in how quotesd was called: exit status 2.
// help is set when the mistake was asking for the flags (-h).
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
	fs := flag.NewFlagSet("quotesd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	if err := parseFlags(fs, args); err != nil {
		// "quotesd -h" or "--help": the global flags alone say little;
		// the help lists the commands, and it was asked for.
		if ue, ok := err.(*usageError); ok && ue.help {
			printHelp(stdout)
			return 0
		}
		return fail(stderr, err)
	}
	args = fs.Args()
	if len(args) == 0 || args[0] == "help" {
		printHelp(stdout)
		return 0
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		return fail(stderr, usagef("unknown command %q: run 'quotesd help' for the list", args[0]))
	}
	return fail(stderr, explainLocked(g.DB, cmd.run(ctx, g, args[1:])))
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.DB, "db", "quotes.db", "quote library `file` (SQLite)")
	fs.StringVar(&g.TZ, "tz", "", "time `zone` that decides when the day rolls over (IANA name; default: local)")
}

// parseFlags parses args into fs, first taking the default of every flag
// from the environment variable QUOTESD_<FLAG> (upper case, dashes as
// underscores), so flags on the command line win over the environment.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "QUOTESD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = usagef("invalid value %q for %s: %v", v, name, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &usageError{msg: fmt.Sprintf("usage of %s:\n%s", fs.Name(), flagUsage(fs)), help: true}
		}
		return usagef("%v\nusage of %s:\n%s", err, fs.Name(), flagUsage(fs))
	}
	return nil
}

// flagUsage lists the flags of fs, for usage errors.
func flagUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
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

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "quotesd %s: a quote of the day over telnet, the web, mail and IRC\n\n", build.Version)
	fmt.Fprintln(w, "usage: quotesd [--db FILE] [--tz ZONE] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(subcommands))
	for name := range subcommands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-8s %s\n", name, subcommands[name].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set in the environment as QUOTESD_<FLAG>, e.g. QUOTESD_DB.")
	fmt.Fprintln(w, "Run 'quotesd COMMAND -h' for a command's flags.")
}
