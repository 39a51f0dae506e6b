/* fdio.h: read and write on a descriptor, riding out interrupted calls.
 *
 * A signal (SIGCHLD, SIGWINCH, a timer) may interrupt read() or write()
 * before any byte moved; these retry then, so callers see only data, the
 * end of the input, or a real error. */
#ifndef CHARNN_FDIO_H
#define CHARNN_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* read(2) retried on EINTR: bytes read (at most n), 0 at the end of the
 * input, -1 with errno set on an error. */
ssize_t fd_read(int fd, void *buf, size_t n);
/* Write all n bytes at p to a blocking descriptor, retrying short writes
 * and EINTR: 0, or -1 with errno set. (The stream writer, which may write
 * to a non-blocking pipe, keeps its own loop: it waits on EAGAIN.) */
int fd_write_all(int fd, const void *p, size_t n);

#endif
