/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hexdump -C formatter fed in pieces (data, and zero runs through
 * hexdump_zero) must print exactly what one hexdump_data call over the
 * same bytes prints, and never write past the room dump.h promises.
 *
 * Input: 8 bytes start offset, 1 byte colour, then records of one byte
 * kind/length (bit 7: zero run) and, for data, that many bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

#define CANARY	0x5a

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hexdump a, b;
	uint64_t start = 0;
	bool color;
	uint8_t *flat;
	size_t flatn = 0, i = 9;
	char *pieces, *whole, *out;
	size_t pn = 0, wn, room;

	if (len < 9)
		return 0;
	memcpy(&start, data, 8);
	/* Keep the end below 2^64: offsets are at most 2^63 in the tools. */
	start &= (UINT64_C(1) << 63) - 1;
	color = data[8] & 1;
	/* A record is at most 890 zero bytes, or data of 3 lines' room. */
	flat = malloc(len * 890 + 1);
	pieces = malloc((len / 16 + 3 * len + 3) * (size_t)HEXDUMP_LINE_MAX +
	    (len + 2) * HEXDUMP_ZERO_MAX);
	if (flat == NULL || pieces == NULL)
		abort();
	hexdump_begin(&a, start, color);
	while (i < len) {
		size_t n = data[i] & 0x7f;
		bool zero = data[i] & 0x80;

		i++;
		if (zero) {
			n = n * 7 + 1;
			room = HEXDUMP_ZERO_MAX;
			out = malloc(room + 1);
			if (out == NULL)
				abort();
			out[room] = CANARY;
			size_t w = hexdump_zero(&a, n, out);
			if (w > room || out[room] != CANARY)
				abort();
			memcpy(pieces + pn, out, w);
			pn += w;
			free(out);
			memset(flat + flatn, 0, n);
			flatn += n;
			continue;
		}
		if (n > len - i)
			n = len - i;
		room = HEXDUMP_DATA_MAX(n);
		out = malloc(room + 1);
		if (out == NULL)
			abort();
		out[room] = CANARY;
		size_t w = hexdump_data(&a, data + i, n, out);
		if (w > room || out[room] != CANARY)
			abort();
		memcpy(pieces + pn, out, w);
		pn += w;
		free(out);
		memcpy(flat + flatn, data + i, n);
		flatn += n;
		i += n;
	}
	out = malloc(HEXDUMP_END_MAX + 1);
	if (out == NULL)
		abort();
	out[HEXDUMP_END_MAX] = CANARY;
	size_t w = hexdump_end(&a, out);
	if (w > HEXDUMP_END_MAX || out[HEXDUMP_END_MAX] != CANARY)
		abort();
	memcpy(pieces + pn, out, w);
	pn += w;

	hexdump_begin(&b, start, color);
	whole = malloc(HEXDUMP_DATA_MAX(flatn) + HEXDUMP_END_MAX);
	if (whole == NULL)
		abort();
	wn = hexdump_data(&b, flat, flatn, whole);
	wn += hexdump_end(&b, whole + wn);
	if (wn != pn || memcmp(whole, pieces, pn) != 0)
		abort();
	free(out);
	free(whole);
	free(pieces);
	free(flat);
	return 0;
}
