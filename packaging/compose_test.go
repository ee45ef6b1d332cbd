package packaging

import (
	"bufio"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// replicasDir is the example of several replicas: PostgreSQL, three
// quotesd and HAProxy (docs/OPERATIONS.md, "Several replicas").
const replicasDir = root + "/contrib/compose"

// composeService is what the test reads of a service of compose.yaml.
type composeService struct {
	Image      string   `yaml:"image"`
	Entrypoint []string `yaml:"entrypoint"`
	Command    []string `yaml:"command"`
	DependsOn  map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Networks yaml.Node `yaml:"networks"`
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(replicasDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return f
}

// serveSettings are the names of quotesd serve's settings, as
// QUOTESD_ variables: those of contrib/quotesd.conf, which a test of
// cmd/quotesd holds to what `quotesd serve --sample-config` prints from
// the declarations. It lists every setting but --config (a settings file
// does not name itself) and the secrets, which are there as their
// <name>-file setting: a secret is also read from QUOTESD_<NAME>.
func serveSettings(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "contrib", "quotesd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^#([a-z0-9-]+) = `)
	env := func(name string) string { return "QUOTESD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) }
	names := map[string]bool{env("config"): true}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			names[env(m[1])] = true
			if base, ok := strings.CutSuffix(m[1], "-file"); ok {
				names[env(base)] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) < 20 || !names["QUOTESD_WEB_RATE_SHARED"] || !names["QUOTESD_DB"] {
		t.Fatalf("read %d settings from contrib/quotesd.conf, missing the ones this test relies on", len(names))
	}
	return names
}

// quotesdServices returns the services of f that run the quotesd image,
// by name: the replicas and the one-shot init.
func quotesdServices(f composeFile) []string {
	var names []string
	for name, s := range f.Services {
		if strings.HasPrefix(s.Image, "quotesd:") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// replicas returns the quotesd services of f that serve: the image's
// entrypoint and command (quotesd serve).
func replicas(f composeFile) []string {
	return slices.DeleteFunc(quotesdServices(f), func(name string) bool {
		s := f.Services[name]
		return s.Entrypoint != nil || s.Command != nil && !slices.Equal(s.Command, []string{"serve"})
	})
}

func TestComposeReplicas_EveryVariableIsASettingOfServe(t *testing.T) {
	f := readCompose(t)
	known := serveSettings(t)
	for _, name := range quotesdServices(f) {
		for v := range f.Services[name].Environment {
			if strings.HasPrefix(v, "QUOTESD_") && !known[v] {
				t.Errorf("%s: %s is no setting of quotesd serve", name, v)
			}
		}
	}
}

func TestComposeReplicas_ThreeReplicasShareOnePostgreSQLDatabaseAndItsRateLimit(t *testing.T) {
	f := readCompose(t)
	names := replicas(f)
	if len(names) != 3 {
		t.Fatalf("quotesd services %v, want 3", names)
	}
	db := f.Services[names[0]].Environment["QUOTESD_DB"]
	for _, name := range quotesdServices(f) { // the replicas, and what fills their library
		if got := f.Services[name].Environment["QUOTESD_DB"]; got != db {
			t.Errorf("%s: QUOTESD_DB %q, want the same database as %s: %q", name, got, names[0], db)
		}
	}
	for _, name := range names {
		env := f.Services[name].Environment
		if env["QUOTESD_WEB_RATE_SHARED"] != "true" {
			t.Errorf("%s: QUOTESD_WEB_RATE_SHARED %q, want true: one web rate limit for the three", name, env["QUOTESD_WEB_RATE_SHARED"])
		}
	}
	u, err := url.Parse(db)
	if err != nil || u.Scheme != "postgres" {
		t.Fatalf("QUOTESD_DB %q: want a postgres:// URL", db)
	}
	if _, ok := f.Services[u.Hostname()]; !ok || !strings.HasPrefix(f.Services[u.Hostname()].Image, "postgres:") {
		t.Errorf("QUOTESD_DB names host %q: want the PostgreSQL service of the file", u.Hostname())
	}
	// The password is in a secret file, never in the URL or the file.
	if _, set := u.User.Password(); set {
		t.Errorf("QUOTESD_DB holds a password: read it from a secret file")
	}
	passfile := u.Query().Get("passfile")
	secret, ok := strings.CutPrefix(passfile, "/run/secrets/")
	if !ok {
		t.Fatalf("QUOTESD_DB: passfile=%q, want a secret under /run/secrets/", passfile)
	}
	if _, ok := f.Secrets[secret]; !ok {
		t.Errorf("secret %q of QUOTESD_DB is not declared in the file's secrets", secret)
	}
	for _, name := range names {
		if !slices.Contains(f.Services[name].Secrets, secret) {
			t.Errorf("%s does not mount the secret %q that QUOTESD_DB reads", name, secret)
		}
	}
}

// An empty database is no library: a one-shot service puts the shipped
// one in before the replicas start (and leaves a library alone).
func TestComposeReplicas_TheLibraryIsFilledBeforeTheReplicasStart(t *testing.T) {
	f := readCompose(t)
	var init string
	for _, name := range quotesdServices(f) {
		if strings.Contains(strings.Join(f.Services[name].Command, " "), "quotesd init") {
			init = name
		}
	}
	if init == "" {
		t.Fatal("no quotesd service runs quotesd init")
	}
	for _, name := range replicas(f) {
		if dep, ok := f.Services[name].DependsOn[init]; !ok || dep.Condition != "service_completed_successfully" {
			t.Errorf("%s does not wait for %s to complete (depends_on %v)", name, init, f.Services[name].DependsOn)
		}
	}
}

func TestComposeReplicas_HealthchecksUseQuotesdHealthcheck(t *testing.T) {
	f := readCompose(t)
	for _, name := range replicas(f) {
		if test := f.Services[name].Healthcheck.Test; !slices.Equal(test, []string{"CMD", "quotesd", "healthcheck"}) {
			t.Errorf("%s: healthcheck %q, want [CMD quotesd healthcheck]", name, test)
		}
	}
}

// HAProxy balances every replica on every port, and the web's replicas
// believe its X-Forwarded-For: their trusted proxies hold its address.
func TestComposeReplicas_TheBalancerNamesEachReplicaAndIsTheTrustedProxy(t *testing.T) {
	f := readCompose(t)
	cfg, err := os.ReadFile(filepath.Join(replicasDir, "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	backends := map[string][]string{} // backend: the hosts of its servers
	var backend string
	for _, line := range strings.Split(string(cfg), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case fields[0] == "backend" && len(fields) > 1:
			backend = fields[1]
		case !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t"):
			backend = "" // another section
		case backend != "" && fields[0] == "server" && len(fields) > 2:
			host, _, _ := strings.Cut(fields[2], ":")
			backends[backend] = append(backends[backend], host)
		}
	}
	for _, b := range []string{"web", "qotd", "smtp"} {
		if got := backends[b]; !slices.Equal(got, replicas(f)) {
			t.Errorf("haproxy.cfg: backend %s balances %v, want every replica: %v", b, got, replicas(f))
		}
	}

	lb, ok := f.Services["lb"]
	if !ok || !strings.HasPrefix(lb.Image, "haproxy:") {
		t.Fatalf("no HAProxy service lb")
	}
	var nets map[string]struct {
		Address string `yaml:"ipv4_address"`
	}
	if err := lb.Networks.Decode(&nets); err != nil {
		t.Fatalf("lb's networks: %v", err)
	}
	var addr netip.Addr
	for _, n := range nets {
		addr, _ = netip.ParseAddr(n.Address)
	}
	if !addr.IsValid() {
		t.Fatalf("lb has no fixed ipv4_address for the replicas to trust")
	}
	for _, name := range replicas(f) {
		var ps []netip.Prefix
		for _, s := range strings.Split(f.Services[name].Environment["QUOTESD_WEB_TRUSTED_PROXIES"], ",") {
			if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
				ps = append(ps, p)
			}
		}
		if !slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(addr) }) {
			t.Errorf("%s: QUOTESD_WEB_TRUSTED_PROXIES %v does not hold the balancer's %v: every visitor would be one client", name, ps, addr)
		}
	}
}

// docker compose itself reads the example: `docker compose` (the plugin)
// or else `docker-compose` (Debian's is 1.29, which is why the file keeps
// to the keys it knows: no healthcheck start_interval). `config` needs no
// daemon, so CI installs Debian's docker-compose (.ci/run) and, under
// QUOTESD_E2E=require, a missing command fails the test.
func TestComposeReplicas_DockerComposeAcceptsTheFile(t *testing.T) {
	compose, why := composeCommand()
	if compose == nil {
		if os.Getenv("QUOTESD_E2E") == "require" {
			t.Fatalf("no docker compose here, and QUOTESD_E2E=require: install docker-compose (see .ci/run): %s", why)
		}
		t.Skipf("no docker compose here (set QUOTESD_E2E=require to fail instead): %s", why)
	}
	// The secret files the file names, with throwaway contents.
	dir := t.TempDir()
	for _, name := range []string{"compose.yaml", "haproxy.cfg"} {
		b, err := os.ReadFile(filepath.Join(replicasDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, s := range readCompose(t).Secrets {
		if err := os.WriteFile(filepath.Join(dir, s.File), []byte("test-"+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append(compose[1:], "--project-directory", dir, "-f", filepath.Join(dir, "compose.yaml"), "config", "--quiet")
	run(t, dir, nil, compose[0], args...)
}

// composeCommand returns the command line of `docker compose` or
// `docker-compose`, or nil and what was found instead.
func composeCommand() ([]string, string) {
	var found []string
	if docker, err := exec.LookPath("docker"); err == nil {
		out, err := exec.Command(docker, "compose", "version").CombinedOutput()
		if err == nil {
			return []string{docker, "compose"}, ""
		}
		found = append(found, "'docker compose version': "+strings.Join(strings.Fields(string(out)), " "))
	} else {
		found = append(found, "docker is not installed")
	}
	if dc, err := exec.LookPath("docker-compose"); err == nil {
		return []string{dc}, ""
	}
	return nil, strings.Join(append(found, "docker-compose is not installed"), "; ")
}
