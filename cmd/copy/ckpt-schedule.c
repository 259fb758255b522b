/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When the --checkpoint saver saves: see ckpt-schedule.h. */
#include "ckpt-schedule.h"

/* A flush may take this share of the time between saves: 1/33, ~3%. */
#define FLUSH_SHARE	33

int64_t
ckpt_next_ns(const struct ckpt_clock *k)
{
	int64_t gap = k->flush_ns * FLUSH_SHARE;

	if (gap < CKPT_SAVE_MIN_NS)
		gap = CKPT_SAVE_MIN_NS;
	if (gap > CKPT_SAVE_MAX_NS)
		gap = CKPT_SAVE_MAX_NS;
	return k->last_ns + gap;
}

bool
ckpt_save_now(const struct ckpt_clock *k, int64_t now)
{
	double rate, end;

	if (now - k->last_ns >= CKPT_SAVE_MAX_NS)
		return true;	/* the latest a save may be */
	if (k->done >= k->left)
		return false;	/* the copy is ending */
	if (k->done == 0 || now <= k->start_ns)
		return true;	/* no rate to guess from */
	rate = (double)k->done / (double)(now - k->start_ns);
	end = (double)now + (double)(k->left - k->done) / rate;
	return end > (double)(k->last_ns + CKPT_SAVE_MAX_NS);
}
