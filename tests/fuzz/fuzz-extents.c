/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The block-status engine (extents-engine.c) against a simulated server
 * driven by the input.  Requests must be aligned, non-empty, at most 32
 * bits (and block_max), inside the export, at most window at once.
 * Results must come out in order, non-empty, merged, inside the range
 * and, unless the engine reports an error, cover it exactly.  When every
 * reply told the truth (descriptors that follow the content, perhaps
 * short, perhaps past the request), the map must be the content's.
 * A malformed reply (SPEC 1.2: no descriptors, one of length 0, one but
 * the last ending past the request) is never trusted: without
 * errors_as_data the run must end in an error, with it each such reply
 * gives a warning.
 *
 * Content: flags of byte o are (o / gran) % 3.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extents-engine.h"

#define MAX_OUT	64
#define MAX_STEPS	4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t
take(struct in *in, size_t k)
{
	uint64_t v = 0;

	while (k-- > 0) {
		v = v << 8 | (in->n > 0 ? *in->p : 0);
		if (in->n > 0)
			in->p++, in->n--;
	}
	return v;
}

struct out {
	struct extents_req *r;
	uint64_t off;
	uint32_t len;
};

static uint32_t
truth(uint64_t o, uint64_t gran)
{
	return (uint32_t)((o / gran) % 3);
}

/* The rule of SPEC 1.2, written again independently of the engine. */
static bool
malformed(const struct out *o, const uint32_t *ent, size_t n)
{
	uint64_t pos = o->off, end = o->off + o->len;

	if (n < 2)
		return true;
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (ent[i] == 0)
			return true;
		pos += ent[i];
		if (i + 3 < n && pos > end)
			return true;
	}
	return false;
}

/*
 * Answers o[k]: truthfully (shuffled lengths) or with junk.  Counts the
 * replies that succeed though malformed in *bad.
 */
static bool
answer(struct in *in, struct out *o, uint64_t gran, uint64_t size,
    unsigned *bad)
{
	uint32_t ent[2 * 16];
	size_t n = 0;
	uint8_t how = take(in, 1);
	uint64_t pos = o->off;
	bool honest = (how & 3) != 0;

	if (honest) {
		/* Up to 16 runs, each ending at a content boundary or short. */
		while (n < 2 * 16 && pos < size) {
			uint64_t b = (pos / gran + 1) * gran, e;

			if (b > size)
				b = size;
			e = b;
			if (take(in, 1) & 1)
				e = pos + 1 + take(in, 2) % (b - pos);
			if (e - pos > UINT32_MAX)
				e = pos + UINT32_MAX;
			ent[n++] = (uint32_t)(e - pos);
			ent[n++] = truth(pos, gran);
			pos = e;
			if (pos >= (uint64_t)o->off + o->len && (how & 4))
				break;
			if (pos >= (uint64_t)o->off + o->len && !(how & 8))
				break;
		}
	} else {
		size_t k = take(in, 1) % 16;

		for (size_t i = 0; i < k; i++) {
			ent[n++] = (uint32_t)take(in, 4);
			ent[n++] = (uint32_t)take(in, 1);
		}
	}
	extents_engine_reply(o->r, o->off, ent, n);
	if (how & 0x10)	/* a second chunk: duplicate/backwards */
		extents_engine_reply(o->r, o->off, ent, n);
	if ((how & 0xe0) != 0xe0 && malformed(o, ent, n))
		(*bad)++;
	extents_engine_done(o->r, (how & 0xe0) == 0xe0 ? 5 : 0);
	return honest && !(how & 0x10) && (how & 0xe0) != 0xe0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct in in = { data, len };
	uint64_t off = take(&in, 3) * 512, rlen = take(&in, 3) * 97 + 1;
	uint64_t tail = take(&in, 2) * 512, size;
	uint32_t bmin = 1u << (take(&in, 1) % 17);
	uint32_t bmax = (uint32_t)take(&in, 1) << 12;
	unsigned window = take(&in, 1) % 8;
	uint64_t gran = take(&in, 2) * 13 + 1;
	bool eas = take(&in, 1) & 1, honest = true;
	/* Up to 2^19 times longer: past the 32-bit limit requests grow to. */
	unsigned scale = take(&in, 1) % 20;
	bool idle = false;
	unsigned bad = 0, warns = 0;
	struct extents_engine *eng;
	struct out outs[MAX_OUT];
	size_t nout = 0;
	uint64_t pos = off, prev_flags = UINT64_MAX;
	struct extent e;

	rlen <<= scale;
	gran <<= scale;
	size = off + rlen + tail;
	if (bmax != 0 && bmax < bmin)
		bmax = 0;
	if (size % bmin != 0)
		size += bmin - size % bmin;
	eng = extents_engine_new(off, rlen, size, bmin, bmax,
	    window, eas);
	for (int step = 0; step < MAX_STEPS; step++) {
		struct extents_req *r;
		uint64_t qoff;
		uint32_t qlen;
		enum extents_status st;

		while (nout < MAX_OUT &&
		    (r = extents_engine_request(eng, &qoff, &qlen)) != NULL) {
			if (qlen == 0 || qoff % bmin != 0 ||
			    qoff + qlen > size ||
			    ((qoff + qlen) % bmin != 0 && qoff + qlen != size) ||
			    (bmax != 0 && qlen > bmax))
				abort();
			outs[nout++] = (struct out){ r, qoff, qlen };
			if (extents_engine_in_flight(eng) > (window ? window : 64))
				abort();
		}
		while ((st = extents_engine_next(eng, &e)) == EXTENTS_HAVE ||
		    st == EXTENTS_WARN) {
			if (st == EXTENTS_WARN) {
				const char *why;
				uint64_t wo;

				if (!eas || extents_engine_error(eng, &wo,
				    &why) == 0 || why == NULL || wo < off ||
				    wo >= off + rlen)
					abort();
				warns++;
				continue;
			}
			if (e.offset != pos || e.length == 0 ||
			    e.offset + e.length > off + rlen ||
			    e.flags == prev_flags)
				abort();
			if (honest) {
				for (uint64_t o = e.offset; o < e.offset + e.length;
				    o += gran - o % gran)
					if (truth(o, gran) != e.flags && !eas)
						abort();
			}
			pos += e.length;
			prev_flags = e.flags;
		}
		if (st == EXTENTS_END) {
			/* Every malformed reply was either warned or an error. */
			if (pos != off + rlen || (bad > 0 && !eas) ||
			    warns < bad)
				abort();
			break;
		}
		if (st == EXTENTS_ERROR) {
			const char *why;
			uint64_t eo;

			if (extents_engine_error(eng, &eo, &why) == 0)
				abort();
			break;
		}
		if (nout == 0) {
			/* WAIT means "send requests": there must be one now. */
			if (idle)
				abort();
			idle = true;
			continue;
		}
		idle = false;
		/* Answer one request, picked by the input. */
		size_t k = take(&in, 1) % nout;
		struct out o = outs[k];

		outs[k] = outs[--nout];
		if (!answer(&in, &o, gran, size, &bad))
			honest = false;
	}
	extents_engine_free(eng);
	return 0;
}
