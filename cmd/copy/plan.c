/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy both engines follow, so they cannot drift apart: when
 * zero ranges can be skipped, when zero detection is worth it, how
 * segments are cut into requests, and how the end of a source that
 * stops inside one of the destination's blocks is written.  A server
 * with a minimum block size refuses anything shorter, so every write
 * and zero covers whole blocks of it.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "copy.h"

void
copy_plan_init(struct copy_plan *p, const struct endpoint *dst,
    const struct copy_opts *o)
{
	bool discards = copy_dst_discards(dst);

	p->align = dst->block_min > 0 ? dst->block_min : 1;
	/* A stream takes zeroes as written bytes: nothing to skip. */
	p->skip_zeroes = discards || ((dst->known_zero || o->dst_is_zero) &&
	    !o->allocated && !dst->is_stream);
	/* A stream or null: takes zeroes as they are, nothing to gain. */
	p->sparse = discards || dst->is_stream ? 0 : o->sparse;
}

uint64_t
copy_plan_request(const struct copy_plan *p, uint64_t n)
{
	return MAX(n - n % p->align, (uint64_t)p->align);
}

uint64_t
copy_plan_piece(uint64_t off, uint64_t len, uint64_t rs, bool zero)
{
	if (zero)
		return MIN(len, COPY_ZERO_MAX);
	return MIN(len, rs - off % rs);
}

uint64_t
copy_plan_body_end(const struct copy_plan *p, uint64_t size)
{
	return size - size % p->align;
}

bool
copy_plan_wanted(const struct copy_opts *o, uint64_t off, uint64_t len)
{
	bool in;

	return o->todo == NULL || len == 0 ||
	    rangeset_run(o->todo, off, off + len, &in) < len || in;
}

int
copy_todo_align(struct rangeset *todo, uint32_t align, uint64_t size)
{
	struct rangeset out = { 0 };

	for (size_t i = 0; i < todo->n; i++) {
		uint64_t lo = todo->r[i].off / align * align;
		uint64_t hi = todo->r[i].off + todo->r[i].len;

		hi = MIN((hi + align - 1) / align * align, size);
		if (lo < hi && rangeset_add(&out, lo, hi - lo) == -1) {
			rangeset_free(&out);
			return -1;
		}
	}
	rangeset_free(todo);
	*todo = out;
	return 0;
}

/* The end of the tail's block, within what the destination holds. */
static uint64_t
tail_block_end(const struct copy_plan *p, const struct endpoint *dst,
    uint64_t off, size_t len)
{
	uint64_t end = off + p->align;

	if (dst->size >= 0 && end > (uint64_t)dst->size)
		end = MAX((uint64_t)dst->size, off + len);
	return end;
}

void
copy_plan_tail(const struct copy_plan *p, struct endpoint *src,
    struct endpoint *dst, struct copy_opts *o, uint64_t off, size_t len,
    const void *data)
{
	size_t block = tail_block_end(p, dst, off, len) - off;
	char *buf = malloc(block);

	if (buf == NULL)
		err(EXIT_FAILURE, "malloc");
	if (block > len)
		ep_read(dst, buf, block, off);
	if (data != NULL)
		memcpy(buf, data, len);
	else
		ep_read(src, buf, len, off);
	if (o->hook != NULL)
		o->hook(o->hook_opaque, off, buf, len);
	ep_write(dst, buf, block, off);
	progress_add(&o->progress, len);
	free(buf);
}
