package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeSettings_PrecedenceIsFileThenEnvThenCommandLine(t *testing.T) {
	config := filepath.Join(t.TempDir(), "quotesd.conf")
	text := "# comment\n\nlog-level = warn\nlog-format = json\nqotd-mode = random\nqotd-addr = \"\"\n"
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QUOTESD_LOG_FORMAT", "text")
	o, got, err := parseServe([]string{"--config", config, "--log-level", "debug"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != text {
		t.Errorf("config text = %q, want the file's %q", got, text)
	}
	if o.logLevel != "debug" {
		t.Errorf("log-level = %q, want the command line's debug", o.logLevel)
	}
	if o.logFormat != "text" {
		t.Errorf("log-format = %q, want the environment's text", o.logFormat)
	}
	if qotdFlags.mode != "random" {
		t.Errorf("qotd-mode = %q, want the file's random", qotdFlags.mode)
	}
	if qotdFlags.addr != "" {
		t.Errorf(`qotd-addr = %q, want "" (quoted empty value in the file)`, qotdFlags.addr)
	}
}

func TestServeSettings_FileErrorsNameFileAndLine(t *testing.T) {
	tests := []struct{ text, want string }{
		{"qotd-mode daily\n", ":1: want 'flag = value'"},
		{"\nno-such-flag = 1\n", `:2: unknown setting "no-such-flag"`},
		{"config = other.conf\n", `:1: unknown setting "config"`},
		{"qotd-max-conns = many\n", `:1: invalid value "many" for qotd-max-conns`},
		{"qotd-addr = \"unterminated\n", ":1: malformed quoted value"},
	}
	for _, tt := range tests {
		config := filepath.Join(t.TempDir(), "bad.conf")
		if err := os.WriteFile(config, []byte(tt.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := parseServe([]string{"--config", config}, nil)
		if err == nil || !strings.Contains(err.Error(), config+tt.want) {
			t.Errorf("settings %q: err = %v, want one containing %q", tt.text, err, config+tt.want)
		}
	}
}

func TestServeSettings_MissingConfigFileIsAnError(t *testing.T) {
	_, _, err := parseServe([]string{"--config", filepath.Join(t.TempDir(), "absent.conf")}, nil)
	if err == nil || !strings.Contains(err.Error(), "absent.conf") {
		t.Errorf("err = %v, want one naming the missing file", err)
	}
}

func TestServeSettings_DefaultStateDirFollowsSystemd(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "/var/lib/quotesd:/var/lib/other")
	if got := defaultStateDir(); got != "/var/lib/quotesd" {
		t.Errorf("defaultStateDir() = %q, want the first of $STATE_DIRECTORY", got)
	}
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("XDG_STATE_HOME", "/home/u/.state")
	if got := defaultStateDir(); got != "/home/u/.state/quotesd" {
		t.Errorf("defaultStateDir() = %q, want $XDG_STATE_HOME/quotesd", got)
	}
}
