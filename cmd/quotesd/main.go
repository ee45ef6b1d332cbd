// Command quotesd serves one quote library over RFC 865, HTTP, SMTP and IRC,
// and works on it from the shell like fortune(6).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		fmt.Fprintln(os.Stderr, "quotesd: serve is not wired yet")
	}
	_ = components
	os.Exit(2)
}
