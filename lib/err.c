/* err.c: see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *argv0 = "charnn";

enum { MAXTMP = 8 };
static char *tmpfiles[MAXTMP];

void setprog(const char *arg0)
{
	const char *s = arg0 ? strrchr(arg0, '/') : NULL;
	if (arg0 && *arg0)
		argv0 = s ? s + 1 : arg0;
}

static void cleanup(void)
{
	for (int i = 0; i < MAXTMP; i++)
		if (tmpfiles[i])
			unlink(tmpfiles[i]);
}

/* Format the whole line first so it reaches stderr in one write. */
static void vmessage(const char *fmt, va_list ap)
{
	int saved = errno;
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "%s: ", argv0);
	if (n < 0 || (size_t)n >= sizeof buf)
		n = 0;
	int m = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	if (m < 0)
		m = 0;
	size_t len = strlen(buf);
	if (len > 0 && buf[len - 1] == ':')
		snprintf(buf + len, sizeof buf - len, " %s", strerror(saved));
	len = strlen(buf);
	if (len + 1 < sizeof buf) {
		buf[len++] = '\n';
	} else {
		buf[sizeof buf - 2] = '\n';
		len = sizeof buf - 1;
	}
	ssize_t w = write(2, buf, len);
	(void)w;
}

void eprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	cleanup();
	_exit(EXIT_DATA);
}

void uprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	cleanup();
	_exit(EXIT_USAGE);
}

size_t emul(size_t n, size_t size, const char *what)
{
	size_t r;
	if (__builtin_mul_overflow(n, size, &r))
		eprintf("%s: size overflows memory", what);
	return r;
}

void *emalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		eprintf("out of memory (%zu bytes)", size);
	return p;
}

void *ecalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		eprintf("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *erealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		eprintf("out of memory (%zu bytes)", size);
	return q;
}

void atexit_unlink(const char *path)
{
	for (int i = 0; i < MAXTMP; i++) {
		if (!tmpfiles[i]) {
			size_t n = strlen(path) + 1;
			tmpfiles[i] = emalloc(n);
			memcpy(tmpfiles[i], path, n);
			return;
		}
	}
	eprintf("too many temporary files");
}

void forget_unlink(const char *path)
{
	for (int i = 0; i < MAXTMP; i++) {
		if (tmpfiles[i] && strcmp(tmpfiles[i], path) == 0) {
			free(tmpfiles[i]);
			tmpfiles[i] = NULL;
		}
	}
}

void efshut_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		eprintf("<stdout>: write error:");
	if (fclose(stdout) != 0)
		eprintf("<stdout>: write error:");
	exit(0);
}
