package buildinfo_test

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quotesd/quotesd/ops/buildinfo"
)

const rev = "0123456789abcdef0123456789abcdef01234567"

// vcs returns the settings the go command records for a build in a git
// checkout with -buildvcs=true.
func vcs(modified bool) []debug.BuildSetting {
	m := "false"
	if modified {
		m = "true"
	}
	return []debug.BuildSetting{
		{Key: "-buildmode", Value: "exe"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: rev},
		{Key: "vcs.time", Value: "2026-12-07T12:00:00Z"},
		{Key: "vcs.modified", Value: m},
	}
}

func TestFrom_Builds(t *testing.T) {
	for _, tt := range []struct {
		name    string
		bi      *debug.BuildInfo
		ldflags string
		want    buildinfo.Info
	}{
		{"PlainBuildWithoutVCSIsDevelAndUnknown", // go build with quotesd's GOFLAGS (-buildvcs=false)
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "quotesd", Version: "(devel)"}}, "",
			buildinfo.Info{Version: "devel", Commit: "unknown", GoVersion: "go1.26.8"}},
		{"LdflagsVersionWins",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "quotesd", Version: "v0.0.9"}, Settings: vcs(false)}, "v0.1.0",
			buildinfo.Info{Version: "v0.1.0", Commit: "0123456789ab", GoVersion: "go1.26.8"}},
		{"GoInstallAtVersionUsesTheModuleVersion", // go install github.com/quotesd/quotesd/cmd/quotesd@v0.1.0: no VCS settings
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "quotesd", Version: "v0.1.0", Sum: "h1:x"}}, "",
			buildinfo.Info{Version: "v0.1.0", Commit: "unknown", GoVersion: "go1.26.8"}},
		{"TaggedCheckoutUsesTheTag", // go build -buildvcs=true at a tag
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "quotesd", Version: "v0.1.0"}, Settings: vcs(false)}, "",
			buildinfo.Info{Version: "v0.1.0", Commit: "0123456789ab", GoVersion: "go1.26.8"}},
		{"DirtyTreeSaysSo",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "quotesd", Version: "v0.1.1-0.20261207120000-0123456789ab+dirty"}, Settings: vcs(true)}, "",
			buildinfo.Info{Version: "v0.1.1-0.20261207120000-0123456789ab+dirty", Commit: "0123456789ab+dirty", GoVersion: "go1.26.8"}},
		{"VCSWithoutAVersionIsDevelWithItsCommit",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "quotesd", Version: "(devel)"}, Settings: vcs(false)}, "",
			buildinfo.Info{Version: "devel", Commit: "0123456789ab", GoVersion: "go1.26.8"}},
		{"NoBuildInfoIsDevelUnknownAndThisGo",
			nil, "",
			buildinfo.Info{Version: "devel", Commit: "unknown", GoVersion: runtime.Version()}},
		{"NoBuildInfoKeepsTheLdflagsVersion",
			nil, "v0.1.0",
			buildinfo.Info{Version: "v0.1.0", Commit: "unknown", GoVersion: runtime.Version()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildinfo.From(tt.bi, tt.ldflags); got != tt.want {
				t.Errorf("From = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A test binary has build information too: its own Go version, and no
// version of its own.
func TestRead_TheRunningBinary(t *testing.T) {
	got := buildinfo.Read("")
	if got.GoVersion != runtime.Version() || got.Version == "" || got.Commit == "" {
		t.Errorf("Read(\"\") = %+v, want this Go (%s) and a version and commit, if only devel and unknown", got, runtime.Version())
	}
	if got := buildinfo.Read("v9.9.9"); got.Version != "v9.9.9" {
		t.Errorf("Read(\"v9.9.9\").Version = %q, want the -X value", got.Version)
	}
}

func TestRegister_BuildInfoGaugeIsOneWithTheLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	i := buildinfo.Info{Version: "v0.1.0", Commit: "0123456789ab+dirty", GoVersion: "go1.26.8"}
	buildinfo.Register(reg, i)
	buildinfo.Register(reg, i) // a second registration is harmless
	want := `# HELP quotesd_build_info Which quotesd this is, in its labels: the version, the commit it was built from and the Go release that built it; always 1.
# TYPE quotesd_build_info gauge
quotesd_build_info{commit="0123456789ab+dirty",goversion="go1.26.8",version="v0.1.0"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	buildinfo.Register(nil, i) // registers nothing, and does not panic
}

func TestInfo_LogAttrs(t *testing.T) {
	i := buildinfo.Info{Version: "v0.1.0", Commit: "unknown", GoVersion: "go1.26.8"}
	got := i.LogAttrs()
	want := []any{"version", "v0.1.0", "commit", "unknown", "goversion", "go1.26.8"}
	if len(got) != len(want) {
		t.Fatalf("LogAttrs = %v, want %v", got, want)
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("LogAttrs = %v, want %v", got, want)
		}
	}
}
