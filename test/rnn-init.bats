#!/usr/bin/env bats
# rnn-init: a fresh model for a vocabulary, the same bytes for a seed on
# every machine.

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper

setup() {
	D=$BATS_TEST_TMPDIR
	mdl_vocab "$D/vocab.t"
}

# The SHA-256 of rnn-init -H 4 -s 1 on the 6-entry vocabulary, stored for
# dtype $1 (f32: normal build, f64: double build).
stored_sha() {
	awk -v d="$1" '$1 == d { print $2 }' "$FIXTURES/mdl-init.sha256"
}

@test "rnn-init --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr rnn-init --help
	[ "${lines[0]}" = "usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-s seed] [VOCAB]" ]
	[ -z "$stderr" ]
}

@test "rnn-init: the bytes for a fixed vocabulary and seed are the stored ones" {
	rnn-init -H 4 -s 1 "$D/vocab.t" > "$D/m.t"
	[ "$(sha256sum < "$D/m.t" | cut -d' ' -f1)" = "$(stored_sha f32)" ]
}

@test "rnn-init: the double build's bytes are the stored ones too" {
	[ -x "$DBIN/rnn-init" ] || skip "no double build"
	"$DBIN/rnn-init" -H 4 -s 1 "$D/vocab.t" > "$D/m.t"
	[ "$(sha256sum < "$D/m.t" | cut -d' ' -f1)" = "$(stored_sha f64)" ]
}

@test "rnn-init: two runs agree; stdin and a file agree; another seed differs" {
	rnn-init -s 5 "$D/vocab.t" > "$D/a.t"
	rnn-init -s 5 < "$D/vocab.t" > "$D/b.t"
	rnn-init -s 5 - < "$D/vocab.t" > "$D/c.t"
	rnn-init -s 6 "$D/vocab.t" > "$D/d.t"
	cmp "$D/a.t" "$D/b.t"
	cmp "$D/a.t" "$D/c.t"
	! cmp -s "$D/a.t" "$D/d.t"
}

@test "rnn-init: frame params: vocab, then the five parameters; H 100 by default" {
	rnn-init "$D/vocab.t" > "$D/m.t"
	run -0 tensordump -a "$D/m.t"
	[ "${lines[0]}" = "frame params 6" ]
	run -0 bash -c "tensordump -a '$D/m.t' | grep '^tensor'"
	[ "${lines[0]}" = "tensor vocab i32 [6]" ]
	[ "${lines[1]}" = "tensor Wxh f32 [100 6]" ]
	[ "${lines[2]}" = "tensor Whh f32 [100 100]" ]
	[ "${lines[3]}" = "tensor Why f32 [6 100]" ]
	[ "${lines[4]}" = "tensor bh f32 [100]" ]
	[ "${lines[5]}" = "tensor by f32 [6]" ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "rnn-init: the vocabulary is copied, biases are zero, weights about N(0, 0.01^2)" {
	rnn-init -H 50 -s 9 "$D/vocab.t" > "$D/m.t"
	cmp <(tensordump -a "$D/vocab.t" | mdl_pick vocab) <(tensordump -a "$D/m.t" | mdl_pick vocab)
	tensordump -a "$D/m.t" | mdl_pick bh by | awk '!/^tensor/ { for (i = 1; i <= NF; i++) if ($i != 0) exit 1 }'
	# 50*6 + 50*50 + 6*50 = 3100 draws: standard deviation within 10% of
	# 0.01, mean within 4 standard errors of 0, nothing beyond 6 sigma.
	tensordump -a "$D/m.t" | mdl_pick Wxh Whh Why | awk '
		!/^tensor/ { for (i = 1; i <= NF; i++) { n++; s += $i; q += $i * $i
			if ($i > 0.06 || $i < -0.06) far++ } }
		END { sd = sqrt(q / n); m = s / n
			exit !(n == 3100 && sd > 0.009 && sd < 0.011 &&
				m < 4 * 0.01 / sqrt(n) && m > -4 * 0.01 / sqrt(n) && !far) }'
}

@test "rnn-init: a byte-mode vocabulary (u8) is kept as it is" {
	printf 'frame vocab\ntensor vocab u8 [3]\n0 10 255\n' | tensordump -r > "$D/bv.t"
	rnn-init -H 2 "$D/bv.t" > "$D/m.t"
	run -0 bash -c "tensordump -a '$D/m.t' | grep '^tensor'"
	[ "${lines[0]}" = "tensor vocab u8 [3]" ]
	[ "${lines[1]}" = "tensor Wxh f32 [2 3]" ]
}

@test "rnn-init: a model is a vocabulary too: the same model again" {
	rnn-init -H 3 -s 4 "$D/vocab.t" > "$D/a.t"
	rnn-init -H 3 -s 4 "$D/a.t" | cmp - "$D/a.t"
}

@test "rnn-init -H out of range or not a number is a usage error" {
	run -2 --separate-stderr rnn-init -H 0 "$D/vocab.t"
	[ "$stderr" = "rnn-init: -H: 0 is out of range [1, 16384]" ]
	[ -z "$output" ]
	run -2 --separate-stderr rnn-init -H 12x "$D/vocab.t"
	[ "$stderr" = "rnn-init: -H: not an integer: '12x'" ]
	run -2 --separate-stderr rnn-init -s -1 "$D/vocab.t"
	[ "$stderr" = "rnn-init: -s: -1 is out of range [0, 9223372036854775807]" ]
}

@test "rnn-init: an unknown option or two operands is a usage error" {
	run -2 --separate-stderr rnn-init -x "$D/vocab.t"
	[ "${stderr_lines[-1]}" = "usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-s seed] [VOCAB]" ]
	run -2 --separate-stderr rnn-init "$D/vocab.t" "$D/vocab.t"
	[ "$stderr" = "usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-s seed] [VOCAB]" ]
	[ -z "$output" ]
}

@test "rnn-init: a missing file" {
	run -1 --separate-stderr rnn-init "$D/nope.t"
	[ "$stderr" = "rnn-init: $D/nope.t: No such file or directory" ]
	[ -z "$output" ]
}

@test "rnn-init: a stream without a vocabulary, an empty one, a truncated one" {
	printf 'frame x\ntensor a i32 [1]\n1\n' | tensordump -r > "$D/novocab.t"
	run -1 --separate-stderr rnn-init "$D/novocab.t"
	[ "$stderr" = "rnn-init: $D/novocab.t: no tensor 'vocab' in the stream" ]
	[ -z "$output" ]
	run -1 --separate-stderr rnn-init < /dev/null
	[ "$stderr" = "rnn-init: <stdin>: no tensor 'vocab' in the stream" ]
	head -c 40 "$D/vocab.t" > "$D/short.t"
	run -1 --separate-stderr rnn-init "$D/short.t"
	[[ "$stderr" == "rnn-init: $D/short.t: offset "*": truncated stream"* ]]
	[ -z "$output" ]
}

@test "rnn-init: a closed stdout is an error" {
	run -1 --separate-stderr bash -c "rnn-init '$D/vocab.t' >&-"
	[ "$stderr" = "rnn-init: <stdout>: write error: Bad file descriptor" ]
}

@test "rnn-init -C rnn -L 1 is the default model, byte for byte (no arch record)" {
	rnn-init -H 4 -s 1 "$D/vocab.t" > "$D/a.t"
	rnn-init -C rnn -L 1 -H 4 -s 1 "$D/vocab.t" | cmp - "$D/a.t"
}

@test "rnn-init -C lstm -L 2 -H 3,2: arch, per-layer tensors, forget-gate bias 1" {
	rnn-init -C lstm -L 2 -H 3,2 -s 2 "$D/vocab.t" > "$D/m.t"
	run -0 bash -c "tensordump -a '$D/m.t' | grep '^\(frame\|tensor\)'"
	[ "${lines[0]}" = "frame params 10" ]
	[ "${lines[2]}" = "tensor arch i32 [3]" ]
	[ "${lines[3]}" = "tensor Wx.0 f32 [12 6]" ]
	[ "${lines[4]}" = "tensor Wh.0 f32 [12 3]" ]
	[ "${lines[5]}" = "tensor b.0 f32 [12]" ]
	[ "${lines[6]}" = "tensor Wx.1 f32 [8 3]" ]
	[ "${lines[7]}" = "tensor Wh.1 f32 [8 2]" ]
	[ "${lines[8]}" = "tensor b.1 f32 [8]" ]
	[ "${lines[9]}" = "tensor Why f32 [6 2]" ]
	[ "${lines[10]}" = "tensor by f32 [6]" ]
	[ "$(tensordump -a "$D/m.t" | mdl_pick arch | sed -n 2p | tr -s ' ' | sed 's/^ //')" = "1 3 2" ]
	# b: gates i f o g, H each: only the forget block is 1.
	[ "$(tensordump -a "$D/m.t" | mdl_pick b.0 b.1 | grep -v '^tensor' | xargs)" = "0 0 0 1 1 1 0 0 0 0 0 0 0 0 1 1 0 0 0 0" ]
}

@test "rnn-init: one -H size for all layers; -L from the sizes; gru has 3 gate blocks" {
	rnn-init -C gru -L 3 -H 4 "$D/vocab.t" > "$D/a.t"
	rnn-init -C gru -H 4,4,4 "$D/vocab.t" | cmp - "$D/a.t"
	run -0 bash -c "tensordump '$D/a.t' | grep '^tensor [Wb]'"
	[ "${lines[0]}" = "tensor Wx.0 f32 [12 6]" ]
	[ "${lines[6]}" = "tensor Wx.2 f32 [12 4]" ]
	[ "${lines[8]}" = "tensor b.2 f32 [12]" ]
	rnn-init -C rnn -L 2 -H 4 "$D/vocab.t" | tensordump | grep -q '^tensor Wh.1 f32 \[4 4\]'
}

@test "rnn-init: a bad cell, layer count or list of sizes is a usage error" {
	run -2 --separate-stderr rnn-init -C lstn "$D/vocab.t"
	[ "$stderr" = "rnn-init: -C: unknown cell 'lstn' (rnn, lstm or gru)" ]
	[ -z "$output" ]
	run -2 --separate-stderr rnn-init -L 17 "$D/vocab.t"
	[ "$stderr" = "rnn-init: -L: 17 is out of range [1, 16]" ]
	run -2 --separate-stderr rnn-init -L 3 -H 4,5 "$D/vocab.t"
	[ "$stderr" = "rnn-init: -H: 2 sizes for 3 layers" ]
	run -2 --separate-stderr rnn-init -H 4,,5 "$D/vocab.t"
	[ "$stderr" = "rnn-init: -H: not an integer: ''" ]
	run -2 --separate-stderr rnn-init -H 4,0 "$D/vocab.t"
	[ "$stderr" = "rnn-init: -H: 0 is out of range [1, 16384]" ]
}
