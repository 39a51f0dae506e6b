#!/usr/bin/env bats
# The RNN kernels: the gradients against finite differences (double build),
# and every version of the optimised kernels (one per instruction set the
# CPU runs) against the reference ones, in both precisions, also on inputs
# across the whole range of real (test/kernels.c exits 1 on a miss).
bats_require_minimum_version 1.5.0
load test_helper

@test "gradcheck: analytic gradients match finite differences (double)" {
	run -0 "$DTESTBIN/gradcheck"
	[[ "$output" == *"gradcheck base: 60 trials, largest relative error "* ]]
}

@test "gradcheck: every cell (rnn, lstm, gru) at 1 and 3 layers, parameters and states" {
	run -0 "$DTESTBIN/gradcheck"
	for c in rnn lstm gru; do
		for l in 1 3; do
			[[ "$output" == *"gradcheck $c L=$l: 6 trials, largest relative error "* ]]
		done
	done
}

@test "kernels: optimised against reference, build under test" {
	run -0 "$TESTBIN/kernels"
	# The portable version runs on every CPU, so it was checked.
	[[ "$output" == *"kernels base: largest difference"* ]]
	[[ "$output" == *"tanh base: largest relative error"* ]]
	# tanh and softmax on inputs across the whole float range.
	[[ "$output" == *"tanh base: 1718 values across the range, finite and within"* ]]
	[[ "$output" == *"softmax base: logits across the range, finite and within"* ]]
}

@test "kernels: optimised against reference, double build" {
	run -0 "$DTESTBIN/kernels"
	[[ "$output" == *"kernels base: largest difference"* ]]
	[[ "$output" == *"exp base: largest relative error"* ]]
	[[ "$output" == *"tanh base: 12644 values across the range, finite and within"* ]]
}
