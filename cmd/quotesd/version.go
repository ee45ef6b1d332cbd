package main

import (
	"context"
	"fmt"
	"runtime"
)

func init() {
	subcommands["version"] = &subcommand{
		summary: "print the version",
		run: func(ctx context.Context, g *globals, args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			_, err := fmt.Fprintf(g.Stdout, "quotesd %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
