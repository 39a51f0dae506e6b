/* rnn-bwd: the backward pass of the RNN over each forward frame of a stream.
 *
 * Reads what rnn-fwd writes (x, y, h0, hs, ps and the rest) and writes a
 * frame "grads": the gradients dWxh, dWhh, dWhy, dbh, dby of the window loss,
 * each element clipped to [-c, c], and dh0 (B,H). The tensors only the
 * backward pass needs (x, y, h0, hs, ps) end here; every other one passes
 * through. With -w the five gradients go into the workspace instead of the
 * stream. See formats/model.md.
 *
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "model.h"
#include "rnn.h"
#include "ts.h"

static void usage(void)
{
	fputs("usage: rnn-bwd [-c CLIP] [-m MODEL | -w WORKSPACE] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: rnn-bwd [-c CLIP] [-m MODEL | -w WORKSPACE] [FILE]\n"
	     "Backward pass over each forward frame (from rnn-fwd) of FILE or stdin:\n"
	     "writes a frame \"grads\" with dWxh, dWhh, dWhy, dbh, dby and dh0.\n"
	     "  -c CLIP       clip each gradient element to [-CLIP, CLIP] (5; 0: never)\n"
	     "  -m MODEL      parameters from this model file (frame \"params\")\n"
	     "  -w WORKSPACE  parameters from the training workspace, and the\n"
	     "                gradients written into its frame \"grads\"\n"
	     "Without -m or -w every frame carries its own Wxh, Whh, Why, bh, by.");
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

int main(int argc, char **argv)
{
	static const char *const consumed[] = { "x", "y", "h0", "hs", "ps", NULL };
	struct model_src src = { 0 };
	int c, model = 0, workspace = 0;
	real clip = 5;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "c:j:m:w:")) != -1) {
		switch (c) {
		case 'c':
			clip = (real)estrtod(optarg, 0, 1e30, "-c");
			break;
		case 'j': rnn_set_threads_arg(optarg); break;
		case 'm':
		case 'w':
			if (src.path)
				usage();
			src.path = optarg;
			model = c == 'm';
			workspace = c == 'w';
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	src.writable = workspace;
	if (model)
		model_src_map(&src);

	struct ts_reader r;
	struct ts_writer w;
	struct ts_frame f;
	struct work k = { 0 };
	ts_ropen(&r, argv[optind]);
	ts_wopen(&w, NULL);
	while (ts_read_frame(&r, &f)) {
		struct rnn_params P, G;
		struct model_window win;
		model_src_params(&src, &P, &f, r.path);
		model_window(&win, &f, &P, r.path);
		if (!win.h0)
			model_need(&f, "h0", r.path);	/* dies: dWhh needs it */
		uint64_t T = (uint64_t)win.T, B = (uint64_t)win.B;
		uint64_t H = (uint64_t)P.H, V = (uint64_t)P.V;
		const uint64_t hsd[3] = { T, B, H }, psd[3] = { T, B, V };
		/* The activations travel in the frame, or, when rnn-fwd -w
		 * left them in the workspace, stay there. */
		const real *hs = model_src_scratch(&src, "forward", "hs", 3, hsd);
		const real *ps = model_src_scratch(&src, "forward", "ps", 3, psd);
		if (ts_frame_find(&f, "hs") || !hs || !ps) {
			struct ts_tensor *ths = model_need(&f, "hs", r.path);
			struct ts_tensor *tps = model_need(&f, "ps", r.path);
			model_expect(ths, TS_REAL, 3, hsd, r.path);
			model_expect(tps, TS_REAL, 3, psd, r.path);
			hs = ths->data;
			ps = tps->data;
		}

		if (workspace) {
			/* The workspace is mapped by now; its gradients are
			 * found once, written in place every frame. */
			if (!k.G.Wxh) {
				if (!model_from_map(&k.G, &src.map, "grads", "d"))
					eprintf("%s: frame 'grads': no tensor 'dWxh'", src.path);
				model_check_same(&P, &k.G, src.path, "frame 'grads'");
			}
			G = k.G;
		} else {
			if (k.G.V != P.V || k.G.H != P.H) {
				model_free(&k.G);
				model_alloc(&k.G, P.V, P.H);
			}
			G = k.G;
		}
		k.dh0 = reserve(k.dh0, &k.dh0_cap, (size_t)(B * H) * sizeof(real));
		k.scratch = reserve(k.scratch, &k.scratch_cap,
				    rnn_scratch_bytes(P.V, P.H, win.T, win.B));

		rnn_backward(&G, k.dh0, &P, win.T, win.B, win.x, win.y, win.h0,
			     hs, ps, k.scratch);
		if (clip > 0)
			rnn_clip(&G, clip);

		struct ts_tensor out[MODEL_NTENSORS + 1] = {
			[MODEL_NTENSORS] = { .name = "dh0", .dtype = TS_REAL, .rank = 2,
					     .dims = { B, H }, .data = k.dh0 },
		};
		model_tensors(out, &G, "d");
		if (workspace)
			model_write_pass(&w, "grads", &f, consumed, out + MODEL_NTENSORS, 1);
		else
			model_write_pass(&w, "grads", &f, consumed, out, MODEL_NTENSORS + 1);
		ts_frame_free(&f);
	}
	ts_rclose(&r);
	ts_wclose(&w);
	model_src_close(&src);
	if (!workspace)
		model_free(&k.G);
	free(k.dh0);
	free(k.scratch);
	return 0;
}
