package main

import (
	"flag"
	"time"

	"quotesd/frontends/qotd"
	"quotesd/reactor"
)

// qotdFlags are the --qotd-* flags (see the contract at the top of serve.go).
var qotdFlags struct {
	addr          string
	udpAddr       string
	mode          string
	maxConns      int
	connRate      float64
	udpRate       float64
	udpGlobalRate float64
	ascii         bool
	writeTimeout  time.Duration
}

func init() {
	components = append(components, component{
		name:   "qotd",
		flags:  qotdRegister,
		start:  qotdStart,
		reload: qotdReload,
	})
}

func qotdRegister(fs *flag.FlagSet) {
	f := &qotdFlags
	fs.StringVar(&f.addr, "qotd-addr", ":1717", "RFC 865 QOTD over TCP: `address` to listen on (systemd socket name: qotd); empty disables")
	fs.StringVar(&f.udpAddr, "qotd-udp-addr", "", "QOTD over UDP: `address` to listen on (systemd socket name: qotd-udp); empty (the default) disables: UDP QOTD is a traffic amplifier")
	fs.StringVar(&f.mode, "qotd-mode", "daily", "`mode`: daily (today's quote for everyone, as 'quotesd today') or random (live on SIGHUP)")
	fs.IntVar(&f.maxConns, "qotd-max-conns", 1024, "most TCP connections answered at once; more are closed unanswered; 0 for no cap (live)")
	fs.Float64Var(&f.connRate, "qotd-conn-rate", 0, "most TCP connections per second from one IP address; 0 for no limit (live)")
	fs.Float64Var(&f.udpRate, "qotd-udp-rate", qotd.DefaultUDPRate, "most UDP replies per second to one source address (live)")
	fs.Float64Var(&f.udpGlobalRate, "qotd-udp-global-rate", qotd.DefaultUDPGlobalRate, "most UDP replies per second in all (live)")
	fs.BoolVar(&f.ascii, "qotd-ascii", false, "transliterate quotes to ASCII (curly quotes, dashes, ellipsis; '?' for the rest) (live)")
	fs.DurationVar(&f.writeTimeout, "qotd-write-timeout", qotd.DefaultWriteTimeout, "how long writing one reply may take")
}

// qotdConfig turns the flags into the frontend's live settings.
func qotdConfig() (qotd.Config, error) {
	f := &qotdFlags
	mode, err := qotd.ParseMode(f.mode)
	if err != nil {
		return qotd.Config{}, err
	}
	return qotd.Config{
		Mode:          mode,
		ASCII:         f.ascii,
		MaxConns:      f.maxConns,
		ConnRate:      f.connRate,
		UDPRate:       f.udpRate,
		UDPGlobalRate: f.udpGlobalRate,
	}, nil
}

func qotdStart(env *serveEnv) ([]reactor.Service, error) {
	f := &qotdFlags
	if f.addr == "" && f.udpAddr == "" {
		return nil, nil
	}
	cfg, err := qotdConfig()
	if err != nil {
		return nil, err
	}
	srv := qotd.NewServer(env.Quoter, env.Calendar, env.Log, env.Metrics, cfg)
	srv.WriteTimeout = f.writeTimeout
	env.Data = srv
	var svcs []reactor.Service
	if f.addr != "" {
		ln, err := reactor.ListenOneShot(env.Listeners, "qotd", f.addr)
		if err != nil {
			return nil, err
		}
		svcs = append(svcs, srv.TCP(ln))
	}
	if f.udpAddr != "" {
		pc, err := env.Listeners.ListenPacket("qotd-udp", f.udpAddr)
		if err != nil {
			for _, s := range svcs {
				s.(*qotd.TCPService).Close()
			}
			return nil, err
		}
		svcs = append(svcs, srv.UDP(pc))
	}
	return svcs, nil
}

func qotdReload(env *serveEnv) error {
	srv, ok := env.Data.(*qotd.Server)
	if !ok {
		return nil // disabled at start
	}
	cfg, err := qotdConfig()
	if err != nil {
		return err
	}
	srv.SetConfig(cfg)
	env.Log.Info("settings applied", "mode", cfg.Mode, "ascii", cfg.ASCII, "max_conns", cfg.MaxConns, "conn_rate", cfg.ConnRate, "udp_rate", cfg.UDPRate)
	return nil
}
