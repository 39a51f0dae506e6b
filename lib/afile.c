/* afile.c: see afile.h. */
#include "afile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

void afile_open(struct afile *a, const char *path)
{
	size_t n = strlen(path);
	a->path = emalloc(n + 1);
	memcpy(a->path, path, n + 1);
	a->tmp = emalloc(n + 12);
	memcpy(a->tmp, path, n);
	memcpy(a->tmp + n, ".tmpXXXXXX", 11);
	a->fd = mkstemp(a->tmp);
	if (a->fd < 0)
		eprintf("%s: cannot create temporary file:", path);
	atexit_unlink(a->tmp);
	/* mkstemp makes 0600; give the file the mode creat would. */
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(a->fd, 0666 & ~mask);
}

void afile_commit(struct afile *a, int sync)
{
	if (a->fd >= 0) {
		if (sync && fsync(a->fd) != 0)
			eprintf("%s: fsync:", a->path);
		if (close(a->fd) != 0)
			eprintf("%s: write error:", a->path);
	}
	if (rename(a->tmp, a->path) != 0)
		eprintf("%s: rename:", a->path);
	forget_unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	a->fd = -1;
}
