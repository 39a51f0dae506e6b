#!/usr/bin/env bats
# vocab: the characters of a text as a sorted vocabulary stream.

bats_require_minimum_version 1.5.0
load test_helper

# The bytes printf makes of $1 (escapes allowed), as file in.txt.
input() {
	printf "$1" > "$BATS_TEST_TMPDIR/in.txt"
}

# invalid BYTES OFFSET: vocab refuses the bytes printf makes of BYTES, on
# stdin, as invalid UTF-8 at byte OFFSET, exit 1.
invalid() {
	input "$1"
	run -1 --separate-stderr vocab < "$BATS_TEST_TMPDIR/in.txt"
	[ -z "$output" ]
	[ "$stderr" = "vocab: <stdin>: invalid UTF-8 at byte offset $2" ]
}

@test "vocab --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr vocab --help
	[ "${lines[0]}" = "usage: vocab [-b] [FILE...]" ]
	[ -z "$stderr" ]
}

@test "vocab: an unknown option is a usage error" {
	run -2 --separate-stderr vocab -x
	[ -z "$output" ]
	[ "${stderr_lines[-1]}" = "usage: vocab [-b] [FILE...]" ]
}

@test "vocab: 1- to 4-byte characters, sorted by code point, as Python builds it" {
	vocab "$FIXTURES/txt-utf8.txt" | cmp - "$FIXTURES/txt-utf8.vocab.t"
}

@test "vocab: stdin, '-' and a file give the same bytes" {
	vocab < "$FIXTURES/txt-utf8.txt" | cmp - "$FIXTURES/txt-utf8.vocab.t"
	vocab - < "$FIXTURES/txt-utf8.txt" | cmp - "$FIXTURES/txt-utf8.vocab.t"
}

@test "vocab: deterministic, whatever the order of the text" {
	sort -r "$FIXTURES/txt-utf8.txt" > "$BATS_TEST_TMPDIR/sorted.txt"
	vocab "$BATS_TEST_TMPDIR/sorted.txt" | cmp - "$FIXTURES/txt-utf8.vocab.t"
	vocab "$BATS_TEST_TMPDIR/sorted.txt" "$FIXTURES/txt-utf8.txt" | cmp - "$FIXTURES/txt-utf8.vocab.t"
}

@test "vocab: the union of several files" {
	printf 'ba' > "$BATS_TEST_TMPDIR/a.txt"
	printf 'c\n' > "$BATS_TEST_TMPDIR/b.txt"
	printf 'abc\n' > "$BATS_TEST_TMPDIR/all.txt"
	vocab "$BATS_TEST_TMPDIR/all.txt" > "$BATS_TEST_TMPDIR/want.t"
	vocab "$BATS_TEST_TMPDIR/a.txt" "$BATS_TEST_TMPDIR/b.txt" | cmp - "$BATS_TEST_TMPDIR/want.t"
	vocab "$BATS_TEST_TMPDIR/b.txt" - < "$BATS_TEST_TMPDIR/a.txt" | cmp - "$BATS_TEST_TMPDIR/want.t"
}

@test "vocab: tensordump shows the entries in increasing order" {
	printf 'hello, world\n' | vocab > "$BATS_TEST_TMPDIR/v.t"
	got=$(tensordump -a "$BATS_TEST_TMPDIR/v.t" | tr -s ' \n' '  ')
	[ "$got" = "frame vocab 1 tensor vocab i32 [10] 10 32 44 100 101 104 108 111 114 119 " ]
	printf 'héllo 😀' | vocab -b > "$BATS_TEST_TMPDIR/v.t"
	got=$(tensordump -a "$BATS_TEST_TMPDIR/v.t" | tr -s ' \n' '  ')
	[ "$got" = "frame vocab 1 tensor vocab u8 [10] 32 104 108 111 128 152 159 169 195 240 " ]
}

@test "vocab -b: every byte value, as u8, sorted" {
	vocab -b "$FIXTURES/txt-bytes.bin" | cmp - "$FIXTURES/txt-bytes.vocab.t"
	vocab -b < "$FIXTURES/txt-bytes.bin" | cmp - "$FIXTURES/txt-bytes.vocab.t"
}

@test "vocab: a character cut by the read buffer's end is still one character" {
	# 2^20 - 1 ASCII bytes put the 3-byte character across the first read.
	head -c 1048575 /dev/zero | tr '\0' 'a' > "$BATS_TEST_TMPDIR/big.txt"
	printf '\342\202\254b' >> "$BATS_TEST_TMPDIR/big.txt"
	printf 'ab\342\202\254' | vocab > "$BATS_TEST_TMPDIR/want.t"
	vocab "$BATS_TEST_TMPDIR/big.txt" | cmp - "$BATS_TEST_TMPDIR/want.t"
}

@test "vocab: empty input is an error" {
	run -1 --separate-stderr vocab < /dev/null
	[ -z "$output" ]
	[ "$stderr" = "vocab: <stdin>: no characters" ]
	run -1 --separate-stderr vocab - < /dev/null
	[ "$stderr" = "vocab: <stdin>: no characters" ]
	: > "$BATS_TEST_TMPDIR/empty.txt"
	run -1 --separate-stderr vocab "$BATS_TEST_TMPDIR/empty.txt"
	[ "$stderr" = "vocab: $BATS_TEST_TMPDIR/empty.txt: no characters" ]
	run -1 --separate-stderr vocab -b "$BATS_TEST_TMPDIR/empty.txt" "$BATS_TEST_TMPDIR/empty.txt"
	[ "$stderr" = "vocab: no characters in 2 inputs" ]
}

@test "vocab: a stray continuation byte" {
	input 'ab\200c'
	run -1 --separate-stderr vocab "$BATS_TEST_TMPDIR/in.txt"
	[ -z "$output" ]
	[ "$stderr" = "vocab: $BATS_TEST_TMPDIR/in.txt: invalid UTF-8 at byte offset 2" ]
}

@test "vocab: overlong forms" {
	invalid 'ab\300\257' 2
	invalid 'abcd\340\200\257' 4
	invalid '\360\202\202\254' 0
}

@test "vocab: a surrogate and a code point above U+10FFFF" {
	invalid 'x\355\240\200' 1
	invalid 'xy\364\220\200\200' 2
}

@test "vocab: a sequence cut short, inside the text and at its end" {
	invalid 'a\342\202b' 1
	invalid 'abc\342\202' 3
	invalid 'abc\360' 3
}

@test "vocab: the offset counts from the start of the file, past the first read" {
	head -c 2000000 /dev/zero | tr '\0' 'a' > "$BATS_TEST_TMPDIR/big.txt"
	printf '\377' >> "$BATS_TEST_TMPDIR/big.txt"
	run -1 --separate-stderr vocab "$FIXTURES/txt-utf8.txt" "$BATS_TEST_TMPDIR/big.txt"
	[ "$stderr" = "vocab: $BATS_TEST_TMPDIR/big.txt: invalid UTF-8 at byte offset 2000000" ]
}

@test "vocab -b takes what is not UTF-8" {
	input 'ab\200\300'
	run -0 vocab -b "$BATS_TEST_TMPDIR/in.txt"
}

@test "vocab: a missing file" {
	run -1 --separate-stderr vocab "$BATS_TEST_TMPDIR/nosuch"
	[ -z "$output" ]
	[ "$stderr" = "vocab: $BATS_TEST_TMPDIR/nosuch: No such file or directory" ]
}

@test "vocab: a closed stdout is an error" {
	run -1 --separate-stderr sh -c 'vocab "$1" >&-' sh "$FIXTURES/txt-utf8.txt"
	[ "$stderr" = "vocab: <stdout>: write error: Bad file descriptor" ]
}
