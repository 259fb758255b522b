/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --destination-is-zero, checked: nbdcopy trusts it blindly, and a
 * destination that is not zero (an encrypted export reads unwritten
 * blocks as noise) then keeps garbage where the source has holes.  So
 * the destination's extents are asked first, which costs a few
 * block-status round trips on a fresh sparse export and no reads: every
 * extent must be reported as reading zero.  An extent reported as data
 * is not read to see whether it happens to hold zeroes: proving that
 * costs as much as zeroing it, which is what the option exists to avoid.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "endpoint.h"
#include "extents.h"
#include "copy.h"

/* The first offset of [off, off+len) not reported as zero, or end. */
static uint64_t
first_nonzero(struct endpoint *dst, uint64_t off, uint64_t len)
{
	struct extent_iter *it = extents_begin(dst, off, len, NULL);
	uint64_t at = off + len;
	struct extent e;

	while (extents_next(it, &e)) {
		if ((e.flags & EXTENT_ZERO) == 0) {
			at = e.offset;
			break;
		}
	}
	extents_end(it);
	return at;
}

static void
refuse(const struct endpoint *dst, uint64_t off)
{
	errx(EXIT_FAILURE, "--destination-is-zero: destination %s is not zero "
	    "at offset %" PRIu64 " (its extents say data); nothing was "
	    "written (--destination-is-zero=trust skips this check)",
	    dst->name, off);
}

void
zero_check(struct endpoint *dst, uint64_t size, const struct rangeset *todo)
{
	struct range whole = { 0, size };
	const struct rangeset all = { .r = &whole, .n = 1, .cap = 1 };

	/* Nothing to trust: zeroes are written, or not needed at all. */
	if (dst->known_zero || dst->discards || dst->is_stream || size == 0)
		return;
	if (!ep_has_context(dst, "base:allocation")) {
		fprintf(stderr, "%s: note: destination %s cannot report its "
		    "extents; --destination-is-zero is trusted unchecked\n",
		    program_invocation_short_name, dst->name);
		return;
	}
	if (todo == NULL)
		todo = &all;
	/* A selective copy writes only its ranges: the rest may hold data. */
	for (size_t i = 0; i < todo->n; i++) {
		uint64_t end = todo->r[i].off + todo->r[i].len;
		uint64_t at = first_nonzero(dst, todo->r[i].off, todo->r[i].len);

		if (at < end)
			refuse(dst, at);
	}
}
