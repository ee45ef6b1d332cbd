//go:build !linux

package reactor

import "net"

// listening is true off Linux, where it is not checked: a socket that does
// not listen fails at its first Accept instead (see ListenerFailed).
func listening(net.Listener) (bool, error) { return true, nil }
