package main

// The settings file takes --db and --tz like every other setting of serve.

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestServeE2E_SettingsFileNamesTheLibraryAndTheFlagWins(t *testing.T) {
	dir := t.TempDir()
	fromFile := writeLibrary(t, filepath.Join(dir, "file.db"), shortQuotes[1])
	fromFlag := writeLibrary(t, filepath.Join(dir, "flag.db"), shortQuotes[0])
	config := writeFile(t, dir, "quotesd.conf", "db = \""+fromFile+"\"  # the library\ntz = UTC\nqotd-addr = \"127.0.0.1:0\"\n")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"from the file", []string{"serve", "--config", config}, "Brevity is the soul of wit."},
		{"a global flag before serve wins", []string{"--db", fromFlag, "serve", "--config", config}, "Simplify, simplify."},
		{"a flag after serve wins", []string{"serve", "--config", config, "--db", fromFlag}, "Simplify, simplify."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append(tt.args, "--log-format", "json", "--state-dir", t.TempDir()), offExcept("qotd")...)
			cmd := exec.Command(quotesdBinary(t), args...)
			// Neither in the environment: the file's must count.
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
				return strings.HasPrefix(kv, "QUOTESD_DB=") || strings.HasPrefix(kv, "QUOTESD_TZ=")
			})
			s := startProcess(t, cmd, []string{"qotd"})
			if got := telnet(t, s.Addr("qotd"), ""); !strings.HasPrefix(got, tt.want) {
				t.Errorf("quotesd %s: QOTD sent %q, want the quote of that library, %q", strings.Join(tt.args, " "), got, tt.want)
			}
		})
	}
}
