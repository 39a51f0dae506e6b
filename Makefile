# charnn: character-level RNN filters. See README.md.
#
#   make              programs into bin/ (float)
#   make double       the same programs in double precision (REAL=double),
#                     in build/double/bin/
#   make san          AddressSanitizer + UBSan build, build/san/bin/
#   make test         all three builds, then the bats suite on bin/ and on
#                     the sanitizer build (brings bats-core if missing)
#   make bench        benchmark table (bench/run)
#   make train        train on the bundled corpus, then sample
#   make install PREFIX=/usr/local   (and make uninstall; DESTDIR stages)

CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
# REAL=double computes in double precision (make double does it in its own
# directories); float is the default.
REAL    ?= float
REALFLAGS_float  =
REALFLAGS_double = -DCHARNN_DOUBLE
CPPFLAGS_ALL = -D_POSIX_C_SOURCE=200809L -Ilib $(REALFLAGS_$(REAL)) $(CPPFLAGS)
LDLIBS   = -lm -lpthread
PREFIX  ?= /usr/local

# Build variant: where objects (O) and programs (B) go; each precision has
# its own, so objects of the two are never mixed.
ifeq ($(REAL),double)
O ?= build/double/obj
B ?= build/double/bin
else
O ?= build/obj
B ?= bin
endif

PROGS = tensordump vocab encode decode rnn-init rnn-fwd rnn-bwd adagrad rmsprop adam \
        sample score feed

# lib/, one concern a file: errors and arguments, the stream format, text,
# the model and its kernels (one file per instruction set), the workspace,
# frame checks, the checkpoint, the run's logs, the corpus.
LIBOBJS = $(O)/err.o $(O)/arg.o $(O)/afile.o $(O)/fdio.o \
          $(O)/crc32.o $(O)/ts.o $(O)/tsmap.o \
          $(O)/tstext.o $(O)/tstext_read.o $(O)/npy.o $(O)/npy_read.o $(O)/pgm.o \
          $(O)/utf8.o $(O)/textio.o $(O)/vocab.o \
          $(O)/rng.o $(O)/rnn.o $(O)/rnn_base.o $(O)/rnn_avx2.o $(O)/rnn_avx512.o \
          $(O)/pool.o $(O)/net.o $(O)/net_fast.o $(O)/netmodel.o $(O)/netstage.o $(O)/model.o $(O)/workspace.o $(O)/tsframe.o $(O)/params.o $(O)/ckpt.o $(O)/optim.o $(O)/optim_stage.o $(O)/runlog.o $(O)/gen.o $(O)/corpus.o

BINS = $(PROGS:%=$(B)/%)

all: $(BINS) testprogs

$(O)/%.o: lib/%.c lib/*.h
	@mkdir -p $(O)
	$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) -c -o $@ $<

# The kernel versions are one body, compiled once for each.
$(O)/rnn_base.o $(O)/rnn_avx2.o $(O)/rnn_avx512.o: lib/rnn_kernels.inc lib/net_kernels.inc

# The update rules never read errno, and without it to set the compiler
# turns sqrt into vector instructions (optim.c, adam_update).
$(O)/optim.o: CPPFLAGS_ALL += -fno-math-errno

$(O)/bin-%.o: bin/%.c lib/*.h
	@mkdir -p $(O)
	$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) -c -o $@ $<

$(O)/libcharnn.a: $(LIBOBJS)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJS)

$(B)/%: $(O)/bin-%.o $(O)/libcharnn.a
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libcharnn.a $(LDLIBS)

double:
	$(MAKE) REAL=double

SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
           -fno-omit-frame-pointer
san:
	$(MAKE) O=build/san/obj B=build/san/bin CFLAGS="$(SANFLAGS)" \
		LDFLAGS="-fsanitize=address,undefined"

# Sanitizer reports exit with codes no charnn program uses, so a test that
# expects exit 1 cannot pass because of one.
SANENV = ASAN_OPTIONS=exitcode=99:detect_leaks=1 \
         UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98

test: all double san
	CHARNN_BIN=$(CURDIR)/bin CHARNN_BIN_DOUBLE=$(CURDIR)/build/double/bin \
		sh test/bats.sh test
	$(SANENV) CHARNN_BIN=$(CURDIR)/build/san/bin \
		CHARNN_TESTBIN=$(CURDIR)/build/san/obj/test \
		CHARNN_BIN_DOUBLE=$(CURDIR)/build/double/bin sh test/bats.sh test

bench: all benchprogs
	sh bench/run

# Held-out bpc and chars/s for a wall-clock budget per recipe, charnn and
# PyTorch (QUALITY_SECONDS, default 120; CORPUS, default tinyshakespeare
# when shared/data has it). Not a test.
quality: all
	sh bench/quality $(CORPUS)

# The main job: train on the bundled corpus, then sample from the model.
train: all
	sh pipelines/train
	$(B)/sample -n 1000 runs/corpus/ckpt.t

# Installed: one command in PREFIX/bin (charnn); the filters and scripts,
# whose short names would collide there, in PREFIX/libexec/charnn; the
# corpus and format notes in PREFIX/share/charnn; the man pages. uninstall
# removes exactly these files (and the charnn directories, when empty).
SCRIPTS = train sweep plot
MAN1 = man/charnn.1 $(PROGS:%=man/charnn-%.1) $(SCRIPTS:%=man/charnn-%.1)
MAN5 = man/charnn-tensor.5 man/charnn-text.5 man/charnn-corpus.5 man/charnn-model.5
SHARE = corpus.txt $(notdir $(wildcard formats/*.md))
LIBEXEC = $(DESTDIR)$(PREFIX)/libexec/charnn
MANDIR = $(DESTDIR)$(PREFIX)/share/man
install: all double
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(LIBEXEC)/double $(DESTDIR)$(PREFIX)/share/charnn \
		$(MANDIR)/man1 $(MANDIR)/man5
	cp $(BINS) $(SCRIPTS:%=pipelines/%) $(LIBEXEC)/
	cp $(PROGS:%=build/double/bin/%) $(LIBEXEC)/double/
	cp pipelines/charnn $(DESTDIR)$(PREFIX)/bin/charnn
	cp formats/*.md data/corpus.txt $(DESTDIR)$(PREFIX)/share/charnn/
	cp $(MAN1) $(MANDIR)/man1/
	cp $(MAN5) $(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/charnn $(PROGS:%=$(LIBEXEC)/%) \
		$(SCRIPTS:%=$(LIBEXEC)/%) $(SHARE:%=$(DESTDIR)$(PREFIX)/share/charnn/%) \
		$(MAN1:man/%=$(MANDIR)/man1/%) $(MAN5:man/%=$(MANDIR)/man5/%) \
		$(PROGS:%=$(LIBEXEC)/double/%)
	rmdir $(LIBEXEC)/double $(LIBEXEC) $(DESTDIR)$(PREFIX)/share/charnn 2>/dev/null || true

clean:
	rm -rf build $(BINS) runs

.PHONY: quality all double san test bench train install uninstall clean
.SECONDARY:

# Test and benchmark programs: test/NAME.c -> $(O)/test/NAME, bench/NAME.c ->
# $(O)/bench/NAME, linked like the programs.
TESTPROGS  = $(O)/test/gradcheck $(O)/test/kernels $(O)/test/crc
BENCHPROGS = $(O)/bench/inproc $(O)/bench/kernels $(O)/bench/crc $(O)/bench/runstat \
             $(O)/bench/peak $(O)/bench/net $(O)/bench/hop
testprogs: $(TESTPROGS)
benchprogs: $(BENCHPROGS)
$(O)/test/%: test/%.c $(O)/libcharnn.a
	@mkdir -p $(O)/test
	$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libcharnn.a $(LDLIBS)
$(O)/bench/%: bench/%.c $(O)/libcharnn.a
	@mkdir -p $(O)/bench
	$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libcharnn.a $(LDLIBS)
.PHONY: testprogs benchprogs
