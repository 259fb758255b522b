/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hexdump -C formatter: bytes in, text out, byte-identical to
 * util-linux hexdump -C (format "%08.8_ax  " 8/1 "%02x " "  " 8/1 "%02x "
 * "  |" 16/1 "_p" "|\n" with repeated lines squashed, the last line
 * padded and the end offset "%08.8_Ax").  nbddump spends its time in one
 * printf per byte; here a line is built from tables straight into the
 * caller's buffer, so formatting costs a few nanoseconds per byte.
 *
 * Colour only adds SGR sequences around offsets and bytes, so stripping
 * them gives the plain output back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "compiler.h"
#include "dump.h"

/* Byte classes for colour; also the index into sgr[]. */
enum { CLS_ZERO, CLS_PRINT, CLS_OTHER, CLS_NONE };

/* Short forms of color.h's reset+colour pairs: they repeat per byte. */
static const char *const sgr[] = {
	[CLS_ZERO] = "\033[0;2m",	/* dim: zero bytes */
	[CLS_PRINT] = "\033[0;32m",	/* green: printable ASCII */
	[CLS_OTHER] = "\033[0;33m",	/* yellow: control and non-ASCII */
};
#define SGR_OFFSET	"\033[36m"	/* cyan offsets */
#define SGR_RESET	"\033[0m"

static const char hexdigits[] = "0123456789abcdef";

static char pair[256][2];	/* "00" .. "ff" */
static char printable[256];	/* the ASCII column: byte or '.' */
static uint8_t cls[256];
static bool tables_ready;

/*
 * hexdump's "_p" is isprint() in the user's locale; in the C and UTF-8
 * locales a single byte is printable only in 0x20-0x7e.
 */
static void
tables_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		bool print = i >= 0x20 && i < 0x7f;

		pair[i][0] = hexdigits[i >> 4];
		pair[i][1] = hexdigits[i & 15];
		printable[i] = print ? (char)i : '.';
		cls[i] = i == 0 ? CLS_ZERO : print ? CLS_PRINT : CLS_OTHER;
	}
	tables_ready = true;
}

static char *
put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* "%08.8llx": at least eight digits, more when the offset needs them. */
static char *
put_addr(char *p, uint64_t a)
{
	unsigned digits = 8;

	while (digits < 16 && (a >> (4 * digits)) != 0)
		digits++;
	for (unsigned i = digits; i-- > 0; a >>= 4)
		p[i] = hexdigits[a & 15];
	return p + digits;
}

/* The hot path: a full line without colour. */
static char *
line_plain(const uint8_t *b, uint64_t addr, char *p)
{
	p = put_addr(p, addr);
	*p++ = ' ';
	*p++ = ' ';
	for (unsigned i = 0; i < 16; i++) {
		memcpy(p, pair[b[i]], 2);
		p[2] = ' ';
		p += 3;
		if (i == 7)
			*p++ = ' ';
	}
	*p++ = ' ';
	*p++ = '|';
	for (unsigned i = 0; i < 16; i++)
		*p++ = printable[b[i]];
	*p++ = '|';
	*p++ = '\n';
	return p;
}

/* Switches the colour to class c if it is not already on. */
static char *
set_class(char *p, unsigned *cur, unsigned c)
{
	if (*cur == c)
		return p;
	*cur = c;
	return put_str(p, c == CLS_NONE ? SGR_RESET : sgr[c]);
}

/*
 * Any line: n (1..16) bytes, the missing ones padded in the hex column
 * and left out of the ASCII column as hexdump's bpad() does, with
 * colour if asked.
 */
static char *
line_any(const struct hexdump *h, const uint8_t *b, unsigned n, char *p)
{
	unsigned cur = CLS_NONE;

	if (h->color)
		p = put_str(p, SGR_OFFSET);
	p = put_addr(p, h->addr);
	if (h->color)
		p = put_str(p, SGR_RESET);
	*p++ = ' ';
	*p++ = ' ';
	for (unsigned i = 0; i < 16; i++) {
		if (i < n) {
			if (h->color)
				p = set_class(p, &cur, cls[b[i]]);
			memcpy(p, pair[b[i]], 2);
		} else {
			p = set_class(p, &cur, CLS_NONE);
			p[0] = p[1] = ' ';
		}
		p[2] = ' ';
		p += 3;
		if (i == 7)
			*p++ = ' ';
	}
	p = set_class(p, &cur, CLS_NONE);
	*p++ = ' ';
	*p++ = '|';
	for (unsigned i = 0; i < n; i++) {
		if (h->color)
			p = set_class(p, &cur, cls[b[i]]);
		*p++ = printable[b[i]];
	}
	p = set_class(p, &cur, CLS_NONE);
	*p++ = '|';
	*p++ = '\n';
	return p;
}

/*
 * A full line: printed, or squashed when it equals the line before it
 * (hexdump compares with the previous line read, which is the last one
 * printed since squashed lines equal it).  Only the first repeat of a
 * run prints "*".
 */
static char *
full_line(struct hexdump *h, const uint8_t *b, char *p)
{
	if (h->state != HEXDUMP_FIRST && memcmp(b, h->prev, 16) == 0) {
		if (h->state == HEXDUMP_WAIT) {
			*p++ = '*';
			*p++ = '\n';
		}
		h->state = HEXDUMP_DUP;
	} else {
		p = h->color ? line_any(h, b, 16, p) : line_plain(b, h->addr, p);
		memcpy(h->prev, b, 16);
		h->state = HEXDUMP_WAIT;
	}
	h->addr += 16;
	return p;
}

void
hexdump_begin(struct hexdump *h, uint64_t start, bool color)
{
	if (!tables_ready)
		tables_init();
	memset(h, 0, sizeof(*h));
	h->addr = start;
	h->state = HEXDUMP_FIRST;
	h->color = color;
}

size_t
hexdump_data(struct hexdump *h, const void *buf, size_t len, char *out)
{
	const uint8_t *b = buf;
	char *p = out;

	if (h->fill > 0) {
		size_t k = MIN(16 - (size_t)h->fill, len);

		memcpy(h->line + h->fill, b, k);
		h->fill += k;
		b += k;
		len -= k;
		if (h->fill < 16)
			return 0;
		p = full_line(h, h->line, p);
		h->fill = 0;
	}
	for (; len >= 16; b += 16, len -= 16)
		p = full_line(h, b, p);
	memcpy(h->line, b, len);
	h->fill = len;
	return p - out;
}

size_t
hexdump_zero(struct hexdump *h, uint64_t len, char *out)
{
	static const uint8_t zero[16];
	char *p = out;
	uint64_t lines;

	if (h->fill > 0) {
		uint64_t k = MIN(16 - (uint64_t)h->fill, len);

		memset(h->line + h->fill, 0, k);
		h->fill += k;
		len -= k;
		if (h->fill < 16)
			return 0;
		p = full_line(h, h->line, p);
		h->fill = 0;
	}
	/*
	 * After one zero line the previous line is zeros, so the second is
	 * a repeat (at most a "*") and every later one a silent repeat.
	 */
	lines = len / 16;
	for (uint64_t i = 0; i < lines && i < 2; i++)
		p = full_line(h, zero, p);
	if (lines > 2)
		h->addr += (lines - 2) * 16;
	h->fill = len % 16;
	memset(h->line, 0, h->fill);
	return p - out;
}

size_t
hexdump_end(struct hexdump *h, char *out)
{
	char *p = out;

	if (h->fill > 0) {
		p = line_any(h, h->line, h->fill, p);
		h->addr += h->fill;
		h->fill = 0;
	}
	if (h->addr != 0) {
		if (h->color)
			p = put_str(p, SGR_OFFSET);
		p = put_addr(p, h->addr);
		if (h->color)
			p = put_str(p, SGR_RESET);
		*p++ = '\n';
	}
	return p - out;
}
