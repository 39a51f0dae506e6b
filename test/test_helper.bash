# Shared setup for every charnn bats file: the programs under test first on
# PATH (CHARNN_BIN, default bin/ of this checkout), fixtures at hand.

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# $TOP/bin also last: pipelines/train, finding its own bin/ on PATH already,
# then runs the programs under test rather than putting bin/ first.
export PATH="${CHARNN_BIN:-$TOP/bin}:$PATH:$TOP/bin"
FIXTURES="$TOP/test/fixtures"
# The double-precision build, for the numerical tests.
DBIN="${CHARNN_BIN_DOUBLE:-$TOP/build/double/bin}"

# A text-form tensor stream on stdin, written out as binary to file $1.
mkstream() {
	tensordump -r > "$1"
}
# Test programs (test/*.c) of the build under test and of the double build.
TESTBIN="${CHARNN_TESTBIN:-$TOP/build/obj/test}"
DTESTBIN="${CHARNN_TESTBIN_DOUBLE:-$TOP/build/double/obj/test}"

# The scalar i64 tensor $2 of the stream in file $1.
scalar() {
	tensordump -a "$1" | awk -v n="$2" '$1 == "tensor" && $2 == n { getline; print $1; exit }'
}
