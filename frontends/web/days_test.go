package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotesd/quotesd/quoter"
)

// pinJSON mirrors the API's pin object.
type pinJSON struct {
	Date  string    `json:"date"`
	ID    int64     `json:"id"`
	Quote *apiQuote `json:"quote"`
}

// otherQuote returns the id of a sample quote that is none of not.
func (e *testEnv) otherQuote(not ...int64) int64 {
	e.t.Helper()
	qs, _, err := e.lib.List(context.Background(), quoter.Filter{}, quoter.Page{Limit: quoter.MaxLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, q := range qs {
		if !slices.Contains(not, q.ID) {
			return q.ID
		}
	}
	e.t.Fatal("no other quote")
	return 0
}

// At now (21:30 on 14 March in UTC+2) it is already 15 March in UTC+14:
// the first day an admin may still pin is the 16th.
func TestPins_AdminAPIChangesADayToCome(t *testing.T) {
	e := newHistoryEnv(t, withToken)
	d16, d17 := today.AddDays(2), today.AddDays(3)
	x := e.otherQuote(e.todays(d16).ID)
	w := e.admin(http.MethodPut, "/api/v1/days/"+d16.String(), fmt.Sprintf(`{"id":%d}`, x))
	want(t, w, http.StatusCreated)
	if p := decode[pinJSON](t, w); p.Date != d16.String() || p.ID != x || p.Quote == nil || p.Quote.ID != x {
		t.Errorf("pin = %+v, want quote %d on %s, with the quote", p, x, d16)
	}
	x = e.otherQuote(e.todays(d16).ID, x)
	w = e.admin(http.MethodPut, "/api/v1/days/"+d16.String(), fmt.Sprintf(`{"id":%d}`, x))
	want(t, w, http.StatusOK) // replaced
	if got := e.todays(d16).ID; got != x {
		t.Errorf("the library's quote of %s is %d, want the pinned %d", d16, got, x)
	}

	// A pin undone leaves the day as it was.
	scheduled := e.todays(d17).ID
	y := e.otherQuote(scheduled, x)
	want(t, e.admin(http.MethodPut, "/api/v1/days/"+d17.String(), fmt.Sprintf(`{"id":%d}`, y)), http.StatusCreated)
	pins := decode[[]pinJSON](t, e.admin(http.MethodGet, "/api/v1/days?from="+today.String(), ""))
	if len(pins) != 2 || pins[0].Date != d16.String() || pins[0].ID != x || pins[1].Date != d17.String() || pins[1].ID != y {
		t.Errorf("pins = %+v, want %d on %s and %d on %s", pins, x, d16, y, d17)
	}
	want(t, e.admin(http.MethodDelete, "/api/v1/days/"+d17.String(), ""), http.StatusNoContent)
	wantAPIError(t, e.admin(http.MethodDelete, "/api/v1/days/"+d17.String(), ""), http.StatusNotFound, "")
	if got := decode[[]pinJSON](t, e.admin(http.MethodGet, "/api/v1/days", "")); len(got) != 1 {
		t.Errorf("pins after unpinning %s = %+v, want only %s's", d17, got, d16)
	}

	// The days come.
	e.clock.Set(d16.Time(zone).Add(12 * time.Hour))
	if got := decode[apiQuote](t, e.get("/api/v1/today")); got.ID != x || got.Date != d16.String() {
		t.Errorf("on %s today = quote %d dated %s, want the pinned %d", d16, got.ID, got.Date, x)
	}
	e.clock.Set(d17.Time(zone).Add(12 * time.Hour))
	if got := decode[apiQuote](t, e.get("/api/v1/today")); got.ID != scheduled {
		t.Errorf("on %s today = quote %d, want %d, as scheduled before the pin that was undone", d17, got.ID, scheduled)
	}
}

func TestPins_ThePastAndBadRequestsAreRefused(t *testing.T) {
	e := newHistoryEnv(t, withToken)
	body := fmt.Sprintf(`{"id":%d}`, e.todays(today).ID)
	// 15 March has begun in UTC+14, though not here; 10 March is long gone.
	for _, d := range []string{"2026-03-15", "2026-03-14", "2026-03-10"} {
		t.Run(d, func(t *testing.T) {
			for _, w := range []*httptest.ResponseRecorder{
				e.admin(http.MethodPut, "/api/v1/days/"+d, body),
				e.admin(http.MethodDelete, "/api/v1/days/"+d, ""),
			} {
				got := wantAPIError(t, w, http.StatusBadRequest, "")
				if !strings.Contains(got.StatusMessage, d) || !strings.Contains(got.StatusMessage, "has begun") {
					t.Errorf("message %q, want one saying that %s has begun", got.StatusMessage, d)
				}
			}
		})
	}
	d := today.AddDays(5).String()
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		param                      string
	}{
		{"BadDate", http.MethodPut, "/api/v1/days/2026-02-30", body, http.StatusBadRequest, "date"},
		{"BadFrom", http.MethodGet, "/api/v1/days?from=soon", "", http.StatusBadRequest, "from"},
		{"NoID", http.MethodPut, "/api/v1/days/" + d, `{}`, http.StatusBadRequest, "id"},
		{"ZeroID", http.MethodPut, "/api/v1/days/" + d, `{"id":0}`, http.StatusBadRequest, "id"},
		{"StringID", http.MethodPut, "/api/v1/days/" + d, `{"id":"7"}`, http.StatusBadRequest, "id"},
		{"UnknownField", http.MethodPut, "/api/v1/days/" + d, `{"id":7,"quote":7}`, http.StatusBadRequest, "quote"},
		{"NoSuchQuote", http.MethodPut, "/api/v1/days/" + d, `{"id":999999}`, http.StatusNotFound, ""},
		{"NoPin", http.MethodDelete, "/api/v1/days/" + d, "", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, e.admin(tc.method, tc.target, tc.body), tc.status, tc.param)
		})
	}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		w := e.do(m, "/api/v1/days/"+d, strings.NewReader(body), "Content-Type", "application/json")
		if m == http.MethodGet {
			w = e.do(m, "/api/v1/days", nil)
		}
		wantAPIError(t, w, http.StatusUnauthorized, "")
	}
	if pins, err := e.lib.Pins(t.Context(), today); err != nil || len(pins) != 0 {
		t.Errorf("refused requests left pins %+v (%v)", pins, err)
	}
}
