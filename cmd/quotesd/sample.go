package main

//go:generate sh -c "go run . serve --sample-config > ../../contrib/quotesd.conf"

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/settings"
)

// sampleHeader opens the sample settings file.
const sampleHeader = `# quotesd.conf: the settings of 'quotesd serve', every one of them, commented out
# at its default. Made by 'quotesd serve --sample-config' from the settings the
# binary declares ('go generate ./cmd/quotesd' rewrites contrib/quotesd.conf).
#
# Name this file with --config FILE or QUOTESD_CONFIG=FILE; the packages install
# it as /etc/quotesd/quotesd.conf. Uncomment a line to change its setting.
#
# One setting per line: 'setting = value', the flag's name without dashes. A value
# may be in double quotes, as in Go ("" is empty), and a quoted value may be
# followed by a # comment; an unquoted value runs to the end of the line.
#
# Values come, weakest first, from the defaults, this file, QUOTESD_<SETTING>
# variables and the command line. Settings marked (live) take a new value on
# 'systemctl reload quotesd' (SIGHUP); the others at the next restart.
# 'quotesd serve --check-config' checks the settings; 'quotesd serve
# --print-config' shows those in force and where each came from.
#
# Secrets (the admin token, passwords) are never written here: a *-file setting
# names the file that holds one, or its QUOTESD_ variable holds it.
`

// writeSampleConfig writes every setting of serve that a settings file may
// hold, commented out at its default, with its help.
func writeSampleConfig(w io.Writer) error {
	var b strings.Builder
	b.WriteString(sampleHeader)
	set := serveSet()
	titled := map[string]bool{}
	section := func(component, title string) {
		titled[component] = true
		fmt.Fprintf(&b, "\n\n## %s\n", title)
		for _, st := range set.Settings() {
			if componentOf(st.Name) == component && !st.Secret && st.Name != "config" {
				writeSampleSetting(&b, set, st)
			}
		}
	}
	for _, s := range manSections {
		section(s.component, s.title)
	}
	for _, c := range components {
		if !titled[c.name] {
			section(c.name, c.name)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSampleSetting(b *strings.Builder, set *settings.Set, st *settings.Setting) {
	_, usage := flag.UnquoteUsage(set.FlagSet().Lookup(st.Name))
	help := sentence(capitalize(strings.TrimSuffix(usage, " (live)")))
	if st.Live {
		help += " (live)"
	}
	value := st.Default
	if st.Computed != "" {
		help += " Default: " + sentence(st.Computed) + " For example:"
		value = st.Example
	}
	b.WriteString("\n")
	for _, line := range wrap(help, 78) {
		fmt.Fprintf(b, "# %s\n", line)
	}
	fmt.Fprintf(b, "#%s = %s\n", st.Name, strconv.Quote(value))
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}
