# Models by hand for test/sample.bats and test/score.bats. Each takes
# $D/m.t, a model from rnn-init, as the model of the build under test, and
# REAL, its dtype (f32 or f64).

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

# The dtype of the model $D/m.t.
model_real() {
	tensordump -a "$D/m.t" | awk '$1 == "tensor" && $2 == "Wxh" { print $3 }'
}
