#!/usr/bin/env bats
# feed: the data stage of the training loop, run by hand: its usage, the
# workspace it makes, the loop's protocol, windows sent ahead.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	head -c 6000 "$TOP/data/corpus.txt" > "$BATS_TEST_TMPDIR/c.txt"
	C="$BATS_TEST_TMPDIR/c.txt"
}

# Vocabulary v.t, encoded corpus $2 and a model m.t of H 4 in the test's
# directory, from text file $1.
prepare() {
	vocab "$1" > "$BATS_TEST_TMPDIR/v.t"
	encode "$BATS_TEST_TMPDIR/v.t" "$1" > "$2"
	rnn-init -H 4 "$BATS_TEST_TMPDIR/v.t" > "$BATS_TEST_TMPDIR/m.t"
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
	loop one -q 1 -n 300 -k 100 -S 100 -e 70 -v 0.2 -B 2 -p 50
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

@test "feed: --help counts only as the first argument; a failed write of it is an error" {
	# As an option's argument it is just a file name.
	run -2 --separate-stderr feed -o --help
	[[ "$stderr" == "usage: feed"* ]]
	run -1 --separate-stderr bash -c 'feed --help > /dev/full'
	[ "$stderr" = "feed: <stdout>: write error: No space left on device" ]
}

@test "feed: -q bounds the windows queued ahead" {
	run -2 --separate-stderr feed -q 0 -i m.t -w ws.t c.t
	[ "$stderr" = "feed: -q: 0 is out of range [1, 4096]" ]
}
