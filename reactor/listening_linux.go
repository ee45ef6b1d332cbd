package reactor

import (
	"net"
	"syscall"
)

// listening reports whether ln's socket is in the listening state
// (SO_ACCEPTCONN). net.FileListener takes any stream socket, and systemd
// passes a connected one, not the listener, to a .socket unit with
// Accept=yes: every accept(2) on it fails, for ever.
func listening(ln net.Listener) (bool, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return true, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, err
	}
	var on int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		on, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
	}); err != nil {
		return false, err
	}
	return on == 1, serr
}
