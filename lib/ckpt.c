/* ckpt.c: see ckpt.h and formats/model.md (THE CHECKPOINT).
 *
 * Legend: V vocab, H hidden, B sequences side by side. */
#include "ckpt.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "tsframe.h"
#include "workspace.h"

void ckpt_write(const char *path, const struct ts_tensor *vocab, const struct rnn_params *P,
		const struct rnn_params *M, const struct ckpt_state *s)
{
	struct ts_writer w;
	ts_wopen(&w, path);
	ts_write_frame(&w, WS_PARAMS, 1 + MODEL_NTENSORS);
	ts_write_copy(&w, vocab);
	model_write(&w, P, "");
	ts_write_frame(&w, WS_MEMORY, MODEL_NTENSORS);
	model_write(&w, M, WS_MEM_PREFIX);

	uint64_t hdims[2] = { (uint64_t)s->B, (uint64_t)P->H }, four = 4;
	int64_t rs[4], iv[5] = { s->iter, s->pos, s->ntrain, s->T, s->B };
	memcpy(rs, s->rng.s, sizeof rs);
	ts_write_frame(&w, CKPT_STATE, 8);
	ts_write_tensor(&w, "iter", TS_I64, 0, NULL, &iv[0]);
	ts_write_tensor(&w, "pos", TS_I64, 0, NULL, &iv[1]);
	ts_write_tensor(&w, "ntrain", TS_I64, 0, NULL, &iv[2]);
	ts_write_tensor(&w, "T", TS_I64, 0, NULL, &iv[3]);
	ts_write_tensor(&w, "B", TS_I64, 0, NULL, &iv[4]);
	ts_write_tensor(&w, "smooth", TS_F64, 0, NULL, &s->smooth);
	ts_write_tensor(&w, "h", TS_REAL, 2, hdims, s->h);
	ts_write_tensor(&w, "rng", TS_I64, 1, &four, rs);
	ts_wclose(&w);
}

/* Keep the first frames params, adagrad and state of path; drop the rest. */
static void load(struct ckpt *c, const char *path)
{
	struct ts_reader r;
	struct ts_frame f;
	ts_ropen(&r, path);
	while (ts_read_frame(&r, &f)) {
		struct ts_frame *keep = !strcmp(f.name, WS_PARAMS) && !c->params.t ? &c->params :
					!strcmp(f.name, WS_MEMORY) && !c->mem.t ? &c->mem :
					!strcmp(f.name, CKPT_STATE) && !c->state.t ? &c->state : NULL;
		if (keep)
			*keep = f;
		else
			ts_frame_free(&f);
	}
	ts_rclose(&r);
}

void ckpt_read(struct ckpt *c, const char *path, int resume)
{
	memset(c, 0, sizeof *c);
	c->path = path;
	load(c, path);
	if (!c->params.t || !model_from_frame(&c->P, &c->params, "", path))
		eprintf("%s: no \"%s\" frame with a model", path, WS_PARAMS);
	c->vocab = tsf_need(&c->params, WS_VOCAB, path);
	if (!resume) {
		model_alloc(&c->M, c->P.V, c->P.H);
		return;
	}
	if (!c->mem.t || !model_like_frame(&c->M, &c->mem, WS_MEM_PREFIX, &c->P, path))
		eprintf("%s: no \"%s\" frame: not a checkpoint", path, WS_MEMORY);
	model_check_same(&c->P, &c->M, path, "Adagrad memory");
	if (!c->state.t)
		eprintf("%s: no \"%s\" frame: not a checkpoint", path, CKPT_STATE);
	c->resumable = 1;
}

void ckpt_state(const struct ckpt *c, struct ckpt_state *s)
{
	const struct ts_frame *st = &c->state;
	const char *path = c->path;
	s->iter = tsf_i64(st, "iter", path);
	s->pos = tsf_i64(st, "pos", path);
	s->ntrain = tsf_i64(st, "ntrain", path);
	s->T = tsf_i64(st, "T", path);
	s->B = tsf_i64(st, "B", path);
	s->smooth = tsf_f64(st, "smooth", path);
	if (s->B < 1 || s->B > 1 << 16)
		eprintf("%s: frame '%s': B %lld out of range [1, %d]", path, CKPT_STATE,
			(long long)s->B, 1 << 16);
	const uint64_t hd[2] = { (uint64_t)s->B, (uint64_t)c->P.H }, four = 4;
	const struct ts_tensor *h = tsf_need_shaped(st, "h", TS_REAL, 2, hd, path);
	const struct ts_tensor *rs = tsf_need_shaped(st, "rng", TS_I64, 1, &four, path);
	s->h = emalloc(h->nbytes);
	memcpy(s->h, h->data, h->nbytes);
	memcpy(s->rng.s, rs->data, sizeof s->rng.s);
}

void ckpt_free(struct ckpt *c)
{
	if (!c->resumable)
		model_free(&c->M);
	ts_frame_free(&c->params);
	ts_frame_free(&c->mem);
	ts_frame_free(&c->state);
}
