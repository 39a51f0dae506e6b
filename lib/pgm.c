/* pgm.c: see pgm.h. */
#include "pgm.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Element i of the data at p, of dtype, as a double. */
static double value_at(int dtype, const unsigned char *p, uint64_t i)
{
	switch (dtype) {
	case TS_U8: return p[i];
	case TS_I32: return (int32_t)ts_get32(p + 4 * i);
	case TS_I64: return (double)(int64_t)ts_get64(p + 8 * i);
	case TS_F32: return ts_f32_of(ts_get32(p + 4 * i));
	}
	return ts_f64_of(ts_get64(p + 8 * i));
}

/* The largest |x| of t's data and whether any x is negative; dies on NaN
 * or Inf. */
static double extent(const struct ts_tensor *t, int *negative, const char *stream)
{
	double m = 0;
	*negative = 0;
	for (uint64_t i = 0; i < t->count; i++) {
		double v = value_at(t->dtype, t->data, i);
		if (!isfinite(v))
			eprintf("%s: tensor '%s' holds NaN or Inf: no picture", stream, t->name);
		*negative |= v < 0;
		if (fabs(v) > m)
			m = fabs(v);
	}
	return m;
}

/* Write t (2-D, data loaded) as P5 to out, scaled as pgm.h says. */
static void write_pgm(FILE *out, const struct ts_tensor *t, const char *stream)
{
	int negative;
	double m = extent(t, &negative, stream);
	fprintf(out, "P5\n%" PRIu64 " %" PRIu64 "\n255\n", t->dims[1], t->dims[0]);
	for (uint64_t i = 0; i < t->count; i++) {
		double v = value_at(t->dtype, t->data, i), p = 0;
		if (m > 0)
			p = negative ? 127.5 + 127.5 * v / m : 255 * v / m;
		p = floor(p + 0.5);
		putc(p < 0 ? 0 : p > 255 ? 255 : (int)p, out);
	}
}

/* Leave out t's dimensions of size 1 while its rank is over 2: the hidden
 * states (T,1,H) of a window of one sequence are a (T,H) picture. */
static void squeeze(struct ts_tensor *t)
{
	for (int i = 0; i < t->rank && t->rank > 2;) {
		if (t->dims[i] == 1) {
			memmove(t->dims + i, t->dims + i + 1, sizeof *t->dims * (size_t)(t->rank - i - 1));
			t->rank--;
		} else {
			i++;
		}
	}
}

void pgm_from_stream(FILE *out, struct ts_reader *r, const char *name)
{
	struct ts_tensor t;
	while (ts_next_frame(r)) {
		while (ts_next_tensor(r, &t)) {
			if (strcmp(t.name, name) != 0)
				continue;
			struct ts_tensor flat = t;
			squeeze(&flat);
			if (flat.rank != 2)
				eprintf("%s: tensor '%s' is %s: a picture needs a 2-D tensor",
					r->path, name, ts_shape_str(&t));
			if (t.count == 0)
				eprintf("%s: tensor '%s' is %s: nothing to draw", r->path, name,
					ts_shape_str(&t));
			flat.data = ts_load_data(r);
			write_pgm(out, &flat, r->path);
			free(flat.data);
			return;
		}
	}
	eprintf("%s: no tensor '%s' in the stream", r->path, name);
}
