# Models for test/sample.bats and test/score.bats.

# gen_setup CODEPOINTS: D the test's directory, with vocab.t, the
# vocabulary of CODEPOINTS, and m.t, a small random model of it from the
# build under test; REAL, that model's dtype (f32 or f64).
gen_setup() {
	D=$BATS_TEST_TMPDIR
	printf 'frame vocab\ntensor vocab i32 [%d]\n%s\n' $(echo $1 | wc -w) "$1" |
		mkstream "$D/vocab.t"
	rnn-init -H 8 -s 3 "$D/vocab.t" > "$D/m.t"
	REAL=$(tensordump -a "$D/m.t" | awk '$1 == "tensor" && $2 == "Wxh" { print $3 }')
}

# zero_model FILE H CODEPOINTS BY: the vocabulary CODEPOINTS, every weight
# zero and by (V values) as given, so every step predicts softmax(by).
zero_model() {
	local f=$1 H=$2 cps=$3 by=$4 V
	V=$(echo $cps | wc -w)
	{
		echo "frame params"
		echo "tensor vocab i32 [$V]"; echo "$cps"
		echo "tensor Wxh $REAL [$H $V]"; printf '0 %.0s' $(seq $((H * V))); echo
		echo "tensor Whh $REAL [$H $H]"; printf '0 %.0s' $(seq $((H * H))); echo
		echo "tensor Why $REAL [$V $H]"; printf '0 %.0s' $(seq $((V * H))); echo
		echo "tensor bh $REAL [$H]"; printf '0 %.0s' $(seq "$H"); echo
		echo "tensor by $REAL [$V]"; echo "$by"
	} | mkstream "$f"
}

# bad_param FILE TENSOR VALUE: $D/m.t with the first value of TENSOR
# replaced by VALUE (nan, inf, ...).
bad_param() {
	tensordump -a "$D/m.t" | awk -v t="$2" -v v="$3" '
		$1 == "tensor" { cur = $2; print; next }
		cur == t && !done { $1 = v; done = 1 }
		{ print }' | mkstream "$1"
}
