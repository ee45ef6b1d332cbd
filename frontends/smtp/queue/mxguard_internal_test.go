package queue

import (
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"100.63.255.255", true}, // just below shared address space
		{"100.128.0.0", true},    // just above it
		{"172.32.0.1", true},     // just above 172.16.0.0/12
		{"2606:4700:4700::1111", true},
		{"2a00:1450:4001::1", true},
		{"::ffff:8.8.8.8", true}, // v4-mapped: judged as the IPv4 address
		{"100.64.0.0", false},
		{"172.31.255.255", false},
		{"127.255.255.254", false},
		{"::ffff:192.168.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"fe80::1%eth0", false},
		{"ff05::2", false},
		{"2001:db8::25", false},
		{"3fff::1", false},
	} {
		if got := publicAddr(netip.MustParseAddr(tc.addr)); got != tc.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
}
