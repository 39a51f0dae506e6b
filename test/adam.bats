#!/usr/bin/env bats
# adam: the Adam update, inline or in the workspace, of parameters of any
# names (formats/model.md, THE OPTIMISERS).

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper
load optim_helper

USAGE="usage: adam [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]"
PARAMS="Wxh bh Wxh.1"
STATE="mWxh vWxh mbh vbh mWxh.1 vWxh.1"

setup() {
	D=$BATS_TEST_TMPDIR
}

@test "adam --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr adam --help
	[ "${lines[0]}" = "$USAGE" ]
	[[ "$output" == *"learning rate (0.002)"* ]]
	[ -z "$stderr" ]
}

@test "adam: one update by hand: the first step moves each parameter by lr against its gradient" {
	opt_tiny | tensordump -r | adam > "$D/p.t"
	opt_values "$D/p.t" $PARAMS | opt_near 0.498 0.002 0.998
	# m = 0.1 g, v = 0.001 g^2
	opt_values "$D/p.t" $STATE | opt_near 0.2 0.004 -0.05 0.00025 0.1 0.001
	[ "$(mdl_names "$D/p.t")" = "loss $PARAMS tag $STATE" ]
	[ "$(opt_values "$D/p.t" loss tag)" = " 1.5 42 " ]
	[ "$(tensordump "$D/p.t" | grep -c '^frame params ')" -eq 1 ]
}

@test "adam: its own state lasts from frame to frame and the updates are counted" {
	{ opt_tiny; opt_tiny; } | tensordump -r | adam > "$D/p.t"
	# Frame 2, t = 2: m 0.38, v 0.007996, a constant gradient still moves
	# by lr (0.49731 if the count had not gone up).
	tensordump -a "$D/p.t" | awk '/^frame/ { n++ } n == 2' | tensordump -r > "$D/2.t"
	opt_values "$D/2.t" $PARAMS | opt_near 0.498 0.002 0.998
	opt_values "$D/2.t" mWxh vWxh | opt_near 0.38 0.007996
}

@test "adam: state in the frame is used in its place, and the frame's step counts" {
	{ opt_tiny; printf 'tensor mWxh f32 [1 1]\n0\ntensor vWxh f32 [1 1]\n0\n'
	  printf 'tensor step i64 []\n9\n'; } | tensordump -r | adam > "$D/p.t"
	# t = 10: p -= 0.002 sqrt(1-0.999^10)/(1-0.9^10) * 0.2/sqrt(0.004)
	opt_values "$D/p.t" Wxh | opt_near 0.49903115
	[ "$(mdl_names "$D/p.t")" = "loss $PARAMS tag mWxh vWxh step mbh vbh mWxh.1 vWxh.1" ]
}

@test "adam: several steps agree with the reference: 1e-9 double, 1e-4 float" {
	command -v python3 > /dev/null || skip "python3 is missing"
	set -o pipefail
	opt_reference "$DBIN" f64 1e-9 adam 0.01 0
	opt_reference "$DBIN" f64 1e-9 adam 0.002 2
	opt_reference "$(dirname "$(command -v adam)")" f32 1e-4 adam 0.01 2
}

@test "adam -G scales all gradients together to that global norm" {
	opt_tiny | tensordump -r | adam -G 1 > "$D/p.t"
	# norm sqrt(4 + 0.25 + 1); m = 0.1 g / norm
	opt_values "$D/p.t" mWxh mbh mWxh.1 | opt_near 0.0872872 -0.0218218 0.0436436
	opt_tiny | tensordump -r | adam -G 3 > "$D/q.t"
	opt_values "$D/q.t" mWxh | opt_near 0.2
}

@test "adam -w: the workspace is updated in place, the frame goes on as step, the count goes up" {
	opt_ws "$D/ws.t"
	opt_window 0 | adam -w "$D/ws.t" > "$D/out.t"
	[ "$(tensordump "$D/out.t" | head -1)" = "frame step 1  # frame 0" ]
	opt_values "$D/ws.t" $PARAMS | opt_near 0.498 0.002 0.998
	opt_values "$D/ws.t" $STATE | opt_near 0.2 -0.05 0.1 0.004 0.00025 0.001
	[ "$(scalar "$D/ws.t" step)" = 1 ]
	run -1 --separate-stderr adam -w "$D/ws.t" < "$D/out.t"
	[ "$stderr" = "adam: <stdin>: gradients of step 0, but the parameters in $D/ws.t are at step 1" ]
}

@test "adam -w: a workspace without Adam's second state is refused" {
	opt_ws "$D/ws.t" nov
	run -1 --separate-stderr adam -w "$D/ws.t" < <(opt_window 0)
	[ "$stderr" = "adam: $D/ws.t: frame 'optim': no tensor 'vWxh'" ]
}

@test "adam -w: parameters or gradients in the frame are refused" {
	opt_ws "$D/ws.t"
	printf 'frame window\ntensor Wxh.1 f32 [1]\n0\n' | tensordump -r > "$D/f.t"
	run -1 --separate-stderr adam -w "$D/ws.t" "$D/f.t"
	[ "$stderr" = "adam: $D/f.t: frame 'window' carries tensor 'Wxh.1', but the parameters come from $D/ws.t" ]
	printf 'frame window\ntensor dbh f32 [1]\n0\n' | tensordump -r > "$D/f.t"
	run -1 --separate-stderr adam -w "$D/ws.t" "$D/f.t"
	[ "$stderr" = "adam: $D/f.t: frame 'window' carries tensor 'dbh', but the gradients come from $D/ws.t" ]
}

@test "adam: no gradients, misshapen gradients or state, the wrong precision" {
	run -1 --separate-stderr adam < <(printf 'frame grads\ntensor Wxh f32 [1 1]\n0.5\n' | tensordump -r)
	[ "$stderr" = "adam: <stdin>: frame 'grads': no parameters with gradients" ]
	run -1 --separate-stderr adam < <(printf 'frame grads\ntensor Wxh f32 [1 1]\n0.5\ntensor dWxh f32 [2]\n1 2\n' | tensordump -r)
	[ "$stderr" = "adam: <stdin>: tensor 'dWxh' has shape (2), expected (1,1)" ]
	run -1 --separate-stderr adam < <({ opt_tiny; printf 'tensor vbh f32 [2]\n0 0\n'; } | tensordump -r)
	[ "$stderr" = "adam: <stdin>: tensor 'vbh' has shape (2), expected (1)" ]
	run -1 --separate-stderr adam < <(printf 'frame grads\ntensor Wxh f64 [1 1]\n0.5\ntensor dWxh f64 [1 1]\n1\n' | tensordump -r)
	[ "$stderr" = "adam: <stdin>: tensor 'Wxh' is f64, but this build computes in f32" ] ||
		[ "$stderr" = "adam: <stdin>: frame 'grads': no parameters with gradients" ]
}

@test "adam: its own state must fit every later frame" {
	{ opt_tiny; printf 'frame grads\ntensor Wxh f32 [2]\n0.5 1\ntensor dWxh f32 [2]\n1 1\n'; } |
		tensordump -r > "$D/in.t"
	run -1 --separate-stderr adam "$D/in.t"
	[ "$stderr" = "adam: $D/in.t: frame 'grads': tensor 'Wxh' (2) does not fit the state kept from earlier frames for 'Wxh' (1,1)" ]
}

@test "adam: an empty stream gives an empty output; a missing file; a truncated stream" {
	run -0 adam < /dev/null
	[ -z "$output" ]
	run -1 --separate-stderr adam "$D/none.t"
	[ "$stderr" = "adam: $D/none.t: No such file or directory" ]
	opt_tiny | tensordump -r | head -c 50 > "$D/cut.t"
	run -1 --separate-stderr adam "$D/cut.t"
	[[ "$stderr" == "adam: $D/cut.t: offset "*": truncated stream"* ]]
}

@test "adam: bad usage exits 2" {
	run -2 --separate-stderr adam -x
	[ "${stderr_lines[1]}" = "$USAGE" ]
	run -2 --separate-stderr adam -l -1
	[ "$stderr" = "adam: -l: -1 is out of range [0, 1e+06]" ]
	run -2 --separate-stderr adam -G x
	[ "$stderr" = "adam: -G: not a number: 'x'" ]
	run -2 --separate-stderr adam a b
	[ "$stderr" = "$USAGE" ]
}
