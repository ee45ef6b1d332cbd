package logs

import (
	"github.com/quotesd/quotesd/logs/logstest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countedLog is a logBuffer that also counts the writes reaching it: what
// the log's file sees, write by write.
type countedLog struct {
	logBuffer
	writes atomic.Int64
}

func (c *countedLog) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.logBuffer.Write(p)
}

func TestLogOutput_BatchedRecordsAreWrittenTogetherOnFlush(t *testing.T) {
	var file countedLog
	out := NewOutput(&file)
	for i := range 3 {
		out.Batched().Write([]byte("access " + string(rune('a'+i)) + "\n"))
	}
	if got := file.String(); got != "" {
		t.Fatalf("before the flush the file holds %q, want nothing yet", got)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := file.String(), "access a\naccess b\naccess c\n"; got != want {
		t.Errorf("after Flush the file holds %q, want %q", got, want)
	}
	if got := file.writes.Load(); got != 1 {
		t.Errorf("the batch took %d writes, want 1", got)
	}
}

func TestLogOutput_DirectRecordFollowsTheBatchBeforeIt(t *testing.T) {
	var file countedLog
	out := NewOutput(&file)
	out.Batched().Write([]byte("access 1\n"))
	out.Write([]byte("warning\n"))
	out.Batched().Write([]byte("access 2\n"))
	out.Flush()
	if got, want := file.String(), "access 1\nwarning\naccess 2\n"; got != want {
		t.Errorf("the file holds %q, want the records in the order they were logged: %q", got, want)
	}
}

func TestLogOutput_FullBatchIsWrittenAtOnce(t *testing.T) {
	var file countedLog
	out := NewOutput(&file)
	defer out.Flush()
	rec := []byte(strings.Repeat("x", 999) + "\n")
	n := batchBytes/len(rec) + 1
	for range n {
		out.Batched().Write(rec)
	}
	if got, want := len(file.String()), n*len(rec); got != want {
		t.Errorf("after %d records of %d bytes the file holds %d bytes, want all %d: a batch of %d bytes is written without waiting",
			n, len(rec), got, want, batchBytes)
	}
}

func TestLogOutput_BatchIsWrittenSoonWithoutFlush(t *testing.T) {
	var file countedLog
	out := NewOutput(&file)
	out.Batched().Write([]byte("access\n"))
	// The batch goes out batchDelay after its first record; allow the
	// machine far longer than that before calling it lost.
	for deadline := time.Now().Add(10 * time.Second); file.String() == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("a batched record was not written within 10s (batch delay %v)", batchDelay)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := file.String(); got != "access\n" {
		t.Errorf("the file holds %q, want %q", got, "access\n")
	}
}

// logBuffer collects log output from several goroutines.
type logBuffer = logstest.Buffer
