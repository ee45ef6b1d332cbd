package main

// A library file in a bad state: locked by another writer, read-only,
// corrupt, from a newer schema. Each gives a clear error or keeps serving;
// none crashes or hangs.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wantNoCrash fails if a child's stderr shows a Go panic or fatal error.
func wantNoCrash(t *testing.T, what, stderr string) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "fatal error:", "SIGSEGV"} {
		if strings.Contains(stderr, s) {
			t.Errorf("%s crashed (%q in stderr):\n%s", what, s, stderr)
		}
	}
}

// Another process holding the write lock (an import in progress, a sqlite3
// shell inside BEGIN IMMEDIATE): readers are served at once, a writer waits
// for the busy timeout and then fails saying so, changing nothing.
func TestLibrary_LockedByAnotherWriter(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	// A first write switches the library to WAL, as on any library that
	// is written while served.
	if _, stderr, code := runQuotesd(t, nil, "--db", db, "add", "--author", "Early", "Written before the lock."); code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	s := startQOTD(t, db)
	want := todaysReply(t, db, "")

	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE quotes SET author = author`); err != nil {
		t.Fatal(err)
	}

	if got := telnet(t, s.Addr("qotd"), ""); got != want {
		t.Errorf("serve while the library is locked: %q, want %q", got, want)
	}
	if stdout, stderr, code := runQuotesd(t, nil, "--db", db, "today"); code != 0 || stdout == "" {
		t.Errorf("today while the library is locked: exit %d, stderr %q; want the quote", code, stderr)
	}
	start := time.Now()
	_, stderr, code := runQuotesd(t, nil, "--db", db, "add", "--author", "Waiter", "Written while another holds the lock.")
	took := time.Since(start)
	t.Logf("add while locked, after %v: %s", took.Round(time.Millisecond), stderr)
	if code != 1 || !strings.Contains(stderr, db+" is locked") || !strings.Contains(stderr, "try again") {
		t.Errorf("add while locked: exit %d, stderr %q; want 1 and a message that %s is locked", code, stderr, db)
	}
	if took < 4*time.Second {
		t.Errorf("add gave up after %v, want it to wait for the 5 s busy timeout", took)
	}
	wantNoCrash(t, "add", stderr)

	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runQuotesd(t, nil, "--db", db, "add", "--author", "Waiter", "Written once the lock is gone."); code != 0 {
		t.Errorf("add after the lock is released: exit %d: %s", code, stderr)
	}
	if n := libraryCount(t, db); n != len(shortQuotes)+2 {
		t.Errorf("library holds %d quotes, want %d (the locked add changed nothing)", n, len(shortQuotes)+2)
	}
}

// asUnprivileged makes cmd run as nobody when the tests run as root, for
// whom file permissions do not apply; it returns the binary to run, copied
// where nobody can execute it.
func asUnprivileged(t *testing.T, dir string) (bin string, prepare func(*exec.Cmd)) {
	t.Helper()
	bin = quotesdBinary(t)
	if os.Getuid() != 0 {
		return bin, func(*exec.Cmd) {}
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "quotesd")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o005 != 0o005 {
			os.Chmod(d, st.Mode().Perm()|0o005) // temp dirs are 0700
		}
	}
	return bin, func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
}

// A library on a file the server may not write (a read-only deploy): serve
// answers from it; an import fails naming the file, and changes nothing.
func TestLibrary_ReadOnlyFileIsServedAndImportFailsClearly(t *testing.T) {
	root := t.TempDir()
	libDir := filepath.Join(root, "lib")
	if err := os.Mkdir(libDir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := writeLibrary(t, filepath.Join(libDir, "quotes.db"), shortQuotes...)
	state := filepath.Join(root, "state")
	if err := os.Mkdir(state, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(state, 0o777)
	csv := filepath.Join(root, "more.csv")
	if err := os.WriteFile(csv, []byte("text,author\nA quote that cannot be stored.,Nobody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(libDir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(libDir, 0o755) })
	bin, prepare := asUnprivileged(t, filepath.Join(root, "bin"))

	cmd := exec.Command(bin, "--db", db, "import", csv)
	prepare(cmd)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("import into a read-only library: %v, want exit 1; output %q", err, out)
	}
	t.Logf("import into a read-only library: %s", out)
	if !strings.Contains(string(out), db+" is read-only") {
		t.Errorf("import into a read-only library: %q, want a message that %s is read-only", out, db)
	}
	wantNoCrash(t, "import", string(out))

	args := append([]string{"--db", db, "serve", "--log-format", "json", "--log-level", "debug", "--qotd-addr", "127.0.0.1:0", "--state-dir", state}, offExcept("qotd")...)
	serve := exec.Command(bin, args...)
	prepare(serve)
	s := startProcess(t, serve, []string{"qotd"})
	if got, want := telnet(t, s.Addr("qotd"), ""), todaysReply(t, db, ""); got != want {
		t.Errorf("serve from a read-only library: %q, want %q", got, want)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("serve exit: %v", err)
	}
	if n := libraryCount(t, db); n != len(shortQuotes) {
		t.Errorf("read-only library now holds %d quotes, want %d", n, len(shortQuotes))
	}
	if entries, _ := os.ReadDir(libDir); len(entries) != 1 {
		t.Errorf("the read-only directory holds %d files, want only quotes.db", len(entries))
	}
}

// A corrupt library stops serve at start (exit 1) with a message naming
// the file, and every command likewise.
func TestLibrary_CorruptFileFailsAtStartNamingIt(t *testing.T) {
	dir := t.TempDir()
	good := writeLibrary(t, filepath.Join(dir, "good.db"), shortQuotes...)
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(i*7919 + i>>3)
	}
	files := map[string][]byte{
		"header-then-junk.db": append([]byte("SQLite format 3\x00"), junk...),
		"truncated.db":        goodBytes[:len(goodBytes)/2],
		"pages-overwritten.db": func() []byte {
			b := append([]byte(nil), goodBytes...)
			copy(b[4096:], junk[:min(len(junk), len(b)-4096)]) // every page after the first
			return b
		}(),
		"empty-header.db": make([]byte, 4096),
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				append([]string{"serve", "--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd")...),
				{"today"},
				{"search", "soul"},
			} {
				cmd := exec.Command(quotesdBinary(t), append([]string{"--db", path}, args...)...)
				done := make(chan struct{})
				var out []byte
				var err error
				go func() { out, err = cmd.CombinedOutput(); close(done) }()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					<-done
					t.Fatalf("%s on %s still running after 30s: %s", args[0], name, out)
				}
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.ExitCode() != 1 {
					t.Errorf("%s on %s: %v, want exit 1; output %q", args[0], name, err, out)
				}
				if !strings.Contains(string(out), name) {
					t.Errorf("%s on %s: %q, want a message naming the file", args[0], name, out)
				}
				wantNoCrash(t, args[0], string(out))
			}
		})
	}
}

func TestLibrary_NewerSchemaIsRefusedByServe(t *testing.T) {
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_version (version, name, applied) VALUES (999, '999_future.sql', '2099-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for _, extra := range [][]string{nil, {"--web-addr", "127.0.0.1:0", "--web-admin-token-file", writeToken(t)}} {
		args := append([]string{"--db", db, "serve", "--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd", "web")...)
		if extra == nil {
			args = append(args, "--web-addr", "")
		}
		args = append(args, extra...)
		cmd := exec.Command(quotesdBinary(t), args...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("serve %v on a newer schema: %v, want exit 1; output %q", extra, err, out)
		}
		if !strings.Contains(string(out), "newer than this quotesd supports") || !strings.Contains(string(out), "upgrade quotesd") {
			t.Errorf("serve %v on a newer schema: %q, want the upgrade message", extra, out)
		}
	}
}

// writeToken writes an admin token file (the web frontend then opens the
// library read-write) and returns its path.
func writeToken(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte("a-token-for-tests\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A disk that fills up during an import (simulated with a file size limit
// on the importing process, which makes its writes fail with EFBIG the way
// a full disk fails them with ENOSPC): the import fails clearly, and the
// library is exactly as before and still works.
func TestLibrary_DiskFullDuringImportLeavesTheLibraryUnchanged(t *testing.T) {
	dir := t.TempDir()
	db := tempLibrary(t)
	before, _, code := runQuotesd(t, nil, "--db", db, "export")
	if code != 0 {
		t.Fatal("export failed")
	}
	st, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("text,author\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "\"Imported quote number %d, padded to take room in the library: %s\",Author %d\n", i, strings.Repeat("words ", 12), i%300)
	}
	csv := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// ulimit -f counts 512-byte blocks in POSIX sh (1024 in bash): either
	// way the limit lets the library grow a little, not by 20,000 quotes.
	limit := strconv.FormatInt(st.Size()/512+256, 10)
	cmd := exec.Command("/bin/sh", "-c", `ulimit -f "$1" && exec "$2" --db "$3" import "$4"`, "sh", limit, quotesdBinary(t), db, csv)
	out, err := cmd.CombinedOutput()
	t.Logf("import with the disk full: %s", out)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("import onto a full disk: %v, want exit 1; output %q", err, out)
	}
	if !strings.Contains(string(out), db+": no space left") || !strings.Contains(string(out), "nothing was imported") {
		t.Errorf("import onto a full disk: %q, want a message that %s has no space left and nothing was imported", out, db)
	}
	wantNoCrash(t, "import", string(out))
	after, _, _ := runQuotesd(t, nil, "--db", db, "export")
	if after != before {
		t.Errorf("the library changed after the failed import: %d bytes of export, want %d", len(after), len(before))
	}
	if _, stderr, code := runQuotesd(t, nil, "--db", db, "import", csv); code != 0 {
		t.Errorf("import once there is room: exit %d: %s", code, stderr)
	}
}

// A library that this quotesd must refuse (from a newer schema, or a SQLite
// file that is no quote library) is refused before anything writes to it:
// the commands that would write (add, import, serve with the admin API)
// exit 1 and leave its bytes as they were, with no -wal or -shm beside it.
func TestLibrary_RefusedLibraryIsLeftUnchanged(t *testing.T) {
	newer := func() string {
		db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), shortQuotes...)
		rawExec(t, db, `INSERT INTO schema_version (version, name, applied) VALUES (999, '999_future.sql', '2099-01-01T00:00:00.000Z')`)
		return db
	}
	other := func() string {
		db := filepath.Join(t.TempDir(), "photos.db")
		rawExec(t, db, `CREATE TABLE photos (id INTEGER PRIMARY KEY)`)
		return db
	}
	imports := writeFile(t, t.TempDir(), "more.json", `[{"text": "Imported text.", "author": "Someone"}]`)

	for _, c := range []struct {
		what string
		make func() string
		want string
	}{
		{"a library from a newer schema", newer, "newer than this quotesd supports"},
		{"a SQLite file that is no library", other, "not a quote library"},
	} {
		for _, args := range [][]string{
			{"add", "--author", "A", "Brand new text."},
			{"import", imports},
			append([]string{"serve", "--web-addr", "127.0.0.1:0", "--web-admin-token-file", writeToken(t),
				"--qotd-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, offExcept("qotd", "web")...),
		} {
			db := c.make()
			before := fileSum(t, db)
			_, stderr, code := runQuotesd(t, nil, append([]string{"--db", db}, args...)...)
			if code != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("%s on %s: exit %d, stderr %q; want exit 1 and %q", args[0], c.what, code, stderr, c.want)
			}
			if after := fileSum(t, db); after != before {
				t.Errorf("%s on %s changed the file: sha256 %s, want %s", args[0], c.what, after, before)
			}
			if names := dirNames(t, filepath.Dir(db)); len(names) != 1 {
				t.Errorf("%s on %s: files beside it %v, want only %s", args[0], c.what, names, filepath.Base(db))
			}
		}
	}
}

// rawExec runs one statement on the SQLite file at path, bypassing quotesd.
func rawExec(t *testing.T, path, stmt string) {
	t.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// fileSum returns the hex SHA-256 of the file at path.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
