/* fdio.c: see fdio.h. */
#include "fdio.h"

#include <errno.h>
#include <unistd.h>

ssize_t fd_read(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t k = read(fd, buf, n);
		if (k >= 0 || errno != EINTR)
			return k;
	}
}

int fd_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}
