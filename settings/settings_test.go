package settings_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/settings"
)

// demo is a Config as a frontend package writes one.
type demo struct {
	Addr     string
	Mode     string
	MaxConns int
	Rate     float64
	Timeout  time.Duration
	ASCII    bool
	Token    string
}

func (d *demo) Declare(s *settings.Set) {
	s.String(&d.Addr, "demo-addr", ":1717", "`address` to listen on")
	s.String(&d.Mode, "demo-mode", "daily", "daily or random", settings.Live, settings.Example("random"))
	s.Int(&d.MaxConns, "demo-max-conns", 1024, "most connections at once; 0: no cap", settings.Live)
	s.Float(&d.Rate, "demo-rate", 1.5, "most per second", settings.Live)
	s.Duration(&d.Timeout, "demo-timeout", 5*time.Second, "write timeout")
	s.Bool(&d.ASCII, "demo-ascii", false, "ASCII only", settings.Live)
	s.Secret(&d.Token, "demo-token", "the admin token", settings.Live)
	var config string
	s.String(&config, "config", "", "settings `file`")
}

func (d *demo) Validate() error {
	if d.Mode != "daily" && d.Mode != "random" {
		return errors.New("invalid --demo-mode")
	}
	return nil
}

func load(t *testing.T, env map[string]string, files map[string]string, args ...string) (*demo, *settings.Set) {
	t.Helper()
	var d *demo
	s, err := settings.Load("test", func(s *settings.Set) { d = &demo{}; d.Declare(s) }, settings.Sources{
		Args:          args,
		LookupEnv:     func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ReadFile:      func(p string) ([]byte, error) { return readMap(files, p) },
		ConfigSetting: "config",
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, s
}

func readMap(files map[string]string, p string) ([]byte, error) {
	v, ok := files[p]
	if !ok {
		return nil, os.ErrNotExist
	}
	return []byte(v), nil
}

func TestLoad_DefaultsWhenNothingIsSet(t *testing.T) {
	d, s := load(t, nil, nil)
	want := demo{Addr: ":1717", Mode: "daily", MaxConns: 1024, Rate: 1.5, Timeout: 5 * time.Second}
	if *d != want {
		t.Errorf("got %+v, want %+v", *d, want)
	}
	for _, st := range s.Settings() {
		if st.Source != settings.FromDefault {
			t.Errorf("%s comes from %s, want default", st.Name, st.Source)
		}
	}
}

func TestLoad_FlagsBeatTheEnvironmentWhichBeatsTheFile(t *testing.T) {
	files := map[string]string{"q.conf": "# a comment\n\ndemo-mode = random\ndemo-max-conns = 7\ndemo-rate = 3\ndemo-addr = \"\"\n"}
	env := map[string]string{"QUOTESD_DEMO_MAX_CONNS": "8", "QUOTESD_DEMO_RATE": "4", "QUOTESD_CONFIG": "q.conf"}
	d, s := load(t, env, files, "--demo-rate", "5")
	if d.Mode != "random" || d.MaxConns != 8 || d.Rate != 5 || d.Addr != "" {
		t.Errorf("got %+v, want mode from the file, max-conns from the environment, rate from the flag, addr emptied by the file", *d)
	}
	for name, want := range map[string]string{"demo-mode": "file q.conf:3", "demo-max-conns": "environment QUOTESD_DEMO_MAX_CONNS", "demo-rate": "flag", "demo-timeout": "default"} {
		st := s.Lookup(name)
		if got := strings.TrimSpace(string(st.Source) + " " + st.Origin); got != want {
			t.Errorf("%s comes from %q, want %q", name, got, want)
		}
	}
}

func TestLoad_ErrorsNameTheFileLineAndSetting(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
		usage            bool
	}{
		{"unknown setting", "nope = 1\n", "q.conf:1: unknown setting \"nope\"", true},
		{"bad value", "\ndemo-max-conns = many\n", "q.conf:2: invalid value \"many\" for demo-max-conns", true},
		{"no equals sign", "demo-mode random\n", "q.conf:1: want 'setting = value'", true},
		{"a secret in the file", "demo-token = hunter2\n", "demo-token is a secret", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := settings.Load("test", func(s *settings.Set) { (&demo{}).Declare(s) }, settings.Sources{
				Args:          []string{"--config", "q.conf"},
				LookupEnv:     func(string) (string, bool) { return "", false },
				ReadFile:      func(p string) ([]byte, error) { return []byte(tc.file), nil },
				ConfigSetting: "config",
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			var ue *settings.UsageError
			if errors.As(err, &ue) != tc.usage {
				t.Errorf("usage error = %v, want %v", !tc.usage, tc.usage)
			}
		})
	}
}

func TestLoad_HelpIsFlagErrHelp(t *testing.T) {
	_, err := settings.Load("test", func(s *settings.Set) { (&demo{}).Declare(s) }, settings.Sources{Args: []string{"-h"}, LookupEnv: func(string) (string, bool) { return "", false }})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
}

func TestSecret_IsReadFromItsFileOrTheEnvironmentNeverAFlag(t *testing.T) {
	d, s := load(t, map[string]string{"QUOTESD_DEMO_TOKEN": "from-env"}, nil)
	if d.Token != "from-env" || s.Lookup("demo-token").Source != settings.FromEnv {
		t.Errorf("token %q from %s, want the environment's", d.Token, s.Lookup("demo-token").Source)
	}
	d, _ = load(t, map[string]string{"QUOTESD_DEMO_TOKEN": "from-env"}, map[string]string{"tok": "from-file\n"}, "--demo-token-file", "tok")
	if d.Token != "from-file" {
		t.Errorf("token %q, want the file's, without its newline", d.Token)
	}
	if s.FlagSet().Lookup("demo-token") != nil {
		t.Error("the secret itself is a flag")
	}
	for _, bad := range []string{"", "\n", "two\nlines\n"} {
		_, err := settings.Load("test", func(s *settings.Set) { (&demo{}).Declare(s) }, settings.Sources{
			Args:      []string{"--demo-token-file", "tok"},
			LookupEnv: func(string) (string, bool) { return "", false },
			ReadFile:  func(string) ([]byte, error) { return []byte(bad), nil },
		})
		if err == nil || !strings.Contains(err.Error(), "--demo-token-file tok") {
			t.Errorf("token file %q: err = %v, want one naming the flag and the file", bad, err)
		}
	}
}

func TestSecret_IsRedactedInPrintAndDiff(t *testing.T) {
	_, old := load(t, map[string]string{"QUOTESD_DEMO_TOKEN": "hunter2"}, nil)
	_, next := load(t, map[string]string{"QUOTESD_DEMO_TOKEN": "hunter3"}, nil)
	var b strings.Builder
	if err := old.Print(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "demo-token") {
		t.Errorf("print shows the secret or not its name:\n%s", b.String())
	}
	cs := settings.Diff(old, next)
	if len(cs) != 1 || cs[0].Name != "demo-token" || strings.Contains(cs[0].Old+cs[0].New, "hunter") {
		t.Errorf("diff = %+v, want the token's change, redacted", cs)
	}
}

func TestPrint_IsASettingsFileThatLoadsBackTheSame(t *testing.T) {
	d, s := load(t, map[string]string{"QUOTESD_DEMO_MODE": "random"}, nil, "--demo-addr", "127.0.0.1:17", "--demo-ascii")
	var b strings.Builder
	if err := s.Print(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	oneSpace := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{`demo-mode = "random" # environment QUOTESD_DEMO_MODE, live`, `demo-addr = "127.0.0.1:17" # flag`, `demo-timeout = "5s" # default`} {
		if !strings.Contains(oneSpace, want) {
			t.Errorf("print lacks %q:\n%s", want, text)
		}
	}
	path := filepath.Join(t.TempDir(), "printed.conf")
	back, _ := load(t, nil, map[string]string{path: regexp.MustCompile(`(?m)^config .*$`).ReplaceAllString(text, "")}, "--config", path)
	if *back != *d {
		t.Errorf("loaded back %+v, want %+v", *back, *d)
	}
}

func TestHelp_SaysLiveFromTheDeclaration(t *testing.T) {
	_, s := load(t, nil, nil)
	for _, st := range s.Settings() {
		if st.Secret {
			continue
		}
		usage := s.FlagSet().Lookup(st.Name).Usage
		if strings.HasSuffix(usage, "(live)") != st.Live {
			t.Errorf("--%s help %q, live %v", st.Name, usage, st.Live)
		}
	}
}

func TestRetain_KeepsTheRestartOnlySettingsInForce(t *testing.T) {
	_, cur := load(t, nil, nil)
	next, nextSet := load(t, nil, nil, "--demo-mode", "random", "--demo-addr", ":17", "--demo-max-conns", "0", "--demo-timeout", "1s")
	live := map[string]bool{}
	for _, c := range settings.Diff(cur, nextSet) {
		live[c.Name] = c.Live
	}
	want := map[string]bool{"demo-mode": true, "demo-addr": false, "demo-max-conns": true, "demo-timeout": false}
	if len(live) != len(want) {
		t.Errorf("changes %v, want %v", live, want)
	}
	for n, l := range want {
		if got, ok := live[n]; !ok || got != l {
			t.Errorf("change of %s: live %v (listed %v), want live %v", n, got, ok, l)
		}
	}
	if err := nextSet.Retain(cur); err != nil {
		t.Fatal(err)
	}
	if next.Mode != "random" || next.MaxConns != 0 || next.Addr != ":1717" || next.Timeout != 5*time.Second {
		t.Errorf("after retain: %+v, want the new mode and cap, the address and timeout in force", *next)
	}
	if cs := settings.Diff(cur, nextSet); len(cs) != 2 {
		t.Errorf("after retain, changes %+v, want the two live ones", cs)
	}
}

// A settings file is checked whole: every bad line is reported, not only
// the first, and a misspelt name gets the closest setting's.
func TestLoad_FileErrorsListEveryBadLine(t *testing.T) {
	_, err := settings.Load("test", func(s *settings.Set) { (&demo{}).Declare(s) }, settings.Sources{
		Args:      []string{"--config", "q.conf"},
		LookupEnv: func(string) (string, bool) { return "", false },
		ReadFile: func(string) ([]byte, error) {
			return []byte("demo-mdoe = random\ndemo-ascii = true\ndemo-max-conns = many\n"), nil
		},
		ConfigSetting: "config",
	})
	for _, want := range []string{`q.conf:1: unknown setting "demo-mdoe": did you mean demo-mode?`, `q.conf:3: invalid value "many" for demo-max-conns: want a whole number`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
}

func TestLoad_FlagMistakesAreUsageErrorsInArgs(t *testing.T) {
	_, err := settings.Load("test", func(s *settings.Set) { (&demo{}).Declare(s) }, settings.Sources{
		Args:      []string{"--demo-mod", "random"},
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	var ue *settings.UsageError
	if !errors.As(err, &ue) || !ue.InArgs || err.Error() != "unknown flag --demo-mod: did you mean --demo-mode?" {
		t.Errorf("err = %v, want a usage error in the arguments suggesting --demo-mode", err)
	}
}
