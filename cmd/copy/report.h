/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --report[=FILE]: when nbd-copy exits, whichever way (success, exit 1
 * from deep code, a signal), one JSON document of what happened goes to
 * FILE or stdout: the sides (passwords removed), the size, the bytes
 * read, written, zeroed and skipped, the requests of each kind on each
 * side, connections and threads, seconds and mean rate, the digest, and
 * the exit status with the error message.  All or nothing: FILE appears
 * by a rename, stdout gets one write.
 */
#ifndef NBDU_COPY_REPORT_H
#define NBDU_COPY_REPORT_H

struct copy_opts;
struct endpoint;
struct ep_stats;

/*
 * Arms the report after the options are parsed (file NULL: stdout).
 * FILE's temporary sibling is created now, so a report that cannot be
 * written fails before the copy.  opts and the stats stay the caller's
 * and must live until exit.
 */
void report_begin(const char *file, const struct copy_opts *opts,
    const struct ep_stats *src, const struct ep_stats *dst);

/* What is known once both sides are open: kinds and sizes. */
void report_endpoints(const struct endpoint *src, const struct endpoint *dst);

/* The blkhash of what was copied (--blkhash, --check). */
void report_digest(const char *hex);

#endif
