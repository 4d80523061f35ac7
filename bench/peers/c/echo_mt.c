/*
 * The C yardstick of the netloop benchmark (echo.c) with one thread per core:
 * each thread runs the same level-triggered epoll loop on a listener of its
 * own bound with SO_REUSEPORT, so the kernel spreads the connections. Usage:
 * echo_mt -port N [-threads T] (T defaults to the online CPUs; binds
 * 127.0.0.1:N, prints "ready" once every thread listens). Non-blocking accept4 loop, reads up to 64 KiB into
 * one static buffer, writes it back; on a partial write the remainder is kept
 * per connection and EPOLLOUT is armed (reading pauses until it drains).
 * TCP_NODELAY is set on accepted sockets, like every peer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <unistd.h>

#define BUFSZ (64 * 1024)
#define MAXEV 256

struct pending {   /* unsent remainder of one connection */
	char *buf;
	size_t off, len, cap;
};

/* Per thread: each thread serves only the connections it accepted. */
static __thread char rbuf[BUFSZ];
static __thread struct pending *pend; /* indexed by fd */
static __thread int npend;
static __thread int ep;
static int port = 9000;

static struct pending *slot(int fd)
{
	if (fd >= npend) {
		int n = npend ? npend : 1024;
		while (n <= fd)
			n *= 2;
		pend = realloc(pend, (size_t)n * sizeof *pend);
		if (!pend) {
			perror("realloc");
			exit(1);
		}
		memset(pend + npend, 0, (size_t)(n - npend) * sizeof *pend);
		npend = n;
	}
	return &pend[fd];
}

static void drop(int fd)
{
	struct pending *p = slot(fd);
	free(p->buf);
	memset(p, 0, sizeof *p);
	close(fd); /* also removes it from the epoll set */
}

static void keep(int fd, const char *b, size_t n)
{
	struct pending *p = slot(fd);
	if (p->cap < n) {
		free(p->buf);
		p->buf = malloc(n);
		if (!p->buf) {
			perror("malloc");
			exit(1);
		}
		p->cap = n;
	}
	memcpy(p->buf, b, n);
	p->off = 0;
	p->len = n;
	struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void on_writable(int fd)
{
	struct pending *p = slot(fd);
	while (p->off < p->len) {
		ssize_t w = write(fd, p->buf + p->off, p->len - p->off);
		if (w < 0) {
			if (errno == EAGAIN)
				return;
			if (errno == EINTR)
				continue;
			drop(fd);
			return;
		}
		p->off += (size_t)w;
	}
	p->off = p->len = 0;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void on_readable(int fd)
{
	ssize_t n = read(fd, rbuf, BUFSZ);
	if (n == 0) {
		drop(fd);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			drop(fd);
		return;
	}
	size_t off = 0;
	while (off < (size_t)n) {
		ssize_t w = write(fd, rbuf + off, (size_t)n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				keep(fd, rbuf + off, (size_t)n - off);
				return;
			}
			drop(fd);
			return;
		}
		off += (size_t)w;
	}
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or EMFILE etc.: retried on next readiness */
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			close(fd);
	}
}

static int listener(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) {
		perror("bind/listen");
		exit(1);
	}
	return lfd;
}

static void *serve(void *arg)
{
	int lfd = (int)(long)arg;
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	struct epoll_event evs[MAXEV];
	for (;;) {
		int n = epoll_wait(ep, evs, MAXEV, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			exit(1);
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			uint32_t e = evs[i].events;
			if (fd == lfd) {
				on_accept(lfd);
				continue;
			}
			if (e & EPOLLOUT) {
				on_writable(fd);
				continue;
			}
			if (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
				on_readable(fd);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-port") || !strcmp(argv[i], "--port")) && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
	}
	if (threads < 1)
		threads = 1;
	/* Every listener is bound before "ready", so no connection is refused. */
	int lfds[256];
	if (threads > 256)
		threads = 256;
	for (long t = 0; t < threads; t++)
		lfds[t] = listener();
	for (long t = 1; t < threads; t++) {
		pthread_t th;
		if (pthread_create(&th, NULL, serve, (void *)(long)lfds[t]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	serve((void *)(long)lfds[0]);
	return 0;
}
