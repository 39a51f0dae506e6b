#!/usr/bin/env bats
# pipelines/train -O (rmsprop, adam) and -G: the optimiser's state in the
# checkpoint, exact resumption (also after kill -9), settings kept.

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

@test "train -O adam: the checkpoint keeps Adam's state and names it; the loss falls" {
	run -0 "$TRAIN" -c "$C" -d "$D/a" -H 16 -n 300 -k 100 -S 0 -e 100 -O adam
	[ "$(tensordump "$D/a/ckpt.t" | awk '$1 == "frame" { printf "%s ", $2 }')" = "params adagrad optim state settings " ]
	settings "$D/a/ckpt.t" > "$D/set"
	grep -qx 'optim adam' "$D/set"
	grep -qx 'lr 0.002' "$D/set"
	first=$(awk 'NR == 1 { print $3 }' "$D/a/loss.log")
	last=$(awk 'END { print $3 }' "$D/a/loss.log")
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 5) }'
}

@test "train: Adagrad's checkpoint names no optimiser and has no frame optim" {
	run -0 "$TRAIN" -c "$C" -d "$D/g" -H 16 -n 20 -k 10 -S 0 -e 10
	[ "$(tensordump "$D/g/ckpt.t" | awk '$1 == "frame" { printf "%s ", $2 }')" = "params adagrad state settings " ]
	! settings "$D/g/ckpt.t" | grep -q '^optim '
}

@test "train -O adam -G: stopping and resuming gives a byte-identical checkpoint and log" {
	run -0 "$TRAIN" -c "$C" -d "$D/a" -H 16 -n 200 -k 70 -S 0 -e 50 -O adam -G 1
	run -0 "$TRAIN" -c "$C" -d "$D/b" -H 16 -n 100 -k 70 -S 0 -e 50 -O adam -G 1
	run -0 "$TRAIN" -c "$C" -d "$D/b" -H 16 -n 200 -k 70 -S 0 -e 50 -r
	cmp "$D/a/ckpt.t" "$D/b/ckpt.t"
	cmp "$D/a/loss.log" "$D/b/loss.log"
}

@test "train -O rmsprop: killed with kill -9 and resumed, ends byte-identical to an unbroken run" {
	d="$D/k"
	setsid "$TRAIN" -c "$C" -d "$d" -H 16 -n 0 -k 40 -S 0 -B 2 -O rmsprop > /dev/null 2>&1 &
	pid=$!
	while [ ! -f "$d/ckpt.t" ]; do sleep 0.05; done
	sleep 0.2
	kill -9 -- "-$pid"
	wait "$pid" || true
	k=$(scalar "$d/ckpt.t" iter)
	[ "$k" -ge 40 ]
	end=$((k + 100))
	run -0 "$TRAIN" -c "$C" -d "$d" -n "$end" -k 40 -S 0 -r
	run -0 "$TRAIN" -c "$C" -d "$D/u" -H 16 -n "$end" -k 40 -S 0 -B 2 -O rmsprop
	cmp "$d/ckpt.t" "$D/u/ckpt.t"
	cmp "$d/loss.log" "$D/u/loss.log"
}

@test "train: -O or -G given to -r that differs from the checkpoint is a usage error" {
	run -0 "$TRAIN" -c "$C" -d "$D/a" -H 16 -n 20 -k 10 -S 0 -e 10 -O adam -G 1
	run -2 --separate-stderr "$TRAIN" -d "$D/a" -n 40 -r -O rmsprop
	[ "$stderr" = "train: -O rmsprop: the checkpoint $D/a/ckpt.t was made with -O adam" ]
	run -2 --separate-stderr "$TRAIN" -d "$D/a" -n 40 -r -G 2
	[ "$stderr" = "train: -G 2: the checkpoint $D/a/ckpt.t was made with -G 1" ]
	run -0 "$TRAIN" -c "$C" -d "$D/g" -H 16 -n 20 -k 10 -S 0 -e 10
	run -2 --separate-stderr "$TRAIN" -d "$D/g" -n 40 -r -G 2
	[ "$stderr" = "train: -G 2: the checkpoint $D/g/ckpt.t was made without -G" ]
	run -2 --separate-stderr "$TRAIN" -d "$D/g" -n 40 -r -O adam
	[ "$stderr" = "train: -O adam: the checkpoint $D/g/ckpt.t was made with -O adagrad" ]
}

@test "train: a bad -O or -G is a usage error before anything is touched" {
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$D/x" -O sgd
	[ "$stderr" = "train: -O: 'sgd' is not adagrad, rmsprop or adam" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$D/x" -O adam -G -1
	[ "$stderr" = "train: -G: -1 is out of range [0, 1e+30]" ]
	[ ! -e "$D/x" ]
}

@test "feed -O: an unknown optimiser; a checkpoint of Adam without its state" {
	run -2 --separate-stderr feed -K -O sgd
	[ "$stderr" = "feed: -O: 'sgd' is not adagrad, rmsprop or adam" ]
	run -0 "$TRAIN" -c "$C" -d "$D/a" -H 16 -n 20 -k 10 -S 0 -e 10 -O adam
	tensordump -a "$D/a/ckpt.t" | awk '$1 == "frame" { skip = $2 == "optim" } !skip' |
		tensordump -r > "$D/cut.t"
	run -1 --separate-stderr feed -r "$D/cut.t" -n 40 -w "$D/ws.t" "$D/a/corpus.t" < /dev/null
	[ "$stderr" = "feed: $D/cut.t: no \"optim\" frame: not a checkpoint of adam" ]
}

@test "train -R: the progress line shows the scheduled rate; stopped and resumed, byte-identical" {
	run -0 --separate-stderr "$TRAIN" -c "$C" -d "$D/a" -H 16 -n 200 -k 70 -S 0 -e 50 -p 50 -R step:50:50:0.5
	grep -qE '^iter 100  epoch [0-9.]+  loss [0-9.]+  smooth [0-9.]+  train [0-9.]+ bpc  val [0-9.]+ bpc  lr 0.05  [0-9]+ char/s' <<< "$stderr"
	grep -qE '^iter 200  .*  lr 0.0125  ' <<< "$stderr"
	settings "$D/a/ckpt.t" | grep -qx 'sched step:50:50:0.5'
	run -0 "$TRAIN" -c "$C" -d "$D/b" -H 16 -n 100 -k 70 -S 0 -e 50 -R step:50:50:0.5
	run -0 "$TRAIN" -c "$C" -d "$D/b" -H 16 -n 200 -k 70 -S 0 -e 50 -r
	cmp "$D/a/ckpt.t" "$D/b/ckpt.t"
	cmp "$D/a/loss.log" "$D/b/loss.log"
	run -2 --separate-stderr "$TRAIN" -d "$D/b" -n 300 -r -R cosine:0:300
	[ "$stderr" = "train: -R cosine:0:300: the checkpoint $D/b/ckpt.t was made with -R step:50:50:0.5" ]
}

@test "train -R with counts in epochs: turned into iterations, recorded so, checked on resume" {
	run -0 "$TRAIN" -c "$C" -d "$D/e" -H 8 -n 20 -k 10 -S 0 -e 10 -t 0.1 -R step:1e:0.5e:0.5 -O adam
	# 6000 bytes are N characters: W = (ntrain - 27) / 25 + 1 windows an
	# epoch, ntrain = N - floor(N/10) - floor(N/10).
	N=$(tensordump "$D/e/corpus.t" | awk '$1 == "tensor" && $2 == "x" { gsub(/[][]/, "", $4); print $4 }')
	W=$(( (N - N / 10 - N / 10 - 27) / 25 + 1 ))
	settings "$D/e/ckpt.t" > "$D/set"
	grep -qx "sched step:$W:$(( (W + 1) / 2 )):0.5" "$D/set"
	grep -qx 'testfrac 0.1' "$D/set"
	[[ "$output" == *"test "*" bpc by the model of iteration 20; "*" bpc by the best checkpoint ("*" characters)"* ]]
	run -0 "$TRAIN" -d "$D/e" -n 30 -k 10 -S 0 -e 10 -r -R step:1e:0.5e:0.5
	run -2 --separate-stderr "$TRAIN" -d "$D/e" -n 40 -r -R step:1e:1e:0.5
	[ "$stderr" = "train: -R step:1e:1e:0.5: the checkpoint $D/e/ckpt.t was made with -R step:$W:$(( (W + 1) / 2 )):0.5" ]
	run -2 --separate-stderr "$TRAIN" -d "$D/e" -n 40 -r -t 0.2
	[ "$stderr" = "train: -t 0.2: the checkpoint $D/e/ckpt.t was made with -t 0.1" ]
}
