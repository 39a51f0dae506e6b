#!/usr/bin/env bats
# Index streams as feed reads them (lib/corpus.c): the vocabulary
# fingerprint of formats/corpus.md. decode.bats and score.bats test it
# for the sequential reader.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	D=$BATS_TEST_TMPDIR
	H=$FIXTURES/txt-hello.vocab.t	# e h l o: fingerprint 99e8ae4b
	printf abcd | vocab > "$D/abcd.t"	# the same size: a9cf9f00
	rnn-init -H 4 "$H" > "$D/m.t"
	for i in $(seq 20); do printf 'hello, hello\n'; done | tr -d ',\n ' > "$D/hello.txt"
	for i in $(seq 20); do printf 'abcdcba'; done > "$D/abcd.txt"
}

# feed on corpus $1 with the model m.t, no loop: it stops at the first step
# if it takes the corpus.
feed_on() {
	run -1 --separate-stderr feed -T 4 -i "$D/m.t" -w "$D/ws.t" "$1" < /dev/null
}

@test "feed: a corpus encoded with the model's vocabulary is taken" {
	encode "$H" "$D/hello.txt" > "$D/c.t"
	feed_on "$D/c.t"
	[ "$stderr" = "feed: <stdin>: the loop closed before iteration 1 came back" ]
}

@test "feed: a corpus encoded with another vocabulary of its size is refused, naming both" {
	encode "$D/abcd.t" "$D/abcd.txt" > "$D/c.t"
	feed_on "$D/c.t"
	[ "$stderr" = "feed: $D/c.t: encoded with vocabulary a9cf9f00, $D/m.t's is 99e8ae4b" ]
	# Refused before the workspace is written.
	[ ! -e "$D/ws.t" ]
	# Any frame of it: the first two from the model's vocabulary.
	cat "$D/hello.txt" | encode "$H" > "$D/a.t"
	cat "$D/a.t" "$D/a.t" "$D/c.t" > "$D/mixed.t"
	feed_on "$D/mixed.t"
	[ "$stderr" = "feed: $D/mixed.t: frames encoded with two vocabularies, 99e8ae4b and a9cf9f00" ]
}

@test "feed: a corpus without a fingerprint is taken as it is" {
	encode "$H" "$D/hello.txt" | tensordump -a | awk '
		/^tensor vocab_id/ { getline; next }	# drop it and its value
		/^frame text 2/ { $3 = 1 }
		{ print }' | mkstream "$D/c.t"
	[ "$(tensordump "$D/c.t" | grep -c vocab_id)" -eq 0 ]
	feed_on "$D/c.t"
	[ "$stderr" = "feed: <stdin>: the loop closed before iteration 1 came back" ]
	# Frames with and without one, the fingerprinted ones the model's.
	encode "$H" "$D/hello.txt" | cat "$D/c.t" - > "$D/mixed.t"
	feed_on "$D/mixed.t"
	[ "$stderr" = "feed: <stdin>: the loop closed before iteration 1 came back" ]
}

@test "feed: a malformed fingerprint in the corpus" {
	printf 'frame text\ntensor vocab_id f64 [] 1\ntensor x i32 [3] 1 2 3\n' | mkstream "$D/c.t"
	feed_on "$D/c.t"
	[ "$stderr" = "feed: $D/c.t: offset 24: tensor 'vocab_id' is f64 of rank 0, expected i64 of rank 0" ]
}

@test "feed: an index outside the vocabulary, in the wording of decode and score" {
	{ printf 'frame text\ntensor x i32 [40]\n'; printf '1 %.0s' $(seq 30); printf '9 1 1 1 1 1 1 1 1 1\n'; } |
		mkstream "$D/c.t"
	feed_on "$D/c.t"
	[ "$stderr" = "feed: $D/c.t: index 9 out of range [0, 4) at position 30" ]
}
