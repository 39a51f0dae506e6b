/* arg.h: checked parsing of numeric command-line arguments.
 *
 * Every number a program takes from its command line goes through these:
 * a malformed or out-of-range value is a usage error (exit 2) naming the
 * option, never a silent 0 as atoi would give. */
#ifndef CHARNN_ARG_H
#define CHARNN_ARG_H

/* The integer in s, which must lie in [min, max]; what names it in errors. */
long long estrtonum(const char *s, long long min, long long max, const char *what);

/* The finite real number in s, which must lie in [min, max]. */
double estrtod(const char *s, double min, double max, const char *what);

/* 1 if s is exactly "--help" (every program answers it with its usage). */
int is_help(const char *s);

#endif
