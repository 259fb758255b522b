/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole writes to a file descriptor, through short writes and EINTR. */
#ifndef NBDU_FDIO_H
#define NBDU_FDIO_H

#include <stddef.h>

/* 0 once all len bytes are written, -1 with errno set otherwise. */
int fd_write_all(int fd, const void *buf, size_t len);

#endif
