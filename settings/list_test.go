package settings_test

import (
	"slices"
	"testing"

	"github.com/quotesd/quotesd/settings"
)

func loadList(t *testing.T, env map[string]string, file string, args ...string) (*[]string, *settings.Set) {
	t.Helper()
	var targets []string
	files := map[string]string{}
	if file != "" {
		files["/etc/q.conf"] = file
		args = append([]string{"--config", "/etc/q.conf"}, args...)
	}
	s, err := settings.Load("test", func(s *settings.Set) {
		s.List(&targets, "demo-target", "a target, repeatable")
		var config string
		s.String(&config, "config", "", "settings `file`")
	}, settings.Sources{
		Args:          args,
		LookupEnv:     func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ReadFile:      func(p string) ([]byte, error) { return readMap(files, p) },
		ConfigSetting: "config",
	})
	if err != nil {
		t.Fatal(err)
	}
	return &targets, s
}

func TestList_RepeatedFlagsAndLinesAdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		file string
		args []string
		want []string
	}{
		{"flags", nil, "", []string{"--demo-target", "a=1", "--demo-target=b=2"}, []string{"a=1", "b=2"}},
		{"file lines", nil, "demo-target = a=1\ndemo-target = \"b=2 c=3\"\n", nil, []string{"a=1", "b=2", "c=3"}},
		{"environment, words", map[string]string{"QUOTESD_DEMO_TARGET": "a=1  b=2"}, "", nil, []string{"a=1", "b=2"}},
		{"the environment replaces the file", map[string]string{"QUOTESD_DEMO_TARGET": "e=1"}, "demo-target = f=1\n", nil, []string{"e=1"}},
		{"flags replace the file and the environment", map[string]string{"QUOTESD_DEMO_TARGET": "e=1"}, "demo-target = f=1\ndemo-target = f=2\n", []string{"--demo-target", "x=1", "--demo-target", "y=1"}, []string{"x=1", "y=1"}},
		{"the file alone stays", nil, "demo-target = f=1\n", []string{"--config", "/etc/q.conf"}, []string{"f=1"}},
		{"an empty value empties", map[string]string{"QUOTESD_DEMO_TARGET": ""}, "demo-target = f=1\n", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := loadList(t, tc.env, tc.file, tc.args...)
			if !slices.Equal(*got, tc.want) {
				t.Errorf("list = %q, want %q", *got, tc.want)
			}
		})
	}
}

// A reload keeps a restart-only list as it was at start: Keep replaces,
// never adds to, the new reading's list.
func TestList_KeepReplacesTheList(t *testing.T) {
	_, old := loadList(t, nil, "", "--demo-target", "a=1", "--demo-target", "b=2")
	got, s := loadList(t, nil, "", "--demo-target", "c=3")
	if err := s.Keep(old, func(*settings.Setting) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a=1", "b=2"}; !slices.Equal(*got, want) {
		t.Errorf("after Keep: %q, want %q", *got, want)
	}
	if v := s.Lookup("demo-target").Value(); v != "a=1 b=2" {
		t.Errorf("Value() = %q, want the words joined by a space", v)
	}
}
