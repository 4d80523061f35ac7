package loop

// funcQueue is a FIFO ring of callbacks that reuses its storage, so queueing
// a pre-bound func allocates nothing in steady state.
type funcQueue struct {
	buf  []func()
	head int
	n    int
}

func (q *funcQueue) len() int { return q.n }

func (q *funcQueue) push(fn func()) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = fn
	q.n++
}

func (q *funcQueue) pop() func() {
	fn := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return fn
}

func (q *funcQueue) grow() {
	size := len(q.buf) * 2
	if size == 0 {
		size = 16
	}
	nb := make([]func(), size)
	for i := 0; i < q.n; i++ {
		nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf = nb
	q.head = 0
}
