#!/usr/bin/env bats
# The tensor stream format itself (formats/tensor.md): what the library
# writes, what its reader refuses and how, checked through tensordump against
# stored streams, hand-made bytes, gzip's CRC-32 and the Python reader of the
# format page.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# The small two-frame stream the bad-input tests start from. Its layout:
#     0 frame 'one', 2 tensors       24 tensor 'w' f32 [2 3]: name at 56,
#    64 w's data (24 bytes)          88 w's data CRC
#    96 tensor 'n' i64 []           120 n's data     128 n's data CRC
#   136 frame 'two', 1 tensor       160 tensor 'b' u8 [5]
#   192 b's data (5 bytes, 3 pad)   200 b's data CRC 208 end
two() {
	mkstream two.t <<'EOF'
frame one 2
tensor w f32 [2 3] 1 2 3 4 5 6
tensor n i64 [] 7
frame two 1
tensor b u8 [5] 1 2 3 4 5
EOF
	[ "$(wc -c < two.t)" -eq 208 ]
}

# Overwrite bytes of file $1 from offset $2 with printf format $3.
patch() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# zlib's CRC-32 of stdin as the 4 little-endian bytes the format stores:
# the last 8 bytes of gzip's output are exactly that CRC and the length.
crc32le() {
	gzip -c | tail -c 8 | head -c 4
}

# Bytes $2 .. $2+$3-1 of file $1, on stdout.
bytes() {
	dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null
}

# Whether the header CRC of the record at offset $2 (header length $3) in
# file $1 is zlib's CRC-32 of the header with its CRC field zeroed.
header_crc_ok() {
	{ bytes "$1" "$2" 12; printf '\0\0\0\0'; bytes "$1" $(($2 + 16)) $(($3 - 16)); } |
		crc32le > want
	bytes "$1" $(($2 + 12)) 4 | cmp -s - want
}

# Whether the data CRC at offset $4 of file $1 is that of the $3 data bytes
# at offset $2.
data_crc_ok() {
	bytes "$1" "$2" "$3" | crc32le > want
	bytes "$1" "$4" 4 | cmp -s - want
}

@test "the example of formats/tensor.md, byte for byte" {
	run -0 tensordump -r "$FIXTURES/td-demo.txt"
	tensordump -r "$FIXTURES/td-demo.txt" | od -An -tx1 -v > got
	cat > want <<'EOF'
 63 68 6e 46 01 04 00 00 01 00 00 00 d4 22 bc af
 64 65 6d 6f 00 00 00 00 63 68 6e 54 01 04 01 01
 00 00 00 00 1b 4f 04 0c 02 00 00 00 00 00 00 00
 77 00 00 00 00 00 00 00 00 00 80 3f 00 00 00 40
 76 a5 3f 2e 00 00 00 00
EOF
	diff want got
	tensordump -r "$FIXTURES/td-demo.txt" | cmp - "$FIXTURES/td-demo.t"
}

@test "every CRC the writer stores is zlib's CRC-32 (checked with gzip)" {
	command -v gzip >/dev/null || skip "gzip is missing"
	two
	header_crc_ok two.t 0 24
	header_crc_ok two.t 24 40
	header_crc_ok two.t 96 24
	header_crc_ok two.t 136 24
	header_crc_ok two.t 160 32
	data_crc_ok two.t 64 24 88
	data_crc_ok two.t 120 8 128
	data_crc_ok two.t 192 5 200
}

@test "a large tensor's CRC (folded 64 bytes at a time) is zlib's too" {
	command -v gzip >/dev/null || skip "gzip is missing"
	{ echo "frame big 1"; echo "tensor x f32 [10000]"; seq 10000 | sed 's/$/.25/'; } |
		mkstream big.t
	# frame header 24 + tensor header 32: data at 56, 40000 bytes, CRC after.
	[ "$(wc -c < big.t)" -eq $((56 + 40000 + 8)) ]
	header_crc_ok big.t 24 32
	data_crc_ok big.t 56 40000 40056
	tensordump -a big.t | tensordump -r | cmp - big.t
}

@test "the fast CRC is the tables' at every length 0 to 1100 and offset 0 to 15, whole and in pieces" {
	run -0 "$TESTBIN/crc"
	[[ "$output" == "crc "*": 17616 runs agree with the tables" ]]
}

@test "text -> binary -> text is exact: all dtypes, ranks 0 to 3, empty tensors and frames, NaN, Inf, live" {
	tensordump -r "$FIXTURES/td-all.txt" > all.t
	tensordump -a all.t | diff "$FIXTURES/td-all.txt" -
}

@test "binary -> text -> binary is exact" {
	tensordump -a "$FIXTURES/td-all.t" | tensordump -r | cmp - "$FIXTURES/td-all.t"
	tensordump -a "$FIXTURES/td-demo.t" | tensordump -r | cmp - "$FIXTURES/td-demo.t"
}

@test "the writer still writes the stored stream" {
	tensordump -r "$FIXTURES/td-all.txt" | cmp - "$FIXTURES/td-all.t"
}

@test "cat a.t b.t is one stream holding the frames of both" {
	cat "$FIXTURES/td-all.t" "$FIXTURES/td-demo.t" > both.t
	tensordump -a both.t | diff <(cat "$FIXTURES/td-all.txt" "$FIXTURES/td-demo.txt") -
	run -0 tensordump both.t
	[ "${lines[-4]}" = "frame demo 1  # frame 5" ]
}

@test "an empty stream is valid: exit 0, no output" {
	: > empty.t
	run -0 --separate-stderr tensordump empty.t
	[ -z "$output" ] && [ -z "$stderr" ]
	run -0 --separate-stderr tensordump -a < empty.t
	[ -z "$output" ] && [ -z "$stderr" ]
	run -0 --separate-stderr tensordump -r < empty.t
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "a stream cut at every 8th offset is a truncated stream" {
	two
	re='^tensordump: cut\.t: offset [0-9]+: truncated stream \([a-z ]+\)$'
	for n in $(seq 8 8 200); do
		[ "$n" -eq 136 ] && continue	# a frame boundary: a clean end
		head -c "$n" two.t > cut.t
		run -1 --separate-stderr tensordump cut.t
		[[ "$stderr" =~ $re ]] ||
			{ echo "cut at $n: $stderr"; false; }
		[ "${#stderr_lines[@]}" -eq 1 ]
	done
}

@test "a stream cut anywhere fails cleanly with one line" {
	two
	for n in $(seq 1 207); do
		[ "$n" -eq 136 ] && continue
		head -c "$n" two.t > cut.t
		run -1 --separate-stderr tensordump -a cut.t
		[[ "$stderr" == "tensordump: cut.t: offset "* ]] || { echo "cut at $n: $stderr"; false; }
		[ "${#stderr_lines[@]}" -eq 1 ]
	done
}

@test "truncated in a tensor's data: the message names the offset and the tensor" {
	two
	head -c 70 two.t > cut.t
	run -1 --separate-stderr tensordump cut.t
	[ "$stderr" = "tensordump: cut.t: offset 64: truncated stream (w)" ]
	head -c 20 two.t > cut.t
	run -1 --separate-stderr tensordump cut.t
	[ "$stderr" = "tensordump: cut.t: offset 16: truncated stream (frame header)" ]
}

@test "wrong magic" {
	two
	patch two.t 0 'x'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 0: bad magic: not a charnn tensor stream" ]
}

@test "a text file is not a stream" {
	run -1 --separate-stderr tensordump "$FIXTURES/td-all.txt"
	[ "$stderr" = "tensordump: $FIXTURES/td-all.txt: offset 0: bad magic: not a charnn tensor stream" ]
}

@test "a tensor record where a frame header belongs" {
	two
	tail -c +25 two.t > headless.t
	run -1 --separate-stderr tensordump headless.t
	[ "$stderr" = "tensordump: headless.t: offset 0: tensor record where a frame header was expected" ]
}

@test "unsupported version" {
	two
	patch two.t 4 '\002'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 0: unsupported version 2" ]
}

@test "unknown dtype" {
	two
	patch two.t 29 '\011'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 24: unknown dtype code 9" ]
}

@test "rank over 8" {
	two
	patch two.t 30 '\011'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 24: rank 9 (limit 8)" ]
}

@test "a dimension of 2^50 is refused by its limit, before the header CRC" {
	two
	patch two.t 40 '\0\0\0\0\0\0\004\0'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 24: tensor 'w': dimension over 2^40" ]
}

@test "dimensions whose product overflows 64 bits are refused by the element limit" {
	two
	patch two.t 40 '\0\0\0\0\0\001\0\0\0\0\0\0\0\001\0\0'	# [2^40 2^40]
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 24: tensor 'w': more than 2^40 elements" ]
	patch two.t 40 '\0\0\0\0\001\0\0\0\0\0\0\0\0\001\0\0'	# [2^32 2^40]
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 24: tensor 'w': more than 2^40 elements" ]
}

# Recompute the CRC of the header at offset $2 (length $3) of file $1, as a
# writer would have: for hand-damaged headers that must pass their CRC.
fix_header_crc() {
	{ bytes "$1" "$2" 12; printf '\0\0\0\0'; bytes "$1" $(($2 + 16)) $(($3 - 16)); } |
		crc32le > crc
	patch "$1" $(($2 + 12)) "$(od -An -to1 -v crc | sed 's/ /\\/g')"
}

@test "a NUL byte inside a tensor name is refused, not taken as the end of the name" {
	command -v gzip >/dev/null || skip "gzip is missing"
	# frame 'f' (24 bytes), tensor 'WxhXjunk' f32 [2]: header 24..56, name at 48
	printf 'frame f 1\ntensor WxhXjunk f32 [2] 1 2\n' | mkstream nul.t
	patch nul.t 51 '\0'
	fix_header_crc nul.t 24 32
	run -1 --separate-stderr tensordump nul.t
	[ "$stderr" = "tensordump: nul.t: offset 24: tensor name holds a NUL byte" ]
	printf 'frame f 1\ntensor W f32 [2] 1 2\n' | mkstream nul.t
	patch nul.t 48 '\0'	# a name of one byte, NUL
	fix_header_crc nul.t 24 32
	run -1 --separate-stderr tensordump nul.t
	[ "$stderr" = "tensordump: nul.t: offset 24: tensor name holds a NUL byte" ]
}

@test "a NUL byte inside a frame name is refused" {
	command -v gzip >/dev/null || skip "gzip is missing"
	printf 'frame abXd 0\n' | mkstream nul.t	# name at 16..19
	patch nul.t 18 '\0'
	fix_header_crc nul.t 0 24
	run -1 --separate-stderr tensordump -a nul.t
	[ "$stderr" = "tensordump: nul.t: offset 0: frame name holds a NUL byte" ]
	[ -z "$output" ]
}

@test "the reserved word after a tensor must be zero, and is called so" {
	two
	patch two.t 92 '\001'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 92: reserved word not zero after tensor 'w'" ]
	two
	patch two.t 198 '\001'	# b's data padding
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 197: padding not zero after tensor 'b'" ]
}

@test "a live tensor's data CRC must be zero" {
	printf 'frame f 1\ntensor w f32 [2] live 1 2\n' | mkstream live.t
	patch live.t 64 '\001'	# the data CRC field
	run -1 --separate-stderr tensordump live.t
	[ "$stderr" = "tensordump: live.t: offset 64: data CRC not zero in a live tensor 'w'" ]
}

@test "a flipped data byte: data CRC mismatch" {
	two
	patch two.t 64 '\001'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 88: data CRC mismatch in tensor 'w'" ]
}

@test "a flipped tensor header byte: header CRC mismatch" {
	two
	patch two.t 56 'v'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 24: tensor header CRC mismatch" ]
}

@test "a flipped frame header byte: header CRC mismatch" {
	two
	patch two.t 16 'p'
	run -1 --separate-stderr tensordump two.t
	[ "$stderr" = "tensordump: two.t: offset 0: frame header CRC mismatch" ]
}

@test "damage in the second frame: the first is listed, then the error" {
	two
	patch two.t 194 '\377'
	run -1 --separate-stderr tensordump -a two.t
	[ "$stderr" = "tensordump: two.t: offset 197: data CRC mismatch in tensor 'b'" ]
	[ "${lines[0]}" = "frame one 2" ]
	[ "${lines[-1]}" = "  7" ]
}

@test "a live tensor's data is not checked, and its flag is kept" {
	printf 'frame f 1\ntensor w f32 [2] live 1 2\n' | mkstream live.t
	bytes live.t 64 4 | od -An -tx1 | grep -qx ' 00 00 00 00'	# no data CRC
	patch live.t 56 '\001'	# data changed in place: still valid
	run -0 tensordump -a live.t
	[ "${lines[1]}" = "tensor w f32 [2] live" ]
}

@test "alignment padding: P zero words before the data, in the header CRC, kept by the text form" {
	printf 'frame f 1\ntensor w f32 [2] pad 3 1 2\n' | mkstream pad.t
	# frame 24, tensor header 32 + 24 of padding, data 8, CRC 8
	[ "$(wc -c < pad.t)" -eq 96 ]
	bytes pad.t 32 4 | od -An -tx1 | grep -qx ' 00 03 00 00'	# flags: P = 3
	header_crc_ok pad.t 24 56
	[ "$(bytes pad.t 56 24 | tr -d '\0' | wc -c)" -eq 0 ]
	bytes pad.t 80 8 | od -An -tx1 | grep -qx ' 00 00 80 3f 00 00 00 40'
	data_crc_ok pad.t 80 8 88
	run -0 tensordump -a pad.t
	[ "${lines[1]}" = "tensor w f32 [2] pad 3" ]
	tensordump -a pad.t | tensordump -r | cmp - pad.t
	printf 'frame f 1\ntensor w f32 [2] live pad 1 1 2\n' | mkstream lp.t
	run -0 tensordump -a lp.t
	[ "${lines[1]}" = "tensor w f32 [2] live pad 1" ]
}

@test "alignment padding must be zero; -r takes 0 to 255 words" {
	printf 'frame f 1\ntensor w f32 [2] pad 2 1 2\n' | mkstream pad.t
	patch pad.t 60 '\001'
	run -1 --separate-stderr tensordump pad.t
	[ "$stderr" = "tensordump: pad.t: offset 24: padding not zero in tensor header" ]
	run -1 --separate-stderr tensordump -r <<< $'frame f 1\ntensor w f32 [2] pad 256 1 2'
	[ "$stderr" = "tensordump: <stdin>: line 2: tensor 'w': pad 256 words (limit 255)" ]
	run -1 --separate-stderr tensordump -r <<< $'frame f 1\ntensor w f32 [2] pad x 1 2'
	[ "$stderr" = "tensordump: <stdin>: line 2: tensor 'w': bad pad count 'x'" ]
	printf 'frame f 1\ntensor w f32 [2] pad 0 1 2\n' | mkstream p0.t
	printf 'frame f 1\ntensor w f32 [2] 1 2\n' | mkstream none.t
	cmp p0.t none.t
}

@test "a huge tensor is read in constant memory: 2^40 f32 declared, truncated" {
	command -v gzip >/dev/null || skip "gzip is missing"
	# A frame 'big' of one tensor 'w' f32 [2^40], then 1 MiB of its data.
	printf 'chnF\001\003\0\0\001\0\0\0\0\0\0\0big\0\0\0\0\0' > head.t
	head -c 12 head.t | { cat; printf '\0\0\0\0'; tail -c 8 head.t; } | crc32le > crc
	patch head.t 12 "$(od -An -to1 -v crc | sed 's/ /\\/g')"
	printf 'chnT\001\004\001\001\0\0\0\0\0\0\0\0\0\0\0\0\0\001\0\0w\0\0\0\0\0\0\0' > t.t
	crc32le < t.t > crc
	patch t.t 12 "$(od -An -to1 -v crc | sed 's/ /\\/g')"
	{ cat head.t t.t; head -c 1048576 /dev/zero; } > huge.t
	for opt in "" -a "-e out"; do
		run -1 --separate-stderr tensordump $opt huge.t
		[ "$stderr" = "tensordump: huge.t: offset 1048632: truncated stream (w)" ]
	done
	[ -z "$(ls out)" ]	# no half-written export left behind
}

# A file whose header claims one tensor 'w' f32 [D] (a frame 'big'), D the
# 8 little-endian bytes $1 (printf escapes), with $2 bytes of its data: a
# lying header.
lying_header() {
	printf 'chnF\001\003\0\0\001\0\0\0\0\0\0\0big\0\0\0\0\0' > head.t
	fix_header_crc head.t 0 24
	printf 'chnT\001\004\001\001\0\0\0\0\0\0\0\0%bw\0\0\0\0\0\0\0' "$1" > t.t
	fix_header_crc t.t 0 32
	{ cat head.t t.t; head -c "$2" /dev/zero; } > lie.t
}

@test "a program loading a tensor whole allocates as its data comes: a lying header costs nothing" {
	command -v gzip >/dev/null || skip "gzip is missing"
	lying_header '\0\0\0\0\100\0\0\0' 1048576	# [2^38] f32: 2^40 bytes claimed
	run -1 --separate-stderr sample lie.t
	[ "$stderr" = "sample: lie.t: offset 1048632: truncated stream (w)" ]
	run -1 --separate-stderr bash -c 'cat lie.t | sample -'
	[ "$stderr" = "sample: <stdin>: offset 1048632: truncated stream (w)" ]
}

@test "a lying header of 4 GiB fails as truncated under a 512 MiB address space limit" {
	command -v gzip >/dev/null || skip "gzip is missing"
	# AddressSanitizer reserves terabytes of address space up front.
	[ -z "${ASAN_OPTIONS:-}" ] || skip "not under AddressSanitizer"
	lying_header '\0\0\0\100\0\0\0\0' 100	# [2^30] f32: 4 GiB claimed
	run -1 --separate-stderr bash -c 'ulimit -v 524288 && cat lie.t | sample -'
	[ "$stderr" = "sample: <stdin>: offset 56: truncated stream (w)" ]
	run -1 --separate-stderr bash -c 'ulimit -v 524288 && sample lie.t'
	[ "$stderr" = "sample: lie.t: offset 56: truncated stream (w)" ]
}

@test "frame of more than 4096 tensors" {
	command -v gzip >/dev/null || skip "gzip is missing"
	printf 'chnF\001\001\0\0\211\023\0\0\0\0\0\0f\0\0\0\0\0\0\0' > f.t	# 5001
	crc32le < f.t > crc
	patch f.t 12 "$(od -An -to1 -v crc | sed 's/ /\\/g')"
	run -1 --separate-stderr tensordump f.t
	[ "$stderr" = "tensordump: f.t: offset 0: frame of 5001 tensors (limit 4096)" ]
}

# The reader printed on formats/tensor.md, run as it stands.
extract_reader() {
	command -v python3 >/dev/null || skip "python3 is missing"
	awk '/^```python$/ { on = 1; next } /^```$/ { on = 0 } on' \
		"$TOP/formats/tensor.md" > reader.py
	grep -q '^def read_frames' reader.py
}

@test "the Python reader of formats/tensor.md reads what tensordump -r writes" {
	extract_reader
	cat >> reader.py <<'EOF'

import sys
for frame, tensors in read_frames(open(sys.argv[1], "rb")):
    print("frame", frame, len(tensors))
    for name, dtype, dims, values in tensors:
        v = values.ravel().tolist() if hasattr(values, "ravel") else list(values)
        if len(v) > 8:
            v = [len(v), sum(v), v[0], v[-1]]
        print(name, dtype, dims, v)
EOF
	{
		cat "$FIXTURES/td-all.txt"
		echo "frame padded 1"
		echo "tensor p i32 [3] pad 5"; echo "4 5 6"
		echo "frame big 2"
		echo "tensor x f32 [100 100]"; seq 0 9999 | sed 's/$/.5/'
		echo "tensor y i64 [10000]"; seq -5000 4999
	} | mkstream in.t
	run -0 python3 reader.py in.t
	diff - <(printf '%s\n' "${lines[@]}") <<'EOF'
frame scalars 5
u u8 [] [255]
i i32 [] [-2147483648]
l i64 [] [-9223372036854775808]
f f32 [] [0.10000000149011612]
d f64 [] [0.1]
frame ranks 6
r1 i32 [3] [1, -2, 2147483647]
r2 f32 [2, 3] [1.0, 2.5, -3.0, 0.004000000189989805, 5.000000100204387e+20, -6.25]
r3 f64 [2, 2, 3] [12, 78.0, 1.0, 12.0]
r3u u8 [2, 1, 2] [0, 1, 2, 3]
e u8 [0, 3] []
e3 i64 [2, 0, 2] []
frame  0
frame specials 3
f f32 [12] [12, nan, nan, 16777216.0]
d f64 [10] [10, nan, nan, 0.3333333333333333]
w f32 [2] [1.0, 2.0]
frame wide 2
v i64 [20] [20, 210, 1, 20]
m u8 [2, 20] [40, 780, 0, 39]
frame padded 1
p i32 [3] [4, 5, 6]
frame big 2
x f32 [100, 100] [10000, 50000000.0, 0.5, 9999.5]
y i64 [10000] [10000, -5000, -5000, 4999]
EOF
}

@test "tensordump reads what the Python mirror of the reader writes" {
	extract_reader
	cat >> reader.py <<'EOF'

import sys

def write_frame(f, name, tensors):
    nb = name.encode()
    hdr = bytearray(struct.pack("<4sBBHII", b"chnF", 1, len(nb), 0, len(tensors), 0))
    hdr += nb.ljust(_pad8(len(nb)), b"\0")
    struct.pack_into("<I", hdr, 12, zlib.crc32(hdr))
    f.write(hdr)
    for tname, code, dims, fmt, values in tensors:
        nb = tname.encode()
        hdr = bytearray(struct.pack("<4sBBBBII", b"chnT", 1, code, len(dims), len(nb), 0, 0))
        hdr += struct.pack("<%dQ" % len(dims), *dims) + nb.ljust(_pad8(len(nb)), b"\0")
        struct.pack_into("<I", hdr, 12, zlib.crc32(hdr))
        data = struct.pack("<%d%s" % (len(values), fmt), *values)
        f.write(hdr + data.ljust(_pad8(len(data)), b"\0"))
        f.write(struct.pack("<II", zlib.crc32(data), 0))

with open(sys.argv[1], "wb") as f:
    write_frame(f, "py", [("a", 5, [10000], "d", [i / 4 for i in range(10000)]),
                          ("b", 1, [3], "B", [1, 2, 3])])
    write_frame(f, "py2", [("c", 2, [2, 2], "i", [-1, 2, -3, 4])])
EOF
	python3 reader.py py.t
	run -0 tensordump -a py.t
	[ "${#lines[@]}" -eq $((2 + 1667 + 2 + 4)) ]	# 1667 lines of 6 values
	[ "${lines[1]}" = "tensor a f64 [10000]" ]
	[ "${lines[2]}" = "  0 0.25 0.5 0.75 1 1.25" ]
	[ "${lines[-7]}" = "    2499 2499.25 2499.5 2499.75" ]
	printf '%s\n' "${lines[@]: -6}" | diff - <(cat <<'EOF'
tensor b u8 [3]
  1 2 3
frame py2 1
tensor c i32 [2 2]
  -1  2
  -3  4
EOF
)
}

# Damaged copies of two.t (or small streams), one a case, each refused by
# tensordump and by the Python reader. The header CRC is made right again
# where the damage is in a header, so that the check meant is the one hit.
# Prints "FILE: PYTHON'S MESSAGE" for each.
damaged_streams() {
	two
	cp two.t reserved-frame.t; patch reserved-frame.t 6 '\001'; fix_header_crc reserved-frame.t 0 24
	cp two.t pad-frame.t; patch pad-frame.t 21 '\001'; fix_header_crc pad-frame.t 0 24
	cp two.t count.t; patch count.t 8 '\211\023'; fix_header_crc count.t 0 24	# 5001
	cp two.t dtype.t; patch dtype.t 29 '\011'
	cp two.t rank.t; patch rank.t 30 '\011'
	cp two.t flags.t; patch flags.t 32 '\002'; fix_header_crc flags.t 24 40
	cp two.t pad-name.t; patch pad-name.t 58 '\001'; fix_header_crc pad-name.t 24 40
	cp two.t dim.t; patch dim.t 40 '\0\0\0\0\0\0\004\0'
	cp two.t elems.t; patch elems.t 40 '\0\0\0\0\0\001\0\0\0\0\0\0\0\001\0\0'
	cp two.t data.t; patch data.t 64 '\001'
	cp two.t pad-data.t; patch pad-data.t 198 '\001'
	cp two.t reserved-word.t; patch reserved-word.t 92 '\001'
	cp two.t nul.t; patch nul.t 56 '\0'; fix_header_crc nul.t 24 40
	head -c 100 two.t > cut.t
	printf 'frame f 1\ntensor w f32 [2] live 1 2\n' | mkstream live.t
	patch live.t 64 '\001'
	printf 'frame f 1\ntensor w f32 [2] pad 1 1 2\n' | mkstream align.t
	patch align.t 52 '\001'; fix_header_crc align.t 24 40
}

@test "the Python reader of formats/tensor.md is strict: it refuses every damaged stream tensordump refuses" {
	command -v gzip >/dev/null || skip "gzip is missing"
	extract_reader
	cat >> reader.py <<'EOF2'

import sys
for path in sys.argv[1:]:
    try:
        for frame, tensors in read_frames(open(path, "rb")):
            pass
        print(path + ": accepted")
    except ValueError as e:
        print(path + ": " + str(e))
EOF2
	damaged_streams
	files="reserved-frame.t pad-frame.t count.t dtype.t rank.t flags.t pad-name.t dim.t
		elems.t data.t pad-data.t reserved-word.t nul.t cut.t live.t align.t"
	for f in $files; do
		run -1 --separate-stderr tensordump "$f"
		[[ "$stderr" == "tensordump: $f: offset "* ]] || { echo "$f: $stderr"; false; }
	done
	run -0 python3 reader.py $files
	diff - <(printf '%s\n' "${lines[@]}") <<'EOF2'
reserved-frame.t: reserved bytes not zero in frame header
pad-frame.t: padding not zero in frame header
count.t: frame of 5001 tensors (limit 4096)
dtype.t: unknown dtype code 9
rank.t: rank 9 (limit 8)
flags.t: unknown flags 0x2
pad-name.t: padding not zero in tensor header
dim.t: tensor w: dimension over 2^40
elems.t: tensor w: more than 2^40 elements
data.t: bad data CRC in w
pad-data.t: padding not zero after tensor b
reserved-word.t: reserved word not zero after tensor w
nul.t: tensor name holds a NUL byte
cut.t: truncated stream in tensor header
live.t: data CRC not zero in a live tensor w
align.t: padding not zero in tensor header
EOF2
}
