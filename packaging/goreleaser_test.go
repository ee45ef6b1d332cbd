package packaging

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// nfpmPackage is the part of an nfpm configuration that both
// .goreleaser.yaml (nfpms) and packaging/nfpm.yaml hold.
type nfpmPackage struct {
	Maintainer  string `yaml:"maintainer"`
	Description string `yaml:"description"`
	License     string `yaml:"license"`
	Section     string `yaml:"section"`
	Contents    []struct {
		Src      string         `yaml:"src"`
		Dst      string         `yaml:"dst"`
		Type     string         `yaml:"type"`
		FileInfo map[string]any `yaml:"file_info"`
	} `yaml:"contents"`
	Scripts map[string]string `yaml:"scripts"`
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// The packages goreleaser makes at a release and the one the package test
// installs are the same: .goreleaser.yaml's nfpms and packaging/nfpm.yaml
// list the same contents and scripts, nfpm.yaml adding only the binary
// (goreleaser puts its build in bindir). Every source exists or is made
// by the build (build/), every unit of contrib/systemd is packaged, and
// the scripts are executable.
func TestPackaging_GoreleaserAndNfpmAgree(t *testing.T) {
	var gr struct {
		Nfpms []nfpmPackage `yaml:"nfpms"`
	}
	readYAML(t, ".goreleaser.yaml", &gr)
	var alone nfpmPackage
	readYAML(t, "packaging/nfpm.yaml", &alone)
	if len(gr.Nfpms) != 1 {
		t.Fatalf(".goreleaser.yaml: %d nfpms, want 1", len(gr.Nfpms))
	}
	rel := gr.Nfpms[0]
	if len(alone.Contents) == 0 || alone.Contents[0].Dst != "/usr/bin/quotesd" {
		t.Fatalf("packaging/nfpm.yaml: the first of contents should be the binary, /usr/bin/quotesd")
	}
	alone.Contents = alone.Contents[1:]
	if !reflect.DeepEqual(rel, alone) {
		t.Errorf(".goreleaser.yaml's nfpms and packaging/nfpm.yaml differ:\n%+v\n%+v", rel, alone)
	}

	packaged := map[string]bool{}
	for _, c := range rel.Contents {
		packaged[c.Src] = true
		if c.Src == "" || strings.HasPrefix(c.Src, "build/") {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, c.Src)); err != nil {
			t.Errorf("%s's source: %v", c.Dst, err)
		}
	}
	units, _ := filepath.Glob(filepath.Join(root, "contrib/systemd/*"))
	if len(units) == 0 {
		t.Fatal("no units in contrib/systemd")
	}
	for _, u := range units {
		if src, _ := filepath.Rel(root, u); !packaged[src] {
			t.Errorf("%s is not in the packages", src)
		}
	}
	for which, script := range rel.Scripts {
		fi, err := os.Stat(filepath.Join(root, script))
		if err != nil {
			t.Errorf("%s script: %v", which, err)
		} else if fi.Mode()&0o111 == 0 {
			t.Errorf("%s script %s: mode %v, want an executable file", which, script, fi.Mode())
		}
	}
}
