#!/usr/bin/env bats
# rnn-bwd: the backward pass over each forward frame, with clipping.

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper

USAGE="usage: rnn-bwd [-M] [-c CLIP] [-j N] [-m MODEL | -w WORKSPACE] [FILE]"
GRADS="dWxh dWhh dWhy dbh dby"

# A model of V 6, H 4; the forward frame of a window (T 3, B 1) without
# parameters (f.t) and with them inline (fi.t); a long window (T 10) whose
# targets are all 0, so that dby[0] is about 10 * (1/6 - 1) = -8.3 (fl.t).
setup() {
	D=$BATS_TEST_TMPDIR
	mdl_model "$D"
	mdl_window_text | tensordump -r | rnn-fwd -m "$D/model.t" > "$D/f.t"
	{ mdl_window_text; mdl_tensors "$D/model.t"; } | tensordump -r | rnn-fwd > "$D/fi.t"
	{
		printf 'frame window\ntensor x i32 [10 1]\n0 1 2 3 4 5 0 1 2 3\n'
		printf 'tensor y i32 [10 1]\n0 0 0 0 0 0 0 0 0 0\n'
		mdl_zeros h0 f32 1 4
	} | tensordump -r | rnn-fwd -m "$D/model.t" > "$D/fl.t"
}

# rnn-bwd -m model.t on the forward frame edited (text form) by sed script $1.
bad_forward() {
	mdl_text "$D/f.t" | sed "$1" | tensordump -r > "$D/bad.t"
	run -1 --separate-stderr rnn-bwd -m "$D/model.t" < "$D/bad.t"
	[ -z "$output" ]
}

# The values of tensor $2 in stream $1, one line.
values() {
	tensordump -a "$1" | mdl_pick "$2" | sed 1d | tr '\n' ' ' | tr -s ' '
}

@test "rnn-bwd --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr rnn-bwd --help
	[ "${lines[0]}" = "$USAGE" ]
	[ -z "$stderr" ]
}

@test "rnn-bwd: one step standalone: rnn-fwd < step.t | rnn-bwd | tensordump" {
	{ mdl_window_text; mdl_tensors "$D/model.t"; } | tensordump -r > "$D/step.t"
	run -0 --separate-stderr bash -c "set -o pipefail; rnn-fwd < '$D/step.t' | rnn-bwd | tensordump"
	[ "${lines[0]}" = "frame grads 15  # frame 0" ]
	[ -z "$stderr" ]
}

@test "rnn-bwd: frame grads: x y h0 hs ps dropped, the rest passed, then the gradients" {
	rnn-bwd -m "$D/model.t" "$D/f.t" > "$D/g.t"
	[ "$(tensordump -a "$D/g.t" | grep -c '^frame grads ')" -eq 1 ]
	[ "$(mdl_names "$D/g.t")" = "step loss hT $GRADS dh0" ]
	run -0 bash -c "tensordump -a '$D/g.t' | grep '^tensor d'"
	[ "${lines[0]}" = "tensor dWxh f32 [4 6]" ]
	[ "${lines[1]}" = "tensor dWhh f32 [4 4]" ]
	[ "${lines[2]}" = "tensor dWhy f32 [6 4]" ]
	[ "${lines[3]}" = "tensor dbh f32 [4]" ]
	[ "${lines[4]}" = "tensor dby f32 [6]" ]
	[ "${lines[5]}" = "tensor dh0 f32 [1 4]" ]
	cmp <(tensordump -a "$D/f.t" | mdl_pick step loss hT) \
		<(tensordump -a "$D/g.t" | mdl_pick step loss hT)
}

@test "rnn-bwd: dby is sum over t of ps minus the one-hot targets" {
	rnn-bwd -m "$D/model.t" "$D/f.t" > "$D/g.t"
	# y is 1 2 3: dby[v] = sum_t ps[t][v] - (v in {1,2,3}).
	paste -d' ' <(tensordump -a "$D/f.t" | mdl_pick ps | sed 1d | awk 'NF {
			for (i = 1; i <= NF; i++) s[i] += $i } END { for (i = 1; i <= 6; i++)
			printf "%.9g ", s[i] - (i >= 2 && i <= 4) }') \
		<(values "$D/g.t" dby) | awk '{ for (i = 1; i <= 6; i++) { d = $i - $(i + 6)
			if (d > 1e-6 || d < -1e-6) exit 1 } }'
}

@test "rnn-bwd: an unknown tensor passes through unchanged" {
	{ mdl_text "$D/f.t"; printf 'tensor tag u8 [2]\n4 2\n'; } | tensordump -r > "$D/t.t"
	rnn-bwd -m "$D/model.t" "$D/t.t" > "$D/g.t"
	[ "$(mdl_names "$D/g.t")" = "step loss hT tag $GRADS dh0" ]
	cmp <(tensordump -a "$D/t.t" | mdl_pick tag) <(tensordump -a "$D/g.t" | mdl_pick tag)
}

@test "rnn-bwd: -m and inline parameters give the same gradients" {
	rnn-bwd -m "$D/model.t" "$D/f.t" > "$D/m.t"
	rnn-bwd "$D/fi.t" > "$D/i.t"
	[ "$(mdl_names "$D/i.t")" = "step vocab Wxh Whh Why bh by loss hT $GRADS dh0" ]
	cmp <(tensordump -a "$D/m.t" | mdl_pick $GRADS dh0) \
		<(tensordump -a "$D/i.t" | mdl_pick $GRADS dh0)
}

@test "rnn-bwd: -w writes the gradients into the workspace, dh0 into the stream" {
	mdl_workspace "$D/model.t" "$D/ws.t"
	rnn-bwd -m "$D/model.t" "$D/f.t" > "$D/m.t"
	rnn-bwd -w "$D/ws.t" "$D/f.t" > "$D/w.t"
	[ "$(mdl_names "$D/w.t")" = "step loss hT dh0" ]
	cmp <(tensordump -a "$D/m.t" | mdl_pick $GRADS) <(tensordump -a "$D/ws.t" | mdl_pick $GRADS)
	cmp <(tensordump -a "$D/m.t" | mdl_pick dh0) <(tensordump -a "$D/w.t" | mdl_pick dh0)
	# The parameters are untouched.
	cmp <(tensordump -a "$D/model.t" | mdl_pick Wxh Whh Why bh by) \
		<(tensordump -a "$D/ws.t" | mdl_pick Wxh Whh Why bh by)
}

@test "rnn-bwd: gradients are clipped to [-5, 5]; -c 0 does not clip" {
	rnn-bwd -m "$D/model.t" "$D/fl.t" > "$D/clip.t"
	rnn-bwd -c 0 -m "$D/model.t" "$D/fl.t" > "$D/free.t"
	# Unclipped, dby[0] is beyond -5; clipped, it is -5 exactly.
	awk '{ exit !($1 < -8 && $1 > -8.7) }' <<< "$(values "$D/free.t" dby)"
	awk '{ exit !($1 == -5) }' <<< "$(values "$D/clip.t" dby)"
	# Everything within bounds is the same either way.
	[ "$(values "$D/clip.t" dby | cut -d' ' -f3-)" = "$(values "$D/free.t" dby | cut -d' ' -f3-)" ]
	cmp <(tensordump -a "$D/clip.t" | mdl_pick dWxh dWhh dWhy dbh dh0) \
		<(tensordump -a "$D/free.t" | mdl_pick dWxh dWhh dWhy dbh dh0)
}

@test "rnn-bwd -M: the gradients of the mean loss per character, the sum's over T, clipped after" {
	rnn-bwd -c 0 -m "$D/model.t" < "$D/fl.t" > "$D/s.t"
	rnn-bwd -c 0 -M -m "$D/model.t" < "$D/fl.t" > "$D/m.t"
	for t in $GRADS dh0; do
		paste <(values "$D/s.t" "$t" | tr ' ' '\n') <(values "$D/m.t" "$t" | tr ' ' '\n') |
			awk 'NF == 2 { n++; d = $1 / 10 - $2; if (d < 0) d = -d
				if (d > 1e-6 * (($1 < 0 ? -$1 : $1) / 10 + 1e-3)) bad++ }
				END { exit !(n > 0 && !bad) }'
	done
	# dby[0] is about -8.3 summed, -0.83 as a mean: under a clip of 0.5
	# only after the scaling.
	[ "$(values "$D/m.t" dby | awk '{ print $1 }')" != "-0.5" ]
	rnn-bwd -c 0.5 -M -m "$D/model.t" < "$D/fl.t" > "$D/c.t"
	[ "$(values "$D/c.t" dby | awk '{ print $1 }')" = "-0.5" ]
}

@test "rnn-bwd -c 1.5 clips every gradient element to [-1.5, 1.5]" {
	rnn-bwd -c 1.5 -m "$D/model.t" "$D/fl.t" > "$D/g.t"
	[ "$(values "$D/g.t" dby)" = " -1.5 1.5 1.5 1.5 1.5 1.5 " ]
	tensordump -a "$D/g.t" | mdl_pick $GRADS | awk '!/^tensor/ {
		for (i = 1; i <= NF; i++) if ($i > 1.5 || $i < -1.5) exit 1 }'
}

@test "rnn-bwd: -c must be a number, not negative" {
	run -2 --separate-stderr rnn-bwd -c -1
	[ "$stderr" = "rnn-bwd: -c: -1 is out of range [0, 1e+30]" ]
	run -2 --separate-stderr rnn-bwd -c five
	[ "$stderr" = "rnn-bwd: -c: not a number: 'five'" ]
	[ -z "$output" ]
}

@test "rnn-bwd: a window that has not been forward" {
	mdl_window_text | tensordump -r > "$D/w.t"
	run -1 --separate-stderr rnn-bwd -m "$D/model.t" "$D/w.t"
	[ "$stderr" = "rnn-bwd: $D/w.t: frame 'window': no tensor 'hs'" ]
	[ -z "$output" ]
}

@test "rnn-bwd: a missing tensor" {
	bad_forward '/^tensor ps/,/^tensor loss/{/^tensor loss/!d}'
	[ "$stderr" = "rnn-bwd: <stdin>: frame 'forward': no tensor 'ps'" ]
	bad_forward '/^tensor x /,/^tensor y /{/^tensor y /!d}'
	[ "$stderr" = "rnn-bwd: <stdin>: frame 'forward': no tensor 'x'" ]
	# Unlike rnn-fwd, no carried h0: the gradient of Whh needs it.
	bad_forward '/^tensor h0 /,/^tensor step /{/^tensor step /!d}'
	[ "$stderr" = "rnn-bwd: <stdin>: frame 'forward': no tensor 'h0'" ]
	run -1 --separate-stderr rnn-bwd "$D/f.t"
	[ "$stderr" = "rnn-bwd: $D/f.t: frame 'forward': no tensor 'Wxh'" ]
}

@test "rnn-bwd: wrong shapes and dtypes" {
	bad_forward 's/^tensor hs f32 \[3 1 4\]/tensor hs f32 [1 3 4]/'
	[ "$stderr" = "rnn-bwd: <stdin>: tensor 'hs' has shape (1,3,4), expected (3,1,4)" ]
	bad_forward 's/^tensor ps f32 \[3 1 6\]/tensor ps f32 [3 6]/'
	[ "$stderr" = "rnn-bwd: <stdin>: tensor 'ps' has shape (3,6), expected (3,1,6)" ]
	bad_forward 's/^tensor hs f32/tensor hs f64/'
	[ "$stderr" = "rnn-bwd: <stdin>: tensor 'hs' is f64, but this build computes in f32" ]
	bad_forward 's/^tensor y i32/tensor y i64/'
	[ "$stderr" = "rnn-bwd: <stdin>: tensor 'y' is i64, expected i32" ]
	bad_forward '/^tensor y /,/^tensor h0/s/^ *3$/9/'
	[ "$stderr" = "rnn-bwd: <stdin>: tensor 'y' index 9 out of range [0, 6)" ]
}

@test "rnn-bwd: a workspace whose gradients do not fit its parameters" {
	rnn-init -H 3 "$D/vocab.t" > "$D/m3.t"
	mdl_workspace "$D/m3.t" "$D/ws3.t"
	{ tensordump -a "$D/model.t"; mdl_text "$D/ws3.t" | sed -n '/^frame adagrad/,$p'; } |
		tensordump -r > "$D/ws.t"
	run -1 --separate-stderr rnn-bwd -w "$D/ws.t" "$D/f.t"
	[ "$stderr" = "rnn-bwd: $D/ws.t: frame 'grads': V 6, H 3, but the parameters have V 6, H 4" ]
	run -1 --separate-stderr rnn-bwd -w "$D/model.t" "$D/f.t"
	[ "$stderr" = "rnn-bwd: $D/model.t: frame 'grads': no tensor 'dWxh'" ]
	[ -z "$output" ]
}

@test "rnn-bwd: an empty stream gives an empty output" {
	run -0 --separate-stderr rnn-bwd < /dev/null
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "rnn-bwd: a truncated stream is an error after the complete frames" {
	cat "$D/fi.t" "$D/fi.t" > "$D/two.t"
	head -c $(($(wc -c < "$D/two.t") - 100)) "$D/two.t" > "$D/cut.t"
	run -1 --separate-stderr bash -c "rnn-bwd < '$D/cut.t' > '$D/out.t'"
	[[ "$stderr" == "rnn-bwd: <stdin>: offset "*": truncated stream"* ]]
	[ "$(tensordump "$D/out.t" | grep -c '^frame')" -eq 1 ]
}

@test "rnn-bwd: a missing file, a closed stdout" {
	run -1 --separate-stderr rnn-bwd "$D/nope.t"
	[ "$stderr" = "rnn-bwd: $D/nope.t: No such file or directory" ]
	run -1 --separate-stderr rnn-bwd -m "$D/nope.t" "$D/f.t"
	[ "$stderr" = "rnn-bwd: $D/nope.t: No such file or directory" ]
	run -1 --separate-stderr bash -c "rnn-bwd < '$D/fi.t' >&-"
	[ "$stderr" = "rnn-bwd: <stdout>: write error: Bad file descriptor" ]
}

@test "rnn-bwd: bad usage exits 2" {
	run -2 --separate-stderr rnn-bwd -x
	[ "${stderr_lines[-1]}" = "$USAGE" ]
	run -2 --separate-stderr rnn-bwd -w "$D/model.t" -m "$D/model.t"
	[ "$stderr" = "$USAGE" ]
	run -2 --separate-stderr rnn-bwd "$D/f.t" "$D/f.t"
	[ "$stderr" = "$USAGE" ]
	[ -z "$output" ]
}
