package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/settings"
)

const sampleFile = "../../contrib/quotesd.conf"

// contrib/quotesd.conf is what `quotesd serve --sample-config` prints: it
// cannot fall behind the settings.
func TestSampleConfig_IsWhatServePrints(t *testing.T) {
	want, errOut, code := cli(t, "", "serve", "--sample-config")
	if code != 0 {
		t.Fatalf("serve --sample-config: exit %d: %s", code, errOut)
	}
	got, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from 'quotesd serve --sample-config': run 'go generate ./cmd/quotesd'", sampleFile)
	}
}

// The sample holds every setting a settings file may hold, as a commented
// line at its default; loaded as it is, it changes nothing, and loaded
// with every line uncommented, it sets every setting to its default.
func TestSampleConfig_ParsesAndEveryLineIsTheDefault(t *testing.T) {
	text, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range os.Environ() {
		if name, _, _ := strings.Cut(k, "="); strings.HasPrefix(name, "QUOTESD_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	ss, err := loadServe([]string{"--config", sampleFile})
	if err != nil {
		t.Fatalf("loading %s: %v", sampleFile, err)
	}
	for _, st := range ss.set.Settings() {
		if st.Source != settings.FromDefault && st.Name != "config" {
			t.Errorf("%s as it is sets %s", sampleFile, st.Name)
		}
	}

	uncommented := regexp.MustCompile(`(?m)^#([a-z0-9-]+ = )`).ReplaceAllString(string(text), "$1")
	path := filepath.Join(t.TempDir(), "quotesd.conf")
	if err := os.WriteFile(path, []byte(uncommented), 0o600); err != nil {
		t.Fatal(err)
	}
	if ss, err = loadServe([]string{"--config", path, "--check-config"}); err != nil {
		t.Fatalf("loading %s uncommented: %v", sampleFile, err)
	}
	for _, st := range ss.set.Settings() {
		if st.Secret || st.Name == "config" {
			wantContains(t, sampleFile, string(text), st.Name) // named, by its -file setting
			continue
		}
		want := st.Default
		if st.Computed != "" {
			want = st.Example
		}
		if st.Source != settings.FromFile || st.Value() != want {
			t.Errorf("%s uncommented: %s = %q from %s, want its default %q from the file", sampleFile, st.Name, st.Value(), st.Source, want)
		}
	}
}
