package quotesd_test

// NOTICE cannot drift from what the binary links: every module compiled
// into cmd/quotesd is listed with the licence its LICENSE file holds, no
// module is listed that is not compiled in, and the licence and NOTICE
// texts that the licences ask a binary distribution to carry are there.

import (
	"bufio"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestNotice_ListsEveryModuleCompiledIntoTheBinary(t *testing.T) {
	notice := readNotice(t)
	listed := noticeModules(t, notice)
	compiled := compiledModules(t)
	words := licenceWords(notice)
	for _, path := range slices.Sorted(maps.Keys(compiled)) {
		dir := compiled[path]
		want, ok := listed[path]
		if !ok {
			t.Errorf("NOTICE, part 2, does not list %s, which cmd/quotesd compiles in: add it with its licence, and its licence text to part 4", path)
			continue
		}
		file, text := moduleLicence(t, dir)
		if text == "" {
			t.Errorf("%s has no LICENSE file in %s: judge its licence by hand", path, dir)
			continue
		}
		if got := identifyLicence(text); got != want {
			t.Errorf("NOTICE lists %s as %s, but %s reads as %q: judge it again", path, want, file, got)
		}
		if !strings.Contains(words, licenceWords(text)) {
			t.Errorf("NOTICE, part 4, lacks the text of %s", file)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "NOTICE")); err == nil && !strings.Contains(words, licenceWords(string(b))) {
			t.Errorf("NOTICE, part 3, lacks the NOTICE file of %s (%s)", path, filepath.Join(dir, "NOTICE"))
		}
	}
	for _, path := range slices.Sorted(maps.Keys(listed)) {
		if _, ok := compiled[path]; !ok {
			t.Errorf("NOTICE lists %s, which cmd/quotesd no longer compiles in: remove it and its texts", path)
		}
	}
}

// The Go standard library and runtime are in every binary: their licence
// is reproduced too.
func TestNotice_HoldsTheGoLicence(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	file := filepath.Join(strings.TrimSpace(string(out)), "LICENSE")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(licenceWords(readNotice(t)), licenceWords(string(b))) {
		t.Errorf("NOTICE lacks the text of %s", file)
	}
}

func readNotice(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("NOTICE")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noticeModules returns the modules of NOTICE's part 2 table, each with
// its licence: the rows indented by two spaces whose first field is a
// module path.
func noticeModules(t *testing.T, notice string) map[string]string {
	t.Helper()
	_, part, ok := strings.Cut(notice, "\n2. Code compiled into the quotesd binary\n")
	if !ok {
		t.Fatal("NOTICE has no part 2, \"Code compiled into the quotesd binary\"")
	}
	part, _, _ = strings.Cut(part, "\n3. ")
	row := regexp.MustCompile(`^  ([a-z0-9.-]+\.[a-z]+/\S+)\s+(\S+)\s`)
	listed := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(part))
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			listed[m[1]] = m[2]
		}
	}
	if len(listed) == 0 {
		t.Fatal("NOTICE's part 2 lists no module")
	}
	return listed
}

// compiledModules returns the path and directory of every module but
// quotesd's own that has a package compiled into cmd/quotesd.
func compiledModules(t *testing.T) map[string]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Dir}}{{end}}{{end}}", "./cmd/quotesd")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/quotesd: %v", err)
	}
	mods := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if path, dir, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok {
			mods[path] = dir
		}
	}
	if len(mods) == 0 {
		t.Fatal("go list -deps ./cmd/quotesd: no module besides quotesd")
	}
	return mods
}

// moduleLicence returns the path and text of the licence file at the root
// of a module (LICENSE, LICENSE.txt, LICENCE.md...); "" if there is none.
func moduleLicence(t *testing.T, dir string) (file, text string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := strings.ToUpper(e.Name()); strings.HasPrefix(n, "LICENSE") || strings.HasPrefix(n, "LICENCE") {
			file = filepath.Join(dir, e.Name())
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			return file, string(b)
		}
	}
	return "", ""
}

// identifyLicence names the licence of text by SPDX identifier, for the
// licences NOTICE has met; "" for any other, to be judged by a person.
func identifyLicence(text string) string {
	switch {
	case strings.Contains(text, "Apache License") && strings.Contains(text, "Version 2.0"):
		return "Apache-2.0"
	case strings.Contains(text, "Redistribution and use in source and binary forms"):
		if strings.Contains(text, "Neither the name") {
			return "BSD-3-Clause"
		}
		return "BSD-2-Clause"
	case strings.Contains(text, "Permission is hereby granted, free of charge"):
		return "MIT"
	}
	return ""
}

// word is what licenceWords keeps: runs of two or more letters or digits,
// so that line breaks, punctuation and list markers ("(a)", "*") do not
// tell two copies of one text apart.
var word = regexp.MustCompile(`[\p{L}\p{N}]{2,}`)

// licenceWords returns the words of text, space-separated and framed by
// spaces, so that one text's words can be looked for in another's.
func licenceWords(text string) string {
	return " " + strings.Join(word.FindAllString(text, -1), " ") + " "
}
