/* err.h: error reporting and checked allocation for every charnn program.
 *
 * Messages go to stderr as "prog: message". Exit codes are shared by all
 * programs:
 *   0  success
 *   1  bad data, I/O error or runtime failure (EXIT_DATA)
 *   2  bad usage: unknown option, bad argument (EXIT_USAGE)
 * Files written by name are registered with atexit_unlink() while they are
 * temporary, so an error exit leaves nothing half-written behind. */
#ifndef CHARNN_ERR_H
#define CHARNN_ERR_H

#include <stddef.h>

enum { EXIT_DATA = 1, EXIT_USAGE = 2 };

extern const char *argv0; /* program name used in messages; set by setprog() */

/* Set argv0 from argv[0] (its last path component). */
void setprog(const char *arg0);

/* Print "prog: message" and exit with EXIT_DATA (eprintf) or EXIT_USAGE
 * (uprintf). A message ending in ':' gets ": strerror(errno)" appended. */
void eprintf(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void uprintf(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* malloc/calloc that die on failure; ecalloc checks n*size for overflow. */
void *emalloc(size_t size);
void *ecalloc(size_t n, size_t size);
void *erealloc(void *p, size_t size);
/* n*size, or die naming what if it overflows size_t. */
size_t emul(size_t n, size_t size, const char *what);

/* Remember a temporary file to unlink if the program exits with an error;
 * forget_unlink() once it has been renamed into place. */
void atexit_unlink(const char *path);
void forget_unlink(const char *path);

/* Flush stdout and exit 0, or die if anything written to it failed. */
void efshut_stdout(void) __attribute__((noreturn));

#endif
