/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 as RFC 3629 defines it, for output that must stay valid (JSON)
 * or must not drive the terminal (text built from what a server sent).
 */
#ifndef NBDU_UTF8_H
#define NBDU_UTF8_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes, n > 0) with
 * its code point in *cp, or 0 if the bytes there are not one.
 */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes s with every control character, C0 and C1, and every byte of
 * invalid UTF-8 as '?': a server's strings cannot drive the terminal. */
void utf8_put_printable(FILE *fp, const char *s);

#endif
