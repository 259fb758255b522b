/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libnbd.h>

#include "clock.h"
#include "conn.h"
#include "interrupt.h"
#include "uri.h"

/* Why the last conn_try_open() in this thread failed. */
static __thread char last_error[1024];

/* -v: libnbd's debug messages on stderr. */
static bool debug;

/* Open conns, for conn_close_all() at exit. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn **registry;
static size_t nregistry;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

/* Every err() path closes what is open, "[ CMD ]" servers included. */
static void
close_all_at_exit(void)
{
	if (atexit(conn_close_all) != 0)
		errx(EXIT_FAILURE, "atexit failed");
}

static void
register_conn(struct conn *c)
{
	struct conn **r;

	pthread_once(&registry_once, close_all_at_exit);
	pthread_mutex_lock(&registry_lock);
	r = realloc(registry, (nregistry + 1) * sizeof(*r));
	if (r == NULL) {
		pthread_mutex_unlock(&registry_lock);
		err(EXIT_FAILURE, "realloc");
	}
	registry = r;
	registry[nregistry++] = c;
	pthread_mutex_unlock(&registry_lock);
}

/* Returns true if c was registered (and removes it). */
static bool
unregister_conn(struct conn *c)
{
	bool found = false;

	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; i < nregistry; i++) {
		if (registry[i] == c) {
			registry[i] = registry[--nregistry];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

/* Keeps libnbd's error (or ours) as why this thread's last call failed. */
static void
keep_error(const char *fallback)
{
	const char *msg = nbd_get_error();

	snprintf(last_error, sizeof(last_error), "%s",
	    msg != NULL && msg[0] != '\0' ? msg : fallback);
}

/* The message libnbd's synchronous call of the same name would give. */
static void
keep_option_error(const char *call, const char *request, int e)
{
	snprintf(last_error, sizeof(last_error),
	    "%s: server replied with error to %s request: %s", call, request,
	    strerror(e));
}

void
conn_die(const struct conn *c)
{
	const char *msg = last_error[0] != '\0' ? last_error : nbd_get_error();

	errx(EXIT_FAILURE, "%s: %s", c->name, msg ? msg : "unknown error");
}

/*
 * Runs the state machine while the handshake (or an option) is in
 * progress, as libnbd's own synchronous calls do, but with a timeout so
 * that SIGINT/SIGTERM stop a server that never answers, and until
 * deadline (clock_now_ns(); 0: none) for --timeout.
 */
static int
wait_connecting(struct nbd_handle *h, int64_t deadline)
{
	while (nbd_aio_is_connecting(h) == 1) {
		int64_t left = deadline - clock_now_ns();
		int ms = 1000;

		if (cli_interrupted) {
			snprintf(last_error, sizeof(last_error), "interrupted");
			return -1;
		}
		if (deadline != 0 && left <= 0) {
			snprintf(last_error, sizeof(last_error), "%s",
			    strerror(ETIMEDOUT));
			return -1;
		}
		if (deadline != 0 && left < ms * 1000000LL)
			ms = left / 1000000 + 1;
		if (nbd_poll(h, ms) == -1 && nbd_get_errno() != EINTR) {
			keep_error("connection failed");
			return -1;
		}
	}
	if (nbd_aio_is_ready(h) != 1 && nbd_aio_is_negotiating(h) != 1) {
		keep_error("connection closed during the handshake");
		return -1;
	}
	return 0;
}

static int
option_done(void *user, int *error)
{
	*(int *)user = *error;
	return 1;
}

/* Issues an option with its completion going to *err, then waits. */
static int
wait_option(struct nbd_handle *h, int issued, const char *call,
    const char *request, int *err, int64_t deadline)
{
	if (issued == -1) {
		keep_error("option refused");
		return -1;
	}
	if (wait_connecting(h, deadline) == -1)
		return -1;
	if (*err != 0) {
		keep_option_error(call, request, *err);
		return -1;
	}
	return 0;
}

static int
opt_go(struct nbd_handle *h, int64_t deadline)
{
	int e = 0;

	return wait_option(h, nbd_aio_opt_go(h, (nbd_completion_callback){
	    .callback = option_done, .user_data = &e }), "nbd_opt_go",
	    "opt_go", &e, deadline);
}

static int
opt_info(struct nbd_handle *h)
{
	int e = 0;

	return wait_option(h, nbd_aio_opt_info(h, (nbd_completion_callback){
	    .callback = option_done, .user_data = &e }), "nbd_opt_info",
	    "opt_info", &e, 0);
}

static int
request_contexts(struct nbd_handle *h, const struct conn_want *want)
{
	if (want->no_contexts)
		return 0;
	if (want->contexts[0] == NULL)
		return nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION);
	for (size_t i = 0; i < CONN_MAX_CONTEXTS && want->contexts[i]; i++)
		if (nbd_add_meta_context(h, want->contexts[i]) == -1)
			return -1;
	return 0;
}

/*
 * late_name: the caller's export name must replace a URI's, which
 * nbd_connect_uri sets from the path, so the handle stops in
 * negotiation for override_uri_export() to set it.
 */
static int
setup_handle(struct nbd_handle *h, const struct conn_want *want,
    bool late_name)
{
	/* Explicitly off too: LIBNBD_DEBUG=1 alone must not turn it on. */
	if (nbd_set_debug(h, debug) == -1)
		return -1;
	if (nbd_set_request_structured_replies(h, !want->no_sr) == -1 ||
	    nbd_set_uri_allow_local_file(h, true) == -1 ||
	    request_contexts(h, want) == -1)
		return -1;
	if (want->full_info && nbd_set_full_info(h, true) == -1)
		return -1;
	if ((want->opt_mode || late_name) && nbd_set_opt_mode(h, true) == -1)
		return -1;
	if (want->export_name && nbd_set_export_name(h, want->export_name) == -1)
		return -1;
	return 0;
}

/* Sets want->export_name after nbd_connect_uri, then finishes the
 * handshake unless the caller asked for opt mode. */
static int
override_uri_export(struct nbd_handle *h, const struct conn_want *want,
    int64_t deadline)
{
	if (nbd_aio_is_negotiating(h) != 1)
		return 0;	/* oldstyle: the server has no names */
	if (nbd_set_export_name(h, want->export_name) == -1) {
		keep_error("bad export name");
		return -1;
	}
	return want->opt_mode ? 0 : opt_go(h, deadline);
}

static bool
readable_ca(const char *dir, size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%.*s/ca-cert.pem", (int)len, dir);
	return access(path, R_OK) == 0;
}

/*
 * nbds:// over TCP checks the server's certificate only against a CA
 * from a directory: tls-certificates=DIR, or libnbd's default ones.
 * With neither (or a DIR without ca-cert.pem) libnbd 1.14 falls back to
 * the system CAs without checking the certificate at all, so anyone in
 * the middle could answer.  Refuse that, unless the URI asks for no
 * check (tls-verify-peer=false) or uses a PSK, which authenticates
 * both sides by itself.  (Over Unix sockets libnbd checks nothing, by
 * design: the socket's permissions decide who may answer.)
 */
static int
check_peer_verifiable(const char *uri)
{
	/* How libnbd spells false in a URI. */
	static const char *const no_words[] = { "false", "no", "off", "0" };
	const char *v, *home = getenv("HOME");
	char path[4096];
	size_t len;

	if (strncmp(uri, "nbds://", 7) != 0 ||
	    uri_param(uri, "tls-psk-file", &len) != NULL)
		return 0;
	v = uri_param(uri, "tls-verify-peer", &len);
	for (size_t i = 0; v != NULL && i < ARRAY_SIZE(no_words); i++)
		if (len == strlen(no_words[i]) &&
		    strncasecmp(v, no_words[i], len) == 0)
			return 0;
	v = uri_param(uri, "tls-certificates", &len);
	if (v != NULL) {
		if (readable_ca(v, len))
			return 0;
	} else if (geteuid() == 0) {
		if (readable_ca("/etc/pki/libnbd", 15))
			return 0;
	} else if (home != NULL) {
		snprintf(path, sizeof(path), "%s/.pki/libnbd", home);
		if (readable_ca(path, strlen(path)))
			return 0;
		snprintf(path, sizeof(path), "%s/.config/pki/libnbd", home);
		if (readable_ca(path, strlen(path)))
			return 0;
	}
	snprintf(last_error, sizeof(last_error), "no CA to check the "
	    "server's certificate with: give tls-certificates=DIR (holding "
	    "ca-cert.pem) or tls-psk-file=FILE, or tls-verify-peer=false to "
	    "connect without checking");
	return -1;
}

/*
 * The "[ CMD ]" server libnbd just started from this thread: the last
 * child the kernel lists for it (libnbd 1.14 has no nbd_get_pid), or 0.
 */
static pid_t
newest_child(void)
{
	FILE *f = fopen("/proc/thread-self/children", "r");
	long pid = 0, p;

	if (f == NULL)
		return 0;
	while (fscanf(f, "%ld", &p) == 1)
		pid = p;
	fclose(f);
	return pid;
}

/*
 * A "[ CMD ]" server that exits before serving (a bad option, a missing
 * file) shows to libnbd only as a reset connection; its status says
 * more, and its own stderr has said why.  The socket drops as it dies,
 * so its exit may follow a moment later: wait for it, bounded, and
 * leave it for nbd_close() to reap (WNOWAIT).
 */
static void
keep_server_exit(pid_t pid)
{
	int e = nbd_get_errno();
	siginfo_t si = { .si_pid = 0 };

	/*
	 * Which error depends on when it died, seen under load: reset or
	 * EOF mid-handshake, refused before the connect, or EINVAL from
	 * libnbd's poll on a socket hung up before CONNECT.START moved on.
	 */
	if (pid <= 0 || (e != ECONNRESET && e != EPIPE && e != ECONNREFUSED &&
	    e != ENOTCONN && e != EINVAL && e != 0))
		return;
	for (int i = 0; i < 100 && !cli_interrupted; i++) {
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
		    si.si_pid == pid)
			break;
		usleep(20 * 1000);
	}
	if (si.si_pid != pid)
		return;
	if (si.si_code == CLD_EXITED)
		snprintf(last_error, sizeof(last_error),
		    "server exited with status %d", si.si_status);
	else
		snprintf(last_error, sizeof(last_error),
		    "server killed by signal %d (%s)", si.si_status,
		    strsignal(si.si_status));
}

static int
connect_handle(struct nbd_handle *h, const struct ep_arg *arg,
    int64_t deadline)
{
	char *uri;
	pid_t server = 0;
	int r;

	if (arg->kind == EP_ARG_URI) {
		if (check_peer_verifiable(arg->str) == -1)
			return -1;
		/*
		 * NBD has no passwords: libnbd would take "u:pw" for the TLS
		 * user name and print it in errors, debug output and
		 * nbd_get_uri(), so it never sees one.
		 */
		uri = uri_drop_password(arg->str);
		if (uri == NULL)
			err(EXIT_FAILURE, "strdup");
		r = nbd_aio_connect_uri(h, uri);
		free(uri);
	} else if (arg->kind == EP_ARG_CMD) {
		r = nbd_aio_connect_systemd_socket_activation(h,
		    (char **)arg->cmd);
		server = newest_child();
	} else {
		snprintf(last_error, sizeof(last_error), "not an NBD endpoint");
		return -1;
	}
	if (r == -1) {
		keep_error("connect failed");
		if (server > 0)
			keep_server_exit(server);
		return -1;
	}
	if (wait_connecting(h, deadline) == -1) {
		if (server > 0)
			keep_server_exit(server);
		return -1;
	}
	return 0;
}

/* What the handshake settled before any export was chosen. */
static void
record_handshake(struct conn *c)
{
	struct nbd_handle *h = c->h;

	c->sr = nbd_get_structured_replies_negotiated(h) == 1;
	c->tls = nbd_get_tls_negotiated(h) == 1;
	c->protocol = nbd_get_protocol(h);
}

/* Reads back what the handshake settled; libnbd answers from its cache. */
static void
record(struct conn *c, const struct conn_want *want)
{
	struct nbd_handle *h = c->h;
	int64_t v;

	record_handshake(c);
	c->size = nbd_get_size(h);
	if (c->size < 0)
		keep_error("the server sent no export size");
	v = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
	c->block_min = v > 0 ? v : 0;
	v = nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);
	c->block_pref = v > 0 ? v : 0;
	v = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
	c->block_max = v > 0 ? v : 0;
	c->multi_conn = nbd_can_multi_conn(h) == 1;
	c->read_only = nbd_is_read_only(h) == 1;
	c->ncontexts = 0;
	if (want->no_contexts)
		return;
	if (want->contexts[0] == NULL) {
		if (nbd_can_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1)
			c->contexts[c->ncontexts++] =
			    LIBNBD_CONTEXT_BASE_ALLOCATION;
		return;
	}
	for (size_t i = 0; i < CONN_MAX_CONTEXTS && want->contexts[i]; i++)
		if (nbd_can_meta_context(h, want->contexts[i]) == 1)
			c->contexts[c->ncontexts++] = want->contexts[i];
}

/*
 * Creates c->h and connects it to c->arg as want asks, within
 * want->timeout_ns.  -1 with last_error set; c->h is then left for
 * conn_close() (or the next reconnect) to close.
 */
static int
connect_conn(struct conn *c, const struct conn_want *want)
{
	bool late_name = want->export_name != NULL &&
	    c->arg->kind == EP_ARG_URI;
	int64_t deadline = want->timeout_ns > 0 ?
	    clock_now_ns() + want->timeout_ns : 0;

	c->h = nbd_create();
	if (c->h == NULL) {
		snprintf(last_error, sizeof(last_error), "%s", nbd_get_error());
		return -1;
	}
	if (setup_handle(c->h, want, late_name) == -1) {
		keep_error("bad settings");
		return -1;
	}
	if (connect_handle(c->h, c->arg, deadline) == -1 ||
	    (late_name && override_uri_export(c->h, want, deadline) == -1))
		return -1;
	return 0;
}

struct conn *
conn_try_open(const struct ep_arg *arg, const struct conn_want *want)
{
	struct conn *c;

	last_error[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		err(EXIT_FAILURE, "calloc");
	c->arg = arg;
	c->name = arg->display;
	c->size = -1;
	/* Registered before connecting so a "[ CMD ]" is reaped on any exit. */
	register_conn(c);
	if (connect_conn(c, want) == -1) {
		conn_close(c);
		return NULL;
	}
	c->c_want = *want;
	if (want->opt_mode)
		record_handshake(c);
	else
		record(c, want);
	return c;
}

/* Closes the handle at once: the server is gone or does not answer. */
static void
drop_handle(struct conn *c)
{
	if (c->h == NULL)
		return;
	nbd_kill_subprocess(c->h, 0);
	nbd_close(c->h);
	c->h = NULL;
}

int
conn_reconnect(struct conn *c)
{
	last_error[0] = '\0';
	if (c->arg->kind != EP_ARG_URI) {
		snprintf(last_error, sizeof(last_error),
		    "a [ CMD ] server cannot be reconnected");
		return -1;
	}
	drop_handle(c);
	if (connect_conn(c, &c->c_want) == -1)
		return -1;
	c->unresponsive = false;
	record(c, &c->c_want);
	return 0;
}

struct conn *
conn_open(const struct ep_arg *arg, const struct conn_want *want)
{
	struct conn *c = conn_try_open(arg, want);

	if (c == NULL)
		errx(EXIT_FAILURE, "%s: %s", arg->display, last_error);
	return c;
}

int
conn_go(struct conn *c, const char *export_name)
{
	last_error[0] = '\0';
	if (export_name != NULL &&
	    nbd_set_export_name(c->h, export_name) == -1) {
		keep_error("bad export name");
		return -1;
	}
	if (opt_go(c->h, 0) == -1)
		return -1;
	record(c, &c->c_want);
	return 0;
}

int
conn_info(struct conn *c, const char *export_name)
{
	last_error[0] = '\0';
	/*
	 * An oldstyle server skips negotiation, so the handle is ready
	 * already and what it sent is all there is to know.
	 */
	if (export_name == NULL && nbd_aio_is_ready(c->h) == 1) {
		record(c, &c->c_want);
		return 0;
	}
	if (export_name != NULL &&
	    nbd_set_export_name(c->h, export_name) == -1) {
		keep_error("bad export name");
		return -1;
	}
	if (opt_info(c->h) == -1) {
		/*
		 * Old servers do not know NBD_OPT_INFO; only going all the
		 * way tells them apart from a refused export.
		 */
		if (cli_interrupted || nbd_aio_is_negotiating(c->h) != 1 ||
		    opt_go(c->h, 0) == -1)
			return -1;
	}
	record(c, &c->c_want);
	return 0;
}

/* Adapts libnbd's callback shapes to plain function pointers. */
struct list_cb {
	int (*export_fn)(void *, const char *, const char *);
	int (*context_fn)(void *, const char *);
	void *opaque;
};

static int
list_export_cb(void *data, const char *name, const char *desc)
{
	struct list_cb *l = data;

	return l->export_fn(l->opaque, name, desc ? desc : "");
}

static int
list_context_cb(void *data, const char *name)
{
	struct list_cb *l = data;

	return l->context_fn(l->opaque, name);
}

int
conn_list_exports(struct conn *c,
    int (*fn)(void *opaque, const char *name, const char *desc),
    void *opaque)
{
	struct list_cb l = { .export_fn = fn, .opaque = opaque };
	int e = 0;

	last_error[0] = '\0';
	return wait_option(c->h, nbd_aio_opt_list(c->h, (nbd_list_callback){
	    .callback = list_export_cb, .user_data = &l },
	    (nbd_completion_callback){ .callback = option_done,
	    .user_data = &e }), "nbd_opt_list", "list", &e, 0);
}

int
conn_list_contexts(struct conn *c, int (*fn)(void *opaque, const char *name),
    void *opaque)
{
	struct list_cb l = { .context_fn = fn, .opaque = opaque };
	int e = 0;

	last_error[0] = '\0';
	return wait_option(c->h, nbd_aio_opt_list_meta_context(c->h,
	    (nbd_context_callback){ .callback = list_context_cb,
	    .user_data = &l }, (nbd_completion_callback){
	    .callback = option_done, .user_data = &e }),
	    "nbd_opt_list_meta_context", "list meta context", &e, 0);
}

static int
append_context(void *opaque, const char *name)
{
	FILE *f = opaque;

	fprintf(f, "%s%s", ftell(f) > 0 ? ", " : "", name);
	return 0;
}

char *
conn_offered_contexts(const struct ep_arg *arg)
{
	struct conn_want want = { .opt_mode = true, .no_contexts = true };
	struct conn *c = conn_try_open(arg, &want);
	char *list = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (c == NULL)
		return NULL;
	f = open_memstream(&list, &len);
	if (f == NULL)
		err(EXIT_FAILURE, "open_memstream");
	r = conn_list_contexts(c, append_context, f);
	if (fclose(f) != 0)
		err(EXIT_FAILURE, "open_memstream");
	conn_abort(c);
	conn_close(c);
	if (r == -1 || len == 0) {
		free(list);
		return NULL;
	}
	return list;
}

void
conn_abort(struct conn *c)
{
	/* Best effort: the server may have gone already, which is fine. */
	if (nbd_aio_is_negotiating(c->h) == 1 && nbd_aio_opt_abort(c->h) == 0)
		(void)wait_connecting(c->h, 0);
}

void
conn_set_debug(bool on)
{
	debug = on;
	/*
	 * nbd_create() reads LIBNBD_DEBUG and logs its own call before
	 * nbd_set_debug() can say no: only -v decides (as nbdcopy's -v).
	 */
	if (!on && unsetenv("LIBNBD_DEBUG") == -1)
		err(EXIT_FAILURE, "unsetenv");
}

const char *
conn_last_error(void)
{
	return last_error;
}

const char *
conn_dead_reason(const struct conn *c)
{
	const char *msg;

	if (c->h == NULL || nbd_aio_is_dead(c->h) != 1)
		return NULL;
	msg = nbd_get_error();
	return msg != NULL && msg[0] != '\0' ? msg : NULL;
}

bool
conn_has_context(const struct conn *c, const char *name)
{
	for (unsigned i = 0; i < c->ncontexts; i++)
		if (strcmp(c->contexts[i], name) == 0)
			return true;
	return false;
}

bool
conn_is_negotiating(const struct conn *c)
{
	return nbd_aio_is_negotiating(c->h) == 1;
}

bool
conn_can_extents(const struct conn *c)
{
	return c->sr && conn_has_context(c, LIBNBD_CONTEXT_BASE_ALLOCATION);
}

/*
 * After a signal: the replies still due get a moment to arrive, then
 * NBD_CMD_DISC goes out without waiting for the server to act on it.
 * A server that has not answered by then is cut off.
 */
static void
disconnect_interrupted(struct nbd_handle *h)
{
	while (nbd_aio_in_flight(h) > 0 && !cli_grace_expired())
		if (nbd_poll(h, CLI_POLL_MS) == -1 && nbd_get_errno() != EINTR)
			return;
	if (nbd_aio_in_flight(h) == 0 && nbd_aio_is_ready(h) == 1)
		(void)nbd_aio_disconnect(h, 0);
}

/*
 * Sends NBD_CMD_DISC (or NBD_OPT_ABORT) and gives the server a few
 * seconds to see it; from a server that does not answer we go anyway
 * rather than hang on the way out.  A query-only handle with nothing
 * in flight leaves as soon as it is sent: there is nothing the server
 * could still have to write out for it.
 */
static void
disconnect(struct nbd_handle *h, bool query_only)
{
	int r = -1;

	if (cli_interrupted) {
		disconnect_interrupted(h);
		return;
	}
	/*
	 * Also with replies still due: closing the socket under a server
	 * still writing them is rude, and crashes nbdkit 1.32.
	 */
	/* Counted before: NBD_CMD_DISC counts as in flight itself. */
	query_only = query_only && nbd_aio_in_flight(h) == 0;
	if (nbd_aio_is_ready(h) == 1 || nbd_aio_is_processing(h) == 1)
		r = nbd_aio_disconnect(h, 0);
	else if (nbd_aio_is_negotiating(h) == 1)
		r = nbd_aio_opt_abort(h);
	if (r == -1 || query_only)
		return;
	for (int i = 0; i < 50 && !cli_interrupted; i++) {
		if (nbd_aio_is_closed(h) == 1 || nbd_aio_is_dead(h) == 1)
			return;
		if (nbd_poll(h, 100) == -1 && nbd_get_errno() != EINTR)
			return;
	}
}

struct conn_deferred {
	struct conn_deferred *next;
	void (*fn)(void *);
	void *arg;
};

void
conn_free_after_close(struct conn *c, void (*fn)(void *), void *arg)
{
	struct conn_deferred *d = malloc(sizeof(*d));

	if (d == NULL)
		err(EXIT_FAILURE, "malloc");
	*d = (struct conn_deferred){ c->deferred, fn, arg };
	c->deferred = d;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	unregister_conn(c);
	if (c->h != NULL) {
		/*
		 * Disconnect politely (unless nobody would answer) so a
		 * server such as qemu-nbd writes out its metadata, then make
		 * sure a "[ CMD ]" that ignores the closed socket still
		 * exits: nbd_close waits for it.
		 */
		if (!c->unresponsive)
			disconnect(c->h, c->c_want.query_only);
		nbd_kill_subprocess(c->h, 0);
		nbd_close(c->h);
	}
	while (c->deferred != NULL) {
		struct conn_deferred *d = c->deferred;

		c->deferred = d->next;
		d->fn(d->arg);
		free(d);
	}
	free(c);
}

void
conn_close_all(void)
{
	for (;;) {
		struct conn *c = NULL;

		pthread_mutex_lock(&registry_lock);
		if (nregistry > 0)
			c = registry[nregistry - 1];
		pthread_mutex_unlock(&registry_lock);
		if (c == NULL)
			break;
		conn_close(c);
	}
}
