#!/usr/bin/env bats
# decode: an index stream back to text.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	T=$BATS_TEST_TMPDIR
	H=$FIXTURES/txt-hello.vocab.t
}

@test "decode --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr decode --help
	[ "${lines[0]}" = "usage: decode VOCAB [FILE]" ]
	[ -z "$stderr" ]
}

@test "decode: no vocabulary, two inputs or an unknown option is a usage error" {
	run -2 --separate-stderr decode
	[ -z "$output" ]
	[ "$stderr" = "usage: decode VOCAB [FILE]" ]
	run -2 --separate-stderr decode "$H" a.t b.t
	[ "$stderr" = "usage: decode VOCAB [FILE]" ]
	run -2 --separate-stderr decode -x "$H"
	[ "${stderr_lines[-1]}" = "usage: decode VOCAB [FILE]" ]
}

@test "decode: the indices Python computed give back the text" {
	decode "$FIXTURES/txt-utf8.vocab.t" "$FIXTURES/txt-utf8.x.t" | cmp - "$FIXTURES/txt-utf8.txt"
	decode "$FIXTURES/txt-utf8.vocab.t" < "$FIXTURES/txt-utf8.x.t" | cmp - "$FIXTURES/txt-utf8.txt"
	decode "$FIXTURES/txt-utf8.vocab.t" - < "$FIXTURES/txt-utf8.x.t" | cmp - "$FIXTURES/txt-utf8.txt"
}

@test "decode: every x in order, whatever frame holds it; the rest is skipped" {
	run -0 decode "$H" "$FIXTURES/txt-hello.mixed.t"
	[ "$output" = "hello" ]
	cat "$FIXTURES/txt-hello.mixed.t" "$FIXTURES/txt-hello.mixed.t" > "$T/twice.t"
	run -0 decode "$H" "$T/twice.t"
	[ "$output" = "hellohello" ]
}

@test "decode: the vocabulary of a model" {
	run -0 decode "$FIXTURES/txt-hello.model.t" "$FIXTURES/txt-hello.mixed.t"
	[ "$output" = "hello" ]
}

@test "decode: bytes for a u8 vocabulary" {
	vocab -b "$FIXTURES/txt-bytes.bin" > "$T/v.t"
	encode "$T/v.t" < "$FIXTURES/txt-bytes.bin" > "$T/x.t"
	decode "$T/v.t" "$T/x.t" | cmp - "$FIXTURES/txt-bytes.bin"
}

@test "decode: an index out of range, counted across frames" {
	run -1 --separate-stderr decode "$H" "$FIXTURES/txt-hello.x97.t"
	[ "$stderr" = "decode: $FIXTURES/txt-hello.x97.t: index 97 out of range [0, 4) at position 5" ]
	run -1 --separate-stderr decode "$H" < "$FIXTURES/txt-hello.xneg.t"
	[ "$stderr" = "decode: <stdin>: index -1 out of range [0, 4) at position 1" ]
	cat "$FIXTURES/txt-hello.mixed.t" "$FIXTURES/txt-hello.x97.t" > "$T/x.t"
	run -1 --separate-stderr decode "$H" "$T/x.t"
	[ "$stderr" = "decode: $T/x.t: index 97 out of range [0, 4) at position 10" ]
}

@test "decode: an x that is not i32 of rank 1" {
	run -1 --separate-stderr decode "$H" "$FIXTURES/txt-hello.xf32.t"
	[ "$stderr" = "decode: $FIXTURES/txt-hello.xf32.t: offset 24: tensor 'x' is f32 of rank 1, expected i32 of rank 1" ]
	run -1 --separate-stderr decode "$H" "$FIXTURES/txt-hello.xrank2.t"
	[ "$stderr" = "decode: $FIXTURES/txt-hello.xrank2.t: offset 24: tensor 'x' is i32 of rank 2, expected i32 of rank 1" ]
}

@test "decode: truncated index streams" {
	# 128 bytes: frame 24, vocab_id 40 (header 24, data 8, crc 8), x header 32,
	# data 24, crc 8
	printf hello | encode "$H" > "$T/x.t"
	head -c 10 "$T/x.t" > "$T/cut.t"
	run -1 --separate-stderr decode "$H" < "$T/cut.t"
	[ "$stderr" = "decode: <stdin>: offset 0: truncated stream (frame header)" ]
	head -c 30 "$T/x.t" > "$T/cut.t"
	run -1 --separate-stderr decode "$H" < "$T/cut.t"
	[ "$stderr" = "decode: <stdin>: offset 24: truncated stream (tensor header)" ]
	head -c 60 "$T/x.t" > "$T/cut.t"
	run -1 --separate-stderr decode "$H" "$T/cut.t"
	[ -z "$output" ]
	[ "$stderr" = "decode: $T/cut.t: offset 56: truncated stream (vocab_id)" ]
	head -c 100 "$T/x.t" > "$T/cut.t"
	run -1 --separate-stderr decode "$H" "$T/cut.t"
	[ -z "$output" ]
	[ "$stderr" = "decode: $T/cut.t: offset 96: truncated stream (x)" ]
	head -c 124 "$T/x.t" > "$T/cut.t"
	run -1 --separate-stderr decode "$H" "$T/cut.t"
	[ "$stderr" = "decode: $T/cut.t: offset 116: truncated stream (x)" ]
}

@test "decode: damaged data and input that is not a stream" {
	printf hello | encode "$H" > "$T/x.t"
	{ head -c 100 "$T/x.t"; printf '\001'; tail -c +102 "$T/x.t"; } > "$T/bad.t"
	run -1 --separate-stderr decode "$H" "$T/bad.t"
	[ "$stderr" = "decode: $T/bad.t: offset 116: data CRC mismatch in tensor 'x'" ]
	run -1 --separate-stderr decode "$H" "$FIXTURES/txt-utf8.txt"
	[ "$stderr" = "decode: $FIXTURES/txt-utf8.txt: offset 0: bad magic: not a charnn tensor stream" ]
}

@test "decode: an empty stream is an empty text" {
	run -0 decode "$H" < /dev/null
	[ -z "$output" ]
}

@test "decode: a bad vocabulary" {
	run -1 --separate-stderr decode "$FIXTURES/txt-bad-unsorted.t" < /dev/null
	[ "$stderr" = "decode: $FIXTURES/txt-bad-unsorted.t: tensor 'vocab' is not strictly increasing at entry 2 (U+0062 after U+0063)" ]
	run -1 --separate-stderr decode "$FIXTURES/txt-hello.mixed.t" < /dev/null
	[ "$stderr" = "decode: $FIXTURES/txt-hello.mixed.t: no tensor 'vocab' in the stream" ]
}

@test "decode: a missing file" {
	run -1 --separate-stderr decode "$T/nosuch.t"
	[ "$stderr" = "decode: $T/nosuch.t: No such file or directory" ]
	run -1 --separate-stderr decode "$H" "$T/nosuch.t"
	[ "$stderr" = "decode: $T/nosuch.t: No such file or directory" ]
}

@test "decode: a closed stdout is an error" {
	run -1 --separate-stderr sh -c 'decode "$1" "$2" >&-' sh "$H" "$FIXTURES/txt-hello.mixed.t"
	[ "$stderr" = "decode: <stdout>: write error: Bad file descriptor" ]
}

@test "decode: a reader that stops early ends it quietly (SIGPIPE)" {
	yes 'hello' | head -n 300000 | tr -d '\n' > "$T/big.txt"
	encode "$H" "$T/big.txt" > "$T/x.t"
	run -0 --separate-stderr bash -c 'decode "$1" "$2" | head -c 5' sh "$H" "$T/x.t"
	[ "$output" = "hello" ]
	[ -z "$stderr" ]
}

@test "decode: a text encoded with another vocabulary of its size is refused, naming both" {
	printf abcd | vocab > "$T/abcd.t"
	printf dcba | encode "$T/abcd.t" > "$T/x.t"
	run -1 --separate-stderr decode "$H" "$T/x.t"
	[ -z "$output" ]
	[ "$stderr" = "decode: $T/x.t: encoded with vocabulary a9cf9f00, $H's is 99e8ae4b" ]
	run -1 --separate-stderr decode "$FIXTURES/txt-hello.model.t" < "$T/x.t"
	[ "$stderr" = "decode: <stdin>: encoded with vocabulary a9cf9f00, $FIXTURES/txt-hello.model.t's is 99e8ae4b" ]
	# The same characters in byte mode are another vocabulary.
	printf ehlo | vocab -b > "$T/b.t"
	printf hello | encode "$T/b.t" > "$T/x.t"
	run -1 --separate-stderr decode "$H" "$T/x.t"
	[ "$stderr" = "decode: $T/x.t: encoded with vocabulary 8f9d61b3, $H's is 99e8ae4b" ]
}

@test "decode: the fingerprint is checked in every frame" {
	printf hello | encode "$H" > "$T/a.t"
	printf abcd | vocab > "$T/abcd.t"
	printf dcba | encode "$T/abcd.t" > "$T/b.t"
	cat "$T/a.t" "$T/b.t" > "$T/ab.t"
	run -1 --separate-stderr decode "$H" "$T/ab.t"
	[ "$stderr" = "decode: $T/ab.t: encoded with vocabulary a9cf9f00, $H's is 99e8ae4b" ]
}

@test "decode: frames without a fingerprint are taken as they are" {
	printf 'frame text\ntensor x i32 [5]\n1 0 2 2 3\n' | mkstream "$T/x.t"
	run -0 decode "$H" "$T/x.t"
	[ "$output" = "hello" ]
	printf 'frame text\ntensor x i32 [1]\n1\n' | mkstream "$T/old.t"
	printf hello | encode "$H" | cat "$T/old.t" - > "$T/mix.t"
	run -0 decode "$H" "$T/mix.t"
	[ "$output" = "hhello" ]
}

# bad_id TEXT MESSAGE: decode refuses the stream tensordump -r makes of
# TEXT, exit 1, saying "decode: FILE: MESSAGE".
bad_id() {
	printf "$1" | mkstream "$T/x.t"
	run -1 --separate-stderr decode "$H" "$T/x.t"
	[ "$stderr" = "decode: $T/x.t: $2" ]
}

@test "decode: a malformed fingerprint" {
	local x='tensor x i32 [1] 1\n' id='tensor vocab_id i64 [] 2582163019\n'
	bad_id "frame text\ntensor vocab_id i32 [] 5\n$x" \
		"offset 24: tensor 'vocab_id' is i32 of rank 0, expected i64 of rank 0"
	bad_id "frame text\ntensor vocab_id i64 [1] 5\n$x" \
		"offset 24: tensor 'vocab_id' is i64 of rank 1, expected i64 of rank 0"
	bad_id "frame text\ntensor vocab_id i64 [] 4294967296\n$x" \
		"offset 24: tensor 'vocab_id' is 4294967296, over 2^32-1"
	bad_id "frame text\n$x$id" \
		"offset 72: tensor 'vocab_id' must come once in its frame, before tensor 'x'"
	bad_id "frame text\n$id$id" \
		"offset 64: tensor 'vocab_id' must come once in its frame, before tensor 'x'"
}
