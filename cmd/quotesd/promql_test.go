package main

// What the shipped alerts and dashboard (contrib/prometheus,
// contrib/grafana) and docs/OPERATIONS.md say about quotesd's metrics, read
// so that tests can hold them against what a running quotesd serves.

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// promqlSelector is a vector selector of a PromQL expression: a metric
// name and its label matchers.
type promqlSelector struct {
	name     string
	matchers []promqlMatcher
}

type promqlMatcher struct{ label, op, value string }

func (s promqlSelector) String() string {
	var ms []string
	for _, m := range s.matchers {
		ms = append(ms, fmt.Sprintf("%s%s%q", m.label, m.op, m.value))
	}
	return s.name + "{" + strings.Join(ms, ", ") + "}"
}

// promqlGrouping are the words followed by a list of label names in
// parentheses, which are no selectors: sum by (le) (...).
var promqlGrouping = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// promqlKeywords are the other words of PromQL that are no metric names:
// operators, and aggregations, which "by" or "without" may follow before
// their "(". Functions are known by the "(" after them.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
}

// promqlSelectors returns the vector selectors of expr, in order. It is a
// lexer, not a parser: enough to see which metrics and label values an
// expression reads (promtool checks the syntax). Grafana's variables
// ($job, ${x}, $__rate_interval) are skipped where they stand for a
// value or a duration.
func promqlSelectors(expr string) ([]promqlSelector, error) {
	var out []promqlSelector
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			_, n, err := promqlString(expr[i:])
			if err != nil {
				return nil, err
			}
			i += n
		case c == '[': // a range or a subquery's durations
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ at %d", i)
			}
			i += j + 1
		case c == '$': // a Grafana variable
			i++
			if i < len(expr) && expr[i] == '{' {
				for i < len(expr) && expr[i] != '}' {
					i++
				}
				i++
			}
			for i < len(expr) && isIdent(expr[i], false) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.': // a number or a duration
			for i < len(expr) && (isIdent(expr[i], false) || expr[i] == '.') {
				i++
			}
		case isIdent(c, true):
			j := i
			for j < len(expr) && isIdent(expr[j], false) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
				k++
			}
			next := byte(0)
			if k < len(expr) {
				next = expr[k]
			}
			switch {
			case promqlGrouping[word] && next == '(':
				e := strings.IndexByte(expr[k:], ')')
				if e < 0 {
					return nil, fmt.Errorf("unclosed %s ( at %d", word, k)
				}
				i = k + e + 1
			case next == '(' || promqlGrouping[word] || promqlKeywords[word]:
				i = j
			case next == '{':
				ms, n, err := promqlMatchers(expr[k:])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", word, err)
				}
				out = append(out, promqlSelector{name: word, matchers: ms})
				i = k + n
			default:
				out = append(out, promqlSelector{name: word})
				i = j
			}
		case c == '{':
			ms, n, err := promqlMatchers(expr[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, promqlSelector{matchers: ms})
			i += n
		default:
			i++
		}
	}
	return out, nil
}

func isIdent(c byte, first bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || !first && c >= '0' && c <= '9'
}

// promqlMatchers reads the label matchers of s, which starts with "{",
// and returns them and the bytes read.
func promqlMatchers(s string) ([]promqlMatcher, int, error) {
	var ms []promqlMatcher
	i := 1
	for {
		for i < len(s) && strings.IndexByte(" \t\n,", s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			return nil, 0, fmt.Errorf("unclosed {")
		}
		if s[i] == '}' {
			return ms, i + 1, nil
		}
		j := i
		for j < len(s) && isIdent(s[j], false) {
			j++
		}
		label := s[i:j]
		for j < len(s) && s[j] == ' ' {
			j++
		}
		op := ""
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(s[j:], o) {
				op = o
				break
			}
		}
		if label == "" || op == "" {
			return nil, 0, fmt.Errorf("bad matcher at %q", s[i:])
		}
		j += len(op)
		for j < len(s) && s[j] == ' ' {
			j++
		}
		value, n, err := promqlString(s[j:])
		if err != nil {
			return nil, 0, fmt.Errorf("matcher %s: %w", label, err)
		}
		ms = append(ms, promqlMatcher{label, op, value})
		i = j + n
	}
}

// promqlString reads the quoted string that s starts with and returns its
// value and the bytes read.
func promqlString(s string) (string, int, error) {
	if s == "" || strings.IndexByte("\"'`", s[0]) < 0 {
		return "", 0, fmt.Errorf("want a quoted string at %q", s)
	}
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == q:
			return b.String(), i + 1, nil
		case s[i] == '\\' && q != '`' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unclosed string %q", s)
}

func TestPromqlSelectors_FindsMetricsAndMatchers(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want []string
	}{
		{`up{job="quotesd"} == 0 or absent(up{job="quotesd"})`, []string{`up{job="quotesd"}`, `up{job="quotesd"}`}},
		{`histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{x=~"1|2"}[5m]))) > 0.25`, []string{`a_bucket{x=~"1|2"}`}},
		{`sum(rate(a_total{code=~"5.."}[$__rate_interval])) / sum(rate(a_total{job="$job", i=~"$instance"}[1h:5m])) > 1e-3`,
			[]string{`a_total{code=~"5.."}`, `a_total{job="$job", i=~"$instance"}`}},
		{"a > 1\n  and on (job, instance) b{state=\"held\", route=\"/q/{id}\"} == 0 unless c offset 5m",
			[]string{`a{}`, `b{state="held", route="/q/{id}"}`, `c{}`}},
		{`sum(x) without (reason) * on (job) group_left (version) info`, []string{`x{}`, `info{}`}},
		{`label_replace(m, "dst", "$1", "src", "(.*)")`, []string{`m{}`}},
	} {
		sels, err := promqlSelectors(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		var got []string
		for _, s := range sels {
			got = append(got, s.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("promqlSelectors(%s) =\n%q\nwant\n%q", tt.expr, got, tt.want)
		}
	}
}

// documentedMetric is a row of the table of metrics in docs/OPERATIONS.md.
type documentedMetric struct {
	kind string // counter, gauge or histogram
	// labels are the metric's labels, each with the values the table
	// lists for it, or none when its values are not known in advance.
	labels map[string][]string
}

// operationsDoc is where the table of metrics is, from this directory.
const operationsDoc = "../../docs/OPERATIONS.md"

// documentedMetrics reads the table of metrics of docs/OPERATIONS.md:
// rows of `| names | type; label: values; label | meaning |`, where each
// name, label and value is in backquotes and a label's values, when known
// in advance, follow it after a colon.
func documentedMetrics(t *testing.T) map[string]documentedMetric {
	t.Helper()
	out := documentedTable(t, "| metric | type; labels")
	if len(out) < 20 {
		t.Fatalf("%s: %d metrics in the table, want the whole table", operationsDoc, len(out))
	}
	return out
}

// documentedTable reads the table of metrics of docs/OPERATIONS.md whose
// header starts with header, as documentedMetrics does the main one.
func documentedTable(t *testing.T, header string) map[string]documentedMetric {
	t.Helper()
	text, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, header) })
	if start < 0 {
		t.Fatalf("%s: no table of metrics (a line starting %q)", operationsDoc, header)
	}
	quoted := regexp.MustCompile("`([^`]+)`")
	out := map[string]documentedMetric{}
	for _, line := range lines[start+2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) != 5 {
			t.Fatalf("%s: a row of the table of metrics without 3 cells: %s", operationsDoc, line)
		}
		parts := strings.Split(cells[2], ";")
		kind, _, _ := strings.Cut(strings.TrimSpace(parts[0]), ",") // "gauge, always 1"
		m := documentedMetric{kind: strings.TrimSuffix(kind, "s"), labels: map[string][]string{}}
		for _, part := range parts[1:] {
			qs := quoted.FindAllStringSubmatchIndex(part, -1)
			if len(qs) == 0 {
				t.Fatalf("%s: no label in %q: %s", operationsDoc, part, line)
			}
			label := part[qs[0][2]:qs[0][3]]
			m.labels[label] = nil
			if !strings.HasPrefix(strings.TrimSpace(part[qs[0][1]:]), ":") {
				continue
			}
			for _, q := range qs[1:] {
				m.labels[label] = append(m.labels[label], part[q[2]:q[3]])
			}
		}
		for _, name := range quoted.FindAllStringSubmatch(cells[1], -1) {
			out[name[1]] = m
		}
	}
	return out
}
