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

# Stream $1 with the value of its first scalar tensor $2 set to $3, to file $4.
set_scalar() {
	tensordump -a "$1" | sed 's/^frame \([^ ]*\) .*/frame \1/' |
		awk -v n="$2" -v v="$3" 'skip { print "  " v; skip = 0; next }
			$1 == "tensor" && $2 == n && !done { skip = done = 1 } { print }' | tensordump -r > "$4"
}

@test "feed: -r checks every field of the checkpoint's state" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop a -n 50 -k 50 -S 0
	L=$(scalar a/ckpt.t ntrain)	# B 1: one slice of every training character
	for bad in "pos -1" "pos $L" "iter -1" "T 0" "B 70000"; do
		set -- $bad
		set_scalar a/ckpt.t "$1" "$2" bad.t
		run -1 --separate-stderr feed -r bad.t -o x.t -w ws.t c.t < /dev/null
		case $1 in
		pos) [ "$stderr" = "feed: bad.t: frame 'state': pos -1 out of range [0, 4611686018427387904]" ] ||
		     [ "$stderr" = "feed: bad.t: frame 'state': pos $L out of range [0, $L)" ] ;;
		iter) [ "$stderr" = "feed: bad.t: frame 'state': iter -1 out of range [0, 4611686018427387904]" ] ;;
		T) [ "$stderr" = "feed: bad.t: frame 'state': T 0 out of range [1, 65536]" ] ;;
		B) [ "$stderr" = "feed: bad.t: frame 'state': B 70000 out of range [1, 65536]" ] ;;
		esac
		[ ! -e ws.t ] && [ ! -e x.t ]
	done
	# The largest position in range is accepted (the window wraps round).
	set_scalar a/ckpt.t pos $((L - 1)) ok.t
	run -1 --separate-stderr feed -r ok.t -o x.t -w ws.t c.t < /dev/null
	[ "$stderr" = "feed: <stdin>: the loop closed before iteration 51 came back" ]
}

# Stream $1 with element 0 of tensor $2 set to $3 (text form), to file $4.
set_first() {
	tensordump -a "$1" | sed 's/^frame \([^ ]*\) .*/frame \1/' |
		awk -v n="$2" -v v="$3" 'skip { sub(/^ *[^ ]+/, "  " v); skip = 0 }
			$1 == "tensor" && $2 == n && !done { skip = done = 1 } { print }' |
		tensordump -r > "$4"
}

@test "feed: -r and -i check the values: finite parameters and states, memory not negative, val and best" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop a -n 20 -k 20 -S 0 -v 0.1 -e 10
	for bad in "h nan" "Whh inf" "mbh -0.5" "val -7" "best -2"; do
		set -- $bad
		if [ "$1" = val ] || [ "$1" = best ]; then
			set_scalar a/ckpt.t "$1" "$2" bad.t
		else
			set_first a/ckpt.t "$1" "$2" bad.t
		fi
		run -1 --separate-stderr feed -r bad.t -o x.t -w ws.t c.t < /dev/null
		case $1 in
		h) [ "$stderr" = "feed: bad.t: tensor 'h': element 0 is nan, not a finite number" ] ;;
		Whh) [ "$stderr" = "feed: bad.t: tensor 'Whh': element 0 is inf, not a finite number" ] ;;
		mbh) [ "$stderr" = "feed: bad.t: tensor 'mbh': element 0 is -0.5, but adagrad's state is never negative" ] ;;
		val) [[ "$stderr" == "feed: bad.t: frame 'state': val -7, best "*": each is -1 (none yet) or a bpc >= 0" ]] ;;
		best) [[ "$stderr" == "feed: bad.t: frame 'state': val "*", best -2: each is -1 (none yet) or a bpc >= 0" ]] ;;
		esac
		[ ! -e ws.t ] && [ ! -e x.t ]
	done
	# A model to start from is checked the same way.
	set_first m.t Wxh nan bad.t
	run -1 --separate-stderr feed -i bad.t -w ws.t c.t < /dev/null
	[ "$stderr" = "feed: bad.t: tensor 'Wxh': element 0 is nan, not a finite number" ]
	[ ! -e ws.t ]
}

@test "feed -t: a test part after the held-out one, scored once at the end; epochs in the progress line" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop a -n 60 -k 60 -S 0 -v 0.1 -t 0.2 -e 20 -p 20 -b a/best.t
	n=$(tensordump c.t | awk '$1 == "tensor" && $2 == "x" { gsub(/[][]/, "", $4); print $4; exit }')
	nval=$(awk -v n="$n" 'BEGIN { print int(n * 0.1) }')
	ntest=$(awk -v n="$n" 'BEGIN { print int(n * 0.2) }')
	[ "$(scalar a/ckpt.t ntrain)" -eq $((n - nval - ntest)) ]
	grep -qE "^test [0-9.]+ bpc by the model of iteration 60; [0-9.]+ bpc by the best checkpoint \($ntest characters\)$" a/err
	# One epoch is (L - T - 2) / T + 1 windows of T 25 (integer division).
	L=$((n - nval - ntest))
	w=$(( (L - 27) / 25 + 1 ))
	want=$(awk -v w="$w" 'BEGIN { printf "%.2f", 40 / w }')
	grep -q "^iter 40  epoch $want  loss " a/err
	feed -K -r a/ckpt.t | grep -qx 'testfrac 0.2'
	run -2 --separate-stderr feed -K -r a/ckpt.t -t 0.1
	[ "$stderr" = "feed: -t 0.1: the checkpoint a/ckpt.t was made with -t 0.2" ]
	run -1 --separate-stderr feed -i m.t -w ws.t -v 0.5 -t 0.5 c.t < /dev/null
	[ "$stderr" = "feed: -v 0.5 and -t 0.5: together over 0.99 of the corpus held out" ]
	# Without -t no test line, and no testfrac setting.
	loop b -n 20 -k 20 -S 0 -v 0.1 -e 20
	! grep -q '^test ' b/err
	! feed -K -r b/ckpt.t | grep -q testfrac
}

@test "feed: -r takes its settings from the checkpoint; one given that differs is a usage error" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop a -n 50 -k 50 -S 0 -T 10 -B 2 -v 0.1 -s 7 -x lr=0.05
	run -0 feed -K -r a/ckpt.t
	[ "$output" = "$(printf 'lr 0.05\nH 4\nT 10\nB 2\nseed 7\nvalfrac 0.1\nreal f32\niter 50')" ] ||
	[ "$output" = "$(printf 'lr 0.05\nH 4\nT 10\nB 2\nseed 7\nvalfrac 0.1\nreal f64\niter 50')" ]
	run -0 feed -K -r a/ckpt.t -T 10 -v 0.10 -n 51 -x lr=0.05
	run -2 --separate-stderr feed -K -r a/ckpt.t -T 25
	[ "$stderr" = "feed: -T 25: the checkpoint a/ckpt.t was made with -T 10" ]
	run -2 --separate-stderr feed -K -r a/ckpt.t -B 1
	[ "$stderr" = "feed: -B 1: the checkpoint a/ckpt.t was made with -B 2" ]
	run -2 --separate-stderr feed -K -r a/ckpt.t -v 0.2
	[ "$stderr" = "feed: -v 0.2: the checkpoint a/ckpt.t was made with -v 0.1" ]
	run -2 --separate-stderr feed -K -r a/ckpt.t -s 1
	[ "$stderr" = "feed: -s 1: the checkpoint a/ckpt.t was made with -s 7" ]
	run -2 --separate-stderr feed -K -r a/ckpt.t -x lr=0.1
	[ "$stderr" = "feed: -x lr=0.1: the checkpoint a/ckpt.t was made with lr=0.05" ]
	run -2 --separate-stderr feed -r a/ckpt.t -n 50 -w ws.t c.t
	[ "$stderr" = "feed: -n 50: the checkpoint a/ckpt.t is at iteration 50 already" ]
	[ ! -e ws.t ]
	run -2 --separate-stderr feed -K -x T=3
	[ "$stderr" = "feed: -x: T is feed's own setting" ]
	# Resumed without the options, the run goes on with the checkpoint's.
	loop b -n 100 -k 50 -S 0 -T 10 -B 2 -v 0.1 -s 7 -x lr=0.05
	mkfifo a/loop2
	feed -r a/ckpt.t -w a/ws.t -L a/loss.log -n 100 c.t < a/loop2 2> a/err |
		rnn-fwd -w a/ws.t | rnn-bwd -w a/ws.t | adagrad -w a/ws.t > a/loop2
	cmp a/ckpt.t b/ckpt.t
}

@test "feed: the loss log keeps every digit of loss and smoothed loss" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop a -n 5 -S 0
	# A float window loss summed in double has more than 6 decimals; the
	# smoothed loss starts at T ln V, printed to 17 significant digits.
	awk 'NR == 1 { exit !($2 ~ /^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9][0-9]+$/) }' a/loss.log
	V=$(tensordump c.t >/dev/null; tensordump -a m.t | awk '$2 == "Wxh" { gsub(/[][]/, ""); print $5; exit }')
	awk -v V="$V" 'NR == 1 { s = 25 * log(V) * 0.999 + $2 * 0.001
		exit !(sprintf("%.17g", s) == $3) }' a/loss.log
}

@test "feed: val.log has each measurement and the last; best.t is the best so far" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop a -n 300 -k 1000 -S 0 -e 70 -v 0.2 -V a/val.log -b a/best.t
	[ "$(cut -d ' ' -f 1 a/val.log | tr '\n' ' ')" = "70 140 210 280 300 " ]
	best=$(awk '$1 % 70 == 0 && (b == "" || $2 < b) { b = $2; i = $1 } END { print i }' a/val.log)
	[ "$(scalar a/best.t iter)" -eq "$best" ]
	run -0 sample -n 5 a/best.t
	# Resumed from a checkpoint, the log goes on as if the run never stopped
	# (the last line of the first run, not on the schedule, goes).
	loop b -n 150 -k 1000 -S 0 -e 70 -v 0.2 -V b/val.log -b b/best.t
	[ "$(cut -d ' ' -f 1 b/val.log | tr '\n' ' ')" = "70 140 150 " ]
	mkfifo b/loop2
	feed -r b/ckpt.t -w b/ws.t -n 300 -e 70 -V b/val.log -b b/best.t c.t < b/loop2 2> b/err |
		rnn-fwd -w b/ws.t | rnn-bwd -w b/ws.t | adagrad -w b/ws.t > b/loop2
	cmp a/val.log b/val.log
	cmp a/best.t b/best.t
}

@test "feed: resumed from a checkpoint on a sampling iteration, it samples as if never stopped" {
	cd "$BATS_TEST_TMPDIR"
	prepare "$C" c.t
	loop a -n 300 -k 100 -S 100 -N 40
	loop b -n 200 -k 100 -S 100 -N 40
	mkfifo b/loop2
	feed -r b/ckpt.t -w b/ws.t -L b/loss.log -n 300 -k 100 -S 100 -N 40 c.t < b/loop2 2> b/err2 |
		rnn-fwd -w b/ws.t | rnn-bwd -w b/ws.t | adagrad -w b/ws.t > b/loop2
	sed -n '/after iteration 300/,/^----$/p' a/err > a.s
	sed -n '/after iteration 300/,/^----$/p' b/err2 > b.s
	[ -s a.s ]
	cmp a.s b.s
	cmp a/ckpt.t b/ckpt.t
	cmp a/loss.log b/loss.log
}
