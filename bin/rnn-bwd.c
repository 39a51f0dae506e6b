/* rnn-bwd: the backward pass of the RNN over each forward frame of a stream.
 *
 * Reads what rnn-fwd writes (x, y, h0, hs, ps and the rest) and writes a
 * frame "grads": the gradients dWxh, dWhh, dWhy, dbh, dby of the window loss,
 * each element clipped to [-c, c], and dh0 (B,H). The tensors only the
 * backward pass needs (x, y, h0, hs, ps) end here; every other one passes
 * through. With -w the five gradients go into the workspace instead of the
 * stream. See formats/model.md.
 *
 * Legend: V vocab, H hidden, T steps, B batch.
 *
 * Its contract (options, streams, exit status): man/charnn-rnn-bwd.1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "model.h"
#include "netstage.h"
#include "rnn.h"
#include "ts.h"
#include "tsframe.h"
#include "workspace.h"

static void usage(void)
{
	fputs("usage: rnn-bwd [-M] [-c CLIP] [-j N] [-m MODEL | -w WORKSPACE] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: rnn-bwd [-M] [-c CLIP] [-j N] [-m MODEL | -w WORKSPACE] [FILE]\n"
	     "Backward pass over each forward frame (from rnn-fwd) of FILE or stdin:\n"
	     "writes a frame \"grads\" with dWxh, dWhh, dWhy, dbh, dby and dh0.\n"
	     "  -M            gradients of the mean loss per character of the window\n"
	     "                (the loss over T), not of its sum (min-char-rnn's)\n"
	     "  -c CLIP       clip each gradient element to [-CLIP, CLIP] (5; 0: never)\n"
	     "  -j N          threads for the large products (1; or CHARNN_THREADS);\n"
	     "                the same bytes whatever N\n"
	     "  -m MODEL      parameters from this model file (frame \"params\")\n"
	     "  -w WORKSPACE  parameters from the training workspace, and the\n"
	     "                gradients written into its frame \"grads\"\n"
	     "Without -m or -w every frame carries its own Wxh, Whh, Why, bh, by, or\n"
	     "a model of the family (arch, Wx.l, Wh.l, b.l, Why, by) with each\n"
	     "layer's state h0.l (and c0.l for lstm): see formats/model.md.");
	efshut_stdout();
}

/* Memory reused from frame to frame; it grows only when a window or model
 * larger than any before arrives. */
struct work {
	struct rnn_params G;	/* gradients: our own, or in the workspace */
	real *dh0;		/* (B,H) */
	void *scratch;		/* rnn_scratch_bytes */
	size_t dh0_cap, scratch_cap;
};

/* p holding at least n bytes (cap tracks its size); contents not kept. */
static void *reserve(void *p, size_t *cap, size_t n)
{
	if (n <= *cap)
		return p;
	free(p);
	*cap = n;
	return emalloc(n);
}

/* The activations of window win: in the frame, or, when rnn-fwd -w left
 * them in the workspace, there. */
static void activations(const real **hs, const real **ps, const struct ws_src *src,
			const struct ts_frame *f, const struct model_window *win,
			const struct rnn_params *P, const char *stream)
{
	uint64_t T = (uint64_t)win->T, B = (uint64_t)win->B;
	const uint64_t hsd[3] = { T, B, (uint64_t)P->H }, psd[3] = { T, B, (uint64_t)P->V };
	*hs = ws_src_scratch(src, WS_FORWARD, WS_HS, 3, hsd);
	*ps = ws_src_scratch(src, WS_FORWARD, WS_PS, 3, psd);
	if (ts_frame_find(f, WS_HS) || !*hs || !*ps) {
		*hs = tsf_need_shaped(f, WS_HS, TS_REAL, 3, hsd, stream)->data;
		*ps = tsf_need_shaped(f, WS_PS, TS_REAL, 3, psd, stream)->data;
	}
}

/* The gradients' home for parameters P: the workspace's frame "grads"
 * (found once, written in place every frame), or our own. */
static struct rnn_params gradients(struct work *k, const struct ws_src *src,
				   const struct rnn_params *P)
{
	if (src->writable) {
		if (!k->G.Wxh)
			ws_src_find(src, &k->G, WS_GRADS, WS_GRAD_PREFIX);
	} else if (k->G.V != P->V || k->G.H != P->H) {
		model_free(&k->G);
		model_alloc(&k->G, P->V, P->H);
	}
	return k->G;
}

/* a (n) *= s. */
static void scale(real *a, size_t n, real s)
{
	for (size_t i = 0; i < n; i++)
		a[i] *= s;
}

/* The backward pass of forward frame f (read from stream), written to w;
 * with mean, the gradients of the window's loss over T. */
static void backward(struct work *k, struct ws_src *src, const struct ts_frame *f,
		     real clip, int mean, const char *stream, struct ts_writer *w)
{
	static const char *const consumed[] = { "x", "y", "h0", WS_HS, WS_PS, NULL };
	struct rnn_params P, G;
	struct model_window win;
	const real *hs, *ps;
	ws_src_params(src, &P, f, stream);
	model_window(&win, f, &P, stream);
	if (!win.h0)
		tsf_need(f, "h0", stream);	/* dies: dWhh needs it */
	activations(&hs, &ps, src, f, &win, &P, stream);
	G = gradients(k, src, &P);
	uint64_t B = (uint64_t)win.B, H = (uint64_t)P.H;
	k->dh0 = reserve(k->dh0, &k->dh0_cap, (size_t)(B * H) * sizeof(real));
	k->scratch = reserve(k->scratch, &k->scratch_cap,
			     rnn_scratch_bytes(P.V, P.H, win.T, win.B));

	rnn_backward(&G, k->dh0, &P, win.T, win.B, win.x, win.y, win.h0, hs, ps, k->scratch);
	if (mean) {
		real s = (real)(1.0 / win.T);
		struct ts_tensor t[MODEL_NTENSORS];
		model_tensors(t, &G, "");
		for (int i = 0; i < MODEL_NTENSORS; i++)
			scale(t[i].data, t[i].count, s);
		scale(k->dh0, (size_t)(B * H), s);
	}
	if (clip > 0)
		rnn_clip(&G, clip);

	struct ts_tensor out[MODEL_NTENSORS + 1] = {
		[MODEL_NTENSORS] = { .name = "dh0", .dtype = TS_REAL, .rank = 2,
				     .dims = { B, H }, .data = k->dh0 },
	};
	model_tensors(out, &G, WS_GRAD_PREFIX);
	if (src->writable)
		tsf_write_pass(w, WS_GRADS, f, consumed, out + MODEL_NTENSORS, 1);
	else
		tsf_write_pass(w, WS_GRADS, f, consumed, out, MODEL_NTENSORS + 1);
}

int main(int argc, char **argv)
{
	struct ws_src src = { 0 };
	struct netstage ns = { .clip = 5 };
	int c;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "Mc:j:m:w:")) != -1) {
		if (c == 'M')
			ns.mean = 1;
		else if (c == 'c')
			ns.clip = (real)estrtod(optarg, 0, 1e30, "-c");
		else if (c == 'j')
			rnn_set_threads_arg(optarg);
		else if (ws_src_opt(&src, c, optarg))
			usage();
	}
	if (argc - optind > 1)
		usage();
	ws_src_start(&src);

	struct ts_reader r;
	struct ts_writer w;
	struct ts_frame f;
	struct work k = { 0 };
	ts_ropen(&r, argv[optind]);
	ts_wopen(&w, NULL);
	while (ts_read_frame(&r, &f)) {
		if (!netstage_backward(&ns, &src, &f, r.path, &w))
			backward(&k, &src, &f, ns.clip, ns.mean, r.path, &w);
		ts_frame_free(&f);
	}
	ts_rclose(&r);
	ts_wclose(&w);
	ws_src_close(&src);
	netstage_free(&ns);
	if (!src.writable)
		model_free(&k.G);
	free(k.dh0);
	free(k.scratch);
	return 0;
}
