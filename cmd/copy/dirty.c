/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --dirty-bitmap=NAME: the ranges QEMU's dirty bitmap marks as changed,
 * walked over the source's qemu:dirty-bitmap:NAME meta context before
 * the copy starts, become the copy's todo set.  The walk is metadata
 * only, pipelined like nbd-stat-map's, so a mostly clean image costs a
 * few round trips before the copy reads just what changed.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "endpoint.h"
#include "extents.h"
#include "copy.h"

#define BITMAP_PREFIX	"qemu:dirty-bitmap:"
#define BITMAP_DIRTY	1u	/* the context's only flag */

char *
dirty_context(const char *name)
{
	char *ctx;

	/* The full context name, as nbd-stat-map --map takes it, works too. */
	if (strncmp(name, BITMAP_PREFIX, strlen(BITMAP_PREFIX)) == 0)
		name += strlen(BITMAP_PREFIX);
	if (name[0] == '\0')
		errx(EXIT_FAILURE, "--dirty-bitmap: the bitmap name is empty");
	if (asprintf(&ctx, BITMAP_PREFIX "%s", name) == -1)
		err(EXIT_FAILURE, "asprintf");
	return ctx;
}

/*
 * As nbd-stat-map --map says it: the server's list of contexts, asked
 * once src is closed, since a server may take one client at a time.
 */
static void
missing_bitmap(struct endpoint *src, const struct ep_arg *arg,
    const char *ctx)
{
	char *offered;

	ep_close(src);
	offered = conn_offered_contexts(arg);
	if (offered == NULL)
		errx(EXIT_FAILURE, "--dirty-bitmap: server does not support "
		    "metadata context \"%s\"", ctx);
	errx(EXIT_FAILURE, "--dirty-bitmap: server does not support metadata "
	    "context \"%s\"; it offers: %s", ctx, offered);
}

void
dirty_ranges(struct endpoint *src, const struct ep_arg *arg, const char *ctx,
    struct rangeset *todo)
{
	struct extents_opts eo = { .context = ctx };
	struct extent_iter *it;
	struct extent e;

	if (!ep_has_context(src, ctx))
		missing_bitmap(src, arg, ctx);
	it = extents_begin(src, 0, src->size, &eo);
	while (extents_next(it, &e))
		if ((e.flags & BITMAP_DIRTY) != 0 &&
		    rangeset_add(todo, e.offset, e.length) == -1)
			err(EXIT_FAILURE, "--dirty-bitmap");
	extents_end(it);
}
