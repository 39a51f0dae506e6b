/* feed: the data stage of the training loop, and its bookkeeper.
 *
 * feed cuts an encoded corpus into training windows and writes them, one
 * "window" frame per iteration, to rnn-fwd; the last stage (adagrad) sends a
 * "step" frame back through a named pipe:
 *
 *   feed ... < loop | rnn-fwd -w ws | rnn-bwd -w ws | adagrad -w ws > loop
 *
 * Windows go out ahead of the steps that come back (rnn-fwd -w waits for
 * each window's parameters in the workspace), so the loop's critical path is
 * rnn-fwd, rnn-bwd, adagrad and feed runs only now and then. It stops
 * sending, and waits for every step to come back, before it checkpoints,
 * samples or validates: then the loop is idle and the workspace still.
 *
 * It creates the workspace the stages share (parameters, Adagrad memory,
 * gradients), carries the hidden state from window to window, keeps the
 * smoothed loss, logs every iteration, prints progress, samples text,
 * measures held-out bits per character and writes checkpoints from which a
 * run resumes exactly. See formats/model.md and pipelines/train.
 *
 * Legend: V vocab, H hidden, T steps per window, B sequences side by side. */
#define _GNU_SOURCE	/* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "arg.h"
#include "ckpt.h"
#include "corpus.h"
#include "err.h"
#include "gen.h"
#include "model.h"
#include "rng.h"
#include "ts.h"
#include "tsframe.h"
#include "tsmap.h"
#include "vocab.h"
#include "workspace.h"

enum {
	CURSOR_CAP = 4096,	/* indices buffered per sequence */
	AHEAD = 64,		/* windows out at once, by default (-q) */
	AHEAD_MAX = 4096
};

struct opts {
	int T, B;
	int ahead;		/* at most this many windows out at once */
	long long iters;	/* stop after this many iterations (0: never) */
	long long ckpt_every, sample_every, val_every, progress_every;
	long long sample_len, val_max;
	double valfrac;
	unsigned long long seed;
	const char *init, *resume, *ckpt, *ws, *log, *corpus;
};

static void usage(void)
{
	fputs("usage: feed [-T steps] [-B batch] [-q ahead] [-n iters] [-k every] [-o ckpt]\n"
	      "            [-L log] [-S every] [-N chars] [-v frac] [-e every]\n"
	      "            [-E chars] [-p every] [-s seed] (-i MODEL | -r CKPT)\n"
	      "            -w WORKSPACE CORPUS\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: feed [options] (-i MODEL | -r CKPT) -w WORKSPACE CORPUS\n"
	     "The data stage of the training loop (see pipelines/train): writes one\n"
	     "\"window\" frame per iteration on stdout, reads the \"step\" frame that\n"
	     "comes back round the loop on stdin.\n"
	     "  -i MODEL      start from a model (rnn-init)\n"
	     "  -r CKPT       resume from a checkpoint, exactly\n"
	     "  -w FILE       workspace to create, shared with rnn-fwd/rnn-bwd/adagrad -w\n"
	     "  -T N          steps per window (25)\n"
	     "  -B N          sequences trained side by side (1)\n"
	     "  -q N          at most N windows queued ahead of the steps back (64;\n"
	     "                1: one at a time)\n"
	     "  -n N          stop after iteration N (0: run until stopped; default 0)\n"
	     "  -o FILE       checkpoint file (default: the -r file, else none)\n"
	     "  -k N          checkpoint every N iterations (1000); always at the end\n"
	     "  -L FILE       loss log, one line per iteration: iter loss smooth\n"
	     "  -S N          sample every N iterations to stderr (1000; 0: never)\n"
	     "  -N N          characters per sample (200)\n"
	     "  -v F          hold out the last fraction F of the corpus (0)\n"
	     "  -e N          measure held-out bits per character every N (1000)\n"
	     "  -E N          at most N held-out characters per measurement (100000)\n"
	     "  -p N          progress line every N iterations (0: every second)\n"
	     "  -s N          seed for sampling (1)");
	efshut_stdout();
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int all_finite(const real *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(a[i]))
			return 0;
	return 1;
}

/* Parameters, memory and state to a checkpoint file, atomically; refuses
 * (and dies, leaving the last good checkpoint) if parameters went bad. */
static void checkpoint(const struct opts *o, const struct ts_map *ws,
		       const struct ckpt_state *s)
{
	struct rnn_params P, M;
	model_from_map(&P, ws, WS_PARAMS, "");
	model_from_map(&M, ws, WS_MEMORY, WS_MEM_PREFIX);
	if (!all_finite(P.Wxh, rnn_nparams(P.V, P.H)))
		eprintf("parameters are not finite after iteration %lld; "
			"stopped, the last good checkpoint is kept", (long long)s->iter);
	if (o->ckpt)
		ckpt_write(o->ckpt, ts_map_find(ws, WS_PARAMS, WS_VOCAB), &P, &M, s);
}

/* Read the source model (-i) or checkpoint (-r) and write the workspace.
 * Returns V, H; fills s from a checkpoint's state, or starts it afresh. */
static void make_workspace(const struct opts *o, struct ckpt_state *s, int *V, int *H)
{
	struct ckpt c;
	ckpt_read(&c, o->resume ? o->resume : o->init, o->resume != NULL);
	*V = c.P.V;
	*H = c.P.H;
	if (o->resume) {
		ckpt_state(&c, s);
		if (s->T != o->T || s->B != o->B)
			eprintf("%s: checkpoint was made with -T %lld -B %lld", c.path,
				(long long)s->T, (long long)s->B);
	} else {
		s->h = ecalloc(emul((size_t)o->B, (size_t)c.P.H, "hidden state"), sizeof *s->h);
		rng_seed(&s->rng, o->seed);
		s->smooth = -log(1.0 / c.P.V) * o->T;
		s->T = o->T;
		s->B = o->B;
	}
	ws_create(o->ws, c.vocab, &c.P, &c.M, s->iter, o->T, o->B);
	ckpt_free(&c);
}

/* Keep only the lines of the loss log up to iteration iter, so a resumed run
 * continues the log as if it had never stopped. */
static void trim_log(const char *path, long long iter)
{
	FILE *in = fopen(path, "r");
	if (!in)
		return;
	struct afile a;
	afile_open(&a, path);
	FILE *out = fdopen(a.fd, "w");
	if (!out)
		eprintf("%s:", a.tmp);
	/* A line cut short by a kill has no newline: it is dropped too. */
	char line[256];
	while (fgets(line, sizeof line, in)) {
		if (!strchr(line, '\n') || strtoll(line, NULL, 10) > iter)
			break;
		fputs(line, out);
	}
	fclose(in);
	if (fflush(out) || ferror(out) || fclose(out))
		eprintf("%s: write error:", path);
	a.fd = -1;	/* closed with out */
	afile_commit(&a, 0);
}

/* Print n characters sampled from the model, starting from hidden state h
 * (copied) and input x, to stderr. */
static void sample_text(const struct rnn_params *P, const struct vocab *v,
			const real *h0, int x, long long n, struct rng *rng, long long iter)
{
	real *h = emalloc(emul((size_t)P->H, sizeof *h, "sample"));
	real *scratch = emalloc(gen_scratch_bytes(P->V, P->H));
	memcpy(h, h0, (size_t)P->H * sizeof *h);
	fprintf(stderr, "---- sample after iteration %lld ----\n", iter);
	for (long long i = 0; i < n; i++) {
		unsigned char b[4];
		x = gen_next(P, h, x, 1, 0, rng, scratch);
		fwrite(b, 1, (size_t)vocab_bytes(v, x, b), stderr);
	}
	fputs("\n----\n", stderr);
	free(h);
	free(scratch);
}

/* Bits per character of the held-out text [start, start + n), from a zero
 * hidden state. */
static double validate(const struct rnn_params *P, const struct corpus *c,
		       uint64_t start, uint64_t n)
{
	enum { CHUNK = 4096 };
	struct corpus_cursor k;
	cursor_init(&k, c, CURSOR_CAP);
	real *h = ecalloc((size_t)P->H, sizeof *h);
	real *scratch = emalloc(gen_scratch_bytes(P->V, P->H));
	int32_t x[CHUNK + 1];
	double nats = 0;
	/* Chunks overlap by one character: the last target of one chunk is
	 * the first input of the next. */
	for (uint64_t i = 0; i + 1 < n; i += CHUNK) {
		size_t m = n - i > CHUNK + 1 ? CHUNK + 1 : (size_t)(n - i);
		cursor_read(&k, start + i, x, m);
		nats += gen_score(P, h, x, m, scratch);
	}
	cursor_free(&k);
	free(h);
	free(scratch);
	return nats / (double)(n - 1) / log(2.0);
}

/* The progress line, when one is due after iteration s->iter (every -p
 * iterations, or once a second, and at the end). */
struct pace {
	double t0, tlast;	/* start, last line */
	long long first;	/* iteration at the start */
};

static void progress(const struct opts *o, const struct ckpt_state *s, double loss,
		     double val, struct pace *p)
{
	double t = now();
	int due = o->progress_every ? s->iter % o->progress_every == 0 : t - p->tlast >= 1;
	if (!due && s->iter != o->iters)
		return;
	p->tlast = t;
	double rate = (double)(s->iter - p->first) * o->T * o->B / (t - p->t0 > 0 ? t - p->t0 : 1e-9);
	char eta[32] = "";
	if (o->iters && rate > 0) {
		long long sec = (long long)((o->iters - s->iter) * (double)o->T * o->B / rate);
		snprintf(eta, sizeof eta, "  eta %lld:%02lld:%02lld",
			 sec / 3600, sec / 60 % 60, sec % 60);
	}
	char vs[32] = "";
	if (val >= 0)
		snprintf(vs, sizeof vs, "  val %.4f bpc", val);
	fprintf(stderr, "iter %lld  loss %.4f  smooth %.4f%s  %.0f char/s%s\n",
		s->iter, loss, s->smooth, vs, rate, eta);
}

/* The first iteration after iter at which feed acts with the loop idle: a
 * checkpoint, a sample, a validation, or the end. */
static long long next_stop(const struct opts *o, long long iter, int validating)
{
	long long stop = o->iters ? o->iters : LLONG_MAX;
	const long long every[3] = { o->ckpt_every, o->sample_every,
				     validating ? o->val_every : 0 };
	for (int i = 0; i < 3; i++) {
		/* every and iter are below 2^62: no overflow */
		long long next = every[i] > 0 ? (iter / every[i] + 1) * every[i] : LLONG_MAX;
		if (next < stop)
			stop = next;
	}
	return stop;
}

/* The loop as feed sees it: windows out on stdout, steps back on stdin. */
struct loop {
	struct ts_writer out;
	struct ts_reader in;
	long long sent;		/* windows sent (state.iter of them are back) */
	int ahead;		/* windows that may be out at once */
	int ahead_max;		/* -q */
	int send_h0;		/* the next window carries h0 (else rnn-fwd's) */
	size_t back_bytes;	/* the largest step frame back so far */
	int out_flags;		/* stdout's file status flags at the start */
	/* The window being cut. */
	int T, B, H;
	uint64_t L;		/* characters in each sequence's slice */
	struct corpus_cursor *cur;	/* (B) */
	int32_t *x, *y, *run;	/* (T,B), (T,B), (T+1) */
	real *zeros;		/* (B,H) */
};

/* stdout is full: wait until rnn-fwd takes more, but not for ever if the
 * loop is broken (stdin at its end: no step will come back). */
static void stalled(struct ts_writer *w)
{
	struct pollfd p[2] = { { .fd = w->fd, .events = POLLOUT }, { .fd = 0, .events = 0 } };
	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			eprintf("poll:");
	if (!(p[0].revents & POLLOUT) && (p[1].revents & (POLLHUP | POLLERR)))
		eprintf("<stdin>: the loop closed while windows were on their way");
}

/* Open the loop's ends. Writing to a pipe, feed never blocks in write(2),
 * so that a broken loop is noticed (stalled). */
static void loop_open(struct loop *lp)
{
	struct stat st;
	ts_wopen(&lp->out, NULL);
	ts_ropen(&lp->in, NULL);
	lp->out_flags = -1;
	if (fstat(1, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (lp->out_flags = fcntl(1, F_GETFL)) >= 0 &&
	    fcntl(1, F_SETFL, lp->out_flags | O_NONBLOCK) == 0)
		lp->out.stalled = stalled;
}

static void loop_close(struct loop *lp)
{
	ts_wflush(&lp->out);
	if (lp->out_flags >= 0)
		(void)fcntl(1, F_SETFL, lp->out_flags);
	ts_wclose(&lp->out);
	ts_rclose(&lp->in);
}

/* Size the loop once the first step is back (so every stage has its ends
 * open): as many windows out at once as the pipe back holds steps twice
 * over, so adagrad never waits to write one, at most -q; and a small
 * pipe to rnn-fwd, so that feed, blocked on it, wakes once per few windows
 * rather than once per step that comes back. Not reading a pipe, the loop
 * stays synchronous. */
static void loop_size(struct loop *lp)
{
	struct stat st;
	lp->ahead = 1;
	if (fstat(lp->in.fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		return;
#if defined(F_GETPIPE_SZ) && defined(F_SETPIPE_SZ)
	int cap = fcntl(lp->in.fd, F_GETPIPE_SZ);
	if (cap > 0) {
		size_t n = (size_t)cap / 2 / lp->back_bytes;
		lp->ahead = n < 1 ? 1 : n > (size_t)lp->ahead_max ? lp->ahead_max : (int)n;
	}
	size_t window = 2 * (size_t)lp->T * (size_t)lp->B * sizeof(int32_t) + 256;
	size_t want = 2 * window > 8192 ? 2 * window : 8192;
	if (fstat(1, &st) == 0 && S_ISFIFO(st.st_mode) && want <= INT_MAX)
		(void)fcntl(1, F_SETPIPE_SZ, (int)want);
#endif
}

/* Cut window lp->sent by min-char-rnn's schedule and send it: a window that
 * would reach the end of the slice sends the position back to the start
 * and the hidden state to zeros. Only then, and for the first window, does
 * the frame carry h0: otherwise rnn-fwd starts from the last window's hT. */
static void send_window(struct loop *lp, struct ckpt_state *s)
{
	const real *h0 = lp->send_h0 ? s->h : NULL;
	if ((uint64_t)s->pos + (uint64_t)lp->T + 1 >= lp->L) {
		s->pos = 0;
		h0 = lp->zeros;
	}
	corpus_window(lp->cur, lp->B, lp->L, (uint64_t)s->pos, lp->T, lp->x, lp->y, lp->run);
	const uint64_t xdims[2] = { (uint64_t)lp->T, (uint64_t)lp->B };
	const uint64_t hdims[2] = { (uint64_t)lp->B, (uint64_t)lp->H };
	int64_t step = lp->sent;
	ts_write_frame(&lp->out, WS_WINDOW, h0 ? 4 : 3);
	ts_write_tensor(&lp->out, "x", TS_I32, 2, xdims, lp->x);
	ts_write_tensor(&lp->out, "y", TS_I32, 2, xdims, lp->y);
	if (h0)
		ts_write_tensor(&lp->out, "h0", TS_REAL, 2, hdims, h0);
	ts_write_tensor(&lp->out, WS_STEP, TS_I64, 0, NULL, &step);
	lp->send_h0 = 0;
	s->pos += lp->T;
	lp->sent++;
}

/* Read the step that comes back for window s->iter and account for it: the
 * loss (which must be finite), the hidden state, the smoothed loss and the
 * log line. Returns the window's loss, the mean over the B sequences. */
static double take_step(struct loop *lp, struct ckpt_state *s, FILE *log)
{
	struct ts_frame f;
	uint64_t at = lp->in.off;
	if (!ts_read_frame(&lp->in, &f))
		eprintf("<stdin>: the loop closed before iteration %lld came back",
			s->iter + 1);
	int64_t step = tsf_i64(&f, WS_STEP, "<stdin>");
	if (step != s->iter)
		eprintf("<stdin>: step %lld came back when %lld was expected",
			(long long)step, (long long)s->iter);
	const uint64_t ld[1] = { (uint64_t)lp->B }, hd[2] = { (uint64_t)lp->B, (uint64_t)lp->H };
	struct ts_tensor *tl = tsf_need_shaped(&f, "loss", TS_REAL, 1, ld, "<stdin>");
	struct ts_tensor *th = tsf_need_shaped(&f, "hT", TS_REAL, 2, hd, "<stdin>");
	double loss = 0;
	for (int b = 0; b < lp->B; b++)
		loss += ((real *)tl->data)[b];
	loss /= lp->B;
	if (!isfinite(loss))
		eprintf("loss is %s at iteration %lld; stopped, the last good "
			"checkpoint is kept", isnan(loss) ? "NaN" : "infinite", s->iter + 1);
	memcpy(s->h, th->data, th->nbytes);
	ts_frame_free(&f);

	s->smooth = s->smooth * 0.999 + loss * 0.001;
	s->iter++;
	if (log)
		fprintf(log, "%lld %.6f %.6f\n", s->iter, loss, s->smooth);
	size_t bytes = (size_t)(lp->in.off - at);
	if (bytes > lp->back_bytes) {
		lp->back_bytes = bytes;
		loop_size(lp);
	}
	return loss;
}

static void parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .T = 25, .B = 1, .ahead = AHEAD, .ckpt_every = 1000, .sample_every = 1000,
			    .val_every = 1000, .sample_len = 200, .val_max = 100000,
			    .seed = 1 };
	if (argc > 1 && is_help(argv[1]))
		help();
	int c;
	while ((c = getopt(argc, argv, "T:B:q:n:k:o:L:S:N:v:e:E:p:s:i:r:w:")) != -1) {
		switch (c) {
		case 'T': o->T = (int)estrtonum(optarg, 1, 1 << 16, "-T"); break;
		case 'B': o->B = (int)estrtonum(optarg, 1, 1 << 16, "-B"); break;
		case 'q': o->ahead = (int)estrtonum(optarg, 1, AHEAD_MAX, "-q"); break;
		case 'n': o->iters = estrtonum(optarg, 0, 1LL << 62, "-n"); break;
		case 'k': o->ckpt_every = estrtonum(optarg, 1, 1LL << 62, "-k"); break;
		case 'o': o->ckpt = optarg; break;
		case 'L': o->log = optarg; break;
		case 'S': o->sample_every = estrtonum(optarg, 0, 1LL << 62, "-S"); break;
		case 'N': o->sample_len = estrtonum(optarg, 0, 1LL << 40, "-N"); break;
		case 'v': o->valfrac = estrtod(optarg, 0, 0.99, "-v"); break;
		case 'e': o->val_every = estrtonum(optarg, 1, 1LL << 62, "-e"); break;
		case 'E': o->val_max = estrtonum(optarg, 2, 1LL << 62, "-E"); break;
		case 'p': o->progress_every = estrtonum(optarg, 0, 1LL << 62, "-p"); break;
		case 's': o->seed = (unsigned long long)estrtonum(optarg, 0, 1LL << 62, "-s"); break;
		case 'i': o->init = optarg; break;
		case 'r': o->resume = optarg; break;
		case 'w': o->ws = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 1 || !o->ws || !o->init == !o->resume)
		usage();
	o->corpus = argv[optind];
	if (!o->ckpt)
		o->ckpt = o->resume;
	if ((uint64_t)o->T * (uint64_t)o->B > (1u << 24))
		uprintf("-T times -B is over 2^24 characters per window");
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ckpt_state s = { 0 };
	int V, H;

	setprog(argv[0]);
	parse(&o, argc, argv);
	make_workspace(&o, &s, &V, &H);

	struct corpus corpus;
	corpus_open(&corpus, o.corpus, V);
	uint64_t nval = (uint64_t)((double)corpus.n * o.valfrac);
	uint64_t ntrain = corpus.n - nval;
	if (o.resume && (uint64_t)s.ntrain != ntrain)
		eprintf("%s: checkpoint trained on %lld characters, this corpus gives %llu",
			o.resume, s.ntrain, (unsigned long long)ntrain);
	s.ntrain = (long long)ntrain;
	uint64_t L = ntrain / (uint64_t)o.B;	/* each sequence's slice */
	if (L < (uint64_t)o.T + 2)
		eprintf("%s: %llu training characters are too few for %d sequences of "
			"windows of %d", o.corpus, (unsigned long long)ntrain, o.B, o.T);
	if (nval > (uint64_t)o.val_max)
		nval = (uint64_t)o.val_max;

	struct ts_map ws;
	struct rnn_params P;
	struct vocab vocab;
	ts_map_open(&ws, o.ws, 0);
	model_from_map(&P, &ws, WS_PARAMS, "");
	vocab_from_tensor(&vocab, ts_map_find(&ws, WS_PARAMS, WS_VOCAB), o.ws);

	if (o.log)
		trim_log(o.log, s.iter);
	FILE *log = NULL;
	if (o.log && !(log = fopen(o.log, "a")))
		eprintf("%s:", o.log);

	size_t TB = (size_t)o.T * (size_t)o.B;
	struct loop lp = { .sent = s.iter, .ahead = 1, .ahead_max = o.ahead, .send_h0 = 1,
			   .T = o.T, .B = o.B, .H = H, .L = L };
	lp.x = emalloc(TB * sizeof *lp.x);
	lp.y = emalloc(TB * sizeof *lp.y);
	lp.run = emalloc(((size_t)o.T + 1) * sizeof *lp.run);
	lp.zeros = ecalloc((size_t)o.B * (size_t)H, sizeof *lp.zeros);
	lp.cur = emalloc((size_t)o.B * sizeof *lp.cur);
	for (int b = 0; b < o.B; b++)
		cursor_init(&lp.cur[b], &corpus, CURSOR_CAP);
	loop_open(&lp);

	long long last_ckpt = s.iter;
	struct pace pace = { .t0 = now(), .first = s.iter };
	pace.tlast = pace.t0;
	double val = -1, loss = 0;
	while (!o.iters || s.iter < o.iters) {
		/* Windows out, steps back, up to the next stop; a step that
		 * has come back is taken before another window goes out. */
		long long stop = next_stop(&o, s.iter, nval > 1);
		while (s.iter < stop) {
			if (lp.sent < stop && lp.sent - s.iter < lp.ahead &&
			    (lp.sent == s.iter || !ts_rready(&lp.in))) {
				send_window(&lp, &s);
				continue;
			}
			loss = take_step(&lp, &s, log);
			if (s.iter < stop)
				progress(&o, &s, loss, val, &pace);
		}
		/* The loop is idle: the workspace holds the parameters after
		 * iteration s.iter, and s its state. */
		if (s.iter % o.ckpt_every == 0) {
			/* The log holds every iteration the checkpoint has. */
			if (log && fflush(log))
				eprintf("%s: write error:", o.log);
			checkpoint(&o, &ws, &s);
			last_ckpt = s.iter;
		}
		if (o.sample_every && s.iter % o.sample_every == 0)
			sample_text(&P, &vocab, s.h, lp.y[(size_t)(o.T - 1) * o.B], o.sample_len,
				    &s.rng, s.iter);
		if (nval > 1 && s.iter % o.val_every == 0)
			val = validate(&P, &corpus, ntrain, nval);
		progress(&o, &s, loss, val, &pace);
	}
	if (last_ckpt != s.iter)
		checkpoint(&o, &ws, &s);
	if (log && (fflush(log) || ferror(log) || fclose(log)))
		eprintf("%s: write error:", o.log);
	loop_close(&lp);
	for (int b = 0; b < o.B; b++)
		cursor_free(&lp.cur[b]);
	free(lp.cur);
	free(lp.x);
	free(lp.y);
	free(lp.run);
	free(lp.zeros);
	free(s.h);
	vocab_free(&vocab);
	ts_map_close(&ws);
	corpus_close(&corpus);
	return 0;
}
