// Package quotesd holds the quote library that ships with quotesd, built into
// the binary so that `quotesd init` (and a first run anywhere without a
// library) can create one without any file at hand.
//
// quotes.db is generated from library/quotes.json, the reviewable source:
// edit the JSON, then run `go generate ./...` to rebuild it. A test checks
// that the two agree.
package quotesd

import _ "embed" // for go:embed

//go:generate go run ./library/mkdb -o quotes.db library/quotes.json

// Library is the shipped quotes.db: a SQLite file in rollback journal mode,
// ready to be written out as it is.
//
//go:embed quotes.db
var Library []byte
