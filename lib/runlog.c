/* runlog.c: see runlog.h. */
#include "runlog.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "err.h"

void log_line(struct logf *l, const char *fmt, ...)
{
	if (!l->f)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(l->f, fmt, ap);
	va_end(ap);
	if (n < 0)
		eprintf("%s: write error:", l->path);
}

/* Everything written so far reaches the file, or die. */
void log_flush(struct logf *l)
{
	if (l->f && (fflush(l->f) || ferror(l->f)))
		eprintf("%s: write error:", l->path);
}

void log_close(struct logf *l)
{
	log_flush(l);
	if (l->f && fclose(l->f))
		eprintf("%s: write error:", l->path);
	l->f = NULL;
}

/* Keep only the lines of log path up to iteration iter (a line of iter
 * itself only if every is 0 or divides iter), so that a resumed run
 * continues the log as if it had never stopped; then open it to append. */
void log_open(struct logf *l, const char *path, long long iter, long long every)
{
	l->path = path;
	l->f = NULL;
	if (!path)
		return;
	FILE *in = fopen(path, "r");
	if (in) {
		struct afile a;
		afile_open(&a, path);
		FILE *out = fdopen(a.fd, "w");
		if (!out)
			eprintf("%s:", a.tmp);
		/* A line cut short by a kill has no newline: it is dropped too. */
		char line[256];
		while (fgets(line, sizeof line, in)) {
			long long it = strtoll(line, NULL, 10);
			if (!strchr(line, '\n') || it > iter ||
			    (it == iter && every && iter % every))
				break;
			if (fputs(line, out) == EOF)
				break;
		}
		fclose(in);
		if (fflush(out) || ferror(out) || fclose(out))
			eprintf("%s: write error:", path);
		a.fd = -1;	/* closed with out */
		afile_commit(&a, 0);
	}
	if (!(l->f = fopen(path, "a")))
		eprintf("%s:", path);
}
