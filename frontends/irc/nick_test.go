package irc

import "testing"

func TestAltNick(t *testing.T) {
	for _, tt := range []struct {
		nick string
		n    int
		want string
	}{{"quotesd", 1, "quotesd1"}, {"quotesd", 12, "quotesd12"}, {"averylongnick", 3, "averylon3"}} {
		if got := altNick(tt.nick, tt.n); got != tt.want {
			t.Errorf("altNick(%q, %d) = %q, want %q", tt.nick, tt.n, got, tt.want)
		}
	}
}
