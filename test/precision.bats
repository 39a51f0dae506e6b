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
