/* rnn-fwd: the forward pass of the RNN over each window of a stream.
 *
 * Reads frames carrying x, y (T,B) and h0 (B,H); writes each back as a frame
 * "forward" with hs (T,B,H), ps (T,B,V), loss (B) and hT (B,H) added, every
 * input tensor passed through, so rnn-bwd finds all it needs in one frame.
 * A frame without h0 starts where the previous window ended (its hT), and
 * gets that h0 added. See formats/model.md.
 *
 * Legend: V vocab, H hidden, T steps, B batch. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arg.h"
#include "err.h"
#include "model.h"
#include "rnn.h"
#include "stepsync.h"
#include "ts.h"

static void usage(void)
{
	fputs("usage: rnn-fwd [-m MODEL | -w WORKSPACE] [FILE]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: rnn-fwd [-m MODEL | -w WORKSPACE] [FILE]\n"
	     "Forward pass over each window frame (x, y, h0) of FILE or stdin: writes\n"
	     "a frame \"forward\" with the input tensors and hs, ps, loss, hT added.\n"
	     "A frame without h0 starts from the previous frame's hT.\n"
	     "  -m MODEL      parameters from this model file (frame \"params\")\n"
	     "  -w WORKSPACE  parameters from the training workspace, mapped when the\n"
	     "                first frame arrives; a frame with a step waits, when\n"
	     "                reading a pipe, until the parameters are at that step\n"
	     "Without -m or -w every frame carries its own Wxh, Whh, Why, bh, by.");
	efshut_stdout();
}

/* Buffers that grow to the largest window seen and are reused. */
struct outbuf {
	real *hs, *ps, *loss;
	size_t hs_cap, ps_cap, loss_cap;
};

/* With -w, the window of step n must see the parameters after n updates.
 * Reading a pipe, wait for adagrad -w to make them (the workspace's step),
 * so that the data stage may send windows ahead; die if the stages around
 * this one have gone, or if the parameters are already past the window. */
struct stepwait {
	int looked;		/* count and pipe found out (once mapped) */
	const int64_t *count;	/* the workspace's step, or NULL */
	int pipe;		/* reading a pipe: someone may yet advance it */
};

static void wait_for_step(struct stepwait *sw, const struct model_src *src,
			  const struct ts_frame *f, const struct ts_reader *r)
{
	int64_t want;
	if (!src->writable)
		return;
	if (!sw->looked) {
		struct stat st;
		sw->count = model_src_step(src);
		sw->pipe = fstat(r->fd, &st) == 0 && S_ISFIFO(st.st_mode);
		sw->looked = 1;
	}
	if (!sw->count || !model_step(f, r->path, &want))
		return;
	struct pollfd p[2] = { { .fd = r->fd, .events = POLLIN }, { .fd = 1, .events = 0 } };
	for (int64_t v; (v = step_load(sw->count)) != want;) {
		if (v > want || !sw->pipe)
			eprintf("%s: window of step %lld, but the parameters in %s are at step %lld",
				r->path, (long long)want, src->path, (long long)v);
		step_sleep(sw->count, v, 100);
		if (step_load(sw->count) != v || poll(p, 2, 0) <= 0)
			continue;
		if (p[0].revents & (POLLHUP | POLLERR))
			eprintf("%s: the data stage ended while step %lld waited for its parameters",
				r->path, (long long)want);
		if (p[1].revents & (POLLHUP | POLLERR))
			eprintf("<stdout>: the next stage ended while step %lld waited for its parameters",
				(long long)want);
	}
}

/* p holding at least n reals (cap tracks its size); contents not kept. */
static real *reserve(real *p, size_t *cap, size_t n)
{
	if (n <= *cap)
		return p;
	free(p);
	*cap = n;
	return emalloc(emul(n, sizeof *p, "window"));
}

int main(int argc, char **argv)
{
	struct model_src src = { 0 };
	int c, model = 0;

	setprog(argv[0]);
	if (argc > 1 && is_help(argv[1]))
		help();
	while ((c = getopt(argc, argv, "j:m:w:")) != -1) {
		switch (c) {
		case 'j': rnn_set_threads_arg(optarg); break;
		case 'm':
		case 'w':
			if (src.path)
				usage();
			src.path = optarg;
			model = c == 'm';
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	/* A model file must be there from the start; the workspace is made by
	 * the data stage and mapped when the first frame shows it exists. The
	 * forward pass writes to the workspace only the activations, when the
	 * workspace has room for them. */
	src.writable = src.path && !model;
	if (model)
		model_src_map(&src);

	struct ts_reader r;
	struct ts_writer w;
	struct ts_frame f;
	struct outbuf b = { 0 };
	struct stepwait sw = { 0 };
	real *carry = NULL;	/* (B,H) the last window's hT */
	size_t carryB = 0, carryH = 0;
	ts_ropen(&r, argv[optind]);
	ts_wopen(&w, NULL);
	while (ts_read_frame(&r, &f)) {
		struct rnn_params P;
		struct model_window win;
		model_src_params(&src, &P, &f, r.path);
		model_window(&win, &f, &P, r.path);
		size_t T = (size_t)win.T, B = (size_t)win.B;
		size_t H = (size_t)P.H, V = (size_t)P.V;
		int carried = !win.h0;
		if (carried) {
			if (!carry)
				eprintf("%s: frame '%s': no tensor 'h0', and no window before it",
					r.path, f.name);
			if (carryB != B || carryH != H)
				eprintf("%s: frame '%s': no tensor 'h0', and the window before it "
					"had B %zu, H %zu", r.path, f.name, carryB, carryH);
			win.h0 = carry;
		}
		wait_for_step(&sw, &src, &f, &r);

		/* Activations go to the workspace if it has room for them:
		 * then only the small tensors travel down the pipe. */
		const uint64_t hsd[3] = { T, B, H }, psd[3] = { T, B, V };
		real *hs = model_src_scratch(&src, "forward", "hs", 3, hsd);
		real *ps = model_src_scratch(&src, "forward", "ps", 3, psd);
		int shared = hs && ps;
		if (!shared) {
			hs = b.hs = reserve(b.hs, &b.hs_cap, T * B * H);
			ps = b.ps = reserve(b.ps, &b.ps_cap, T * B * V);
		}
		b.loss = reserve(b.loss, &b.loss_cap, B);
		rnn_forward(&P, win.T, win.B, win.x, win.y, win.h0, hs, ps, b.loss);

		struct ts_tensor out[5] = {
			{ .name = "hs", .dtype = TS_REAL, .rank = 3, .dims = { T, B, H },
			  .data = hs },
			{ .name = "ps", .dtype = TS_REAL, .rank = 3, .dims = { T, B, V },
			  .data = ps },
			{ .name = "loss", .dtype = TS_REAL, .rank = 1, .dims = { B },
			  .data = b.loss },
			/* The last hidden state, where the next window starts. */
			{ .name = "hT", .dtype = TS_REAL, .rank = 2, .dims = { B, H },
			  .data = hs + (T - 1) * B * H },
			/* A carried h0 goes on: rnn-bwd needs it. */
			{ .name = "h0", .dtype = TS_REAL, .rank = 2, .dims = { B, H },
			  .data = carry },
		};
		if (shared)
			model_write_pass(&w, "forward", &f, NULL, out + 2, 2 + carried);
		else
			model_write_pass(&w, "forward", &f, NULL, out, 4 + carried);
		if (carryB * carryH != B * H) {
			free(carry);
			carry = emalloc(emul(B * H, sizeof *carry, "hidden state"));
		}
		carryB = B;
		carryH = H;
		memcpy(carry, hs + (T - 1) * B * H, B * H * sizeof *carry);
		ts_frame_free(&f);
	}
	ts_rclose(&r);
	ts_wclose(&w);
	model_src_close(&src);
	free(b.hs);
	free(b.ps);
	free(b.loss);
	free(carry);
	return 0;
}
