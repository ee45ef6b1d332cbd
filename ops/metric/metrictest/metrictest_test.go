package metrictest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/ops/metric/metrictest"
)

func TestLint_ConventionalExpositionHasNoProblems(t *testing.T) {
	exposition := `# HELP quotesd_smtp_rejected_total Refused, by reason.
# TYPE quotesd_smtp_rejected_total counter
quotesd_smtp_rejected_total{reason="max_conns_per_client"} 2
# HELP quotesd_web_requests_total Requests.
# TYPE quotesd_web_requests_total counter
quotesd_web_requests_total{code="404",method="GET",route="/quotes/{id}"} 1
# HELP quotesd_smtp_tls_sessions_total Sessions.
# TYPE quotesd_smtp_tls_sessions_total counter
quotesd_smtp_tls_sessions_total{version="TLS 1.3"} 1
# HELP quotesd_build_info Build.
# TYPE quotesd_build_info gauge
quotesd_build_info{commit="0123456789ab+dirty",goversion="go1.26.8",version="v0.1.0"} 1
`
	problems, err := metrictest.Lint(strings.NewReader(exposition))
	if err != nil || len(problems) != 0 {
		t.Errorf("Lint = %q, %v; want no problems", problems, err)
	}
}

func TestLint_FindsPromlintsProblemsAndKebabCaseLabelValues(t *testing.T) {
	exposition := `# HELP quotesd_smtp_rejected_total Refused, by reason.
# TYPE quotesd_smtp_rejected_total counter
quotesd_smtp_rejected_total{reason="max-conns"} 1
quotesd_smtp_rejected_total{reason="ip-rate"} 1
# HELP quotesd_qotd_replies Replies.
# TYPE quotesd_qotd_replies counter
quotesd_qotd_replies 3
`
	problems, err := metrictest.Lint(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`quotesd_qotd_replies: counter metrics should have "_total" suffix`,
		`quotesd_smtp_rejected_total: label reason="ip-rate": the value is not snake_case`,
		`quotesd_smtp_rejected_total: label reason="max-conns": the value is not snake_case`,
	}
	slices.Sort(problems)
	if !slices.Equal(problems, want) {
		t.Errorf("Lint =\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

func TestLint_UnparsableExpositionIsAnError(t *testing.T) {
	if _, err := metrictest.Lint(strings.NewReader("quotesd_x{ 1\n")); err == nil {
		t.Error("Lint of a broken exposition: no error")
	}
}
