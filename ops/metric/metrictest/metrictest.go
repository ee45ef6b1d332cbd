// Package metrictest checks an exposition against quotesd's metrics
// convention (package metric): Prometheus's own linter, promlint, and
// snake_case label values wherever the values are quotesd's identifiers.
package metrictest

import (
	"fmt"
	"io"
	"regexp"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// foreignLabels are the labels whose values come from outside quotesd and
// keep their own form: HTTP's methods ("GET") and status codes, chi's
// route patterns ("/quotes/{id}"), crypto/tls's version names ("TLS 1.3"),
// Go's version in go_info ("go1.26.8"), and quotesd_build_info's version
// ("v0.1.0"), commit ("0123456789ab+dirty") and goversion.
var foreignLabels = map[string]bool{"method": true, "code": true, "route": true, "version": true, "commit": true, "goversion": true}

// snakeValue is a snake_case label value; digits may lead ("tls1_3" would
// do, though no value here needs it).
var snakeValue = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// Lint reads an exposition in the text format from r and returns every
// problem found, each naming its metric; none means the exposition
// follows the convention. An error means r could not be parsed.
func Lint(r io.Reader) ([]string, error) {
	l := promlint.New(r)
	l.AddCustomValidations(snakeLabelValues)
	problems, err := l.Lint()
	if err != nil {
		return nil, fmt.Errorf("parsing the exposition: %w", err)
	}
	var out []string
	for _, p := range problems {
		out = append(out, p.Metric+": "+p.Text)
	}
	return out, nil
}

// snakeLabelValues is a promlint validation: the value of every label not
// in foreignLabels is snake_case.
func snakeLabelValues(mf *dto.MetricFamily) []error {
	var errs []error
	seen := map[string]bool{}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			name, value := lp.GetName(), lp.GetValue()
			if foreignLabels[name] || snakeValue.MatchString(value) || seen[name+"="+value] {
				continue
			}
			seen[name+"="+value] = true
			errs = append(errs, fmt.Errorf("label %s=%q: the value is not snake_case", name, value))
		}
	}
	return errs
}
