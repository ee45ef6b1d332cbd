package main

// The command line as people's habits expect it: global flags on either
// side of the command, --help anywhere, one-line mistakes with a
// suggestion, --name in every help text.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestUsage_GlobalFlagsBeforeOrAfterTheCommand(t *testing.T) {
	db := sampleDB(t)
	want := cliOK(t, "--db", db, "--tz", "UTC", "today", "--date", "2025-06-01")
	for _, args := range [][]string{
		{"today", "--db", db, "--tz", "UTC", "--date", "2025-06-01"},
		{"--tz", "UTC", "today", "--date", "2025-06-01", "--db", db},
		{"--db", "elsewhere.db", "today", "--db", db, "--date=2025-06-01"}, // the last wins
		{"-db", db, "today", "-date", "2025-06-01"},                        // Go's single dash still works
	} {
		if got := cliOK(t, args...); got != want {
			t.Errorf("quotesd %s = %q, want %q", strings.Join(args, " "), got, want)
		}
	}
	// A flag after the command beats the environment, as one before it does.
	t.Setenv("QUOTESD_DB", filepath.Join(t.TempDir(), "absent.db"))
	if got := cliOK(t, "today", "--date", "2025-06-01", "--db", db); got != want {
		t.Errorf("with QUOTESD_DB elsewhere, today --db = %q, want %q", got, want)
	}
	// Flags may follow the arguments too.
	out := filepath.Join(t.TempDir(), "copy.db")
	wantContains(t, "backup", cliOK(t, "backup", out, "--db", db), "backed up "+db+" to "+out)
}

// Every command answers -h, --help and `quotesd help NAME` with its help
// on stdout and exit status 0, and the help spells every flag --name.
func TestUsage_HelpOfEveryCommandIsOnStdoutWithExit0(t *testing.T) {
	for _, name := range commandNames() {
		if name == "help" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			help := cliOK(t, "help", name)
			wantContains(t, "quotesd help "+name, help, "usage: quotesd "+name)
			for _, asked := range [][]string{{name, "-h"}, {name, "--help"}, {"--db", "x.db", name, "--help"}} {
				out, errOut, code := cli(t, "", asked...)
				if code != 0 || errOut != "" || out != help {
					t.Errorf("quotesd %s: exit %d, stderr %q, stdout the same as 'quotesd help %s': %v", strings.Join(asked, " "), code, errOut, name, out == help)
				}
			}
			for _, f := range append(commandFlags(subcommands[name]), globalFlags()...) {
				wantContains(t, "quotesd help "+name, help, "  --"+f.Name)
				// Go's flag package spells it -name; people and this
				// help, --name.
				if m := regexp.MustCompile(`(^|[^-\w])-` + regexp.QuoteMeta(f.Name) + `\b`).FindString(help); m != "" {
					t.Errorf("quotesd help %s spells --%s with one dash: %q", name, f.Name, m)
				}
			}
		})
	}
	help := cliOK(t, "help")
	for _, f := range globalFlags() {
		wantContains(t, "quotesd help", help, "  --"+f.Name+" ")
	}
}

// A mistake gets one line on stderr, with a suggestion where one is
// close, and exit status 2: never the whole list of flags.
func TestUsage_MistakesAreOneLineWithASuggestion(t *testing.T) {
	db := sampleDB(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"tody"}, `unknown command "tody": did you mean today?`},
		{[]string{"fortune"}, `unknown command "fortune": run 'quotesd help' for the list`},
		{[]string{"help", "serv"}, `unknown command "serv": did you mean serve?`},
		{[]string{"--db", db, "today", "--jsn"}, "today: unknown flag --jsn: did you mean --json?"},
		{[]string{"--db", db, "random", "--auther", "x"}, "random: unknown flag --auther: did you mean --author?"},
		{[]string{"--db", db, "random", "--colour"}, "random: unknown flag --colour: 'quotesd help random' lists its flags"},
		{[]string{"--tzz", "UTC", "today"}, "unknown flag --tzz: did you mean --tz?"},
		{[]string{"--db", db, "today", "--date"}, "today: --date needs a value"},
		{[]string{"serve", "--qotd-mdoe", "random"}, "serve: unknown flag --qotd-mdoe: did you mean --qotd-mode?"},
		{[]string{"serve", "--web-rate", "lots"}, `serve: invalid value "lots" for --web-rate: want a whole number`},
	} {
		errOut := cliFail(t, 2, "", tt.args...)
		if errOut != "quotesd: "+tt.want+"\n" {
			t.Errorf("quotesd %s: stderr %q, want the one line %q", strings.Join(tt.args, " "), errOut, "quotesd: "+tt.want)
		}
	}
}

func TestCheckConfig_SaysOKForValidSettingsWithoutStarting(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "not-yet.db")
	config := writeFile(t, dir, "quotesd.conf", "db = \""+db+"\"  # a comment\ntz = Europe/Paris\nqotd-mode = random\n")
	t.Setenv("QUOTESD_WEB_RATE", "60")
	out, errOut, code := cli(t, "", "serve", "--config", config, "--check-config", "--state-dir", filepath.Join(dir, "state"))
	if code != 0 || out != "ok\n" || errOut != "" {
		t.Fatalf("serve --check-config: exit %d, stdout %q, stderr %q; want 0 and \"ok\"", code, out, errOut)
	}
	for _, p := range []string{db, filepath.Join(dir, "state")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("--check-config made %s: it must not start anything", p)
		}
	}
}

func TestCheckConfig_ReportsEveryMistakeWithExit2(t *testing.T) {
	dir := t.TempDir()
	config := writeFile(t, dir, "quotesd.conf", "qotd-mdoe = random\nweb-rate = lots\n")
	errOut := cliFail(t, 2, "", "serve", "--config", config, "--check-config")
	for _, want := range []string{
		config + `:1: unknown setting "qotd-mdoe": did you mean qotd-mode?`,
		config + `:2: invalid value "lots" for web-rate: want a whole number`,
	} {
		wantContains(t, "stderr", errOut, want)
	}
	good := writeFile(t, dir, "good.conf", "tz = Mars/Olympus\nsmtp-domain = example.org\nsmtp-relay = relay.example.org:587\nsmtp-direct-mx = true\n")
	errOut = cliFail(t, 2, "", "serve", "--config", good, "--check-config")
	for _, want := range []string{`--tz: unknown time zone "Mars/Olympus"`, "--smtp-relay and --smtp-direct-mx both set"} {
		wantContains(t, "stderr", errOut, want)
	}
	t.Setenv("QUOTESD_QOTD_MAX_CONNS", "-1")
	wantContains(t, "stderr", cliFail(t, 2, "", "serve", "--check-config"), "--qotd-max-conns -1")
}

// A rate limit shared through the database needs a database that
// replicas share: a SQLite file is each replica's own.
func TestCheckConfig_SharedWebRateNeedsPostgreSQL(t *testing.T) {
	wantContains(t, "stderr", cliFail(t, 2, "", "serve", "--db", "quotes.db", "--web-rate-shared", "--check-config"),
		`--web-rate-shared needs a PostgreSQL database: --db postgres://... (it is "quotes.db")`)
	t.Setenv("QUOTESD_WEB_RATE_SHARED", "true")
	out, errOut, code := cli(t, "", "serve", "--db", "postgres://quotesd@127.0.0.1/quotesd", "--check-config")
	if code != 0 || out != "ok\n" {
		t.Fatalf("serve --db postgres://... --check-config with QUOTESD_WEB_RATE_SHARED: exit %d, stdout %q, stderr %q; want 0 and \"ok\"", code, out, errOut)
	}
}

// The settings file takes db and tz, which the other commands take as
// global flags, with the same precedence as every other setting.
func TestServeSettings_DBAndTZAreSettingsOfServe(t *testing.T) {
	config := writeFile(t, t.TempDir(), "quotesd.conf", "db = \"/srv/quotes.db\"\ntz = Europe/Paris\n")
	ss, err := loadServe([]string{"--config", config})
	if err != nil {
		t.Fatal(err)
	}
	if ss.serve.DB != "/srv/quotes.db" || ss.serve.TZ != "Europe/Paris" {
		t.Errorf("db %q, tz %q; want the file's", ss.serve.DB, ss.serve.TZ)
	}
	t.Setenv("QUOTESD_TZ", "UTC")
	if ss, err = loadServe([]string{"--config", config, "--db", "mine.db"}); err != nil {
		t.Fatal(err)
	}
	if ss.serve.DB != "mine.db" || ss.serve.TZ != "UTC" {
		t.Errorf("db %q, tz %q; want the flag's and the environment's", ss.serve.DB, ss.serve.TZ)
	}
	if st := ss.set.Lookup("db"); st.Live {
		t.Error("db is live: the library a reload reopens is the one opened at start")
	}
}

// A reload that changes db or tz in the settings file keeps the library
// and the calendar of the start, and says so at WARN.
func TestServeSettings_DBAndTZNeedARestart(t *testing.T) {
	h := startForReload(t, "qotd", `qotd-addr = "127.0.0.1:0"`)
	db := h.r.g.DB
	recs := h.reload(`db = "/elsewhere/quotes.db"`, `tz = "Europe/Paris"`)
	for _, name := range []string{"db", "tz"} {
		if findSetting(recs, name) != "reload: this setting needs a restart; the value in force stays" || levelOf(recs, name) != "WARN" {
			t.Errorf("changing %s: records %v, want a WARN that it needs a restart", name, recs)
		}
	}
	if in := h.r.inForce.serve; in.DB == "/elsewhere/quotes.db" || in.TZ == "Europe/Paris" || h.r.g.DB != db {
		t.Errorf("after the reload: settings db %q tz %q, library %q; want those of the start (library %q)", in.DB, in.TZ, h.r.g.DB, db)
	}
}
