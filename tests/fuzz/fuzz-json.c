/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json_str over arbitrary bytes: the output is one JSON string with no
 * raw control character, only valid escapes (surrogates paired) and
 * valid UTF-8; decoded, it gives back the input when the input was
 * valid UTF-8 (NULs included).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	uint32_t c;
	size_t k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return k;
}

static int
hex4(const uint8_t *s, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t h = s[i];

		*v <<= 4;
		if (h >= '0' && h <= '9')
			*v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			*v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			*v |= h - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

/* Appends code point c as UTF-8. */
static size_t
put_utf8(uint8_t *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = 0xc0 | c >> 6;
		o[1] = 0x80 | (c & 0x3f);
		return 2;
	}
	if (c < 0x10000) {
		o[0] = 0xe0 | c >> 12;
		o[1] = 0x80 | (c >> 6 & 0x3f);
		o[2] = 0x80 | (c & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | c >> 18;
	o[1] = 0x80 | (c >> 12 & 0x3f);
	o[2] = 0x80 | (c >> 6 & 0x3f);
	o[3] = 0x80 | (c & 0x3f);
	return 4;
}

/* Checks s is one JSON string; decodes it into dec. Aborts otherwise. */
static size_t
check(const uint8_t *s, size_t n, uint8_t *dec)
{
	size_t i = 1, d = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		abort();
	while (i < n - 1) {
		uint32_t c, lo;
		size_t k;

		if (s[i] < 0x20 || s[i] == '"')
			abort();
		if (s[i] != '\\') {
			k = utf8_len(s + i, n - 1 - i);
			if (k == 0)
				abort();
			memcpy(dec + d, s + i, k);
			d += k;
			i += k;
			continue;
		}
		if (i + 1 >= n - 1)
			abort();
		switch (s[i + 1]) {
		case '"': case '\\': case '/':
			dec[d++] = s[i + 1];
			i += 2;
			continue;
		case 'b': dec[d++] = '\b'; i += 2; continue;
		case 'f': dec[d++] = '\f'; i += 2; continue;
		case 'n': dec[d++] = '\n'; i += 2; continue;
		case 'r': dec[d++] = '\r'; i += 2; continue;
		case 't': dec[d++] = '\t'; i += 2; continue;
		case 'u':
			break;
		default:
			abort();
		}
		if (i + 6 > n - 1 || hex4(s + i + 2, &c) == -1)
			abort();
		i += 6;
		if (c >= 0xdc00 && c <= 0xdfff)
			abort();	/* lone low surrogate */
		if (c >= 0xd800 && c <= 0xdbff) {
			if (i + 6 > n - 1 || s[i] != '\\' || s[i + 1] != 'u' ||
			    hex4(s + i + 2, &lo) == -1 || lo < 0xdc00 ||
			    lo > 0xdfff)
				abort();
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
		d += put_utf8(dec + d, c);
	}
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *out = NULL;
	size_t outlen = 0, d, i;
	uint8_t *dec;
	FILE *fp = open_memstream(&out, &outlen);
	bool valid = true;

	if (fp == NULL)
		return 0;
	json_str(fp, (const char *)data, len);
	if (fclose(fp) != 0)
		abort();
	dec = malloc(outlen + 1);
	if (dec == NULL)
		abort();
	d = check((const uint8_t *)out, outlen, dec);
	for (i = 0; i < len; ) {
		size_t k = utf8_len(data + i, len - i);

		if (k == 0) {
			valid = false;
			break;
		}
		i += k;
	}
	if (valid && (d != len || memcmp(dec, data, len) != 0))
		abort();
	free(dec);
	free(out);
	return 0;
}
