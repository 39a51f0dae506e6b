#!/usr/bin/env bats
# score: the loss of a model on an index stream, against values computed
# here independently (awk) for models whose prediction is known.

bats_require_minimum_version 1.5.0
load test_helper
load gen_helper

setup() {
	gen_setup "10 97 98 99 100"
}

# index_stream FILE INDEX...: one frame "text" with those indices as x.
index_stream() {
	local f=$1
	shift
	printf 'frame text\ntensor x i32 [%d]\n%s\n' $# "$*" | mkstream "$f"
}

@test "score --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr score --help
	[ "${lines[0]}" = "usage: score [-j N] MODEL [FILE]" ]
	[ -z "$stderr" ]
}

@test "score: no model or too many files is a usage error" {
	run -2 --separate-stderr score
	[ "$stderr" = "usage: score [-j N] MODEL [FILE]" ]
	run -2 --separate-stderr score "$D/m.t" a b
	[ "$stderr" = "usage: score [-j N] MODEL [FILE]" ]
	[ -z "$output" ]
}

@test "score: all-zero weights predict 1/V: bpc is log2(V)" {
	zero_model "$D/z.t" 4 "10 97 98 99 100" "0 0 0 0 0"
	index_stream "$D/x.t" 1 2 3 4 0 1 1 1 2 3 4
	run -0 --separate-stderr score "$D/z.t" "$D/x.t"
	[ "${output%% loss*}" = "chars 10" ]
	# Within float rounding of ln 5 and log2 5.
	awk -v got="$output" 'BEGIN { split(got, f, " ")
		exit !(f[3] == "loss" && f[5] == "bpc" && ((f[4] - log(5)) / log(5))^2 < 1e-12 &&
		       ((f[6] - log(5) / log(2)) / log(5))^2 < 1e-12) }'
	[ -z "$stderr" ]
}

@test "score: an output bias alone: the mean of -ln softmax(by)[next]" {
	zero_model "$D/z.t" 3 "10 97 98 99 100" "0.5 -1 2 0.25 1.5"
	index_stream "$D/x.t" 0 1 2 3 4 4 2 2 1 0 3
	run -0 score "$D/z.t" "$D/x.t"
	# Every character but the first is predicted with p = softmax(by).
	awk -v got="$output" 'BEGIN {
		split("0.5 -1 2 0.25 1.5", by, " ")
		split("1 2 3 4 4 2 2 1 0 3", y, " ")
		for (i = 1; i <= 5; i++) z += exp(by[i])
		for (i = 1; i <= 10; i++) s += log(z) - by[y[i] + 1]
		split(got, f, " ")
		ok = f[1] == "chars" && f[2] == 10 && f[3] == "loss" && f[5] == "bpc"
		ok = ok && (f[4] - s / 10)^2 < 1e-10 && (f[6] - s / 10 / log(2))^2 < 1e-10
		exit !ok
	}'
}

@test "score: stdin by default, and '-'" {
	zero_model "$D/z.t" 2 "10 97 98 99 100" "0 0 0 0 0"
	index_stream "$D/x.t" 1 2 3
	run -0 score "$D/z.t" < "$D/x.t"
	[ "${output%% loss*}" = "chars 2" ]
	run -0 score "$D/z.t" - < "$D/x.t"
	[ "${output%% loss*}" = "chars 2" ]
}

@test "score: the text may come in many frames and tensors: the same loss" {
	# A long text, so blocks and windows break at other places than frames.
	awk 'BEGIN { srand(5); for (i = 0; i < 9000; i++) printf "%d ", int(rand() * 5) }' > "$D/idx"
	index_stream "$D/one.t" $(cat "$D/idx")
	set -- $(cat "$D/idx")
	index_stream "$D/p1.t" "${@:1:4100}"
	index_stream "$D/p2.t" "${@:4101:1}"
	{ printf 'frame text\ntensor x i32 [0]\ntensor skip f32 [1] 1\ntensor x i32 [%d]\n' $(($# - 4101))
	  echo "${@:4102}"; } | mkstream "$D/p3.t"
	cat "$D/p1.t" "$D/p2.t" "$D/p3.t" > "$D/many.t"
	run -0 score "$D/m.t" "$D/one.t"
	one=$output
	run -0 score "$D/m.t" "$D/many.t"
	[ "${output%% loss*}" = "chars 8999" ]
	awk -v a="$one" -v b="$output" 'BEGIN { split(a, x, " "); split(b, y, " ");
		exit !((x[4] - y[4])^2 < 1e-10) }'
}

@test "score: the double build agrees with the float build" {
	[ -x "$DBIN/score" ] || skip "no double build"
	awk 'BEGIN { srand(2); for (i = 0; i < 500; i++) printf "%d ", int(rand() * 5) }' > "$D/idx"
	index_stream "$D/x.t" $(cat "$D/idx")
	"$DBIN/rnn-init" -H 8 -s 3 "$D/vocab.t" > "$D/m64.t"
	run -0 score "$D/m.t" "$D/x.t"
	a=$output
	run -0 "$DBIN/score" "$D/m64.t" "$D/x.t"
	awk -v a="$a" -v b="$output" 'BEGIN { split(a, x, " "); split(b, y, " ");
		exit !(x[2] == y[2] && (x[4] - y[4])^2 < 1e-10) }'
}

@test "score: an index outside the vocabulary is an error" {
	index_stream "$D/x.t" 0 1 5 2
	run -1 --separate-stderr score "$D/m.t" "$D/x.t"
	[ "$stderr" = "score: $D/x.t: index 5 out of range [0, 5) at position 2" ]
	[ -z "$output" ]
	index_stream "$D/x.t" 0 -1
	run -1 --separate-stderr score "$D/m.t" "$D/x.t"
	[ "$stderr" = "score: $D/x.t: index -1 out of range [0, 5) at position 1" ]
}

@test "score: fewer than two characters leave nothing to predict" {
	index_stream "$D/x.t" 3
	run -1 --separate-stderr score "$D/m.t" "$D/x.t"
	[ "$stderr" = "score: $D/x.t: only one character: nothing to predict" ]
	: | mkstream "$D/e.t"
	run -1 --separate-stderr score "$D/m.t" "$D/e.t"
	[ "$stderr" = "score: $D/e.t: no characters: nothing to predict" ]
}

@test "score: an x that is not i32 of rank 1" {
	printf 'frame text\ntensor x f32 [2]\n1 2\n' | mkstream "$D/x.t"
	run -1 --separate-stderr score "$D/m.t" "$D/x.t"
	[ "$stderr" = "score: $D/x.t: offset 24: tensor 'x' is f32 of rank 1, expected i32 of rank 1" ]
}

@test "score: missing files" {
	index_stream "$D/x.t" 1 2
	run -1 --separate-stderr score "$D/nope.t" "$D/x.t"
	[ "$stderr" = "score: $D/nope.t: No such file or directory" ]
	run -1 --separate-stderr score "$D/m.t" "$D/nope.t"
	[ "$stderr" = "score: $D/nope.t: No such file or directory" ]
	[ -z "$output" ]
}

@test "score: a model with a wrong-shaped tensor" {
	tensordump -a "$D/m.t" | sed 's/^tensor by \(f[0-9]*\) \[5\]/tensor by \1 [1 5]/' |
		mkstream "$D/bad.t"
	index_stream "$D/x.t" 1 2
	run -1 --separate-stderr score "$D/bad.t" "$D/x.t"
	[ "$stderr" = "score: $D/bad.t: tensor 'by' has shape (1,5), expected (5)" ]
}

@test "score: a closed stdout is an error" {
	index_stream "$D/x.t" 1 2
	run -1 --separate-stderr bash -c 'score "$1" "$2" >&-' _ "$D/m.t" "$D/x.t"
	[ "$stderr" = "score: <stdout>: write error: Bad file descriptor" ]
}

@test "score: loss and bpc have 17 significant digits, enough to read back the double" {
	index_stream "$D/x.t" 1 2 3 4 0 1 1 1 2 3 4
	run -0 score "$D/m.t" "$D/x.t"
	set -- $output
	[ "$#" -eq 6 ] && [ "$1 $3 $5" = "chars loss bpc" ]
	[ "$(printf '%.17g' "$4")" = "$4" ]
	[ "$(printf '%.17g' "$6")" = "$6" ]
	# More than 6 decimals: printf %.6f would give at most 8 characters here.
	[ "${#4}" -gt 12 ]
	# bpc is the printed loss over ln 2, to the last digit.
	awk -v l="$4" -v b="$6" 'BEGIN { exit !((b - l / log(2))^2 < 1e-30) }'
}

@test "score: a text encoded with another vocabulary of the model's size is refused" {
	printf 'frame vocab\ntensor vocab i32 [5]\n10 97 98 99 101\n' | mkstream "$D/other.t"
	printf 'abc\neab' | encode "$D/other.t" > "$D/x.t"
	run -1 --separate-stderr score "$D/m.t" "$D/x.t"
	[ -z "$output" ]
	[ "$stderr" = "score: $D/x.t: encoded with vocabulary 9cf090d1, $D/m.t's is 244cf7b4" ]
	run -1 --separate-stderr score - "$D/x.t" < "$D/m.t"
	[ "$stderr" = "score: $D/x.t: encoded with vocabulary 9cf090d1, <stdin>'s is 244cf7b4" ]
	# With the model's own vocabulary it is scored.
	printf 'abc\ndab' | encode "$D/m.t" > "$D/x.t"
	run -0 score "$D/m.t" "$D/x.t"
	[ "${output%% loss*}" = "chars 6" ]
}

@test "score: a model with a NaN or an infinite parameter is refused, naming the tensor" {
	index_stream "$D/x.t" 1 2 3
	bad_param "$D/bad.t" Why nan
	run -1 --separate-stderr score "$D/bad.t" "$D/x.t"
	[ -z "$output" ]
	[ "$stderr" = "score: $D/bad.t: tensor 'Why': element 0 is nan, not a finite number" ]
	bad_param "$D/bad.t" bh -inf
	run -1 --separate-stderr score "$D/bad.t" "$D/x.t"
	[ "$stderr" = "score: $D/bad.t: tensor 'bh': element 0 is -inf, not a finite number" ]
	bad_param "$D/bad.t" Wxh inf
	run -1 --separate-stderr score - "$D/x.t" < "$D/bad.t"
	[ "$stderr" = "score: <stdin>: tensor 'Wxh': element 0 is inf, not a finite number" ]
}

@test "encode -u | score: any text under a model" {
	printf 'a bad cab,\nfor a dad!\n' > "$D/other.txt"
	run -1 --separate-stderr encode "$D/m.t" "$D/other.txt"
	[ "$stderr" = "encode: $D/other.txt: character U+0020 ' ' at byte offset 1 is not in the vocabulary" ]
	run -0 bash -c 'encode -u skip "$1" "$2" | score "$1"' _ "$D/m.t" "$D/other.txt"
	[ "${output%% loss*}" = "chars 12" ]
	run -0 bash -c 'encode -u "$3" "$1" "$2" | score "$1"' _ "$D/m.t" "$D/other.txt" $'\n'
	[ "${output%% loss*}" = "chars 21" ]
}
