package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/quotesd/quotesd/quoter"
)

// The admin API of pins: a quote chosen for a day to come (a birthday, an
// anniversary) instead of the one the cycle would show. Listing them is
// admin-only too: the site never tells what days to come will show (a
// future /day/ is a 404), and a pin is exactly that.

// pinJSON is a pin as the API returns it.
type pinJSON struct {
	Date  string        `json:"date"`
	ID    int64         `json:"id"`
	Quote *apiQuoteJSON `json:"quote,omitempty"` // absent when the quote was purged
}

func toPinJSON(p quoter.Pinned) pinJSON {
	out := pinJSON{Date: p.Day.String(), ID: p.QuoteID}
	if p.Quote != nil {
		q := toAPI(p.Quote)
		out.Quote = &q
	}
	return out
}

// pinInput is the body of PUT /api/v1/days/{date}.
type pinInput struct {
	ID *int64 `json:"id"`
}

// dateParam reads the {date} of the path. Errors name it.
func dateParam(r *http.Request) (quoter.Date, error) {
	s := chi.URLParam(r, "date")
	day, err := quoter.ParseDate(s)
	if err != nil {
		return day, badParam("date", "invalid date %q: want YYYY-MM-DD, a real calendar day", s)
	}
	return day, nil
}

// apiPins is GET /api/v1/days[?from=YYYY-MM-DD]: the pins from that day
// (default today) onwards, soonest first.
func (h *Handler) apiPins(w http.ResponseWriter, r *http.Request) {
	from := h.cal.Today()
	if s := r.URL.Query().Get("from"); s != "" {
		var err error
		if from, err = quoter.ParseDate(s); err != nil {
			h.fail(w, r, badParam("from", "invalid from %q: want YYYY-MM-DD, a real calendar day", s))
			return
		}
	}
	ps, err := h.q.Pins(r.Context(), from)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]pinJSON, len(ps))
	for i, p := range ps {
		out[i] = toPinJSON(p)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// apiPin is PUT /api/v1/days/{date} with {"id": 42}: pins the quote to
// the day, 201 with the pin, or 200 when it replaced the day's pin. A day
// that has begun somewhere on Earth is refused with 400 (the past is
// fixed); a quote not in the library is 404, or 410 when deleted.
func (h *Handler) apiPin(w http.ResponseWriter, r *http.Request) {
	day, err := dateParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in pinInput
	if err := decodeObject(r, &in, "a pin has the id of a quote"); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID == nil || *in.ID <= 0 {
		h.fail(w, r, badParam("id", `missing or invalid id: send {"id": <the id of a quote>}`))
		return
	}
	// Whether the day had a pin decides 200 or 201; a pin made meanwhile
	// by another request only changes which of the two it says.
	replaced, err := h.pinned(r, day)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.q.Pin(r.Context(), day, *in.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	h.log.Info("quote pinned", "day", day.String(), "id", *in.ID)
	p := quoter.Pinned{Day: day, QuoteID: *in.ID}
	if q, err := h.q.Quote(r.Context(), *in.ID); err == nil {
		p.Quote = q
	}
	status := http.StatusCreated
	if replaced {
		status = http.StatusOK
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, toPinJSON(p))
}

// pinned reports whether day has a pin.
func (h *Handler) pinned(r *http.Request, day quoter.Date) (bool, error) {
	ps, err := h.q.Pins(r.Context(), day)
	if err != nil {
		return false, err
	}
	return len(ps) > 0 && ps[0].Day == day, nil
}

// apiUnpin is DELETE /api/v1/days/{date}: 204; 404 when the day has no
// pin, 400 when it has begun.
func (h *Handler) apiUnpin(w http.ResponseWriter, r *http.Request) {
	day, err := dateParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.q.Unpin(r.Context(), day); err != nil {
		h.fail(w, r, err)
		return
	}
	h.changed()
	h.log.Info("day unpinned", "day", day.String())
	w.WriteHeader(http.StatusNoContent)
}
