/* runlog.h: the logs of a training run (loss.log, val.log: formats/model.md,
 * THE LOGS), one line per iteration or measurement, each beginning with its
 * iteration. Every write is checked: a full disk or a file size limit is an
 * error naming the file, never a log cut short in silence. A resumed run
 * cuts its logs back to the checkpoint's iteration first, so they go on as
 * if the run had never stopped. */
#ifndef CHARNN_RUNLOG_H
#define CHARNN_RUNLOG_H

#include <stdio.h>

struct logf {
	FILE *f;		/* NULL: no log */
	const char *path;
};

/* Keep only the lines of log path up to iteration iter (a line of iter
 * itself only if every is 0 or divides iter), then open it to append. A
 * NULL path is no log: the other functions then do nothing. */
void log_open(struct logf *l, const char *path, long long iter, long long every);
/* Append a line (fmt ends in a newline). */
void log_line(struct logf *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Everything written so far reaches the file, or die. */
void log_flush(struct logf *l);
void log_close(struct logf *l);

#endif
