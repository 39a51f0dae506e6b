#!/usr/bin/env bats
# rmsprop: char-rnn's RMSprop update, inline or in the workspace, of
# parameters of any names (formats/model.md, THE OPTIMISERS).

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper
load optim_helper

USAGE="usage: rmsprop [-l LR] [-R SCHED] [-G NORM] [-w WORKSPACE] [FILE]"
PARAMS="Wxh bh Wxh.1"
STATE="mWxh mbh mWxh.1"

setup() {
	D=$BATS_TEST_TMPDIR
}

@test "rmsprop --help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr rmsprop --help
	[ "${lines[0]}" = "$USAGE" ]
	[[ "$output" == *"learning rate (0.002)"* ]]
	[ -z "$stderr" ]
}

@test "rmsprop: one update by hand: ms = 0.95 ms + 0.05 g^2, p -= lr g / (sqrt(ms) + 1e-8)" {
	opt_tiny | tensordump -r | rmsprop > "$D/p.t"
	opt_values "$D/p.t" $PARAMS | opt_near 0.4910557 0.0089443 0.9910557
	opt_values "$D/p.t" $STATE | opt_near 0.2 0.0125 0.05
	[ "$(mdl_names "$D/p.t")" = "loss $PARAMS tag $STATE" ]
	[ "$(opt_values "$D/p.t" loss tag)" = " 1.5 42 " ]
}

@test "rmsprop: its own state lasts from frame to frame; state in the frame is used in its place" {
	{ opt_tiny; opt_tiny; } | tensordump -r | rmsprop > "$D/p.t"
	tensordump -a "$D/p.t" | awk '/^frame/ { n++ } n == 2' | tensordump -r > "$D/2.t"
	# ms 0.95 * 0.2 + 0.2; Wxh 0.5 - 0.002 * 2 / sqrt(0.39)
	opt_values "$D/2.t" Wxh mWxh | opt_near 0.4935949 0.39
	{ opt_tiny; printf 'tensor mbh f32 [1]\n1\n'; } | tensordump -r | rmsprop > "$D/q.t"
	opt_values "$D/q.t" bh mbh | opt_near 0.0010193 0.9625
	[ "$(mdl_names "$D/q.t")" = "loss $PARAMS tag mbh mWxh mWxh.1" ]
}

@test "rmsprop: several steps agree with the reference: 1e-9 double, 1e-4 float" {
	command -v python3 > /dev/null || skip "python3 is missing"
	set -o pipefail
	opt_reference "$DBIN" f64 1e-9 rmsprop 0.01 0
	opt_reference "$DBIN" f64 1e-9 rmsprop 0.002 2
	opt_reference "$(dirname "$(command -v rmsprop)")" f32 1e-4 rmsprop 0.01 2
}

@test "rmsprop -G scales all gradients together to that global norm" {
	opt_tiny | tensordump -r | rmsprop -G 1 > "$D/p.t"
	# g / sqrt(4 + 0.25 + 1): ms 0.05 * 4 / 5.25
	opt_values "$D/p.t" mWxh | opt_near 0.0380952
}

@test "rmsprop -w: the workspace is updated in place, the frame goes on as step, the count goes up" {
	opt_ws "$D/ws.t" nov
	opt_window 0 | rmsprop -w "$D/ws.t" > "$D/out.t"
	[ "$(tensordump "$D/out.t" | head -1)" = "frame step 1  # frame 0" ]
	opt_values "$D/ws.t" $PARAMS | opt_near 0.4910557 0.0089443 0.9910557
	opt_values "$D/ws.t" $STATE | opt_near 0.2 0.0125 0.05
	[ "$(scalar "$D/ws.t" step)" = 1 ]
	opt_window 1 | rmsprop -w "$D/ws.t" > /dev/null
	[ "$(scalar "$D/ws.t" step)" = 2 ]
	run -1 --separate-stderr rmsprop -w "$D/ws.t" < <(opt_window 0)
	[ "$stderr" = "rmsprop: <stdin>: gradients of step 0, but the parameters in $D/ws.t are at step 2" ]
}

@test "rmsprop -w: a workspace without the state of a parameter is refused" {
	opt_ws "$D/ws.t"
	tensordump -a "$D/ws.t" | sed 's/ live$//; s/^tensor mbh /tensor xbh /' | tensordump -r > "$D/bad.t"
	run -1 --separate-stderr rmsprop -w "$D/bad.t" < <(opt_window 0)
	[ "$stderr" = "rmsprop: $D/bad.t: frame 'adagrad': no tensor 'mbh'" ]
}

@test "rmsprop: no gradients, misshapen gradients; bad usage exits 2" {
	run -1 --separate-stderr rmsprop < <(printf 'frame grads\ntensor Wxh f32 [1 1]\n0.5\n' | tensordump -r)
	[ "$stderr" = "rmsprop: <stdin>: frame 'grads': no parameters with gradients" ]
	run -1 --separate-stderr rmsprop < <(printf 'frame grads\ntensor Wxh f32 [1 1]\n0.5\ntensor dWxh f32 [2]\n1 2\n' | tensordump -r)
	[ "$stderr" = "rmsprop: <stdin>: tensor 'dWxh' has shape (2), expected (1,1)" ]
	run -2 --separate-stderr rmsprop -x
	[ "${stderr_lines[1]}" = "$USAGE" ]
	run -2 --separate-stderr rmsprop -G -1
	[ "$stderr" = "rmsprop: -G: -1 is out of range [0, 1e+30]" ]
}

@test "rmsprop -R: the rate follows the schedule by update: step, cosine, linear" {
	# Each frame brings zero state and parameters 0: the first step moves
	# by rate * g / sqrt(0.05 g^2), so rate = -p * sqrt(0.05).
	for i in 1 2 3 4 5 6 7; do
		printf 'frame grads\ntensor Wxh f32 [1]\n0\ntensor dWxh f32 [1]\n1\ntensor mWxh f32 [1]\n0\n'
	done | tensordump -r > "$D/in.t"
	rates() {
		rmsprop -l 1 -R "$1" "$D/in.t" | tensordump -a |
			awk '$2 == "Wxh" { getline; printf "%.4f ", (0 - $1) * sqrt(0.05) }'
	}
	[ "$(rates step:2:2:0.5)" = "1.0000 1.0000 0.5000 0.5000 0.2500 0.2500 0.1250 " ]
	[ "$(rates cosine:2:6)" = "0.5000 1.0000 1.0000 0.8536 0.5000 0.1464 0.0000 " ]
	[ "$(rates linear:0:4)" = "1.0000 0.7500 0.5000 0.2500 0.0000 0.0000 0.0000 " ]
	run -2 --separate-stderr rmsprop -R cosine:3:3
	[ "$stderr" = "rmsprop: -R: 'cosine:3:3' is not step:START:EVERY:FACTOR, cosine:WARMUP:TOTAL or linear:WARMUP:TOTAL" ]
}
