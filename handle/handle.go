// Package handle holds netloop's non-I/O handles, libuv's uv_timer_t,
// uv_idle_t, uv_prepare_t, uv_check_t, uv_async_t and uv_signal_t, and
// re-exports the Handle base that every handle embeds.
//
// All methods are loop-affine (call them on the loop's goroutine) except
// Async.Send, which is safe from any goroutine.
package handle

import (
	"errors"

	"github.com/netloop/netloop/loop"
)

// Handle is the base every handle embeds: Ref, Unref, HasRef, IsActive,
// IsClosing and Close(cb). It is defined in package loop, which must count
// and walk handles; see loop.Handle.
type Handle = loop.Handle

// ErrClosing is returned when starting a handle that is closing or closed.
var ErrClosing = errors.New("handle: closing")

// ErrNilCallback is returned when a start method gets a nil callback.
var ErrNilCallback = errors.New("handle: nil callback")
