#!/usr/bin/env bats
# Precision: the float build trains as the double build does, on models
# large enough that pre-activations pass -44 within a few steps (there a
# tanh whose |x| was never taken overflowed its exp: tanh(-48.4) came out
# +1, tanh(-44.5) NaN, and a float run at H >= 384 went NaN). The stages run
# in their ring as pipelines/train runs them, without the script.
bats_require_minimum_version 1.5.0
load test_helper

# A text of 3000 or so characters from a fixed list of words, drawn by a
# generator exact in any awk (products stay below 2^53).
gen_text() {
	awk 'BEGIN {
		n = split("the of and to in is was that for on with as by at it from this be are or", w)
		x = 1
		for (i = 0; i < 700; i++) {
			x = (x * 75 + 74) % 65537
			printf "%s%s", w[x % n + 1], (i % 12 == 11 ? "\n" : " ")
		}
	}'
}

# ring BIN DIR H N: N steps of training at hidden size H, B 4, T 16, the
# default learning rate 0.1, with the programs in BIN; the loss log in
# DIR/loss.log.
ring() {
	local bin=$1 d=$2 H=$3 n=$4
	mkdir -p "$d"
	"$bin/vocab" "$BATS_TEST_TMPDIR/text.txt" > "$d/v.t"
	"$bin/encode" "$d/v.t" "$BATS_TEST_TMPDIR/text.txt" > "$d/c.t"
	"$bin/rnn-init" -H "$H" -s 1 "$d/v.t" > "$d/i.t"
	mkfifo "$d/loop"
	bash -c "set -o pipefail
		'$bin/feed' -i '$d/i.t' -w '$d/ws.t' -L '$d/loss.log' -T 16 -B 4 -n $n \
			-S 0 -p 1000 -k 1000 '$d/c.t' < '$d/loop' 2> '$d/feed.err' |
		'$bin/rnn-fwd' -w '$d/ws.t' | '$bin/rnn-bwd' -w '$d/ws.t' |
		'$bin/adagrad' -l 0.1 -w '$d/ws.t' > '$d/loop'"
}

# float_vs_double H N: N steps in each build; every step's loss a finite
# number within 0.2% of the double build's. The runs are chaotic (losses
# jump from 45 to hundreds as tanh saturates, and float and double part by
# 1% two steps later), so N is the first step where the pre-activations
# below -44 made the old float tanh NaN: with this text, 4 at H 512 and 3 at
# H 1024; float and double agree there to 1e-6 and 6e-5.
float_vs_double() {
	local D=$BATS_TEST_TMPDIR
	gen_text > "$D/text.txt"
	run -0 ring "$(dirname "$(command -v feed)")" "$D/f" "$1" "$2"
	run -0 ring "$DBIN" "$D/d" "$1" "$2"
	run -0 awk -v n="$2" '
		NR == FNR { want[$1] = $2; next }
		$2 !~ /^[0-9]+(\.[0-9]*)?(e[-+]?[0-9]+)?$/ { print "step " $1 ": loss " $2; exit 1 }
		{
			d = $2 - want[$1]
			if (d < 0) d = -d
			if (!(d <= 0.002 * want[$1])) { print "step " $1 ": float " $2 ", double " want[$1]; exit 1 }
			steps++
		}
		END { if (steps != n) { print steps + 0 " steps, expected " n; exit 1 } }
	' "$D/d/loss.log" "$D/f/loss.log"
}

@test "precision: float trains as double does at H 512, B 4 (pre-activations past -44)" {
	float_vs_double 512 4
}

@test "precision: float trains as double does at H 1024, B 4" {
	float_vs_double 1024 3
}

# Threads split the products by output columns or rows, never a sum, so
# the thread count changes no byte. A text of the 94 printable ASCII
# characters (V 95 with the newline), so the output layer is wide enough to
# be split too.
ascii_text() {
	awk 'BEGIN {
		x = 1
		for (i = 0; i < 3000; i++) {
			x = (x * 75 + 74) % 65537
			printf "%c%s", 33 + x % 94, (i % 60 == 59 ? "\n" : "")
		}
	}'
}

# ring_j BIN DIR J: 6 steps at H 256, B 8, T 16 with J threads a stage
# (CHARNN_THREADS), from a copy of DIR/../i.t; checkpoint DIR/ck.t.
ring_j() {
	local bin=$1 d=$2 j=$3
	mkdir -p "$d"
	mkfifo "$d/loop"
	CHARNN_THREADS=$j bash -c "set -o pipefail
		'$bin/feed' -i '$d/../i.t' -w '$d/ws.t' -o '$d/ck.t' -L '$d/loss.log' -T 16 -B 8 \
			-n 6 -S 3 -N 50 -v 0.2 -e 3 -p 1000 -k 1000 '$d/../c.t' < '$d/loop' 2> '$d/feed.err' |
		'$bin/rnn-fwd' -w '$d/ws.t' | '$bin/rnn-bwd' -w '$d/ws.t' |
		'$bin/adagrad' -w '$d/ws.t' > '$d/loop'"
}

@test "threads: training writes the same checkpoint and log with 1, 2 and 16 threads" {
	local D=$BATS_TEST_TMPDIR bin
	bin=$(dirname "$(command -v feed)")
	ascii_text > "$D/text.txt"
	vocab "$D/text.txt" > "$D/v.t"
	encode "$D/v.t" "$D/text.txt" > "$D/c.t"
	rnn-init -H 256 -s 3 "$D/v.t" > "$D/i.t"
	for j in 1 2 16; do
		run -0 ring_j "$bin" "$D/j$j" "$j"
	done
	for j in 2 16; do
		cmp "$D/j1/ck.t" "$D/j$j/ck.t"
		cmp "$D/j1/loss.log" "$D/j$j/loss.log"
	done
	[ "$(wc -l < "$D/j1/loss.log")" -eq 6 ]
}

# A text of $1 characters drawn from 2500 CJK ones (U+4E00 on), UTF-8
# written byte by byte, for a large vocabulary.
cjk_text() {
	LC_ALL=C awk -v n="$1" 'BEGIN {
		x = 1
		for (i = 0; i < n; i++) {
			x = (x * 75 + 74) % 65537
			c = 19968 + x % 2500
			printf "%c%c%c", 224 + int(c / 4096), 128 + int(c / 64) % 64, 128 + c % 64
			if (i % 60 == 59) printf "\n"
		}
	}'
}

@test "threads: sample and score print the same with -j 1, 2 and 16" {
	local D=$BATS_TEST_TMPDIR
	cjk_text 1000 > "$D/text.txt"
	vocab "$D/text.txt" > "$D/v.t"
	encode "$D/v.t" "$D/text.txt" > "$D/c.t"
	# V about 850, H 512: the recurrence and the output layer both split.
	rnn-init -H 512 -s 3 "$D/v.t" > "$D/m.t"
	sample -j 1 -n 100 -t 0.7 -s 5 "$D/m.t" > "$D/s1.txt"
	score -j 1 "$D/m.t" "$D/c.t" > "$D/b1.txt"
	for j in 2 16; do
		sample -j $j -n 100 -t 0.7 -s 5 "$D/m.t" > "$D/s$j.txt"
		CHARNN_THREADS=$j sample -n 100 -t 0.7 -s 5 "$D/m.t" > "$D/e$j.txt"
		score -j $j "$D/m.t" "$D/c.t" > "$D/b$j.txt"
		cmp "$D/s1.txt" "$D/s$j.txt"
		cmp "$D/s1.txt" "$D/e$j.txt"
		cmp "$D/b1.txt" "$D/b$j.txt"
	done
	[ "$(wc -m < "$D/s1.txt")" -ge 100 ]
}

# CHARNN_THREADS is read when the kernels are first used.
@test "threads: -j and CHARNN_THREADS outside 1..256 are usage errors" {
	local D=$BATS_TEST_TMPDIR
	ascii_text > "$D/text.txt"
	vocab "$D/text.txt" > "$D/v.t"
	rnn-init -H 4 "$D/v.t" > "$D/m.t"
	run -2 --separate-stderr sample -j 0 -n 5 "$D/m.t"
	[ "$stderr" = "sample: -j: 0 is out of range [1, 256]" ]
	[ -z "$output" ]
	run -2 --separate-stderr score -j many "$D/m.t" /dev/null
	[ "$stderr" = "score: -j: not an integer: 'many'" ]
	CHARNN_THREADS=257 run -2 --separate-stderr sample -n 5 "$D/m.t"
	[ "$stderr" = "sample: CHARNN_THREADS: 257 is out of range [1, 256]" ]
	[ -z "$output" ]
	encode "$D/v.t" "$D/text.txt" > "$D/c.t"
	CHARNN_THREADS=two run -2 --separate-stderr score "$D/m.t" "$D/c.t"
	[ "$stderr" = "score: CHARNN_THREADS: not an integer: 'two'" ]
	[ -z "$output" ]
}
