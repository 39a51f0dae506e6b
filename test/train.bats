#!/usr/bin/env bats
# pipelines/train and feed: the training loop as a pipeline, checkpoints,
# exact resumption (also after kill -9), the loss log, NaN handling.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	head -c 6000 "$TOP/data/corpus.txt" > "$BATS_TEST_TMPDIR/c.txt"
	C="$BATS_TEST_TMPDIR/c.txt"
	TRAIN="$TOP/pipelines/train"
}

# Vocabulary v.t, encoded corpus $2 and a model m.t of H 4 in the test's
# directory, from text file $1.
prepare() {
	vocab "$1" > "$BATS_TEST_TMPDIR/v.t"
	encode "$BATS_TEST_TMPDIR/v.t" "$1" > "$2"
	rnn-init -H 4 "$BATS_TEST_TMPDIR/v.t" > "$BATS_TEST_TMPDIR/m.t"
}

# The scalar i64 tensor $2 of the stream in file $1.
scalar() {
	tensordump -a "$1" | awk -v n="$2" '$1 == "tensor" && $2 == n { getline; print $1; exit }'
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
	# Training itself stays finite (Adagrad moves a parameter by at most lr
	# a step; it went NaN only through the float tanh bug fixed since), so
	# the checkpoint is doctored: by at 3.4e38 and Why's rows at 1e38 and
	# -1e38 by turns send half the logits past the float range, to inf,
	# and the softmax of inf is NaN.
	run -0 "$TRAIN" -c "$C" -d "$d" -H 16 -n 2 -k 1 -S 0
	tensordump -a "$d/ckpt.t" | awk '
		$1 == "frame" || $1 == "tensor" { t = $1 == "tensor" ? $2 : ""; k = 0; print; next }
		t == "by" { for (i = 1; i <= NF; i++) $i = "3.4e38" }
		t == "Why" { for (i = 1; i <= NF; i++) { $i = int(k / 16) % 2 ? "-1e38" : "1e38"; k++ } }
		{ print }' | tensordump -r > "$d/bad.t"
	mv "$d/bad.t" "$d/ckpt.t"
	run -1 --separate-stderr "$TRAIN" -c "$C" -d "$d" -r -n 100 -k 1 -S 0
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

@test "feed: bad usage exits 2" {
	run -2 --separate-stderr feed
	[[ "$stderr" == "usage: feed"* ]]
	run -2 --separate-stderr feed -T 0 -i m.t -w ws.t c.t
	[ "$stderr" = "feed: -T: 0 is out of range [1, 65536]" ]
	run -2 --separate-stderr feed -i m.t -r c.t -w ws.t c.t
	[[ "$stderr" == "usage: feed"* ]]
}

@test "feed: a corpus too short for the window is an error" {
	printf 'abcabc' > "$BATS_TEST_TMPDIR/s.txt"
	prepare "$BATS_TEST_TMPDIR/s.txt" "$BATS_TEST_TMPDIR/s.t"
	run -1 --separate-stderr feed -i "$BATS_TEST_TMPDIR/m.t" -w "$BATS_TEST_TMPDIR/ws.t" \
		"$BATS_TEST_TMPDIR/s.t" < /dev/null
	[ "$stderr" = "feed: $BATS_TEST_TMPDIR/s.t: 6 training characters are too few for 1 sequences of windows of 25" ]
}

@test "feed: a loop that closes early is an error, not a hang" {
	prepare "$C" "$BATS_TEST_TMPDIR/c.t"
	run -1 --separate-stderr feed -i "$BATS_TEST_TMPDIR/m.t" -w "$BATS_TEST_TMPDIR/ws.t" \
		"$BATS_TEST_TMPDIR/c.t" < /dev/null
	[ "$stderr" = "feed: <stdin>: the loop closed before iteration 1 came back" ]
}

@test "feed: the workspace's data starts on 64-byte boundaries; its step is the iteration" {
	command -v python3 >/dev/null || skip "python3 is missing"
	prepare "$C" "$BATS_TEST_TMPDIR/c.t"
	# No loop: feed makes the workspace, then stops at the first step.
	cd "$BATS_TEST_TMPDIR"
	run -1 --separate-stderr bash -c 'feed -i m.t -w ws.t c.t < /dev/null > /dev/null'
	[ "$(scalar ws.t step)" -eq 0 ]
	# Every tensor's data offset, from the headers (formats/tensor.md).
	run -0 python3 - ws.t <<-'EOF'
	import struct, sys
	b = open(sys.argv[1], "rb").read()
	pad8 = lambda n: (n + 7) & ~7
	size = {1: 1, 2: 4, 3: 8, 4: 4, 5: 8}
	o = 0
	while o < len(b):
	    count = struct.unpack_from("<I", b, o + 8)[0]
	    o += 16 + pad8(b[o + 5])
	    for _ in range(count):
	        code, rank, nlen = b[o + 5], b[o + 6], b[o + 7]
	        flags = struct.unpack_from("<I", b, o + 8)[0]
	        dims = struct.unpack_from("<%dQ" % rank, b, o + 16)
	        name = b[o + 16 + 8 * rank:o + 16 + 8 * rank + nlen].decode()
	        data = o + 16 + 8 * rank + pad8(nlen) + 8 * (flags >> 8 & 255)
	        n = size[code]
	        for d in dims:
	            n *= d
	        print(name, data % 64)
	        o = data + pad8(n) + 8
	EOF
	[ "${#lines[@]}" -eq 19 ]	# params 6, adagrad 6, grads 5, forward 2
	[ "$(printf '%s\n' "${lines[@]}" | awk '$2 != 0' | wc -l)" -eq 0 ]
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

# The loop of formats/model.md by hand, feed given options $2..., in dir $1.
loop() {
	local d=$1
	shift
	mkdir -p "$d"
	mkfifo "$d/loop"
	feed -i m.t -w "$d/ws.t" -o "$d/ckpt.t" -L "$d/loss.log" "$@" c.t < "$d/loop" 2> "$d/err" |
		rnn-fwd -w "$d/ws.t" | rnn-bwd -w "$d/ws.t" | adagrad -w "$d/ws.t" > "$d/loop"
}

@test "feed: windows sent ahead train exactly as one window at a time" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop one -a 1 -n 300 -k 100 -S 100 -e 70 -v 0.2 -B 2 -p 50
	loop ahead -n 300 -k 100 -S 100 -e 70 -v 0.2 -B 2 -p 50
	[ "$(scalar one/ckpt.t iter)" -eq 300 ]
	[ "$(wc -l < ahead/loss.log)" -eq 300 ]
	cmp one/ckpt.t ahead/ckpt.t
	cmp one/loss.log ahead/loss.log
	cmp <(grep -v ' char/s' one/err) <(grep -v ' char/s' ahead/err)
	grep -q 'val ' ahead/err
}

@test "feed: a feedback frame from another step is an error" {
	prepare "$C" "$BATS_TEST_TMPDIR/c.t"
	tensordump -r > "$BATS_TEST_TMPDIR/back.t" <<-'EOF'
	frame step
	tensor loss f32 [1] 1
	tensor hT f32 [1 4] 0 0 0 0
	tensor step i64 [] 7
	EOF
	run -1 --separate-stderr feed -i "$BATS_TEST_TMPDIR/m.t" -w "$BATS_TEST_TMPDIR/ws.t" \
		"$BATS_TEST_TMPDIR/c.t" < "$BATS_TEST_TMPDIR/back.t"
	[ "$stderr" = "feed: <stdin>: step 7 came back when 0 was expected" ]
}

@test "feed: --help prints usage on stdout and exits 0" {
	run -0 --separate-stderr feed --help
	[[ "${lines[0]}" == "usage: feed "* ]]
	[ -z "$stderr" ]
}

@test "train: progress lines give iteration, loss, smoothed loss, validation, speed and time left" {
	run -0 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/p" -H 8 -n 40 -p 20 -e 20 -S 0
	grep -qE '^iter 20  loss [0-9.]+  smooth [0-9.]+  val [0-9.]+ bpc  [0-9]+ char/s  eta [0-9]+:[0-9]{2}:[0-9]{2}$' <<< "$stderr"
	grep -qE '^iter 40  loss ' <<< "$stderr"
}
