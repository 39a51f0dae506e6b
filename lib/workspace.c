/* workspace.c: see workspace.h and formats/model.md (THE WORKSPACE).
 *
 * Legend: V vocab, H hidden, T steps per window, B sequences side by side. */
#define _DEFAULT_SOURCE	/* syscall(2) */
#include "workspace.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "err.h"
#include "model.h"
#include "netmodel.h"
#include "tsframe.h"

/* Frame X whole to w, unless it is NULL or empty. */
static void ws_write_frame_copy(struct ts_writer *w, const struct ts_frame *X)
{
	if (!X || !X->n)
		return;
	ts_write_frame(w, X->name, X->n);
	for (uint32_t i = 0; i < X->n; i++)
		ts_write_copy(w, &X->t[i]);
}

/* Fill t as a real tensor name (or name.l for l >= 0) of shape (T,B,n). */
static void act(struct ts_tensor *t, const char *name, int l, int T, int B, int n)
{
	memset(t, 0, sizeof *t);
	if (l >= 0)
		snprintf(t->name, sizeof t->name, "%s.%d", name, l);
	else
		snprintf(t->name, sizeof t->name, "%s", name);
	t->dtype = TS_REAL;
	t->rank = 3;
	t->dims[0] = (uint64_t)T;
	t->dims[1] = (uint64_t)B;
	t->dims[2] = (uint64_t)n;
	t->count = t->dims[0] * t->dims[1] * t->dims[2];
	t->nbytes = t->count * sizeof(real);
}

int ws_acts(const struct params *P, int T, int B, int dropout, struct ts_tensor *out)
{
	int k = 0;
	if (!P->fam) {
		act(&out[k++], WS_HS, -1, T, B, P->P.H);
		act(&out[k++], WS_PS, -1, T, B, P->V);
		return k;
	}
	for (int l = 0; l < P->N.L; l++) {
		int H = P->N.l[l].H;
		act(&out[k++], WS_HS, l, T, B, H);
		if (P->N.cell == NET_LSTM)
			act(&out[k++], WS_CS, l, T, B, H);
		if (P->N.cell != NET_RNN)
			act(&out[k++], WS_GS, l, T, B, 4 * H);
		if (dropout)
			act(&out[k++], WS_DROP, l, T, B, H);
	}
	act(&out[k++], WS_PS, -1, T, B, P->V);
	return k;
}

void ws_create(const char *path, const struct ts_tensor *vocab, const struct params *P,
	       const struct params *M, const struct ts_frame *X, int64_t step,
	       const struct ts_tensor *act, int nact)
{
	struct params zeros;
	params_zeros(&zeros, P);
	struct ts_writer w;
	ts_wopen(&w, path);
	w.flags = TS_FLAG_LIVE;
	w.align = 64;	/* whole cache lines for the kernels, once mapped */
	ts_write_frame(&w, WS_PARAMS, 1 + (uint32_t)params_ntensors(P, ""));
	ts_write_copy(&w, vocab);
	params_write(&w, P, "");
	/* The count of updates, which adagrad -w advances and rnn-fwd -w
	 * waits for. */
	ts_write_frame(&w, WS_MEMORY, (uint32_t)params_ntensors(P, WS_MEM_PREFIX) + 1);
	params_write(&w, M ? M : &zeros, WS_MEM_PREFIX);
	ts_write_tensor(&w, WS_STEP, TS_I64, 0, NULL, &step);
	ws_write_frame_copy(&w, X);
	ts_write_frame(&w, WS_GRADS, (uint32_t)params_ntensors(P, WS_GRAD_PREFIX));
	params_write(&w, &zeros, WS_GRAD_PREFIX);
	params_free(&zeros);
	/* Room for the activations, so that rnn-fwd -w hands them to rnn-bwd -w
	 * here rather than through the pipe. */
	uint64_t most = 1;
	for (int i = 0; i < nact; i++)
		most = act[i].count > most ? act[i].count : most;
	real *zero = ecalloc(emul((size_t)most, 1, "activations"), sizeof *zero);
	ts_write_frame(&w, WS_FORWARD, (uint32_t)nact);
	for (int i = 0; i < nact; i++)
		ts_write_tensor(&w, act[i].name, TS_REAL, act[i].rank, act[i].dims, zero);
	free(zero);
	ts_wclose(&w);
}

int ws_src_opt(struct ws_src *s, int c, const char *arg)
{
	if ((c != 'm' && c != 'w') || s->path)
		return 1;
	s->path = arg;
	s->writable = c == 'w';
	return 0;
}

void ws_src_start(struct ws_src *s)
{
	if (s->path && !s->writable)
		ws_src_map(s);
}

void ws_src_map(struct ws_src *s)
{
	if (!s->path || s->map.base)
		return;
	ts_map_open(&s->map, s->path, s->writable);
	if (!params_from_map(&s->prm, &s->map, WS_PARAMS))
		eprintf("%s: frame '%s': no tensor 'Wxh'", s->path, WS_PARAMS);
	s->P = s->prm.P;
}

/* Die if frame f carries tensor name while the parameters come from s's
 * file: one of them would be silently unused. */
static void not_in_frame(const struct ws_src *s, const struct ts_frame *f, const char *name,
			 const char *stream)
{
	if (ts_frame_find(f, name))
		eprintf("%s: frame '%s' carries tensor '%s', but the parameters come from %s",
			stream, f->name, name, s->path);
}

void ws_src_params(struct ws_src *s, struct rnn_params *P, const struct ts_frame *f,
		   const char *stream)
{
	if (!s->path) {
		if (!model_from_frame(P, f, "", stream))
			eprintf("%s: frame '%s': no tensor 'Wxh'", stream, f->name);
		return;
	}
	for (int i = 0; i < MODEL_NTENSORS; i++)
		not_in_frame(s, f, model_names[i], stream);
	ws_src_map(s);
	*P = s->P;
}

int ws_src_net(struct ws_src *s, struct net *N, const struct ts_frame *f, const char *stream)
{
	if (!s->path)
		return netmodel_from_frame(N, f, stream);
	ws_src_map(s);
	if (!s->prm.fam)
		return 0;
	not_in_frame(s, f, "arch", stream);
	for (int i = 0; i < s->prm.n; i++)
		not_in_frame(s, f, s->prm.t[i].name, stream);
	*N = s->prm.N;
	return 1;
}

void ws_src_find(const struct ws_src *s, struct rnn_params *out, const char *frame,
		 const char *prefix)
{
	if (!model_from_map(out, &s->map, frame, prefix))
		eprintf("%s: frame '%s': no tensor '%s%s'", s->path, frame, prefix,
			model_names[0]);
	char what[TS_MAX_NAME + 16];
	snprintf(what, sizeof what, "frame '%s'", frame);
	model_check_same(&s->P, out, s->path, what);
}

real *ws_src_scratch(const struct ws_src *s, const char *frame, const char *name,
		     int rank, const uint64_t *dims)
{
	if (!s->path || !s->writable || !s->map.base)
		return NULL;
	struct ts_tensor *t = ts_map_find(&s->map, frame, name);
	if (!t || t->dtype != TS_REAL || t->rank != rank)
		return NULL;
	for (int i = 0; i < rank; i++)
		if (t->dims[i] != dims[i])
			return NULL;
	return t->data;
}

int64_t *ws_src_count(struct ws_src *s)
{
	if (!s->path || !s->map.base)
		return NULL;
	struct ts_tensor *t = ts_map_find(&s->map, WS_MEMORY, WS_STEP);
	if (t && (t->dtype != TS_I64 || t->rank != 0))
		eprintf("%s: frame '%s': tensor '%s' must be an i64 scalar", s->path,
			WS_MEMORY, WS_STEP);
	return t ? t->data : NULL;
}

void ws_src_close(struct ws_src *s)
{
	if (s->map.base)
		ts_map_close(&s->map);
}

void ws_wait_step(struct ws_src *s, const struct ts_frame *f, const struct ts_reader *r)
{
	int64_t want;
	if (!s->writable)
		return;
	if (!s->looked) {
		struct stat st;
		s->count = ws_src_count(s);
		s->pipe = fstat(r->fd, &st) == 0 && S_ISFIFO(st.st_mode);
		s->looked = 1;
	}
	if (!s->count || !tsf_opt_i64(f, WS_STEP, r->path, &want))
		return;
	struct pollfd p[2] = { { .fd = r->fd, .events = POLLIN }, { .fd = 1, .events = 0 } };
	for (int64_t v; (v = step_load(s->count)) != want;) {
		if (v > want || !s->pipe)
			eprintf("%s: window of step %lld, but the parameters in %s are at step %lld",
				r->path, (long long)want, s->path, (long long)v);
		step_sleep(s->count, v, 100);
		if (step_load(s->count) != v || poll(p, 2, 0) <= 0)
			continue;
		if (p[0].revents & (POLLHUP | POLLERR))
			eprintf("%s: the data stage ended while step %lld waited for its parameters",
				r->path, (long long)want);
		if (p[1].revents & (POLLHUP | POLLERR))
			eprintf("<stdout>: the next stage ended while step %lld waited for its parameters",
				(long long)want);
	}
}

int64_t step_load(const int64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_ACQUIRE);
}

void step_store(int64_t *c, int64_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELEASE);
#ifdef __linux__
	/* Shared (not FUTEX_PRIVATE): the waiters are other processes. */
	(void)syscall(SYS_futex, (uint32_t *)c, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
#endif
}

void step_sleep(const int64_t *c, int64_t seen, int ms)
{
#ifdef __linux__
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };
	/* Returns at once if the low word changed since seen was read; any
	 * change of the counter changes its low word. */
	(void)syscall(SYS_futex, (uint32_t *)c, FUTEX_WAIT, (uint32_t)seen, &t, NULL, 0);
#else
	struct timespec t = { 0, 50000 };	/* 50 us */
	for (long waited = 0; step_load(c) == seen && waited < ms * 20L; waited++)
		nanosleep(&t, NULL);
#endif
}
