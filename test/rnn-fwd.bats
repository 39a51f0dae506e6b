#!/usr/bin/env bats
# rnn-fwd: the forward pass over each window frame.

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper

USAGE="usage: rnn-fwd [-D P] [-s SEED] [-j N] [-m MODEL | -w WORKSPACE] [FILE]"

# A model of V 6, H 4 (model.t); a window of T 3, B 1 without parameters
# (w.t, text w.txt) and the same with the model's tensors inline (wi.t).
setup() {
	D=$BATS_TEST_TMPDIR
	mdl_model "$D"
	mdl_window_text > "$D/w.txt"
	tensordump -r "$D/w.txt" > "$D/w.t"
	{ mdl_window_text; mdl_tensors "$D/model.t"; } | tensordump -r > "$D/wi.t"
}

# rnn-fwd -m model.t on the window text edited by sed script $1.
bad_window() {
	sed "$1" "$D/w.txt" | tensordump -r > "$D/bad.t"
	run -1 --separate-stderr rnn-fwd -m "$D/model.t" < "$D/bad.t"
	[ -z "$output" ]
}

@test "rnn-fwd --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr rnn-fwd --help
	[ "${lines[0]}" = "$USAGE" ]
	[ -z "$stderr" ]
}

@test "rnn-fwd: one step standalone: rnn-fwd < step.t | rnn-bwd | tensordump" {
	run -0 --separate-stderr bash -c "set -o pipefail; rnn-fwd < '$D/wi.t' | rnn-bwd | tensordump"
	[ "${lines[0]}" = "frame grads 15  # frame 0" ]
	[ -z "$stderr" ]
}

@test "rnn-fwd: frame forward: the input tensors in order, then hs, ps, loss, hT" {
	rnn-fwd -m "$D/model.t" "$D/w.t" > "$D/f.t"
	[ "$(tensordump -a "$D/f.t" | grep -c '^frame forward ')" -eq 1 ]
	[ "$(mdl_names "$D/f.t")" = "x y h0 step hs ps loss hT" ]
	run -0 bash -c "tensordump -a '$D/f.t' | grep '^tensor' | tail -n 4"
	[ "${lines[0]}" = "tensor hs f32 [3 1 4]" ]
	[ "${lines[1]}" = "tensor ps f32 [3 1 6]" ]
	[ "${lines[2]}" = "tensor loss f32 [1]" ]
	[ "${lines[3]}" = "tensor hT f32 [1 4]" ]
}

@test "rnn-fwd: ps sums to 1, loss is -sum ln ps[y], hT is the last of hs" {
	rnn-fwd -m "$D/model.t" "$D/w.t" > "$D/f.t"
	tensordump -a "$D/f.t" | mdl_pick ps loss | awk '
		/^tensor ps/ { what = "ps"; next } /^tensor loss/ { what = "loss"; next }
		what == "ps" && NF { s = 0; for (i = 1; i <= NF; i++) s += $i
			if (s < 0.99999 || s > 1.00001) bad = 1
			t++; nll -= log($(t + 1)) }
		what == "loss" { loss = $1 }
		END { d = loss - nll; exit bad || t != 3 || d > 1e-4 || d < -1e-4 }'
	cmp <(tensordump -a "$D/f.t" | mdl_pick hs | sed -n '$p' | tr -s ' ') \
		<(tensordump -a "$D/f.t" | mdl_pick hT | sed -n '$p' | tr -s ' ')
}

@test "rnn-fwd: an unknown tensor and the frame's name do not matter; tags pass unchanged" {
	{ mdl_window_text other; printf 'tensor tag u8 [2]\n4 2\n'; } | tensordump -r > "$D/t.t"
	rnn-fwd -m "$D/model.t" "$D/t.t" > "$D/f.t"
	[ "$(mdl_names "$D/f.t")" = "x y h0 step tag hs ps loss hT" ]
	cmp <(tensordump -a "$D/t.t" | mdl_pick x y h0 step tag) \
		<(tensordump -a "$D/f.t" | mdl_pick x y h0 step tag)
}

@test "rnn-fwd: -m and inline parameters give the same output" {
	rnn-fwd -m "$D/model.t" < "$D/w.t" > "$D/m.t"
	rnn-fwd < "$D/wi.t" > "$D/i.t"
	[ "$(mdl_names "$D/i.t")" = "x y h0 step vocab Wxh Whh Why bh by hs ps loss hT" ]
	cmp <(tensordump -a "$D/m.t") \
		<(tensordump -a "$D/i.t" | mdl_pick x y h0 step hs ps loss hT | sed '1i frame forward 8')
}

@test "rnn-fwd: -w reads the workspace's parameters, the same as -m" {
	mdl_workspace "$D/model.t" "$D/ws.t"
	rnn-fwd -m "$D/model.t" "$D/w.t" > "$D/m.t"
	rnn-fwd -w "$D/ws.t" "$D/w.t" | cmp - "$D/m.t"
}

@test "rnn-fwd: the workspace is opened when the first frame arrives, not before" {
	run -0 --separate-stderr rnn-fwd -w "$D/nope.t" < /dev/null
	[ -z "$output" ]
	[ -z "$stderr" ]
	run -1 --separate-stderr rnn-fwd -w "$D/nope.t" "$D/w.t"
	[ "$stderr" = "rnn-fwd: $D/nope.t: No such file or directory" ]
	[ -z "$output" ]
}

@test "rnn-fwd: frames are independent: two windows give the two outputs" {
	sed 's/^0 0 0 0$/0.5 -0.5 0.25 1/' "$D/w.txt" | tensordump -r > "$D/w2.t"
	rnn-fwd -m "$D/model.t" "$D/w.t" > "$D/a.t"
	rnn-fwd -m "$D/model.t" "$D/w2.t" > "$D/b.t"
	! cmp -s <(tensordump -a "$D/a.t" | mdl_pick loss) <(tensordump -a "$D/b.t" | mdl_pick loss)
	cat "$D/w.t" "$D/w2.t" "$D/w.t" | rnn-fwd -m "$D/model.t" | cmp - <(cat "$D/a.t" "$D/b.t" "$D/a.t")
}

@test "rnn-fwd: a forward frame run again gets new hs, ps, loss, hT in their places" {
	rnn-fwd -m "$D/model.t" "$D/w.t" > "$D/a.t"
	rnn-fwd -m "$D/model.t" "$D/a.t" | cmp - "$D/a.t"
}

@test "rnn-fwd: a batch of 2 sequences is each sequence on its own" {
	{
		printf 'frame window\ntensor x i32 [3 2]\n0 5\n1 4\n2 3\n'
		printf 'tensor y i32 [3 2]\n1 0\n2 5\n3 4\n'
		mdl_zeros h0 f32 2 4
	} | tensordump -r > "$D/b2.t"
	printf 'frame window\ntensor x i32 [3 1]\n5 4 3\ntensor y i32 [3 1]\n0 5 4\n' > "$D/s2.txt"
	{ cat "$D/s2.txt"; mdl_zeros h0 f32 1 4; } | tensordump -r > "$D/s2.t"
	batch=$(rnn-fwd -m "$D/model.t" "$D/b2.t" | tensordump -a | mdl_pick loss | tail -n 1)
	one=$(rnn-fwd -m "$D/model.t" "$D/w.t" | tensordump -a | mdl_pick loss | tail -n 1)
	two=$(rnn-fwd -m "$D/model.t" "$D/s2.t" | tensordump -a | mdl_pick loss | tail -n 1)
	[ "$(echo $batch)" = "$(echo $one $two)" ]
}

# The values of the tensors called step in stream $1, on one line.
steps() {
	tensordump -a "$1" | mdl_pick step | awk '!/^tensor/ { printf "%s%s", sep, $1; sep = " " } END { print "" }'
}

# A window of T 3, B 1 with inputs $1 $2 $3, no h0, tagged step $4.
window_no_h0() {
	printf 'frame window\ntensor x i32 [3 1]\n%s\n%s\n%s\n' "$1" "$2" "$3"
	printf 'tensor y i32 [3 1]\n1\n2\n3\ntensor step i64 []\n%s\n' "$4"
}

@test "rnn-fwd: a frame without h0 starts from the frame before it's hT, and gets it as h0" {
	window_no_h0 3 4 5 8 | tensordump -r > "$D/n.t"
	cat "$D/w.t" "$D/n.t" | rnn-fwd -m "$D/model.t" > "$D/f.t"
	[ "$(tensordump "$D/f.t" | grep -c '^frame')" -eq 2 ]
	tensordump -a "$D/f.t" | mdl_pick hT | head -n 2 | sed 's/^tensor hT /tensor h0 /' > "$D/h.txt"
	# The same window with that h0 given: the same outputs.
	{ window_no_h0 3 4 5 8; cat "$D/h.txt"; } | tensordump -r | rnn-fwd -m "$D/model.t" > "$D/g.t"
	[ "$(mdl_names "$D/g.t")" = "x y step h0 hs ps loss hT" ]
	tensordump -a "$D/f.t" | awk '/^frame/ { f++ } f == 2' > "$D/f2.txt"
	local t
	for t in x y step h0 hs ps loss hT; do
		cmp <(mdl_pick $t < "$D/f2.txt") <(tensordump -a "$D/g.t" | mdl_pick $t)
	done
	[ "$(mdl_pick h0 < "$D/f2.txt")" = "$(cat "$D/h.txt")" ]
}

@test "rnn-fwd: a frame without h0 needs a window of its shape before it" {
	window_no_h0 0 1 2 8 | tensordump -r > "$D/n.t"
	run -1 --separate-stderr rnn-fwd -m "$D/model.t" "$D/n.t"
	[ "$stderr" = "rnn-fwd: $D/n.t: frame 'window': no tensor 'h0', and no window before it" ]
	[ -z "$output" ]
	{
		printf 'frame window\ntensor x i32 [1 2]\n0 1\ntensor y i32 [1 2]\n1 2\n'
		mdl_zeros h0 f32 2 4
	} | tensordump -r > "$D/b2.t"
	cat "$D/b2.t" "$D/n.t" > "$D/two.t"
	run -1 --separate-stderr rnn-fwd -m "$D/model.t" "$D/two.t"
	[ "$stderr" = "rnn-fwd: $D/two.t: frame 'window': no tensor 'h0', and the window before it had B 2, H 4" ]
}

@test "rnn-fwd -w: a window of another step than the workspace's is refused, unless it can wait" {
	MDL_STEP=7 mdl_workspace "$D/model.t" "$D/ws.t"
	rnn-fwd -w "$D/ws.t" "$D/w.t" > /dev/null	# step 7: no wait
	sed 's/^7$/8/' "$D/w.txt" | tensordump -r > "$D/w8.t"
	run -1 --separate-stderr rnn-fwd -w "$D/ws.t" "$D/w8.t"
	[ "$stderr" = "rnn-fwd: $D/w8.t: window of step 8, but the parameters in $D/ws.t are at step 7" ]
	sed 's/^7$/6/' "$D/w.txt" | tensordump -r > "$D/w6.t"
	run -1 --separate-stderr rnn-fwd -w "$D/ws.t" < "$D/w6.t"
	[ "$stderr" = "rnn-fwd: <stdin>: window of step 6, but the parameters in $D/ws.t are at step 7" ]
	# From a pipe it waits for adagrad -w; here nothing will come, and the
	# end of its input says so (within the 0.1 s it checks).
	run -1 --separate-stderr timeout 20 rnn-fwd -w "$D/ws.t" < <(cat "$D/w8.t")
	[ "$stderr" = "rnn-fwd: <stdin>: the data stage ended while step 8 waited for its parameters" ]
	[ -z "$output" ]
}

@test "rnn-fwd -w: windows sent ahead each wait for the update before them" {
	# Three windows at once through rnn-fwd | rnn-bwd | adagrad: the same
	# parameters as three loops one window at a time. Without waiting,
	# rnn-fwd would run windows 2 and 3 on older parameters.
	MDL_STEP=7 mdl_workspace "$D/model.t" "$D/ws.t"
	{ cat "$D/w.t"; window_no_h0 3 4 5 8 | tensordump -r; window_no_h0 5 0 1 9 | tensordump -r; } > "$D/three.t"
	cat "$D/three.t" | rnn-fwd -w "$D/ws.t" | rnn-bwd -w "$D/ws.t" | adagrad -w "$D/ws.t" > "$D/out.t"
	[ "$(steps "$D/out.t")" = "7 8 9" ]
	[ "$(steps "$D/ws.t")" = 10 ]

	MDL_STEP=7 mdl_workspace "$D/model.t" "$D/one.t"
	cp "$D/w.t" "$D/next.t"
	for k in 0 1 2; do
		rnn-fwd -w "$D/one.t" "$D/next.t" | rnn-bwd -w "$D/one.t" | adagrad -w "$D/one.t" > "$D/o.t"
		tensordump -a "$D/o.t" | mdl_pick hT | sed 's/^tensor hT /tensor h0 /' > "$D/h.txt"
		case $k in 0) in="3 4 5 8" ;; 1) in="5 0 1 9" ;; *) break ;; esac
		{ window_no_h0 $in; cat "$D/h.txt"; } | tensordump -r > "$D/next.t"
	done
	cmp <(tensordump -a "$D/ws.t" | mdl_pick Wxh Whh Why bh by mWxh mWhh mWhy mbh mby step) \
		<(tensordump -a "$D/one.t" | mdl_pick Wxh Whh Why bh by mWxh mWhh mWhy mbh mby step)
}

@test "rnn-fwd: an empty stream gives an empty output" {
	run -0 --separate-stderr rnn-fwd -m "$D/model.t" < /dev/null
	[ -z "$output" ]
	[ -z "$stderr" ]
	run -0 --separate-stderr rnn-fwd < /dev/null
	[ -z "$output" ]
}

@test "rnn-fwd: a missing tensor" {
	bad_window '/tensor h0/,/^0 0/d'
	[ "$stderr" = "rnn-fwd: <stdin>: frame 'window': no tensor 'h0', and no window before it" ]
	bad_window '/tensor y/,/^3$/d'
	[ "$stderr" = "rnn-fwd: <stdin>: frame 'window': no tensor 'y'" ]
	run -1 --separate-stderr rnn-fwd "$D/w.t"
	[ "$stderr" = "rnn-fwd: $D/w.t: frame 'window': no tensor 'Wxh'" ]
	mdl_text "$D/wi.t" | sed '/^tensor Why/,/^tensor bh/{/^tensor bh/!d}' | tensordump -r > "$D/bad.t"
	run -1 --separate-stderr rnn-fwd < "$D/bad.t"
	[ "$stderr" = "rnn-fwd: <stdin>: frame 'window': no tensor 'Why'" ]
	[ -z "$output" ]
}

@test "rnn-fwd: wrong shapes" {
	bad_window 's/tensor x i32 \[3 1\]/tensor x i32 [3]/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'x' has shape (3), expected (T,B)" ]
	bad_window 's/tensor y i32 \[3 1\]/tensor y i32 [1 3]/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'y' has shape (1,3), expected (3,1)" ]
	bad_window 's/tensor h0 f32 \[1 4\]/tensor h0 f32 [4 1]/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'h0' has shape (4,1), expected (1,4)" ]
	bad_window '/^tensor x/,/^2$/c\
tensor x i32 [0 1]'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'x' has shape (0,1): an empty window" ]
	tensordump -a "$D/wi.t" | sed 's/^tensor Whh f32 \[4 4\]/tensor Whh f32 [2 8]/' |
		tensordump -r > "$D/bad.t"
	run -1 --separate-stderr rnn-fwd "$D/bad.t"
	[ "$stderr" = "rnn-fwd: $D/bad.t: tensor 'Whh' has shape (2,8), expected (4,4)" ]
}

@test "rnn-fwd: an index out of range" {
	bad_window 's/^2$/57/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'x' index 57 out of range [0, 6)" ]
	bad_window 's/^1$/-1/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'x' index -1 out of range [0, 6)" ]
	bad_window 's/^3$/6/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'y' index 6 out of range [0, 6)" ]
}

@test "rnn-fwd: a wrong dtype; the other build's reals are refused" {
	bad_window 's/tensor x i32/tensor x f32/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'x' is f32, expected i32" ]
	bad_window 's/tensor h0 f32/tensor h0 f64/'
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'h0' is f64, but this build computes in f32" ]
	tensordump -a "$D/wi.t" | sed 's/^\(tensor [A-Za-z]*\) f32/\1 f64/' | tensordump -r > "$D/bad.t"
	run -1 --separate-stderr rnn-fwd < "$D/bad.t"
	[ "$stderr" = "rnn-fwd: <stdin>: tensor 'Wxh' is f64, but this build computes in f32" ]
}

@test "rnn-fwd: parameters both inline and from -m are refused" {
	run -1 --separate-stderr rnn-fwd -m "$D/model.t" "$D/wi.t"
	[ "$stderr" = "rnn-fwd: $D/wi.t: frame 'window' carries tensor 'Wxh', but the parameters come from $D/model.t" ]
	[ -z "$output" ]
}

@test "rnn-fwd: a truncated stream is an error after the complete frames" {
	cat "$D/wi.t" "$D/wi.t" > "$D/two.t"
	head -c $(($(wc -c < "$D/two.t") - 20)) "$D/two.t" > "$D/cut.t"
	run -1 --separate-stderr bash -c "rnn-fwd < '$D/cut.t' > '$D/out.t'"
	[[ "$stderr" == "rnn-fwd: <stdin>: offset "*": truncated stream"* ]]
	[ "$(tensordump "$D/out.t" | grep -c '^frame')" -eq 1 ]
}

@test "rnn-fwd: a missing file, a missing model" {
	run -1 --separate-stderr rnn-fwd "$D/nope.t"
	[ "$stderr" = "rnn-fwd: $D/nope.t: No such file or directory" ]
	run -1 --separate-stderr rnn-fwd -m "$D/nope.t" < /dev/null
	[ "$stderr" = "rnn-fwd: $D/nope.t: No such file or directory" ]
	run -1 --separate-stderr rnn-fwd -m "$D/w.t" < /dev/null
	[ "$stderr" = "rnn-fwd: $D/w.t: frame 'params': no tensor 'Wxh'" ]
	[ -z "$output" ]
}

@test "rnn-fwd: a closed stdout is an error" {
	run -1 --separate-stderr bash -c "rnn-fwd < '$D/wi.t' >&-"
	[ "$stderr" = "rnn-fwd: <stdout>: write error: Bad file descriptor" ]
}

@test "rnn-fwd: bad usage exits 2" {
	run -2 --separate-stderr rnn-fwd -x
	[ "${stderr_lines[-1]}" = "$USAGE" ]
	run -2 --separate-stderr rnn-fwd -m "$D/model.t" -w "$D/model.t"
	[ "$stderr" = "$USAGE" ]
	run -2 --separate-stderr rnn-fwd "$D/w.t" "$D/w.t"
	[ "$stderr" = "$USAGE" ]
	run -2 --separate-stderr rnn-fwd -m
	[ "${stderr_lines[-1]}" = "$USAGE" ]
	[ -z "$output" ]
}
