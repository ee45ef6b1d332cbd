package qotd

import (
	"net/netip"
	"strings"
	"testing"
)

func TestToASCII(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"“Hope” is the thing with feathers —", `"Hope" is the thing with feathers --`},
		{"Whether ’tis nobler", "Whether 'tis nobler"},
		{"1914–1918…", "1914-1918..."},
		{"café 日本", "caf? ??"},
		{"«non»", `"non"`},
	}
	for _, tt := range tests {
		if got := ToASCII(tt.in); got != tt.want {
			t.Errorf("ToASCII(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDropReason_RefusesLoopPortsAndNonUnicastSources(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"127.0.0.1:40000", ""},
		{"[::1]:40000", ""},
		{"[::ffff:127.0.0.1]:40000", ""},
		{"127.0.0.1:7", reasonLoopPort},
		{"127.0.0.1:9", reasonLoopPort},
		{"127.0.0.1:13", reasonLoopPort},
		{"[::1]:17", reasonLoopPort},
		{"127.0.0.1:19", reasonLoopPort},
		{"127.0.0.1:37", reasonLoopPort},
		{"127.0.0.1:0", reasonLoopPort},
		{"0.0.0.0:40000", reasonBadSource},
		{"[::]:40000", reasonBadSource},
		{"224.0.0.1:40000", reasonBadSource},
		{"[ff02::1]:40000", reasonBadSource},
		{"255.255.255.255:40000", reasonBadSource},
	}
	for _, tt := range tests {
		if got := dropReason(netip.MustParseAddrPort(tt.src)); got != tt.want {
			t.Errorf("dropReason(%s) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"daily", "random"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMode("hourly"); err == nil || !strings.Contains(err.Error(), "hourly") {
		t.Errorf("ParseMode(hourly) err = %v, want one naming the value", err)
	}
}
