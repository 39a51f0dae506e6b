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

# uniform_ok MODEL NAME BOUND [NAME BOUND ...]: in stream MODEL, every value
# of each tensor NAME lies within +-BOUND (give it with %.17g; the rounding
# to f32 may add 1e-7 of it), its smallest and largest beyond 0.9 BOUND,
# its mean within 4 standard errors of 0 (a uniform's sd is BOUND/sqrt(3)).
uniform_ok() {
	local m=$1
	shift
	tensordump -a "$m" | mdl_pick $(printf '%s %.0s' "$@") | awk -v want="$*" '
		function done_tensor() {
			if (name == "") return
			b = bound[name]; e = 4 * b / sqrt(3) / sqrt(n); seen++
			printf "%s: %d values in [%.9g, %.9g], mean %.3g; bound %.9g\n", name, n, lo, hi, s / n, b
			if (lo < -b * (1 + 1e-7) || hi > b * (1 + 1e-7) || lo > -0.9 * b || hi < 0.9 * b ||
			    s / n > e || s / n < -e)
				bad = 1
		}
		BEGIN { k = split(want, w); for (i = 1; i < k; i += 2) bound[w[i]] = w[i + 1] }
		/^tensor/ { done_tensor(); name = $2; n = 0; s = 0; next }
		{ for (i = 1; i <= NF; i++) { v = $i + 0; if (!n) lo = hi = v
			if (v < lo) lo = v; if (v > hi) hi = v; s += v; n++ } }
		END { done_tensor(); exit bad || seen != k / 2 }'
}

# The value of awk expression $1, to 17 digits.
calc() {
	awk "BEGIN { printf \"%.17g\", $1 }"
}

# The Python draws printed on formats/model.md, INITIALISATION, as they
# stand, and a check that compares them with a model bit for bit: the
# tensordump -a text of the model on stdin, the scheme and the seed as
# arguments; every bias 0 but an LSTM's forget block, 1.
page_draws() {
	command -v python3 > /dev/null || skip "python3 is missing"
	awk '/^```python$/ { on = 1; next } /^```$/ { on = 0 } on' \
		"$TOP/formats/model.md" > "$D/draws.py"
	grep -q '^def draw' "$D/draws.py"
	cat >> "$D/draws.py" <<'EOF'

# The model dumped by tensordump -a on stdin against the draws above for
# scheme sys.argv[1] and seed sys.argv[2], bit for bit; every bias 0 but an
# LSTM's forget block, 1. Prints the first difference and exits 1.
import struct, sys

def to_real(x, dtype):
    return struct.unpack("<f", struct.pack("<f", x))[0] if dtype == "f32" else x

tensors, cur = [], None
for line in sys.stdin:
    w = line.split()
    if w[0] == "tensor":
        cur = [w[1], w[2], [int(d) for d in line[line.index("[") + 1:line.index("]")].split()], []]
        tensors.append(cur)
    elif w[0] != "frame" and cur:
        cur[3] += [float(v) for v in w]
t = {name: (dtype, dims, v) for name, dtype, dims, v in tensors}
cell = int(t["arch"][2][0]) if "arch" in t else 0
G = (1, 4, 3)[cell]
g = Rng(int(sys.argv[2]))
for name, dtype, (rows, cols), values in [x for x in tensors if x[0][0] == "W"]:
    fan_out = rows if name == "Why" else rows // G
    H = cols if name == "Why" else rows // G
    want = [to_real(x, dtype) for x in draw(g, rows * cols, sys.argv[1], cols, fan_out, H)]
    values = [to_real(x, dtype) for x in values]   # 9 digits make one f32
    for i, (a, b) in enumerate(zip(values, want)):
        if a != b:
            sys.exit("%s[%d]: %r, the page gives %r" % (name, i, a, b))
for name, dtype, (n,), values in [x for x in tensors if x[0][0] == "b"]:
    lstm = cell == 1 and name.startswith("b.")
    want = [1.0 if lstm and n // 4 <= i < n // 2 else 0.0 for i in range(n)]
    if values != want:
        sys.exit("%s: %r" % (name, values))
EOF
}

# The SHA-256 of rnn-init -H 4 -s 1 on the 6-entry vocabulary, stored for
# dtype $1 (f32: normal build, f64: double build).
stored_sha() {
	awk -v d="$1" '$1 == d { print $2 }' "$FIXTURES/mdl-init.sha256"
}

@test "rnn-init --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr rnn-init --help
	[ "${lines[0]}" = "usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-i scheme] [-s seed] [VOCAB]" ]
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
	[ "${stderr_lines[-1]}" = "usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-i scheme] [-s seed] [VOCAB]" ]
	run -2 --separate-stderr rnn-init "$D/vocab.t" "$D/vocab.t"
	[ "$stderr" = "usage: rnn-init [-C cell] [-L layers] [-H hidden[,hidden...]] [-i scheme] [-s seed] [VOCAB]" ]
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

@test "rnn-init: the default is normal:0.01 for the default model, pytorch for the family, byte for byte" {
	for a in "-H 4 -s 1" "-H 100" "-C rnn -L 1 -H 7"; do
		rnn-init $a "$D/vocab.t" > "$D/a.t"
		rnn-init -i normal:0.01 $a "$D/vocab.t" | cmp - "$D/a.t"
		rnn-init -i normal:1e-2 $a "$D/vocab.t" | cmp - "$D/a.t"
	done
	for a in "-C lstm -L 2 -H 3,2 -s 2" "-C gru -L 3 -H 4" "-C rnn -L 2 -H 5" "-C lstm -H 6"; do
		rnn-init $a "$D/vocab.t" > "$D/a.t"
		rnn-init -i pytorch $a "$D/vocab.t" | cmp - "$D/a.t"
		run -1 cmp -s <(rnn-init -i normal:0.01 $a "$D/vocab.t") "$D/a.t"
	done
}

@test "rnn-init -i normal:0.5: weights about N(0, 0.5^2), biases zero" {
	rnn-init -i normal:0.5 -H 50 -s 9 "$D/vocab.t" > "$D/m.t"
	tensordump -a "$D/m.t" | mdl_pick bh by | awk '!/^tensor/ { for (i = 1; i <= NF; i++) if ($i != 0) exit 1 }'
	tensordump -a "$D/m.t" | mdl_pick Wxh Whh Why | awk '
		!/^tensor/ { for (i = 1; i <= NF; i++) { n++; s += $i; q += $i * $i } }
		END { sd = sqrt(q / n); m = s / n
			exit !(n == 3100 && sd > 0.45 && sd < 0.55 && m < 4 * 0.5 / sqrt(n) && m > -4 * 0.5 / sqrt(n)) }'
}

@test "rnn-init -i uniform:0.08: every weight within +-0.08, the ends reached, biases as before" {
	rnn-init -i uniform:0.08 -H 50 -s 9 "$D/vocab.t" > "$D/m.t"
	run -0 uniform_ok "$D/m.t" Wxh 0.08 Whh 0.08 Why 0.08
	tensordump -a "$D/m.t" | mdl_pick bh by | awk '!/^tensor/ { for (i = 1; i <= NF; i++) if ($i != 0) exit 1 }'
	rnn-init -i uniform:0.08 -C lstm -H 20 "$D/vocab.t" > "$D/l.t"
	run -0 uniform_ok "$D/l.t" Wx.0 0.08 Wh.0 0.08 Why 0.08
	[ "$(tensordump -a "$D/l.t" | mdl_pick b.0 | grep -v '^tensor' | xargs | tr ' ' '\n' | sort | uniq -c | xargs)" = "60 0 20 1" ]
}

@test "rnn-init -i xavier: each matrix within sqrt(6/(fan_in+fan_out)), fan_out a gate block's rows" {
	# V 6; layer 0: I 6, H 40; layer 1: I 40, H 60; Why (6,60).
	rnn-init -i xavier -C lstm -H 40,60 -s 3 "$D/vocab.t" > "$D/m.t"
	run -0 uniform_ok "$D/m.t" Wx.0 "$(calc 'sqrt(6/46)')" Wh.0 "$(calc 'sqrt(6/80)')" \
		Wx.1 "$(calc 'sqrt(6/100)')" Wh.1 "$(calc 'sqrt(6/120)')" Why "$(calc 'sqrt(6/66)')"
	# The default model: Wxh (H,V), Whh (H,H), Why (V,H).
	rnn-init -i xavier -H 50 "$D/vocab.t" > "$D/d.t"
	run -0 uniform_ok "$D/d.t" Wxh "$(calc 'sqrt(6/56)')" Whh "$(calc 'sqrt(6/100)')" Why "$(calc 'sqrt(6/56)')"
}

@test "rnn-init -i pytorch: each matrix within 1/sqrt(H) of its layer, Why of the top one" {
	rnn-init -i pytorch -C gru -H 40,60 -s 3 "$D/vocab.t" > "$D/m.t"
	run -0 uniform_ok "$D/m.t" Wx.0 "$(calc '1/sqrt(40)')" Wh.0 "$(calc '1/sqrt(40)')" \
		Wx.1 "$(calc '1/sqrt(60)')" Wh.1 "$(calc '1/sqrt(60)')" Why "$(calc '1/sqrt(60)')"
	rnn-init -i pytorch -H 50 "$D/vocab.t" > "$D/d.t"
	run -0 uniform_ok "$D/d.t" Wxh "$(calc '1/sqrt(50)')" Whh "$(calc '1/sqrt(50)')" Why "$(calc '1/sqrt(50)')"
}

@test "rnn-init -i: a seed gives the same bytes, another seed others, for every scheme" {
	for scheme in normal:0.3 uniform:0.08 xavier pytorch; do
		rnn-init -i "$scheme" -C lstm -H 5 -s 5 "$D/vocab.t" > "$D/a.t"
		rnn-init -i "$scheme" -C lstm -H 5 -s 5 < "$D/vocab.t" | cmp - "$D/a.t"
		rnn-init -i "$scheme" -C lstm -H 5 -s 6 "$D/vocab.t" > "$D/b.t"
		run -1 cmp -s "$D/b.t" "$D/a.t"
		[ "$scheme" = pytorch ] && continue	# the family's default
		rnn-init -C lstm -H 5 -s 5 "$D/vocab.t" > "$D/b.t"
		run -1 cmp -s "$D/b.t" "$D/a.t"
	done
	rnn-init -i uniform:0.5 -H 5 "$D/vocab.t" | cmp - <(rnn-init -i uniform:0.50 -H 5 "$D/vocab.t")
}

@test "rnn-init -i: the Python draws of formats/model.md give the same bytes, every scheme and cell" {
	page_draws
	for scheme in normal:0.01 normal:2.5 uniform:0.08 xavier pytorch; do
		for a in "-H 5 -s 3" "-C lstm -L 2 -H 6,4 -s 9" "-C gru -H 3,7 -s 0" "-C rnn -L 2 -H 7 -s 1"; do
			rnn-init -i "$scheme" $a "$D/vocab.t" > "$D/m.t"
			run -0 python3 "$D/draws.py" "$scheme" "${a##* }" < <(tensordump -a "$D/m.t")
			[ -x "$DBIN/rnn-init" ] || continue
			"$DBIN/rnn-init" -i "$scheme" $a "$D/vocab.t" > "$D/m.t"
			run -0 python3 "$D/draws.py" "$scheme" "${a##* }" < <("$DBIN/tensordump" -a "$D/m.t")
		done
	done
}

@test "rnn-init -i: an unknown scheme or a bad scale is a usage error" {
	for scheme in foo normal normal: normal:abc "normal: 1" normal:1x xavier:2 Xavier uniform; do
		run -2 --separate-stderr rnn-init -i "$scheme" "$D/vocab.t"
		[ "$stderr" = "rnn-init: -i: '$scheme' is not normal:S, uniform:A, xavier or pytorch" ]
		[ -z "$output" ]
	done
	for scheme in normal:0 normal:-1 normal:10.5 normal:inf normal:nan normal:1e-400; do
		run -2 --separate-stderr rnn-init -i "$scheme" "$D/vocab.t"
		[ "$stderr" = "rnn-init: -i: '$scheme': S is out of range (0, 10]" ]
		[ -z "$output" ]
	done
	run -2 --separate-stderr rnn-init -i uniform:11 "$D/vocab.t"
	[ "$stderr" = "rnn-init: -i: 'uniform:11': A is out of range (0, 10]" ]
	run -0 rnn-init -i uniform:10 -H 2 "$D/vocab.t"
}
