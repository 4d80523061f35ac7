package loop

// Offload runs work on a new goroutine and then done, with work's result,
// on l's goroutine: the way for a handler to call something that blocks (a
// database, the disk, a long computation) and answer afterwards without
// sharing state across goroutines.
//
// Until done has run, l stays alive (as with Hold), so Run in RunDefault
// mode does not return while the work is in flight even if nothing else
// keeps the loop running. The result is delivered with Post, so work's
// writes happen before done runs, and done runs like any loop callback:
// it may use the loop's sockets and servers, and an 'error' it leaves
// unhandled is the loop's. If l has been closed by the time work returns,
// done does not run and the result is dropped.
//
// work runs off the loop: it must not touch the loop, its handles or any
// state that the loop's callbacks use; give it copies (a string rather
// than a 'data' slice). A connection may have gone by the time done runs:
// check Destroyed before writing to it. A panic in work is not recovered,
// as in any goroutine.
//
// Offload is safe from any goroutine. Each call starts one goroutine: to
// bound the work in flight, count calls on the loop and pause the sockets
// that submit them.
//
//	lp := c.Loop()
//	loop.Offload(lp, func() (string, error) {
//		return db.Lookup(key) // blocks, off the loop
//	}, func(v string, err error) {
//		if !c.Destroyed() {
//			c.Write([]byte(v))
//		}
//	})
func Offload[T any](l *Loop, work func() (T, error), done func(T, error)) {
	if work == nil || done == nil {
		panic("loop: Offload: nil work or done function")
	}
	release := l.Hold()
	go func() {
		v, err := work()
		// The queued function keeps the loop alive from here on, so the
		// hold can go once Post has queued it (or refused it).
		l.Post(func() { done(v, err) })
		release()
	}()
}
