/*
 * nbdu-bench: the measuring half of the benchmark (bench/run.sh).
 *
 *   run [-o FILE] [-t SECONDS] -- COMMAND [ARG]...
 *	Runs COMMAND with stdin from /dev/null and stdout to FILE (default
 *	/dev/null) in its own process group, and prints
 *	"STATUS WALL USER SYS MAXRSS_KIB".  STATUS is the exit code, "sigN"
 *	or "timeout" (the whole group is killed).  The rusage is wait4's,
 *	so it covers COMMAND and every descendant it waited for, which is
 *	what a pipeline under "bash -c" needs.  /usr/bin/time would do,
 *	but only to 10 ms and without a timeout.
 *   sum FILE|-
 *   nbdsum URI
 *	Print "BYTES SUM" of a file, stdin or an NBD export: SUM adds a
 *	64-bit hash of each non-zero 64 KiB block seeded with the block's
 *	index, so all-zero blocks add nothing and the NBD reader can skip
 *	what block status says is zero.  That makes it fast enough (>5
 *	GB/s) never to be what a streaming copy waits for, unlike
 *	sha256sum (about 0.4 GB/s here), and cheap on a 64 GiB sparse
 *	destination.  It is the check every copy result is held to.
 *   cat URI
 *	Write the bytes of an NBD export to stdout (zero extents as
 *	zeros): a reader that is neither our tool nor a competitor.
 *   pattern BYTES
 *	Write what nbdkit's pattern plugin serves (each 8-byte word is its
 *	own offset, big-endian), the independent reference for it.
 *   sockbw BYTES | pipebw BYTES
 *	Moves BYTES from a child to the parent through an AF_UNIX stream
 *	socket pair or a pipe, in 256 KiB writes: the transport ceiling.
 *   membw BYTES
 *	memcpy()s BYTES between two 64 MiB buffers: the memory ceiling.
 */
#include <endian.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libnbd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define MEMBUF (64 * 1024 * 1024)
#define BLK (64 * 1024)
#define READBUF (4 * 1024 * 1024)

static volatile sig_atomic_t bench_alarm;

static void
bench_on_alarm(int sig)
{
	(void)sig;
	bench_alarm = 1;
}

static double
bench_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
bench_tv(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

static unsigned long long
bench_size(const char *s)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		errx(1, "bad byte count: %s", s);
	return n;
}

static int
bench_run(int argc, char **argv)
{
	const char *out = "/dev/null";
	double timeout = 0, start, wall;
	struct sigaction sa;
	struct itimerval it;
	struct rusage ru;
	pid_t pid;
	int opt, status, fd;
	char st[32];

	while ((opt = getopt(argc, argv, "+o:t:")) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 't':
			timeout = strtod(optarg, NULL);
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		errx(2, "run: no command");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = bench_on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		err(1, "sigaction");

	start = bench_now();
	pid = fork();
	if (pid == -1)
		err(1, "fork");
	if (pid == 0) {
		if (setpgid(0, 0) == -1)
			err(127, "setpgid");
		fd = open("/dev/null", O_RDONLY);
		if (fd == -1 || dup2(fd, 0) == -1)
			err(127, "stdin");
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd == -1 || dup2(fd, 1) == -1)
			err(127, "%s", out);
		execvp(argv[optind], argv + optind);
		err(127, "%s", argv[optind]);
	}
	if (timeout > 0) {
		memset(&it, 0, sizeof it);
		it.it_value.tv_sec = (time_t)timeout;
		it.it_value.tv_usec = (suseconds_t)((timeout - (time_t)timeout) * 1e6);
		if (setitimer(ITIMER_REAL, &it, NULL) == -1)
			err(1, "setitimer");
	}
	for (;;) {
		if (wait4(pid, &status, 0, &ru) == pid)
			break;
		if (errno != EINTR)
			err(1, "wait4");
		if (bench_alarm) {
			/* The child may not have reached setpgid yet. */
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
	}
	wall = bench_now() - start;
	if (bench_alarm)
		snprintf(st, sizeof st, "timeout");
	else if (WIFSIGNALED(status))
		snprintf(st, sizeof st, "sig%d", WTERMSIG(status));
	else
		snprintf(st, sizeof st, "%d", WEXITSTATUS(status));
	printf("%s %.6f %.6f %.6f %ld\n", st, wall, bench_tv(&ru.ru_utime),
	       bench_tv(&ru.ru_stime), ru.ru_maxrss);
	return 0;
}

/* The block sum: see "sum" above. */
struct bsum {
	uint64_t buf[BLK / 8];
	size_t have;		/* bytes in buf */
	uint64_t index;		/* of the block being filled */
	uint64_t bytes;
	uint64_t sum;
};

static void
bsum_block(struct bsum *s)
{
	uint64_t h[4], any = 0;
	size_t i;

	if (s->have < BLK)
		memset((char *)s->buf + s->have, 0, BLK - s->have);
	for (i = 0; i < BLK / 8; i++)
		any |= s->buf[i];
	if (any != 0) {
		h[0] = h[1] = h[2] = h[3] = s->index * 0xff51afd7ed558ccdULL + 1;
		for (i = 0; i < BLK / 8; i += 4) {
			h[0] = (h[0] ^ s->buf[i]) * 0x9e3779b97f4a7c15ULL;
			h[1] = (h[1] ^ s->buf[i + 1]) * 0xc2b2ae3d27d4eb4fULL;
			h[2] = (h[2] ^ s->buf[i + 2]) * 0x165667b19e3779f9ULL;
			h[3] = (h[3] ^ s->buf[i + 3]) * 0x27d4eb2f165667c5ULL;
		}
		h[0] ^= (h[1] >> 7 | h[1] << 57) ^ (h[2] >> 19 | h[2] << 45) ^ (h[3] >> 31 | h[3] << 33);
		s->sum += h[0] ^ h[0] >> 29;
	}
	s->index++;
	s->have = 0;
}

static void
bsum_data(struct bsum *s, const void *data, size_t len)
{
	size_t n;

	s->bytes += len;
	while (len > 0) {
		n = BLK - s->have < len ? BLK - s->have : len;
		memcpy((char *)s->buf + s->have, data, n);
		s->have += n;
		data = (const char *)data + n;
		len -= n;
		if (s->have == BLK)
			bsum_block(s);
	}
}

static void
bsum_zero(struct bsum *s, uint64_t len)
{
	size_t n;

	s->bytes += len;
	while (len > 0) {
		if (s->have == 0 && len >= BLK) {
			/* Whole zero blocks add nothing: skip them. */
			s->index += len / BLK;
			len %= BLK;
			continue;
		}
		n = BLK - s->have < len ? BLK - s->have : (size_t)len;
		memset((char *)s->buf + s->have, 0, n);
		s->have += n;
		len -= n;
		if (s->have == BLK)
			bsum_block(s);
	}
}

static void
bsum_print(struct bsum *s)
{
	if (s->have > 0)
		bsum_block(s);
	printf("%llu %016llx\n", (unsigned long long)s->bytes, (unsigned long long)s->sum);
}

static int
bench_sum(const char *path)
{
	static char buf[READBUF];
	static struct bsum s;
	ssize_t r;
	int fd = 0;

	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) == -1)
		err(1, "%s", path);
	for (;;) {
		r = read(fd, buf, sizeof buf);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			err(1, "read %s", path);
		if (r == 0)
			break;
		bsum_data(&s, buf, (size_t)r);
	}
	bsum_print(&s);
	return 0;
}

/* Extents of one block-status reply, in order. */
struct bench_ext {
	uint64_t len[1024];
	bool zero[1024];
	size_t n;
};

static int
bench_on_extents(void *user, const char *ctx, uint64_t offset, uint32_t *ent,
		 size_t nr, int *error)
{
	struct bench_ext *e = user;
	size_t i;

	(void)offset;
	(void)error;
	if (strcmp(ctx, "base:allocation") != 0)
		return 0;
	for (i = 0; i + 1 < nr && e->n < 1024; i += 2) {
		e->len[e->n] = ent[i];
		e->zero[e->n] = (ent[i + 1] & 2) != 0;
		e->n++;
	}
	return 0;
}

/* Walk an export: zero extents go to on_zero, the rest is read in
 * READBUF requests and goes to on_data. */
static void
bench_walk(const char *uri, void (*on_data)(void *, const void *, size_t),
	   void (*on_zero)(void *, uint64_t), void *arg)
{
	static char buf[READBUF];
	static struct bench_ext e;
	struct nbd_handle *h;
	int64_t size;
	uint64_t off = 0, len, n;
	bool bs;
	size_t i;

	h = nbd_create();
	if (h == NULL || nbd_add_meta_context(h, "base:allocation") == -1 ||
	    nbd_connect_uri(h, uri) == -1 || (size = nbd_get_size(h)) == -1)
		errx(1, "%s: %s", uri, nbd_get_error());
	bs = nbd_can_meta_context(h, "base:allocation") == 1;
	while (off < (uint64_t)size) {
		len = (uint64_t)size - off;
		e.n = 0;
		if (bs) {
			if (nbd_block_status(h, len < (1ULL << 30) ? len : (1ULL << 30), off,
					     (nbd_extent_callback){ .callback = bench_on_extents,
								    .user_data = &e }, 0) == -1)
				errx(1, "%s: %s", uri, nbd_get_error());
		}
		if (e.n == 0) {
			e.len[0] = len;
			e.zero[0] = false;
			e.n = 1;
		}
		for (i = 0; i < e.n && off < (uint64_t)size; i++) {
			len = e.len[i] < (uint64_t)size - off ? e.len[i] : (uint64_t)size - off;
			if (e.zero[i]) {
				on_zero(arg, len);
				off += len;
				continue;
			}
			while (len > 0) {
				n = len < READBUF ? len : READBUF;
				if (nbd_pread(h, buf, n, off, 0) == -1)
					errx(1, "%s: read at %llu: %s", uri,
					     (unsigned long long)off, nbd_get_error());
				on_data(arg, buf, n);
				off += n;
				len -= n;
			}
		}
	}
	if (nbd_shutdown(h, 0) == -1)
		errx(1, "%s: %s", uri, nbd_get_error());
	nbd_close(h);
}

static void
bench_sum_data(void *arg, const void *data, size_t len)
{
	bsum_data(arg, data, len);
}

static void
bench_sum_zero(void *arg, uint64_t len)
{
	bsum_zero(arg, len);
}

static void
bench_write(const void *data, size_t len)
{
	ssize_t r;

	while (len > 0) {
		r = write(1, data, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			err(1, "write");
		data = (const char *)data + r;
		len -= (size_t)r;
	}
}

static void
bench_cat_data(void *arg, const void *data, size_t len)
{
	(void)arg;
	bench_write(data, len);
}

static void
bench_cat_zero(void *arg, uint64_t len)
{
	static const char zero[READBUF];

	(void)arg;
	while (len > 0) {
		bench_write(zero, len < READBUF ? len : READBUF);
		len -= len < READBUF ? len : READBUF;
	}
}

static int
bench_pattern(unsigned long long bytes)
{
	static uint64_t buf[READBUF / 8];
	unsigned long long off = 0;
	size_t i, n;

	while (off < bytes) {
		for (i = 0; i < READBUF / 8; i++)
			buf[i] = htobe64(off + i * 8);
		n = bytes - off < READBUF ? (size_t)(bytes - off) : READBUF;
		bench_write(buf, n);
		off += n;
	}
	return 0;
}

static int
bench_transport(const char *what, unsigned long long bytes)
{
	static char buf[CHUNK];
	unsigned long long got = 0;
	int fds[2];
	pid_t pid;
	ssize_t r;
	size_t n;
	int status;

	if (strcmp(what, "sockbw") == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
			err(1, "socketpair");
	} else if (pipe(fds) == -1)
		err(1, "pipe");
	memset(buf, 0x5a, sizeof buf);
	pid = fork();
	if (pid == -1)
		err(1, "fork");
	if (pid == 0) {
		close(fds[0]);
		while (got < bytes) {
			n = bytes - got < CHUNK ? (size_t)(bytes - got) : CHUNK;
			r = write(fds[1], buf, n);
			if (r == -1)
				err(1, "write");
			got += (unsigned long long)r;
		}
		_exit(0);
	}
	close(fds[1]);
	while ((r = read(fds[0], buf, sizeof buf)) > 0)
		got += (unsigned long long)r;
	if (r == -1)
		err(1, "read");
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (got != bytes || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "%s: moved %llu of %llu bytes", what, got, bytes);
	printf("%llu\n", got);
	return 0;
}

static int
bench_membw(unsigned long long bytes)
{
	char *a, *b;
	unsigned long long done = 0;

	a = malloc(MEMBUF);
	b = malloc(MEMBUF);
	if (a == NULL || b == NULL)
		err(1, "malloc");
	/* Touch both first so page faults are not what is measured. */
	memset(a, 1, MEMBUF);
	memset(b, 2, MEMBUF);
	while (done < bytes) {
		memcpy(done / MEMBUF % 2 ? a : b, done / MEMBUF % 2 ? b : a, MEMBUF);
		done += MEMBUF;
	}
	printf("%llu %d\n", done, a[MEMBUF - 1] + b[0]);
	free(a);
	free(b);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return bench_run(argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "sum") == 0)
		return bench_sum(argv[2]);
	if (argc == 3 && strcmp(argv[1], "nbdsum") == 0) {
		static struct bsum s;

		bench_walk(argv[2], bench_sum_data, bench_sum_zero, &s);
		bsum_print(&s);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "cat") == 0) {
		bench_walk(argv[2], bench_cat_data, bench_cat_zero, NULL);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "pattern") == 0)
		return bench_pattern(bench_size(argv[2]));
	if (argc == 3 && (strcmp(argv[1], "sockbw") == 0 || strcmp(argv[1], "pipebw") == 0))
		return bench_transport(argv[1], bench_size(argv[2]));
	if (argc == 3 && strcmp(argv[1], "membw") == 0)
		return bench_membw(bench_size(argv[2]));
	fprintf(stderr, "usage: nbdu-bench run [-o FILE] [-t SECONDS] -- COMMAND...\n"
		"       nbdu-bench sum FILE|- | nbdsum URI | cat URI | pattern BYTES\n"
		"       nbdu-bench sockbw BYTES | pipebw BYTES | membw BYTES\n");
	return 2;
}
