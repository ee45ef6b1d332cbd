package web

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The OpenAPI description lists, for every API operation, exactly the query
// parameters that routeParams declares (and so that checkQuery lets
// through), and a 400 for each operation, since any of them refuses an
// unknown parameter.
func TestOpenAPI_ListsTheDeclaredParametersOfEveryRoute(t *testing.T) {
	b, err := assets.ReadFile("assets/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	type operation struct {
		Parameters []struct {
			Ref  string `json:"$ref"`
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses map[string]any `json:"responses"`
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" { // the path's own: {id}
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			key := strings.ToUpper(method) + " " + path
			described[key] = true
			var got []string
			for _, p := range op.Parameters {
				name, in := p.Name, p.In
				if p.Ref != "" {
					c := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
					name, in = c.Name, c.In
				}
				if in == "query" {
					got = append(got, name)
				}
			}
			want, ok := routeParams[key]
			if !ok {
				t.Errorf("the description has %s, which routeParams does not declare", key)
				continue
			}
			slices.Sort(got)
			want = slices.Sorted(slices.Values(want))
			if !slices.Equal(got, want) {
				t.Errorf("%s: the description lists query parameters %v, routeParams %v", key, got, want)
			}
			if _, ok := op.Responses["400"]; !ok {
				t.Errorf("%s: the description lists no 400, which an unknown parameter gets", key)
			}
		}
	}
	for key := range routeParams {
		if _, path, _ := strings.Cut(key, " "); strings.HasPrefix(path, strictPrefix) && !described[key] {
			t.Errorf("routeParams declares %s, which the description lacks", key)
		}
	}
}
