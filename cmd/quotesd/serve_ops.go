package main

import (
	"flag"
	"net"

	"quotesd/ops"
	"quotesd/reactor"
)

// opsFlags are the --ops-* flags (see the contract at the top of serve.go).
var opsFlags struct {
	addr  string
	pprof bool
}

func init() {
	components = append(components, component{
		name:      "ops",
		flags:     opsRegister,
		start:     opsStart,
		reload:    opsReload,
		auxiliary: true,
	})
}

func opsRegister(fs *flag.FlagSet) {
	f := &opsFlags
	fs.StringVar(&f.addr, "ops-addr", "127.0.0.1:9090", "operations `address`: /metrics, /livez, /readyz and, with --ops-pprof, /debug/pprof/, for monitoring only (systemd socket name: ops); empty disables")
	fs.BoolVar(&f.pprof, "ops-pprof", false, "serve Go's profiler under /debug/pprof/ on --ops-addr (live)")
}

func opsStart(env *serveEnv) ([]reactor.Service, error) {
	f := &opsFlags
	if f.addr == "" {
		return nil, nil
	}
	cfg := ops.Config{Metrics: env.Metrics, Library: env.Quoter, Pprof: f.pprof, Log: env.Log}
	if env.Ready != nil {
		cfg.Ready = env.Ready.Err // components add checks after this start; Err reads them when asked
	}
	h, err := ops.NewHandler(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := env.Listeners.Listen("ops", f.addr)
	if err != nil {
		return nil, err
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
		env.Log.Warn("the operations endpoints are reachable from other hosts: firewall them, or bind --ops-addr to loopback", "addr", a.String(), "pprof", f.pprof)
	}
	env.Data = h
	return []reactor.Service{ops.NewServer(ln, h, env.Log)}, nil
}

func opsReload(env *serveEnv) error {
	h, ok := env.Data.(*ops.Handler)
	if !ok {
		return nil // disabled at start
	}
	h.SetPprof(opsFlags.pprof)
	env.Log.Info("settings applied", "pprof", opsFlags.pprof)
	return nil
}
