// Command load measures a QOTD server over TCP: c clients each connect,
// read the reply to the end and close, again and again for d; it prints
// connections per second and latency percentiles (connect to end of reply).
// With -idle N it first opens N connections that never read nor close, and
// checks that the others are still served. With -send it writes a request
// first (Finger's query line: -send '\r\n'), in one write after connecting.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:1717", "server address")
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 5*time.Second, "duration")
	idle := flag.Int("idle", 0, "idle connections to hold open during the run")
	label := flag.String("label", "", "name printed with the figures")
	send := flag.String("send", "", "what each client writes once connected, with Go escapes (Finger: '\\r\\n' for today's quote)")
	tsv := flag.Bool("tsv", false, "print one machine-readable line instead: conns/s, p50 ms, p99 ms, served, errors, unanswered (tab-separated)")
	flag.Parse()
	request, err := strconv.Unquote(`"` + *send + `"`)
	if err != nil {
		fmt.Fprintf(os.Stderr, "-send %q: %v\n", *send, err)
		os.Exit(2)
	}

	var idlers []net.Conn
	for i := 0; i < *idle; i++ {
		c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idle connection %d: %v\n", i, err)
			os.Exit(1)
		}
		idlers = append(idlers, c)
	}

	var mu sync.Mutex
	var all []time.Duration
	errs, empty := 0, 0
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			e, z := 0, 0
			buf := make([]byte, 1024)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				c, err := net.Dial("tcp", *addr)
				if err != nil {
					e++
					continue
				}
				if request != "" {
					if _, err := io.WriteString(c, request); err != nil {
						e++
						c.Close()
						continue
					}
				}
				n := 0
				for {
					m, err := c.Read(buf)
					n += m
					if err == io.EOF {
						break
					} else if err != nil {
						e++
						break
					}
				}
				c.Close()
				if n == 0 {
					z++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += e
			empty += z
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, c := range idlers {
		c.Close()
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	if *tsv {
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		fmt.Printf("%.1f\t%.3f\t%.3f\t%d\t%d\t%d\n", float64(len(all))/elapsed.Seconds(), ms(pct(0.50)), ms(pct(0.99)), len(all), errs, empty)
	} else {
		fmt.Printf("%-10s conns/s %8.0f  p50 %8v  p99 %8v  served %d  errors %d  unanswered %d  idle %d\n",
			*label, float64(len(all))/elapsed.Seconds(), pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), len(all), errs, empty, *idle)
	}
	if len(all) == 0 || errs > 0 {
		os.Exit(1)
	}
}
