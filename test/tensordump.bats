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
	[[ "$output" == *"-i DIR"* ]]
	[[ "$output" == *"-g NAME"* ]]
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
	[ "$stderr" = "tensordump: options -a, -r, -e, -i and -g exclude each other" ]
	run -2 --separate-stderr tensordump -i out x.t
	[ "$stderr" = "$USAGE" ]
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
index.txt
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
index.txt
EOF
	[ "$(tail -c 1 out/0--a%2Fb~2.npy | od -An -tu1)" = "   2" ]
}

@test "-e: frames of a cat'ed stream keep counting; nothing on stdout" {
	cat "$FIXTURES/td-demo.t" "$FIXTURES/td-demo.t" > two.t
	run -0 --separate-stderr tensordump -e out two.t
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(cd out && echo *)" = "0-demo-w.npy 1-demo-w.npy index.txt" ]
}

@test "-e: a directory that cannot be made" {
	: > file
	run -1 --separate-stderr tensordump -e file/out "$FIXTURES/td-demo.t"
	[ "$stderr" = "tensordump: file/out: Not a directory" ]
	run -1 --separate-stderr tensordump -e file "$FIXTURES/td-demo.t"
	[ "$stderr" = "tensordump: file/0-demo-w.npy: cannot create temporary file: Not a directory" ]
}

# ---- -i: NumPy files back into a stream ----

@test "-e writes index.txt: the frames, and each tensor's name, file and flags, in order" {
	printf 'frame - 3\ntensor a/b u8 [] 1\ntensor a/b u8 [] 2\ntensor %%25~ u8 [] 3\nframe e 0\n' |
		mkstream x.t
	printf 'frame f 2\ntensor w f32 [2] live 1 2\ntensor p i32 [1] pad 3 7\n' | mkstream y.t
	cat x.t y.t | tensordump -e out
	diff - out/index.txt <<'EOF'
# tensordump -e: the frames and tensors of the stream, in order;
# tensordump -i DIR makes the stream again from them.
frame - 3
tensor a/b 0--a%2Fb.npy
tensor a/b 0--a%2Fb~2.npy
tensor %25~ 0--%25%7E.npy
frame e 0
frame f 2
tensor w 2-f-w.npy live
tensor p 2-f-p.npy pad 3
EOF
}

@test "-i: stream -> npy -> stream is byte for byte the same" {
	tensordump -e out "$FIXTURES/td-all.t"
	tensordump -i out | cmp - "$FIXTURES/td-all.t"
	printf 'frame - 3\ntensor a/b u8 [] 1\ntensor a/b u8 [] 2\ntensor %%25~ u8 [] 3\nframe e 0\n' |
		mkstream x.t
	printf 'frame f 2\ntensor w f32 [2] live 1 2\ntensor p i32 [1] pad 3 7\n' | mkstream y.t
	cat x.t y.t "$FIXTURES/td-demo.t" > xy.t
	tensordump -e out2 xy.t
	tensordump -i out2 | cmp - xy.t
	: > empty.t
	tensordump -e out3 empty.t
	run -0 --separate-stderr tensordump -i out3
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "-i: a model goes through NumPy files and back unchanged" {
	printf 'hello, world\n' > c.txt
	vocab c.txt > v.t
	rnn-init -H 8 -s 3 v.t > m.t
	tensordump -e m m.t
	tensordump -i m | cmp - m.t
}

# Write the .npy file $1 (format 1.0) with header dictionary $2 and data
# bytes $3 (printf escapes).
mknpy() {
	local len=$(( (10 + ${#2} + 1 + 63) / 64 * 64 - 10 ))
	{ printf '\223NUMPY\001\000'
	  printf "\\$(printf %03o $((len % 256)))\\$(printf %03o $((len / 256)))"
	  printf '%-*s\n' $((len - 1)) "$2"; printf "$3"; } > "$1"
}

@test "-i: the .npy file gives dtype, shape and data; index.txt names, order and flags" {
	mkdir d
	printf 'frame f 1\ntensor x NEW.npy\n' > d/index.txt
	mknpy d/NEW.npy "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }" '\001\0\0\0\002\0\0\0'
	run -0 bash -c 'tensordump -i d | tensordump -a'
	[ "$output" = $'frame f 1\ntensor x i32 [2 1]\n  1\n  2' ]
	# Other key orders and spacing; 'u1' for '|u1'.
	mknpy d/NEW.npy "{'shape':(3,),'fortran_order':False,'descr':'u1'}" '\001\002\003'
	run -0 bash -c 'tensordump -i d | tensordump -a'
	[ "${lines[2]}" = "  1 2 3" ]
}

# Write $1 (printf format) as d/index.txt; tensordump -i d must fail with
# "tensordump: d/index.txt: $2".
bad_index() {
	printf "$1" > d/index.txt
	run -1 --separate-stderr tensordump -i d
	[ "$stderr" = "tensordump: d/index.txt: $2" ] || { echo "got: $stderr"; false; }
}

@test "-i: bad index lines name the line" {
	mkdir d
	tensordump -e d "$FIXTURES/td-demo.t"
	bad_index 'tensor w 0-demo-w.npy\n' "line 1: tensor before any frame line"
	bad_index 'frame demo 2\ntensor w 0-demo-w.npy\n' "line 1: frame 'demo' has 1 tensors, not 2"
	bad_index 'frame demo 0\ntensor w 0-demo-w.npy\n' "line 2: frame 'demo' has more than the 0 tensors its line says"
	bad_index 'frame demo\n' "line 1: frame 'demo': tensor count missing (frame NAME COUNT)"
	bad_index 'frame demo 5000\n' "line 1: frame 'demo': bad tensor count '5000' (0 to 4096)"
	bad_index 'frame demo 1\ntensor w\n' "line 2: tensor 'w': file missing (tensor NAME FILE)"
	bad_index 'frame demo 1\ntensor w ../x.npy\n' "line 2: tensor 'w': file '../x.npy' is not a name in d"
	bad_index 'frame demo 1\ntensor w 0-demo-w.npy fast\n' "line 2: tensor 'w': 'fast' after its file (tensor NAME FILE [live] [pad P])"
	bad_index 'frame demo 1\ntensor w 0-demo-w.npy pad 256\n' "line 2: tensor 'w': bad pad count '256' (1 to 255)"
	bad_index 'frame demo 1\ntensor x%%00 0-demo-w.npy\n' "line 2: tensor name 'x%00' holds a NUL byte"
	bad_index 'frames demo 1\n' "line 1: expected 'frame' or 'tensor', found 'frames'"
	rm d/index.txt
	run -1 --separate-stderr tensordump -i d
	[ "$stderr" = "tensordump: d/index.txt: No such file or directory" ]
}

# Write d/x.npy with header $1 and data $2; tensordump -i d must fail with
# "tensordump: d/x.npy: $3".
bad_npy() {
	mknpy d/x.npy "$1" "$2"
	run -1 --separate-stderr tensordump -i d
	[ "$stderr" = "tensordump: d/x.npy: $3" ] || { echo "got: $stderr"; false; }
}

@test "-i: bad .npy files are refused naming the file" {
	mkdir d
	printf 'frame f 1\ntensor x x.npy\n' > d/index.txt
	bad_npy "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }" '\0\0\0\0' \
		"NumPy header: dtype '>f4' is not one of |u1 <i4 <i8 <f4 <f8"
	bad_npy "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }" '\0\0\0\0' \
		"NumPy header: dtype '<c8' is not one of |u1 <i4 <i8 <f4 <f8"
	bad_npy "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }" '\0\0\0\0' \
		"NumPy header: Fortran order (save a C-ordered array)"
	bad_npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" '\0\0\0\0' \
		"4 bytes of data where its shape needs 8"
	bad_npy "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" '\0\0\0\0\0' \
		"more data than its shape holds"
	bad_npy "{'descr': '<f4', 'shape': (1,), }" '\0\0\0\0' \
		"NumPy header: descr, fortran_order or shape missing"
	bad_npy "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }" '\0\0\0\0' \
		"NumPy header: rank over 8"
	bad_npy "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627777,), }" '' \
		"dimension over 2^40"
	printf 'P5\n1 1\n255\n\0' > d/x.npy
	run -1 --separate-stderr tensordump -i d
	[ "$stderr" = "tensordump: d/x.npy: not a NumPy file" ]
	rm d/x.npy
	run -1 --separate-stderr tensordump -i d
	[ "$stderr" = "tensordump: d/x.npy: No such file or directory" ]
}

@test "-i with NumPy: np.load reads every export; arrays np.save wrote go back in" {
	/usr/bin/python3 -c 'import numpy' 2>/dev/null || skip "python3-numpy is missing"
	tensordump -e out "$FIXTURES/td-all.t"
	/usr/bin/python3 - out <<'EOF'
import glob, sys
import numpy as np
files = sorted(glob.glob(sys.argv[1] + "/*.npy"))
assert len(files) == 16, files
for f in files:
    np.load(f)
a = np.load(sys.argv[1] + "/1-ranks-r2.npy")
assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)
np.save(sys.argv[1] + "/1-ranks-r2.npy", (a * 2).T.copy())
np.save(sys.argv[1] + "/0-scalars-d.npy", np.arange(4, dtype=np.float64).reshape(2, 2))
EOF
	tensordump -i out | tensordump -a > got.txt
	grep -A3 -e '^tensor r2 ' -e '^tensor d f64 \[2' got.txt | diff - <(cat <<'EOF'
tensor d f64 [2 2]
  0 1
  2 3
frame ranks 6
--
tensor r2 f32 [3 2]
      2 0.008
      5 1e+21
     -6 -12.5
EOF
)
}

# ---- -g: pictures ----

@test "-g: a 2-D tensor with negative values: P5, -max..max black to white, 0 grey" {
	printf 'frame f 2\ntensor b f32 [3] 1 2 3\ntensor w f32 [2 3] -2 -1 0 1 2 0.5\n' | mkstream w.t
	tensordump -g w w.t > w.pgm
	[ "$(head -c 11 w.pgm | od -An -c)" = "   P   5  \n   3       2  \n   2   5   5  \n" ]
	[ "$(wc -c < w.pgm)" -eq $((11 + 6)) ]
	# 127.5 + 127.5 x / 2, rounded: -2 0, -1 64, 0 128, 1 191, 2 255, 0.5 159
	[ "$(tail -c 6 w.pgm | od -An -tu1)" = "   0  64 128 191 255 159" ]
}

@test "-g: no negative value: 0..max black to white; any dtype; the first tensor of the name" {
	printf 'frame f 1\ntensor p u8 [2 2] 0 1 2 4\nframe g 1\ntensor p u8 [1 1] 9\n' | mkstream p.t
	tensordump -g p p.t > p.pgm
	[ "$(head -c 11 p.pgm | od -An -c)" = "   P   5  \n   2       2  \n   2   5   5  \n" ]
	[ "$(tail -c 4 p.pgm | od -An -tu1)" = "   0  64 128 255" ]
	printf 'frame f 1\ntensor z f64 [1 2] 0 0\n' | mkstream z.t
	[ "$(tensordump -g z < z.t | tail -c 2 | od -An -tu1)" = "   0   0" ]
}

@test "-g: size-1 dimensions are left out: hidden states (T,1,H) are a (T,H) picture" {
	printf 'frame forward 1\ntensor hs f32 [2 1 3] -1 0 1 1 0 -1\n' | mkstream hs.t
	tensordump -g hs hs.t > hs.pgm
	[ "$(head -c 11 hs.pgm | od -An -c)" = "   P   5  \n   3       2  \n   2   5   5  \n" ]
	[ "$(tail -c 6 hs.pgm | od -An -tu1)" = "   0 128 255 255 128   0" ]
}

@test "-g: a 3-D, 1-D, empty, missing or non-finite tensor is a precise error" {
	printf 'frame f 5\ntensor c f32 [2 2 2] 1 2 3 4 5 6 7 8\ntensor b f32 [3] 1 2 3\n'`
		`'tensor e f32 [0 3]\ntensor n f32 [1 2] 1 nan\ntensor i f32 [1 2] 1 -inf\n' | mkstream bad.t
	run -1 --separate-stderr tensordump -g c bad.t
	[ "$stderr" = "tensordump: bad.t: tensor 'c' is [2 2 2]: a picture needs a 2-D tensor" ]
	run -1 --separate-stderr tensordump -g b bad.t
	[ "$stderr" = "tensordump: bad.t: tensor 'b' is [3]: a picture needs a 2-D tensor" ]
	run -1 --separate-stderr tensordump -g e bad.t
	[ "$stderr" = "tensordump: bad.t: tensor 'e' is [0 3]: nothing to draw" ]
	run -1 --separate-stderr tensordump -g n bad.t
	[ "$stderr" = "tensordump: bad.t: tensor 'n' holds NaN or Inf: no picture" ]
	run -1 --separate-stderr tensordump -g i bad.t
	[ "$stderr" = "tensordump: bad.t: tensor 'i' holds NaN or Inf: no picture" ]
	run -1 --separate-stderr tensordump -g Whh bad.t
	[ "$stderr" = "tensordump: bad.t: no tensor 'Whh' in the stream" ]
	[ -z "$output" ]
}

@test "-g with netpbm: pnmtopng takes the picture of a model's Whh, and pngtopnm gives it back" {
	command -v pnmtopng >/dev/null && command -v pngtopnm >/dev/null || skip "netpbm is missing"
	printf 'hello, world\n' > c.txt
	vocab c.txt > v.t
	rnn-init -H 8 -s 3 v.t > m.t
	tensordump -g Whh m.t > whh.pgm
	[ "$(head -c 9 whh.pgm)" = $'P5\n8 8\n25' ]
	pnmtopng < whh.pgm > whh.png
	pngtopnm whh.png | cmp - whh.pgm
}

@test "listing: a vocabulary's entries are shown as characters too" {
	printf 'hello, "world"\\\t\n' | vocab > v.t
	run -0 tensordump v.t
	[ "${lines[2]}" = '  # min 9  max 119  mean 75.2308' ]
	[ "${lines[3]}" = '  # chars "\t\n \",\\dehlorw"' ]
	[ "${lines[4]}" = '    9  10  32  34  44  92 100 101' ]
	printf 'h\xc3\xa9llo \xf0\x9f\x98\x80\x01' | vocab -b > b.t
	run -0 tensordump b.t
	[ "${lines[3]}" = '  # chars "\x01 hlo\x80\x98\x9f\xa9\xc3\xf0"' ]
	printf 'x\xc3\xa9\xc2\x85\xf0\x9f\x98\x80' | vocab > u.t
	run -0 tensordump u.t
	[ "${lines[3]}" = $'  # chars "x\\u{85}\xc3\xa9\xf0\x9f\x98\x80"' ]
	# What is not a character, in a hand-made tensor named vocab.
	printf 'frame f 1\ntensor vocab i32 [3] -1 55296 1114112\n' | mkstream h.t
	run -0 tensordump h.t
	[ "${lines[3]}" = '  # chars "\u{ffffffff}\u{d800}\u{110000}"' ]
	# -a is the text form: unchanged.
	run -0 tensordump -a v.t
	[ "${lines[2]}" = '    9  10  32  34  44  92 100 101' ]
}

@test "listing: a long vocabulary shows its first 256 characters" {
	{ echo 'frame f 1'; echo 'tensor vocab i32 [300]'; seq 1000 1299; } | mkstream v.t
	run -0 tensordump v.t
	[[ "${lines[3]}" == '  # chars "'*'" (the first 256 of 300)' ]]
	# U+03E8 to U+04E7: two bytes each in UTF-8
	[ "$(printf '%s' "${lines[3]}" | wc -c)" -eq $((11 + 2 * 256 + 1 + 23)) ]
}
