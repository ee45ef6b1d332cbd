package main

// The command of the mail subscriptions: list, add, remove and export the
// subscribers, who live in the mail queue's database (the state
// directory's SQLite file, or the PostgreSQL --db).

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	smtpfe "github.com/quotesd/quotesd/frontends/smtp"
	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/quoter/postgres"
	"github.com/quotesd/quotesd/subscribers"
)

func init() {
	subcommands["subscribers"] = &subcommand{
		summary: "list, add, remove or export (CSV) the subscribers of the daily quote by mail",
		args:    "[list] | add ADDRESS [--tag TAG] | remove ADDRESS | export",
		detail: "Mail subscribers (serve --mail-daily) subscribe by mail with double opt-in; the " +
			"operator may add an address directly (it is confirmed at once: only add addresses whose " +
			"owners asked for it). remove deletes an address whatever its state; an unsubscribed " +
			"address stays listed as unsubscribed otherwise. export writes CSV: address, tag, state, " +
			"created, changed (RFC 3339, UTC), bounces; the secret tokens are never printed. The list " +
			"is in the mail queue's database: --state-dir with a SQLite library, the PostgreSQL " +
			"database of --db otherwise.",
		flags:   subscribersCommand,
		choices: []string{"list", "add", "remove", "export"},
	}
}

func subscribersCommand(fs *flag.FlagSet) runFunc {
	stateDir := fs.String("state-dir", "", "the `dir`ectory of the mail queue (with a SQLite --db), as serve's --state-dir; empty: serve's default ($STATE_DIRECTORY, else $XDG_STATE_HOME/quotesd, else ~/.local/state/quotesd)")
	tag := fs.String("tag", "", "with add: the `tag` whose daily quote the address gets")
	return func(ctx context.Context, g *globals, args []string) error {
		verb := "list"
		if len(args) > 0 {
			verb = args[0]
		}
		want := map[string]int{"list": 1, "export": 1, "add": 2, "remove": 2}
		n, ok := want[verb]
		if !ok || len(args) > n || n == 2 && len(args) != 2 {
			return usagef("subscribers takes list, export, add ADDRESS or remove ADDRESS, e.g. 'quotesd subscribers add ann@example.org --tag poetry'")
		}
		if *tag != "" && verb != "add" {
			return usagef("--tag goes with add")
		}
		if verb == "add" {
			if why := smtpfe.ShouldReply(smtpfe.Inbound{Sender: args[1]}, nil); why != "" {
				return usagef("cannot subscribe %q: not an address at a public mail domain (%s)", args[1], why)
			}
		}
		dir := *stateDir
		if dir == "" {
			dir = defaultStateDir()
		}
		q, err := openSubscribersQueue(ctx, g.DB, dir)
		if err != nil {
			return err
		}
		defer q.Close()
		switch verb {
		case "add":
			s, err := q.AddSubscriber(ctx, args[1], strings.ToLower(*tag))
			if err != nil {
				return err
			}
			fmt.Fprintf(g.Stderr, "%s is subscribed (%s)\n", s.Address, describeTag(s.Tag))
			return nil
		case "remove":
			ok, err := q.RemoveSubscriber(ctx, args[1])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is not in the list", strings.ToLower(args[1]))
			}
			fmt.Fprintf(g.Stderr, "%s is removed from the list\n", strings.ToLower(args[1]))
			return nil
		}
		list, err := q.Subscribers(ctx, "", 0, 0)
		if err != nil {
			return err
		}
		if verb == "export" {
			return exportSubscribers(g, list)
		}
		w := tabwriter.NewWriter(g.Stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w, "ADDRESS\tTAG\tSTATE\tSINCE\tBOUNCES")
		for _, s := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", s.Address, s.Tag, s.State, s.Changed.UTC().Format("2006-01-02 15:04"), s.Bounces)
		}
		return w.Flush()
	}
}

func describeTag(tag string) string {
	if tag == "" {
		return "the quote of the day"
	}
	return "the quote of the day tagged " + strconv.Quote(tag)
}

func exportSubscribers(g *globals, list []subscribers.Subscriber) error {
	w := csv.NewWriter(g.Stdout)
	_ = w.Write([]string{"address", "tag", "state", "created", "changed", "bounces"})
	for _, s := range list {
		_ = w.Write([]string{s.Address, s.Tag, string(s.State), s.Created.UTC().Format(time.RFC3339),
			s.Changed.UTC().Format(time.RFC3339), strconv.Itoa(s.Bounces)})
	}
	w.Flush()
	return w.Error()
}

// openSubscribersQueue opens the mail queue where serve keeps it: in the
// PostgreSQL database of --db, or in the state directory.
func openSubscribersQueue(ctx context.Context, db, stateDir string) (*queue.Queue, error) {
	if postgres.IsURL(db) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return queue.OpenPostgres(ctx, db)
	}
	return queue.Open(stateDir)
}
