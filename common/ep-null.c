/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "null:": a destination that discards everything, for benchmarks and for
 * checksumming a source ("nbd-copy SRC null: --blkhash").  It reads as
 * zeroes already, so the copy never sends it zeroing work.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>

#include "compiler.h"
#include "endpoint-internal.h"

static int
null_read(struct endpoint *ep UNUSED, void *buf UNUSED, size_t len UNUSED,
    uint64_t off UNUSED, size_t *got)
{
	*got = 0;
	return EBADF;
}

static int
null_write(struct endpoint *ep UNUSED, const void *buf UNUSED,
    size_t len UNUSED, uint64_t off UNUSED)
{
	return 0;
}

static int
null_zero(struct endpoint *ep UNUSED, uint64_t off UNUSED,
    uint64_t len UNUSED, bool allocate UNUSED)
{
	return 0;
}

static int
null_flush(struct endpoint *ep UNUSED)
{
	return 0;
}

static struct endpoint *
null_reopen(struct endpoint *ep)
{
	struct endpoint *n = malloc(sizeof(*n));

	if (n != NULL)
		*n = *ep;
	return n;
}

static void
null_close(struct endpoint *ep)
{
	free(ep);
}

static const struct endpoint_ops null_ops = {
	.kind = "null",
	.read = null_read,
	.write = null_write,
	.zero = null_zero,
	.flush = null_flush,
	.reopen = null_reopen,
	.close = null_close,
};

struct endpoint *
ep_null_open(const struct ep_arg *arg, const struct ep_open_opts *opts)
{
	struct endpoint *ep = calloc(1, sizeof(*ep));

	if (ep == NULL)
		err(EXIT_FAILURE, "calloc");
	*ep = (struct endpoint){
		.ops = &null_ops,
		.name = arg->display,
		.side = opts->side,
		.size = -1,
		.block_min = 1,
		.block_pref = 65536,
		.block_max = EP_DEFAULT_MAX,
		.known_zero = true,
		.can_zero_fast = true,
		.can_multi_conn = true,
		.discards = true,
	};
	return ep;
}
