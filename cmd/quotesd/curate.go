package main

// The commands of curation: collections (list them, create one, make one
// private or public) and admin passwd (the password a curator signs in to
// the web admin with).

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/quotesd/quotesd/passwd"
	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

func init() {
	subcommands["collections"] = &subcommand{
		summary: "list the collections, or create one and set its title and privacy",
		args:    "[--json] | set NAME [--private|--public] [--title T]",
		detail: "Every quote belongs to one collection (fortune(6) calls them databases); the shipped " +
			"quotes are classics. A public collection is served everywhere; a private one only where " +
			"a filter names it (--collection here, a channel's collection on IRC): it is never drawn, " +
			"listed, searched, counted or made the quote of the day otherwise. Making a collection " +
			"private or public changes the quotes of the days that have not begun anywhere; the past " +
			"keeps its quotes. Adding or importing a quote into a collection that does not exist " +
			"creates it, public.",
		flags:   collectionsCommand,
		choices: []string{"set"},
	}
	subcommands["admin"] = &subcommand{
		summary: "set (or --remove) the password CURATOR signs in to the web admin with",
		args:    "passwd [--remove] [CURATOR]",
		detail: "quotesd admin passwd reads the new password twice from the terminal, without echo, " +
			"or once (its first line) from stdin when stdin is not a terminal, and stores its argon2id " +
			"hash in the library; the password itself is stored nowhere. CURATOR defaults to admin.",
		flags:   adminCommand,
		choices: []string{"passwd"},
	}
}

// defaultCurator is the curator admin passwd sets without a name.
const defaultCurator = "admin"

func collectionsCommand(fs *flag.FlagSet) runFunc {
	private := fs.Bool("private", false, "with set: make the collection private (served only where named)")
	public := fs.Bool("public", false, "with set: make the collection public (served everywhere)")
	title := fs.String("title", "", "with set: the collection's `title`, a name for people")
	asJSON := fs.Bool("json", false, "print a JSON array")
	return func(ctx context.Context, g *globals, args []string) error {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if len(args) == 0 {
			if given["private"] || given["public"] || given["title"] {
				return usagef("--private, --public and --title go with set: 'quotesd collections set NAME --private'")
			}
			return listCollections(ctx, g, *asJSON)
		}
		if args[0] != "set" || len(args) != 2 {
			return usagef("collections takes no arguments (the list), or set NAME, e.g. 'quotesd collections set club-quotes --private'")
		}
		if *private && *public {
			return usagef("--private and --public contradict each other: choose one")
		}
		name := args[1]
		if err := quoter.ValidCollection(name); err != nil {
			return usagef("%s", quoter.ErrorMessage(err))
		}
		var c quoter.Collection
		return changeLibrary(g, func(db *sqlite.DB) error {
			cols, err := db.Collections(ctx)
			if err != nil {
				return err
			}
			c = quoter.Collection{Name: name}
			for _, old := range cols {
				if old.Name == name {
					c = old
				}
			}
			if given["title"] {
				c.Title = *title
			}
			switch {
			case *private:
				c.Private = true
			case *public:
				c.Private = false
			}
			return db.SetCollection(ctx, c)
		}, func() string {
			return fmt.Sprintf("collection %s in %s is %s", name, g.DB, privacy(c.Private))
		})
	}
}

func privacy(private bool) string {
	if private {
		return "private"
	}
	return "public"
}

func listCollections(ctx context.Context, g *globals, asJSON bool) error {
	db, err := openLibrary(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	cols, err := db.Collections(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		b, err := marshal(cols)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
		return err
	}
	w := tabwriter.NewWriter(g.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "COLLECTION\tQUOTES\tSERVED\tTITLE")
	for _, c := range cols {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", c.Name, c.Quotes, privacy(c.Private), c.Title)
	}
	return w.Flush()
}

func adminCommand(fs *flag.FlagSet) runFunc {
	remove := fs.Bool("remove", false, "remove the curator's password: they can no longer sign in")
	return func(ctx context.Context, g *globals, args []string) error {
		if len(args) == 0 || args[0] != "passwd" || len(args) > 2 {
			return usagef("admin takes passwd [CURATOR], e.g. 'quotesd admin passwd' (CURATOR defaults to %s)", defaultCurator)
		}
		curator := defaultCurator
		if len(args) == 2 {
			curator = args[1]
		}
		if err := quoter.ValidCurator(curator); err != nil {
			return usagef("%s", quoter.ErrorMessage(err))
		}
		if *remove {
			return changeLibrary(g, func(db *sqlite.DB) error {
				if _, err := db.PasswordHash(ctx, curator); err != nil {
					return err
				}
				return db.SetPassword(ctx, curator, "")
			}, func() string { return fmt.Sprintf("removed the password of %s from %s", curator, g.DB) })
		}
		pw, err := readPassword(g, curator)
		if err != nil {
			return err
		}
		hash, err := passwd.Hash(pw)
		if err != nil {
			return usagef("%v", err)
		}
		return changeLibrary(g, func(db *sqlite.DB) error { return db.SetPassword(ctx, curator, hash) },
			func() string {
				return fmt.Sprintf("set the password of %s in %s (stored as an argon2id hash)", curator, g.DB)
			})
	}
}

// readPassword reads a new password: twice, without echo, from a
// terminal; else the first line of stdin (a script pipes it in).
func readPassword(g *globals, curator string) (string, error) {
	if f, ok := g.Stdin.(*os.File); ok && isTerminal(f) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(g.Stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(g.Stderr)
			if err != nil {
				return "", fmt.Errorf("reading the password: %w", err)
			}
			return string(b), nil
		}
		pw, err := ask(fmt.Sprintf("New password for %s: ", curator))
		if err != nil {
			return "", err
		}
		again, err := ask("Again: ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("the two passwords differ; nothing was changed")
		}
		return pw, nil
	}
	line, err := bufio.NewReader(io.LimitReader(g.Stdin, passwd.MaxLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", usagef("no password on stdin: pipe one in (printf '%%s\\n' \"$PASSWORD\" | quotesd admin passwd), or run it in a terminal")
	}
	return line, nil
}

// checkCollections returns the error naming a collection of f that the
// library does not have, or nil: a bare "no quote matches" would hide a
// typo.
func checkCollections(ctx context.Context, db *library, f quoter.Filter) error {
	if f.Collection == "" {
		return nil
	}
	_, _, err := db.List(ctx, quoter.Filter{Collection: f.Collection}, quoter.Page{Limit: 1})
	return err
}

// cliProvenance is who changes the library from this shell: the user's
// login name, through the CLI.
func cliProvenance(via string) quoter.Provenance {
	o := quoter.Provenance{Via: via}
	if u, err := user.Current(); err == nil {
		o.By = u.Username
	}
	return o
}
