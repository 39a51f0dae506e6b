#!/usr/bin/env bats
# tensordump: the listing, -a / -r (the text form, formats/text.md) and -e
# (NumPy export). The binary format's own checks are in format.bats.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

USAGE="usage: tensordump [options] [FILE]"

@test "--help: usage and options on stdout, exit 0" {
	run -0 --separate-stderr tensordump --help
	[ "${lines[0]}" = "$USAGE" ]
	[[ "$output" == *"-e DIR"* ]]
	[ -z "$stderr" ]
}

@test "unknown option: usage, exit 2" {
	run -2 --separate-stderr tensordump -x
	[ "${stderr_lines[0]}" = "tensordump: invalid option -- 'x'" ]
	[ "${stderr_lines[1]}" = "$USAGE" ]
	[ -z "$output" ]
}

@test "-e without its directory, two files, two modes: exit 2" {
	run -2 --separate-stderr tensordump -e
	[ "${stderr_lines[1]}" = "$USAGE" ]
	run -2 --separate-stderr tensordump a.t b.t
	[ "$stderr" = "$USAGE" ]
	run -2 --separate-stderr tensordump -a -r
	[ "$stderr" = "tensordump: options -a, -r and -e exclude each other" ]
}

@test "a missing file" {
	for opt in "" -a -r "-e out"; do
		run -1 --separate-stderr tensordump $opt nosuch.t
		[ "$stderr" = "tensordump: nosuch.t: No such file or directory" ]
		[ -z "$output" ]
	done
}

@test "closed stdout is a write error" {
	for opt in "" -a -r; do
		in="$FIXTURES/td-all.t"
		[ "$opt" = -r ] && in="$FIXTURES/td-all.txt"
		run -1 --separate-stderr bash -c 'tensordump $1 "$2" >&-' _ "$opt" "$in"
		[ "$stderr" = "tensordump: <stdout>: write error: Bad file descriptor" ]
	done
}

@test "stdin by default and as -" {
	tensordump < "$FIXTURES/td-all.t" | diff "$FIXTURES/td-all.list" -
	tensordump -a - < "$FIXTURES/td-all.t" | diff "$FIXTURES/td-all.txt" -
	tensordump -r - < "$FIXTURES/td-all.txt" | cmp - "$FIXTURES/td-all.t"
}

@test "a closed pipe ends tensordump silently" {
	{ echo "frame f 1"; echo "tensor x f64 [100000]"; seq 100000; } | mkstream big.t
	run -0 --separate-stderr bash -c 'tensordump -a big.t | head -n 2'
	[ "${lines[1]}" = "tensor x f64 [100000]" ]
	[ -z "$stderr" ]
}

# ---- the listing ----

@test "listing: frames with their numbers, tensors, summaries, values" {
	tensordump "$FIXTURES/td-all.t" | diff "$FIXTURES/td-all.list" -
}

@test "listing: float summaries take finite values; NaN and Inf are counted" {
	printf 'frame f 1\ntensor x f32 [6] 1 nan -inf 3 inf nan\n' | mkstream x.t
	run -0 tensordump x.t
	[ "${lines[2]}" = "  # min 1  max 3  mean 2  nan 2  inf 2" ]
	printf 'frame f 1\ntensor x f64 [2] nan inf\n' | mkstream x.t
	run -0 tensordump x.t
	[ "${lines[2]}" = "  # nan 1  inf 1" ]
}

@test "listing: integer summaries are exact" {
	printf 'frame f 1\ntensor x i64 [3] 9223372036854775807 -9223372036854775807 1\n' |
		mkstream x.t
	run -0 tensordump x.t
	[ "${lines[2]}" = "  # min -9223372036854775807  max 9223372036854775807  mean 0.333333" ]
}

@test "listing: a long tensor shows four lines, then ..." {
	{ echo "frame f 1"; echo "tensor x i32 [3 10]"; seq 30; } | mkstream x.t
	run -0 tensordump x.t
	printf '%s\n' "${lines[@]}" | diff - <(cat <<'EOF'
frame f 1  # frame 0
tensor x i32 [3 10]
  # min 1  max 30  mean 15.5
   1  2  3  4  5  6  7  8
     9 10
  11 12 13 14 15 16 17 18
    19 20
  ...
EOF
)
}

@test "listing: a summary over many chunks of data" {
	# 2^20 values -1, then one 3 (4 MiB: 64 chunks of reading).
	{
		printf 'frame big 1\ntensor x f32 [1048577]\n'
		yes -- -1 | head -n 1048576
		echo 3
	} | mkstream big.t
	run -0 tensordump big.t
	[ "${lines[2]}" = "  # min -1  max 3  mean -0.999996  nan 0  inf 0" ]
	[ "${lines[-1]}" = "  ..." ]
}

@test "a listing with every value shown reads back; one with ... does not" {
	tensordump "$FIXTURES/td-all.t" | tensordump -r | cmp - "$FIXTURES/td-all.t"
	{ echo "frame f 1"; echo "tensor x u8 [100]"; seq 100; } | mkstream x.t
	tensordump x.t > x.list
	run -1 --separate-stderr tensordump -r x.list
	[ "$stderr" = "tensordump: x.list: line 8: values left out ('...'): a listing is not the text form; use tensordump -a" ]
}

# ---- the text form ----

@test "-a: floats short when exact, else %.9g / %.17g" {
	printf 'frame f 2\ntensor s f32 [5] 0.1 0.3333333333 1e-3 -0 123456789\n' > in.txt
	printf 'tensor d f64 [4] 0.1 0.3333333333333333 1e300 5e-324\n' >> in.txt
	tensordump -r in.txt > in.t
	run -0 tensordump -a in.t
	[ "${lines[2]}" = "          0.1 0.333333343       0.001          -0   123456792" ]
	[ "${lines[4]}" = "                    0.1   0.33333333333333331                1e+300 4.94065645841247e-324" ]
}

@test "-a: NaN payloads and signs survive the text" {
	printf 'frame f 2\ntensor s f32 [3] -nan nan:0x7fa00000 nan:0xffc00001\n' > in.txt
	printf 'tensor d f64 [2] -nan nan:0x7ff4000000000000\n' >> in.txt
	tensordump -r in.txt > in.t
	od -An -tx1 -j 56 -N 12 in.t | grep -qx ' 00 00 c0 ff 00 00 a0 7f 01 00 c0 ff'
	run -0 tensordump -a in.t
	[ "${lines[2]}" = "            -nan nan:0x7fa00000 nan:0xffc00001" ]
	[ "${lines[4]}" = "                    -nan nan:0x7ff4000000000000" ]
	tensordump -a in.t | tensordump -r | cmp - in.t
}

@test "-r is forgiving of layout: comments, blank lines, tabs, CRLF, commas" {
	printf '%s\r\n' '# hand-written' '' \
		'frame  f   # no count: counted' \
		$'\ttensor  a f32 (2, 3)  1, 2, 3,' \
		'   4 5' '6   # last' \
		'tensor b u8 [] live 7' \
		'frame %2D' \
		'frame - 1' 'tensor %23%25 i64 [1] -1' > in.txt
	run -0 tensordump -a < <(tensordump -r in.txt)
	printf '%s\n' "${lines[@]}" | diff - <(cat <<'EOF'
frame f 2
tensor a f32 [2 3]
  1 2 3
  4 5 6
tensor b u8 [] live
  7
frame %2D 0
frame - 1
tensor %23%25 i64 [1]
  -1
EOF
)
}

@test "-r: names escaped with %XX decode to the binary names" {
	printf 'frame %%2D 1\ntensor a%%23b u8 [] 1\nframe - 0\n' | mkstream x.t
	od -An -c -j 16 -N 1 x.t | grep -qx '   -'	# frame name "-"
	od -An -c -j 40 -N 3 x.t | grep -qx '   a   #   b'
	od -An -tx1 -j 69 -N 1 x.t | grep -qx ' 00'	# frame name length 0
}

# Run tensordump -r on the text printf makes of $1; expect exit 1 and the
# stderr line "tensordump: bad.txt: $2". (Complete frames before the error
# may have gone out on stdout.)
bad_text() {
	printf "$1" > bad.txt
	run -1 --separate-stderr tensordump -r bad.txt
	[ "$stderr" = "tensordump: bad.txt: $2" ] || { echo "got: $stderr"; false; }
}

@test "-r: wrong counts name the line" {
	bad_text 'frame a 2\ntensor w f32 [2] 1 2\n' "line 1: frame 'a' has 1 tensor, not 2"
	bad_text 'frame a 1\ntensor w f32 [1] 1\ntensor v f32 [1] 1\n' \
		"line 3: frame 'a' has more than the 1 tensor its line says"
	bad_text 'frame a\n\ntensor w f32 [2 3]\n1 2 3\n4 5\n' \
		"line 3: tensor 'w' [2 3] has 5 of its 6 values"
	bad_text 'frame a\ntensor w f32 [2]\n1\nframe b\n' \
		"line 2: tensor 'w' [2] has 1 of its 2 values"
	bad_text 'frame a\ntensor w f32 [2]\n1 2\n3\n' \
		"line 4: '3': tensor 'w' [2] holds only 2 values"
	bad_text 'frame a 5000\n' "line 1: frame of 5000 tensors (limit 4096)"
}

@test "-r: values must fit the dtype" {
	bad_text 'frame a\ntensor w u8 [2] 1 256\n' "line 2: '256' is out of range for u8"
	bad_text 'frame a\ntensor w u8 [1] -1\n' "line 2: '-1' is out of range for u8"
	bad_text 'frame a\ntensor w i32 [1] 2147483648\n' "line 2: '2147483648' is out of range for i32"
	bad_text 'frame a\ntensor w i64 [1] -9223372036854775809\n' \
		"line 2: '-9223372036854775809' is out of range for i64"
	bad_text 'frame a\ntensor w f32 [1] 1e39\n' "line 2: '1e39' is out of range for f32"
	bad_text 'frame a\ntensor w f64 [1] -1e309\n' "line 2: '-1e309' is out of range for f64"
	bad_text 'frame a\ntensor w i32 [1] 1.5\n' "line 2: '1.5' is not an integer (tensor 'w' is i32)"
	bad_text 'frame a\ntensor w f32 [2] 1,5x\n' "line 2: '5x' is not a number"
	bad_text 'frame a\ntensor w f32 [1] nan:0x7f800000\n' \
		"line 2: 'nan:0x7f800000' is not the bit pattern of a NaN"
}

@test "-r: bad statements" {
	bad_text 'tensor w f32 [1] 1\n' "line 1: tensor before any frame line"
	bad_text '\nhello\n' "line 2: expected 'frame' or 'tensor', found 'hello'"
	bad_text 'frame a 1 2\n' "line 1: '2' after the frame line (frame NAME [COUNT])"
	bad_text 'frame a x\n' "line 1: frame tensor count 'x' is not a number"
	bad_text 'frame\n' "line 1: frame name missing"
	bad_text 'frame a\ntensor w f16 [1] 1\n' \
		"line 2: tensor 'w': unknown dtype 'f16' (u8 i32 i64 f32 f64)"
	bad_text 'frame a\ntensor w f32\n' \
		"line 2: tensor 'w': shape missing (tensor NAME DTYPE [DIMS])"
	bad_text 'frame a\ntensor w f32 [2\n' \
		"line 2: tensor 'w': bad shape: expected a size or ']', found 'end of line'"
	bad_text 'frame a\ntensor w f32 [2x3]\n' \
		"line 2: tensor 'w': bad shape: expected a size or ']', found 'x'"
	bad_text 'frame a\ntensor - f32 [1] 1\n' \
		"line 2: tensor name '-': a tensor name cannot be empty"
	bad_text 'frame a%%2\n' \
		"line 1: frame name 'a%2': '%' must be followed by two hex digits"
	bad_text 'frame a%%20b\n' "line 1: frame name 'a%20b' is not printable ASCII"
	bad_text 'frame aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n' \
		"line 1: frame name 'aaaaaaaaaaaaaaaaaaaaa...' is longer than 63 bytes"
}

@test "-r: shapes within the format's limits" {
	bad_text 'frame a\ntensor w f32 [1 1 1 1 1 1 1 1 1]\n' "line 2: tensor 'w': rank over 8"
	bad_text 'frame a\ntensor w f32 [1125899906842624]\n' \
		"line 2: tensor 'w': dimension over 2^40"
	bad_text 'frame a\ntensor w f32 [1048576 1048577]\n' \
		"line 2: tensor 'w': more than 2^40 elements"
	bad_text 'frame a\ntensor w f32 [99999999999999999999999999999]\n' \
		"line 2: tensor 'w': dimension over 2^40"
}

@test "-r: %00 in a name is a NUL byte, refused rather than cutting the name" {
	bad_text 'frame f 1\ntensor x%%00y u8 [] 1\n' "line 2: tensor name 'x%00y' holds a NUL byte"
	bad_text 'frame f%%00 0\n' "line 1: frame name 'f%00' holds a NUL byte"
	bad_text 'frame f 1\ntensor %%00 u8 [] 1\n' "line 2: tensor name '%00' holds a NUL byte"
}

@test "-r: binary input or NUL bytes are not text" {
	run -1 --separate-stderr tensordump -r "$FIXTURES/td-all.t"
	[ "$stderr" = "tensordump: $FIXTURES/td-all.t: a binary tensor stream already; -r reads the text form" ]
	bad_text 'frame a\n\0\n' "line 2: NUL byte: this is not text"
}

# ---- -e ----

# The NumPy header of file $1 as text, without its padding.
npy_header() {
	[ "$(head -c 8 "$1" | od -An -tx1)" = " 93 4e 55 4d 50 59 01 00" ]
	local len=$(od -An -tu2 -j 8 -N 2 "$1" | tr -d ' ')
	[ $(((10 + len) % 64)) -eq 0 ]
	tail -c +11 "$1" | head -c "$len" | sed 's/ *$//'
}

@test "-e: one .npy per tensor, named F-FRAME-NAME, data as in the stream" {
	tensordump -e out "$FIXTURES/td-all.t"
	(cd out && ls) > names
	diff - names <<'EOF'
0-scalars-d.npy
0-scalars-f.npy
0-scalars-i.npy
0-scalars-l.npy
0-scalars-u.npy
1-ranks-e.npy
1-ranks-e3.npy
1-ranks-r1.npy
1-ranks-r2.npy
1-ranks-r3.npy
1-ranks-r3u.npy
3-specials-d.npy
3-specials-f.npy
3-specials-w.npy
4-wide-m.npy
4-wide-v.npy
EOF
	[ "$(npy_header out/0-scalars-u.npy)" = "{'descr': '|u1', 'fortran_order': False, 'shape': (), }" ]
	[ "$(npy_header out/1-ranks-r1.npy)" = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" ]
	[ "$(npy_header out/1-ranks-r2.npy)" = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" ]
	[ "$(npy_header out/1-ranks-r3.npy)" = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 3), }" ]
	[ "$(npy_header out/1-ranks-e3.npy)" = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 0, 2), }" ]
	[ "$(wc -c < out/1-ranks-e3.npy)" -eq 128 ]
}

@test "-e: the data is the stream's, byte for byte" {
	tensordump -e out "$FIXTURES/td-demo.t"
	[ "$(wc -c < out/0-demo-w.npy)" -eq $((128 + 8)) ]
	[ "$(tail -c 8 out/0-demo-w.npy | od -An -tx1)" = " 00 00 80 3f 00 00 00 40" ]
	{ echo "frame f 1"; echo "tensor x i32 [100 100]"; seq -5000 4999; } | mkstream x.t
	tensordump -e out x.t
	# The data: at 128 in the .npy, at 24 + 40 in the stream.
	cmp <(tail -c +129 out/0-f-x.npy) <(tail -c +65 x.t | head -c 40000)
}

@test "-e: names made safe for files; repeated names numbered" {
	printf 'frame - 3\ntensor a/b u8 [] 1\ntensor a/b u8 [] 2\ntensor %%25~ u8 [] 3\n' |
		mkstream x.t
	tensordump -e out x.t
	(cd out && ls) > names
	diff - names <<'EOF'
0--%25%7E.npy
0--a%2Fb.npy
0--a%2Fb~2.npy
EOF
	[ "$(tail -c 1 out/0--a%2Fb~2.npy | od -An -tu1)" = "   2" ]
}

@test "-e: frames of a cat'ed stream keep counting; nothing on stdout" {
	cat "$FIXTURES/td-demo.t" "$FIXTURES/td-demo.t" > two.t
	run -0 --separate-stderr tensordump -e out two.t
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(cd out && echo *)" = "0-demo-w.npy 1-demo-w.npy" ]
}

@test "-e: a directory that cannot be made" {
	: > file
	run -1 --separate-stderr tensordump -e file/out "$FIXTURES/td-demo.t"
	[ "$stderr" = "tensordump: file/out: Not a directory" ]
	run -1 --separate-stderr tensordump -e file "$FIXTURES/td-demo.t"
	[ "$stderr" = "tensordump: file/0-demo-w.npy: cannot create temporary file: Not a directory" ]
}
