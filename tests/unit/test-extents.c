/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The extents engine against a simulated server that misbehaves in the
 * ways the protocol allows (and some it does not): short replies,
 * extents before the request or past it, a second chunk going back over
 * the first, out-of-order completion, errors, and malformed replies
 * (SPEC 1.2), which must be trusted in no part.  Every
 * case checks the merged result against the model map, and the request
 * limits (alignment, 32 bits, block_max, window) on every request.
 * Against a server that answers two extents per request, it also checks
 * that the window stays full and no request is wasted.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "extents-engine.h"

#define MAX_MODEL	320
#define MAX_PENDING	1024
#define MAX_OUT		4096

/* How the simulated server answers. */
struct server {
	const char *name;
	uint64_t size;
	size_t nmodel;
	struct extent model[MAX_MODEL];	/* the true map, in order */
	uint64_t run;			/* else: data and holes of this length */
	unsigned max_per_reply;		/* 0: all up to the request end */
	bool run_past;			/* last extent runs past the request */
	bool split;			/* each extent in two, same flags */
	bool backwards;			/* a second chunk from the start again */
	bool lifo;			/* complete newest request first */
	bool empty_reply;		/* reply with no extents at all */
	uint64_t fail_at;		/* requests from here on fail (EIO) */
	bool fail;
};

struct pending {
	struct extents_req *r;
	uint64_t off;
	uint32_t len;
	unsigned depth;		/* round trips before it, its own included */
};

/* What a run did, to judge how well it kept the window full. */
struct stats {
	size_t sent;		/* requests */
	size_t waits;		/* replies waited for */
	size_t *sent_then;	/* per wait: requests sent until then */
	unsigned *in_flight;	/* per wait: requests in flight */
	uint32_t longest;	/* longest request */
	unsigned depth;		/* round trips, with the server unlimited */
};

static unsigned failures;

/* EXTENTS_WARN as run() saw them: how many, the last offset and reason. */
static unsigned warns;
static uint64_t warn_off;
static const char *warn_why;

static void
check(bool ok, const char *name, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL %s: %s\n", name, what);
		failures++;
	}
}

/* The model's flags at off, and where that extent ends. */
static uint32_t
model_at(const struct server *sv, uint64_t off, uint64_t *end)
{
	if (sv->run > 0) {
		*end = MIN(off - off % sv->run + sv->run, sv->size);
		return off / sv->run % 2 == 0 ? 0 : 3;
	}
	for (size_t i = 0; i < sv->nmodel; i++) {
		const struct extent *m = &sv->model[i];

		if (off >= m->offset && off < m->offset + m->length) {
			*end = m->offset + m->length;
			return m->flags;
		}
	}
	*end = sv->size;
	return 0;
}

static void
push(uint32_t *ent, size_t *n, uint64_t len, uint32_t flags)
{
	ent[(*n)++] = len;
	ent[(*n)++] = flags;
}

/* Builds the reply to one request as libnbd would pass it on. */
static void
serve(const struct server *sv, const struct pending *p)
{
	uint32_t ent[4 * MAX_MODEL + 8];
	size_t n = 0;
	uint64_t pos = p->off, end = p->off + p->len;
	unsigned count = 0;

	if (!sv->empty_reply) {
		while (pos < end) {
			uint64_t mend, len;
			uint32_t flags = model_at(sv, pos, &mend);

			len = sv->run_past ? mend - pos : MIN(mend, end) - pos;
			if (len > UINT32_MAX)
				len = UINT32_MAX;
			/* Only the last may run past: it is not split. */
			if (sv->split && len >= 2 && pos + len <= end) {
				push(ent, &n, len / 2, flags);
				push(ent, &n, len - len / 2, flags);
			} else
				push(ent, &n, len, flags);
			pos += len;
			if (sv->max_per_reply && ++count == sv->max_per_reply)
				break;
		}
	}
	extents_engine_reply(p->r, p->off, ent, n);
	if (sv->backwards && n > 0) {
		/* Chunk 1 again with other flags: must not override it. */
		uint32_t again[2] = { MIN(pos, end) - p->off, ent[1] ^ 1 };

		extents_engine_reply(p->r, p->off, again, 2);
	}
}

/* The model clipped to [off, off+len) and merged. */
static size_t
expected(const struct server *sv, uint64_t off, uint64_t len,
    struct extent *out)
{
	size_t n = 0;

	if (sv->run > 0) {
		for (uint64_t pos = off, end; pos < off + len; pos = end) {
			uint32_t flags = model_at(sv, pos, &end);

			end = MIN(end, off + len);
			if (n < MAX_OUT)
				out[n++] = (struct extent){ pos, end - pos, flags };
		}
		return n;
	}
	for (size_t i = 0; i < sv->nmodel; i++) {
		const struct extent *m = &sv->model[i];
		uint64_t s = MAX(m->offset, off);
		uint64_t e = MIN(m->offset + m->length, off + len);

		if (s >= e)
			continue;
		if (n > 0 && out[n - 1].flags == m->flags)
			out[n - 1].length += e - s;
		else
			out[n++] = (struct extent){ s, e - s, m->flags };
	}
	return n;
}

struct limits {
	uint32_t block_min, block_max;
	unsigned window;
	bool errors_as_data;
};

/*
 * Sends what the engine asks, checking every request against the
 * limits.  depth: the round trips the replies seen so far waited for.
 */
static bool
send(const struct server *sv, const struct limits *lim,
    struct extents_engine *eng, struct pending *pend, size_t *npend,
    unsigned depth, struct stats *stats)
{
	unsigned window = lim->window ? lim->window : EXTENTS_WINDOW;
	uint64_t align = lim->block_min ? lim->block_min : 1;
	struct extents_req *r;
	uint64_t roff;
	uint32_t rlen;

	while ((r = extents_engine_request(eng, &roff, &rlen)) != NULL) {
		check(*npend < window, sv->name, "more than window in flight");
		check(rlen > 0, sv->name, "empty request");
		check(roff % align == 0, sv->name, "unaligned request offset");
		check((roff + rlen) % align == 0 || roff + rlen == sv->size,
		    sv->name, "unaligned request end");
		check(roff + rlen <= sv->size, sv->name, "request past size");
		check(lim->block_max == 0 || rlen <= lim->block_max,
		    sv->name, "request over block_max");
		if (*npend == MAX_PENDING) {
			check(false, sv->name, "too many pending");
			return false;
		}
		pend[(*npend)++] = (struct pending){ r, roff, rlen, depth + 1 };
		if (stats != NULL) {
			stats->sent++;
			stats->longest = MAX(stats->longest, rlen);
			stats->depth = MAX(stats->depth, depth + 1);
		}
	}
	return true;
}

/*
 * Runs the engine over [off, off+len) against sv, as extents_next()
 * does over libnbd.  Returns the status it ended with; the extents go
 * to out.
 */
static enum extents_status
run(const struct server *sv, const struct limits *lim, uint64_t off,
    uint64_t len, struct extent *out, size_t *nout, uint64_t *err_off,
    struct stats *stats)
{
	struct extents_engine *eng;
	struct pending pend[MAX_PENDING];
	size_t npend = 0;
	unsigned depth = 0;
	enum extents_status st;

	*nout = 0;
	eng = extents_engine_new(off, len, sv->size, lim->block_min,
	    lim->block_max, lim->window, lim->errors_as_data);
	for (;;) {
		struct pending p;
		struct extent e;
		size_t k;

		if (!send(sv, lim, eng, pend, &npend, depth, stats)) {
			st = EXTENTS_WAIT;
			break;
		}
		st = extents_engine_next(eng, &e);
		if (st == EXTENTS_HAVE) {
			check(e.length > 0, sv->name, "empty extent");
			if (*nout < MAX_OUT)
				out[(*nout)++] = e;
			continue;
		}
		if (st == EXTENTS_WARN) {
			extents_engine_error(eng, &warn_off, &warn_why);
			warns++;
			continue;
		}
		if (st == EXTENTS_ERROR) {
			const char *why;

			extents_engine_error(eng, err_off, &why);
			warn_why = why;
			break;
		}
		if (st == EXTENTS_END)
			break;
		/* WAIT: what it freed may let it send more before waiting. */
		if (!send(sv, lim, eng, pend, &npend, depth, stats))
			break;
		if (npend == 0) {
			check(false, sv->name, "waits with nothing in flight");
			break;
		}
		if (stats != NULL && stats->waits < MAX_OUT) {
			stats->sent_then[stats->waits] = stats->sent;
			stats->in_flight[stats->waits++] = npend;
		}
		k = sv->lifo ? npend - 1 : 0;
		p = pend[k];
		memmove(&pend[k], &pend[k + 1], (npend - k - 1) * sizeof(*pend));
		npend--;
		depth = MAX(depth, p.depth);
		if (sv->fail && p.off >= sv->fail_at) {
			extents_engine_done(p.r, 5 /* EIO */);
			continue;
		}
		serve(sv, &p);
		extents_engine_done(p.r, 0);
	}
	/* Drain, as extents_end() does, before freeing. */
	for (size_t i = 0; i < npend; i++)
		extents_engine_done(pend[i].r, 0);
	extents_engine_free(eng);
	return st;
}

static void
compare(const struct server *sv, const struct limits *lim, uint64_t off,
    uint64_t len, struct stats *stats)
{
	static struct extent got[MAX_OUT], want[MAX_OUT];
	size_t ngot, nwant;
	uint64_t eo;
	enum extents_status st = EXTENTS_WAIT;
	char what[256];

	st = run(sv, lim, off, len, got, &ngot, &eo, stats);
	nwant = expected(sv, off, len, want);
	snprintf(what, sizeof(what), "range %" PRIu64 "+%" PRIu64
	    ": status %d, %zu extents (want %zu)", off, len, st, ngot, nwant);
	check(st == EXTENTS_END && ngot == nwant, sv->name, what);
	for (size_t i = 0; i < MIN(ngot, nwant); i++) {
		snprintf(what, sizeof(what), "range %" PRIu64 "+%" PRIu64
		    ": extent %zu: got %" PRIu64 " %" PRIu64 " %" PRIu32
		    " want %" PRIu64 " %" PRIu64 " %" PRIu32, off, len, i,
		    got[i].offset, got[i].length, got[i].flags,
		    want[i].offset, want[i].length, want[i].flags);
		check(got[i].offset == want[i].offset &&
		    got[i].length == want[i].length &&
		    got[i].flags == want[i].flags, sv->name, what);
	}
}

/*
 * A 1 MiB map with extents at odd places, and a size not a multiple of
 * 512.  Servers keep extents to multiples of block_min (but for the
 * last), so with align > 1 the boundaries move down to multiples.
 */
static void
set_model(struct server *sv, uint64_t align)
{
	static const struct extent m[] = {
		{ 0, 1000, 0 }, { 1000, 3096, 3 }, { 4096, 1, 0 },
		{ 4097, 1, 2 }, { 4098, 60000, 0 }, { 64098, 100000, 0 },
		{ 164098, 500000, 3 }, { 664098, 1, 1 }, { 664099, 384478, 0 },
		{ 1048577, 3, 3 },
	};

	uint64_t prev = 0;

	sv->size = 1048580;
	sv->nmodel = 0;
	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		uint64_t e = m[i].offset + m[i].length;

		if (i + 1 < ARRAY_SIZE(m))
			e -= e % align;
		if (e > prev)
			sv->model[sv->nmodel++] =
			    (struct extent){ prev, e - prev, m[i].flags };
		prev = MAX(prev, e);
	}
}

static const struct limits limit_cases[] = {
	{ 0, 0, 0, false },
	{ 1, 0, 1, false },
	{ 512, 0, 4, false },
	{ 4096, 65536, 3, false },
	{ 1, 4096, 0, false },
};

static void
test_behaviours(void)
{
	static const struct {
		const char *name;
		unsigned max_per_reply;
		bool run_past, split, backwards, lifo;
	} cases[] = {
		{ "whole replies", 0, false, false, false, false },
		{ "one extent per reply", 1, false, false, false, false },
		{ "two per reply, newest first", 2, false, false, false, true },
		{ "run past the request", 0, true, false, false, false },
		{ "run past, one per reply", 1, true, false, false, true },
		{ "split extents merge", 3, false, true, false, false },
		{ "second chunk goes back", 1, false, false, true, false },
		{ "everything at once", 1, true, true, true, true },
	};
	static const uint64_t ranges[][2] = {
		{ 0, 1048580 }, { 1, 1048579 }, { 999, 3099 }, { 4096, 1 },
		{ 4097, 2 }, { 5000, 700000 }, { 1048579, 1 }, { 0, 0 },
		{ 700001, 348579 },
	};

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct server sv = { .name = cases[c].name };

		sv.max_per_reply = cases[c].max_per_reply;
		sv.run_past = cases[c].run_past;
		sv.split = cases[c].split;
		sv.backwards = cases[c].backwards;
		sv.lifo = cases[c].lifo;
		for (size_t l = 0; l < ARRAY_SIZE(limit_cases); l++) {
			set_model(&sv, MAX(limit_cases[l].block_min, 1u));
			for (size_t r = 0; r < ARRAY_SIZE(ranges); r++)
				compare(&sv, &limit_cases[l], ranges[r][0],
				    ranges[r][1], NULL);
		}
	}
}

/* Past 4 GiB: requests stay within 32 bits, aligned to block_min. */
static void
test_large(void)
{
	struct server sv = { .name = "large export" };
	struct limits lim = { 512, 0, 8, false };
	uint64_t g = 1024ull * 1024 * 1024;

	sv.size = 20 * g + 512;
	sv.nmodel = 3;
	sv.model[0] = (struct extent){ 0, 5 * g, 0 };
	sv.model[1] = (struct extent){ 5 * g, 10 * g, 3 };
	sv.model[2] = (struct extent){ 15 * g, 5 * g + 512, 0 };
	compare(&sv, &lim, 0, sv.size, NULL);
	sv.run_past = true;
	compare(&sv, &lim, 3 * g + 1, 14 * g, NULL);
	sv.max_per_reply = 1;
	lim.block_max = 32 * 1024 * 1024;
	lim.window = 64;
	compare(&sv, &lim, 0, sv.size, NULL);
}

/*
 * 1024 runs of 64 KiB, two extents per reply: 512 requests at the least,
 * whatever their length.  Replies come back oldest first, as from a
 * server working through its queue.  Each should leave the window full
 * again until the last requests are out: a window that drains between
 * round trips (to a rest the engine may only ask once its reply is
 * back) leaves a slow link idle.
 */
static void
test_pace(void)
{
	static size_t sent_then[MAX_OUT];
	static unsigned in_flight[MAX_OUT];
	static const struct limits lims[] = {
		{ 0, 0, 0, false }, { 512, 0, 16, false },
		{ 4096, 1u << 20, 0, false },
	};
	struct server sv = { .name = "two extents per reply" };
	char what[256];

	sv.size = 64 << 20;
	sv.run = 64 << 10;
	sv.max_per_reply = 2;
	for (size_t l = 0; l < ARRAY_SIZE(lims); l++) {
		struct stats st = { 0, 0, sent_then, in_flight, 0, 0 };
		unsigned window = lims[l].window ?
		    lims[l].window : EXTENTS_WINDOW;
		size_t starved = 0;

		compare(&sv, &lims[l], 0, sv.size, &st);
		for (size_t i = 0; i < st.waits; i++)
			if (in_flight[i] < window && sent_then[i] < st.sent)
				starved++;
		snprintf(what, sizeof(what), "window %u: %zu requests (want "
		    "512 and a few to learn), %zu of %zu waits with the window "
		    "not full", window, st.sent, starved, st.waits);
		check(st.sent <= 512 + 8 && starved <= 1, sv.name, what);
	}
}

/*
 * 256 GiB holding 130 runs of 64 KiB of data, spread evenly (~260
 * extents): requests must grow from what the replies cover to the
 * 32-bit limit (aligned down to block_min), so the map costs about
 * size / 4 GiB requests and a few round trips, not one request per
 * 512 MiB.  A server that runs a hole on past the request (nbdkit's
 * file plugin) says from the first reply how far it goes; one that
 * clips (qemu-nbd) lets ranges grow a round trip at a time, with only
 * a few sent until they stop growing.
 */
static void
test_sparse_huge(void)
{
	static const struct {
		uint32_t block_min;
		bool run_past;
		unsigned depth;		/* round trips at most */
	} cases[] = {
		{ 0, true, 2 }, { 512, true, 2 }, { 4096, true, 2 },
		{ 0, false, 3 }, { 512, false, 3 }, { 4096, false, 3 },
	};
	static size_t sent_then[MAX_OUT];
	static unsigned in_flight[MAX_OUT];
	uint64_t size = 256ull << 30, run = 64 << 10, gap = size / 130;
	char what[256];

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct server sv = { .name = "sparse 256 GiB" };
		struct limits lim = { cases[c].block_min, 0, 0, false };
		struct stats st = { 0, 0, sent_then, in_flight, 0, 0 };
		uint64_t align = MAX(cases[c].block_min, 1u);
		uint32_t max_len = UINT32_MAX - UINT32_MAX %
		    MAX(align, (uint64_t)512);
		size_t want = (size + max_len - 1) / max_len;

		sv.size = size;
		sv.run_past = cases[c].run_past;
		for (uint64_t i = 0, pos = 0; i < 130; i++) {
			uint64_t data = i * gap - i * gap % run;

			if (data > pos)
				sv.model[sv.nmodel++] =
				    (struct extent){ pos, data - pos, 3 };
			sv.model[sv.nmodel++] = (struct extent){ data, run, 0 };
			pos = data + run;
			if (i == 129)
				sv.model[sv.nmodel++] =
				    (struct extent){ pos, size - pos, 3 };
		}
		compare(&sv, &lim, 0, size, &st);
		snprintf(what, sizeof(what), "block_min %u, %s: %zu requests "
		    "(want %zu and a few to grow), longest %" PRIu32 " (want %"
		    PRIu32 "), %u round trips (want %u)", cases[c].block_min,
		    sv.run_past ? "run past" : "clipped", st.sent, want,
		    st.longest, max_len, st.depth, cases[c].depth);
		check(st.sent <= want + 1 + (sv.run_past ? 0 : 16) &&
		    st.longest == max_len && st.depth <= cases[c].depth,
		    sv.name, what);
	}
}

static void
test_errors(void)
{
	static struct extent got[MAX_OUT];
	struct server sv = { .name = "block status error" };
	struct limits lim = { 512, 0, 4, false };
	enum extents_status st = EXTENTS_WAIT;
	size_t n;
	uint64_t eo = 0;

	set_model(&sv, 512);
	sv.max_per_reply = 1;
	sv.fail = true;
	sv.fail_at = 150000;	/* not the first request */
	st = run(&sv, &lim, 0, sv.size, got, &n, &eo, NULL);
	check(st == EXTENTS_ERROR, sv.name, "not reported");
	check(eo >= 150000 && eo < sv.size, sv.name, "wrong offset");
	/* What came before the error is out, in order, and complete. */
	check(n >= 2 && got[n - 1].offset + got[n - 1].length <= eo,
	    sv.name, "extents after the error");

	sv.name = "errors as data";
	lim.errors_as_data = true;
	st = run(&sv, &lim, 0, sv.size, got, &n, &eo, NULL);
	check(st == EXTENTS_END, sv.name, "did not finish");
	check(n > 0 && got[n - 1].offset + got[n - 1].length == sv.size,
	    sv.name, "does not cover the range");
	check(got[n - 1].flags == 0, sv.name, "failed part not data");

	sv.name = "no extents";
	sv.fail = false;
	sv.empty_reply = true;
	lim.errors_as_data = false;
	st = run(&sv, &lim, 4096, 8192, got, &n, &eo, NULL);
	check(st == EXTENTS_ERROR && n == 0 && eo == 4096, sv.name,
	    "not an error at the request");
	check(warn_why != NULL && strcmp(warn_why,
	    "malformed reply (no extents)") == 0, sv.name, "wrong reason");
}

/*
 * One reply to a request for [0, 1 MiB) of a 1 MiB export, then what
 * the engine makes of it: with errors_as_data one data extent over the
 * whole request and one warning, else an error, both at offset 0.
 */
static void
check_malformed(const char *name, const uint32_t *ent, size_t n,
    const uint32_t *second, size_t n2, const char *why)
{
	for (int eas = 0; eas <= 1; eas++) {
		struct extents_engine *eng = extents_engine_new(0, 1 << 20,
		    1 << 20, 512, 0, 4, eas);
		struct extents_req *r;
		enum extents_status st;
		struct extent e = { 0, 0, 0 };
		const char *got = NULL;
		uint64_t off, eo = 1;
		uint32_t len;
		unsigned nwarn = 0;
		int err = 0;

		r = extents_engine_request(eng, &off, &len);
		check(r != NULL && off == 0 && len == 1 << 20, name,
		    "first request not the whole export");
		extents_engine_reply(r, off, ent, n);
		if (second != NULL)
			extents_engine_reply(r, off, second, n2);
		extents_engine_done(r, 0);
		while ((st = extents_engine_next(eng, &e)) == EXTENTS_WARN) {
			err = extents_engine_error(eng, &eo, &got);
			nwarn++;
		}
		if (eas) {
			check(nwarn == 1 && eo == 0 && err != 0, name,
			    "not one warning at offset 0");
			check(st == EXTENTS_HAVE && e.offset == 0 &&
			    e.length == 1 << 20 && e.flags == 0, name,
			    "not read as data, whole");
			check(extents_engine_next(eng, &e) == EXTENTS_END, name,
			    "more than one extent");
		} else {
			check(st == EXTENTS_ERROR, name, "not an error");
			err = extents_engine_error(eng, &eo, &got);
			check(eo == 0 && err != 0, name, "error not at offset 0");
		}
		check(got != NULL && strcmp(got, why) == 0, name,
		    got != NULL ? got : "no reason");
		extents_engine_free(eng);
	}
}

static void
test_malformed(void)
{
	static const char past[] = "malformed reply (an extent before the "
	    "last ends past the request)";
	static const char zero[] = "malformed reply (an extent of length 0)";
	/* The issue's: 64k data, 2 GiB hole, 2 GiB data, for 1 MiB. */
	static const uint32_t overreach[] = {
		65536, 0, 1u << 31, 3, 1u << 31, 0 };
	static const uint32_t early_past[] = { 65536, 3, 1048576, 0, 4096, 3 };
	static const uint32_t zero_first[] = { 0, 3, 1048576, 0 };
	static const uint32_t zero_middle[] = { 65536, 0, 0, 3, 983040, 0 };
	static const uint32_t zero_last[] = { 1048576, 3, 0, 0 };
	static const uint32_t huge[] = {
		0xffffffff, 0, 0xffffffff, 0, 0xffffffff, 0 };
	static const uint32_t good[] = { 65536, 3, 983040, 0 };
	static const uint32_t last_past[] = { 65536, 3, 0xffffffff, 0 };

	check_malformed("overreach", overreach, 6, NULL, 0, past);
	check_malformed("earlier extent past", early_past, 6, NULL, 0, past);
	check_malformed("huge", huge, 6, NULL, 0, past);
	check_malformed("zero first", zero_first, 4, NULL, 0, zero);
	check_malformed("zero middle", zero_middle, 6, NULL, 0, zero);
	check_malformed("zero last", zero_last, 4, NULL, 0, zero);
	check_malformed("no descriptors", good, 0, NULL, 0,
	    "malformed reply (no extents)");
	check_malformed("malformed second chunk", good, 4, zero_first, 4,
	    zero);

	/* Only the last extent may run past, and it is clipped. */
	for (int eas = 0; eas <= 1; eas++) {
		struct extents_engine *eng = extents_engine_new(0, 1 << 20,
		    1 << 20, 512, 0, 4, eas);
		struct extents_req *r;
		struct extent e;
		uint64_t off;
		uint32_t len;

		r = extents_engine_request(eng, &off, &len);
		extents_engine_reply(r, off, last_past, 4);
		extents_engine_done(r, 0);
		check(extents_engine_next(eng, &e) == EXTENTS_HAVE &&
		    e.offset == 0 && e.length == 65536 && e.flags == 3,
		    "last past", "first extent");
		check(extents_engine_next(eng, &e) == EXTENTS_HAVE &&
		    e.offset == 65536 && e.length == 983040 && e.flags == 0,
		    "last past", "not clipped");
		check(extents_engine_next(eng, &e) == EXTENTS_END,
		    "last past", "not the end");
		extents_engine_free(eng);
	}
}

int
main(void)
{
	test_behaviours();
	test_large();
	test_pace();
	test_sparse_huge();
	test_errors();
	test_malformed();
	if (failures > 0) {
		fprintf(stderr, "test-extents: %u failures\n", failures);
		return EXIT_FAILURE;
	}
	printf("test-extents: ok\n");
	return EXIT_SUCCESS;
}
