// Package buildinfo says which quotesd a binary is: its version, the
// commit it was built from and the Go release that built it, read from
// the build information the Go linker writes into every binary
// (runtime/debug.ReadBuildInfo). `quotesd version` prints it, serve logs
// it at start, and the quotesd_build_info metric carries it, so that an
// operator can tell which build answers on each host.
package buildinfo

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotesd/quotesd/ops/metric"
)

const (
	// Devel is the version of a build that has none: `go build` or
	// `go run` in a source tree without version control information
	// (quotesd's GOFLAGS say -buildvcs=false) and no -X main.version.
	Devel = "devel"
	// Unknown is the commit of a build without version control
	// information.
	Unknown = "unknown"
)

// Info is which quotesd a binary is.
type Info struct {
	// Version is the release: the version the release build set with
	// -ldflags "-X main.version=v0.1.0", else the main module's version
	// (v0.1.0 for `go install github.com/quotesd/quotesd/cmd/quotesd@v0.1.0`; for a build in
	// a git checkout with version control information, the tag at the
	// commit or a pseudo-version after it, with "+dirty" for uncommitted
	// changes), else Devel. A tagged build is never Devel.
	Version string
	// Commit is the first 12 hexadecimal digits of the commit built, with
	// "+dirty" when the tree had uncommitted changes, or Unknown.
	Commit string
	// GoVersion is the Go release that built the binary, e.g. "go1.26.8".
	GoVersion string
}

// Read returns the running binary's Info; version is the value set with
// -ldflags -X, "" when none was.
func Read(version string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return From(bi, version)
}

// From returns the Info of a binary built as bi says (nil: a binary
// without build information), with version set by -ldflags -X ("" for
// none). Read calls it; tests construct bi.
func From(bi *debug.BuildInfo, version string) Info {
	i := Info{Version: version, Commit: Unknown, GoVersion: runtime.Version()}
	if bi == nil {
		if i.Version == "" {
			i.Version = Devel
		}
		return i
	}
	if bi.GoVersion != "" {
		i.GoVersion = bi.GoVersion
	}
	if i.Version == "" {
		// "(devel)" is what the go command records for a main module
		// built from its source tree without a version it could tell.
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			i.Version = v
		} else {
			i.Version = Devel
		}
	}
	var revision, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision != "" {
		i.Commit = revision[:min(len(revision), 12)]
		if modified == "true" {
			i.Commit += "+dirty"
		}
	}
	return i
}

// LogAttrs returns i as slog key-value pairs, for serve's start-up line.
func (i Info) LogAttrs() []any {
	return []any{"version", i.Version, "commit", i.Commit, "goversion", i.GoVersion}
}

// Register registers quotesd_build_info on reg: a gauge always 1 whose
// labels are i's version, commit and goversion, the convention of
// Prometheus's own *_build_info, so that a query can join them onto any
// other series of the process. Registering the same Info again is
// harmless; a nil reg registers nothing.
func Register(reg prometheus.Registerer, i Info) {
	metric.For(reg, "").GaugeVec("build_info",
		"Which quotesd this is, in its labels: the version, the commit it was built from and the Go release that built it; always 1.",
		"version", "commit", "goversion").WithLabelValues(i.Version, i.Commit, i.GoVersion).Set(1)
}
