package web

import (
	"path"
	"strings"
	"testing"
)

// Templates are parsed on first use (templates in pages.go), so a broken
// one no longer stops the package from loading: this test parses every
// page's set, and checks that every page template in assets/templates has
// one.
func TestTemplates_AllParse(t *testing.T) {
	shared := map[string]bool{"layout": true, "pagination": true, "forms": true, "share": true}
	entries, err := assets.ReadDir("assets/templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), path.Ext(e.Name()))
		if shared[name] {
			continue
		}
		set, ok := templates[name]
		if !ok {
			t.Errorf("assets/templates/%s has no entry in templates", e.Name())
			continue
		}
		tmpl := set()
		if tmpl.Lookup("layout") == nil || tmpl.Lookup("content") == nil {
			t.Errorf("the set of %s lacks layout or content: %s", name, tmpl.DefinedTemplates())
		}
		if set() != tmpl {
			t.Errorf("the set of %s is parsed again on its second use", name)
		}
	}
	if len(templates) != len(entries)-len(shared) {
		t.Errorf("%d sets for %d page templates", len(templates), len(entries)-len(shared))
	}
}

// The stylesheet's version is the hash of the static files, the same on
// every call.
func TestTemplates_AssetVersionIsStable(t *testing.T) {
	v := assetVersion()
	if len(v) != 12 || v != assetVersion() {
		t.Errorf("assetVersion() = %q, then %q; want the same 12 hex digits", v, assetVersion())
	}
}
