package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/quotesd/quotesd/quoter"
)

// This file records and reads the schedule of quotes of the day, as the
// SQLite store does (quoter/sqlite/schedule.go, whose comments explain the
// design): the same cycles, slots, epochs and days, walked with
// quoter.Cycle, so that both stores give the same quote for the same day.
// Reads never write; every change updates the cycles it touches in its own
// transaction (see scheduleTx).

// Cycle keys: the library's own cycle, one per tag and per language (these
// hold public quotes only), and one per collection.
const libraryCycle = ""

func tagCycle(tag string) string         { return "tag:" + strings.ToLower(tag) }
func langCycle(lang string) string       { return "lang:" + strings.ToLower(lang) }
func collectionCycle(name string) string { return "col:" + name }

// cycleKeys returns the cycles a quote belongs to: its collection's, and,
// when the collection is public, the library's, its language's and its
// tags'.
func cycleKeys(q *quoter.Quote, public bool) []string {
	keys := make([]string, 0, len(q.Tags)+3)
	keys = append(keys, collectionCycle(q.Collection))
	if public {
		keys = append(keys, publicKeys(q)...)
	}
	return keys
}

// publicKeys are the cycles of public quotes that q belongs to while its
// collection is public.
func publicKeys(q *quoter.Quote) []string {
	keys := make([]string, 0, len(q.Tags)+2)
	keys = append(keys, libraryCycle, langCycle(q.Lang))
	for _, t := range q.Tags {
		keys = append(keys, tagCycle(t))
	}
	return keys
}

// cycleFor splits a Today filter into the cycle it selects and what is
// left of it to check quote by quote: a named collection (a set's first)
// selects its own cycle, whose quotes are all in the set.
func cycleFor(f quoter.Filter) (key string, rest quoter.Filter) {
	rest = f
	switch {
	case f.Collection != "":
		first, _, _ := strings.Cut(f.Collection, ",")
		key, rest.Collection = collectionCycle(strings.TrimSpace(first)), ""
	case f.Tag != "":
		key, rest.Tag = tagCycle(f.Tag), ""
	case f.Lang != "":
		key, rest.Lang = langCycle(f.Lang), ""
	default:
		key = libraryCycle
	}
	return key, rest
}

// cycleView is one cycle as stored at one generation.
type cycleView struct {
	id        int64
	key       string
	originN   int
	originEnd *int64       // last day of the origin epoch; nil while it is current
	cycle     quoter.Cycle // the current epoch
}

// loadCycle reads the cycle named key; nil when there is none.
func loadCycle(ctx context.Context, q querier, key string) (*cycleView, error) {
	v := &cycleView{key: key}
	err := q.QueryRow(ctx, `SELECT id, slots, origin_n, origin_end, epoch_start, epoch_pos FROM cycles WHERE key = $1`, key).
		Scan(&v.id, &v.cycle.Slots, &v.originN, &v.originEnd, &v.cycle.Start, &v.cycle.Pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, quoter.Internal("read cycle "+describeCycle(key), err)
	}
	rows, err := q.Query(ctx, `SELECT slot FROM cycle_slots WHERE cycle = $1 AND NOT live ORDER BY slot`, v.id)
	if err != nil {
		return nil, quoter.Internal("read holes of cycle "+describeCycle(key), err)
	}
	holes, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, quoter.Internal("read holes of cycle "+describeCycle(key), err)
	}
	for _, h := range holes {
		v.cycle.Holes = append(v.cycle.Holes, int(h))
	}
	if key == libraryCycle && v.originEnd != nil {
		if err := v.loadPins(ctx, q); err != nil {
			return nil, err
		}
	}
	v.cycle.Prepare()
	return v, nil
}

// loadPins reads the pins of the current epoch, and of as many days before
// it as the cycle holds quotes (see quoter.Cycle.Prepare), with the live
// index of each pinned quote.
func (v *cycleView) loadPins(ctx context.Context, q querier) error {
	rows, err := q.Query(ctx, `SELECT p.day, p.quote_id, s.slot FROM pins p
		LEFT JOIN cycle_slots s ON s.cycle = $1 AND s.quote_id = p.quote_id AND s.live
		WHERE p.day >= $2 ORDER BY p.day`, v.id, v.cycle.Start-int64(v.cycle.Live()))
	if err != nil {
		return quoter.Internal("read pins", err)
	}
	defer rows.Close()
	v.cycle.Pins = v.cycle.Pins[:0]
	for rows.Next() {
		var p quoter.Pin
		var slot *int32
		if err := rows.Scan(&p.Day, &p.Quote, &slot); err != nil {
			return quoter.Internal("read pins", err)
		}
		p.Index = -1
		if slot != nil {
			p.Index = v.cycle.IndexOf(int(*slot))
		}
		v.cycle.Pins = append(v.cycle.Pins, p)
	}
	if err := rows.Err(); err != nil {
		return quoter.Internal("read pins", err)
	}
	return nil
}

// errNoDay is returned by quoteOn for a day on which the cycle had no quote.
var errNoDay = errors.New("no quote on that day")

// quoteOn returns the id of the quote the cycle shows on day.
func (v *cycleView) quoteOn(ctx context.Context, q querier, day int64) (int64, error) {
	var id int64
	var err error
	switch {
	case v.originEnd == nil || day <= *v.originEnd:
		if v.originN == 0 {
			return 0, errNoDay
		}
		err = q.QueryRow(ctx, `SELECT quote_id FROM cycle_slots WHERE cycle = $1 AND origin = $2`,
			v.id, quoter.Origin(day, v.originN)).Scan(&id)
	case day < v.cycle.Start:
		err = q.QueryRow(ctx, `SELECT quote_id FROM cycle_days WHERE cycle = $1 AND day = $2`, v.id, day).Scan(&id)
	default:
		if v.cycle.Live() == 0 {
			return 0, errNoDay
		}
		pin, k := v.cycle.At(day)
		if pin != nil {
			return pin.Quote, nil
		}
		err = q.QueryRow(ctx, `SELECT quote_id FROM cycle_slots WHERE cycle = $1 AND slot = $2`, v.id, v.cycle.SlotOf(k)).Scan(&id)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errNoDay
	} else if err != nil {
		return 0, quoter.Internal(fmt.Sprintf("read the schedule of %s on %s", describeCycle(v.key), quoter.DateOfDay(day)), err)
	}
	return id, nil
}

// describeCycle names a cycle for messages.
func describeCycle(key string) string {
	switch {
	case key == libraryCycle:
		return "the library"
	case strings.HasPrefix(key, "tag:"):
		return fmt.Sprintf("tag %q", strings.TrimPrefix(key, "tag:"))
	case strings.HasPrefix(key, "col:"):
		return fmt.Sprintf("collection %q", strings.TrimPrefix(key, "col:"))
	default:
		return fmt.Sprintf("language %q", strings.TrimPrefix(key, "lang:"))
	}
}

// errNoCycle is the ENOTFOUND of a day asked of a cycle with no quote.
func (db *DB) errNoCycle(key string) error {
	switch {
	case key == libraryCycle:
		return db.errEmpty()
	case strings.HasPrefix(key, "tag:"):
		return quoter.Errorf(quoter.ENOTFOUND, "no quote is tagged %q", strings.TrimPrefix(key, "tag:"))
	case strings.HasPrefix(key, "col:"):
		return quoter.Errorf(quoter.ENOTFOUND, "collection %q has no quotes", strings.TrimPrefix(key, "col:"))
	default:
		return quoter.Errorf(quoter.ENOTFOUND, "no quote is in language %q", strings.TrimPrefix(key, "lang:"))
	}
}

// removedCols are the columns scanQuote reads from removed_quotes r.
const removedCols = `r.id, r.text, r.author, r.source, r.year, r.lang, r.added, r.tag_list, r.modified, r.collection, r.added_by, r.edited_by`

// resolve returns the quote with id for a day of the schedule: a quote of
// the library, or a removed one marked so. Errors: EGONE for a purged
// quote.
func (db *DB) resolve(ctx context.Context, q querier, id int64) (*quoter.Quote, error) {
	qt, err := scanQuote(q.QueryRow(ctx, `SELECT `+quoteCols+` FROM quotes q WHERE q.id = $1`, id))
	if err == nil {
		return qt, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, quoter.Internal(fmt.Sprintf("read quote %d", id), err)
	}
	var purged bool
	qt, err = scanQuote(q.QueryRow(ctx, `SELECT `+removedCols+`, r.purged FROM removed_quotes r WHERE r.id = $1`, id), &purged)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, quoter.Internal(fmt.Sprintf("the schedule names quote %d, which is nowhere", id), err)
	case err != nil:
		return nil, quoter.Internal(fmt.Sprintf("read removed quote %d", id), err)
	case purged:
		return nil, quoter.Errorf(quoter.EGONE, "quote #%d, the quote of that day, was removed from the library for good", id)
	}
	qt.Removed = true
	return qt, nil
}

// scheduled walks the cycle key from day on, for at most steps days, and
// returns the first day's quote that pass accepts; nil when none does.
// Days whose quote was purged are passed over in a walk of more than one
// day. It reads one snapshot of the database, normally of generation gen;
// ok is false only when the read failed before it began.
func (db *DB) scheduled(ctx context.Context, gen int64, key string, day int64, steps int, pass func(*quoter.Quote) bool) (found *quoter.Quote, ok bool, err error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, false, quoter.Internal("read the schedule: begin", err)
	}
	defer tx.Rollback(ctx)
	var g int64
	if err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'generation'`).Scan(&g); err != nil {
		return nil, false, quoter.Internal("read the schedule: generation", err)
	}
	// A snapshot newer than gen (a change not heard of yet) is read as
	// it is: its answer is as true, and the cache, told of the change
	// soon, drops whatever was kept of gen. Only gen's cycle is kept.
	var v *cycleView
	ok = false
	if g == gen {
		v, ok = db.cache.Cycle(gen, key)
	}
	if !ok {
		if v, err = loadCycle(ctx, tx, key); err != nil {
			return nil, false, err
		}
		if g == gen {
			db.cache.SetCycle(gen, key, v)
		}
	}
	if v == nil {
		return nil, true, db.errNoCycle(key)
	}
	for d := day; d < day+int64(steps); d++ {
		id, err := v.quoteOn(ctx, tx, d)
		if errors.Is(err, errNoDay) {
			return nil, true, db.errNoCycle(key)
		} else if err != nil {
			return nil, true, err
		}
		qt, err := db.resolve(ctx, tx, id)
		switch {
		case quoter.ErrorCode(err) == quoter.EGONE && steps > 1:
			continue
		case err != nil:
			return nil, true, err
		case pass(qt):
			return qt, true, nil
		}
	}
	return nil, true, nil
}

// scheduleTx records, inside one write transaction, what a change does to
// the cycles it touches: begin ends the current epoch at the frontier
// (writing down its days) before anything moves; insert and remove move
// quotes; finish starts the new epoch the day after the frontier.
type scheduleTx struct {
	ctx      context.Context
	tx       pgx.Tx
	seed     uint64
	frontier int64 // the last day that has begun somewhere
	cycles   map[string]*cycleChange
	order    []string
	private  map[string]bool // collections' privacy, as read in tx
}

// cycleChange is one cycle being changed.
type cycleChange struct {
	cycleView
	fresh   bool    // the cycle never had a quote: it gets an origin epoch at finish
	members []int64 // of a fresh cycle
	last    int64   // the last day of the ended epoch
	pointer int     // the slot the cycle would show next, after last

	// Placements of added quotes, decided in memory and written by flush
	// in a few statements.
	base   int           // slots before this change; added slots follow
	added  []placed      // slots base, base+1, ...: who ends up there
	placed map[int]int64 // slots below base given to an added quote
}

// placed is who ends up in a slot added by the change: an added quote, or
// the quote that stood in slot from (which keeps its row) when quote is 0.
type placed struct {
	quote int64
	from  int
}

// newScheduleTx starts recording in tx, for a change made at the instant
// whose frontier is frontier.
func newScheduleTx(ctx context.Context, tx pgx.Tx, frontier quoter.Date) (*scheduleTx, error) {
	var seed int64
	if err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'seed'`).Scan(&seed); err != nil {
		return nil, quoter.Internal("read the shuffle seed", err)
	}
	return &scheduleTx{ctx: ctx, tx: tx, seed: uint64(seed), frontier: frontier.DayNumber(), cycles: map[string]*cycleChange{}, private: map[string]bool{}}, nil
}

// public reports whether the collection name is public, creating it
// (public) when the library has no such collection: adding a quote to a
// collection makes it, as fortune(6) makes a database of a file.
func (s *scheduleTx) public(name string) (bool, error) {
	if p, ok := s.private[name]; ok {
		return !p, nil
	}
	var p bool
	err := s.tx.QueryRow(s.ctx, `SELECT private FROM collections WHERE name = $1`, name).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := quoter.ValidCollection(name); err != nil {
			return false, err
		}
		if _, err := s.tx.Exec(s.ctx, `INSERT INTO collections (name) VALUES ($1)`, name); err != nil {
			return false, quoter.Internal(fmt.Sprintf("create collection %q", name), err)
		}
	} else if err != nil {
		return false, quoter.Internal(fmt.Sprintf("read collection %q", name), err)
	}
	s.private[name] = p
	return !p, nil
}

// keys returns the cycles q belongs to (see cycleKeys).
func (s *scheduleTx) keys(q *quoter.Quote) ([]string, error) {
	public, err := s.public(q.Collection)
	if err != nil {
		return nil, err
	}
	return cycleKeys(q, public), nil
}

// begin returns the cycle key ready for changes, ending its epoch first.
func (s *scheduleTx) begin(key string) (*cycleChange, error) {
	if c, ok := s.cycles[key]; ok {
		return c, nil
	}
	v, err := loadCycle(s.ctx, s.tx, key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = &cycleView{key: key}
		if err := s.tx.QueryRow(s.ctx, `INSERT INTO cycles (key) VALUES ($1) RETURNING id`, key).Scan(&v.id); err != nil {
			return nil, quoter.Internal("create cycle "+describeCycle(key), err)
		}
	}
	c := &cycleChange{cycleView: *v, fresh: v.cycle.Slots == 0}
	s.cycles[key] = c
	s.order = append(s.order, key)
	if c.fresh {
		return c, nil
	}
	// A process whose clock ran ahead may have started the epoch later
	// than this frontier: its days are not rewritten either.
	c.last = max(s.frontier, c.cycle.Start-1)
	switch {
	case c.originEnd == nil:
		c.pointer = quoter.Origin(c.last+1, c.originN)
		last := c.last
		c.originEnd = &last
	case c.cycle.Live() == 0:
		c.pointer = c.cycle.Slots
	default:
		if err := s.writeDays(c); err != nil {
			return nil, err
		}
		_, k := c.cycle.At(c.last + 1)
		c.pointer = c.cycle.SlotOf(k)
	}
	// Pins are read again when the epoch is: they belong to it.
	c.cycle.Pins = nil
	c.cycle.Prepare()
	return c, nil
}

// writeDays writes down the days of c's current epoch up to c.last.
func (s *scheduleTx) writeDays(c *cycleChange) error {
	if c.cycle.Start > c.last {
		return nil
	}
	var days, ids []int64
	for day := c.cycle.Start; day <= c.last; day++ {
		id, err := c.quoteOn(s.ctx, s.tx, day)
		if err != nil {
			return err
		}
		days, ids = append(days, day), append(ids, id)
	}
	if _, err := s.tx.Exec(s.ctx, `INSERT INTO cycle_days (cycle, day, quote_id)
		SELECT $1, d, q FROM unnest($2::bigint[], $3::bigint[]) AS u(d, q)`, c.id, days, ids); err != nil {
		return quoter.Internal(fmt.Sprintf("record the past days of %s", describeCycle(c.key)), err)
	}
	return nil
}

// insert adds quote id to the cycle key, at a random place among the slots
// not yet shown in the current pass.
func (s *scheduleTx) insert(key string, id int64) error {
	c, err := s.begin(key)
	if err != nil {
		return err
	}
	if c.fresh {
		c.members = append(c.members, id)
		return nil
	}
	// The new quote takes a new slot at the end, then swaps with a slot
	// drawn among those not shown yet in this pass (or keeps the end).
	end := c.cycle.Slots
	from := c.cycle.IndexOf(c.pointer)
	unshown := c.cycle.Live() - from
	if c.placed == nil {
		c.base, c.placed = end, map[int]int64{}
	}
	r := rand.IntN(unshown + 1)
	switch slot := c.cycle.SlotOf(from + r); {
	case r == unshown:
		c.added = append(c.added, placed{quote: id})
	case slot >= c.base:
		c.added = append(c.added, c.added[slot-c.base])
		c.added[slot-c.base] = placed{quote: id}
	default:
		if q, ok := c.placed[slot]; ok {
			c.added = append(c.added, placed{quote: q})
		} else {
			c.added = append(c.added, placed{from: slot})
		}
		c.placed[slot] = id
	}
	c.cycle.Slots++
	return nil
}

// flush writes the placements insert decided: first the quotes that move
// out of a slot of the pass to an added one, then the added quotes, each
// in one statement.
func (s *scheduleTx) flush(c *cycleChange) error {
	if len(c.added) == 0 {
		return nil
	}
	var srcs, dsts, slots []int32
	var quotes []int64
	for i, p := range c.added {
		if p.quote == 0 {
			srcs, dsts = append(srcs, int32(p.from)), append(dsts, int32(c.base+i))
		} else {
			slots, quotes = append(slots, int32(c.base+i)), append(quotes, p.quote)
		}
	}
	moved := make([]int, 0, len(c.placed))
	for slot := range c.placed {
		moved = append(moved, slot)
	}
	slices.SortFunc(moved, cmp.Compare)
	for _, slot := range moved {
		slots, quotes = append(slots, int32(slot)), append(quotes, c.placed[slot])
	}
	if len(srcs) > 0 {
		if _, err := s.tx.Exec(s.ctx, `UPDATE cycle_slots s SET slot = m.dst
			FROM unnest($2::int[], $3::int[]) AS m(src, dst)
			WHERE s.cycle = $1 AND s.slot = m.src`, c.id, srcs, dsts); err != nil {
			return quoter.Internal("move quotes to the end of "+describeCycle(c.key), err)
		}
	}
	if _, err := s.tx.Exec(s.ctx, `INSERT INTO cycle_slots (cycle, slot, quote_id)
		SELECT $1, slot, q FROM unnest($2::int[], $3::bigint[]) AS u(slot, q)`, c.id, slots, quotes); err != nil {
		return quoter.Internal("schedule the added quotes in "+describeCycle(c.key), err)
	}
	c.added, c.placed = nil, nil
	return nil
}

// remove takes quote id out of the cycle key, leaving a hole.
func (s *scheduleTx) remove(key string, id int64) error {
	c, err := s.begin(key)
	if err != nil {
		return err
	}
	if c.fresh {
		c.members = slices.DeleteFunc(c.members, func(m int64) bool { return m == id })
		return nil
	}
	if err := s.flush(c); err != nil {
		return err
	}
	var slot int32
	err = s.tx.QueryRow(s.ctx, `UPDATE cycle_slots SET live = false WHERE cycle = $1 AND quote_id = $2 AND live RETURNING slot`, c.id, id).Scan(&slot)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return quoter.Internal(fmt.Sprintf("unschedule quote %d from %s", id, describeCycle(key)), err)
	}
	c.cycle.AddHole(int(slot))
	return nil
}

// add adds quote q, just stored, to its cycles, creating its collection
// when the library has none of that name.
func (s *scheduleTx) add(q *quoter.Quote) error {
	keys, err := s.keys(q)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if err := s.insert(key, q.ID); err != nil {
			return err
		}
	}
	return nil
}

// finish starts the new epoch of every cycle changed, and gives fresh
// cycles their origin.
func (s *scheduleTx) finish() error {
	for _, key := range s.order {
		c := s.cycles[key]
		if c.fresh {
			if err := s.origin(c); err != nil {
				return err
			}
			continue
		}
		if err := s.flush(c); err != nil {
			return err
		}
		pos := 0
		if n := c.cycle.Live(); n > 0 && c.pointer < c.cycle.Slots {
			if pos = c.cycle.IndexOf(c.pointer); pos >= n {
				pos = 0 // the rest of the pass left: a new pass begins
			}
		}
		if _, err := s.tx.Exec(s.ctx, `UPDATE cycles SET slots = $1, origin_end = $2, epoch_start = $3, epoch_pos = $4 WHERE id = $5`,
			c.cycle.Slots, c.originEnd, c.last+1, pos, c.id); err != nil {
			return quoter.Internal("start a new epoch of "+describeCycle(key), err)
		}
	}
	return nil
}

// origin gives a cycle that never had a quote its origin epoch, over every
// day, in the order of quoter.OriginOrder: the library's cycle numbers its
// members by rank, the others by id.
func (s *scheduleTx) origin(c *cycleChange) error {
	members := c.members
	if c.key == libraryCycle {
		rows, err := s.tx.Query(s.ctx, `SELECT id FROM quotes ORDER BY rank`)
		if err != nil {
			return quoter.Internal("list quotes for the schedule", err)
		}
		if members, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return quoter.Internal("list quotes for the schedule", err)
		}
	} else {
		slices.Sort(members)
	}
	n := len(members)
	slots := make([]int32, n)
	ids := make([]int64, n)
	for k, m := range quoter.OriginOrder(quoter.CycleSeed(s.seed, c.key), n) {
		slots[k], ids[k] = int32(k), members[m]
	}
	if _, err := s.tx.Exec(s.ctx, `INSERT INTO cycle_slots (cycle, slot, quote_id, origin)
		SELECT $1, k, q, k FROM unnest($2::int[], $3::bigint[]) AS u(k, q)`, c.id, slots, ids); err != nil {
		return quoter.Internal("schedule "+describeCycle(c.key), err)
	}
	if _, err := s.tx.Exec(s.ctx, `UPDATE cycles SET slots = $1, origin_n = $1, origin_end = NULL, epoch_start = 0, epoch_pos = 0 WHERE id = $2`,
		n, c.id); err != nil {
		return quoter.Internal("schedule "+describeCycle(c.key), err)
	}
	return nil
}
