#!/usr/bin/env bats
# The RNN kernels: the gradients against finite differences (double build),
# and every version of the optimised kernels (one per instruction set the
# CPU runs) against the reference ones, in both precisions, also on inputs
# across the whole range of real (test/kernels.c exits 1 on a miss); the
# same for the model family's fast passes (lib/net_fast.c), with and
# without dropout, byte for byte across thread counts; the dropout masks.
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

@test "gradcheck: the fast passes of every cell at 1 and 3 layers, and with dropout" {
	run -0 "$DTESTBIN/gradcheck"
	for c in rnn lstm gru; do
		for l in 1 3; do
			[[ "$output" == *"gradcheck fast $c L=$l: 6 trials, largest relative error "* ]]
		done
		[[ "$output" == *"gradcheck dropout $c L=3: 6 trials, largest relative error "* ]]
		[[ "$output" == *"gradcheck fast dropout $c L=3: 6 trials, largest relative error "* ]]
	done
}

@test "kernels: the model family's fast passes against the reference, every version and precision" {
	for bin in "$TESTBIN" "$DTESTBIN"; do
		run -0 "$bin/kernels"
		# The portable version runs everywhere; the others where the CPU has them.
		for isa in avx512 avx2 base; do
			[[ "$output" == *"kernels $isa: not on this CPU"* ]] && continue
			[[ "$output" == *"net kernels $isa: rnn lstm gru, L 1 to 3, with and without dropout: largest difference from the reference "* ]]
			[[ "$output" == *"rnn threads $isa: 1, 2 and 16 threads give the same bytes"* ]]
			[[ "$output" == *"net threads $isa: 1, 2 and 16 threads give the same bytes"* ]]
		done
	done
}

@test "kernels: dropout masks: p 0 gives ones, the kept fraction, known values" {
	run -0 "$TESTBIN/kernels"
	[[ "$output" == *"dropout mask: p 0 all ones, p 0.3 kept 0.6"*" of 10^6, known values at 3 seeds"* ]]
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
