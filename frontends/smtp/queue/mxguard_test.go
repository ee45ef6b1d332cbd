package queue_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotesd/quotesd/frontends/smtp/queue"
	"github.com/quotesd/quotesd/frontends/smtp/smtptest"
)

// countingListener accepts connections on 127.0.0.1:0, counts them and
// closes them: a host that must never be contacted.
func countingListener(t *testing.T) (port string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

// A forged sender's domain without MX records whose address records point
// at loopback: direct delivery must not connect there (issue #14), and
// since no retry can make the domain deliverable, it drops the reply.
func TestDelivery_DirectMXNeverConnectsToLoopback(t *testing.T) {
	port, accepted := countingListener(t)
	res := &fakeResolver{
		mx: map[string][]*net.MX{"example.org": {{Host: "mx.example.org.", Pref: 10}}},
		hosts: map[string][]string{
			"example.net":    {"127.0.0.1"},
			"mx.example.org": {"::ffff:127.0.0.1", "127.0.0.2"},
		},
	}
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{DirectMX: true, Resolver: res, MXPort: port})
	record(t, q, reply("alice@example.net", 1))
	record(t, q, reply("bob@example.org", 2))
	waitCounts(t, q, 0, 0, 2)
	if n := accepted.Load(); n != 0 {
		t.Errorf("direct delivery made %d connections to loopback, want none", n)
	}
}

// Every special-purpose address is refused before it is dialled, whatever
// dialler is configured.
func TestDelivery_DirectMXNeverDialsSpecialPurposeAddresses(t *testing.T) {
	special := []string{
		"0.0.0.0", "10.0.0.1", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254",
		"100.64.0.1", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1",
		"224.0.0.1", "240.0.0.1", "255.255.255.255",
		"::", "::1", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "fec0::1",
		"::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "2001:db8::1", "100::1", "2001::1",
	}
	res := &fakeResolver{mx: map[string][]*net.MX{}, hosts: map[string][]string{}}
	for i, a := range special {
		host := fmt.Sprintf("mx.d%d.example.org", i)
		res.hosts[host] = []string{a}
		res.mx[fmt.Sprintf("d%d.example.org", i)] = []*net.MX{{Host: host + ".", Pref: 10}}
	}
	var mu sync.Mutex
	var dialled []string
	dial := func(_ context.Context, _, addr string) (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		dialled = append(dialled, addr)
		return nil, errors.New("this test connects nowhere")
	}
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{DirectMX: true, Resolver: res, MXPort: "25", Dial: dial})
	for i := range special {
		record(t, q, reply(fmt.Sprintf("alice@d%d.example.org", i), i+1))
	}
	waitCounts(t, q, 0, 0, len(special))
	mu.Lock()
	defer mu.Unlock()
	if len(dialled) != 0 {
		t.Errorf("dialled %v, want no special-purpose address dialled", dialled)
	}
}

// The check is made again on the address the dialler connects to, after
// any resolution it does itself, so that a name which resolves to a public
// address when looked up and to an internal one when dialled (DNS
// rebinding) gets nowhere.
func TestDelivery_DirectMXDialerRefusesNonPublicAddressAtConnect(t *testing.T) {
	port, accepted := countingListener(t)
	dial := queue.MXDialer(5 * time.Second)
	_, err := dial(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", port))
	if !errors.Is(err, queue.ErrNonPublicAddress) {
		t.Errorf("dialling loopback: err = %v, want %v", err, queue.ErrNonPublicAddress)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the listener accepted %d connections, want none", n)
	}
}

// The relay is the operator's choice, often on loopback: it is exempt.
func TestDelivery_RelayOnLoopbackIsNotChecked(t *testing.T) {
	sink := smtptest.NewSink(t, smtptest.Options{})
	q := openQueue(t, t.TempDir())
	delivery(t, q, queue.Config{Relay: &queue.Relay{Addr: sink.Addr, TLS: queue.TLSNone}})
	record(t, q, reply("alice@example.org", 1))
	sink.Wait(t, 1, 10*time.Second)
}
