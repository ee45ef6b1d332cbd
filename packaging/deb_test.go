package packaging

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testVersion is the version of the test's package: an earlier run's
// leftover is recognised by it and purged; any other installed quotesd
// belongs to the machine and makes the test skip.
const testVersion = "0.0.0~packagetest"

// installed are the package's files, dirs and user that dpkg -i must make
// and dpkg --purge must take away again.
var installed = []string{
	"/usr/bin/quotesd",
	"/usr/lib/systemd/system/quotesd.service",
	"/usr/lib/systemd/system/quotesd.service.d/package.conf",
	"/usr/lib/systemd/system/quotesd.socket",
	"/usr/lib/systemd/system/quotesd-web.socket",
	"/usr/lib/systemd/system/quotesd-smtp.socket",
	"/usr/lib/systemd/system/quotesd-finger.socket",
	"/usr/lib/systemd/system/quotesd-udp.socket",
	"/etc/quotesd/quotesd.conf",
	"/var/lib/quotesd",
	"/usr/share/man/man1/quotesd.1.gz",
	"/usr/share/bash-completion/completions/quotesd",
	"/usr/share/zsh/vendor-completions/_quotesd",
	"/usr/share/fish/vendor_completions.d/quotesd.fish",
	"/usr/share/doc/quotesd/copyright",
	"/usr/share/doc/quotesd/OPERATIONS.md",
}

// The .deb as a user gets it: nfpm builds it from packaging/nfpm.yaml,
// dpkg installs it, the service the units describe serves a quote over
// QOTD and HTTP as the quotesd user, and dpkg --purge leaves nothing
// behind. It changes the machine (a package, a system user), so it runs
// as root only (CI runs as root); systemd starts the service where it is
// PID 1, systemd-socket-activate does elsewhere (a container), on loopback
// test ports either way.
func TestDeb_InstallsServesAndPurges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installs a package and a system user: run as root (CI does)")
	}
	requireTool(t, "dpkg", "dpkg")
	requireTool(t, "gcc", "gcc")
	requireTool(t, "setpriv", "util-linux")
	systemd := pid1IsSystemd()
	if !systemd {
		requireTool(t, "systemd-socket-activate", "systemd")
	}
	if v, ok := installedVersion(); ok {
		if v != testVersion {
			t.Skipf("quotesd %s is installed on this machine: the test would replace and purge it", v)
		}
		run(t, "", nil, "dpkg", "--purge", "quotesd")
	}
	if _, err := exec.Command("getent", "passwd", "quotesd").Output(); err == nil {
		t.Skip("a quotesd user exists without the package: the test's purge would check for its removal")
	}

	dir := t.TempDir()
	start := time.Now()
	bin, extras := buildQuotesd(t, dir)
	deb := filepath.Join(dir, "quotesd.deb")
	conf := nfpmConfig(t, dir, bin, extras)
	run(t, root, []string{"VERSION=" + testVersion, "ARCH=" + runtime.GOARCH},
		"go", "run", nfpmModule, "pkg", "--config", conf, "--packager", "deb", "--target", deb)
	t.Logf("built the binary, its extras and the .deb in %v", time.Since(start).Round(time.Second))

	start = time.Now()
	// --no-triggers: man-db's index update (some 20 s) waits for the purge,
	// which runs the triggers pending.
	run(t, "", nil, "dpkg", "--no-triggers", "-i", deb)
	t.Logf("dpkg -i in %v", time.Since(start).Round(100*time.Millisecond))
	t.Cleanup(func() { exec.Command("dpkg", "--purge", "quotesd").Run() })
	for _, p := range installed {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("after dpkg -i: %v", err)
		}
	}
	checkStateDir(t)
	if out := run(t, "", nil, "/usr/bin/quotesd", "version"); !strings.Contains(out, "quotesd ") {
		t.Errorf("quotesd version: %q", out)
	}

	if systemd {
		serveWithSystemd(t)
	} else {
		serveWithSocketActivate(t)
	}
	if _, err := os.Stat("/var/lib/quotesd/quotes.db"); err != nil {
		t.Errorf("the service's library: %v", err)
	}

	start = time.Now()
	run(t, "", nil, "dpkg", "--purge", "quotesd")
	t.Logf("dpkg --purge in %v", time.Since(start).Round(100*time.Millisecond))
	for _, p := range append(installed, "/etc/quotesd", "/usr/share/doc/quotesd", "/usr/lib/systemd/system/quotesd.service.d") {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("after dpkg --purge, %s is still there", p)
		}
	}
	for _, db := range []string{"passwd", "group"} {
		if out, err := exec.Command("getent", db, "quotesd").Output(); err == nil {
			t.Errorf("after dpkg --purge, getent %s quotesd: %s", db, out)
		}
	}
	if v, ok := installedVersion(); ok {
		t.Errorf("after dpkg --purge, dpkg still knows quotesd %s", v)
	}
}

// nfpmConfig writes packaging/nfpm.yaml into dir with its build/ sources
// (the binary, the man page, the completions) taken from bin and extras,
// and returns its path.
func nfpmConfig(t *testing.T, dir, bin, extras string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "packaging", "nfpm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("src: build/quotesd\n", "src: "+bin+"\n", "src: build/extras/", "src: "+extras+"/").Replace(string(b))
	conf := filepath.Join(dir, "nfpm.yaml")
	if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// pid1IsSystemd says whether systemd runs this machine, as sd_booted(3)
// tells.
func pid1IsSystemd() bool {
	fi, err := os.Stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// installedVersion returns the version of the installed quotesd package.
func installedVersion() (string, bool) {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Status} ${Version}", "quotesd").Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) < 4 || f[2] != "installed" {
		return "", false
	}
	return f[3], true
}

// checkStateDir checks that /var/lib/quotesd belongs to the quotesd user
// and is closed to others.
func checkStateDir(t *testing.T) {
	t.Helper()
	fi, err := os.Stat("/var/lib/quotesd")
	if err != nil {
		t.Fatal(err)
	}
	uid := strings.TrimSpace(run(t, "", nil, "id", "-u", "quotesd"))
	st := fi.Sys().(*syscall.Stat_t)
	if strconv.Itoa(int(st.Uid)) != uid || fi.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/quotesd: uid %d mode %v, want uid %s (quotesd) mode 0700", st.Uid, fi.Mode().Perm(), uid)
	}
}

// unitSettings reads the installed service as systemd would: the unit,
// then its drop-in, an empty value resetting a list. It returns the
// environment, the last ExecStart and the User.
func unitSettings(t *testing.T) (env []string, execStart []string, user string) {
	t.Helper()
	for _, path := range []string{"/usr/lib/systemd/system/quotesd.service", "/usr/lib/systemd/system/quotesd.service.d/package.conf"} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
			if !ok || strings.HasPrefix(k, "#") {
				continue
			}
			switch k {
			case "Environment":
				env = append(env, v)
			case "ExecStart":
				execStart = strings.Fields(v)
			case "User":
				user = v
			}
		}
		f.Close()
	}
	return env, execStart, user
}

// serveWithSocketActivate starts the installed service as its units say,
// without systemd: systemd-socket-activate binds the sockets (on loopback
// test ports, named as the socket units name them) and hands them to
// ExecStart, run as User= with the unit's environment and
// StateDirectory's.
func serveWithSocketActivate(t *testing.T) {
	env, execStart, user := unitSettings(t)
	if len(execStart) == 0 || user != "quotesd" {
		t.Fatalf("installed unit: ExecStart %q, User %q; want a command run as quotesd", execStart, user)
	}
	qotd, web, smtp, finger := freePort(t), freePort(t), freePort(t), freePort(t)
	args := []string{"-l", qotd, "-l", web, "-l", smtp, "-l", finger, "--fdname=qotd:web:smtp:finger"}
	env = append(env, "STATE_DIRECTORY=/var/lib/quotesd", "QUOTESD_OPS_ADDR=127.0.0.1:0", "QUOTESD_IRC_SERVER=", "HOME=/var/lib/quotesd")
	for _, e := range env {
		args = append(args, "-E", e)
	}
	args = append(args, "setpriv", "--reuid=quotesd", "--regid=quotesd", "--init-groups", "--")
	args = append(args, execStart...)
	cmd := exec.Command("systemd-socket-activate", args...)
	cmd.Dir = "/"
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("quotesd after SIGTERM: %v\n%s", err, logs.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Errorf("quotesd did not stop within 15s of SIGTERM\n%s", logs.String())
		}
	}
	t.Cleanup(stop)
	getQuotes(t, qotd, web, func() string { return logs.String() })
	stop()
	if out, err := exec.Command("ps", "-o", "user=", "-u", "quotesd").Output(); err == nil && len(out) > 0 {
		t.Errorf("processes of quotesd left: %s", out)
	}
}

// serveWithSystemd starts the installed units with systemd, moved to
// loopback test ports by runtime drop-ins that the test removes.
func serveWithSystemd(t *testing.T) {
	qotd, web, smtp, finger := freePort(t), freePort(t), freePort(t), freePort(t)
	dropIns := map[string]string{
		"quotesd.socket":        "[Socket]\nListenStream=\nListenStream=" + qotd + "\n",
		"quotesd-web.socket":    "[Socket]\nListenStream=\nListenStream=" + web + "\n",
		"quotesd-smtp.socket":   "[Socket]\nListenStream=\nListenStream=" + smtp + "\n",
		"quotesd-finger.socket": "[Socket]\nListenStream=\nListenStream=" + finger + "\n",
		"quotesd.service":       "[Service]\nEnvironment=QUOTESD_OPS_ADDR=127.0.0.1:0\n",
	}
	// Cleanups run last first: the daemon-reload after the drop-ins' removal.
	t.Cleanup(func() { exec.Command("systemctl", "daemon-reload").Run() })
	for unit, conf := range dropIns {
		d := filepath.Join("/run/systemd/system", unit+".d")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "packagetest.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	run(t, "", nil, "systemctl", "daemon-reload")
	run(t, "", nil, "systemctl", "start", "quotesd.socket", "quotesd-web.socket", "quotesd-smtp.socket", "quotesd-finger.socket")
	t.Cleanup(func() {
		exec.Command("systemctl", "stop", "quotesd.service", "quotesd.socket", "quotesd-web.socket", "quotesd-smtp.socket", "quotesd-finger.socket").Run()
	})
	journal := func() string {
		out, _ := exec.Command("journalctl", "-u", "quotesd.service", "-n", "50", "--no-pager").CombinedOutput()
		return string(out)
	}
	getQuotes(t, qotd, web, journal)
	if out := strings.TrimSpace(run(t, "", nil, "systemctl", "show", "-p", "User", "--value", "quotesd.service")); out != "quotesd" {
		t.Errorf("quotesd.service runs as %q, want quotesd", out)
	}
	run(t, "", nil, "systemctl", "stop", "quotesd.service", "quotesd.socket", "quotesd-web.socket", "quotesd-smtp.socket", "quotesd-finger.socket")
}

// getQuotes gets a quote with a QOTD client and one with an HTTP GET of
// the API's today, as a user would; logs says what the service logged.
func getQuotes(t *testing.T, qotdAddr, webAddr string, logs func() string) {
	t.Helper()
	// The sockets are bound by then with systemd, a moment after the start
	// with systemd-socket-activate.
	var c net.Conn
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err = net.DialTimeout("tcp", qotdAddr, 10*time.Second)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("QOTD: %v\n%s", err, logs())
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	quote, err := io.ReadAll(io.LimitReader(c, 1024))
	c.Close()
	if err != nil || len(strings.TrimSpace(string(quote))) == 0 {
		t.Fatalf("QOTD on %s: %q, %v; want a quote\n%s", qotdAddr, quote, err, logs())
	}
	t.Logf("QOTD: %s", strings.TrimSpace(string(quote)))

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + webAddr + "/api/v1/today")
	if err != nil {
		t.Fatalf("HTTP: %v\n%s", err, logs())
	}
	defer resp.Body.Close()
	var today struct {
		Text, Author string
	}
	if err := json.NewDecoder(resp.Body).Decode(&today); err != nil || resp.StatusCode != http.StatusOK || today.Text == "" {
		t.Fatalf("GET /api/v1/today: %d, %+v, %v; want 200 and a quote\n%s", resp.StatusCode, today, err, logs())
	}
	if words := strings.Fields; !strings.Contains(strings.Join(words(string(quote)), " "), strings.Join(words(today.Text), " ")) {
		t.Errorf("QOTD said %q, the web's today is %q: want the same quote", quote, today.Text)
	}
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
