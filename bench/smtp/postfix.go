package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// postfixRun measures Postfix as the mail server: the peer a mail
// operator would pick instead of quotesd's frontend. It is a real MTA with
// its durable queue and its defaults (every message fsynced by cleanup
// before smtpd's 250; smtpd -> cleanup -> queue manager -> smtp client),
// accepting mail for the test domain and relaying each message to a fresh
// smtp-sink, as quotesd relays its replies. Everything is throwaway: a
// configuration and queue directory of its own under b.tmp, loopback
// ports, no DNS, and the mail system stopped at the end.
//
// It returns messages accepted per second (smtp-source's run), messages
// relayed per second (from the first message until the queue was empty,
// each one logged as sent) and the CPU time of every Postfix process over
// the run.
func (b *bench) postfixRun() (r result) {
	dir, err := os.MkdirTemp(b.tmp, "postfix-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Postfix's daemons run as the postfix user, which must reach the
	// queue and data directories: every directory above them must let
	// others through (mktemp's are 0700).
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			log.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o055); err != nil {
				log.Fatal(err)
			}
		}
	}
	conf, queueDir, dataDir := filepath.Join(dir, "etc"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{conf, queueDir, dataDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "postfix", dataDir).CombinedOutput(); err != nil {
		log.Fatalf("postfix: chown %s: %v: %s (is postfix installed?)", dataDir, err, out)
	}
	relay, addr := freeAddr(), freeAddr()
	relayHost, relayPort, _ := strings.Cut(relay, ":")
	stopSink := b.sink(relay)
	defer stopSink()
	maillog := filepath.Join(dir, "maillog")
	// A minimal main.cf of its own: Debian's main.cf.dist, copied, makes
	// the master fail silently. Mail for "localhost" (smtp-source's
	// recipient domain) is relayed to the sink; nothing else is accepted.
	mainCF := strings.Join([]string{
		"compatibility_level = 3.6",
		"queue_directory = " + queueDir,
		"data_directory = " + dataDir,
		"meta_directory = /etc/postfix",
		"command_directory = " + b.mta,
		"daemon_directory = /usr/lib/postfix/sbin",
		"shlib_directory = /usr/lib/postfix",
		"mail_owner = postfix",
		"setgid_group = postdrop",
		"myhostname = mta.test",
		"mydestination =",
		"inet_interfaces = 127.0.0.1",
		"inet_protocols = ipv4",
		"mynetworks = 127.0.0.0/8",
		"relay_domains = localhost",
		"transport_maps = inline:{ {localhost = smtp:[" + relayHost + "]:" + relayPort + "} }",
		"smtpd_relay_restrictions = permit_mynetworks, reject",
		"smtp_dns_support_level = disabled",
		"alias_maps =",
		"alias_database =",
		"local_recipient_maps =",
		"biff = no",
		"smtputf8_enable = no",
		"maillog_file = " + maillog,
		"maillog_file_prefixes = " + dir,
		// As many smtpd processes as sessions, whatever their number.
		"default_process_limit = " + strconv.Itoa(max(100, b.sessions+10)),
	}, "\n") + "\n"
	// The services of Debian's master.cf that a relay uses, unchrooted,
	// with smtpd on the benchmark's own address.
	masterCF := addr + ` inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`
	if err := os.WriteFile(filepath.Join(conf, "main.cf"), []byte(mainCF), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "master.cf"), []byte(masterCF), 0o644); err != nil {
		log.Fatal(err)
	}
	postfix := func(args ...string) {
		cmd := exec.Command(filepath.Join(b.mta, "postfix"), append([]string{"-c", conf}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			tail, _ := os.ReadFile(maillog)
			log.Fatalf("postfix %s: %v: %s\n%s", strings.Join(args, " "), err, out, tail)
		}
	}
	postfix("start")
	defer postfix("stop")
	waitListening(addr)
	master := masterPID(dataDir)

	cpu0 := treeCPU(master)
	start := time.Now()
	r.accepted = b.source(addr)
	// Relayed: the queue is empty and every message is logged as sent;
	// given up when no message has gone out for 30 s.
	sent, last := 0, time.Now()
	for sent < b.msgs || queued(queueDir) > 0 {
		if n := sentCount(maillog); n > sent {
			sent, last = n, time.Now()
		} else if time.Since(last) > 30*time.Second {
			log.Printf("postfix: only %d of %d messages relayed", sent, b.msgs)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.delivered = float64(sent) / last.Sub(start).Seconds()
	r.cpu = treeCPU(master) - cpu0
	return r
}

// masterPID reads the pid of Postfix's master from its lock file.
func masterPID(dataDir string) int {
	for range 250 {
		b, err := os.ReadFile(filepath.Join(dataDir, "master.lock"))
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil && pid > 0 {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	log.Fatal("postfix: no master.lock")
	return 0
}

// treeCPU is the CPU time of the master and its children: theirs while
// they run, and what the master collected from those that exited (smtpd
// and smtp processes come and go).
func treeCPU(master int) time.Duration {
	t := cpuTime(master) + childrenCPU(master)
	kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", master, master))
	for _, f := range strings.Fields(string(kids)) {
		if pid, err := strconv.Atoi(f); err == nil {
			t += cpuTime(pid)
		}
	}
	return t
}

// childrenCPU returns the CPU time pid collected from its children that
// exited (cutime and cstime in /proc/PID/stat).
func childrenCPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	cu, _ := strconv.ParseInt(f[13], 10, 64)
	cs, _ := strconv.ParseInt(f[14], 10, 64)
	return time.Duration(cu+cs) * time.Second / clockTicks
}

// queued counts the messages in Postfix's queue directories.
func queued(queueDir string) int {
	n := 0
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold"} {
		filepath.WalkDir(filepath.Join(queueDir, q), func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
	}
	return n
}

// sentCount counts the deliveries Postfix logged as sent.
func sentCount(maillog string) int {
	b, _ := os.ReadFile(maillog)
	return strings.Count(string(b), " status=sent ")
}
