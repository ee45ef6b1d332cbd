//go:build unix

package logs

import (
	"os"
	"syscall"
)

// fileID returns f's "device:inode", as JOURNAL_STREAM gives them.
func fileID(f *os.File) (string, bool) {
	fi, err := f.Stat()
	if err != nil {
		return "", false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	// Dev and Ino are of different integer types from one system to another.
	return fileIDString(uint64(st.Dev), uint64(st.Ino)), true
}
