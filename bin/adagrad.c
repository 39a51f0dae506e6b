/* adagrad: the Adagrad update of the RNN parameters, once per gradient frame.
 *
 *   mem += g * g;  p -= lr * g / sqrt(mem + 1e-8)
 *
 * Inline, each frame carries the parameters Wxh..by and their gradients
 * dWxh..dby (as rnn-bwd writes them), and perhaps the memory mWxh..mby; the
 * frame goes out as "params" with parameters and memory updated and the
 * gradients dropped. A frame without memory uses the program's own, which
 * starts at zero and lasts as long as the program. With -w everything lives
 * in the workspace, updated in place, and the frame goes out as "step" with
 * nothing consumed; then the workspace's step count goes up by one, which
 * lets rnn-fwd -w start the next window. A model of the family (arch, Wx.l,
 * ...) goes through lib/optim's stage, which updates every parameter tensor
 * whatever its name, with the same rule. See formats/model.md.
 *
 * Legend: V vocab, H hidden.
 *
 * Its contract (options, streams, exit status): man/charnn-adagrad.1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "model.h"
#include "optim.h"
#include "rnn.h"
#include "ts.h"
#include "tsframe.h"
#include "workspace.h"

static void usage(void)
{
	fputs("usage: adagrad [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: adagrad [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]\n"
	     "Adagrad update for each gradient frame (from rnn-bwd) of FILE or stdin:\n"
	     "writes a frame \"params\" with Wxh..by and the memory mWxh..mby updated.\n"
	     "  -l LR         learning rate (0.1)\n"
	     "  -R SCHED      its schedule by update: step:START:EVERY:FACTOR,\n"
	     "                cosine:WARMUP:TOTAL or linear:WARMUP:TOTAL\n"
	     "  -G NORM       first scale the gradients so that their global L2 norm\n"
	     "                is at most NORM (default: no clipping)\n"
	     "  -w WORKSPACE  parameters, gradients and memory from the training\n"
	     "                workspace, updated in place; writes a frame \"step\"\n"
	     "                and counts the update in the workspace's step\n"
	     "Without -w every frame carries Wxh..by and dWxh..dby; a frame without\n"
	     "mWxh..mby uses memory that this program keeps from frame to frame.");
	efshut_stdout();
}

/* P -= lr * G / sqrt(M + 1e-8) after M += G * G, tensor by tensor, since
 * the five may lie anywhere (in a frame, a mapping or one block). */
static double gnorm;	/* -G: clip the gradients' global norm to it; 0: off */
static struct optim_sched sched;	/* -R */
static int64_t done;	/* updates made, for -R when a frame has no step */

/* -G: scale the five gradients G together (lib/optim's clip). */
static void clip_norm(const struct rnn_params *G)
{
	size_t H = (size_t)G->H, V = (size_t)G->V;
	struct optim_slot s[5] = {
		{ .g = G->Wxh, .n = H * V }, { .g = G->Whh, .n = H * H },
		{ .g = G->Why, .n = V * H }, { .g = G->bh, .n = H }, { .g = G->by, .n = V },
	};
	optim_clip_norm(s, 5, gnorm);
}

static void update(const struct rnn_params *P, const struct rnn_params *M,
		   const struct rnn_params *G, real lr)
{
	size_t H = (size_t)P->H, V = (size_t)P->V;
	if (gnorm > 0)
		clip_norm(G);
	adagrad_update(P->Wxh, M->Wxh, G->Wxh, H * V, lr);
	adagrad_update(P->Whh, M->Whh, G->Whh, H * H, lr);
	adagrad_update(P->Why, M->Why, G->Why, V * H, lr);
	adagrad_update(P->bh, M->bh, G->bh, H, lr);
	adagrad_update(P->by, M->by, G->by, V, lr);
}

static const char *const grads[] = { "dWxh", "dWhh", "dWhy", "dbh", "dby", NULL };

/* What lasts from frame to frame. */
struct work {
	struct rnn_params G, M;	/* -w: the workspace's gradients and memory */
	int64_t *count;		/* -w: the workspace's step, or NULL */
	struct rnn_params own;	/* inline: memory for frames that bring none */
};

/* -w: update the workspace's parameters with its gradients and memory;
 * frame f passes whole as "step", then the step count goes up. */
static void step_workspace(struct work *k, struct ws_src *src, const struct ts_frame *f,
			   real lr, const char *stream, struct ts_writer *w)
{
	struct rnn_params P;
	/* Gradients in the stream would be ignored for the workspace's: say
	 * so instead. */
	for (int i = 0; grads[i]; i++)
		if (ts_frame_find(f, grads[i]))
			eprintf("%s: frame '%s' carries tensor '%s', but the gradients come from %s",
				stream, f->name, grads[i], src->path);
	ws_src_params(src, &P, f, stream);
	if (!k->G.Wxh) {
		ws_src_find(src, &k->G, WS_GRADS, WS_GRAD_PREFIX);
		ws_src_find(src, &k->M, WS_MEMORY, WS_MEM_PREFIX);
		k->count = ws_src_count(src);
	}
	/* The frame's step (feed's iteration) must be the update the
	 * workspace is due for. */
	int64_t n = k->count ? step_load(k->count) : 0, want;
	if (k->count && tsf_opt_i64(f, WS_STEP, stream, &want) && want != n)
		eprintf("%s: gradients of step %lld, but the parameters in %s are at step %lld",
			stream, (long long)want, src->path, (long long)n);
	update(&P, &k->M, &k->G, (real)optim_sched_rate(&sched, lr, (k->count ? n : done++) + 1));
	/* The frame first (so the data stage never waits for it), then the
	 * count that lets the next window in. */
	tsf_write_pass(w, WS_STEPPED, f, NULL, NULL, 0);
	if (k->count)
		step_store(k->count, n + 1);
}

/* Inline: update frame f's parameters (and memory, if it brings some) in
 * place and write it out as "params", less the gradients. */
static void step_inline(struct work *k, struct ws_src *src, const struct ts_frame *f,
			real lr, const char *stream, struct ts_writer *w)
{
	struct rnn_params P, G, M;
	ws_src_params(src, &P, f, stream);
	if (!model_like_frame(&G, f, WS_GRAD_PREFIX, &P, stream))
		eprintf("%s: frame '%s': no tensor 'dWxh'", stream, f->name);
	model_check_same(&P, &G, stream, "gradients");
	int inframe = model_like_frame(&M, f, WS_MEM_PREFIX, &P, stream);
	if (inframe) {
		model_check_same(&P, &M, stream, "memory");
	} else {
		if (!k->own.Wxh)
			model_alloc(&k->own, P.V, P.H);
		model_check_same(&P, &k->own, stream, "memory kept from earlier frames");
		M = k->own;
	}
	/* P and, if it came in the frame, M are the frame's own data: updated
	 * there, they go out in their places. */
	int64_t t;
	if (!tsf_opt_i64(f, WS_STEP, stream, &t))
		t = done;
	done++;
	update(&P, &M, &G, (real)optim_sched_rate(&sched, lr, t + 1));
	struct ts_tensor out[MODEL_NTENSORS];
	model_tensors(out, &M, WS_MEM_PREFIX);
	tsf_write_pass(w, WS_PARAMS, f, grads, out, inframe ? 0 : MODEL_NTENSORS);
}

/* Is the model for frame f one of the family (then lib/optim's stage
 * updates it)? */
static int family(struct ws_src *src, const struct ts_frame *f)
{
	if (!src->path)
		return ts_frame_find(f, "arch") != NULL;
	ws_src_map(src);
	return src->prm.fam;
}

int main(int argc, char **argv)
{
	struct ws_src src = { 0 };
	struct work k = { 0 };
	struct optim_stage *fam = NULL;
	int c;
	real lr = (real)0.1;
	double lr_arg = 0.1;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "l:R:G:w:")) != -1) {
		if (c == 'l')
			lr = (real)(lr_arg = estrtod(optarg, 0, 1e6, "-l"));
		else if (c == 'G')
			gnorm = estrtod(optarg, 0, 1e30, "-G");
		else if (c == 'R') {
			if (!optim_sched_parse(optarg, &sched))
				uprintf("-R: '%s' is not step:START:EVERY:FACTOR, "
					"cosine:WARMUP:TOTAL or linear:WARMUP:TOTAL", optarg);
		}
		else if (c != 'w' || ws_src_opt(&src, c, optarg))
			usage();
	}
	if (argc - optind > 1)
		usage();

	struct ts_reader r;
	struct ts_writer w;
	struct ts_frame f;
	ts_ropen(&r, argv[optind]);
	ts_wopen(&w, NULL);
	while (ts_read_frame(&r, &f)) {
		if (family(&src, &f)) {
			if (!fam) {
				struct optim_hyper h;
				optim_defaults(optim_find("adagrad"), &h);
				h.lr = lr_arg;
				h.gnorm = gnorm;
				h.sched = sched;
				fam = optim_stage_new(optim_find("adagrad"), &h);
			}
			optim_stage_frame(fam, &src, &f, r.path, &w);
		} else if (src.path)
			step_workspace(&k, &src, &f, lr, r.path, &w);
		else
			step_inline(&k, &src, &f, lr, r.path, &w);
		ts_frame_free(&f);
	}
	ts_rclose(&r);
	ts_wclose(&w);
	ws_src_close(&src);
	model_free(&k.own);
	optim_stage_free(fam);
	return 0;
}
