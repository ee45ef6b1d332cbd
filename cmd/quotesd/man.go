package main

// `quotesd man`: the manual page quotesd(1), in roff, written from the
// commands' flag declarations and serve's settings (see help.go), so that
// it documents what this very binary takes: `quotesd man > quotesd.1`.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/quotesd/quotesd/settings"
)

func init() {
	subcommands["man"] = &subcommand{
		summary: "print the manual page quotesd(1), in roff: quotesd man | man -l -",
		run: func(ctx context.Context, g *globals, args []string) error {
			if len(args) > 0 {
				return usagef("man takes no arguments: 'quotesd man > quotesd.1', or read it with 'quotesd man | man -l -'")
			}
			return writeMan(g.Stdout)
		},
	}
}

// roff escapes s for running text: backslashes, hyphens as \- (so that
// flags copied from the page are typed right), and a line that would
// start with a control character.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

func bold(s string) string   { return `\fB` + roff(s) + `\fR` }
func italic(s string) string { return `\fI` + roff(s) + `\fR` }

// sentence ends s with a full stop.
func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// manParagraphs writes text: paragraphs apart by blank lines, and lines
// indented by two spaces kept as they are (commands to type).
func manParagraphs(w io.Writer, text string) {
	literal := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "  ") && !literal:
			fmt.Fprint(w, ".RS 4\n.nf\n")
			literal = true
		case !strings.HasPrefix(line, "  ") && literal:
			fmt.Fprint(w, ".fi\n.RE\n")
			literal = false
		}
		switch {
		case literal:
			fmt.Fprintln(w, roff(strings.TrimPrefix(line, "  ")))
		case line == "":
			fmt.Fprintln(w, ".PP")
		default:
			fmt.Fprintln(w, roff(line))
		}
	}
	if literal {
		fmt.Fprint(w, ".fi\n.RE\n")
	}
}

// manFlag writes one flag as a tagged paragraph; more follows its help.
func manFlag(w io.Writer, f *flag.Flag, more ...string) {
	arg, usage := flag.UnquoteUsage(f)
	fmt.Fprintln(w, ".TP")
	if arg != "" && takesValue(f) {
		fmt.Fprintf(w, "%s %s\n", bold("--"+f.Name), italic(arg))
	} else {
		fmt.Fprintln(w, bold("--"+f.Name))
	}
	fmt.Fprintln(w, roff(sentence(capitalize(strings.TrimSuffix(usage, " (live)")))))
	for _, m := range more {
		if m != "" {
			fmt.Fprintln(w, roff(sentence(m)))
		}
	}
}

// manDefault says a flag's default in a sentence, or "".
func manDefault(f *flag.Flag) string {
	if d := flagDefault(f); d != "" {
		return "Default: " + d
	}
	return ""
}

// manDate is the day of the commit the binary was built from, when the
// build recorded it: the same page for the same commit.
func manDate() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" && len(s.Value) >= len("2006-01-02") {
				return s.Value[:len("2006-01-02")]
			}
		}
	}
	return ""
}

func writeMan(w io.Writer) error {
	var b strings.Builder
	writeManHead(&b)
	writeManCommands(&b)
	writeManSettings(&b)
	writeManTail(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeManHead(w io.Writer) {
	fmt.Fprintf(w, `.\" quotesd(1), made by 'quotesd man' from the flags quotesd %s declares.
.TH QUOTESD 1 "%s" "quotesd %s" "User Commands"
.SH NAME
quotesd \- a quote of the day over telnet, the web, mail, finger and IRC
.SH SYNOPSIS
.B quotesd
[\fB\-\-db\fR \fIfile\fR] [\fB\-\-tz\fR \fIzone\fR] \fIcommand\fR [\fIflags\fR] [\fIarguments\fR]
.br
.B quotesd serve
[\fB\-\-config\fR \fIfile\fR] [\fIsettings\fR]
.SH DESCRIPTION
`, roff(build.Version), manDate(), roff(build.Version))
	manParagraphs(w, `quotesd works on one quote library, a SQLite file (--db). "quotesd serve" serves it
over RFC 865 QOTD, HTTP (a page, a JSON API, an Atom feed), mail, RFC 1288
Finger and IRC; the
other commands work on it from the shell, like fortune(6). The quote of the day
is the same in every process and never changes once its day has begun anywhere.

Flags may come before or after the command, and after its arguments: --name
value, --name=value and Go's -name are all taken, and -- ends the flags. Every
flag can also be set in the environment as QUOTESD_<FLAG> (upper case, dashes as
underscores: QUOTESD_DB), which the command line overrides. -h or --help prints
a command's help.`)
	fmt.Fprintln(w, ".SH GLOBAL FLAGS")
	for _, f := range globalFlags() {
		manFlag(w, f, manDefault(f), "Environment: "+settings.EnvName(f.Name))
	}
}

func writeManCommands(w io.Writer) {
	fmt.Fprintln(w, ".SH COMMANDS")
	for _, name := range commandNames() {
		if name == "help" {
			fmt.Fprintf(w, ".SS %s\n%s\n", roffQuoted("help [command]"), roff("Print the list of commands, or a command's help."))
			continue
		}
		cmd := subcommands[name]
		fmt.Fprintf(w, ".SS %s\n", roffQuoted(strings.TrimPrefix(synopsis(name), "quotesd ")))
		fmt.Fprintln(w, roff(sentence(capitalize(cmd.summary))))
		if name == "serve" {
			fmt.Fprintln(w, ".PP")
			fmt.Fprintln(w, roff("Its settings are under SERVE SETTINGS below; these flags are actions:"))
			for _, f := range commandFlags(cmd) {
				if serveSet().Lookup(f.Name) == nil {
					manFlag(w, f)
				}
			}
			continue
		}
		if cmd.detail != "" {
			fmt.Fprintln(w, ".PP")
			manParagraphs(w, cmd.detail)
		}
		for _, f := range commandFlags(cmd) {
			manFlag(w, f, manDefault(f))
		}
	}
}

// roffQuoted is s escaped as one macro argument.
func roffQuoted(s string) string {
	return `"` + strings.ReplaceAll(roff(s), `"`, `\(dq`) + `"`
}

// manSections are the groups of serve's settings, in the page's order:
// serve's own, then each component's.
var manSections = []struct{ component, title string }{
	{"", "serve itself"},
	{"ops", "ops: the operations listener (metrics, health, profiling)"},
	{"qotd", "qotd: RFC 865, over TCP and UDP"},
	{"web", "web: the site, the JSON API and the Atom feed"},
	{"smtp", "smtp: mail in, replies out"},
	{"finger", "finger: RFC 1288, today's quote to finger @host"},
	{"irc", "irc: the quote bot"},
}

func writeManSettings(w io.Writer) {
	fmt.Fprintln(w, ".SH SERVE SETTINGS")
	cmd := subcommands["serve"]
	manParagraphs(w, cmd.detail)
	set := serveSet()
	done := map[string]bool{}
	section := func(component, title string) {
		fmt.Fprintf(w, ".SS %s\n", roffQuoted(title))
		for _, st := range set.Settings() {
			if componentOf(st.Name) != component || done[st.Name] {
				continue
			}
			done[st.Name] = true
			writeManSetting(w, set, st)
		}
	}
	titled := map[string]bool{}
	for _, s := range manSections {
		section(s.component, s.title)
		titled[s.component] = true
	}
	for _, c := range components { // one not in manSections yet
		if !titled[c.name] {
			section(c.name, c.name)
		}
	}
}

func writeManSetting(w io.Writer, set *settings.Set, st *settings.Setting) {
	restart := "Restart to change"
	if st.Live {
		restart = "Live: a reload (SIGHUP) applies a new value"
	}
	if st.Secret {
		fmt.Fprintf(w, ".TP\n%s\n", italic(st.Name))
		fmt.Fprintln(w, roff(sentence("A secret: "+st.Usage)))
		fmt.Fprintln(w, roff(fmt.Sprintf("Read from the file named by --%s-file, else from %s; never a flag or a line of the settings file. %s.", st.Name, settings.EnvName(st.Name), restart)))
		return
	}
	f := set.FlagSet().Lookup(st.Name)
	def := manDefault(f)
	if st.Computed != "" {
		def = "Default: " + st.Computed
	}
	manFlag(w, f, def, restart, "Environment: "+settings.EnvName(st.Name))
}

func writeManTail(w io.Writer) {
	fmt.Fprintln(w, ".SH SETTINGS FILE")
	manParagraphs(w, `The file named by --config (or QUOTESD_CONFIG) holds one setting per line, the
flag's name without dashes: "setting = value". Blank lines and lines starting
with # are ignored. A value may be put in double quotes, as in Go ("" for an
empty value), and a quoted value may be followed by a # comment; an unquoted
value runs to the end of the line (IRC channels start with #). Any mistake is
reported as file:line: message, and the whole file is refused. The file is read
again on SIGHUP; the environment and the command line win over it. The
distribution's contrib/quotesd.conf lists every setting with its default and
help, commented out.

  quotesd serve --print-config   # the settings in force, as a settings file
  quotesd serve --check-config   # check flags, environment and file: ok, or the errors`)
	fmt.Fprintln(w, ".SH ENVIRONMENT")
	manParagraphs(w, `QUOTESD_<FLAG> sets any flag, QUOTESD_<SECRET> a secret (see SERVE SETTINGS).
STATE_DIRECTORY (set by systemd's StateDirectory=) and XDG_STATE_HOME choose the
default --state-dir. LISTEN_FDS and LISTEN_FDNAMES hand serve its sockets
(systemd socket activation: each listener's socket name is in its setting's
help); NOTIFY_SOCKET receives its readiness, reloads and stop, and, when
WATCHDOG_USEC is set (systemd's WatchdogSec=), a WATCHDOG=1 every half of it
while the library answers and every frontend's serve loop runs. When
JOURNAL_STREAM names stderr, each log line starts with its priority for
journald (<3> error to <7> debug). GOGC, when set, replaces serve's garbage
collection target.`)
	fmt.Fprintln(w, ".SH SIGNALS")
	manParagraphs(w, `serve reloads on SIGHUP: it reads its settings again and applies the live ones,
all or none, logging each change as applied or as needing a restart, and
reopens the library, dropping no connection. SIGTERM or SIGINT stops
accepting and lets work in flight finish within --shutdown-timeout; a second
signal exits at once.`)
	fmt.Fprintln(w, ".SH EXIT STATUS")
	manParagraphs(w, `0 on success; 1 on a failure (for healthcheck: not ready), said on stderr in
one line starting "quotesd:"; 2 for a mistake in the command line or the
settings, such as an unknown flag, which names the closest flag there is.`)
	fmt.Fprintln(w, ".SH FILES")
	manParagraphs(w, `quotes.db is the default library. Read-only commands open it read-only and
leave no -wal or -shm file beside it; without one at the default path they
read the library built into the binary and create nothing ('quotesd init'
writes a copy of your own), while serve and the commands that write create
it from that library. serve keeps the mail queue and the IRC bot's state in
--state-dir.`)
	fmt.Fprintln(w, ".SH EXAMPLES")
	manParagraphs(w, `  quotesd today --tz Europe/Paris
  quotesd random --max-len 90 --author "mark twain"
  quotesd --db mine.db import /usr/share/games/fortunes/literature
  quotesd serve --config /etc/quotesd/quotesd.conf --check-config
  quotesd healthcheck --url http://127.0.0.1:9090/readyz
  source <(quotesd completion bash)`)
	fmt.Fprintln(w, ".SH SEE ALSO")
	fmt.Fprintln(w, `\fBfortune\fR(6), \fBsystemd.socket\fR(5), \fBsd_notify\fR(3)`)
}
