/*
 * Single-threaded echo server on io_uring: the second yardstick of the
 * netloop benchmark, beside the epoll one (echo.c). Usage: echo_uring
 * -port N (binds 127.0.0.1:N, prints "ready" once listening).
 *
 * It uses what published io_uring echo measurements say matters: one
 * multishot accept, one multishot receive per connection into a provided
 * buffer ring (the kernel picks a buffer per completion), sends of those
 * buffers straight back, and batched submissions (one io_uring_enter per
 * loop turn, no SQPOLL). Sends on one connection run one at a time, in
 * order, so a partial or deferred send never reorders the echo. Raw
 * system calls and <linux/io_uring.h>; no liburing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ENTRIES 4096
#define NBUF 4096        /* provided buffers (a power of two) */
#define BUFSZ (16 * 1024)
#define BGID 1

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };

static inline uint64_t tag(int op, int fd) { return ((uint64_t)fd << 8) | (uint64_t)op; }

struct ring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned to_submit;
};

static struct ring r;
static struct io_uring_buf_ring *br;
static char *bufs;
static unsigned br_tail;

/* Per connection: queued sends (buffer id and unsent range), one in flight. */
struct out {
	unsigned short bid;
	unsigned off, len;
};
struct conn {
	struct out *q;
	int head, n, cap;
	int sending, closing, recv_armed, open;
};
static struct conn *conns;
static int nconns;
static int *rearm; /* connections whose receive must be armed again */
static int nrearm, caprearm;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct conn *conn_of(int fd)
{
	if (fd >= nconns) {
		int n = nconns ? nconns : 1024;
		while (n <= fd)
			n *= 2;
		conns = realloc(conns, (size_t)n * sizeof *conns);
		if (!conns)
			die("realloc");
		memset(conns + nconns, 0, (size_t)(n - nconns) * sizeof *conns);
		nconns = n;
	}
	return &conns[fd];
}

static struct io_uring_sqe *sqe(void)
{
	unsigned tail = *r.sq_tail;
	unsigned head = atomic_load_explicit((_Atomic unsigned *)r.sq_head, memory_order_acquire);
	if (tail - head >= ENTRIES) {
		/* full: submit what we have */
		if (syscall(__NR_io_uring_enter, r.fd, r.to_submit, 0, 0, NULL, 0) < 0)
			die("io_uring_enter");
		r.to_submit = 0;
	}
	unsigned idx = tail & *r.sq_mask;
	struct io_uring_sqe *s = &r.sqes[idx];
	memset(s, 0, sizeof *s);
	r.sq_array[idx] = idx;
	atomic_store_explicit((_Atomic unsigned *)r.sq_tail, tail + 1, memory_order_release);
	r.to_submit++;
	return s;
}

static void buf_give(unsigned short bid)
{
	struct io_uring_buf *b = &br->bufs[br_tail & (NBUF - 1)];
	b->addr = (uint64_t)(uintptr_t)(bufs + (size_t)bid * BUFSZ);
	b->len = BUFSZ;
	b->bid = bid;
	br_tail++;
	atomic_store_explicit((_Atomic unsigned short *)&br->tail, (unsigned short)br_tail, memory_order_release);
}

static void arm_recv(int fd)
{
	struct io_uring_sqe *s = sqe();
	s->opcode = IORING_OP_RECV;
	s->fd = fd;
	s->ioprio = IORING_RECV_MULTISHOT;
	s->flags = IOSQE_BUFFER_SELECT;
	s->buf_group = BGID;
	s->user_data = tag(OP_RECV, fd);
	conn_of(fd)->recv_armed = 1;
}

static void send_head(int fd)
{
	struct conn *c = conn_of(fd);
	struct out *o = &c->q[c->head];
	struct io_uring_sqe *s = sqe();
	s->opcode = IORING_OP_SEND;
	s->fd = fd;
	s->addr = (uint64_t)(uintptr_t)(bufs + (size_t)o->bid * BUFSZ + o->off);
	s->len = o->len;
	s->user_data = tag(OP_SEND, fd);
	c->sending = 1;
}

static void maybe_close(int fd)
{
	struct conn *c = conn_of(fd);
	if (c->closing && !c->sending && !c->recv_armed && c->open) {
		close(fd);
		c->open = 0;
		c->n = c->head = 0;
	}
}

static void enqueue(int fd, unsigned short bid, unsigned len)
{
	struct conn *c = conn_of(fd);
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		struct out *q = malloc((size_t)cap * sizeof *q);
		if (!q)
			die("malloc");
		for (int i = 0; i < c->n; i++)
			q[i] = c->q[(c->head + i) % c->cap];
		free(c->q);
		c->q = q;
		c->cap = cap;
		c->head = 0;
	}
	c->q[(c->head + c->n) % c->cap] = (struct out){bid, 0, len};
	c->n++;
	if (!c->sending)
		send_head(fd);
}

static void setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	r.fd = (int)syscall(__NR_io_uring_setup, ENTRIES, &p);
	if (r.fd < 0) {
		memset(&p, 0, sizeof p);
		p.flags = IORING_SETUP_COOP_TASKRUN;
		r.fd = (int)syscall(__NR_io_uring_setup, ENTRIES, &p);
	}
	if (r.fd < 0)
		die("io_uring_setup");
	size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (cqsz > sqsz)
		sqsz = cqsz;
	char *sq = mmap(NULL, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r.fd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		die("mmap sq");
	char *cq = sq; /* IORING_FEAT_SINGLE_MMAP, every kernel netloop targets */
	r.sq_head = (unsigned *)(sq + p.sq_off.head);
	r.sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r.sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r.sq_array = (unsigned *)(sq + p.sq_off.array);
	r.cq_head = (unsigned *)(cq + p.cq_off.head);
	r.cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r.cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r.cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	r.sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, r.fd, IORING_OFF_SQES);
	if (r.sqes == MAP_FAILED)
		die("mmap sqes");

	/* The provided buffer ring and its buffers, registered as group BGID. */
	br = mmap(NULL, NBUF * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	bufs = mmap(NULL, (size_t)NBUF * BUFSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED || bufs == MAP_FAILED)
		die("mmap buffers");
	struct io_uring_buf_reg reg;
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	reg.ring_entries = NBUF;
	reg.bgid = BGID;
	if (syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
		die("register pbuf ring");
	for (unsigned i = 0; i < NBUF; i++)
		buf_give((unsigned short)i);
}

int main(int argc, char **argv)
{
	int port = 9000;
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "-port"))
			port = atoi(argv[++i]);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0)
		die("listen");
	setup();
	struct io_uring_sqe *s = sqe();
	s->opcode = IORING_OP_ACCEPT;
	s->fd = lfd;
	s->ioprio = IORING_ACCEPT_MULTISHOT;
	s->user_data = tag(OP_ACCEPT, lfd);
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		if (syscall(__NR_io_uring_enter, r.fd, r.to_submit, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("io_uring_enter");
		}
		r.to_submit = 0;
		unsigned head = *r.cq_head;
		unsigned tail = atomic_load_explicit((_Atomic unsigned *)r.cq_tail, memory_order_acquire);
		for (; head != tail; head++) {
			struct io_uring_cqe *c = &r.cqes[head & *r.cq_mask];
			int op = (int)(c->user_data & 0xff), fd = (int)(c->user_data >> 8);
			int res = c->res;
			unsigned flags = c->flags;
			if (op == OP_ACCEPT) {
				if (res >= 0) {
					setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct conn *cn = conn_of(res);
					cn->open = 1;
					cn->closing = cn->sending = 0;
					cn->n = cn->head = 0;
					arm_recv(res);
				}
				if (!(flags & IORING_CQE_F_MORE)) {
					struct io_uring_sqe *a = sqe();
					a->opcode = IORING_OP_ACCEPT;
					a->fd = lfd;
					a->ioprio = IORING_ACCEPT_MULTISHOT;
					a->user_data = tag(OP_ACCEPT, lfd);
				}
			} else if (op == OP_RECV) {
				struct conn *cn = conn_of(fd);
				if (!(flags & IORING_CQE_F_MORE))
					cn->recv_armed = 0;
				if (res > 0) {
					enqueue(fd, (unsigned short)(flags >> IORING_CQE_BUFFER_SHIFT), (unsigned)res);
				} else if (res == -ENOBUFS) {
					/* out of buffers: armed again once sends return some */
					if (nrearm == caprearm) {
						caprearm = caprearm ? caprearm * 2 : 64;
						rearm = realloc(rearm, (size_t)caprearm * sizeof *rearm);
					}
					rearm[nrearm++] = fd;
				} else {
					cn->closing = 1; /* EOF or error */
				}
				if (res > 0 && !cn->recv_armed && !cn->closing)
					arm_recv(fd);
				maybe_close(fd);
			} else if (op == OP_SEND) {
				struct conn *cn = conn_of(fd);
				struct out *o = &cn->q[cn->head];
				cn->sending = 0;
				if (res < 0) {
					cn->closing = 1;
				} else if ((unsigned)res < o->len) {
					o->off += (unsigned)res;
					o->len -= (unsigned)res;
					send_head(fd);
					continue;
				}
				buf_give(o->bid);
				cn->head = (cn->head + 1) % cn->cap;
				cn->n--;
				if (cn->closing) {
					while (cn->n > 0) { /* drop what is left */
						buf_give(cn->q[cn->head].bid);
						cn->head = (cn->head + 1) % cn->cap;
						cn->n--;
					}
				} else if (cn->n > 0) {
					send_head(fd);
				}
				maybe_close(fd);
			}
		}
		atomic_store_explicit((_Atomic unsigned *)r.cq_head, head, memory_order_release);
		while (nrearm > 0) {
			int fd = rearm[--nrearm];
			struct conn *cn = conn_of(fd);
			if (cn->open && !cn->closing && !cn->recv_armed)
				arm_recv(fd);
		}
	}
}
