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
 * sending, and waits for every step to come back, before it samples,
 * validates or checkpoints: then the loop is idle and the workspace still.
 *
 * It creates the workspace the stages share (parameters, Adagrad memory,
 * gradients), carries the hidden state from window to window, keeps the
 * smoothed loss, logs every iteration, prints progress, samples text,
 * measures held-out bits per character and writes checkpoints from which a
 * run resumes exactly, with the settings it was made with. SIGINT or
 * SIGTERM stops it after the steps already out, with a checkpoint. See
 * formats/model.md and pipelines/train.
 *
 * Legend: V vocab, H hidden, T steps per window, B sequences side by side.
 *
 * Its contract (options, streams, exit status): man/charnn-feed.1. */
#define _GNU_SOURCE	/* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arg.h"
#include "ckpt.h"
#include "corpus.h"
#include "err.h"
#include "gen.h"
#include "model.h"
#include "optim.h"
#include "rng.h"
#include "runlog.h"
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

/* Options that a resumed run takes from its checkpoint unless given. */
enum { GIVEN_T = 1, GIVEN_B = 2, GIVEN_S = 8 };
/* The fractions feed takes as numbers and records (struct ckpt_num). */
enum { NUM_VAL, NUM_TEST, NUM_DROP, NNUM };

struct opts {
	int T, B;
	int ahead;		/* at most this many windows out at once */
	long long iters;	/* stop after this many iterations (0: never) */
	long long ckpt_every, sample_every, val_every, progress_every;
	long long sample_len, val_max;
	struct ckpt_num num[NNUM];	/* -v held out, -t test, -D dropout */
	unsigned long long seed;
	const char *init, *resume, *ckpt, *ws, *log, *vlog, *best, *corpus;
	int check;		/* -K: check the options (and checkpoint), print */
	unsigned given;		/* GIVEN_* */
	struct ckpt_settings extra;	/* -x NAME=VALUE */
	const char *optim;	/* -O: the optimiser whose state to keep (NULL: adagrad) */
};

/* The value of number i of o (NUM_*). */
static double num(const struct opts *o, int i)
{
	return strtod(o->num[i].arg, NULL);
}

/* The signal that asked the run to stop (SIGINT, SIGTERM), or 0. */
static volatile sig_atomic_t stop_signal;

static void usage(void)
{
	fputs("usage: feed [-T steps] [-B batch] [-q ahead] [-n iters] [-k every] [-o ckpt]\n"
	      "            [-L log] [-V vallog] [-b best] [-S every] [-N chars] [-v frac]\n"
	      "            [-e every] [-E chars] [-p every] [-s seed] [-x name=value]\n"
	      "            [-t frac] [-O optimiser] [-D dropout]\n"
	      "            (-i MODEL | -r CKPT) -w WORKSPACE CORPUS\n"
	      "       feed -K [options] [-r CKPT]\n", stderr);
	exit(EXIT_USAGE);
}

static void help(void)
{
	puts("usage: feed [options] (-i MODEL | -r CKPT) -w WORKSPACE CORPUS\n"
	     "       feed -K [options] [-r CKPT]\n"
	     "The data stage of the training loop (see pipelines/train): writes one\n"
	     "\"window\" frame per iteration on stdout, reads the \"step\" frame that\n"
	     "comes back round the loop on stdin.\n"
	     "  -i MODEL      start from a model (rnn-init)\n"
	     "  -r CKPT       resume from a checkpoint, exactly, with its settings;\n"
	     "                -T, -B, -v, -t, -s, -D, -x given must agree with them\n"
	     "  -w FILE       workspace to create, shared with rnn-fwd/rnn-bwd/adagrad -w\n"
	     "  -T N          steps per window (25)\n"
	     "  -B N          sequences trained side by side (1)\n"
	     "  -q N          at most N windows queued ahead of the steps back (64;\n"
	     "                1: one at a time)\n"
	     "  -n N          stop after iteration N (0: run until stopped; default 0);\n"
	     "                with -r, N must be past the checkpoint's iteration\n"
	     "  -o FILE       checkpoint file (default: the -r file, else none)\n"
	     "  -k N          checkpoint every N iterations (1000); always at the end\n"
	     "  -L FILE       loss log, one line per iteration: iter loss smooth\n"
	     "  -V FILE       held-out log, one line per measurement: iter bpc\n"
	     "  -b FILE       checkpoint with the lowest held-out bpc so far\n"
	     "  -S N          sample every N iterations to stderr (1000; 0: never)\n"
	     "  -N N          characters per sample (200)\n"
	     "  -v F          hold out the fraction F of the corpus before the test\n"
	     "                part for validation (0)\n"
	     "  -t F          keep the last fraction F of the corpus as a test part,\n"
	     "                scored once at the end (0)\n"
	     "  -e N          measure held-out bits per character every N (1000)\n"
	     "  -E N          at most N held-out characters per measurement (100000)\n"
	     "  -p N          progress line every N iterations (0: every second)\n"
	     "  -s N          seed for sampling (1)\n"
	     "  -x NAME=VAL   record a setting of the other stages in the checkpoint\n"
	     "  -O NAME       the optimiser stage (adagrad, rmsprop, adam) whose\n"
	     "                state the workspace keeps (adagrad; with -r: the\n"
	     "                checkpoint's)\n"
	     "  -D P          the dropout rate rnn-fwd -D applies (recorded; room\n"
	     "                for its masks in the workspace)\n"
	     "  -K            only check the options (with -r, against the checkpoint)\n"
	     "                and print the checkpoint's settings and iteration");
	efshut_stdout();
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A checkpoint of the last good iteration is on disk at -o (or none). */
static int have_ckpt;

/* Parameters, memory and state to checkpoint file path, atomically; refuses
 * (and dies, leaving the last good checkpoint) if parameters went bad. */
static void checkpoint(const char *path, const struct ts_map *ws, const struct ckpt_state *s)
{
	struct params P, M;
	struct ckpt_state t = *s;
	static struct ts_tensor xt[OPTIM_MAXSLOTS * OPTIM_MAXSTATE];
	t.nx = 0;
	for (size_t i = 0; i < ws->n && t.nx < OPTIM_MAXSLOTS * OPTIM_MAXSTATE; i++)
		if (!strcmp(ws->t[i].frame, OPTIM_FRAME))
			xt[t.nx++] = ws->t[i].t;
	t.xt = xt;
	params_from_map(&P, ws, WS_PARAMS);
	params_like_map(&M, &P, ws, WS_MEMORY, WS_MEM_PREFIX);
	if (!params_finite(&P))
		eprintf("parameters are not finite after iteration %lld; stopped, %s",
			s->iter, have_ckpt ? "the last good checkpoint is kept" :
			"and no checkpoint was written");
	if (path)
		ckpt_write(path, ts_map_find(ws, WS_PARAMS, WS_VOCAB), &P, &M, &t);
}

/* A resumed run's optimiser: the checkpoint's ("adagrad" if it names
 * none); -O given must agree. */
static void resume_optim(struct opts *o, const struct ckpt_state *s)
{
	const char *v = ckpt_get(&s->set, "optim");
	if (!v)
		v = "adagrad";
	if (o->optim && strcmp(o->optim, v))
		uprintf("-O %s: the checkpoint %s was made with -O %s", o->optim, o->resume, v);
	if (!optim_find(v))
		eprintf("%s: frame '%s': optim '%s' is not adagrad, rmsprop or adam", o->resume,
			CKPT_SETTINGS, v);
	o->optim = optim_find(v)->name;	/* not v: record_settings sets it again */
}

/* A resumed run's options from the checkpoint's state and settings: those
 * not given are taken from it, those given must agree. */
static void resume_settings(struct opts *o, const struct ckpt_state *s)
{
	const char *path = o->resume, *v;
	if ((o->given & GIVEN_T) && o->T != s->T)
		uprintf("-T %d: the checkpoint %s was made with -T %lld", o->T, path, s->T);
	if ((o->given & GIVEN_B) && o->B != s->B)
		uprintf("-B %d: the checkpoint %s was made with -B %lld", o->B, path, s->B);
	o->T = (int)s->T;
	o->B = (int)s->B;
	ckpt_resume_nums(o->num, NNUM, &s->set, path);
	if ((v = ckpt_get(&s->set, "seed"))) {
		if ((o->given & GIVEN_S) && strtoull(v, NULL, 10) != o->seed)
			uprintf("-s %llu: the checkpoint %s was made with -s %s", o->seed, path, v);
		o->seed = strtoull(v, NULL, 10);
	}
	for (int i = 0; i < o->extra.n; i++)
		if ((v = ckpt_get(&s->set, o->extra.name[i])) && strcmp(v, o->extra.value[i]))
			uprintf("-x %s=%s: the checkpoint %s was made with %s=%s",
				o->extra.name[i], o->extra.value[i], path, o->extra.name[i], v);
	resume_optim(o, s);
	if (o->iters && o->iters <= s->iter)
		uprintf("-n %lld: the checkpoint %s is at iteration %lld already", o->iters,
			path, s->iter);
}

/* The model's sizes as settings: H (the hidden size; for a family model
 * of layers of different sizes, all of them, "128,64"), and for a family
 * model its cell and layers (L). */
static void model_settings(struct ckpt_settings *set, const struct params *m)
{
	char v[CKPT_MAX_VALUE + 1];
	if (!m->fam) {
		snprintf(v, sizeof v, "%d", m->P.H);
		ckpt_set(set, "H", v, "H");
		return;
	}
	const struct net *N = &m->N;
	int same = 1, at = 0;
	for (int l = 1; l < N->L; l++)
		same = same && N->l[l].H == N->l[0].H;
	for (int l = 0; l < (same ? 1 : N->L); l++)
		at += snprintf(v + at, sizeof v - (size_t)at, "%s%d", l ? "," : "", N->l[l].H);
	ckpt_set(set, "H", v, "H");
	ckpt_set(set, "cell", net_cell_names[N->cell], "cell");
	snprintf(v, sizeof v, "%d", N->L);
	ckpt_set(set, "L", v, "L");
}

/* The settings of this run into s->set: the checkpoint's (if resumed),
 * then those of -x, then feed's own. */
static void record_settings(const struct opts *o, struct ckpt_state *s, const struct params *m)
{
	char v[CKPT_MAX_VALUE + 1];
	for (int i = 0; i < o->extra.n; i++)
		ckpt_set(&s->set, o->extra.name[i], o->extra.value[i], "-x");
	model_settings(&s->set, m);
	snprintf(v, sizeof v, "%d", o->T);
	ckpt_set(&s->set, "T", v, "-T");
	snprintf(v, sizeof v, "%d", o->B);
	ckpt_set(&s->set, "B", v, "-B");
	snprintf(v, sizeof v, "%llu", o->seed);
	ckpt_set(&s->set, "seed", v, "-s");
	ckpt_set(&s->set, "valfrac", o->num[NUM_VAL].arg, "-v");
	ckpt_set(&s->set, "real", ts_dtype_name(TS_REAL), "real");
	/* Recorded only when it is not the default, so that Adagrad's
	 * checkpoints stay as they were. */
	if (o->optim && strcmp(o->optim, "adagrad"))
		ckpt_set(&s->set, "optim", o->optim, "-O");
	/* These only when given (or resumed), so that checkpoints made
	 * without them stay as they were. */
	for (int i = NUM_TEST; i < NNUM; i++)
		if (o->num[i].given || ckpt_get(&s->set, o->num[i].name))
			ckpt_set(&s->set, o->num[i].name, o->num[i].arg, o->num[i].opt);
}

/* The run's state: a checkpoint's (-r), or a fresh one (-i). */
static void start_state(struct opts *o, const struct ckpt *c, struct ckpt_state *s)
{
	if (o->resume) {
		ckpt_state(c, s);
		s->xt = NULL;
		s->nx = 0;
		resume_settings(o, s);
		have_ckpt = o->ckpt && strcmp(o->ckpt, o->resume) == 0;
	} else {
		memset(s, 0, sizeof *s);
		s->h = ecalloc(emul((size_t)o->B, params_state_reals(&c->P), "states"),
			       sizeof *s->h);
		rng_seed(&s->rng, o->seed);
		s->smooth = -log(1.0 / c->P.V) * o->T;
		s->T = o->T;
		s->B = o->B;
		s->val = s->best = -1;
	}
	record_settings(o, s, &c->P);
}

/* -K: the settings and iteration, one "name value" line each, on stdout. */
static void print_settings(const struct ckpt_state *s)
{
	for (int i = 0; i < s->set.n; i++)
		printf("%s %s\n", s->set.name[i], s->set.value[i]);
	printf("iter %lld\n", s->iter);
	efshut_stdout();
}

/* The training text and how it is cut (formats/model.md, THE SCHEDULE). */
struct data {
	struct corpus corpus;
	uint64_t ntrain;	/* the first ntrain characters train */
	uint64_t nval;		/* held-out characters measured (at most -E) */
	uint64_t test, ntest;	/* the test part: where it starts, its length */
	uint64_t L;		/* characters in each sequence's slice */
	uint64_t epoch;		/* windows in one pass over the slices */
};

/* Open the corpus and check it, and a resumed state, against the options
 * and against the vocabulary vt of the model or checkpoint (read from src). */
static void open_data(struct data *d, const struct opts *o, struct ckpt_state *s,
		      const struct ts_tensor *vt, const char *src)
{
	struct vocab v;
	vocab_from_tensor(&v, vt, src);
	corpus_open(&d->corpus, o->corpus, v.V);
	corpus_check_vocab(&d->corpus, &v);
	vocab_free(&v);
	/* The corpus is cut [train | validation | test]. */
	if (num(o, NUM_VAL) + num(o, NUM_TEST) > 0.99)
		eprintf("-v %s and -t %s: together over 0.99 of the corpus held out",
			o->num[NUM_VAL].arg, o->num[NUM_TEST].arg);
	d->nval = (uint64_t)((double)d->corpus.n * num(o, NUM_VAL));
	d->ntest = (uint64_t)((double)d->corpus.n * num(o, NUM_TEST));
	d->ntrain = d->corpus.n - d->nval - d->ntest;
	d->test = d->ntrain + d->nval;
	if (o->resume && (uint64_t)s->ntrain != d->ntrain)
		eprintf("%s: checkpoint trained on %lld characters, this corpus gives %llu",
			o->resume, s->ntrain, (unsigned long long)d->ntrain);
	s->ntrain = (long long)d->ntrain;
	d->L = d->ntrain / (uint64_t)o->B;
	if (d->L < (uint64_t)o->T + 2)
		eprintf("%s: %llu training characters are too few for %d sequences of "
			"windows of %d", o->corpus, (unsigned long long)d->ntrain, o->B, o->T);
	if ((uint64_t)s->pos >= d->L)
		eprintf("%s: frame '%s': pos %lld out of range [0, %llu)", o->resume,
			CKPT_STATE, s->pos, (unsigned long long)d->L);
	/* Window starts p = 0, T, 2T, ... while p + T + 1 < L (THE SCHEDULE). */
	d->epoch = (d->L - (uint64_t)o->T - 2) / (uint64_t)o->T + 1;
	if (d->nval > (uint64_t)o->val_max)
		d->nval = (uint64_t)o->val_max;
}

/* n characters after x to stderr, from the states of sequence 0 of the B
 * in h. */
static void sample_text(const struct params *m, const struct vocab *v, const real *h, int B,
			int x, long long n, struct rng *rng, long long iter)
{
	struct gen_seq g;
	gen_seq_open(&g, m);
	params_state_of(m, h, (size_t)B, 0, g.state);
	fprintf(stderr, "---- sample after iteration %lld ----\n", iter);
	for (long long i = 0; i < n; i++) {
		unsigned char b[4];
		x = gen_seq_next(&g, x, 1, 0, rng);
		fwrite(b, 1, (size_t)vocab_bytes(v, x, b), stderr);
	}
	fputs("\n----\n", stderr);
	gen_seq_close(&g);
}

static double validate(const struct params *m, const struct corpus *c, uint64_t start,
		       uint64_t n)
{
	enum { CHUNK = 4096 };
	struct corpus_cursor k;
	struct gen_seq g;
	cursor_init(&k, c, CURSOR_CAP);
	gen_seq_open(&g, m);
	int32_t x[CHUNK + 1];
	double nats = 0;
	/* Chunks overlap by one character: the last target of one chunk is
	 * the first input of the next. */
	for (uint64_t i = 0; i + 1 < n; i += CHUNK) {
		size_t len = n - i > CHUNK + 1 ? CHUNK + 1 : (size_t)(n - i);
		cursor_read(&k, start + i, x, len);
		nats += gen_seq_score(&g, x, len);
	}
	cursor_free(&k);
	gen_seq_close(&g);
	return nats / (double)(n - 1) / log(2.0);
}

/* The progress line, when one is due after iteration s->iter (every -p
 * iterations, or once a second, and at the end). */
struct pace {
	double t0, tlast;	/* start, last line */
	long long first;	/* iteration at the start */
	uint64_t epoch;		/* windows in one epoch */
};

/* With a schedule recorded (setting sched, from train -R), "  lr X", the
 * rate of the last update (lib/optim), into buf; else "". */
static void rate_text(char *buf, size_t n, const struct ckpt_state *s)
{
	const char *sc = ckpt_get(&s->set, "sched"), *lr = ckpt_get(&s->set, "lr");
	struct optim_sched sched;
	buf[0] = 0;
	if (sc && lr && optim_sched_parse(sc, &sched))
		snprintf(buf, n, "  lr %.4g", optim_sched_rate(&sched, strtod(lr, NULL), s->iter));
}

static void progress(const struct opts *o, const struct ckpt_state *s, double loss,
		     double val, struct pace *p)
{
	/* The epoch, passes over the training text, char-rnn's measure. */
	double epoch = (double)s->iter / (double)p->epoch;
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
	char lr[48];
	rate_text(lr, sizeof lr, s);
	/* The smoothed loss per character in bits, to set beside val. */
	fprintf(stderr, "iter %lld  epoch %.2f  loss %.4f  smooth %.4f  train %.4f bpc%s%s  "
		"%.0f char/s%s\n", s->iter, epoch, loss, s->smooth, s->smooth / o->T / log(2.0),
		vs, lr, rate, eta);
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
	int T, B;
	const struct params *m;	/* the model, for its states' names and shapes */
	uint64_t L;		/* characters in each sequence's slice */
	struct corpus_cursor *cur;	/* (B) */
	int32_t *x, *y, *run;	/* (T,B), (T,B), (T+1) */
	real *zeros;		/* B sequences' states, zeros */
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
 * and the states to zeros. Only then, and for the first window, does the
 * frame carry the states (h0, or h0.l and c0.l): otherwise rnn-fwd starts
 * from where the last window ended. */
static void send_window(struct loop *lp, struct ckpt_state *s)
{
	real *h0 = lp->send_h0 ? s->h : NULL;
	if ((uint64_t)s->pos + (uint64_t)lp->T + 1 >= lp->L) {
		s->pos = 0;
		h0 = lp->zeros;
	}
	corpus_window(lp->cur, lp->B, lp->L, (uint64_t)s->pos, lp->T, lp->x, lp->y, lp->run);
	const uint64_t xdims[2] = { (uint64_t)lp->T, (uint64_t)lp->B };
	struct ts_tensor st[PARAMS_MAX_STATES];
	int ns = h0 ? params_states(lp->m, (size_t)lp->B, "h0", h0, st) : 0;
	int64_t step = lp->sent;
	ts_write_frame(&lp->out, WS_WINDOW, 3 + (uint32_t)ns);
	ts_write_tensor(&lp->out, "x", TS_I32, 2, xdims, lp->x);
	ts_write_tensor(&lp->out, "y", TS_I32, 2, xdims, lp->y);
	for (int i = 0; i < ns; i++)
		ts_write_copy(&lp->out, &st[i]);
	ts_write_tensor(&lp->out, WS_STEP, TS_I64, 0, NULL, &step);
	lp->send_h0 = 0;
	s->pos += lp->T;
	lp->sent++;
}

/* Read the step that comes back for window s->iter and account for it: the
 * loss (which must be finite), the states (hT, or hT.l and cT.l), the
 * smoothed loss and the log line. Returns the window's loss, the mean over
 * the B sequences. */
static double take_step(struct loop *lp, struct ckpt_state *s, struct logf *log)
{
	struct ts_frame f;
	uint64_t at = lp->in.off;
	if (!ts_read_frame(&lp->in, &f))
		eprintf("<stdin>: the loop closed before iteration %lld came back",
			s->iter + 1);
	int64_t step = tsf_i64(&f, WS_STEP, "<stdin>");
	if (step != s->iter)
		eprintf("<stdin>: step %lld came back when %lld was expected",
			(long long)step, s->iter);
	const uint64_t ld[1] = { (uint64_t)lp->B };
	const struct ts_tensor *tl = tsf_need_shaped(&f, "loss", TS_REAL, 1, ld, "<stdin>");
	struct ts_tensor st[PARAMS_MAX_STATES], *in[PARAMS_MAX_STATES];
	int ns = params_states(lp->m, (size_t)lp->B, "hT", s->h, st);
	for (int i = 0; i < ns; i++)
		in[i] = tsf_need_shaped(&f, st[i].name, TS_REAL, 2, st[i].dims, "<stdin>");
	double loss = 0;
	for (int b = 0; b < lp->B; b++)
		loss += ((real *)tl->data)[b];
	loss /= lp->B;
	if (!isfinite(loss))
		eprintf("loss is %s at iteration %lld; stopped, %s",
			isnan(loss) ? "NaN" : "infinite", s->iter + 1,
			have_ckpt ? "the last good checkpoint is kept" :
			"and no checkpoint was written");
	for (int i = 0; i < ns; i++)
		memcpy(st[i].data, in[i]->data, in[i]->nbytes);
	ts_frame_free(&f);

	s->smooth = s->smooth * 0.999 + loss * 0.001;
	s->iter++;
	log_line(log, "%lld %.17g %.17g\n", s->iter, loss, s->smooth);
	size_t bytes = (size_t)(lp->in.off - at);
	if (bytes > lp->back_bytes) {
		lp->back_bytes = bytes;
		loop_size(lp);
	}
	return loss;
}

/* -x NAME=VALUE into o->extra; feed's own settings cannot be given so. */
static void extra_setting(struct opts *o, const char *arg)
{
	static const char *const own[] = { "H", "T", "B", "seed", "valfrac", "testfrac",
					   "real", "optim", "cell", "L", "dropout" };
	const char *eq = strchr(arg, '=');
	char name[TS_MAX_NAME + 1];
	if (!eq || eq == arg || (size_t)(eq - arg) > TS_MAX_NAME)
		uprintf("-x: '%s' is not NAME=VALUE", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = 0;
	for (size_t i = 0; i < sizeof own / sizeof *own; i++)
		if (strcmp(name, own[i]) == 0)
			uprintf("-x: %s is feed's own setting", name);
	ckpt_set(&o->extra, name, eq + 1, "-x");
}

/* A number option (-v, -t, -D) given as arg into n: checked, kept as text. */
static void number(struct ckpt_num *n, const char *arg)
{
	estrtod(arg, n->lo, n->hi, n->opt);
	n->arg = arg;
	n->given = 1;
}

/* One option c with argument arg into o. */
static void option(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'T': o->T = (int)estrtonum(arg, 1, 1 << 16, "-T"); o->given |= GIVEN_T; break;
	case 'B': o->B = (int)estrtonum(arg, 1, 1 << 16, "-B"); o->given |= GIVEN_B; break;
	case 'q': o->ahead = (int)estrtonum(arg, 1, AHEAD_MAX, "-q"); break;
	case 'n': o->iters = estrtonum(arg, 0, 1LL << 62, "-n"); break;
	case 'k': o->ckpt_every = estrtonum(arg, 1, 1LL << 62, "-k"); break;
	case 'o': o->ckpt = arg; break;
	case 'L': o->log = arg; break;
	case 'V': o->vlog = arg; break;
	case 'b': o->best = arg; break;
	case 'S': o->sample_every = estrtonum(arg, 0, 1LL << 62, "-S"); break;
	case 'N': o->sample_len = estrtonum(arg, 0, 1LL << 40, "-N"); break;
	case 'v': number(&o->num[NUM_VAL], arg); break;
	case 't': number(&o->num[NUM_TEST], arg); break;
	case 'e': o->val_every = estrtonum(arg, 1, 1LL << 62, "-e"); break;
	case 'E': o->val_max = estrtonum(arg, 2, 1LL << 62, "-E"); break;
	case 'p': o->progress_every = estrtonum(arg, 0, 1LL << 62, "-p"); break;
	case 's': o->seed = (unsigned long long)estrtonum(arg, 0, 1LL << 62, "-s");
		  o->given |= GIVEN_S; break;
	case 'x': extra_setting(o, arg); break;
	case 'i': o->init = arg; break;
	case 'r': o->resume = arg; break;
	case 'w': o->ws = arg; break;
	case 'K': o->check = 1; break;
	case 'D': number(&o->num[NUM_DROP], arg); break;
	case 'O': if (!optim_find(arg))
			  uprintf("-O: '%s' is not adagrad, rmsprop or adam", arg);
		  o->optim = arg; break;
	default: usage();
	}
}

static void parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .T = 25, .B = 1, .ahead = AHEAD, .ckpt_every = 1000, .sample_every = 1000,
			    .val_every = 1000, .sample_len = 200, .val_max = 100000,
			    .seed = 1,
			    .num = { { "valfrac", "-v", "0", 0, 0.99, "0", 0 },
				     { "testfrac", "-t", "0", 0, 0.99, "0", 0 },
				     { "dropout", "-D", "0", 0, 0.99, "0", 0 } } };
	if (argc > 1 && is_help(argv[1]))
		help();
	int c;
	while ((c = getopt(argc, argv, "T:B:q:n:k:o:L:V:b:S:N:v:t:e:E:p:s:x:i:r:w:KO:D:")) != -1)
		option(o, c, optarg);
	if ((uint64_t)o->T * (uint64_t)o->B > (1u << 24))
		uprintf("-T times -B is over 2^24 characters per window");
	if (o->check) {
		if (argc != optind || o->init)
			usage();
		return;
	}
	if (argc - optind != 1 || !o->ws || !o->init == !o->resume)
		usage();
	o->corpus = argv[optind];
	if (!o->ckpt)
		o->ckpt = o->resume;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* SIGINT and SIGTERM stop the run cleanly (the loop checks stop_signal);
 * SIGXFSZ is ignored so that a file over its size limit is a write error
 * reported, not a silent death. */
static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGXFSZ, SIG_IGN);
}

/* Everything a run works with besides its options and state. */
struct run {
	struct data d;
	struct ts_map ws;
	struct params P;	/* in the workspace */
	struct vocab vocab;
	struct logf log, vlog;
	struct loop lp;
	struct pace pace;
	double loss;		/* the last window's */
	long long last_ckpt;	/* iteration of the last checkpoint written */
	long long stopped_at;	/* iteration at_stop last acted after */
};

/* Windows out, steps back, until iteration stop (sooner if a signal comes:
 * then only the windows already out come back); a step that has come back
 * is taken before another window goes out. */
static void advance(const struct opts *o, struct ckpt_state *s, struct run *r,
		    long long stop)
{
	struct loop *lp = &r->lp;
	while (s->iter < stop) {
		if (stop_signal && stop > lp->sent)
			stop = lp->sent;
		if (s->iter >= stop)
			break;
		if (lp->sent < stop && lp->sent - s->iter < lp->ahead &&
		    (lp->sent == s->iter || !ts_rready(&lp->in))) {
			send_window(lp, s);
			continue;
		}
		r->loss = take_step(lp, s, &r->log);
		if (s->iter < stop)
			progress(o, s, r->loss, s->val, &r->pace);
	}
}

/* A held-out measurement after iteration s->iter, to val.log; a scheduled
 * one is the state's and may make a new best.t. */
static void measure(const struct opts *o, struct ckpt_state *s, struct run *r, int scheduled)
{
	double bpc = validate(&r->P, &r->d.corpus, r->d.ntrain, r->d.nval);
	log_line(&r->vlog, "%lld %.17g\n", s->iter, bpc);
	log_flush(&r->vlog);
	if (!scheduled) {
		progress(o, s, r->loss, bpc, &r->pace);
		return;
	}
	s->val = bpc;
	if (s->best < 0 || bpc < s->best) {
		s->best = bpc;
		if (o->best)
			checkpoint(o->best, &r->ws, s);
	}
}

/* The loop is idle after iteration s->iter: sample, measure and checkpoint
 * as scheduled, in that order, so a checkpoint holds the sampler's state
 * after its iteration's sample. */
static void at_stop(const struct opts *o, struct ckpt_state *s, struct run *r)
{
	if (o->sample_every && s->iter % o->sample_every == 0)
		sample_text(&r->P, &r->vocab, s->h, o->B, r->lp.y[(size_t)(o->T - 1) * o->B],
			    o->sample_len, &s->rng, s->iter);
	if (r->d.nval > 1 && s->iter % o->val_every == 0)
		measure(o, s, r, 1);
	if (s->iter % o->ckpt_every == 0) {
		/* The log holds every iteration the checkpoint has. */
		log_flush(&r->log);
		checkpoint(o->ckpt, &r->ws, s);
		have_ckpt = o->ckpt != NULL;
		r->last_ckpt = s->iter;
	}
	progress(o, s, r->loss, s->val, &r->pace);
}

/* The test part scored once, at the end, by the last model and by the best
 * one (-b), to stderr. */
static void test(const struct opts *o, const struct ckpt_state *s, struct run *r)
{
	const struct data *d = &r->d;
	double last = validate(&r->P, &d->corpus, d->test, d->ntest);
	char best[64] = "";
	struct stat st;
	if (o->best && s->best >= 0 && stat(o->best, &st) == 0) {
		struct gen_model g;
		gen_load(&g, o->best);
		snprintf(best, sizeof best, "; %.4f bpc by the best checkpoint",
			 validate(&g.m, &d->corpus, d->test, d->ntest));
		gen_free(&g);
	}
	fprintf(stderr, "test %.4f bpc by the model of iteration %lld%s (%llu characters)\n",
		last, s->iter, best, (unsigned long long)d->ntest);
}

/* Train to -n (or until a signal); then the last measurement and
 * checkpoint if the schedule did not just make them, and the test. */
static void run_loop(const struct opts *o, struct ckpt_state *s, struct run *r)
{
	/* A resumed run's first iteration was acted on before its checkpoint. */
	r->last_ckpt = r->stopped_at = s->iter;
	while (!stop_signal && (!o->iters || s->iter < o->iters)) {
		advance(o, s, r, next_stop(o, s->iter, r->d.nval > 1));
		if (s->iter != r->stopped_at)
			at_stop(o, s, r);
		r->stopped_at = s->iter;
	}
	if (r->d.nval > 1 && s->iter % o->val_every != 0)
		measure(o, s, r, 0);
	log_flush(&r->log);
	if (r->last_ckpt != s->iter)
		checkpoint(o->ckpt, &r->ws, s);
	if (r->d.ntest > 1)
		test(o, s, r);
}

/* Map the workspace, open the logs and the loop's ends. */
static void open_run(const struct opts *o, const struct ckpt_state *s, struct run *r)
{
	ts_map_open(&r->ws, o->ws, 0);
	params_from_map(&r->P, &r->ws, WS_PARAMS);
	vocab_from_tensor(&r->vocab, ts_map_find(&r->ws, WS_PARAMS, WS_VOCAB), o->ws);
	log_open(&r->log, o->log, s->iter, 0);
	log_open(&r->vlog, o->vlog, s->iter, o->val_every);

	struct loop *lp = &r->lp;
	size_t TB = (size_t)o->T * (size_t)o->B;
	*lp = (struct loop){ .sent = s->iter, .ahead = 1, .ahead_max = o->ahead, .send_h0 = 1,
			     .T = o->T, .B = o->B, .m = &r->P, .L = r->d.L };
	lp->x = emalloc(TB * sizeof *lp->x);
	lp->y = emalloc(TB * sizeof *lp->y);
	lp->run = emalloc(((size_t)o->T + 1) * sizeof *lp->run);
	lp->zeros = ecalloc((size_t)o->B * params_state_reals(&r->P), sizeof *lp->zeros);
	lp->cur = emalloc((size_t)o->B * sizeof *lp->cur);
	for (int b = 0; b < o->B; b++)
		cursor_init(&lp->cur[b], &r->d.corpus, CURSOR_CAP);
	loop_open(lp);
	r->pace = (struct pace){ .t0 = now(), .first = s->iter, .epoch = r->d.epoch };
	r->pace.tlast = r->pace.t0;
}

static void close_run(const struct opts *o, struct run *r)
{
	log_close(&r->log);
	log_close(&r->vlog);
	loop_close(&r->lp);
	for (int b = 0; b < o->B; b++)
		cursor_free(&r->lp.cur[b]);
	free(r->lp.cur);
	free(r->lp.x);
	free(r->lp.y);
	free(r->lp.run);
	free(r->lp.zeros);
	vocab_free(&r->vocab);
	ts_map_close(&r->ws);
	corpus_close(&r->d.corpus);
}

/* The workspace, with the state of the optimiser beyond its memory: the
 * checkpoint's when resuming (checked), else zeros. */
static void create_workspace(const struct opts *o, const struct ckpt *c,
			     const struct ckpt_state *s)
{
	const struct optim *opt = optim_find(o->optim ? o->optim : "adagrad");
	struct ts_frame zeros;
	const struct ts_frame *x = &c->xstate;
	ckpt_check_values(c, opt);
	if (o->resume) {
		optim_check_state(opt, &c->params, x, c->path);
	} else {
		optim_zero_state(opt, &c->params, &zeros);
		x = &zeros;
	}
	struct ts_tensor act[WS_MAX_ACTS];
	int nact = ws_acts(&c->P, o->T, o->B, num(o, NUM_DROP) > 0, act);
	ws_create(o->ws, c->vocab, &c->P, &c->M, opt->nstate > 1 ? x : NULL, s->iter, act,
		  nact);
	if (!o->resume)
		ts_frame_free(&zeros);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ckpt c;
	struct ckpt_state s;
	struct run r;

	setprog(argv[0]);
	parse(&o, argc, argv);
	signals();
	if (o.check && !o.resume)
		return 0;
	/* Everything is checked before the first file is written. */
	ckpt_read(&c, o.resume ? o.resume : o.init, o.resume != NULL);
	start_state(&o, &c, &s);
	if (o.check)
		print_settings(&s);
	if (num(&o, NUM_DROP) > 0 && !c.P.fam)
		uprintf("-D: dropout needs a model of the family (rnn-init -C or -L), and "
			"%s is the default model", c.path);
	open_data(&r.d, &o, &s, c.vocab, c.path);
	create_workspace(&o, &c, &s);
	ckpt_free(&c);

	open_run(&o, &s, &r);
	run_loop(&o, &s, &r);
	close_run(&o, &r);
	free(s.h);
	if (stop_signal) {
		fprintf(stderr, "%s: stopped by %s after iteration %lld%s\n", argv0,
			stop_signal == SIGINT ? "SIGINT" : "SIGTERM", s.iter,
			o.ckpt ? ", checkpoint written" : "");
		return 128 + stop_signal;
	}
	return 0;
}
