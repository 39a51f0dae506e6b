/* rnn-fwd: the forward pass of the RNN over each window of a stream.
 *
 * Reads frames carrying x, y (T,B) and h0 (B,H); writes each back as a frame
 * "forward" with hs (T,B,H), ps (T,B,V), loss (B) and hT (B,H) added, every
 * input tensor passed through, so rnn-bwd finds all it needs in one frame.
 * A frame without h0 starts where the previous window ended (its hT), and
 * gets that h0 added. See formats/model.md.
 *
 * Legend: V vocab, H hidden, T steps, B batch.
 *
 * Its contract (options, streams, exit status): man/charnn-rnn-fwd.1. */
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
	fputs("usage: rnn-fwd [-D P] [-s SEED] [-j N] [-m MODEL | -w WORKSPACE] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: rnn-fwd [-D P] [-s SEED] [-j N] [-m MODEL | -w WORKSPACE] [FILE]\n"
	     "Forward pass over each window frame (x, y, h0) of FILE or stdin: writes\n"
	     "a frame \"forward\" with the input tensors and hs, ps, loss, hT added.\n"
	     "A frame without h0 starts from the previous frame's hT.\n"
	     "  -D P          dropout at rate P between layers and before the output\n"
	     "                layer (a model of the family only; 0: none)\n"
	     "  -s SEED       the dropout masks' seed (0), with each frame's step\n"
	     "  -j N          threads for the large products (1; or CHARNN_THREADS);\n"
	     "                the same bytes whatever N\n"
	     "  -m MODEL      parameters from this model file (frame \"params\")\n"
	     "  -w WORKSPACE  parameters from the training workspace, mapped when the\n"
	     "                first frame arrives; a frame with a step waits, when\n"
	     "                reading a pipe, until the parameters are at that step\n"
	     "Without -m or -w every frame carries its own Wxh, Whh, Why, bh, by, or\n"
	     "a model of the family (arch, Wx.l, Wh.l, b.l, Why, by) with each\n"
	     "layer's state h0.l (and c0.l for lstm): see formats/model.md.");
	efshut_stdout();
}

/* Memory kept from window to window: buffers that grow to the largest
 * window seen, and the last window's hT. */
struct work {
	real *hs, *ps, *loss;
	size_t hs_cap, ps_cap, loss_cap;
	real *carry;		/* (B,H) the last window's hT, or NULL */
	size_t carryB, carryH;
};

/* p holding at least n reals (cap tracks its size); contents not kept. */
static real *reserve(real *p, size_t *cap, size_t n)
{
	if (n <= *cap)
		return p;
	free(p);
	*cap = n;
	return emalloc(emul(n, sizeof *p, "window"));
}

/* A window without h0 starts from the last one's hT, if there is one of the
 * same B and H. */
static const real *carried_h0(const struct work *k, const struct ts_frame *f, size_t B,
			      size_t H, const char *stream)
{
	if (!k->carry)
		eprintf("%s: frame '%s': no tensor 'h0', and no window before it", stream,
			f->name);
	if (k->carryB != B || k->carryH != H)
		eprintf("%s: frame '%s': no tensor 'h0', and the window before it "
			"had B %zu, H %zu", stream, f->name, k->carryB, k->carryH);
	return k->carry;
}

/* Keep hT (B,H) for the next window. */
static void carry_on(struct work *k, const real *hT, size_t B, size_t H)
{
	if (k->carryB * k->carryH != B * H) {
		free(k->carry);
		k->carry = emalloc(emul(B * H, sizeof *k->carry, "hidden state"));
	}
	k->carryB = B;
	k->carryH = H;
	memcpy(k->carry, hT, B * H * sizeof *k->carry);
}

/* The forward pass of window frame f (read from r), written to w: the
 * default model's. */
static void forward(struct work *k, struct ws_src *src, const struct ts_frame *f,
		    const struct ts_reader *r, struct ts_writer *w)
{
	struct rnn_params P;
	struct model_window win;
	ws_src_params(src, &P, f, r->path);
	model_window(&win, f, &P, r->path);
	size_t T = (size_t)win.T, B = (size_t)win.B;
	size_t H = (size_t)P.H, V = (size_t)P.V;
	int carried = !win.h0;
	if (carried)
		win.h0 = carried_h0(k, f, B, H, r->path);
	ws_wait_step(src, f, r);

	/* Activations go to the workspace if it has room for them: then only
	 * the small tensors travel down the pipe. */
	const uint64_t hsd[3] = { T, B, H }, psd[3] = { T, B, V };
	real *hs = ws_src_scratch(src, WS_FORWARD, WS_HS, 3, hsd);
	real *ps = ws_src_scratch(src, WS_FORWARD, WS_PS, 3, psd);
	int shared = hs && ps;
	if (!shared) {
		hs = k->hs = reserve(k->hs, &k->hs_cap, T * B * H);
		ps = k->ps = reserve(k->ps, &k->ps_cap, T * B * V);
	}
	k->loss = reserve(k->loss, &k->loss_cap, B);
	rnn_forward(&P, win.T, win.B, win.x, win.y, win.h0, hs, ps, k->loss);

	struct ts_tensor out[5] = {
		{ .name = WS_HS, .dtype = TS_REAL, .rank = 3, .dims = { T, B, H }, .data = hs },
		{ .name = WS_PS, .dtype = TS_REAL, .rank = 3, .dims = { T, B, V }, .data = ps },
		{ .name = "loss", .dtype = TS_REAL, .rank = 1, .dims = { B }, .data = k->loss },
		/* The last hidden state, where the next window starts. */
		{ .name = "hT", .dtype = TS_REAL, .rank = 2, .dims = { B, H },
		  .data = hs + (T - 1) * B * H },
		/* A carried h0 goes on: rnn-bwd needs it. */
		{ .name = "h0", .dtype = TS_REAL, .rank = 2, .dims = { B, H },
		  .data = k->carry },
	};
	if (shared)
		tsf_write_pass(w, WS_FORWARD, f, NULL, out + 2, 2 + carried);
	else
		tsf_write_pass(w, WS_FORWARD, f, NULL, out, 4 + carried);
	carry_on(k, hs + (T - 1) * B * H, B, H);
}

int main(int argc, char **argv)
{
	struct ws_src src = { 0 };
	struct netstage ns = { 0 };
	int c;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "D:s:j:m:w:")) != -1)
		if (c == 'j')
			rnn_set_threads_arg(optarg);
		else if (c == 'D')
			ns.dropout = estrtod(optarg, 0, 0.99, "-D");
		else if (c == 's')
			ns.seed = (uint64_t)estrtonum(optarg, 0, 1LL << 62, "-s");
		else if (ws_src_opt(&src, c, optarg))
			usage();
	if (argc - optind > 1)
		usage();
	/* A model file must be there from the start; the workspace is made by
	 * the data stage and mapped when the first frame shows it exists. The
	 * forward pass writes to the workspace only the activations, when the
	 * workspace has room for them. */
	ws_src_start(&src);

	struct ts_reader r;
	struct ts_writer w;
	struct ts_frame f;
	struct work k = { 0 };
	ts_ropen(&r, argv[optind]);
	ts_wopen(&w, NULL);
	while (ts_read_frame(&r, &f)) {
		if (netstage_forward(&ns, &src, &f, &r, &w)) {
			ts_frame_free(&f);
			continue;
		}
		if (ns.dropout > 0)
			eprintf("%s: frame '%s': -D: dropout needs a model of the family, and "
				"this is the default model", r.path, f.name);
		forward(&k, &src, &f, &r, &w);
		ts_frame_free(&f);
	}
	ts_rclose(&r);
	ts_wclose(&w);
	ws_src_close(&src);
	netstage_free(&ns);
	free(k.hs);
	free(k.ps);
	free(k.loss);
	free(k.carry);
	return 0;
}
