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
 * lets rnn-fwd -w start the next window. See formats/model.md.
 *
 * Legend: V vocab, H hidden. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "model.h"
#include "rnn.h"
#include "ts.h"
#include "tsframe.h"
#include "workspace.h"

static void usage(void)
{
	fputs("usage: adagrad [-l LR] [-w WORKSPACE] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: adagrad [-l LR] [-w WORKSPACE] [FILE]\n"
	     "Adagrad update for each gradient frame (from rnn-bwd) of FILE or stdin:\n"
	     "writes a frame \"params\" with Wxh..by and the memory mWxh..mby updated.\n"
	     "  -l LR         learning rate (0.1)\n"
	     "  -w WORKSPACE  parameters, gradients and memory from the training\n"
	     "                workspace, updated in place; writes a frame \"step\"\n"
	     "                and counts the update in the workspace's step\n"
	     "Without -w every frame carries Wxh..by and dWxh..dby; a frame without\n"
	     "mWxh..mby uses memory that this program keeps from frame to frame.");
	efshut_stdout();
}

/* P -= lr * G / sqrt(M + 1e-8) after M += G * G, tensor by tensor, since
 * the five may lie anywhere (in a frame, a mapping or one block). */
static void update(const struct rnn_params *P, const struct rnn_params *M,
		   const struct rnn_params *G, real lr)
{
	size_t H = (size_t)P->H, V = (size_t)P->V;
	adagrad_update(P->Wxh, M->Wxh, G->Wxh, H * V, lr);
	adagrad_update(P->Whh, M->Whh, G->Whh, H * H, lr);
	adagrad_update(P->Why, M->Why, G->Why, V * H, lr);
	adagrad_update(P->bh, M->bh, G->bh, H, lr);
	adagrad_update(P->by, M->by, G->by, V, lr);
}

int main(int argc, char **argv)
{
	static const char *const grads[] = { "dWxh", "dWhh", "dWhy", "dbh", "dby", NULL };
	struct ws_src src = { 0 };
	struct rnn_params own = { 0 };	/* memory for frames that bring none */
	struct rnn_params G = { 0 }, M = { 0 };
	int64_t *count = NULL;	/* the workspace's step */
	int c;
	real lr = (real)0.1;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "l:w:")) != -1) {
		switch (c) {
		case 'l':
			lr = (real)estrtod(optarg, 0, 1e6, "-l");
			break;
		case 'w':
			ws_src_opt(&src, c, optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();

	struct ts_reader r;
	struct ts_writer w;
	struct ts_frame f;
	ts_ropen(&r, argv[optind]);
	ts_wopen(&w, NULL);
	while (ts_read_frame(&r, &f)) {
		struct rnn_params P;
		if (src.path) {
			/* Gradients in the stream would be ignored for the
			 * workspace's: say so instead. */
			for (int i = 0; grads[i]; i++)
				if (ts_frame_find(&f, grads[i]))
					eprintf("%s: frame '%s' carries tensor '%s', but the gradients come from %s",
						r.path, f.name, grads[i], src.path);
			ws_src_params(&src, &P, &f, r.path);
			if (!G.Wxh) {
				ws_src_find(&src, &G, WS_GRADS, WS_GRAD_PREFIX);
				ws_src_find(&src, &M, WS_MEMORY, WS_MEM_PREFIX);
				count = ws_src_count(&src);
			}
			/* The frame's step (feed's iteration) must be the
			 * update the workspace is due for. */
			int64_t n = count ? step_load(count) : 0, want;
			if (count && tsf_opt_i64(&f, WS_STEP, r.path, &want) && want != n)
				eprintf("%s: gradients of step %lld, but the parameters in %s are at step %lld",
					r.path, (long long)want, src.path, (long long)n);
			update(&P, &M, &G, lr);
			/* The frame first (so the data stage never waits for
			 * it), then the count that lets the next window in. */
			tsf_write_pass(&w, WS_STEPPED, &f, NULL, NULL, 0);
			if (count)
				step_store(count, n + 1);
			ts_frame_free(&f);
			continue;
		}

		ws_src_params(&src, &P, &f, r.path);
		if (!model_like_frame(&G, &f, WS_GRAD_PREFIX, &P, r.path))
			eprintf("%s: frame '%s': no tensor 'dWxh'", r.path, f.name);
		model_check_same(&P, &G, r.path, "gradients");
		int inframe = model_like_frame(&M, &f, WS_MEM_PREFIX, &P, r.path);
		if (inframe) {
			model_check_same(&P, &M, r.path, "memory");
		} else {
			if (!own.Wxh)
				model_alloc(&own, P.V, P.H);
			model_check_same(&P, &own, r.path, "memory kept from earlier frames");
			M = own;
		}
		/* P and, if it came in the frame, M are the frame's own data:
		 * updated there, they go out in their places. */
		update(&P, &M, &G, lr);
		struct ts_tensor out[MODEL_NTENSORS];
		model_tensors(out, &M, WS_MEM_PREFIX);
		tsf_write_pass(&w, WS_PARAMS, &f, grads, out, inframe ? 0 : MODEL_NTENSORS);
		ts_frame_free(&f);
	}
	ts_rclose(&r);
	ts_wclose(&w);
	ws_src_close(&src);
	model_free(&own);
	return 0;
}
