#!/usr/bin/env bats
# The RNN kernels: the gradients against finite differences (double build),
# and every version of the optimised kernels (one per instruction set the
# CPU runs) against the reference ones, in both precisions, also on inputs
# across the whole range of real (test/kernels.c exits 1 on a miss); the
# same for the model family's fast passes (lib/net_fast.c), with and
# without dropout, byte for byte across thread counts; the dropout masks.
bats_require_minimum_version 1.5.0
load test_helper

# Each program runs once for the file (the kernels take a while, under the
# sanitizers most of all); each test reads what it printed.
setup_file() {
	load test_helper
	keep gradcheck "$DTESTBIN/gradcheck"
	keep kernels "$TESTBIN/kernels"
	keep dkernels "$DTESTBIN/kernels"
}

# keep NAME PROGRAM: what PROGRAM prints and its exit status, for ran NAME.
keep() {
	local rc=0
	"$2" > "$BATS_FILE_TMPDIR/$1" 2>&1 || rc=$?
	echo "$rc" > "$BATS_FILE_TMPDIR/$1.rc"
}

# ran NAME: output is what setup_file's run NAME printed; fails unless it
# exited 0.
ran() {
	output=$(cat "$BATS_FILE_TMPDIR/$1")
	[ "$(cat "$BATS_FILE_TMPDIR/$1.rc")" -eq 0 ] || { echo "$output"; return 1; }
}

@test "gradcheck: analytic gradients match finite differences (double)" {
	ran gradcheck
	[[ "$output" == *"gradcheck base: 60 trials, largest relative error "* ]]
}

@test "gradcheck: every cell (rnn, lstm, gru) at 1 and 3 layers, parameters and states" {
	ran gradcheck
	for c in rnn lstm gru; do
		for l in 1 3; do
			[[ "$output" == *"gradcheck $c L=$l: 6 trials, largest relative error "* ]]
		done
	done
}

@test "gradcheck: the fast passes of every cell at 1 and 3 layers, and with dropout" {
	ran gradcheck
	for c in rnn lstm gru; do
		for l in 1 3; do
			[[ "$output" == *"gradcheck fast $c L=$l: 6 trials, largest relative error "* ]]
		done
		[[ "$output" == *"gradcheck dropout $c L=3: 6 trials, largest relative error "* ]]
		[[ "$output" == *"gradcheck fast dropout $c L=3: 6 trials, largest relative error "* ]]
	done
}

# in_every_version LINE...: each LINE, with @ standing for the instruction
# set, in what kernels and dkernels printed, for every version of the
# kernels: the portable one runs everywhere, the others where the CPU has
# them.
in_every_version() {
	local run isa line
	for run in kernels dkernels; do
		ran "$run"
		for isa in avx512 avx2 base; do
			[[ "$output" == *"kernels $isa: not on this CPU"* ]] && continue
			for line in "$@"; do
				line=${line//@/$isa}
				[[ "$output" == *"$line"* ]] || { echo "$run: no line '$line'"; return 1; }
			done
		done
	done
}

@test "kernels: the model family's fast passes against the reference, every version and precision" {
	in_every_version \
		"net kernels @: rnn lstm gru, L 1 to 3, with and without dropout: largest difference from the reference " \
		"rnn threads @: 1, 2 and 16 threads give the same bytes" \
		"net threads @: 1, 2 and 16 threads give the same bytes"
}

@test "kernels: the sampler's output layer in panels, every version and precision" {
	in_every_version \
		"rnn_out @: panels against the sums in double, the same bytes on 1, 2 and 16 threads"
}

@test "kernels: dropout masks: p 0 gives ones, the kept fraction, known values" {
	ran kernels
	[[ "$output" == *"dropout mask: p 0 all ones, p 0.3 kept 0.6"*" of 10^6, known values at 3 seeds"* ]]
}

@test "kernels: optimised against reference, build under test" {
	ran kernels
	# The portable version runs on every CPU, so it was checked.
	[[ "$output" == *"kernels base: largest difference"* ]]
	[[ "$output" == *"tanh base: largest relative error"* ]]
	# tanh and softmax on inputs across the whole float range.
	[[ "$output" == *"tanh base: 1718 values across the range, finite and within"* ]]
	[[ "$output" == *"softmax base: logits across the range, finite and within"* ]]
}

@test "kernels: optimised against reference, double build" {
	ran dkernels
	[[ "$output" == *"kernels base: largest difference"* ]]
	[[ "$output" == *"exp base: largest relative error"* ]]
	[[ "$output" == *"tanh base: 12644 values across the range, finite and within"* ]]
}
