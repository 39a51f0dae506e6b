#!/usr/bin/env bats
# encode: text to an index stream (and back with decode).

bats_require_minimum_version 1.5.0
load test_helper

# Number of frames in stream $1. Index data never holds four non-zero bytes
# in a row (V < 2^16 here), so the frame magic cannot occur in it.
frames() {
	LC_ALL=C grep -a -o chnF "$1" | wc -l
}

# Lines of mixed 1- to 4-byte text, 13 characters each: $1 lines to stdout.
lines() {
	yes 'Grüße, 世界! 😀' | head -n "$1"
}

setup() {
	T=$BATS_TEST_TMPDIR
	V=$FIXTURES/txt-utf8.vocab.t
}

@test "encode --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr encode --help
	[ "${lines[0]}" = "usage: encode [-u skip|-u CHAR] VOCAB [FILE...]" ]
	[ -z "$stderr" ]
}

@test "encode: no vocabulary, or an unknown option, is a usage error" {
	run -2 --separate-stderr encode
	[ -z "$output" ]
	[ "$stderr" = "usage: encode [-u skip|-u CHAR] VOCAB [FILE...]" ]
	run -2 --separate-stderr encode -x "$V"
	[ "${stderr_lines[-1]}" = "usage: encode [-u skip|-u CHAR] VOCAB [FILE...]" ]
}

@test "encode: the indices Python computes, from a file and from stdin" {
	encode "$V" "$FIXTURES/txt-utf8.txt" | cmp - "$FIXTURES/txt-utf8.x.t"
	encode "$V" < "$FIXTURES/txt-utf8.txt" | cmp - "$FIXTURES/txt-utf8.x.t"
	encode "$V" - < "$FIXTURES/txt-utf8.txt" | cmp - "$FIXTURES/txt-utf8.x.t"
}

@test "encode | decode: 2-, 3- and 4-byte characters come back byte for byte" {
	encode "$V" < "$FIXTURES/txt-utf8.txt" | decode "$V" > "$T/out.txt"
	cmp "$T/out.txt" "$FIXTURES/txt-utf8.txt"
}

@test "encode | decode: several files make one frame, their concatenation" {
	lines 1000 > "$T/a.txt"
	cat "$FIXTURES/txt-utf8.txt" "$T/a.txt" "$FIXTURES/txt-utf8.txt" > "$T/all.txt"
	vocab "$T/all.txt" > "$T/v.t"
	encode "$T/v.t" "$FIXTURES/txt-utf8.txt" "$T/a.txt" "$FIXTURES/txt-utf8.txt" > "$T/x.t"
	[ "$(frames "$T/x.t")" -eq 1 ]
	decode "$T/v.t" "$T/x.t" | cmp - "$T/all.txt"
	encode "$T/v.t" "$T/all.txt" | cmp - "$T/x.t"
}

@test "encode | decode: a pipe longer than 2^20 characters, in several frames" {
	lines 250000 > "$T/big.txt"	# 3,250,000 characters
	vocab "$T/big.txt" > "$T/v.t"
	cat "$T/big.txt" | encode "$T/v.t" > "$T/pipe.t"
	[ "$(frames "$T/pipe.t")" -eq 4 ]
	decode "$T/v.t" < "$T/pipe.t" | cmp - "$T/big.txt"
	# The same text from the file: one frame, the same characters.
	encode "$T/v.t" "$T/big.txt" > "$T/file.t"
	[ "$(frames "$T/file.t")" -eq 1 ]
	decode "$T/v.t" "$T/file.t" | cmp - "$T/big.txt"
}

@test "encode: frames of exactly 2^20 indices from a pipe" {
	head -c 1048576 /dev/zero | tr '\0' a > "$T/a.txt"
	printf a | vocab > "$T/v.t"
	cat "$T/a.txt" | encode "$T/v.t" > "$T/x.t"
	[ "$(frames "$T/x.t")" -eq 1 ]
	printf a >> "$T/a.txt"
	cat "$T/a.txt" | encode "$T/v.t" > "$T/x.t"
	[ "$(frames "$T/x.t")" -eq 2 ]
	decode "$T/v.t" "$T/x.t" | cmp - "$T/a.txt"
}

@test "encode: an empty text is one empty frame" {
	encode "$V" < /dev/null > "$T/x.t"
	[ "$(frames "$T/x.t")" -eq 1 ]
	[ "$(wc -c < "$T/x.t")" -eq 104 ]	# frame 24, vocab_id 40, empty x 40
	: > "$T/empty.txt"
	encode "$V" "$T/empty.txt" | cmp - "$T/x.t"
	run -0 decode "$V" "$T/x.t"
	[ -z "$output" ]
}

@test "encode | decode -b: all 256 byte values, from a file and a pipe" {
	vocab -b "$FIXTURES/txt-bytes.bin" > "$T/v.t"
	encode "$T/v.t" "$FIXTURES/txt-bytes.bin" | decode "$T/v.t" | cmp - "$FIXTURES/txt-bytes.bin"
	cat "$FIXTURES/txt-bytes.bin" | encode "$T/v.t" | decode "$T/v.t" | cmp - "$FIXTURES/txt-bytes.bin"
}

@test "encode: the vocabulary of a model" {
	printf 'hello' | encode "$FIXTURES/txt-hello.model.t" > "$T/x.t"
	run -0 decode "$FIXTURES/txt-hello.vocab.t" "$T/x.t"
	[ "$output" = "hello" ]
}

@test "encode: a character not in the vocabulary" {
	printf 'abc' | vocab > "$T/v.t"
	printf 'abcé' > "$T/in.txt"
	run -1 --separate-stderr encode "$T/v.t" "$T/in.txt"
	[ "$stderr" = "encode: $T/in.txt: character U+00E9 'é' at byte offset 3 is not in the vocabulary" ]
	printf 'ab\nc' > "$T/in.txt"
	run -1 --separate-stderr encode "$T/v.t" < "$T/in.txt"
	[ "$stderr" = "encode: <stdin>: character U+000A at byte offset 2 is not in the vocabulary" ]
	printf 'ab😀' > "$T/in.txt"
	run -1 --separate-stderr encode "$T/v.t" - < "$T/in.txt"
	[ "$stderr" = "encode: <stdin>: character U+1F600 '😀' at byte offset 2 is not in the vocabulary" ]
}

@test "encode: the offset of an unknown character far into the second file" {
	printf 'a' | vocab > "$T/v.t"
	head -c 300000 /dev/zero | tr '\0' a > "$T/in.txt"
	printf 'aé' >> "$T/in.txt"
	run -1 --separate-stderr encode "$T/v.t" "$T/in.txt" "$T/in.txt"
	[ "$stderr" = "encode: $T/in.txt: character U+00E9 'é' at byte offset 300001 is not in the vocabulary" ]
	run -1 --separate-stderr sh -c 'cat "$2" | encode "$1"' sh "$T/v.t" "$T/in.txt"
	[ "$stderr" = "encode: <stdin>: character U+00E9 'é' at byte offset 300001 is not in the vocabulary" ]
}

@test "encode: a byte not in a byte vocabulary" {
	printf 'ab' | vocab -b > "$T/v.t"
	printf 'ab\377' > "$T/in.txt"
	run -1 --separate-stderr encode "$T/v.t" "$T/in.txt"
	[ "$stderr" = "encode: $T/in.txt: byte 0xFF at byte offset 2 is not in the vocabulary" ]
}

@test "encode: invalid UTF-8, from a file and from a pipe" {
	printf 'ab\200c' > "$T/in.txt"
	run -1 --separate-stderr encode "$V" "$T/in.txt"
	[ "$stderr" = "encode: $T/in.txt: invalid UTF-8 at byte offset 2" ]
	printf 'abc\355\240\200' > "$T/in.txt"
	run -1 --separate-stderr encode "$V" < "$T/in.txt"
	[ "$stderr" = "encode: <stdin>: invalid UTF-8 at byte offset 3" ]
	printf 'a\300\200' > "$T/in.txt"
	run -1 --separate-stderr encode "$V" < "$T/in.txt"
	[ "$stderr" = "encode: <stdin>: invalid UTF-8 at byte offset 1" ]
	printf 'abc\360\237\230' > "$T/in.txt"
	run -1 --separate-stderr encode "$V" < "$T/in.txt"
	[ "$stderr" = "encode: <stdin>: invalid UTF-8 at byte offset 3" ]
}

# refused VOCAB MESSAGE: encode does not take the vocabulary VOCAB, exit 1,
# and says "encode: VOCAB: MESSAGE".
refused() {
	run -1 --separate-stderr encode "$1" < /dev/null
	[ -z "$output" ]
	[ "$stderr" = "encode: $1: $2" ]
}

@test "encode: a vocabulary that is not a tensor stream" {
	refused "$FIXTURES/txt-utf8.txt" "offset 0: bad magic: not a charnn tensor stream"
	head -c 50 "$V" > "$T/cut.t"
	refused "$T/cut.t" "offset 40: truncated stream (tensor header)"
}

@test "encode: a stream without a vocabulary" {
	refused "$FIXTURES/txt-bad-novocab.t" "no tensor 'vocab' in the stream"
	: > "$T/empty.t"
	refused "$T/empty.t" "no tensor 'vocab' in the stream"
}

@test "encode: vocabularies that are not sorted or not valid" {
	f=$FIXTURES/txt-bad
	refused "$f-unsorted.t" "tensor 'vocab' is not strictly increasing at entry 2 (U+0062 after U+0063)"
	refused "$f-dup.t" "tensor 'vocab' is not strictly increasing at entry 1 (U+0061 after U+0061)"
	refused "$f-bytes.t" "tensor 'vocab' is not strictly increasing at entry 1 (0x61 after 0x62)"
	refused "$f-surrogate.t" "tensor 'vocab': entry 1 (U+D800) is not a Unicode scalar value"
	refused "$f-negative.t" "tensor 'vocab': entry 0 (-5) is not a Unicode scalar value"
	refused "$f-empty.t" "tensor 'vocab' is empty"
	refused "$f-f32.t" "tensor 'vocab' is f32, expected i32 or u8"
	refused "$f-rank2.t" "tensor 'vocab' has rank 2, expected 1"
}

@test "encode: a missing vocabulary or input file" {
	run -1 --separate-stderr encode "$T/nosuch.t"
	[ "$stderr" = "encode: $T/nosuch.t: No such file or directory" ]
	run -1 --separate-stderr encode "$V" "$FIXTURES/txt-utf8.txt" "$T/nosuch.txt"
	[ -z "$output" ]
	[ "$stderr" = "encode: $T/nosuch.txt: No such file or directory" ]
	run -1 --separate-stderr encode "$V" - "$T/nosuch.txt" < "$FIXTURES/txt-utf8.txt"
	[ -z "$output" ]
	[ "$stderr" = "encode: $T/nosuch.txt: No such file or directory" ]
}

@test "encode: a closed stdout is an error, for files and for pipes" {
	run -1 --separate-stderr sh -c 'encode "$1" "$2" >&-' sh "$V" "$FIXTURES/txt-utf8.txt"
	[ "$stderr" = "encode: <stdout>: write error: Bad file descriptor" ]
	run -1 --separate-stderr sh -c 'encode "$1" < "$2" >&-' sh "$V" "$FIXTURES/txt-utf8.txt"
	[ "$stderr" = "encode: <stdout>: write error: Bad file descriptor" ]
}

@test "encode: every frame carries the vocabulary's fingerprint, first" {
	lines 100000 > "$T/big.txt"	# 1,300,000 characters: two frames from a pipe
	vocab "$T/big.txt" > "$T/v.t"
	cat "$T/big.txt" | encode "$T/v.t" | tensordump > "$T/list"
	grep -c '^frame text 2 ' "$T/list" | grep -qx 2
	[ "$(grep -c '^tensor ' "$T/list")" -eq 4 ]
	[ "$(grep -A1 '^frame' "$T/list" | grep -c '^tensor vocab_id i64 \[\]')" -eq 2 ]
	encode "$T/v.t" "$T/big.txt" | tensordump -a | grep -A1 '^tensor vocab_id' > "$T/id"
	cat "$T/big.txt" | encode "$T/v.t" | tensordump -a | grep -m1 -A1 '^tensor vocab_id' |
		cmp - "$T/id"
}

@test "encode -u skip: characters not in the vocabulary are left out" {
	printf 'abc' | vocab > "$T/v.t"
	printf 'a\nbé😀c\n' > "$T/in.txt"
	run -0 --separate-stderr sh -c 'encode -u skip "$1" "$2" | decode "$1"' sh "$T/v.t" "$T/in.txt"
	[ "$output" = "abc" ]
	[ -z "$stderr" ]
	run -0 sh -c 'encode -u skip "$1" < "$2" | decode "$1"' sh "$T/v.t" "$T/in.txt"
	[ "$output" = "abc" ]
	# Nothing left is an empty text.
	printf 'xyz' | encode -u skip "$T/v.t" | cmp - <(encode "$T/v.t" < /dev/null)
}

@test "encode -u skip: frames of 2^20 whatever is skipped, even from files" {
	head -c 1048576 /dev/zero | tr '\0' a > "$T/a.txt"
	printf 'bbba' >> "$T/a.txt"
	printf a | vocab > "$T/v.t"
	encode -u skip "$T/v.t" "$T/a.txt" > "$T/x.t"
	[ "$(frames "$T/x.t")" -eq 2 ]
	decode "$T/v.t" "$T/x.t" | cmp - <(tr -d b < "$T/a.txt")
}

@test "encode -u CHAR: characters not in the vocabulary become CHAR" {
	printf 'abc ' | vocab > "$T/v.t"
	printf 'a\nbé😀c\n' > "$T/in.txt"
	run -0 sh -c 'encode -u " " "$1" "$2" | decode "$1"' sh "$T/v.t" "$T/in.txt"
	[ "$output" = "a b  c " ]
	run -0 sh -c 'encode -u c "$1" < "$2" | decode "$1"' sh "$T/v.t" "$T/in.txt"
	[ "$output" = "acbcccc" ]
	printf 'aé' | vocab > "$T/v2.t"
	run -0 sh -c 'printf "abé" | encode -u é "$1" | decode "$1"' sh "$T/v2.t"
	[ "$output" = "aéé" ]
	# In byte mode CHAR is one byte.
	printf 'ab' | vocab -b > "$T/b.t"
	run -0 sh -c 'printf "a\377b" | encode -u a "$1" | decode "$1"' sh "$T/b.t"
	[ "$output" = "aab" ]
}

@test "encode -u: a CHAR not in the vocabulary, or not one character" {
	printf 'abc' | vocab > "$T/v.t"
	run -1 --separate-stderr encode -u é "$T/v.t" < /dev/null
	[ -z "$output" ]
	[ "$stderr" = "encode: -u: character U+00E9 'é' at byte offset 0 is not in the vocabulary" ]
	run -2 --separate-stderr encode -u ab "$T/v.t" < /dev/null
	[ -z "$output" ]
	[ "$stderr" = "encode: -u: 'ab' is neither 'skip' nor one character" ]
	run -2 --separate-stderr encode -u '' "$T/v.t" < /dev/null
	[ "$stderr" = "encode: -u: '' is neither 'skip' nor one character" ]
	run -2 --separate-stderr encode -u "$(printf '\200')" "$T/v.t" < /dev/null
	[ "$stderr" = "encode: -u: '$(printf '\200')' is neither 'skip' nor one character" ]
	printf 'ab' | vocab -b > "$T/b.t"
	run -2 --separate-stderr encode -u é "$T/b.t" < /dev/null
	[ "$stderr" = "encode: -u: 'é' is neither 'skip' nor one character" ]
	run -1 --separate-stderr encode -u c "$T/b.t" < /dev/null
	[ "$stderr" = "encode: -u: byte 0x63 at byte offset 0 is not in the vocabulary" ]
	run -2 --separate-stderr encode -u
	[ "${stderr_lines[-1]}" = "usage: encode [-u skip|-u CHAR] VOCAB [FILE...]" ]
}

@test "encode -u: invalid UTF-8 in the text is still an error" {
	printf 'abc' | vocab > "$T/v.t"
	printf 'ab\200c' > "$T/in.txt"
	run -1 --separate-stderr encode -u skip "$T/v.t" "$T/in.txt"
	[ "$stderr" = "encode: $T/in.txt: invalid UTF-8 at byte offset 2" ]
	run -1 --separate-stderr encode -u a "$T/v.t" "$T/in.txt"
	[ "$stderr" = "encode: $T/in.txt: invalid UTF-8 at byte offset 2" ]
}
