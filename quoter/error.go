package quoter

import (
	"errors"
	"fmt"
)

// Error codes: the one vocabulary of failure that every frontend maps to its
// own protocol (an HTTP status, an SMTP reply, an IRC reply text).
const (
	ENOTFOUND = "not_found" // no such quote, or nothing matches
	EINVALID  = "invalid"   // the caller's input is wrong; the message says how
	ECONFLICT = "conflict"  // the change would duplicate a stored quote
	EGONE     = "gone"      // the quote existed and was purged for good
	EINTERNAL = "internal"  // anything else: storage failed, a bug
)

// Error is a failure a caller can act on. Message is safe to show to the end
// user; internal details stay in the wrapped error, for logs.
type Error struct {
	Code    string
	Message string
	Err     error // underlying cause, if any; not shown to end users
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("quoter: %s: %v", e.Message, e.Err)
	}
	return "quoter: " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps err as an EINTERNAL error whose message names what failed.
func Internal(what string, err error) *Error {
	return &Error{Code: EINTERNAL, Message: what, Err: err}
}

// ErrorCode returns the code of err: the Code of an *Error anywhere in its
// chain, "" for nil, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the Message of an
// *Error, or "internal error" for anything else, so details of storage
// failures never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}
