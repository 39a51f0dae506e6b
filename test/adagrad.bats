#!/usr/bin/env bats
# adagrad: the Adagrad update, inline or in the workspace.

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper

USAGE="usage: adagrad [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]"
PARAMS="Wxh Whh Why bh by"
MEMORY="mWxh mWhh mWhy mbh mby"

setup() {
	D=$BATS_TEST_TMPDIR
}

# A grads frame for V 1, H 1 that can be worked out by hand: parameters
# Wxh 0.5 and the rest 0; gradients dWxh 2, dWhy -3, dbh 0.5, the rest 0;
# a tag passing through.
tiny() {
	printf 'frame grads\ntensor loss f32 [1]\n1.5\n'
	printf 'tensor Wxh f32 [1 1]\n0.5\ntensor Whh f32 [1 1]\n0\ntensor Why f32 [1 1]\n0\n'
	printf 'tensor bh f32 [1]\n0\ntensor by f32 [1]\n0\n'
	printf 'tensor dWxh f32 [1 1]\n2\ntensor dWhh f32 [1 1]\n0\ntensor dWhy f32 [1 1]\n-3\n'
	printf 'tensor dbh f32 [1]\n0.5\ntensor dby f32 [1]\n0\ntensor tag i64 []\n42\n'
}

# The values of the scalar-sized tensors NAMES of stream $1, on one line.
values() {
	local f=$1
	shift
	tensordump -a "$f" | mdl_pick "$@" | grep -v '^tensor' | tr '\n' ' ' | tr -s ' '
}

# Exit 0 if the numbers on stdin match the numbers $* within 1e-6.
near() {
	awk -v want="$*" '{ n = split(want, w, " ")
		if (NF != n) exit 1
		for (i = 1; i <= n; i++) if ($i - w[i] > 1e-6 || w[i] - $i > 1e-6) exit 1 }'
}

@test "adagrad --help prints the usage, the rule and the defaults on stdout and exits 0" {
	run -0 --separate-stderr adagrad --help
	[ "${lines[0]}" = "$USAGE" ]
	[[ "$output" == *"mem += g*g; p -= lr*g/sqrt(mem+1e-8)"* ]]
	[[ "$output" == *"learning rate (0.1)"* ]]
	[[ "$output" != *"eps"* && "$output" != *"decay"* ]]
	[ -z "$stderr" ]
}

@test "adagrad: one update by hand: m += g*g, p -= 0.1 g / sqrt(m + 1e-8)" {
	tiny | tensordump -r | adagrad > "$D/p.t"
	# Wxh 0.5 - 0.1*2/2; Whh 0 (no gradient); Why 0.1*3/3; bh -0.1*0.5/0.5.
	values "$D/p.t" $PARAMS | near 0.4 0 0.1 -0.1 0
	values "$D/p.t" $MEMORY | near 4 0 9 0.25 0
}

@test "adagrad: frame params: gradients dropped, others passed, memory at the end" {
	tiny | tensordump -r | adagrad > "$D/p.t"
	[ "$(tensordump -a "$D/p.t" | grep -c '^frame params ')" -eq 1 ]
	[ "$(mdl_names "$D/p.t")" = "loss $PARAMS tag $MEMORY" ]
	[ "$(values "$D/p.t" loss tag)" = " 1.5 42 " ]
}

@test "adagrad: without memory in the frame, its own lasts from frame to frame" {
	tiny | tensordump -r > "$D/g.t"
	cat "$D/g.t" "$D/g.t" | adagrad > "$D/p.t"
	tensordump -a "$D/p.t" | awk '/^frame / { f++ } f == 2' | tensordump -r > "$D/second.t"
	# Wxh 0.5 - 0.1*2/sqrt(8); Why 0.1*3/sqrt(18); bh -0.1*0.5/sqrt(0.5).
	values "$D/second.t" Wxh Why bh | near 0.42928932 0.070710678 -0.070710678
	values "$D/second.t" mWxh mWhy mbh | near 8 18 0.5
}

@test "adagrad: memory in the frame is used and updated in its place" {
	{ tiny; printf 'tensor mWxh f32 [1 1]\n12\ntensor mWhh f32 [1 1]\n0\n'
	  printf 'tensor mWhy f32 [1 1]\n0\ntensor mbh f32 [1]\n0\ntensor mby f32 [1]\n1\n'
	  printf 'tensor after u8 []\n1\n'; } | tensordump -r > "$D/g.t"
	cat "$D/g.t" "$D/g.t" | adagrad > "$D/p.t"
	[ "$(mdl_names "$D/p.t")" = "loss $PARAMS tag $MEMORY after loss $PARAMS tag $MEMORY after" ]
	# Both frames alike: Wxh 0.5 - 0.1*2/sqrt(16).
	values "$D/p.t" Wxh mWxh mby | near 0.45 16 1 0.45 16 1
}

@test "adagrad: the output is a model again: it feeds rnn-fwd" {
	mdl_model "$D"
	{ mdl_window_text; mdl_tensors "$D/model.t"; } | tensordump -r |
		rnn-fwd | rnn-bwd | adagrad > "$D/p.t"
	[ "$(mdl_names "$D/p.t")" = "step vocab $PARAMS loss hT dh0 $MEMORY" ]
	{ mdl_window_text; mdl_text "$D/p.t" | sed '/^frame/d;/^tensor step/,/^ *7$/d'; } |
		tensordump -r | rnn-fwd | rnn-bwd | adagrad > "$D/p2.t"
	[ "$(mdl_names "$D/p2.t")" = "step vocab $PARAMS loss hT dh0 $MEMORY" ]
	! cmp -s <(tensordump -a "$D/p.t" | mdl_pick Wxh) <(tensordump -a "$D/p2.t" | mdl_pick Wxh)
}

@test "adagrad: a model of the family: every parameter is updated; one without its gradient is refused" {
	mdl_model "$D" -C gru
	{ mdl_window_text | sed 's/^tensor h0 /tensor h0.0 /'; mdl_tensors "$D/model.t"; } |
		tensordump -r | rnn-fwd | rnn-bwd > "$D/g.t"
	adagrad "$D/g.t" > "$D/p.t"
	[ "$(mdl_names "$D/p.t")" = "step vocab arch Wx.0 Wh.0 b.0 Why by loss hT.0 dh0.0 mWx.0 mWh.0 mb.0 mWhy mby" ]
	mdl_text "$D/g.t" | sed '/^tensor dWh.0 /,/^tensor db.0 /{/^tensor db.0 /!d}' | tensordump -r > "$D/bad.t"
	run -1 --separate-stderr adagrad "$D/bad.t"
	[ "$stderr" = "adagrad: $D/bad.t: frame 'grads': no tensor 'dWh.0'" ]
	[ -z "$output" ]
}

@test "adagrad -l sets the learning rate" {
	tiny | tensordump -r | adagrad -l 0.5 > "$D/p.t"
	values "$D/p.t" $PARAMS | near 0 0 0.5 -0.5 0
	run -2 --separate-stderr adagrad -l -0.1
	[ "$stderr" = "adagrad: -l: -0.1 is out of range [0, 1e+06]" ]
	run -2 --separate-stderr adagrad -l fast
	[ "$stderr" = "adagrad: -l: not a number: 'fast'" ]
}

@test "adagrad -w: the workspace is updated in place; the frame goes on as step" {
	mdl_model "$D"
	mdl_workspace "$D/model.t" "$D/ws.t"
	{ mdl_window_text; mdl_tensors "$D/model.t"; } | tensordump -r |
		rnn-fwd | rnn-bwd | adagrad > "$D/inline.t"
	mdl_window_text | tensordump -r | rnn-fwd -w "$D/ws.t" | rnn-bwd -w "$D/ws.t" |
		adagrad -w "$D/ws.t" > "$D/step.t"
	[ "$(tensordump -a "$D/step.t" | grep -c '^frame step ')" -eq 1 ]
	[ "$(mdl_names "$D/step.t")" = "step loss hT dh0" ]
	cmp <(tensordump -a "$D/inline.t" | mdl_pick $PARAMS $MEMORY) \
		<(tensordump -a "$D/ws.t" | mdl_pick $PARAMS $MEMORY)
}

@test "adagrad -w: each update counts in the workspace's step; gradients of another step are refused" {
	mdl_model "$D"
	MDL_STEP=7 mdl_workspace "$D/model.t" "$D/ws.t"
	mdl_window_text | tensordump -r | rnn-fwd -w "$D/ws.t" | rnn-bwd -w "$D/ws.t" > "$D/g7.t"
	adagrad -w "$D/ws.t" "$D/g7.t" > "$D/step.t"
	[ "$(tensordump -a "$D/ws.t" | mdl_pick step | sed -n 2p | tr -d ' ')" = 8 ]
	cp "$D/ws.t" "$D/ws8.t"
	run -1 --separate-stderr adagrad -w "$D/ws.t" "$D/g7.t"
	[ "$stderr" = "adagrad: $D/g7.t: gradients of step 7, but the parameters in $D/ws.t are at step 8" ]
	[ -z "$output" ]
	cmp "$D/ws.t" "$D/ws8.t"	# nothing updated
	# A frame without a step is counted, not checked.
	mdl_text "$D/g7.t" | sed '/^tensor step/,/^tensor loss/{/^tensor loss/!d}' | tensordump -r > "$D/g.t"
	adagrad -w "$D/ws.t" "$D/g.t" > /dev/null
	[ "$(tensordump -a "$D/ws.t" | mdl_pick step | sed -n 2p | tr -d ' ')" = 9 ]
	sed 's/^tensor step i64 \[\]$/tensor step f64 []/' <(mdl_text "$D/g7.t") | tensordump -r > "$D/gf.t"
	run -1 --separate-stderr adagrad -w "$D/ws.t" "$D/gf.t"
	[ "$stderr" = "adagrad: $D/gf.t: frame 'grads': tensor 'step' must be an i64 scalar" ]
}

@test "adagrad -w: gradients or parameters in the frame are refused" {
	mdl_model "$D"
	mdl_workspace "$D/model.t" "$D/ws.t"
	tiny | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad -w "$D/ws.t" "$D/g.t"
	[ "$stderr" = "adagrad: $D/g.t: frame 'grads' carries tensor 'dWxh', but the gradients come from $D/ws.t" ]
	tiny | sed '/^tensor dWxh/,$d' | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad -w "$D/ws.t" "$D/g.t"
	[ "$stderr" = "adagrad: $D/g.t: frame 'grads' carries tensor 'Wxh', but the parameters come from $D/ws.t" ]
	[ -z "$output" ]
}

@test "adagrad -w: a workspace without memory" {
	mdl_model "$D"
	printf 'frame step\ntensor loss f32 [1]\n1\n' | tensordump -r > "$D/s.t"
	run -1 --separate-stderr adagrad -w "$D/model.t" "$D/s.t"
	[ "$stderr" = "adagrad: $D/model.t: frame 'grads': no tensor 'dWxh'" ]
	run -1 --separate-stderr adagrad -w "$D/nope.t" "$D/s.t"
	[ "$stderr" = "adagrad: $D/nope.t: No such file or directory" ]
}

@test "adagrad: missing gradients or parameters" {
	tiny | sed '/^tensor dWxh/,$d' | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad "$D/g.t"
	[ "$stderr" = "adagrad: $D/g.t: frame 'grads': no tensor 'dWxh'" ]
	tiny | sed '/^tensor dWhy/,/^-3/d' | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad < "$D/g.t"
	[ "$stderr" = "adagrad: <stdin>: frame 'grads': no tensor 'dWhy'" ]
	# Gradients without their parameters: nothing to update.
	tiny | sed '/^tensor Wxh/,/^tensor dWxh/{/^tensor dWxh/!d}' | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad < "$D/g.t"
	[ "$stderr" = "adagrad: <stdin>: frame 'grads': no parameters with gradients" ]
	[ -z "$output" ]
}

@test "adagrad: gradients, memory or parameters that do not fit" {
	tiny | sed 's/^tensor dby f32 \[1\]/tensor dby f32 [2]\n0/' | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad < "$D/g.t"
	[ "$stderr" = "adagrad: <stdin>: tensor 'dby' has shape (2), expected (1)" ]
	tiny | sed 's/^tensor dWhh f32/tensor dWhh f64/' | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad < "$D/g.t"
	[ "$stderr" = "adagrad: <stdin>: tensor 'dWhh' is f64, but this build computes in f32" ]
	mdl_model "$D"
	{ tiny | sed '/^tensor dWxh/,$d'; mdl_tensors "$D/model.t" | sed 's/^tensor \([Wb]\)/tensor d\1/' |
		sed '/^tensor vocab/,/^tensor dWxh/{/^tensor dWxh/!d}'; } | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad < "$D/g.t"
	[ "$stderr" = "adagrad: <stdin>: tensor 'dWxh' has shape (4,6), expected (1,1)" ]
	{ tiny; printf 'tensor mWxh f32 [1 2]\n0 0\ntensor mWhh f32 [1 1]\n0\n'
	  printf 'tensor mWhy f32 [2 1]\n0 0\ntensor mbh f32 [1]\n0\ntensor mby f32 [2]\n0 0\n'; } |
		tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad < "$D/g.t"
	[ "$stderr" = "adagrad: <stdin>: tensor 'mWxh' has shape (1,2), expected (1,1)" ]
	[ -z "$output" ]
}

@test "adagrad: its own memory must fit every later frame" {
	mdl_model "$D"
	{ mdl_window_text; mdl_tensors "$D/model.t"; } | tensordump -r | rnn-fwd | rnn-bwd > "$D/big.t"
	tiny | tensordump -r > "$D/small.t"
	run -1 --separate-stderr bash -c "cat '$D/small.t' '$D/big.t' | adagrad > '$D/out.t'"
	[ "$stderr" = "adagrad: <stdin>: frame 'grads': tensor 'Wxh' (4,6) does not fit the state kept from earlier frames for 'Wxh' (1,1)" ]
	[ "$(tensordump "$D/out.t" | grep -c '^frame')" -eq 1 ]
}

@test "adagrad: an empty stream gives an empty output" {
	run -0 --separate-stderr adagrad < /dev/null
	[ -z "$output" ]
	[ -z "$stderr" ]
	run -0 --separate-stderr adagrad -w "$D/nope.t" < /dev/null
	[ -z "$output" ]
}

@test "adagrad: a truncated stream" {
	tiny | tensordump -r > "$D/g.t"
	head -c 200 "$D/g.t" > "$D/cut.t"
	run -1 --separate-stderr adagrad "$D/cut.t"
	[[ "$stderr" == "adagrad: $D/cut.t: offset "*": truncated stream"* ]]
	[ -z "$output" ]
}

@test "adagrad: a missing file, a closed stdout" {
	run -1 --separate-stderr adagrad "$D/nope.t"
	[ "$stderr" = "adagrad: $D/nope.t: No such file or directory" ]
	tiny | tensordump -r > "$D/g.t"
	run -1 --separate-stderr bash -c "adagrad < '$D/g.t' >&-"
	[ "$stderr" = "adagrad: <stdout>: write error: Bad file descriptor" ]
}

@test "adagrad: bad usage exits 2" {
	run -2 --separate-stderr adagrad -x
	[ "${stderr_lines[-1]}" = "$USAGE" ]
	run -2 --separate-stderr adagrad a b
	[ "$stderr" = "$USAGE" ]
	run -2 --separate-stderr adagrad -w
	[ "${stderr_lines[-1]}" = "$USAGE" ]
	[ -z "$output" ]
}

@test "adagrad: a gradient that alone is off is the one named" {
	# V 2, H 1: every gradient fits the parameters but dWxh, which has V 3.
	{ printf 'frame grads\n'
	  printf 'tensor Wxh f32 [1 2]\n0 0\ntensor Whh f32 [1 1]\n0\ntensor Why f32 [2 1]\n0 0\n'
	  printf 'tensor bh f32 [1]\n0\ntensor by f32 [2]\n0 0\n'
	  printf 'tensor dWxh f32 [1 3]\n0 0 0\ntensor dWhh f32 [1 1]\n0\ntensor dWhy f32 [2 1]\n0 0\n'
	  printf 'tensor dbh f32 [1]\n0\ntensor dby f32 [2]\n0 0\n'; } | tensordump -r > "$D/g.t"
	run -1 --separate-stderr adagrad "$D/g.t"
	[ "$stderr" = "adagrad: $D/g.t: tensor 'dWxh' has shape (1,3), expected (1,2)" ]
}

@test "adagrad -G scales the five gradients together to that global norm" {
	tiny | tensordump -r | adagrad -G 1 > "$D/p.t"
	# norm sqrt(4 + 9 + 0.25): m = (g / norm)^2
	values "$D/p.t" $MEMORY | near 0.3018868 0 0.6792453 0.0188679 0
	tiny | tensordump -r | adagrad -G 4 > "$D/q.t"
	values "$D/q.t" $MEMORY | near 4 0 9 0.25 0
	run -2 --separate-stderr adagrad -G -1
	[ "$stderr" = "adagrad: -G: -1 is out of range [0, 1e+30]" ]
}

@test "adagrad -R: the rate of update t (the frame's step plus one) follows the schedule" {
	for i in 0 1 2 3; do
		tiny | sed '/^tensor tag/,$d'
		printf 'tensor step i64 []\n%d\n' "$i"
	done | tensordump -r > "$D/in.t"
	# Own memory m = t g^2 for Wxh (g 2): p = 0.5 - rate * 2 / sqrt(4 t).
	run -0 sh -c "adagrad -l 1 -R step:1:1:0.5 '$D/in.t' | tensordump -a |
		awk '\$2 == \"Wxh\" { getline; printf \"%.5f \", \$1 }'"
	[ "$output" = "-0.50000 0.14645 0.35566 0.43750 " ]
	run -2 --separate-stderr adagrad -R step:1:0:1
	[ "$stderr" = "adagrad: -R: 'step:1:0:1' is not step:START:EVERY:FACTOR, cosine:WARMUP:TOTAL or linear:WARMUP:TOTAL" ]
}
