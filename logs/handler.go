package logs

import (
	"fmt"
	"io"
	"log/slog"
)

// Handler returns a handler writing records to w in format ("text" or
// "json"), at the level lv.
func Handler(w io.Writer, format string, lv slog.Leveler) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: want text or json", format)
}
