#!/usr/bin/env bats
# pipelines/sweep: the grid, run directories named after their settings, a
# CPU per job slot, the ranked table, failures, the serial fallback without
# GNU parallel, and the multi-host path through a fake ssh (test/fakessh)
# that runs each "host" in its own directory. A stand-in train
# (test/fixtures/stubtrain) makes the figures known.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	SWEEP="$TOP/pipelines/sweep"
	export CHARNN_TRAIN="$TOP/test/fixtures/stubtrain"
	head -c 3000 "$TOP/data/corpus.txt" > "$BATS_TEST_TMPDIR/c.txt"
	C="$BATS_TEST_TMPDIR/c.txt"
	D="$BATS_TEST_TMPDIR/sw"
}

need_parallel() {
	command -v parallel > /dev/null ||
		skip "GNU parallel is not installed (test/bats.sh installs it when run as root)"
}

# A directory with every command of /usr/bin and /bin but GNU parallel, for
# a PATH without it.
no_parallel_path() {
	nb="$BATS_TEST_TMPDIR/nopar"
	mkdir -p "$nb"
	ln -s /usr/bin/* "$nb/" 2> /dev/null || :
	[ /bin -ef /usr/bin ] || ln -s /bin/* "$nb/" 2> /dev/null || :
	rm -f "$nb/parallel"
	echo "$nb"
}

# The run column of the table on stdout, in order, one line.
runs_in_order() {
	awk 'NR > 1 { printf "%s ", $5 } END { print "" }'
}

@test "sweep --help: the options on stdout, exit 0" {
	run -0 --separate-stderr "$SWEEP" --help
	[[ "$output" == "usage: sweep [options] [-- train-option...]"* ]]
	for o in -c -d -g -j -S -e; do [[ "$output" == *"  $o "* ]]; done
	[ -z "$stderr" ]
}

@test "sweep: usage errors exit 2 with one line" {
	run -2 --separate-stderr "$SWEEP" -c "$C" -d "$D"
	[[ "$stderr" == "usage: sweep "* ]]
	run -2 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-H'
	[ "$stderr" = "sweep: -g '-H': no values" ]
	run -2 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g 'H 1 2'
	[ "$stderr" = "sweep: -g 'H 1 2': not an option and values" ]
	run -2 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-H 1' -j x
	[[ "$stderr" == "usage: sweep "* ]]
	run -2 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-H 1 1'
	[ "$stderr" = "sweep: two runs would share the directory H1" ]
	run -2 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-p a/b a:b'
	[ "$stderr" = "sweep: two runs would share the directory pa-b" ]
	[ ! -e "$D" ]
	run -1 --separate-stderr "$SWEEP" -c "$BATS_TEST_TMPDIR/none.txt" -g '-H 1'
	[ "$stderr" = "sweep: $BATS_TEST_TMPDIR/none.txt: No such file or directory" ]
}

@test "sweep: a 2x2 grid, one run directory per setting, ranked by held-out bpc" {
	need_parallel
	run -0 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-H 50 100' -g '-l 0.1 0.5' -- -n 300 -T 10
	# stubtrain's bpc is 1 + lr + 100/H.
	[ "$(printf '%s\n' "$output" | runs_in_order)" = "H100_l0.1 H100_l0.5 H50_l0.1 H50_l0.5 " ]
	[ "${lines[0]}" = "bpc          iter    chars/s  seconds  run                  settings" ]
	[[ "${lines[1]}" == "2.1000        300     100000 "*"  H100_l0.1            -H 100 -l 0.1" ]]
	[ "$output" = "$(cat "$D/table")" ]
	# Every run got its settings, the options after --, and the corpus.
	[[ "$(cat "$D/H50_l0.5/args")" == "-c corpus.txt -d H50_l0.5 -P "[0-9]*" -H 50 -l 0.5 -n 300 -T 10" ]]
	for r in H100_l0.1 H100_l0.5 H50_l0.1 H50_l0.5; do
		cmp "$C" "$D/$r/corpus.seen"
		[[ "$(cat "$D/$r/train.log")" == *" char/s" ]]
	done
}

@test "sweep: each job slot trains on its own CPU" {
	need_parallel
	ncpu=$(getconf _NPROCESSORS_ONLN)
	[ "$ncpu" -ge 2 ] || skip "one CPU: every slot is CPU 0"
	run -0 "$SWEEP" -c "$C" -d "$D" -j 2 -g '-H 10 20 30 40'
	# The first two jobs take slots 1 and 2: CPUs 0 and 1; every CPU is
	# (slot - 1) mod the CPU count.
	[ "$(cat "$D/H10/cpu") $(cat "$D/H20/cpu")" = "0 1" ]
	for r in H10 H20 H30 H40; do [ "$(cat "$D/$r/cpu")" -lt 2 ]; done
}

@test "sweep: the job slots' CPUs are those sweep may use" {
	need_parallel
	command -v taskset > /dev/null || skip "no taskset"
	taskset -c 0,1 true 2> /dev/null || skip "no CPUs 0 and 1"
	# On CPU 1 alone, every slot's CPU is 1 (not (slot - 1) mod the count).
	run -0 taskset -c 1 "$SWEEP" -c "$C" -d "$D" -j 2 -g '-H 10 20 30'
	for r in H10 H20 H30; do [ "$(cat "$D/$r/cpu")" = 1 ]; done
	rm -rf "$D"
	# On CPUs 1 and 0, in the order taskset lists them: 0, then 1.
	run -0 taskset -c 1,0 "$SWEEP" -c "$C" -d "$D" -j 2 -g '-H 10 20'
	[ "$(cat "$D/H10/cpu") $(cat "$D/H20/cpu")" = "0 1" ]
}

@test "sweep: the table's bpc has 4 decimals under its header; runs are sorted on the full value" {
	need_parallel
	# bpc 1.10004 and 1.10002: both shown as 1.1000, the second first.
	run -0 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-H 2500000 5000000' -- -n 7
	[ "$(cat "$D/H5000000/val.log")" = "7 1.10002" ]
	[ "$(cat "$D/H2500000/val.log")" = "7 1.1000400000000001" ]
	[ "${lines[0]}" = "bpc          iter    chars/s  seconds  run                  settings" ]
	[[ "${lines[1]}" == "1.1000          7 5000000000 "*"  H5000000             -H 5000000" ]]
	[[ "${lines[2]}" == "1.1000          7 2500000000 "*"  H2500000             -H 2500000" ]]
	[ "$output" = "$(cat "$D/table")" ]
}

@test "sweep: a failed run is listed last and makes the sweep exit 1" {
	need_parallel
	run -1 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-H 13 50'
	[ "$stderr" = "sweep: 1 of 2 runs failed (each run's stderr: $D/RUN/train.log)" ]
	[[ "${lines[2]}" == "-               -          -"*"H13                  -H 13  (failed: exit 1)" ]]
	[ "$(cat "$D/H13/train.log")" = "train: stopped" ]
}

@test "sweep: without GNU parallel the runs go one after another, and it says so" {
	PATH=$(no_parallel_path):$TOP/bin
	run -0 --separate-stderr "$SWEEP" -c "$C" -d "$D" -g '-H 50 100' -- -n 7
	[ "$stderr" = "sweep: GNU parallel not found: running the 2 runs one after another" ]
	[ "$(printf '%s\n' "$output" | runs_in_order)" = "H100 H50 " ]
	[ "$(cat "$D/H50/args")" = "-c corpus.txt -d H50 -H 50 -n 7" ]
	rm -rf "$D"
	run -1 --separate-stderr "$SWEEP" -c "$C" -d "$D" -S h1 -g '-H 50'
	[ "$stderr" = "sweep: -S needs GNU parallel, which is not installed" ]
	[ ! -e "$D" ]
}

@test "sweep -S: runs on two hosts, corpus sent, run directories brought back" {
	need_parallel
	command -v rsync > /dev/null || skip "rsync is not installed (test/bats.sh installs it when run as root)"
	export FAKESSH_ROOT="$BATS_TEST_TMPDIR/hosts"
	mkdir -p "$FAKESSH_ROOT"
	run -0 --separate-stderr "$SWEEP" -c "$C" -d "$D" -e "$TOP/test/fakessh" \
		-S 1/h1 -S 1/h2 -g '-H 50 100 200 400' -- -n 20
	# Shown only when an assertion below fails.
	printf 'stdout:\n%s\nstderr:\n%s\n' "$output" "$stderr"
	ls -lR "$D" "$FAKESSH_ROOT"
	[ "$(printf '%s\n' "$output" | runs_in_order)" = "H400 H200 H100 H50 " ]
	for r in H50 H100 H200 H400; do
		# Trained in a host's directory, on the corpus sent there, and
		# the run directory is back here.
		where=$(cat "$D/$r/where")
		[ "$where" = "$FAKESSH_ROOT/h1" ] || [ "$where" = "$FAKESSH_ROOT/h2" ]
		cmp "$C" "$D/$r/corpus.seen"
		echo "${where##*/}" >> "$BATS_TEST_TMPDIR/used"
	done
	# Both hosts had work; the corpus, sent once to each, was cleaned up.
	[ "$(sort -u "$BATS_TEST_TMPDIR/used" | tr '\n' ' ')" = "h1 h2 " ]
	[ ! -e "$FAKESSH_ROOT/h1/corpus.txt" ] && [ ! -e "$FAKESSH_ROOT/h2/corpus.txt" ]
	grep -q '^h1 .*rsync --server' "$FAKESSH_ROOT/log"
	grep -q '^h2 .*rsync --server' "$FAKESSH_ROOT/log"
}

@test "sweep: with the real train, a table of two short runs" {
	need_parallel
	"$TOP/pipelines/train" --help | grep -q -- '-P CPU' ||
		skip "pipelines/train has no -P yet (it comes with the train branch)"
	unset CHARNN_TRAIN
	run -0 --separate-stderr "$SWEEP" -c "$C" -d "$D" -j 2 -g '-H 8 16' -- -n 100 -e 50 -k 100 -S 0
	[ "${#lines[@]}" -eq 3 ]
	for r in H8 H16; do
		[ -f "$D/$r/ckpt.t" ]
		[ "$(awk 'END { print $1 }' "$D/$r/val.log")" = 100 ]
	done
	[[ "${lines[1]}" =~ ^[0-9]+\.[0-9]{4}\ +100\ +[0-9]+ ]]
}
