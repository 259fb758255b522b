/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Extents of a range, in order, merged and clipped (see extents.h): a
 * thin driver that sends the requests the engine (extents-engine.c) asks
 * for as the endpoint's block-status commands, feeds the replies back,
 * and waits on the endpoint like any other command.  The endpoint owns
 * its connection and every failure reason; this file only decides when
 * to wait, and for how long.
 */
#include <err.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cli.h"
#include "clock.h"
#include "endpoint.h"
#include "extents.h"

#define BASE_ALLOCATION	"base:allocation"

struct extent_iter {
	struct endpoint *ep;
	const char *context;
	uint64_t pos, end;		/* the fallback's */
	bool fallback;
	bool end_on_signal;
	struct extents_engine *eng;	/* NULL for the fallback */
};

static void
on_extent(void *opaque, uint64_t off, const uint32_t *entries,
    size_t nr_entries)
{
	extents_engine_reply(opaque, off, entries, nr_entries);
}

static void
on_done(void *opaque, int err)
{
	extents_engine_done(opaque, err);
}

/* Keeps the window full: called before every wait, and between results. */
static void
send_requests(struct extent_iter *it)
{
	struct extents_req *r;
	uint64_t off;
	uint32_t len;

	while ((r = extents_engine_request(it->eng, &off, &len)) != NULL)
		ep_aio_block_status(it->ep, it->context, off, len, on_extent,
		    on_done, r);
}

struct extent_iter *
extents_begin(struct endpoint *ep, uint64_t off, uint64_t len,
    const struct extents_opts *opts)
{
	static const struct extents_opts defaults;
	struct extent_iter *it;

	if (opts == NULL)
		opts = &defaults;
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		err(EXIT_FAILURE, "calloc");
	it->ep = ep;
	it->context = opts->context ? opts->context : BASE_ALLOCATION;
	it->end_on_signal = opts->end_on_signal;
	if (ep->size >= 0 && off > (uint64_t)ep->size)
		off = ep->size;
	if (ep->size >= 0 && len > (uint64_t)ep->size - off)
		len = ep->size - off;
	it->pos = off;
	it->end = off + len;
	if (!ep->has_extents || !ep_has_context(ep, it->context)) {
		it->fallback = true;
		return it;
	}
	it->eng = extents_engine_new(off, len, ep->size, ep->advertised_min,
	    ep->advertised_max, opts->window, opts->errors_as_data);
	/*
	 * Asked now, so a caller that begins the next range before it
	 * needs it (nbd-copy's next chunk) finds the answers there.
	 */
	send_requests(it);
	return it;
}

bool
extents_fallback(const struct extent_iter *it)
{
	return it->fallback;
}

static bool
next_fallback(struct extent_iter *it, struct extent *e)
{
	if (it->pos >= it->end)
		return false;
	*e = (struct extent){ it->pos, it->end - it->pos, 0 };
	it->pos = it->end;
	return true;
}

/* After a signal: exits, or is true when the caller asked to unwind. */
static bool
stop_here(const struct extent_iter *it)
{
	if (!cli_interrupted)
		return false;
	if (!it->end_on_signal)
		cli_check_interrupted();
	return true;
}

/* One bounded wait on the endpoint: 0, or an errno value if it died. */
static int
wait_some(struct extent_iter *it)
{
	struct endpoint *failed;

	return ep_try_poll(&it->ep, 1, CLI_POLL_MS, &failed);
}

/*
 * Waits for the requests in flight, so the callbacks that point into the
 * engine are done with it, and the server is not left writing replies to
 * a closed socket (nbdkit 1.32 aborts when several fail at once).  As
 * every other wait: no longer than the grace period, after a signal or
 * not, so a hung server cannot hang the tool.  False if they did not all
 * come back.
 */
static bool
drain(struct extent_iter *it)
{
	int64_t end = clock_now_ns() + CLI_GRACE_NS;

	while (extents_engine_in_flight(it->eng) > 0) {
		if (cli_interrupted ? cli_grace_expired() :
		    clock_now_ns() >= end)
			return false;
		if (wait_some(it) != 0 &&
		    extents_engine_in_flight(it->eng) > 0)
			return false;
	}
	return true;
}

static NORETURN void
fail(struct extent_iter *it)
{
	const char *why;
	uint64_t off;
	int e = extents_engine_error(it->eng, &off, &why);

	drain(it);
	if (why != NULL)
		errx(EXIT_FAILURE, "%s: %s: block status at offset %" PRIu64
		    ": %s", it->ep->side, it->ep->name, off, why);
	ep_die(it->ep, "block status", off, e);
}

/* A malformed reply that errors_as_data turned into data. */
static void
warn_malformed(const struct extent_iter *it)
{
	const char *why;
	uint64_t off;

	extents_engine_error(it->eng, &off, &why);
	warnx("%s: %s: block status at offset %" PRIu64 ": %s; reading the "
	    "range as data", it->ep->side, it->ep->name, off, why);
}

static bool
next_engine(struct extent_iter *it, struct extent *e)
{
	int err;

	for (;;) {
		switch (extents_engine_next(it->eng, e)) {
		case EXTENTS_HAVE:
			/*
			 * Refill a half-empty window while results are still
			 * buffered, so the next ones are on their way before
			 * the buffer runs dry instead of a round trip after.
			 */
			if (extents_engine_hungry(it->eng))
				send_requests(it);
			return true;
		case EXTENTS_END:
			return false;
		case EXTENTS_WARN:
			warn_malformed(it);
			continue;
		case EXTENTS_ERROR:
			fail(it);
		case EXTENTS_WAIT:
			break;
		}
		/* What it just freed may let it send more before waiting. */
		send_requests(it);
		if (stop_here(it))
			return false;
		if (extents_engine_in_flight(it->eng) == 0)
			continue;
		/* The endpoint fails what was in flight when it dies. */
		err = wait_some(it);
		if (err != 0 && extents_engine_in_flight(it->eng) > 0)
			ep_die(it->ep, "block status", it->pos, err);
	}
}

bool
extents_next(struct extent_iter *it, struct extent *e)
{
	if (it->eng != NULL)
		return next_engine(it, e);
	return next_fallback(it, e);
}

static void
iter_free(void *arg)
{
	struct extent_iter *it = arg;

	extents_engine_free(it->eng);
	free(it);
}

void
extents_end(struct extent_iter *it)
{
	if (it == NULL)
		return;
	/*
	 * The callbacks point into the engine: let them finish first, or,
	 * after a signal, a failure or a death, free it only once they
	 * cannot run any more.
	 */
	if (it->eng != NULL && !drain(it)) {
		ep_free_later(it->ep, iter_free, it);
		return;
	}
	iter_free(it);
}
