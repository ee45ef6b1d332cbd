package main

// Help: the list of commands and each command's flags, spelt --name. The
// man page (man.go) and the shell completions (completion.go) are made
// from the same declarations, so none of them can miss a flag.

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// commandNames returns the names of the subcommands, sorted, and help.
func commandNames() []string {
	names := []string{"help"}
	for name := range subcommands {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// commandFlags returns the flags subcommand cmd declares, sorted by name,
// bound to fresh values: for every command but serve, without the global
// flags (serve declares them as settings of its own).
func commandFlags(cmd *subcommand) []*flag.Flag {
	fs := newFlagSet("")
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	return sortedFlags(fs)
}

// globalFlags returns the global flags with their defaults.
func globalFlags() []*flag.Flag {
	fs := newFlagSet("")
	(&globals{}).register(fs)
	return sortedFlags(fs)
}

func sortedFlags(fs *flag.FlagSet) []*flag.Flag {
	var fl []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { fl = append(fl, f) }) // VisitAll sorts by name
	return fl
}

// synopsis is the command name's usage line.
func synopsis(name string) string {
	if cmd := subcommands[name]; cmd != nil && cmd.args != "" {
		return "quotesd " + name + " " + cmd.args
	}
	return "quotesd " + name
}

// runHelp is `quotesd help [COMMAND]`.
func runHelp(w io.Writer, args []string) error {
	switch {
	case len(args) == 0 || len(args) == 1 && args[0] == "help":
		printHelp(w)
		return nil
	case len(args) > 1:
		return usagef("help takes one command, e.g. 'quotesd help serve'")
	}
	if _, err := lookupCommand(args[0]); err != nil {
		return err
	}
	printCommandHelp(w, args[0])
	return nil
}

// printHelp is `quotesd help`: the commands and the global flags.
func printHelp(w io.Writer) {
	fmt.Fprintf(w, "quotesd %s: a quote of the day over telnet, the web, mail, finger and IRC\n\n", build.Version)
	fmt.Fprintln(w, "usage: quotesd [--db FILE] [--tz ZONE] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	width := 0
	for name := range subcommands {
		width = max(width, len(name))
	}
	for _, name := range commandNames() {
		if cmd := subcommands[name]; cmd != nil {
			fmt.Fprintf(w, "  %-*s %s\n", width, name, cmd.summary)
		}
	}
	fmt.Fprintln(w, "\nglobal flags, before or after the command:")
	writeFlags(w, globalFlags())
	fmt.Fprintln(w, "\nEvery flag can also be set in the environment as QUOTESD_<FLAG>, e.g. QUOTESD_DB.")
	fmt.Fprintln(w, "Run 'quotesd help COMMAND' (or 'quotesd COMMAND --help') for a command's flags;")
	fmt.Fprintln(w, "'quotesd man' prints the manual page.")
}

// printCommandHelp is `quotesd help NAME` and `quotesd NAME --help`.
func printCommandHelp(w io.Writer, name string) {
	cmd := subcommands[name]
	fmt.Fprintf(w, "usage: %s\n\n%s\n", synopsis(name), capitalize(cmd.summary)+".")
	if cmd.detail != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.detail)
	}
	if fl := commandFlags(cmd); len(fl) > 0 {
		fmt.Fprintln(w, "\nflags:")
		writeFlags(w, fl)
	}
	if !cmd.ownArgs {
		fmt.Fprintln(w, "\nglobal flags:")
		writeFlags(w, globalFlags())
	}
	fmt.Fprintln(w, "\nEvery flag can also be set in the environment as QUOTESD_<FLAG>, e.g. QUOTESD_DB.")
}

// writeFlags lists flags as Go's flag package does, but spelt --name.
func writeFlags(w io.Writer, flags []*flag.Flag) {
	for _, f := range flags {
		arg, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if arg != "" {
			fmt.Fprintf(w, " %s", arg)
		}
		fmt.Fprintf(w, "\n        %s", usage)
		if def := flagDefault(f); def != "" {
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	}
}

// flagDefault is f's default as help shows it, quoted for strings, or ""
// for a zero default, which goes without saying.
func flagDefault(f *flag.Flag) string {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return ""
	}
	if isStringFlag(f) {
		return fmt.Sprintf("%q", f.DefValue)
	}
	return f.DefValue
}

// isStringFlag reports whether f holds a plain string.
func isStringFlag(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

// takesValue reports whether f needs a value (it is not a bool flag).
func takesValue(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
