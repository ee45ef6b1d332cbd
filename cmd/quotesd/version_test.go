package main

import (
	"regexp"
	"runtime"
	"testing"
)

// versionFormat is the one line `quotesd version` prints.
var versionFormat = regexp.MustCompile(`^quotesd (\S+) \(commit (\S+), (go\S+) ([a-z0-9]+/[a-z0-9]+)\)\n$`)

func TestVersion_FlagAndCommandPrintVersionCommitAndGo(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out := cliOK(t, args...)
		m := versionFormat.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("quotesd %s = %q, want %s", args[0], out, versionFormat)
			continue
		}
		if m[1] != build.Version || m[2] != build.Commit || m[3] != runtime.Version() || m[4] != runtime.GOOS+"/"+runtime.GOARCH {
			t.Errorf("quotesd %s = %q, want version %s, commit %s, %s %s/%s", args[0], out, build.Version, build.Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		}
	}
}

func TestVersion_TakesNoArguments(t *testing.T) {
	wantContains(t, "stderr", cliFail(t, 2, "", "version", "now"), "version takes no arguments")
	wantContains(t, "stderr", cliFail(t, 2, "", "--version", "now"), "version takes no arguments")
}

// The help's first line names the version too.
func TestVersion_HelpNamesIt(t *testing.T) {
	wantContains(t, "quotesd help", cliOK(t, "help"), "quotesd "+build.Version+": ")
}
