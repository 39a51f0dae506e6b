/* feed: the data stage of the training loop, and its bookkeeper.
 *
 * feed cuts an encoded corpus into training windows and writes them, one
 * "window" frame per iteration, to rnn-fwd; the last stage (adagrad) sends a
 * "step" frame back through a named pipe, and only then does feed send the
 * next window, so the loop is synchronous and exactly min-char-rnn's:
 *
 *   feed ... < loop | rnn-fwd -w ws | rnn-bwd -w ws | adagrad -w ws > loop
 *
 * It creates the workspace the stages share (parameters, Adagrad memory,
 * gradients), carries the hidden state from window to window, keeps the
 * smoothed loss, logs every iteration, prints progress, samples text,
 * measures held-out bits per character and writes checkpoints from which a
 * run resumes exactly. See formats/model.md and pipelines/train.
 *
 * Legend: V vocab, H hidden, T steps per window, B sequences side by side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "arg.h"
#include "corpus.h"
#include "err.h"
#include "gen.h"
#include "model.h"
#include "rng.h"
#include "ts.h"
#include "tsmap.h"
#include "vocab.h"

enum { CURSOR_CAP = 4096 };	/* indices buffered per sequence */

struct opts {
	int T, B;
	long long iters;	/* stop after this many iterations (0: never) */
	long long ckpt_every, sample_every, val_every, progress_every;
	long long sample_len, val_max;
	double valfrac;
	unsigned long long seed;
	const char *init, *resume, *ckpt, *ws, *log, *corpus;
};

/* Everything a checkpoint holds besides parameters and Adagrad memory. */
struct state {
	long long iter;		/* iterations completed */
	long long pos;		/* window start within each sequence's slice */
	long long ntrain;	/* characters used for training (checked on resume) */
	double smooth;		/* smoothed loss */
	real *h;		/* (B,H) hidden state carried into the next window */
	struct rng rng;		/* sampling */
};

static void usage(void)
{
	fputs("usage: feed [-T steps] [-B batch] [-n iters] [-k every] [-o ckpt]\n"
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
	exit(0);
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
		       const struct state *s, int H)
{
	struct rnn_params P, M;
	model_from_map(&P, ws, "params", "");
	model_from_map(&M, ws, "adagrad", "m");
	if (!all_finite(P.Wxh, rnn_nparams(P.V, P.H)))
		eprintf("parameters are not finite after iteration %lld; "
			"stopped, the last good checkpoint is kept", s->iter);
	if (!o->ckpt)
		return;
	struct ts_writer w;
	ts_wopen(&w, o->ckpt);
	ts_write_frame(&w, "params", 1 + MODEL_NTENSORS);
	ts_write_copy(&w, ts_map_find(ws, "params", "vocab"));
	model_write(&w, &P, "");
	ts_write_frame(&w, "adagrad", MODEL_NTENSORS);
	model_write(&w, &M, "m");

	uint64_t hdims[2] = { (uint64_t)o->B, (uint64_t)H }, four = 4;
	int64_t iv[5] = { s->iter, s->pos, s->ntrain, o->T, o->B };
	int64_t rs[4];
	memcpy(rs, s->rng.s, sizeof rs);
	ts_write_frame(&w, "state", 8);
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

/* The scalar i64 tensor name of frame f, or die naming path. */
static int64_t get_i64(const struct ts_frame *f, const char *name, const char *path)
{
	struct ts_tensor *t = ts_frame_find(f, name);
	if (!t || t->dtype != TS_I64 || t->count != 1)
		eprintf("%s: frame '%s': no i64 scalar '%s'", path, f->name, name);
	return *(int64_t *)t->data;
}

/* Read the source model (-i) or checkpoint (-r) and write the workspace:
 * frames params, adagrad and grads, all live (updated in place). Returns V,
 * H; fills s from a checkpoint's state frame. */
static void make_workspace(const struct opts *o, struct state *s, int *V, int *H)
{
	const char *src = o->resume ? o->resume : o->init;
	struct ts_reader r;
	struct ts_frame params = { 0 }, mem = { 0 }, st = { 0 }, f;
	ts_ropen(&r, src);
	while (ts_read_frame(&r, &f)) {
		struct ts_frame *keep = !strcmp(f.name, "params") && !params.t ? &params :
					!strcmp(f.name, "adagrad") && !mem.t ? &mem :
					!strcmp(f.name, "state") && !st.t ? &st : NULL;
		if (keep)
			*keep = f;
		else
			ts_frame_free(&f);
	}
	ts_rclose(&r);

	struct rnn_params P, M, G;
	if (!params.t || !model_from_frame(&P, &params, "", src))
		eprintf("%s: no \"params\" frame with a model", src);
	struct ts_tensor *vocab = ts_frame_find(&params, "vocab");
	if (!vocab)
		eprintf("%s: frame 'params': no tensor 'vocab'", src);
	*V = P.V;
	*H = P.H;
	s->h = ecalloc(emul((size_t)o->B, (size_t)P.H, "hidden state"), sizeof *s->h);
	rng_seed(&s->rng, o->seed);
	s->smooth = -log(1.0 / P.V) * o->T;
	model_alloc(&G, P.V, P.H);
	if (o->resume) {
		if (!mem.t || !model_from_frame(&M, &mem, "m", src))
			eprintf("%s: no \"adagrad\" frame: not a checkpoint", src);
		model_check_same(&P, &M, src, "Adagrad memory");
		if (!st.t)
			eprintf("%s: no \"state\" frame: not a checkpoint", src);
		if (get_i64(&st, "T", src) != o->T || get_i64(&st, "B", src) != o->B)
			eprintf("%s: checkpoint was made with -T %lld -B %lld",
				src, (long long)get_i64(&st, "T", src),
				(long long)get_i64(&st, "B", src));
		s->iter = get_i64(&st, "iter", src);
		s->pos = get_i64(&st, "pos", src);
		s->ntrain = get_i64(&st, "ntrain", src);
		struct ts_tensor *sm = ts_frame_find(&st, "smooth");
		struct ts_tensor *h = ts_frame_find(&st, "h");
		struct ts_tensor *rs = ts_frame_find(&st, "rng");
		if (!sm || sm->dtype != TS_F64 || sm->count != 1)
			eprintf("%s: frame 'state': no f64 scalar 'smooth'", src);
		if (!h || h->dtype != TS_REAL || h->rank != 2 ||
		    h->dims[0] != (uint64_t)o->B || h->dims[1] != (uint64_t)P.H)
			eprintf("%s: frame 'state': tensor 'h' must be %s (%d,%d)", src,
				ts_dtype_name(TS_REAL), o->B, P.H);
		if (!rs || rs->dtype != TS_I64 || rs->count != 4)
			eprintf("%s: frame 'state': tensor 'rng' must be i64 (4)", src);
		s->smooth = *(double *)sm->data;
		memcpy(s->h, h->data, h->nbytes);
		memcpy(s->rng.s, rs->data, sizeof s->rng.s);
	} else {
		model_alloc(&M, P.V, P.H);
	}

	struct ts_writer w;
	ts_wopen(&w, o->ws);
	w.flags = TS_FLAG_LIVE;
	ts_write_frame(&w, "params", 1 + MODEL_NTENSORS);
	ts_write_copy(&w, vocab);
	model_write(&w, &P, "");
	ts_write_frame(&w, "adagrad", MODEL_NTENSORS);
	model_write(&w, &M, "m");
	ts_write_frame(&w, "grads", MODEL_NTENSORS);
	model_write(&w, &G, "d");
	/* Room for the activations, so that rnn-fwd -w hands them to rnn-bwd -w
	 * here rather than through the pipe. */
	size_t TB = (size_t)o->T * (size_t)o->B, big = P.V > P.H ? P.V : P.H;
	real *zero = ecalloc(emul(TB, big, "activations"), sizeof *zero);
	uint64_t hsd[3] = { (uint64_t)o->T, (uint64_t)o->B, (uint64_t)P.H };
	uint64_t psd[3] = { (uint64_t)o->T, (uint64_t)o->B, (uint64_t)P.V };
	ts_write_frame(&w, "forward", 2);
	ts_write_tensor(&w, "hs", TS_REAL, 3, hsd, zero);
	ts_write_tensor(&w, "ps", TS_REAL, 3, psd, zero);
	free(zero);
	ts_wclose(&w);
	if (!o->resume)
		model_free(&M);
	model_free(&G);
	ts_frame_free(&params);
	ts_frame_free(&mem);
	ts_frame_free(&st);
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

static void progress(const struct opts *o, const struct state *s, double loss,
		     double val, double rate)
{
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

static void parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .T = 25, .B = 1, .ckpt_every = 1000, .sample_every = 1000,
			    .val_every = 1000, .sample_len = 200, .val_max = 100000,
			    .seed = 1 };
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (is_help(argv[i]))
			help();
	int c;
	while ((c = getopt(argc, argv, "T:B:n:k:o:L:S:N:v:e:E:p:s:i:r:w:")) != -1) {
		switch (c) {
		case 'T': o->T = (int)estrtonum(optarg, 1, 1 << 16, "-T"); break;
		case 'B': o->B = (int)estrtonum(optarg, 1, 1 << 16, "-B"); break;
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
	struct state s = { 0 };
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
	model_from_map(&P, &ws, "params", "");
	vocab_from_tensor(&vocab, ts_map_find(&ws, "params", "vocab"), o.ws);

	if (o.log)
		trim_log(o.log, s.iter);
	FILE *log = NULL;
	if (o.log && !(log = fopen(o.log, "a")))
		eprintf("%s:", o.log);

	size_t TB = (size_t)o.T * (size_t)o.B;
	int32_t *x = emalloc(TB * sizeof *x), *y = emalloc(TB * sizeof *y);
	int32_t *run = emalloc(((size_t)o.T + 1) * sizeof *run);
	struct corpus_cursor *cur = emalloc((size_t)o.B * sizeof *cur);
	for (int b = 0; b < o.B; b++)
		cursor_init(&cur[b], &corpus, CURSOR_CAP);
	uint64_t xdims[2] = { (uint64_t)o.T, (uint64_t)o.B };
	uint64_t hdims[2] = { (uint64_t)o.B, (uint64_t)H };

	struct ts_writer out;
	struct ts_reader in;
	ts_wopen(&out, NULL);
	ts_ropen(&in, NULL);

	long long first = s.iter, last_ckpt = s.iter;
	double t0 = now(), tlast = t0, val = -1, loss = 0;
	while (!o.iters || s.iter < o.iters) {
		/* min-char-rnn's schedule: a window that would reach the end of
		 * the slice sends the data pointer back to the start and resets
		 * the hidden state. */
		if ((uint64_t)s.pos + (uint64_t)o.T + 1 >= L) {
			s.pos = 0;
			memset(s.h, 0, (size_t)o.B * (size_t)H * sizeof *s.h);
		}
		corpus_window(cur, o.B, L, (uint64_t)s.pos, o.T, x, y, run);
		int64_t step = s.iter;
		ts_write_frame(&out, "window", 4);
		ts_write_tensor(&out, "x", TS_I32, 2, xdims, x);
		ts_write_tensor(&out, "y", TS_I32, 2, xdims, y);
		ts_write_tensor(&out, "h0", TS_REAL, 2, hdims, s.h);
		ts_write_tensor(&out, "step", TS_I64, 0, NULL, &step);

		struct ts_frame f;
		if (!ts_read_frame(&in, &f))
			eprintf("<stdin>: the loop closed before iteration %lld came back",
				s.iter + 1);
		struct ts_tensor *tl = ts_frame_find(&f, "loss");
		struct ts_tensor *th = ts_frame_find(&f, "hT");
		if (get_i64(&f, "step", "<stdin>") != step)
			eprintf("<stdin>: step %lld came back when %lld was expected",
				(long long)get_i64(&f, "step", "<stdin>"), (long long)step);
		if (!tl || tl->dtype != TS_REAL || tl->count != (uint64_t)o.B)
			eprintf("<stdin>: frame '%s': tensor 'loss' must be %s (%d)",
				f.name, ts_dtype_name(TS_REAL), o.B);
		if (!th || th->dtype != TS_REAL || th->count != (uint64_t)o.B * (uint64_t)H)
			eprintf("<stdin>: frame '%s': tensor 'hT' must be %s (%d,%d)",
				f.name, ts_dtype_name(TS_REAL), o.B, H);
		loss = 0;
		for (int b = 0; b < o.B; b++)
			loss += ((real *)tl->data)[b];
		loss /= o.B;
		if (!isfinite(loss))
			eprintf("loss is %s at iteration %lld; stopped, the last good "
				"checkpoint is kept", isnan(loss) ? "NaN" : "infinite", s.iter + 1);
		memcpy(s.h, th->data, th->nbytes);
		ts_frame_free(&f);

		s.smooth = s.smooth * 0.999 + loss * 0.001;
		s.pos += o.T;
		s.iter++;
		if (log)
			fprintf(log, "%lld %.6f %.6f\n", s.iter, loss, s.smooth);
		if (s.iter % o.ckpt_every == 0) {
			/* The log holds every iteration the checkpoint has. */
			if (log && fflush(log))
				eprintf("%s: write error:", o.log);
			checkpoint(&o, &ws, &s, H);
			last_ckpt = s.iter;
		}
		if (o.sample_every && s.iter % o.sample_every == 0)
			sample_text(&P, &vocab, s.h, y[(size_t)(o.T - 1) * o.B], o.sample_len,
				    &s.rng, s.iter);
		if (nval > 1 && s.iter % o.val_every == 0)
			val = validate(&P, &corpus, ntrain, nval);
		double t = now();
		int due = o.progress_every ? s.iter % o.progress_every == 0 : t - tlast >= 1;
		if (due || s.iter == o.iters) {
			progress(&o, &s, loss, val, (double)(s.iter - first) * (double)TB /
						    (t - t0 > 0 ? t - t0 : 1e-9));
			tlast = t;
		}
	}
	if (last_ckpt != s.iter)
		checkpoint(&o, &ws, &s, H);
	if (log && (fflush(log) || ferror(log) || fclose(log)))
		eprintf("%s: write error:", o.log);
	ts_wclose(&out);
	ts_rclose(&in);
	return 0;
}
