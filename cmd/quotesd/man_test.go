package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/settings"
)

// manPage returns `quotesd man`, and its text with roff's escapes and font
// changes taken out, as a reader sees it.
func manPage(t *testing.T) (roffText, text string) {
	t.Helper()
	out, errOut, code := cli(t, "", "man")
	if code != 0 || errOut != "" {
		t.Fatalf("quotesd man: exit %d, stderr %q", code, errOut)
	}
	text = strings.NewReplacer(`\-`, "-", `\e`, `\`, `\&`, "", `\fB`, "", `\fI`, "", `\fR`, "", `\(dq`, `"`).Replace(out)
	return out, text
}

// The page documents every command, every flag of every command, every
// global flag and every serve setting (secrets and their variables
// included): it is written from the same declarations, and this holds it
// to them.
func TestMan_NamesEveryCommandFlagAndSetting(t *testing.T) {
	_, text := manPage(t)
	for _, name := range commandNames() {
		wantContains(t, "quotesd man", text, "\n.SS \""+name)
		if cmd := subcommands[name]; cmd != nil {
			for _, f := range commandFlags(cmd) {
				wantContains(t, "quotesd man", text, "--"+f.Name)
			}
		}
	}
	for _, f := range globalFlags() {
		wantContains(t, "quotesd man", text, "--"+f.Name+" ")
	}
	for _, st := range serveSet().Settings() {
		if st.Secret {
			wantContains(t, "quotesd man", text, "\n"+st.Name+"\n")
		} else {
			wantContains(t, "quotesd man", text, "\n--"+st.Name)
		}
		wantContains(t, "quotesd man", text, settings.EnvName(st.Name))
	}
}

// The page is the same wherever it is made: no default worked out from
// the machine (a home directory, a host name) shows in it.
func TestMan_IsTheSameOnEveryMachine(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "/first/state")
	first, _ := manPage(t)
	t.Setenv("STATE_DIRECTORY", "/second/state")
	if second, _ := manPage(t); first != second {
		t.Error("the page changes with $STATE_DIRECTORY")
	}
	if strings.Contains(first, "first/state") {
		t.Error("the page shows the machine's state directory")
	}
	if ds := smtpfe.DefaultDomains(); ds != "localhost" && strings.Contains(first, ds) {
		t.Errorf("the page shows this host's mail domains %q", ds)
	}
}

// mandoc and groff find nothing wrong with the roff.
func TestMan_LintsClean(t *testing.T) {
	page, _ := manPage(t)
	cmd := exec.Command(e2eTool(t, "mandoc"), "-T", "lint", "-W", "warning")
	cmd.Stdin = strings.NewReader(page)
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// Only a build that recorded its commit knows the page's date.
		if line != "" && !strings.Contains(line, "missing date") {
			t.Errorf("mandoc: %s", line)
		}
	}
	cmd = exec.Command(e2eTool(t, "groff"), "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff: %v\n%s", err, stderr.String())
	}
}
