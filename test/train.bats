#!/usr/bin/env bats
# pipelines/train: the training loop as a pipeline, checkpoints, exact
# resumption (also after kill -9), the loss log, NaN handling.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	head -c 6000 "$TOP/data/corpus.txt" > "$BATS_TEST_TMPDIR/c.txt"
	C="$BATS_TEST_TMPDIR/c.txt"
	TRAIN="$TOP/pipelines/train"
}

@test "train: smoothed loss falls well below its start, checkpoint samples" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/r" -H 32 -n 600 -S 300 -k 200 -e 200
	[[ "$output" == *"---- sample after iteration 300 ----"* ]]
	[[ "$output" == *"val "*" bpc"* ]]
	[ "$(wc -l < "$BATS_TEST_TMPDIR/r/loss.log")" -eq 600 ]
	# The smoothed loss starts at T*ln(V) and must have fallen.
	first=$(awk 'NR == 1 { print $3 }' "$BATS_TEST_TMPDIR/r/loss.log")
	last=$(awk 'END { print $3 }' "$BATS_TEST_TMPDIR/r/loss.log")
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 5) }'
	[ "$(scalar "$BATS_TEST_TMPDIR/r/ckpt.t" iter)" -eq 600 ]
	run -0 sample -n 50 "$BATS_TEST_TMPDIR/r/ckpt.t"
	[ -n "$output" ]
}

@test "train: stopping and resuming gives a byte-identical checkpoint and log" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/a" -H 16 -n 300 -k 70 -S 100 -e 50
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b" -H 16 -n 150 -k 70 -S 100 -e 50
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b" -H 16 -n 300 -k 70 -S 100 -e 50 -r
	cmp "$BATS_TEST_TMPDIR/a/ckpt.t" "$BATS_TEST_TMPDIR/b/ckpt.t"
	cmp "$BATS_TEST_TMPDIR/a/loss.log" "$BATS_TEST_TMPDIR/b/loss.log"
}

@test "train: killed with kill -9 and resumed, ends byte-identical to an unbroken run" {
	d="$BATS_TEST_TMPDIR/k"
	# Run without end; kill the whole pipeline once a checkpoint exists.
	setsid "$TRAIN" -c "$C" -d "$d" -H 16 -n 0 -k 40 -S 0 -B 2 > /dev/null 2>&1 &
	pid=$!
	while [ ! -f "$d/ckpt.t" ]; do sleep 0.05; done
	sleep 0.2
	kill -9 -- "-$pid"
	wait "$pid" || true
	k=$(scalar "$d/ckpt.t" iter)
	[ "$k" -ge 40 ]
	end=$((k + 100))
	run -0 "$TRAIN" -c "$C" -d "$d" -H 16 -n "$end" -k 40 -S 0 -B 2 -r
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/u" -H 16 -n "$end" -k 40 -S 0 -B 2
	cmp "$d/ckpt.t" "$BATS_TEST_TMPDIR/u/ckpt.t"
	cmp "$d/loss.log" "$BATS_TEST_TMPDIR/u/loss.log"
}

@test "train: a loss that turns NaN stops training and keeps the last good checkpoint" {
	d="$BATS_TEST_TMPDIR/n"
	# Adagrad moves each parameter by up to lr per step: with lr 1e6 the
	# probabilities underflow within a few steps.
	run -1 --separate-stderr "$TRAIN" -c "$C" -d "$d" -H 16 -n 100 -k 1 -S 0 -l 1e6
	# Whichever comes first: the loss seen, or the parameters checked before
	# a checkpoint (builds with other optimisation round differently).
	[[ "$stderr" == *"feed: loss is "*" at iteration "*"; stopped, the last good checkpoint is kept"* ||
	   "$stderr" == *"feed: parameters are not finite after iteration "*"; stopped, the last good checkpoint is kept"* ]]
	[[ "$stderr" == *"train: stopped: feed 1"* ]]
	[ -f "$d/ckpt.t" ]
	# Every parameter of the checkpoint kept is finite.
	run -0 tensordump "$d/ckpt.t"
	[[ "$output" == *"nan 0  inf 0"* ]]
	! grep -E "nan [1-9]|inf [1-9]" <<< "$output"
}

@test "train: batched training (B=4) runs and its loss falls" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b4" -H 16 -B 4 -n 300 -S 0 -v 0
	first=$(awk 'NR == 1 { print $3 }' "$BATS_TEST_TMPDIR/b4/loss.log")
	last=$(awk 'END { print $3 }' "$BATS_TEST_TMPDIR/b4/loss.log")
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'
}

@test "train: a missing corpus is an error" {
	run -1 --separate-stderr "$TRAIN" -c "$BATS_TEST_TMPDIR/none.txt" -d "$BATS_TEST_TMPDIR/x"
	[ "$stderr" = "train: $BATS_TEST_TMPDIR/none.txt: No such file or directory" ]
}

@test "train: resuming without a checkpoint is an error" {
	run -1 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/x" -r
	[ "$stderr" = "train: $BATS_TEST_TMPDIR/x/ckpt.t: no checkpoint to resume" ]
}

@test "train: --help prints usage on stdout; a bad option is a usage error" {
	run -0 "$TRAIN" --help
	[[ "${lines[0]}" == "usage: train"* ]]
	run -2 "$TRAIN" -Z
}

# A stage of the loop that dies half a second into the run: a wrapper named
# $1, first on PATH, that kills the real program.
dying_stage() {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	# (stdin through fd 3: sh gives a background job /dev/null for stdin)
	printf '#!/bin/sh\nexec 3<&0\n"%s" "$@" <&3 3<&- &\nsleep 0.5\nkill $!\nwait $!\n' \
		"$(command -v "$1")" \
		> "$BATS_TEST_TMPDIR/fake/$1"
	chmod +x "$BATS_TEST_TMPDIR/fake/$1"
}

@test "train: a stage that dies mid-run stops the loop with an error, not a hang" {
	local stage
	for stage in rnn-fwd rnn-bwd adagrad; do
		rm -rf "$BATS_TEST_TMPDIR/fake"
		dying_stage $stage
		PATH="$BATS_TEST_TMPDIR/fake:$PATH" run -1 --separate-stderr \
			timeout 60 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/d" -H 8 -n 0 -S 0 -k 1000000
		[[ "$stderr" == *"train: stopped: "*"$stage 143"* ]]
	done
}

@test "train: progress lines give iteration, loss, smoothed loss, validation, speed and time left" {
	run -0 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/p" -H 8 -n 40 -p 20 -e 20 -S 0
	grep -qE '^iter 20  loss [0-9.]+  smooth [0-9.]+  val [0-9.]+ bpc  [0-9]+ char/s  eta [0-9]+:[0-9]{2}:[0-9]{2}$' <<< "$stderr"
	grep -qE '^iter 40  loss ' <<< "$stderr"
}

