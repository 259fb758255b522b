/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nbd-dump's cross-file declarations: the hexdump -C formatter
 * (hexdump.c, pure: bytes in, text out) and the readers that feed it
 * (dump.c: random-access endpoints through extents with asynchronous
 * read-ahead, and streams).
 */
#ifndef NBDU_DUMP_H
#define NBDU_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct endpoint;

/*
 * Longest line the formatter writes: a 16-digit offset, the hex and
 * ASCII columns, and with colour one SGR sequence per byte in both
 * columns plus the resets.
 */
#define HEXDUMP_LINE_MAX	384
/* Room hexdump_data() needs for len bytes (one unfinished line carried). */
#define HEXDUMP_DATA_MAX(len)	(((len) / 16 + 3) * (size_t)HEXDUMP_LINE_MAX)
/* Room hexdump_zero() needs, whatever the length: two lines and a '*'. */
#define HEXDUMP_ZERO_MAX	(3 * (size_t)HEXDUMP_LINE_MAX)
/* Room hexdump_end() needs: the last, partial line and the offset line. */
#define HEXDUMP_END_MAX		(2 * (size_t)HEXDUMP_LINE_MAX)

enum hexdump_state {
	HEXDUMP_FIRST,		/* nothing printed yet: never squash */
	HEXDUMP_WAIT,		/* a line was printed: a repeat prints '*' */
	HEXDUMP_DUP,		/* inside a run of repeats: print nothing */
};

/*
 * The state of one dump, as util-linux hexdump keeps it: lines start at
 * the first offset (not aligned to 16), a full line equal to the one
 * before it is squashed into one "*" line, the last partial line is
 * always printed, and the end offset closes the dump.  Callers may split
 * the bytes anywhere: the state carries an unfinished line across calls.
 */
struct hexdump {
	uint64_t addr;		/* offset of line[0] */
	enum hexdump_state state;
	unsigned fill;		/* bytes of line[] set so far */
	bool color;		/* add ANSI colour sequences */
	uint8_t line[16];	/* the line being collected */
	uint8_t prev[16];	/* the last full line, printed or squashed */
};

/* Starts a dump whose first byte is at offset start. */
void hexdump_begin(struct hexdump *h, uint64_t start, bool color);

/*
 * Formats len bytes that follow what came before into out, which has
 * room for HEXDUMP_DATA_MAX(len) bytes.  Returns the bytes written.
 */
size_t hexdump_data(struct hexdump *h, const void *buf, size_t len,
    char *out);

/*
 * Formats a run of len zero bytes exactly as hexdump_data() would,
 * without touching them: at most two lines and a '*' whatever len is,
 * since every full line after the first zero line is a repeat.  out has
 * room for HEXDUMP_ZERO_MAX bytes.  Returns the bytes written.
 */
size_t hexdump_zero(struct hexdump *h, uint64_t len, char *out);

/*
 * Ends the dump: prints the unfinished line, if any, then the end offset
 * (nothing at all for a dump that ends at offset 0, as hexdump does).
 * out has room for HEXDUMP_END_MAX bytes.  Returns the bytes written.
 */
size_t hexdump_end(struct hexdump *h, char *out);

struct dump_opts {
	uint64_t offset;	/* -s: first byte */
	uint64_t length;	/* -n: UINT64_MAX for "to the end" */
	bool color;
};

/* Dumps a range of a random-access endpoint; holes are never read. */
void dump_range(struct endpoint *ep, const struct dump_opts *opts);

/* Dumps a stream (stdin): -s is honoured by reading and discarding. */
void dump_stream(struct endpoint *ep, const struct dump_opts *opts);

#endif
