/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection module: the only code that creates, negotiates and
 * closes libnbd handles (SPEC 1.2).  It asks for structured replies and
 * the meta contexts the caller wants, connects by URI (local-file query
 * parameters allowed) or by "[ CMD ]" with socket activation, and records
 * what was negotiated so tools never ask libnbd twice.
 *
 * Every open handle is registered, and conn_close_all() runs at exit, so
 * every err() path closes connections and kills and reaps "[ CMD ]"
 * servers.
 */
#ifndef NBDU_CONN_H
#define NBDU_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <libnbd.h>

#include "compiler.h"
#include "ep-arg.h"

#define CONN_MAX_CONTEXTS	8

struct conn_want {
	/* Meta contexts to request; none given means base:allocation. */
	const char *contexts[CONN_MAX_CONTEXTS];
	bool no_contexts;	/* request no meta context at all */
	bool no_sr;		/* nor structured replies: one round trip less */
	bool full_info;		/* ask for export name and description */
	bool opt_mode;		/* stop in negotiation; see conn_go() */
	const char *export_name;/* overrides the URI's export name */
	/*
	 * Only questions, never a command that writes: closing sends
	 * NBD_CMD_DISC without waiting for the server to hang up.
	 */
	bool query_only;
	/* Bounds connect and handshake (0: none): then ETIMEDOUT. */
	int64_t timeout_ns;
};

struct conn {
	struct nbd_handle *h;
	const struct ep_arg *arg;
	const char *name;	/* for messages; never holds a password */

	/*
	 * Recorded after the handshake (conn_open, or conn_go and conn_info
	 * in opt mode, where conn_open records only sr, tls and protocol).
	 */
	bool sr;		/* structured replies */
	bool tls;
	const char *protocol;	/* "newstyle-fixed", ... */
	int64_t size;
	uint32_t block_min, block_pref, block_max;	/* 0: not advertised */
	bool multi_conn;
	bool read_only;
	unsigned ncontexts;
	const char *contexts[CONN_MAX_CONTEXTS];	/* negotiated ones */
	struct conn_want c_want;	/* what was asked, for conn_go() */
	struct conn_deferred *deferred;	/* see conn_free_after_close() */
	/*
	 * Set by the owner of a server that stopped answering: closing then
	 * skips the polite disconnect, which would wait for it in vain.
	 */
	bool unresponsive;
};

/*
 * Connects to an EP_ARG_URI or EP_ARG_CMD endpoint; exits 1 with
 * "PROG: NAME: libnbd error" on failure.  The conn borrows arg.
 */
struct conn *conn_open(const struct ep_arg *arg, const struct conn_want *want);

/* Like conn_open, but returns NULL on failure; see conn_last_error(). */
struct conn *conn_try_open(const struct ep_arg *arg,
    const struct conn_want *want);

/*
 * Drops c's handle without a word to the server (gone, or not
 * answering) and connects again to the same URI with the same wants,
 * recording what the new handshake settled (the size included, for the
 * caller to compare).  Commands in flight on the old handle are
 * forgotten: their callbacks never run.  0, or -1 with
 * conn_last_error() set; "[ CMD ]" servers cannot be reconnected.
 */
int conn_reconnect(struct conn *c);

/* libnbd's debug messages (-v) for the handles opened from now on. */
void conn_set_debug(bool on);

/* Why the calling thread's last conn_try_open() failed. */
const char *conn_last_error(void);

/*
 * In opt mode: select export (NULL keeps the URI's) and finish the
 * handshake.  Returns 0, or -1 with libnbd's error kept.
 */
int conn_go(struct conn *c, const char *export_name);

/*
 * In opt mode: ask for export_name's details with NBD_OPT_INFO (NULL
 * keeps the current name) and record them, staying in negotiation so
 * more questions can follow.  A server without NBD_OPT_INFO gets
 * conn_go() instead; an oldstyle server, already past negotiation, only
 * has its handshake recorded.  Returns 0, or -1 with libnbd's error kept.
 */
int conn_info(struct conn *c, const char *export_name);

/*
 * In opt mode: calls fn once per export the server lists (NBD_OPT_LIST),
 * with its name and description ("" when none).  Returns 0, or -1 with
 * libnbd's error kept.
 */
int conn_list_exports(struct conn *c,
    int (*fn)(void *opaque, const char *name, const char *desc),
    void *opaque);

/*
 * In opt mode: calls fn once per meta context the server offers for the
 * current export, asking with the contexts requested at open (none: the
 * server lists all it has).  Returns 0, or -1 with libnbd's error kept
 * (servers without structured replies cannot answer).
 */
int conn_list_contexts(struct conn *c,
    int (*fn)(void *opaque, const char *name), void *opaque);

/*
 * The meta contexts the server behind arg offers, as "a, b, c", for an
 * error message; NULL if it cannot say.  Asks over a connection of its
 * own, so a server that takes one client at a time must have no other.
 * The caller frees the string.
 */
char *conn_offered_contexts(const struct ep_arg *arg);

/*
 * In opt mode: ends negotiation without choosing an export
 * (NBD_OPT_ABORT), so a server that serves one client at a time can
 * take the next connection.  c is unusable afterwards but still needs
 * conn_close().
 */
void conn_abort(struct conn *c);

/*
 * If the connection died, why (libnbd's error from the call that saw it
 * die, in this thread); NULL otherwise.
 */
const char *conn_dead_reason(const struct conn *c);

/* True while in opt mode, before conn_go() (or an oldstyle handshake). */
bool conn_is_negotiating(const struct conn *c);

/* True if the server agreed to this meta context. */
bool conn_has_context(const struct conn *c, const char *name);

/* True when block status for base:allocation can be asked. */
bool conn_can_extents(const struct conn *c);

/*
 * Memory that callbacks of commands still in flight point into, which
 * only nbd_close() makes safe to free: fn(arg) runs right after it.
 * Called by the thread that drives c.
 */
void conn_free_after_close(struct conn *c, void (*fn)(void *), void *arg);

/* Disconnects cleanly, reaps any subprocess and frees c. */
void conn_close(struct conn *c);

/* Closes every conn still open: the atexit path. */
void conn_close_all(void);

/*
 * "PROG: NAME: why", exit 1: why the last conn_* call failed, or
 * libnbd's error after a failed libnbd call of the caller's own.
 */
NORETURN void conn_die(const struct conn *c);

#endif
