/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The block-status engine behind extents.c (see extents-engine.h): pure,
 * with no I/O, so the protocol edge cases can be unit tested and fuzzed.
 *
 * It keeps an ordered list of slots, one per request range.  A
 * slot is IDLE (to be sent), SENT, or DONE (its pieces known).  Results
 * come out of the DONE slots at the head of the list, so the order is
 * the range's order whatever order replies arrive in.  New ranges are
 * only opened while fewer than cap slots exist, and only the first
 * hard_cap slots are ever sent, so however replies come back the list
 * stays within a few hard_caps.  Once EXTENTS_BUDGET pieces wait in
 * slots, only the head's slot is sent until they are printed.  Memory is
 * thus bounded by the window and the budget, not by the number of
 * extents.
 *
 * New ranges are as long as one reply is expected to cover, so every
 * slot in the window is a request of its own that the server answers
 * whole.  A server that answers only a few extents per request (nbdkit
 * plugins may, qemu stops at its own limits) needs extents / few
 * requests whatever their length: asking for more than one reply covers
 * would only leave a rest that can be asked once that reply is back, a
 * round trip later, so the window would drain to those rests between
 * round trips instead of staying full.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "extents-engine.h"

#define EXTENTS_SLACK		2	/* cap: this many windows of slots */
#define EXTENTS_MIN_CHUNK	(1u << 20)	/* the first request, to learn */
#define EXTENTS_MIN_PIECE	4096		/* ranges are no shorter */
#define EXTENTS_BUDGET		65536		/* pieces held before slowing */
#define EXTENTS_RAMP		16	/* new ranges in flight while growing */

struct piece {
	uint64_t len;
	uint32_t flags;
};

enum slot_state { SLOT_IDLE, SLOT_SENT, SLOT_DONE };

struct extents_req {
	struct extents_engine *eng;
	enum slot_state state;
	uint64_t off, end;	/* the range this slot stands for */
	uint64_t covered;	/* [off, covered) is known */
	uint64_t sent_end;	/* where the request sent ended */
	uint64_t seen_end;	/* where the reply's extents ended, past it too */
	/* The reply: extents as sent, those used, and the first and last used. */
	size_t nraw, nused;
	uint64_t first, last;
	int err;		/* DONE: an errno value */
	const char *bad;	/* why the reply is malformed, or NULL */
	bool warned;		/* EXTENTS_WARN was said for it */
	struct piece *p;	/* merged pieces from off, covering [off, covered) */
	size_t n, cap;
	struct extents_req *next_free;
};

struct extents_engine {
	uint64_t start, end;	/* the range */
	uint64_t size;		/* the export, to round request ends up */
	uint64_t align;		/* requests start and end at multiples */
	uint64_t max_len;	/* longest request */
	uint64_t chunk;		/* new ranges end at multiples of this */
	bool sized;		/* chunk follows a reply's extent density */
	bool ramped;		/* chunk has stopped growing: fill the window */
	bool limited;		/* a reply covered less than asked */
	size_t per_reply;	/* most extents the server sent in one reply */
	uint64_t ext_len;	/* typical extent length; 0: not known yet */
	unsigned window;
	unsigned cap;		/* slots before no new range is opened */
	unsigned hard_cap;	/* only slots before this index are sent */
	bool errors_as_data;

	uint64_t next_off;	/* start of the range no slot has yet */
	unsigned in_flight;

	struct extents_req **order;	/* slots, by offset */
	size_t nslots, order_cap;
	struct extents_req *free_list;
	size_t buffered;	/* pieces held in slots */

	/* Emission: the head slot's next piece, and the extent being merged. */
	size_t piece_idx;
	uint64_t emit_pos;
	bool have_cur;
	struct extent cur;

	uint64_t err_off;
	int err;
	const char *why;	/* the malformed reply's reason, if that */
};

static uint64_t
round_down(uint64_t n, uint64_t a)
{
	return n - n % a;
}

static uint64_t
round_up(uint64_t n, uint64_t a)
{
	uint64_t r = n % a;

	return r == 0 || n > UINT64_MAX - (a - r) ? n : n + (a - r);
}

/* The largest power of two not above n (1 for 0). */
static uint64_t
pow2_at_most(uint64_t n)
{
	uint64_t p = 1;

	while (p <= n / 2)
		p <<= 1;
	return p;
}

static uint64_t
pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n && p < (UINT64_C(1) << 62))
		p <<= 1;
	return p;
}

/*
 * The multiple of unit after pos, clipped to end.  Requests start and
 * end on round numbers (a power of two, unless block_max is odd) because
 * some servers answer by content (nbdkit data: "zero" for the all-zero
 * tail of a page, "data" for the whole page), so only boundaries the
 * server uses itself give the answer nbdinfo's one big request gets.
 */
static uint64_t
boundary_after(uint64_t pos, uint64_t unit, uint64_t end)
{
	uint64_t b = round_down(pos, unit);	/* b <= pos < end */

	return end - b <= unit ? end : b + unit;
}

/*
 * Where a range from pos ends.  At the protocol's limit (not a power of
 * two) no boundary is round anyway, and ranges laid from pos rather
 * than from multiples of the limit save the request that would cover
 * only the few bytes the probe put out of step.
 */
static uint64_t
range_end(const struct extents_engine *eng, uint64_t pos, uint64_t end)
{
	if (eng->chunk == eng->max_len)
		return end - pos <= eng->max_len ? end : pos + eng->max_len;
	return boundary_after(pos, eng->chunk, end);
}

struct extents_engine *
extents_engine_new(uint64_t off, uint64_t len, uint64_t size,
    uint32_t block_min, uint32_t block_max, unsigned window,
    bool errors_as_data)
{
	struct extents_engine *eng;

	eng = calloc(1, sizeof(*eng));
	if (eng == NULL)
		err(EXIT_FAILURE, "calloc");
	eng->start = off;
	eng->end = off + len;
	eng->size = size < eng->end ? eng->end : size;
	eng->align = block_min > 0 ? block_min : 1;
	/* nbdinfo's limit: 32 bits, rounded down to the block (512 if none). */
	eng->max_len = round_down(UINT32_MAX,
	    block_min > 0 ? block_min : 512);
	if (block_max > 0 && round_down(block_max, eng->align) > 0)
		eng->max_len = MIN(eng->max_len,
		    round_down(block_max, eng->align));
	eng->window = window > 0 ? window : EXTENTS_WINDOW;
	/* Slack for replies that overtake the head's, so it keeps sending. */
	eng->cap = EXTENTS_SLACK * eng->window;
	eng->hard_cap = 16 * eng->window;
	eng->errors_as_data = errors_as_data;
	/* A first guess, until the first reply shows how dense the map is. */
	eng->chunk = pow2_at_least(MAX((uint64_t)EXTENTS_MIN_CHUNK,
	    eng->align));
	if (eng->chunk > eng->max_len)
		eng->chunk = eng->max_len;
	eng->next_off = off;
	eng->emit_pos = off;
	return eng;
}

static struct extents_req *
slot_new(struct extents_engine *eng, uint64_t off, uint64_t end)
{
	struct extents_req *r = eng->free_list;

	if (r != NULL)
		eng->free_list = r->next_free;
	else {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			err(EXIT_FAILURE, "calloc");
	}
	r->eng = eng;
	r->state = SLOT_IDLE;
	r->off = r->covered = off;
	r->end = end;
	r->err = 0;
	r->bad = NULL;
	r->warned = false;
	r->n = 0;
	return r;
}

/* Inserts r into the order at index i. */
static void
slot_insert(struct extents_engine *eng, size_t i, struct extents_req *r)
{
	if (eng->nslots == eng->order_cap) {
		size_t ncap = eng->order_cap ? 2 * eng->order_cap : 16;
		struct extents_req **o;

		o = realloc(eng->order, ncap * sizeof(*o));
		if (o == NULL)
			err(EXIT_FAILURE, "realloc");
		eng->order = o;
		eng->order_cap = ncap;
	}
	memmove(&eng->order[i + 1], &eng->order[i],
	    (eng->nslots - i) * sizeof(*eng->order));
	eng->order[i] = r;
	eng->nslots++;
}

static void
slot_pop_head(struct extents_engine *eng)
{
	struct extents_req *r = eng->order[0];

	memmove(&eng->order[0], &eng->order[1],
	    (eng->nslots - 1) * sizeof(*eng->order));
	eng->nslots--;
	eng->buffered -= r->n;
	r->next_free = eng->free_list;
	eng->free_list = r;
}

static void
slot_append(struct extents_req *r, uint64_t len, uint32_t flags)
{
	if (r->n > 0 && r->p[r->n - 1].flags == flags) {
		r->p[r->n - 1].len += len;
		return;
	}
	if (r->n == r->cap) {
		size_t ncap = r->cap ? 2 * r->cap : 16;
		struct piece *p = realloc(r->p, ncap * sizeof(*p));

		if (p == NULL)
			err(EXIT_FAILURE, "realloc");
		r->p = p;
		r->cap = ncap;
	}
	r->p[r->n].len = len;
	r->p[r->n].flags = flags;
	r->n++;
	r->eng->buffered++;
}

struct extents_req *
extents_engine_request(struct extents_engine *eng, uint64_t *off,
    uint32_t *len)
{
	struct extents_req *r = NULL;
	bool tight = eng->buffered >= EXTENTS_BUDGET;
	uint64_t s, e;
	size_t i;

	if (eng->in_flight >= eng->window)
		return NULL;
	/*
	 * Rests of short replies come first, being earliest.  A slot far
	 * down the list waits: each short reply adds a slot, and only those
	 * near the head may add more, so the list cannot grow without bound
	 * while the head is slow.
	 */
	for (i = 0; i < eng->nslots && i < eng->hard_cap; i++) {
		if (eng->order[i]->state == SLOT_IDLE) {
			r = eng->order[i];
			break;
		}
		/* Over budget, only what the head waits for may go. */
		if (tight && eng->order[i]->state == SLOT_SENT)
			return NULL;
	}
	if (r == NULL) {
		if (eng->next_off >= eng->end || eng->nslots >= eng->cap ||
		    (eng->nslots > 0 && (tight || !eng->sized)))
			return NULL;
		/*
		 * While replies still make ranges longer, a full window of
		 * ranges of today's length would cover with hundreds of
		 * requests what a few of tomorrow's cover: open only what a
		 * server works on at once (nbdkit's threads, qemu's
		 * requests), as TCP's slow start does.
		 */
		if (!eng->ramped && eng->in_flight >= EXTENTS_RAMP)
			return NULL;
		s = eng->next_off;
		e = range_end(eng, s, eng->end);
		r = slot_new(eng, s, e);
		slot_insert(eng, eng->nslots, r);
		eng->next_off = e;
	} else if (eng->nslots < eng->hard_cap) {
		/*
		 * A rest goes out a chunk at a time, like new ranges: asked
		 * whole, it would come back short again, and what it left
		 * could only be asked a round trip later.
		 */
		e = range_end(eng, r->off, r->end);
		if (e < r->end) {
			slot_insert(eng, i + 1, slot_new(eng, e, r->end));
			r->end = e;
		}
	}
	s = round_down(r->covered, eng->align);
	e = MIN(round_up(r->end, eng->align), eng->size);
	r->state = SLOT_SENT;
	r->nraw = r->nused = 0;
	eng->in_flight++;
	*off = s;
	*len = MIN(e - s, eng->max_len);
	r->sent_end = r->seen_end = s + *len;
	return r;
}

/*
 * Why a reply chunk breaks SPEC 1.2, or NULL.  Only its last extent may
 * run past the request (it describes where the server stopped); an
 * earlier one that does, or bytes past the export, says the server's
 * idea of the range is not ours, so none of it can be trusted.
 */
static const char *
malformed(uint64_t off, uint64_t sent_end, const uint32_t *entries,
    size_t nr_entries)
{
	size_t n = nr_entries / 2;
	uint64_t pos = off;

	if (n == 0)
		return "malformed reply (no extents)";
	for (size_t i = 0; i < n; i++) {
		uint64_t len = entries[2 * i];

		if (len == 0)
			return "malformed reply (an extent of length 0)";
		if (pos > UINT64_MAX - len)
			return "malformed reply (extents past 2^64)";
		pos += len;
		if (i + 1 < n && pos > sent_end)
			return "malformed reply (an extent before the last "
			    "ends past the request)";
	}
	return NULL;
}

void
extents_engine_reply(struct extents_req *r, uint64_t off,
    const uint32_t *entries, size_t nr_entries)
{
	uint64_t pos = off;

	if (r->state != SLOT_SENT || r->bad != NULL)
		return;
	r->bad = malformed(off, r->sent_end, entries, nr_entries);
	if (r->bad != NULL)
		return;
	r->nraw += nr_entries / 2;
	for (size_t i = 0; i + 1 < nr_entries; i += 2)
		pos += entries[i];
	/* Checked by malformed(): the sum does not wrap. */
	r->seen_end = MAX(r->seen_end, MIN(pos, r->eng->size));
	pos = off;
	for (size_t i = 0; i + 1 < nr_entries && r->covered < r->end; i += 2) {
		uint64_t len = entries[i], s = pos, e;

		e = pos + len;
		pos = e;
		/* Before the request, or covered by an earlier chunk. */
		if (e <= r->covered)
			continue;
		/* A gap would leave bytes unknown: trust nothing after it. */
		if (s > r->covered)
			break;
		e = MIN(e, r->end);
		r->last = e - r->covered;
		if (r->nused++ == 0)
			r->first = r->last;
		slot_append(r, e - r->covered, entries[i + 1]);
		r->covered = e;
	}
}

/*
 * After a short reply: [covered, end) becomes an IDLE slot right after
 * r, which extents_engine_request() asks a chunk at a time.
 */
static void
split_rest(struct extents_engine *eng, struct extents_req *r)
{
	size_t i;

	for (i = 0; eng->order[i] != r; i++)
		;
	slot_insert(eng, i + 1, slot_new(eng, r->covered, r->end));
	r->end = r->covered;
}

/*
 * What r's reply described: the bytes from r's start it told about, and
 * whether its last extent was cut by the request's end.  A last extent
 * that ran on past the request (nbdkit's file plugin runs a hole on to
 * the next data) is clipped for the map, but its length is the best
 * news there is of how long the next ranges may be.
 */
static uint64_t
described(const struct extents_req *r, bool whole, bool *last_cut)
{
	uint64_t got = r->covered - r->off;

	*last_cut = whole;
	if (whole && r->seen_end > r->sent_end) {
		*last_cut = false;
		got += r->seen_end - r->covered;
	}
	return got;
}

/*
 * How long one extent typically is, from r's reply.  The first extent
 * used was cut by the request's start, and in a whole reply the last by
 * its end, unless it ran past, so the others say it best.  One extent
 * says little: cut at a random place it is on average half its length,
 * so twice what it covered, which also lets ranges grow while the map
 * gets sparser.
 */
static void
learn_ext_len(struct extents_engine *eng, const struct extents_req *r,
    bool whole)
{
	bool last_cut;
	uint64_t got = described(r, whole, &last_cut), sample;

	if (r->nused == 1)
		sample = got > UINT64_MAX / 2 ? got : 2 * got;
	else if (!last_cut)
		sample = (got - r->first) / (r->nused - 1);
	else if (r->nused == 2)
		sample = got / 2;
	else
		sample = (got - r->first - r->last) / (r->nused - 2);
	sample = MAX(sample, (uint64_t)1);
	/* Replies vary (and single extents guess): average them. */
	eng->ext_len = eng->ext_len == 0 ? sample :
	    (7 * eng->ext_len + sample) / 8;
}

/*
 * Sizes new ranges after r's reply, within two limits.  Memory: a
 * window of replies should hold about EXTENTS_BUDGET pieces at the
 * density r showed, so a dense map is asked in small pieces (memory
 * stays flat however many extents there are) and a sparse one in large
 * pieces, up to the 32-bit limit (few requests).  And once the server
 * has answered short, its pace: a range should be what one reply covers
 * (as many extents as the server sends at most, of the typical length),
 * so every request in the window is answered whole and none waits for
 * another's reply.  Ranges stop growing at the first reply that does
 * not make them longer: from then on the whole window is used.
 */
static void
size_chunk(struct extents_engine *eng, const struct extents_req *r)
{
	bool whole = r->covered >= MIN(r->end, r->sent_end), last_cut;
	uint64_t got = described(r, whole, &last_cut);
	uint64_t per = got / MAX(r->n, (size_t)1);
	uint64_t mult = EXTENTS_BUDGET / eng->window + 1;
	uint64_t want = per > UINT64_MAX / mult ? UINT64_MAX : per * mult;
	uint64_t old = eng->chunk;

	learn_ext_len(eng, r, whole);
	eng->per_reply = MAX(eng->per_reply, r->nraw);
	if (!whole)
		eng->limited = true;
	if (eng->limited) {
		uint64_t pace = eng->ext_len > UINT64_MAX / eng->per_reply ?
		    UINT64_MAX : eng->ext_len * eng->per_reply;

		want = MIN(want, pow2_at_most(pace));
	}
	eng->chunk = pow2_at_least(MAX(MAX(want, eng->align),
	    (uint64_t)EXTENTS_MIN_PIECE));
	if (eng->chunk > eng->max_len)
		eng->chunk = eng->max_len;
	if (eng->chunk <= old || eng->chunk == eng->max_len || !whole)
		eng->ramped = true;
	eng->sized = true;
}

/* The slot's whole range as one data extent, whatever the reply said. */
static void
slot_as_data(struct extents_req *r)
{
	r->eng->buffered -= r->n;
	r->n = 0;
	r->covered = r->off;
	slot_append(r, r->end - r->off, 0);
	r->covered = r->end;
}

void
extents_engine_done(struct extents_req *r, int err)
{
	struct extents_engine *eng = r->eng;

	if (r->state != SLOT_SENT)
		return;
	eng->in_flight--;
	/* Each slot is sent once, so nothing covered means nothing new. */
	if (err == 0 && r->bad == NULL && r->covered == r->off)
		r->bad = "malformed reply (server did not return any extents)";
	if (err != 0 || r->bad != NULL) {
		r->state = SLOT_DONE;
		if (eng->errors_as_data)
			slot_as_data(r);
		else if (err != 0)
			r->err = err;
		else
			r->err = EPROTO;
		if (err != 0)
			r->bad = NULL;	/* a failure, not a malformed reply */
		return;
	}
	size_chunk(eng, r);
	if (r->covered < r->end) {
		split_rest(eng, r);
		/* r was cut to what was covered; it is complete now. */
	}
	r->state = SLOT_DONE;
}

enum extents_status
extents_engine_next(struct extents_engine *eng, struct extent *e)
{
	while (eng->nslots > 0 && eng->order[0]->state == SLOT_DONE) {
		struct extents_req *r = eng->order[0];
		struct piece *p;

		if (r->err != 0) {
			eng->err = r->err;
			eng->why = r->bad;
			eng->err_off = r->bad != NULL ? r->off : r->covered;
			return EXTENTS_ERROR;
		}
		if (r->bad != NULL && !r->warned) {
			r->warned = true;
			eng->err = EPROTO;
			eng->why = r->bad;
			eng->err_off = r->off;
			return EXTENTS_WARN;
		}
		if (eng->piece_idx == r->n) {
			eng->piece_idx = 0;
			slot_pop_head(eng);
			continue;
		}
		p = &r->p[eng->piece_idx++];
		if (eng->have_cur && eng->cur.flags == p->flags) {
			eng->cur.length += p->len;
			eng->emit_pos += p->len;
			continue;
		}
		if (eng->have_cur) {
			*e = eng->cur;
			eng->cur = (struct extent){ eng->emit_pos, p->len, p->flags };
			eng->emit_pos += p->len;
			return EXTENTS_HAVE;
		}
		eng->cur = (struct extent){ eng->emit_pos, p->len, p->flags };
		eng->emit_pos += p->len;
		eng->have_cur = true;
	}
	if (eng->nslots > 0 || eng->next_off < eng->end)
		return EXTENTS_WAIT;
	if (eng->have_cur) {
		*e = eng->cur;
		eng->have_cur = false;
		return EXTENTS_HAVE;
	}
	return EXTENTS_END;
}

int
extents_engine_error(const struct extents_engine *eng, uint64_t *off,
    const char **why)
{
	*off = eng->err_off;
	*why = eng->why;
	return eng->err;
}

unsigned
extents_engine_in_flight(const struct extents_engine *eng)
{
	return eng->in_flight;
}

bool
extents_engine_hungry(const struct extents_engine *eng)
{
	return 2 * eng->in_flight < eng->window;
}

void
extents_engine_free(struct extents_engine *eng)
{
	struct extents_req *r;

	if (eng == NULL)
		return;
	while (eng->nslots > 0)
		slot_pop_head(eng);
	while ((r = eng->free_list) != NULL) {
		eng->free_list = r->next_free;
		free(r->p);
		free(r);
	}
	free(eng->order);
	free(eng);
}
