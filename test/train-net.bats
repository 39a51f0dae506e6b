#!/usr/bin/env bats
# pipelines/train -C -L -H -D: models of the family (lstm, gru, stacked
# layers) trained through the same loop: every layer's states in the
# checkpoint, exact resumption (also after kill -9, with dropout), the
# model's settings kept and checked, the checkpoint a model that sample
# and score read.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	head -c 6000 "$TOP/data/corpus.txt" > "$BATS_TEST_TMPDIR/c.txt"
	C="$BATS_TEST_TMPDIR/c.txt"
	TRAIN="$TOP/pipelines/train"
	D=$BATS_TEST_TMPDIR
}

# The settings of checkpoint $1, as feed -K prints them.
settings() {
	feed -K -r "$1" -n 1000000
}

# The frames and the state's tensors of stream $1, one line.
layout() {
	tensordump "$1" | awk '$1 == "frame" { f = $2; printf "%s: ", f }
		$1 == "tensor" && f == "state" && $2 ~ /^[hc]/ { printf "%s %s ", $2, substr($0, index($0, "[")) }
		END { print "" }'
}

@test "train -C lstm -L 2: every layer's h and c in the checkpoint, its settings; the loss falls" {
	run -0 "$TRAIN" -c "$C" -d "$D/a" -C lstm -L 2 -H 12 -B 4 -n 200 -k 100 -S 100 -e 100
	[ "$(layout "$D/a/ckpt.t")" = "params: adagrad: state: h.0 [4 12] c.0 [4 12] h.1 [4 12] c.1 [4 12] settings: " ]
	settings "$D/a/ckpt.t" > "$D/set"
	grep -qx 'cell lstm' "$D/set"
	grep -qx 'L 2' "$D/set"
	grep -qx 'H 12' "$D/set"
	! grep -q '^dropout ' "$D/set"
	[[ "$output" == *"---- sample after iteration 100 ----"* ]]
	first=$(awk 'NR == 1 { print $3 }' "$D/a/loss.log")
	last=$(awk 'END { print $3 }' "$D/a/loss.log")
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 5) }'
	[ "$(wc -l < "$D/a/val.log")" -eq 2 ]
	# The checkpoint is a model: sample and score take it.
	run -0 sample -n 50 -s 3 "$D/a/ckpt.t"
	[ "${#output}" -ge 10 ]
	encode "$D/a/ckpt.t" "$C" > "$D/c.t"
	run -0 score "$D/a/ckpt.t" "$D/c.t"
	[[ "$output" == "chars 5"*" loss "*" bpc "* ]]
}

@test "train -C gru -H 10,6: layers of their own sizes, H recorded as the list" {
	run -0 "$TRAIN" -c "$C" -d "$D/g" -C gru -H 10,6 -n 30 -k 10 -S 0 -e 10 -O adam
	[ "$(layout "$D/g/ckpt.t")" = "params: adagrad: optim: state: h.0 [1 10] h.1 [1 6] settings: " ]
	settings "$D/g/ckpt.t" > "$D/set"
	grep -qx 'H 10,6' "$D/set"
	grep -qx 'cell gru' "$D/set"
	grep -qx 'L 2' "$D/set"
}

@test "train -C gru -O adam: stopping and resuming gives a byte-identical checkpoint and logs" {
	run -0 "$TRAIN" -c "$C" -d "$D/a" -C gru -L 2 -H 8 -B 3 -n 120 -k 50 -S 40 -e 40 -O adam
	sed -n '/after iteration 120/,/^----$/p' <<< "$output" > "$D/a.s"
	run -0 "$TRAIN" -c "$C" -d "$D/b" -C gru -L 2 -H 8 -B 3 -n 80 -k 50 -S 40 -e 40 -O adam
	run -0 "$TRAIN" -c "$C" -d "$D/b" -n 120 -k 50 -S 40 -e 40 -r
	sed -n '/after iteration 120/,/^----$/p' <<< "$output" > "$D/b.s"
	[ -s "$D/a.s" ]
	cmp "$D/a.s" "$D/b.s"
	cmp "$D/a/ckpt.t" "$D/b/ckpt.t"
	cmp "$D/a/loss.log" "$D/b/loss.log"
	cmp "$D/a/val.log" "$D/b/val.log"
}

@test "train -C lstm -D: killed with kill -9 and resumed, ends byte-identical to an unbroken run" {
	d="$D/k"
	setsid "$TRAIN" -c "$C" -d "$d" -C lstm -L 2 -H 8 -D 0.3 -n 0 -k 30 -S 0 -B 2 \
		> /dev/null 2>&1 &
	pid=$!
	while [ ! -f "$d/ckpt.t" ]; do sleep 0.05; done
	sleep 0.3
	kill -9 -- "-$pid"
	wait "$pid" || true
	k=$(scalar "$d/ckpt.t" iter)
	[ "$k" -ge 30 ]
	end=$((k + 60))
	run -0 "$TRAIN" -c "$C" -d "$d" -n "$end" -k 30 -S 0 -r
	settings "$d/ckpt.t" | grep -qx 'dropout 0.3'
	run -0 "$TRAIN" -c "$C" -d "$D/u" -C lstm -L 2 -H 8 -D 0.3 -n "$end" -k 30 -S 0 -B 2
	cmp "$d/ckpt.t" "$D/u/ckpt.t"
	cmp "$d/loss.log" "$D/u/loss.log"
	# The masks change the run: without them it is another one.
	run -0 "$TRAIN" -c "$C" -d "$D/n" -C lstm -L 2 -H 8 -n "$end" -k 30 -S 0 -B 2
	! cmp -s "$D/n/loss.log" "$D/u/loss.log"
}

@test "train -r: -C, -L, -H, -D given again must agree with the checkpoint" {
	run -0 "$TRAIN" -c "$C" -d "$D/a" -C lstm -L 2 -H 8 -D 0.25 -n 10 -k 10 -S 0 -e 10
	run -2 --separate-stderr "$TRAIN" -d "$D/a" -n 20 -r -C gru
	[ "$stderr" = "train: -C gru: the checkpoint $D/a/ckpt.t was made with -C lstm" ]
	run -2 --separate-stderr "$TRAIN" -d "$D/a" -n 20 -r -L 3
	[ "$stderr" = "train: -L 3: the checkpoint $D/a/ckpt.t was made with -L 2" ]
	run -2 --separate-stderr "$TRAIN" -d "$D/a" -n 20 -r -H 8,9
	[ "$stderr" = "train: -H 8,9: the checkpoint $D/a/ckpt.t was made with -H 8" ]
	run -2 --separate-stderr "$TRAIN" -d "$D/a" -n 20 -r -D 0.5
	[ "$stderr" = "train: -D 0.5: the checkpoint $D/a/ckpt.t was made with -D 0.25" ]
	# Given again as they were, they are accepted (-H 8,8 is -H 8).
	run -0 "$TRAIN" -d "$D/a" -n 20 -k 10 -S 0 -e 10 -r -C lstm -L 2 -H 8,8 -D 0.25
	[ "$(scalar "$D/a/ckpt.t" iter)" = 20 ]
	# A default model's checkpoint: rnn, one layer, no dropout.
	run -0 "$TRAIN" -c "$C" -d "$D/v" -H 8 -n 10 -k 10 -S 0 -e 10
	run -2 --separate-stderr "$TRAIN" -d "$D/v" -n 20 -r -C lstm
	[ "$stderr" = "train: -C lstm: the checkpoint $D/v/ckpt.t was made with -C rnn" ]
	run -2 --separate-stderr "$TRAIN" -d "$D/v" -n 20 -r -D 0.1
	[ "$stderr" = "train: -D 0.1: the checkpoint $D/v/ckpt.t was made with -D 0" ]
}

@test "train: -C, -L, -H and -D are checked before anything is touched" {
	d="$D/x"
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -C tree
	[ "$stderr" = "train: -C: unknown cell 'tree' (rnn, lstm or gru)" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -C lstm -L 17
	[[ "$stderr" == "train: -L: "* ]]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -C lstm -L 3 -H 8,8
	[ "$stderr" = "train: -H: 2 sizes for 3 layers" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -C lstm -D 1
	[ "$stderr" = "train: -D: 1 is out of range [0, 0.99]" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -D 0.5
	[ "$stderr" = "train: -D 0.5: dropout needs a model of the family (-C lstm or gru, or -L 2 or more)" ]
	[ ! -e "$d" ]
}

@test "train -C lstm: 1, 2 and 16 threads per stage give the same bytes" {
	for j in 1 2 16; do
		run -0 "$TRAIN" -c "$C" -d "$D/j$j" -C lstm -L 2 -H 40 -D 0.2 -B 6 -T 8 -n 6 -k 3 -S 3 -e 3 -j "$j"
	done
	for j in 2 16; do
		cmp "$D/j1/ckpt.t" "$D/j$j/ckpt.t"
		cmp "$D/j1/loss.log" "$D/j$j/loss.log"
	done
}

@test "feed -D: a default model has no dropout; the workspace makes room for the masks" {
	vocab "$C" > "$D/v.t"
	encode "$D/v.t" "$C" > "$D/c.t"
	rnn-init -H 4 "$D/v.t" > "$D/m.t"
	run -2 --separate-stderr feed -D 0.5 -i "$D/m.t" -w "$D/ws.t" -n 1 "$D/c.t" < /dev/null
	[ "$stderr" = "feed: -D: dropout needs a model of the family (rnn-init -C or -L), and $D/m.t is the default model" ]
	[ ! -e "$D/ws.t" ]
	rnn-init -C lstm -L 2 -H 4 "$D/v.t" > "$D/l.t"
	# Its input closed, feed stops after sending the first window.
	run -1 --separate-stderr sh -c "feed -D 0.5 -T 3 -B 2 -i '$D/l.t' -w '$D/ws.t' -n 1 -S 0 '$D/c.t' > /dev/null < /dev/null"
	[ "$stderr" = "feed: <stdin>: the loop closed before iteration 1 came back" ]
	V=$(tensordump "$D/v.t" | awk '$1 == "tensor" && $2 == "vocab" { gsub(/[][]/, "", $4); print $4 }')
	[ "$(tensordump "$D/ws.t" | awk '$1 == "frame" { f = $2 } f == "forward" && $1 == "tensor" { match($0, /\[[0-9 ]*\]/); printf "%s%s ", $2, substr($0, RSTART, RLENGTH) }')" = \
		"hs.0[3 2 4] cs.0[3 2 4] gs.0[3 2 16] drop.0[3 2 4] hs.1[3 2 4] cs.1[3 2 4] gs.1[3 2 16] drop.1[3 2 4] ps[3 2 $V] " ]
}

@test "train -I: fine-tuning from a family model takes its cell, layers and sizes" {
	run -0 "$TRAIN" -c "$C" -d "$D/a" -C gru -H 8,6 -n 20 -k 10 -S 0 -e 10
	head -c 3000 "$C" > "$D/new.txt"
	run -0 "$TRAIN" -c "$D/new.txt" -d "$D/f" -I "$D/a/ckpt.t" -n 10 -k 10 -S 0 -e 10 -D 0.1
	settings "$D/f/ckpt.t" > "$D/set"
	grep -qx 'cell gru' "$D/set"
	grep -qx 'H 8,6' "$D/set"
	grep -qx 'dropout 0.1' "$D/set"
	run -2 --separate-stderr "$TRAIN" -c "$D/new.txt" -d "$D/x" -I "$D/a/ckpt.t" -C lstm
	[ "$stderr" = "train: -C lstm: the model $D/a/ckpt.t has -C gru" ]
	run -2 --separate-stderr "$TRAIN" -c "$D/new.txt" -d "$D/x" -I "$D/a/ckpt.t" -H 8
	[ "$stderr" = "train: -H 8: the model $D/a/ckpt.t has -H 8,6" ]
	run -2 --separate-stderr "$TRAIN" -c "$D/new.txt" -d "$D/x" -I "$D/a/ckpt.t" -L 3
	[ "$stderr" = "train: -L 3: the model $D/a/ckpt.t has -L 2" ]
	[ ! -e "$D/x" ]
}

@test "train -i: the initial weights' scheme, recorded and checked on resume" {
	run -0 "$TRAIN" -c "$C" -d "$D/u" -C lstm -H 8 -i uniform:0.08 -n 10 -k 10 -S 0 -e 10
	settings "$D/u/ckpt.t" | grep -qx 'init uniform:0.08'
	rnn-init -C lstm -H 8 -i uniform:0.08 -s 1 "$D/u/vocab.t" | cmp - "$D/u/init.t"
	run -2 --separate-stderr "$TRAIN" -d "$D/u" -n 20 -r -i xavier
	[ "$stderr" = "train: -i xavier: the checkpoint $D/u/ckpt.t was made with -i uniform:0.08" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$D/x" -i bad
	[ "$stderr" = "train: -i: 'bad' is not normal:S, uniform:A, xavier or pytorch" ]
	[ ! -e "$D/x" ]
}
