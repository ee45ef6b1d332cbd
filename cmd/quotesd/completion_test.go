package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// completionScript returns what `quotesd completion shell` prints.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	out, errOut, code := cli(t, "", "completion", shell)
	if code != 0 || errOut != "" {
		t.Fatalf("completion %s: exit %d, stderr %q", shell, code, errOut)
	}
	return out
}

// Every command and every flag of every command (serve's settings among
// them) is offered by each script: the scripts are written from the
// declarations, and this holds them to it.
func TestCompletion_EveryCommandAndFlagIsInEachScript(t *testing.T) {
	for _, shell := range shells {
		script := completionScript(t, shell)
		has := func(pattern string) bool { return regexp.MustCompile(pattern).MatchString(script) }
		for _, name := range commandNames() {
			if !has(`\b` + regexp.QuoteMeta(name) + `\b`) {
				t.Errorf("%s: no command %s", shell, name)
			}
			var fl []string
			if cmd := subcommands[name]; cmd != nil {
				for _, f := range commandFlags(cmd) {
					fl = append(fl, f.Name)
				}
			}
			for _, f := range globalFlags() {
				fl = append(fl, f.Name)
			}
			for _, f := range fl {
				if !has(offered(shell, f)) {
					t.Errorf("%s: the flag --%s of %s is not offered", shell, f, name)
				}
			}
		}
		// serve's flags are its settings: each one (but the secrets,
		// which are never flags: their -file settings are) is offered.
		for _, st := range serveSet().Settings() {
			if !st.Secret && !has(offered(shell, st.Name)) {
				t.Errorf("%s: the setting --%s of serve is not offered", shell, st.Name)
			}
		}
	}
	wantContains(t, "stderr", cliFail(t, 2, "", "completion", "powershell"), `unknown shell "powershell"`)
	wantContains(t, "stderr", cliFail(t, 2, "", "completion"), "completion takes one shell")
}

// offered is the pattern of the flag name as the script for shell offers it.
func offered(shell, name string) string {
	return map[string]string{
		"bash": `[' |]--` + regexp.QuoteMeta(name) + `[' |)]`,
		"zsh":  `'--` + regexp.QuoteMeta(name) + `[=\[]`,
		"fish": `-l ` + regexp.QuoteMeta(name) + ` `,
	}[shell]
}

// bashComplete returns what the bash script offers for the command line
// words, the last being the word being completed.
func bashComplete(t *testing.T, script, dir string, words ...string) []string {
	t.Helper()
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
	}
	prog := script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) +
		"\n_quotesd\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	cmd := exec.Command(e2eTool(t, "bash"), "--norc", "--noprofile", "-c", prog)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

func TestCompletion_BashOffersCommandsFlagsAndFiles(t *testing.T) {
	script := completionScript(t, "bash")
	dir := t.TempDir()
	for _, name := range []string{"fortunes.txt", "quotes.db"} {
		writeFile(t, dir, name, "")
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		words []string
		want  []string
	}{
		{[]string{"quotesd", "to"}, []string{"today"}},
		{[]string{"quotesd", "se"}, []string{"search", "serve"}},
		{[]string{"quotesd", "--"}, []string{"--db", "--help", "--tz"}},
		{[]string{"quotesd", "--db", "x.db", "today", "--j"}, []string{"--json"}},
		{[]string{"quotesd", "today", "--d"}, []string{"--date", "--db"}},
		{[]string{"quotesd", "serve", "--qotd-m"}, []string{"--qotd-max-conns", "--qotd-mode"}},
		{[]string{"quotesd", "import", "fo"}, []string{"fortunes.txt"}},
		{[]string{"quotesd", "today", "--db", "quo"}, []string{"quotes.db"}},
		{[]string{"quotesd", "today", "--db", "=", "quo"}, []string{"quotes.db"}},
		{[]string{"quotesd", "serve", "--state-dir", "s"}, []string{"state"}},
		{[]string{"quotesd", "today", "--date", ""}, nil},
		{[]string{"quotesd", "completion", ""}, []string{"bash", "fish", "zsh"}},
		{[]string{"quotesd", "help", "hea"}, []string{"healthcheck"}},
	} {
		got := bashComplete(t, script, dir, tt.words...)
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: bash offers %q, want %q", tt.words, got, tt.want)
		}
	}
}

func TestCompletion_FishOffersCommandsAndFlags(t *testing.T) {
	fish := e2eTool(t, "fish")
	path := writeFile(t, t.TempDir(), "quotesd.fish", completionScript(t, "fish"))
	for line, want := range map[string][]string{
		"quotesd tod":                       {"today"},
		"quotesd --db x.db today --j":       {"--json"},
		"quotesd serve --qotd-mo":           {"--qotd-mode"},
		"quotesd today --t":                 {"--tag", "--tz"},
		"quotesd completion ":               {"bash", "fish", "zsh"},
		"quotesd help healthc":              {"healthcheck"},
		"quotesd healthcheck --ur":          {"--url"},
		"quotesd serve --check-con":         {"--check-config"},
		"quotesd random --max-len 3 --auth": {"--author"},
	} {
		out, err := exec.Command(fish, "--no-config", "-c", "source "+path+"; complete -C '"+line+"'").CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if w, _, _ := strings.Cut(l, "\t"); w != "" {
				got = append(got, w)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q: fish offers %q, want %q", line, got, want)
		}
	}
}

// zsh's completion system cannot run outside an interactive shell; the
// script must at least parse and register itself with compinit.
func TestCompletion_ZshScriptLoads(t *testing.T) {
	zsh := e2eTool(t, "zsh")
	path := writeFile(t, t.TempDir(), "_quotesd", completionScript(t, "zsh"))
	if out, err := exec.Command(zsh, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	out, err := exec.Command(zsh, "-f", "-c", "autoload -Uz compinit; compinit -u -D; source "+path+"; print -r -- $_comps[quotesd]").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "_quotesd" {
		t.Errorf("zsh: %v, output %q; want the completion _quotesd registered for quotesd", err, out)
	}
}
