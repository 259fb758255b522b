/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared only between endpoint.c and the ep-*.c files: the constructor of
 * each kind, and the local-file helpers ep-block.c borrows from ep-file.c.
 */
#ifndef NBDU_ENDPOINT_INTERNAL_H
#define NBDU_ENDPOINT_INTERNAL_H

#include <sys/stat.h>

#include "endpoint.h"

/* The largest request we issue when a kind sets no limit of its own. */
#define EP_DEFAULT_MAX	(32u * 1024 * 1024)

struct endpoint *ep_nbd_open(const struct ep_arg *, const struct ep_open_opts *);
struct endpoint *ep_file_open(const struct ep_arg *, const struct ep_open_opts *,
    int fd, bool created);
struct endpoint *ep_block_open(const struct ep_arg *, const struct ep_open_opts *,
    int fd);
struct endpoint *ep_pipe_open(const struct ep_arg *, const struct ep_open_opts *,
    int fd, bool owned);
struct endpoint *ep_null_open(const struct ep_arg *, const struct ep_open_opts *);

/* The fd of a file or block endpoint, -1 for other kinds. */
int ep_local_fd(const struct endpoint *ep);

/* pread/pwrite loops over fd: 0 or errno (EIO for an early EOF). */
int ep_fd_pread(int fd, void *buf, size_t len, uint64_t off);
int ep_fd_pwrite(int fd, const void *buf, size_t len, uint64_t off);
/*
 * reopen and close of the kinds that are a struct endpoint then an fd
 * (file, block): a size-byte copy of ep with its own dup of the fd.
 */
struct endpoint *ep_fd_reopen(struct endpoint *ep, size_t size);
void ep_fd_close(struct endpoint *ep);
/* Writes len zero bytes at off (or sequentially when off is -1). */
int ep_fd_write_zeroes(int fd, uint64_t len, int64_t off);

#endif
