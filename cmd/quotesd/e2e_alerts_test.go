package main

// End-to-end tests of what operators build on quotesd's metrics: the
// table of docs/OPERATIONS.md, the alerting rules of contrib/prometheus
// and the dashboard of contrib/grafana, each held against the /metrics of
// a quotesd serving every frontend.

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
	"github.com/quotesd/quotesd/quoter/quotertest"
)

const (
	alertRules     = "../../contrib/prometheus/alerts.yml"
	alertRuleTests = "../../contrib/prometheus/alerts_test.yml"
	dashboard      = "../../contrib/grafana/quotesd.json"
)

// countedAtStart are the counters that a start itself counts: the IRC
// and XMPP bots' first connection attempts.
var countedAtStart = map[string]bool{"quotesd_irc_connects_total": true, "quotesd_xmpp_connects_total": true}

// scrape returns the metric families of the /metrics at base, by name.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, body)
	}
	return families
}

// labelValues returns the values label takes in mf's series, sorted.
func labelValues(mf *dto.MetricFamily, label string) []string {
	var vs []string
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && !slices.Contains(vs, l.GetValue()) {
				vs = append(vs, l.GetValue())
			}
		}
	}
	slices.Sort(vs)
	return vs
}

// labelNames returns the names of mf's labels, sorted.
func labelNames(mf *dto.MetricFamily) []string {
	var ns []string
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if !slices.Contains(ns, l.GetName()) {
				ns = append(ns, l.GetName())
			}
		}
	}
	slices.Sort(ns)
	return ns
}

// startEveryFrontend starts quotesd with every frontend and the operations
// listener on; the IRC and XMPP bots' servers and the daily posts'
// webhook are down (the bots retry; no post is due), which serves their
// metrics as well as servers would.
func startEveryFrontend(t *testing.T) *server {
	t.Helper()
	db := writeLibrary(t, filepath.Join(t.TempDir(), "quotes.db"), quotertest.Sample()...)
	key := filepath.Join(t.TempDir(), "hmac-key")
	if err := os.WriteFile(key, []byte("key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	xmppPassword := filepath.Join(t.TempDir(), "xmpp-password")
	if err := os.WriteFile(xmppPassword, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(offExcept("qotd", "web", "smtp", "irc", "xmpp", "publish", "ops", "finger"),
		"--publish", "hook=json:http://"+smtptest.FreeAddr(t)+"/in?secret=@"+key, // down, as the IRC server
		"--xmpp-jid", "bot@localhost", "--xmpp-password-file", xmppPassword, "--xmpp-server", smtptest.FreeAddr(t),
		"--ops-addr", "127.0.0.1:0", "--state-dir", t.TempDir(),
		"--qotd-addr", "127.0.0.1:0", "--qotd-udp-addr", "127.0.0.1:0",
		"--finger-addr", "127.0.0.1:0",
		"--web-addr", "127.0.0.1:0",
		"--smtp-addr", "127.0.0.1:0", "--smtp-domain", "localhost",
		"--irc-server", smtptest.FreeAddr(t), "--irc-tls=false", "--irc-channels", "#quotes")
	return startServe(t, db, []string{"qotd", "qotd-udp", "web", "smtp", "finger", "ops"}, args...)
}

// The table of docs/OPERATIONS.md is the contract alerts are written
// against: a quotesd fresh from its start serves each counter it lists,
// with each listed label value, at 0; each metric it lists, with those
// labels; and nothing in quotesd_ it does not list. The shipped alerts
// and dashboard read only metrics and label values it serves.
func TestOpsE2E_DocsAlertsAndDashboardMatchTheMetricsServed(t *testing.T) {
	docs := documentedMetrics(t)
	s := startEveryFrontend(t)
	ops := "http://" + s.Addr("ops")

	fresh := scrape(t, ops)
	t.Run("CountersAtZeroFromTheStart", func(t *testing.T) {
		for name, d := range docs {
			mf := fresh[name]
			if d.kind != "counter" {
				continue
			}
			if mf == nil || len(mf.GetMetric()) == 0 {
				t.Errorf("%s: no series in a fresh quotesd's /metrics", name)
				continue
			}
			for _, m := range mf.GetMetric() {
				if v := m.GetCounter().GetValue(); v != 0 && !countedAtStart[name] {
					t.Errorf("%s%v = %v in a fresh quotesd, want 0", name, m.GetLabel(), v)
				}
			}
		}
	})

	// One web request, so that the duration histogram has a series.
	if code, _ := httpGet(t, "http://"+s.Addr("web")+"/api/v1/today"); code != http.StatusOK {
		t.Fatalf("GET /api/v1/today: %d", code)
	}
	served := scrape(t, ops)
	t.Run("DocsListTheMetricsServed", func(t *testing.T) {
		for name, d := range docs {
			mf := served[name]
			if mf == nil {
				t.Errorf("%s: in %s, not served", name, operationsDoc)
				continue
			}
			if got := strings.ToLower(mf.GetType().String()); got != d.kind {
				t.Errorf("%s: a %s, documented as a %s", name, got, d.kind)
			}
			var documented []string
			for label, values := range d.labels {
				documented = append(documented, label)
				if values == nil {
					continue
				}
				// Values known in advance are all there from the start.
				slices.Sort(values)
				if got := labelValues(fresh[name], label); !slices.Equal(got, values) {
					t.Errorf("%s: label %s has the values %q, documented %q", name, label, got, values)
				}
			}
			slices.Sort(documented)
			if got := labelNames(mf); !slices.Equal(got, documented) {
				t.Errorf("%s: labels %q, documented %q", name, got, documented)
			}
		}
		for name := range served {
			if _, ok := docs[name]; !ok && strings.HasPrefix(name, "quotesd_") {
				t.Errorf("%s: served, not in the table of %s", name, operationsDoc)
			}
		}
	})

	t.Run("AlertsReadServedMetrics", func(t *testing.T) {
		rules := readAlertRules(t)
		for _, r := range rules {
			checkExpr(t, "alerts.yml: "+r.Alert, r.Expr, served, docs)
		}
	})

	t.Run("DashboardReadsServedMetrics", func(t *testing.T) {
		for _, q := range dashboardQueries(t) {
			checkExpr(t, "quotesd.json: "+q.where, q.expr, served, docs)
		}
	})
}

// literals is a regular expression that is only an alternation of label
// values: "queued|deferred".
var literals = regexp.MustCompile(`^[a-z0-9_]+(\|[a-z0-9_]+)*$`)

// targetLabels are the labels Prometheus adds to every series it scrapes.
var targetLabels = map[string]bool{"job": true, "instance": true}

// checkExpr fails t for each selector of the PromQL expr that names a
// metric quotesd does not serve, a label it does not have, or a value of
// a label whose values are known in advance that it never takes.
func checkExpr(t *testing.T, where, expr string, served map[string]*dto.MetricFamily, docs map[string]documentedMetric) {
	t.Helper()
	sels, err := promqlSelectors(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if len(sels) == 0 {
		t.Errorf("%s: no metric in %q", where, expr)
	}
	for _, sel := range sels {
		if sel.name == "up" { // Prometheus's own, for each target
			continue
		}
		family, bucket := sel.name, false
		if served[family] == nil {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				base := strings.TrimSuffix(sel.name, suffix)
				if mf := served[base]; base != sel.name && mf != nil && mf.GetType() == dto.MetricType_HISTOGRAM {
					family, bucket = base, suffix == "_bucket"
				}
			}
		}
		d, ok := docs[family]
		if served[family] == nil || !ok {
			t.Errorf("%s: %s is no metric quotesd serves and documents", where, sel.name)
			continue
		}
		for _, m := range sel.matchers {
			if targetLabels[m.label] || bucket && m.label == "le" {
				continue
			}
			values, ok := d.labels[m.label]
			if !ok {
				t.Errorf("%s: %s has no label %s", where, family, m.label)
				continue
			}
			if values == nil || strings.Contains(m.value, "$") {
				continue
			}
			switch m.op {
			case "=":
				if !slices.Contains(values, m.value) {
					t.Errorf("%s: %s{%s=%q}: %s is never %q (it is one of %q)", where, family, m.label, m.value, m.label, m.value, values)
				}
			case "=~":
				if literals.MatchString(m.value) { // a|b|c: each must be a value
					for _, v := range strings.Split(m.value, "|") {
						if !slices.Contains(values, v) {
							t.Errorf("%s: %s{%s=~%q}: %s is never %q (it is one of %q)", where, family, m.label, m.value, m.label, v, values)
						}
					}
					continue
				}
				re, err := regexp.Compile("^(?:" + m.value + ")$")
				if err != nil || !slices.ContainsFunc(values, re.MatchString) {
					t.Errorf("%s: %s{%s=~%q} matches none of %q", where, family, m.label, m.value, values)
				}
			}
		}
	}
}

// alertRule is a rule of a Prometheus rule file.
type alertRule struct {
	Alert  string `yaml:"alert"`
	Record string `yaml:"record"`
	Expr   string `yaml:"expr"`
}

// readAlertRules returns the rules of contrib/prometheus/alerts.yml.
func readAlertRules(t *testing.T) []alertRule {
	t.Helper()
	text, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(text, &file); err != nil {
		t.Fatalf("%s: %v", alertRules, err)
	}
	var rules []alertRule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) < 10 {
		t.Fatalf("%s: %d rules, want the whole file", alertRules, len(rules))
	}
	return rules
}

// dashboardQuery is a PromQL expression of the dashboard and where it is.
type dashboardQuery struct{ where, expr string }

// labelValuesQuery is a Grafana variable's query of a label's values.
var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)

// dashboardQueries returns the PromQL of contrib/grafana/quotesd.json: of
// every panel's targets (in rows too), and the selectors of its variables'
// label_values queries.
func dashboardQueries(t *testing.T) []dashboardQuery {
	t.Helper()
	text, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var dash struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(text, &dash); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	var out []dashboardQuery
	var walk func([]json.RawMessage)
	walk = func(raws []json.RawMessage) {
		for _, raw := range raws {
			var p panel
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("%s: %v", dashboard, err)
			}
			for _, target := range p.Targets {
				out = append(out, dashboardQuery{"panel " + p.Title, target.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)["query"].(string)
		m := labelValuesQuery.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("%s: variable %s: query %q is not label_values(selector, label)", dashboard, v.Name, q)
			continue
		}
		out = append(out, dashboardQuery{"variable " + v.Name, m[1]})
	}
	if len(out) < 20 {
		t.Fatalf("%s: %d queries, want every panel's", dashboard, len(out))
	}
	return out
}

// The rule file is valid and its unit tests pass (promtool check rules,
// promtool test rules), and the dashboard's expressions parse: promtool
// checks them as recording rules, with Grafana's $__rate_interval set.
func TestOpsE2E_PromtoolChecksTheAlertsAndTheDashboard(t *testing.T) {
	promtool := e2eTool(t, "promtool")
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("check", "rules", alertRules)
	run("test", "rules", alertRuleTests)

	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, q := range dashboardQueries(t) {
		rules = append(rules, rule{Record: "dashboard:query_" + string(rune('a'+i/26)) + string(rune('a'+i%26)),
			Expr: strings.ReplaceAll(q.expr, "$__rate_interval", "5m")})
	}
	text, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	run("check", "rules", file)
}
