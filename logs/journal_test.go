package logs

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJournalHandler_PrefixesEachLineWithItsPriority(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			h, err := JournalHandler(&buf, format, slog.LevelDebug)
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(h).With("frontend", "web").WithGroup("g")
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			log.Error("e")
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			want := []string{"<7>", "<6>", "<4>", "<3>"}
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
			}
			for i, l := range lines {
				rest, ok := strings.CutPrefix(l, want[i])
				if !ok || strings.HasPrefix(rest, "<") {
					t.Errorf("line %q, want it to start with one %s", l, want[i])
				}
				if !strings.Contains(rest, "frontend") {
					t.Errorf("line %q lost the attributes of With", l)
				}
				if format == "json" && !json.Valid([]byte(rest)) {
					t.Errorf("after its prefix, %q is not JSON", rest)
				}
			}
		})
	}
}

func TestOnJournal_OnlyTheFileJournalStreamNames(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other, err := os.Create(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	id, ok := fileID(f)
	if !ok {
		t.Skip("no device and inode numbers on this system")
	}
	t.Setenv("JOURNAL_STREAM", "")
	if OnJournal(f) {
		t.Error("on the journal with JOURNAL_STREAM empty")
	}
	t.Setenv("JOURNAL_STREAM", id)
	if !OnJournal(f) {
		t.Errorf("not on the journal with JOURNAL_STREAM=%s, the file's own", id)
	}
	if OnJournal(other) {
		t.Error("another file is taken for the journal (stderr redirected elsewhere)")
	}
	if OnJournal(&bytes.Buffer{}) {
		t.Error("a buffer is taken for the journal")
	}
}
