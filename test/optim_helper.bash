# Helpers for the tests of the optimiser stages (test/rmsprop.bats,
# test/adam.bats): small frames and workspaces in text form, with parameters
# of any names, and the independent reference test/ref_optim.py. Loaded
# after test_helper and mdl_helper.

# A grads frame that can be worked out by hand: parameters Wxh 0.5, bh 0,
# Wxh.1 1; gradients dWxh 2, dbh -0.5, dWxh.1 1; a real loss and an i64 tag
# that have no gradient and pass through.
opt_tiny() {
	printf 'frame grads\ntensor loss f32 [1]\n1.5\n'
	printf 'tensor Wxh f32 [1 1]\n0.5\ntensor bh f32 [1]\n0\ntensor Wxh.1 f32 [1]\n1\n'
	printf 'tensor dWxh f32 [1 1]\n2\ntensor dbh f32 [1]\n-0.5\ntensor dWxh.1 f32 [1]\n1\n'
	printf 'tensor tag i64 []\n42\n'
}

# opt_ws FILE [NOV]: a workspace holding the parameters and gradients of
# opt_tiny, zero state (frame optim with vNAME too, unless NOV is given) and
# the step count at 0.
opt_ws() {
	{
		printf 'frame params\ntensor vocab i32 [1]\n97\n'
		printf 'tensor Wxh f32 [1 1]\n0.5\ntensor bh f32 [1]\n0\ntensor Wxh.1 f32 [1]\n1\n'
		printf 'frame adagrad\ntensor mWxh f32 [1 1]\n0\ntensor mbh f32 [1]\n0\n'
		printf 'tensor mWxh.1 f32 [1]\n0\ntensor step i64 []\n0\n'
		[ -n "${2:-}" ] ||
			printf 'frame optim\ntensor vWxh f32 [1 1]\n0\ntensor vbh f32 [1]\n0\ntensor vWxh.1 f32 [1]\n0\n'
		printf 'frame grads\ntensor dWxh f32 [1 1]\n2\ntensor dbh f32 [1]\n-0.5\n'
		printf 'tensor dWxh.1 f32 [1]\n1\n'
	} | tensordump -r > "$1"
}

# A window frame of step $1, as feed sends it.
opt_window() {
	printf 'frame window\ntensor step i64 []\n%s\n' "$1" | tensordump -r
}

# The values of the scalar-sized tensors NAMES of stream $1, on one line.
opt_values() {
	local f=$1
	shift
	tensordump -a "$f" | mdl_pick "$@" | grep -v '^tensor' | tr '\n' ' ' | tr -s ' '
}

# Exit 0 if the numbers on stdin match the numbers $* within 1e-6.
opt_near() {
	awk -v want="$*" '{ n = split(want, w, " ")
		if (NF != n) exit 1
		for (i = 1; i <= n; i++) if ($i - w[i] > 1e-6 || w[i] - $i > 1e-6) exit 1 }'
}

# opt_reference BINDIR DTYPE TOL OPT LR GNORM: five frames of
# test/ref_optim.py through BINDIR's stage OPT, checked against the
# reference within TOL.
opt_reference() {
	local bin=$1 dtype=$2 tol=$3 opt=$4 lr=$5 g=$6
	python3 "$BATS_TEST_DIRNAME/ref_optim.py" gen "$dtype" 5 | "$bin/tensordump" -r |
		"$bin/$opt" -l "$lr" -G "$g" | "$bin/tensordump" -a |
		python3 "$BATS_TEST_DIRNAME/ref_optim.py" check "$opt" "$lr" "$g" "$tol"
}
