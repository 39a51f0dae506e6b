#!/usr/bin/env bats
# The training step against an independent reference. test/ref_rnn.py does
# forward, backward, clipping and Adagrad in pure Python doubles, worked out
# from the equations; here the C stages take the same steps one after the
# other (rnn-fwd | rnn-bwd | adagrad, the output fed back in with hT as the
# next h0), and every loss, gradient, parameter and memory value must agree
# at every step: within 1e-9 in the double build, 1e-4 in the float build.

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper

setup() {
	command -v python3 > /dev/null || skip "python3 is missing"
	set -o pipefail
	REF="$BATS_TEST_DIRNAME/ref_rnn.py"
	D=$BATS_TEST_TMPDIR
	FBIN=$(dirname "$(command -v rnn-fwd)")
	mdl_vocab "$D/vocab.t"
}

# Four windows by hand for V 6, B 1, of different lengths. The third, eight
# steps all aiming at 'd', drives dby[3] below -5, so clipping must act.
windows_b1() {
	tensordump -r > "$D/windows.t" <<-EOF
	frame window
	tensor x i32 [5 1]
	0 1 2 3 4
	tensor y i32 [5 1]
	1 2 3 4 5
	frame window
	tensor x i32 [4 1]
	5 0 0 1
	tensor y i32 [4 1]
	0 0 1 2
	frame window
	tensor x i32 [8 1]
	3 3 3 3 3 3 3 3
	tensor y i32 [8 1]
	3 3 3 3 3 3 3 3
	frame window
	tensor x i32 [6 1]
	2 4 1 5 0 2
	tensor y i32 [6 1]
	4 1 5 0 2 2
	EOF
}

# Three windows of two sequences side by side (T,B) = (4,2).
windows_b2() {
	tensordump -r > "$D/windows.t" <<-EOF
	frame window
	tensor x i32 [4 2]
	0 5
	1 4
	2 3
	3 2
	tensor y i32 [4 2]
	1 4
	2 3
	3 2
	4 1
	frame window
	tensor x i32 [4 2]
	4 1
	0 0
	5 5
	2 3
	tensor y i32 [4 2]
	0 0
	5 5
	2 3
	1 1
	frame window
	tensor x i32 [4 2]
	1 2
	1 2
	1 2
	1 2
	tensor y i32 [4 2]
	2 3
	2 3
	2 3
	2 3
	EOF
}

# The tensors of frame k (from 0) of windows.t, in text form.
window_k() {
	tensordump -a "$D/windows.t" | awk -v k="$1" '/^frame / { f++; next } f == k + 1'
}

nwindows() {
	tensordump -a "$D/windows.t" | grep -c '^frame '
}

# chain BIN DTYPE B: the model of H 5 that BIN's rnn-init makes, then one
# step per window through BIN's stages, parameters inline. Leaves every
# step's rnn-bwd output in grads.t and adagrad output in params.t.
chain() {
	local bin=$1 real=$2 B=$3 k
	"$bin/rnn-init" -H 5 -s 3 "$D/vocab.t" > "$D/model.t"
	{ mdl_tensors "$D/model.t"; mdl_zeros h0 "$real" "$B" 5; } > "$D/prev.txt"
	: > "$D/grads.t"
	: > "$D/params.t"
	for ((k = 0; k < $(nwindows); k++)); do
		{ echo "frame window"; window_k "$k"; cat "$D/prev.txt"; } |
			tensordump -r > "$D/in.t"
		"$bin/rnn-fwd" < "$D/in.t" | "$bin/rnn-bwd" | tee -a "$D/grads.t" |
			"$bin/adagrad" > "$D/out.t"
		cat "$D/out.t" >> "$D/params.t"
		mdl_tensors "$D/out.t" | sed 's/^tensor hT /tensor h0 /' > "$D/prev.txt"
	done
}

# Compare grads.t and params.t with the reference chain, within $1.
against_reference() {
	python3 "$REF" chain "$D/model.t" "$D/windows.t" > "$D/ref.t"
	[ "$(tensordump "$D/ref.t" | grep -c '^frame ')" -eq "$(nwindows)" ]
	python3 "$REF" compare "$1" "$D/ref.t" "$D/grads.t" \
		loss dWxh dWhh dWhy dbh dby dh0 hT
	python3 "$REF" compare "$1" "$D/ref.t" "$D/params.t" \
		Wxh Whh Why bh by mWxh mWhh mWhy mbh mby loss hT
}

@test "reference: double build, B 1, four steps, within 1e-9" {
	windows_b1
	chain "$DBIN" f64 1
	against_reference 1e-9
}

@test "reference: float build, B 1, four steps, within 1e-4" {
	windows_b1
	chain "$FBIN" f32 1
	against_reference 1e-4
}

@test "reference: the long window is clipped: dby[3] is -5 in C and in Python" {
	windows_b1
	chain "$DBIN" f64 1
	tensordump -a "$D/grads.t" | mdl_pick dby | grep -q -- ' -5 '
	python3 "$REF" chain -c 0 "$D/model.t" "$D/windows.t" > "$D/noclip.t"
	tensordump -a "$D/noclip.t" | mdl_pick dby | awk '{ for (i = 1; i <= NF; i++) if ($i + 0 < -5) found = 1 } END { exit !found }'
}

@test "reference: double build, B 2, three steps, within 1e-9" {
	windows_b2
	chain "$DBIN" f64 2
	against_reference 1e-9
}

@test "reference: float build, B 2, three steps, within 1e-4" {
	windows_b2
	chain "$FBIN" f32 2
	against_reference 1e-4
}

# The same steps with everything in a workspace (-w): the parameters and
# memory it ends with, and each step's loss and hT, are the inline ones.
workspace_vs_inline() {
	local bin=$1 real=$2 B=$3 k
	chain "$bin" "$real" "$B"
	mdl_workspace "$D/model.t" "$D/ws.t" ${4:+"$4" "$B"}
	mdl_zeros h0 "$real" "$B" 5 > "$D/h.txt"
	: > "$D/steps.t"
	for ((k = 0; k < $(nwindows); k++)); do
		{ echo "frame window"; window_k "$k"; cat "$D/h.txt"; } | tensordump -r |
			"$bin/rnn-fwd" -w "$D/ws.t" | "$bin/rnn-bwd" -w "$D/ws.t" |
			"$bin/adagrad" -w "$D/ws.t" > "$D/out.t"
		cat "$D/out.t" >> "$D/steps.t"
		tensordump -a "$D/out.t" | mdl_pick hT | sed 's/^tensor hT /tensor h0 /' > "$D/h.txt"
	done
	[ "$(mdl_names "$D/out.t")" = "loss hT dh0" ]
	local names="Wxh Whh Why bh by mWxh mWhh mWhy mbh mby"
	tensordump -a "$D/ws.t" | mdl_pick $names > "$D/ws.txt"
	# The last inline output frame holds the final parameters and memory.
	tensordump -a "$D/params.t" | awk -v n="$(nwindows)" '/^frame / { f++ } f == n' |
		mdl_pick $names > "$D/inline.txt"
	[ -s "$D/ws.txt" ]
	cmp "$D/ws.txt" "$D/inline.txt"
	cmp <(tensordump -a "$D/steps.t" | mdl_pick loss hT) \
		<(tensordump -a "$D/params.t" | mdl_pick loss hT)
}

@test "reference: a workspace (-w) gives the inline parameters, double build" {
	windows_b1
	workspace_vs_inline "$DBIN" f64 1
}

@test "reference: a workspace (-w) gives the inline parameters, float build, B 2" {
	windows_b2
	workspace_vs_inline "$FBIN" f32 2
}

@test "reference: activations kept in the workspace give the inline parameters" {
	# Room for windows of T 5: the first window's hs and ps stay in the
	# workspace, the others (T 4, 3) travel in the stream.
	windows_b1
	workspace_vs_inline "$DBIN" f64 1 5
	mdl_workspace "$D/model.t" "$D/ws5.t" 5 1
	{ echo "frame window"; printf 'tensor x i32 [5 1]\n0 1 2 3 4\n';
	  printf 'tensor y i32 [5 1]\n1 2 3 4 5\n'; mdl_zeros h0 f64 1 5; } |
		tensordump -r | "$DBIN/rnn-fwd" -w "$D/ws5.t" > "$D/f1.t"
	[ "$(mdl_names "$D/f1.t")" = "x y h0 loss hT" ]
}
