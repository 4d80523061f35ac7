package core

// ring is a FIFO that reuses its storage, so queueing a pre-bound func or
// a pointer Task allocates nothing in steady state.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

// taskQueue holds next-tick callbacks and pending tasks.
type taskQueue = ring[Task]

func (q *ring[T]) len() int { return q.n }

func (q *ring[T]) push(v T) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
}

func (q *ring[T]) pop() T {
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return v
}

func (q *ring[T]) grow() {
	size := len(q.buf) * 2
	if size == 0 {
		size = 16
	}
	nb := make([]T, size)
	for i := 0; i < q.n; i++ {
		nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf = nb
	q.head = 0
}
