package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/quotesd/quotesd/ops/buildinfo"
)

// version is the release, when the build sets it:
// go build -ldflags "-X main.version=v0.1.0". It wins over the module's
// version; see buildinfo.Info.Version.
var version string

// build is which quotesd this is: `quotesd version`, serve's start-up
// log line and the quotesd_build_info metric say it.
var build = buildinfo.Read(version)

func init() {
	subcommands["version"] = &subcommand{
		summary: "print the version, the commit and the Go release (also: quotesd --version)",
		run: func(ctx context.Context, g *globals, args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			_, err := fmt.Fprintln(g.Stdout, versionLine(build))
			return err
		},
	}
}

// versionLine is what `quotesd version` prints:
// "quotesd v0.1.0 (commit 0123456789ab, go1.26.8 linux/amd64)".
func versionLine(b buildinfo.Info) string {
	return fmt.Sprintf("quotesd %s (commit %s, %s %s/%s)", b.Version, b.Commit, b.GoVersion, runtime.GOOS, runtime.GOARCH)
}

// isVersionFlag reports whether arg asks for the version as a flag, as
// `quotesd --version` does: the habit of most commands, taken as the
// version command.
func isVersionFlag(arg string) bool {
	return arg == "--version" || arg == "-version"
}
