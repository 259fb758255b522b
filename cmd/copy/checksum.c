/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --blkhash and --check: the engines hand every piece of the source to
 * a hook as they copy it (data, or NULL for a hole that was not read);
 * the hook passes it to blkhash, whose workers hash the blocks beside
 * the copy.  Holes cost one precomputed digest per block, never a read.
 * A resumed copy's hash takes up the state its --checkpoint kept and is
 * given the rest of the done part first, from the source, so that it
 * folds in order (memory stays small, saved states move on) while the
 * rest is copied.
 */
#include <err.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "endpoint.h"
#include "checkpoint.h"
#include "copy.h"

struct checksum {
	struct blkhash *h;
	_Atomic uint64_t end;	/* highest off + len seen: a stream's length */
};

/*
 * Runs in the engines' threads, in any order.  A failure is remembered
 * by blkhash and reported by blkhash_final, from the main thread.
 */
static void
checksum_hook(void *opaque, uint64_t off, const void *buf, size_t len)
{
	struct checksum *cs = opaque;
	uint64_t end = off + len, cur = atomic_load(&cs->end);

	if (buf == NULL)
		blkhash_zero(cs->h, off, len);
	else
		blkhash_update(cs->h, off, buf, len);
	while (cur < end && !atomic_compare_exchange_weak(&cs->end, &cur, end))
		;
}

struct checksum *
checksum_begin(struct copy_opts *opts, struct endpoint *src)
{
	struct checksum *cs = calloc(1, sizeof(*cs));
	const struct rangeset *rest;

	if (cs == NULL)
		err(EXIT_FAILURE, "calloc");
	cs->h = blkhash_new(&opts->hash, 0);
	if (cs->h == NULL)
		err(EXIT_FAILURE, "--blkhash");
	atomic_init(&cs->end, 0);
	opts->hook = checksum_hook;
	opts->hook_opaque = cs;
	if (opts->ckpt != NULL) {
		rest = checkpoint_hash(opts->ckpt, cs->h);
		if (rest != NULL)
			checksum_fill(cs, src, rest, opts);
	}
	return cs;
}

/*
 * The engine the copy uses, tuned the same way, into null:, so holes
 * cost a digest here too and a slow source is read with as many
 * requests in flight; its own progress, so nothing counts in the
 * copy's.
 */
void
checksum_fill(struct checksum *cs, struct endpoint *ep,
    const struct rangeset *ranges, const struct copy_opts *o)
{
	struct ep_arg null_arg = { .kind = EP_ARG_NULL, .str = "null:",
	    .display = (char *)"null:" };
	struct ep_open_opts no = { .mode = EP_WRITE, .side = "checksum" };
	struct copy_opts h = {
		.connections = o->connections,
		.no_extents = o->no_extents,
		.queue_size = o->queue_size,
		.request_size = o->request_size,
		.request_size_set = o->request_size_set,
		.request_max = o->request_max,
		.requests = o->requests,
		.requests_set = o->requests_set,
		.threads = o->threads,
		.workers = o->workers,
		.todo = ranges,
		.hook = checksum_hook,
		.hook_opaque = cs,
	};
	struct endpoint *null;

	if (ranges->n == 0)
		return;
	null = ep_open(&null_arg, &no);
	if (h.workers == 0)
		copy_sync(ep, null, &h);
	else
		copy_async(ep, null, &h);
	ep_close(null);
}

void
checksum_end(struct checksum *cs, const struct endpoint *src,
    char hex[BLKHASH_HEX_MAX])
{
	/* A sized source must have been covered to its end: final checks. */
	uint64_t length = src->size >= 0 ? (uint64_t)src->size :
	    atomic_load(&cs->end);

	if (blkhash_final(cs->h, length, hex) == -1)
		errx(EXIT_FAILURE, "--blkhash: %s", blkhash_error(cs->h));
	blkhash_free(cs->h);
	free(cs);
}
