/* arg.c: see arg.h. */
#include "arg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

long long estrtonum(const char *s, long long min, long long max, const char *what)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno == ERANGE)
		uprintf("%s: not an integer: '%s'", what, s);
	if (v < min || v > max)
		uprintf("%s: %s is out of range [%lld, %lld]", what, s, min, max);
	return v;
}

double estrtod(const char *s, double min, double max, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno == ERANGE || !isfinite(v))
		uprintf("%s: not a number: '%s'", what, s);
	if (v < min || v > max)
		uprintf("%s: %s is out of range [%g, %g]", what, s, min, max);
	return v;
}

int is_help(const char *s)
{
	return strcmp(s, "--help") == 0;
}
