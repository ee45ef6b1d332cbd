package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/quotesd/quotesd/quoter"
)

// This file records and reads the schedule of quotes of the day: the cycles
// of migration/004_schedule.sql, walked with quoter.Cycle. Reads never
// write; every change to the library updates the cycles it touches in its
// own transaction (see scheduleTx).

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

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// preparedTx runs the read path's queries, a fixed set of SQL texts, in a
// read transaction with statements prepared once per connection (DB.stmt),
// not parsed again on every quote of the day a memo misses. It never
// prepares while its transaction holds a connection: with every pooled
// connection held by a transaction waiting to prepare, nothing would be
// left to prepare on. A query not prepared yet runs unprepared, and
// prepareMisses prepares it after the transaction.
type preparedTx struct {
	db     *DB
	tx     *sql.Tx
	misses *[]string
}

func (p preparedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	p.db.stmtMu.Lock()
	st, ok := p.db.stmts[query]
	p.db.stmtMu.Unlock()
	if !ok {
		*p.misses = append(*p.misses, query)
		return nil
	}
	return p.tx.StmtContext(ctx, st)
}

func (p preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, query, args...)
}

func (p preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.tx.QueryRowContext(ctx, query, args...)
}

func (p preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.tx.ExecContext(ctx, query, args...) // reads never write
}

// prepareMisses prepares the queries a preparedTx ran unprepared, once its
// transaction has given its connection back.
func (p preparedTx) prepareMisses(ctx context.Context) {
	for _, q := range *p.misses {
		p.db.stmt(ctx, q) // an error shows when the query runs unprepared
	}
}

// cycleView is one cycle as stored at one generation.
type cycleView struct {
	id        int64
	key       string
	originN   int
	originEnd sql.NullInt64 // last day of the origin epoch; invalid while it is current
	cycle     quoter.Cycle  // the current epoch
}

// loadCycle reads the cycle named key; nil when there is none.
func loadCycle(ctx context.Context, q querier, key string) (*cycleView, error) {
	v := &cycleView{key: key}
	err := q.QueryRowContext(ctx, `SELECT id, slots, origin_n, origin_end, epoch_start, epoch_pos FROM cycles WHERE key = ?`, key).
		Scan(&v.id, &v.cycle.Slots, &v.originN, &v.originEnd, &v.cycle.Start, &v.cycle.Pos)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, quoter.Internal("read cycle "+describeCycle(key), err)
	}
	rows, err := q.QueryContext(ctx, `SELECT slot FROM cycle_slots WHERE cycle = ? AND live = 0 ORDER BY slot`, v.id)
	if err != nil {
		return nil, quoter.Internal("read holes of cycle "+describeCycle(key), err)
	}
	defer rows.Close()
	for rows.Next() {
		var s int
		if err := rows.Scan(&s); err != nil {
			return nil, quoter.Internal("read holes of cycle "+describeCycle(key), err)
		}
		v.cycle.Holes = append(v.cycle.Holes, s)
	}
	if err := rows.Err(); err != nil {
		return nil, quoter.Internal("read holes of cycle "+describeCycle(key), err)
	}
	if key == libraryCycle && v.originEnd.Valid {
		if err := v.loadPins(ctx, q); err != nil {
			return nil, err
		}
	}
	v.cycle.Prepare()
	return v, nil
}

// loadPins reads the pins of the current epoch, and of as many days before
// it as the cycle holds quotes (see quoter.Cycle.Prepare), with the live
// index of each
// pinned quote.
func (v *cycleView) loadPins(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, `SELECT p.day, p.quote_id, s.slot FROM pins p
		LEFT JOIN cycle_slots s ON s.cycle = ? AND s.quote_id = p.quote_id AND s.live = 1
		WHERE p.day >= ? ORDER BY p.day`, v.id, v.cycle.Start-int64(v.cycle.Live()))
	if err != nil {
		return quoter.Internal("read pins", err)
	}
	defer rows.Close()
	v.cycle.Pins = v.cycle.Pins[:0]
	for rows.Next() {
		var p quoter.Pin
		var slot sql.NullInt64
		if err := rows.Scan(&p.Day, &p.Quote, &slot); err != nil {
			return quoter.Internal("read pins", err)
		}
		p.Index = -1
		if slot.Valid {
			p.Index = v.cycle.IndexOf(int(slot.Int64))
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
	case !v.originEnd.Valid || day <= v.originEnd.Int64:
		if v.originN == 0 {
			return 0, errNoDay
		}
		err = q.QueryRowContext(ctx, `SELECT quote_id FROM cycle_slots WHERE cycle = ? AND origin = ?`,
			v.id, quoter.Origin(day, v.originN)).Scan(&id)
	case day < v.cycle.Start:
		err = q.QueryRowContext(ctx, `SELECT quote_id FROM cycle_days WHERE cycle = ? AND day = ?`, v.id, day).Scan(&id)
	default:
		if v.cycle.Live() == 0 {
			return 0, errNoDay
		}
		pin, k := v.cycle.At(day)
		if pin != nil {
			return pin.Quote, nil
		}
		id, err = slotQuote(ctx, q, v.id, v.cycle.SlotOf(k))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoDay
	} else if err != nil {
		return 0, quoter.Internal(fmt.Sprintf("read the schedule of %s on %s", describeCycle(v.key), quoter.DateOfDay(day)), err)
	}
	return id, nil
}

func slotQuote(ctx context.Context, q querier, cycle int64, slot int) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT quote_id FROM cycle_slots WHERE cycle = ? AND slot = ?`, cycle, slot).Scan(&id)
	return id, err
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

// resolve returns the quote with id for a day of the schedule: a quote of
// the library, or a removed one marked so. Errors: EGONE for a purged
// quote.
func (db *DB) resolve(ctx context.Context, q querier, id int64) (*quoter.Quote, error) {
	qt, err := scanQuote(q.QueryRowContext(ctx, `SELECT `+db.sql.cols+` FROM quotes q WHERE q.id = ?`, id))
	if err == nil {
		return qt, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, quoter.Internal(fmt.Sprintf("read quote %d", id), err)
	}
	var purged bool
	qt, err = scanQuote(q.QueryRowContext(ctx, `SELECT `+db.sql.removedCols+`, r.purged FROM removed_quotes r WHERE r.id = ?`, id), &purged)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
// day (no medium can show them). It reads at generation gen; ok is false
// when the library has moved past gen, so that the caller reads the state
// again.
func (db *DB) scheduled(ctx context.Context, gen int64, key string, day int64, steps int, pass func(*quoter.Quote) bool) (found *quoter.Quote, ok bool, err error) {
	// One read transaction: the cycle, the days' slots and the quotes are
	// read from one snapshot of the file, which must be generation gen.
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, quoter.Internal("read the schedule: begin", err)
	}
	q := preparedTx{db, tx, new([]string)}
	defer q.prepareMisses(ctx) // deferred first: runs after the rollback
	defer tx.Rollback()
	var g int64
	if err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'generation'`).Scan(&g); err != nil {
		return nil, false, quoter.Internal("read the schedule: generation", err)
	}
	if g != gen {
		return nil, false, nil
	}
	v, ok := db.cache.Cycle(gen, key)
	if !ok {
		if v, err = loadCycle(ctx, q, key); err != nil {
			return nil, false, err
		}
		db.cache.SetCycle(gen, key, v)
	}
	if v == nil {
		return nil, true, db.errNoCycle(key)
	}
	for d := day; d < day+int64(steps); d++ {
		id, err := v.quoteOn(ctx, q, d)
		if errors.Is(err, errNoDay) {
			return nil, true, db.errNoCycle(key)
		} else if err != nil {
			return nil, true, err
		}
		qt, err := db.resolve(ctx, q, id)
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
// the cycles it touches. For each cycle, begin ends the current epoch at
// the frontier (writing down its days) before anything moves; insert and
// remove move quotes; finish starts the new epoch the day after the
// frontier. Every method is a no-op for cycles the change does not touch.
type scheduleTx struct {
	ctx      context.Context
	tx       *sql.Tx
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
	// in a few statements sorted by slot: an import of many quotes would
	// otherwise write each at a random place of a large table, twice.
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
func newScheduleTx(ctx context.Context, tx *sql.Tx, frontier quoter.Date) (*scheduleTx, error) {
	var seed int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seed'`).Scan(&seed); err != nil {
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
	err := s.tx.QueryRowContext(s.ctx, `SELECT private FROM collections WHERE name = ?`, name).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		if err := quoter.ValidCollection(name); err != nil {
			return false, err
		}
		if _, err := s.tx.ExecContext(s.ctx, `INSERT INTO collections (name) VALUES (?)`, name); err != nil {
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
		res, err := s.tx.ExecContext(s.ctx, `INSERT INTO cycles (key) VALUES (?)`, key)
		if err != nil {
			return nil, quoter.Internal("create cycle "+describeCycle(key), err)
		}
		v = &cycleView{key: key}
		if v.id, err = res.LastInsertId(); err != nil {
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
	case !c.originEnd.Valid:
		c.pointer = quoter.Origin(c.last+1, c.originN)
		c.originEnd = sql.NullInt64{Int64: c.last, Valid: true}
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
	ins, err := s.tx.PrepareContext(s.ctx, `INSERT INTO cycle_days (cycle, day, quote_id) VALUES (?, ?, ?)`)
	if err != nil {
		return quoter.Internal("record past days: prepare", err)
	}
	defer ins.Close()
	for day := c.cycle.Start; day <= c.last; day++ {
		id, err := c.quoteOn(s.ctx, s.tx, day)
		if err != nil {
			return err
		}
		if _, err := ins.ExecContext(s.ctx, c.id, day, id); err != nil {
			return quoter.Internal(fmt.Sprintf("record the quote of %s for %s", quoter.DateOfDay(day), describeCycle(c.key)), err)
		}
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

// flushBatch is how many slots flush writes with one statement.
const flushBatch = 5000

// flush writes the placements insert decided: first the quotes that move
// out of a slot of the pass to an added one, then the added quotes, each
// in slot order and a few thousand to a statement.
func (s *scheduleTx) flush(c *cycleChange) error {
	if len(c.added) == 0 {
		return nil
	}
	var moves, adds [][2]int64
	for i, p := range c.added {
		if p.quote == 0 {
			moves = append(moves, [2]int64{int64(p.from), int64(c.base + i)})
		} else {
			adds = append(adds, [2]int64{int64(c.base + i), p.quote})
		}
	}
	for slot, id := range c.placed {
		adds = append(adds, [2]int64{int64(slot), id})
	}
	slices.SortFunc(moves, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	slices.SortFunc(adds, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	// The moves go through a temporary table keyed by the slot moved, so
	// that SQLite looks each row up by its key: joined with json_each in
	// an UPDATE ... FROM, it scans the whole cycle for every row.
	for _, stmt := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS schedule_moves (src INTEGER PRIMARY KEY, dst INTEGER NOT NULL)`,
		`DELETE FROM temp.schedule_moves`,
	} {
		if _, err := s.tx.ExecContext(s.ctx, stmt); err != nil {
			return quoter.Internal("move quotes in "+describeCycle(c.key), err)
		}
	}
	if err := s.execPairs(`INSERT INTO temp.schedule_moves (src, dst)
		SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)`, c.id, moves); err != nil {
		return quoter.Internal("move quotes in "+describeCycle(c.key), err)
	}
	if _, err := s.tx.ExecContext(s.ctx, `UPDATE cycle_slots
		SET slot = (SELECT m.dst FROM temp.schedule_moves m WHERE m.src = cycle_slots.slot)
		WHERE cycle = ? AND slot IN (SELECT src FROM temp.schedule_moves)`, c.id); err != nil {
		return quoter.Internal("move quotes to the end of "+describeCycle(c.key), err)
	}
	if err := s.execPairs(`INSERT INTO cycle_slots (cycle, slot, quote_id)
		SELECT ?2, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)`, c.id, adds); err != nil {
		return quoter.Internal("schedule the added quotes in "+describeCycle(c.key), err)
	}
	c.added, c.placed = nil, nil
	return nil
}

// execPairs runs query with pairs as a JSON array (?1), a few thousand at a
// time, and the cycle's id as ?2.
func (s *scheduleTx) execPairs(query string, cycle int64, pairs [][2]int64) error {
	for chunk := range slices.Chunk(pairs, flushBatch) {
		b, err := json.Marshal(chunk)
		if err != nil {
			return err
		}
		if _, err := s.tx.ExecContext(s.ctx, query, string(b), cycle); err != nil {
			return err
		}
	}
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
	var slot int
	err = s.tx.QueryRowContext(s.ctx, `SELECT slot FROM cycle_slots WHERE cycle = ? AND quote_id = ? AND live = 1`, c.id, id).Scan(&slot)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return quoter.Internal(fmt.Sprintf("find quote %d in %s", id, describeCycle(key)), err)
	}
	if _, err := s.tx.ExecContext(s.ctx, `UPDATE cycle_slots SET live = 0 WHERE cycle = ? AND slot = ?`, c.id, slot); err != nil {
		return quoter.Internal(fmt.Sprintf("unschedule quote %d from %s", id, describeCycle(key)), err)
	}
	c.cycle.AddHole(slot)
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
		if _, err := s.tx.ExecContext(s.ctx, `UPDATE cycles SET slots = ?, origin_end = ?, epoch_start = ?, epoch_pos = ? WHERE id = ?`,
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
		var err error
		if members, err = idsByRank(s.ctx, s.tx); err != nil {
			return err
		}
	} else {
		slices.Sort(members)
	}
	return writeOrigin(s.ctx, s.tx, c.id, c.key, s.seed, members)
}

// idsByRank lists the library's quote ids in rank order.
func idsByRank(ctx context.Context, q querier) ([]int64, error) {
	return queryIDs(ctx, q, `SELECT id FROM quotes ORDER BY rank`)
}

func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, quoter.Internal("list quotes for the schedule", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, quoter.Internal("list quotes for the schedule", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, quoter.Internal("list quotes for the schedule", err)
	}
	return ids, nil
}

// writeOrigin fills cycle id with members in origin order.
func writeOrigin(ctx context.Context, tx *sql.Tx, id int64, key string, seed uint64, members []int64) error {
	n := len(members)
	ins, err := tx.PrepareContext(ctx, `INSERT INTO cycle_slots (cycle, slot, quote_id, origin) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return quoter.Internal("schedule "+describeCycle(key)+": prepare", err)
	}
	defer ins.Close()
	for k, m := range quoter.OriginOrder(quoter.CycleSeed(seed, key), n) {
		if _, err := ins.ExecContext(ctx, id, k, members[m], k); err != nil {
			return quoter.Internal("schedule "+describeCycle(key), err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cycles SET slots = ?, origin_n = ?, origin_end = NULL, epoch_start = 0, epoch_pos = 0 WHERE id = ?`,
		n, n, id); err != nil {
		return quoter.Internal("schedule "+describeCycle(key), err)
	}
	return nil
}

// scheduleMigration is the Go step of migration 4: it gives every cycle of
// the library as it stands its origin epoch. The library's cycle then shows
// on every day exactly what quotesd showed before version 4.
func scheduleMigration(ctx context.Context, tx *sql.Tx) error {
	var seed int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seed'`).Scan(&seed); err != nil {
		return quoter.Internal("read the shuffle seed", err)
	}
	cycles := map[string][]int64{}
	ids, err := idsByRank(ctx, tx)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	cycles[libraryCycle] = ids
	rows, err := tx.QueryContext(ctx, `SELECT id, lang, tag_list FROM quotes ORDER BY id`)
	if err != nil {
		return quoter.Internal("list quotes for the schedule", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var lang, tags string
		if err := rows.Scan(&id, &lang, &tags); err != nil {
			return quoter.Internal("list quotes for the schedule", err)
		}
		cycles[langCycle(lang)] = append(cycles[langCycle(lang)], id)
		for _, t := range splitTags(tags) {
			cycles[tagCycle(t)] = append(cycles[tagCycle(t)], id)
		}
	}
	if err := rows.Err(); err != nil {
		return quoter.Internal("list quotes for the schedule", err)
	}
	rows.Close()
	keys := make([]string, 0, len(cycles))
	for k := range cycles {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		res, err := tx.ExecContext(ctx, `INSERT INTO cycles (key) VALUES (?)`, key)
		if err != nil {
			return quoter.Internal("create cycle "+describeCycle(key), err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return quoter.Internal("create cycle "+describeCycle(key), err)
		}
		if err := writeOrigin(ctx, tx, id, key, uint64(seed), cycles[key]); err != nil {
			return err
		}
	}
	return nil
}

// curationMigration is the Go step of migration 5: the collection
// 'classics', which every quote of the library is now in, gets a cycle
// that is a copy of the library's, so that its quote of the day is the
// library's until the two differ (pins, which only the library's cycle
// has, and collections added later make them part).
func curationMigration(ctx context.Context, tx *sql.Tx) error {
	var lib int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM cycles WHERE key = ?`, libraryCycle).Scan(&lib)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // an empty library: the cycle begins with its first quote
	} else if err != nil {
		return quoter.Internal("read the library's cycle", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO cycles (key, slots, origin_n, origin_end, epoch_start, epoch_pos)
		SELECT ?, slots, origin_n, origin_end, epoch_start, epoch_pos FROM cycles WHERE id = ?`, collectionCycle(quoter.DefaultCollection), lib)
	if err != nil {
		return quoter.Internal("create the cycle of collection classics", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return quoter.Internal("create the cycle of collection classics", err)
	}
	for _, stmt := range []string{
		`INSERT INTO cycle_slots (cycle, slot, quote_id, origin, live) SELECT ?1, slot, quote_id, origin, live FROM cycle_slots WHERE cycle = ?2`,
		`INSERT INTO cycle_days (cycle, day, quote_id) SELECT ?1, day, quote_id FROM cycle_days WHERE cycle = ?2`,
	} {
		if _, err := tx.ExecContext(ctx, stmt, id, lib); err != nil {
			return quoter.Internal("copy the library's cycle to collection classics", err)
		}
	}
	return nil
}
