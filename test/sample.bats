#!/usr/bin/env bats
# sample: text from a model. Models are made by rnn-init or by hand in the
# text form of tensordump, in the dtype of the build under test.

bats_require_minimum_version 1.5.0
load test_helper
load gen_helper

setup() {
	gen_setup "10 32 97 98 233 10003"
}

# Characters (not bytes) of UTF-8 text on stdin: bytes that do not continue
# a sequence.
nchars() {
	LC_ALL=C tr -d '\200-\277' | wc -c | tr -d ' '
}

@test "sample --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr sample --help
	[ "${lines[0]}" = "usage: sample [-g] [-u] [-n N] [-t TEMP] [-s SEED] [-p PRIME] [-j N] MODEL" ]
	[ -z "$stderr" ]
}

@test "sample: no model, two models or a bad option is a usage error" {
	run -2 --separate-stderr sample
	[ "$stderr" = "usage: sample [-g] [-u] [-n N] [-t TEMP] [-s SEED] [-p PRIME] [-j N] MODEL" ]
	[ -z "$output" ]
	run -2 --separate-stderr sample "$D/m.t" "$D/m.t"
	[ "$stderr" = "usage: sample [-g] [-u] [-n N] [-t TEMP] [-s SEED] [-p PRIME] [-j N] MODEL" ]
	run -2 --separate-stderr sample -x "$D/m.t"
	[ "${stderr##*$'\n'}" = "usage: sample [-g] [-u] [-n N] [-t TEMP] [-s SEED] [-p PRIME] [-j N] MODEL" ]
}

@test "sample: temperature 0 or below, or not a number, is a usage error" {
	run -2 --separate-stderr sample -t 0 "$D/m.t"
	[ "$stderr" = "sample: -t: 0 is out of range [0.0001, 10000]" ]
	run -2 --separate-stderr sample -t -1 "$D/m.t"
	[ "$stderr" = "sample: -t: -1 is out of range [0.0001, 10000]" ]
	run -2 --separate-stderr sample -t warm "$D/m.t"
	[ "$stderr" = "sample: -t: not a number: 'warm'" ]
	[ -z "$output" ]
}

@test "sample: -n is a count of characters, not bytes" {
	sample -n 500 -s 7 "$D/m.t" > "$D/out"
	[ "$(nchars < "$D/out")" -eq 500 ]
	# The multi-byte characters did occur, so bytes and characters differ.
	[ "$(wc -c < "$D/out")" -gt 500 ]
	sample -n 0 "$D/m.t" > "$D/out"
	[ ! -s "$D/out" ]
}

@test "sample: 200 characters by default" {
	sample "$D/m.t" > "$D/out"
	[ "$(nchars < "$D/out")" -eq 200 ]
}

@test "sample: the same seed gives the same text, another seed another" {
	sample -n 300 -s 11 "$D/m.t" > "$D/a"
	sample -n 300 -s 11 "$D/m.t" > "$D/b"
	sample -n 300 -s 12 "$D/m.t" > "$D/c"
	cmp "$D/a" "$D/b"
	! cmp -s "$D/a" "$D/c"
}

@test "sample: -u flushes every character and changes nothing else" {
	sample -n 300 -s 4 "$D/m.t" > "$D/a"
	sample -u -n 300 -s 4 "$D/m.t" > "$D/b"
	cmp "$D/a" "$D/b"
}

@test "sample: a model on stdin" {
	sample -n 50 -s 2 "$D/m.t" > "$D/a"
	sample -n 50 -s 2 - < "$D/m.t" > "$D/b"
	cmp "$D/a" "$D/b"
}

@test "sample: -g takes the most probable character, whatever the seed" {
	zero_model "$D/z.t" 3 "97 98 99" "0 1 0.5"
	run -0 sample -g -n 6 -s 1 "$D/z.t"
	[ "$output" = "bbbbbb" ]
	run -0 sample -g -n 6 -s 99 "$D/z.t"
	[ "$output" = "bbbbbb" ]
	# On a random model too: from the same start, two seeds give one text.
	sample -g -p a -n 100 -s 1 "$D/m.t" > "$D/a"
	sample -g -p a -n 100 -s 2 "$D/m.t" > "$D/b"
	cmp "$D/a" "$D/b"
}

@test "sample: a very low temperature samples the most probable character" {
	zero_model "$D/z.t" 2 "97 98 99" "0 0.5 1"
	run -0 sample -t 0.0001 -n 8 "$D/z.t"
	[ "$output" = "cccccccc" ]
}

@test "sample: -p writes the prime first, then N characters continuing it" {
	zero_model "$D/z.t" 3 "97 98 99" "0 1 0.5"
	run -0 sample -g -p caab -n 3 "$D/z.t"
	[ "$output" = "caabbbb" ]
	sample -p "é✓ a" -n 40 "$D/m.t" > "$D/out"
	[ "$(head -c 7 "$D/out")" = "é✓ a" ]
	[ "$(nchars < "$D/out")" -eq 44 ]
}

@test "sample: a prime character the model does not know is an error" {
	run -1 --separate-stderr sample -p "ab€" "$D/m.t"
	[ "$stderr" = "sample: -p: character U+20AC '€' at byte offset 2 is not in the vocabulary" ]
	[ -z "$output" ]
	run -2 --separate-stderr sample -p $'a\xff' "$D/m.t"
	[ "$stderr" = "sample: -p: invalid UTF-8 at byte offset 1" ]
}

@test "sample: byte-mode vocabulary writes raw bytes" {
	printf 'frame params\ntensor vocab u8 [1]\n255\n' > "$D/b.txt"
	for t in "Wxh [1 1]" "Whh [1 1]" "Why [1 1]" "bh [1]" "by [1]"; do
		set -- $t
		echo "tensor $1 $REAL $2 $3 0" >> "$D/b.txt"
	done
	mkstream "$D/b.t" < "$D/b.txt"
	sample -n 5 "$D/b.t" > "$D/out"
	[ "$(od -An -tx1 "$D/out" | tr -d ' \n')" = "ffffffffff" ]
}

@test "sample | head: ends quietly on a closed pipe" {
	run --separate-stderr bash -c 'sample -n 10000000 "$1" | head -c 10 > /dev/null; echo "${PIPESTATUS[0]}"' _ "$D/m.t"
	[ "$output" = 141 ] || [ "$output" = 0 ]
	[ -z "$stderr" ]
}

@test "sample: a closed stdout is an error" {
	run -1 --separate-stderr bash -c 'sample -n 10 "$1" >&-' _ "$D/m.t"
	[ "$stderr" = "sample: <stdout>: write error: Bad file descriptor" ]
}

@test "sample: a missing model file" {
	run -1 --separate-stderr sample "$D/nope.t"
	[ "$stderr" = "sample: $D/nope.t: No such file or directory" ]
	[ -z "$output" ]
}

@test "sample: a stream without a model" {
	run -1 --separate-stderr sample "$D/vocab.t"
	[ "$stderr" = "sample: $D/vocab.t: no frame 'params': not a model" ]
	printf 'frame params\ntensor vocab i32 [1]\n97\n' | mkstream "$D/v.t"
	run -1 --separate-stderr sample "$D/v.t"
	[ "$stderr" = "sample: $D/v.t: frame 'params': no tensor 'Wxh'" ]
}

@test "sample: a model with a wrong-shaped tensor" {
	tensordump -a "$D/m.t" | sed 's/^tensor Whh \(f[0-9]*\) \[8 8\]/tensor Whh \1 [4 16]/' |
		mkstream "$D/bad.t"
	run -1 --separate-stderr sample "$D/bad.t"
	[ "$stderr" = "sample: $D/bad.t: tensor 'Whh' has shape (4,16), expected (8,8)" ]
	[ -z "$output" ]
}

@test "sample: a model whose vocabulary does not match its parameters" {
	tensordump -a "$D/m.t" | sed 's/^tensor vocab i32 \[6\]/tensor vocab i32 [5]/; s/^ *10  *32  *97  *98  *233  *10003$/10 32 97 98 233/' |
		mkstream "$D/bad.t"
	run -1 --separate-stderr sample "$D/bad.t"
	[ "$stderr" = "sample: $D/bad.t: vocabulary of 5 characters, but the parameters have V 6" ]
}

@test "sample: -a (the old name of -g) is a usage error" {
	run -2 --separate-stderr sample -a "$D/m.t"
	[ "${stderr_lines[-1]}" = "usage: sample [-g] [-u] [-n N] [-t TEMP] [-s SEED] [-p PRIME] [-j N] MODEL" ]
	[ -z "$output" ]
}

@test "sample: a model with a NaN or an infinite parameter is refused, naming the tensor" {
	bad_param "$D/bad.t" by nan
	run -1 --separate-stderr sample -n 5 "$D/bad.t"
	[ -z "$output" ]
	[ "$stderr" = "sample: $D/bad.t: tensor 'by': element 0 is nan, not a finite number" ]
	bad_param "$D/bad.t" Whh -inf
	run -1 --separate-stderr sample -g -n 5 - < "$D/bad.t"
	[ -z "$output" ]
	[ "$stderr" = "sample: <stdin>: tensor 'Whh': element 0 is -inf, not a finite number" ]
}
