#!/usr/bin/env bats
# pipelines/train: the training loop as a pipeline, checkpoints, exact
# resumption (also after kill -9), the loss log, NaN handling.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	head -c 6000 "$TOP/data/corpus.txt" > "$BATS_TEST_TMPDIR/c.txt"
	C="$BATS_TEST_TMPDIR/c.txt"
	TRAIN="$TOP/pipelines/train"
	GROUPS_STARTED=
}

# Runs a test started in process groups of their own (setsid; their ids in
# GROUPS_STARTED) do not outlive it, even when an assertion fails first.
teardown() {
	local g
	for g in $GROUPS_STARTED; do
		kill -9 -- "-$g" 2> /dev/null || :
		wait "$g" 2> /dev/null || :
	done
}

@test "train: smoothed loss falls well below its start, checkpoint samples" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/r" -H 32 -n 600 -S 300 -k 200 -e 200
	[[ "$output" == *"---- sample after iteration 300 ----"* ]]
	[[ "$output" == *"val "*" bpc"* ]]
	[ "$(wc -l < "$BATS_TEST_TMPDIR/r/loss.log")" -eq 600 ]
	# The smoothed loss starts at T*ln(V) and must have fallen.
	first=$(awk 'NR == 1 { print $3 }' "$BATS_TEST_TMPDIR/r/loss.log")
	last=$(awk 'END { print $3 }' "$BATS_TEST_TMPDIR/r/loss.log")
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 5) }'
	[ "$(scalar "$BATS_TEST_TMPDIR/r/ckpt.t" iter)" -eq 600 ]
	run -0 sample -n 50 "$BATS_TEST_TMPDIR/r/ckpt.t"
	[ -n "$output" ]
}

@test "train: stopping and resuming gives a byte-identical checkpoint and log" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/a" -H 16 -n 300 -k 70 -S 100 -e 50
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b" -H 16 -n 150 -k 70 -S 100 -e 50
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b" -H 16 -n 300 -k 70 -S 100 -e 50 -r
	cmp "$BATS_TEST_TMPDIR/a/ckpt.t" "$BATS_TEST_TMPDIR/b/ckpt.t"
	cmp "$BATS_TEST_TMPDIR/a/loss.log" "$BATS_TEST_TMPDIR/b/loss.log"
}

@test "train: killed with kill -9 and resumed, ends byte-identical to an unbroken run" {
	d="$BATS_TEST_TMPDIR/k"
	# Run without end; kill the whole pipeline once a checkpoint exists.
	setsid "$TRAIN" -c "$C" -d "$d" -H 16 -n 0 -k 40 -S 0 -B 2 > /dev/null 2>&1 &
	pid=$!
	while [ ! -f "$d/ckpt.t" ]; do sleep 0.05; done
	sleep 0.2
	kill -9 -- "-$pid"
	wait "$pid" || true
	k=$(scalar "$d/ckpt.t" iter)
	[ "$k" -ge 40 ]
	end=$((k + 100))
	run -0 "$TRAIN" -c "$C" -d "$d" -H 16 -n "$end" -k 40 -S 0 -B 2 -r
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/u" -H 16 -n "$end" -k 40 -S 0 -B 2
	cmp "$d/ckpt.t" "$BATS_TEST_TMPDIR/u/ckpt.t"
	cmp "$d/loss.log" "$BATS_TEST_TMPDIR/u/loss.log"
}

@test "train: a loss that turns NaN stops training and keeps the last good checkpoint" {
	d="$BATS_TEST_TMPDIR/n"
	# Training itself stays finite (Adagrad moves a parameter by at most lr
	# a step; it went NaN only through the float tanh bug fixed since), so
	# the checkpoint is doctored: by at 3.4e38 and Why's rows at 1e38 and
	# -1e38 by turns send half the logits past the float range, to inf,
	# and the softmax of inf is NaN.
	run -0 "$TRAIN" -c "$C" -d "$d" -H 16 -n 2 -k 1 -S 0
	tensordump -a "$d/ckpt.t" | awk '
		$1 == "frame" || $1 == "tensor" { t = $1 == "tensor" ? $2 : ""; k = 0; print; next }
		t == "by" { for (i = 1; i <= NF; i++) $i = "3.4e38" }
		t == "Why" { for (i = 1; i <= NF; i++) { $i = int(k / 16) % 2 ? "-1e38" : "1e38"; k++ } }
		{ print }' | tensordump -r > "$d/bad.t"
	mv "$d/bad.t" "$d/ckpt.t"
	run -1 --separate-stderr "$TRAIN" -c "$C" -d "$d" -r -n 100 -k 1 -S 0
	# Whichever comes first: the loss seen, or the parameters checked before
	# a checkpoint (builds with other optimisation round differently).
	[[ "$stderr" == *"feed: loss is "*" at iteration "*"; stopped, the last good checkpoint is kept"* ||
	   "$stderr" == *"feed: parameters are not finite after iteration "*"; stopped, the last good checkpoint is kept"* ]]
	[[ "$stderr" == *"train: stopped: feed 1"* ]]
	[ -f "$d/ckpt.t" ]
	# Every parameter of the checkpoint kept is finite.
	run -0 tensordump "$d/ckpt.t"
	[[ "$output" == *"nan 0  inf 0"* ]]
	! grep -E "nan [1-9]|inf [1-9]" <<< "$output"
}

@test "train: batched training (B=4) runs and its loss falls" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b4" -H 16 -B 4 -n 300 -S 0 -v 0
	first=$(awk 'NR == 1 { print $3 }' "$BATS_TEST_TMPDIR/b4/loss.log")
	last=$(awk 'END { print $3 }' "$BATS_TEST_TMPDIR/b4/loss.log")
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'
}

@test "train: a missing corpus is an error" {
	run -1 --separate-stderr "$TRAIN" -c "$BATS_TEST_TMPDIR/none.txt" -d "$BATS_TEST_TMPDIR/x"
	[ "$stderr" = "train: $BATS_TEST_TMPDIR/none.txt: No such file or directory" ]
}

@test "train: resuming without a checkpoint is an error" {
	run -1 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/x" -r
	[ "$stderr" = "train: $BATS_TEST_TMPDIR/x/ckpt.t: no checkpoint to resume" ]
}

@test "train: --help prints usage on stdout; a bad option is a usage error" {
	run -0 "$TRAIN" --help
	[[ "${lines[0]}" == "usage: train"* ]]
	run -2 "$TRAIN" -Z
}

# A stage of the loop that dies half a second into the run: a wrapper named
# $1, first on PATH, that kills the real program.
dying_stage() {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	# (stdin through fd 3: sh gives a background job /dev/null for stdin;
	# SIGKILL, as the loop's stages ignore SIGTERM, which only feed takes)
	printf '#!/bin/sh\nexec 3<&0\n"%s" "$@" <&3 3<&- &\nsleep 0.5\nkill -KILL $!\nwait $!\n' \
		"$(command -v "$1")" \
		> "$BATS_TEST_TMPDIR/fake/$1"
	chmod +x "$BATS_TEST_TMPDIR/fake/$1"
}

@test "train: a stage that dies mid-run stops the loop with an error, not a hang" {
	local stage
	for stage in rnn-fwd rnn-bwd adagrad; do
		rm -rf "$BATS_TEST_TMPDIR/fake"
		dying_stage $stage
		PATH="$BATS_TEST_TMPDIR/fake:$PATH" run -1 --separate-stderr \
			timeout 60 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/d" -H 8 -n 0 -S 0 -k 1000000
		[[ "$stderr" == *"train: stopped: "*"$stage 137"* ]]
	done
}

@test "train: progress lines give iteration, loss, smoothed loss, both in bits per character, speed and time left" {
	run -0 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/p" -H 8 -n 40 -p 20 -e 20 -S 0
	grep -qE '^iter 20  epoch [0-9.]+  loss [0-9.]+  smooth [0-9.]+  train [0-9.]+ bpc  val [0-9.]+ bpc  [0-9]+ char/s  eta [0-9]+:[0-9]{2}:[0-9]{2}$' <<< "$stderr"
	# train X bpc is the smoothed loss per character in bits.
	awk '$1 == "iter" && $2 == 20 { exit !(sprintf("%.4f", $8 / 25 / log(2)) == $10) }' <<< "$stderr"
	grep -qE '^iter 40  epoch [0-9.]+  loss ' <<< "$stderr"
}


@test "train: a resumed run keeps the learning rate it was started with" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/a" -H 8 -n 200 -k 100 -S 0 -l 0.05
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b" -H 8 -n 100 -k 100 -S 0 -l 0.05
	run -0 "$TRAIN" -d "$BATS_TEST_TMPDIR/b" -n 200 -k 100 -S 0 -r
	cmp "$BATS_TEST_TMPDIR/a/ckpt.t" "$BATS_TEST_TMPDIR/b/ckpt.t"
	cmp "$BATS_TEST_TMPDIR/a/loss.log" "$BATS_TEST_TMPDIR/b/loss.log"
}

@test "train: an option given to -r that differs from the checkpoint is a usage error" {
	d="$BATS_TEST_TMPDIR/a"
	run -0 "$TRAIN" -c "$C" -d "$d" -H 8 -n 100 -k 100 -S 0 -l 0.05 -T 10
	cp "$d/ckpt.t" "$d/loss.log" "$BATS_TEST_TMPDIR/"
	printf 'something else\n' > "$BATS_TEST_TMPDIR/other.txt"
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -H 300
	[ "$stderr" = "train: -H 300: the checkpoint $d/ckpt.t was made with -H 8" ]
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -l 0.1
	[ "$stderr" = "train: -l 0.1: the checkpoint $d/ckpt.t was made with -l 0.05" ]
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -T 25
	[ "$stderr" = "train: -T 25: the checkpoint $d/ckpt.t was made with -T 10" ]
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -v 0.2
	[ "$stderr" = "train: -v 0.2: the checkpoint $d/ckpt.t was made with -v 0.1" ]
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -c "$BATS_TEST_TMPDIR/other.txt"
	[ "$stderr" = "train: -c $BATS_TEST_TMPDIR/other.txt: the checkpoint $d/ckpt.t was made with -c c.txt" ]
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -n 100
	[ "$stderr" = "train: -n 100: the checkpoint $d/ckpt.t is at iteration 100 already" ]
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -n 50
	[ "$stderr" = "train: -n 50: the checkpoint $d/ckpt.t is at iteration 100 already" ]
	run -2 --separate-stderr "$TRAIN" -d "$d" -r -n 200 -F double
	[ "$stderr" = "train: -F double: the checkpoint $d/ckpt.t was made with -F float" ]
	# Agreeing values (however written) and the same text by another name pass.
	cp "$C" "$BATS_TEST_TMPDIR/same.txt"
	run -0 "$TRAIN" -d "$d" -r -n 150 -S 0 -H 8 -l 0.050 -T 10 -v 0.1 -c "$BATS_TEST_TMPDIR/same.txt"
	# Nothing in the run directory was touched by the refused runs.
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/u" -H 8 -n 150 -k 100 -S 0 -l 0.05 -T 10
	cmp "$d/ckpt.t" "$BATS_TEST_TMPDIR/u/ckpt.t"
}

@test "train: every option is checked before the run directory is touched" {
	d="$BATS_TEST_TMPDIR/x"
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -v 2
	[ "$stderr" = "train: -v: 2 is out of range [0, 0.99]" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -B 0
	[ "$stderr" = "train: -B: 0 is out of range [1, 65536]" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -T x
	[ "$stderr" = "train: -T: not an integer: 'x'" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -T 70000 -B 300
	[ "$stderr" = "train: -T: 70000 is out of range [1, 65536]" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -H 0
	[ "$stderr" = "train: -H: 0 is out of range [1, 16384]" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -l -1
	[ "$stderr" = "train: -l: -1 is out of range [0, 1e+06]" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -F quad
	[ "$stderr" = "train: -F: 'quad' is neither float nor double" ]
	[ ! -e "$d" ]
	run -1 --separate-stderr "$TRAIN" -c "$C" -d /dev/null/x
	[ "$stderr" = "train: cannot create directory '/dev/null': Not a directory" ] ||
	[ "$stderr" = "train: cannot create directory ‘/dev/null’: Not a directory" ]
}

@test "train: after a NaN with no checkpoint yet it says so, and blames only feed" {
	# Training stays finite by itself (see above), so the initial model is
	# doctored the same way: an rnn-init first on PATH that passes the real
	# one's model on with by and Why past the float range.
	w="$BATS_TEST_TMPDIR/wrap"
	mkdir "$w"
	cat > "$w/rnn-init" <<'EOF'
#!/bin/sh
PATH=${PATH#*:}
rnn-init "$@" | tensordump -a | awk '
	$1 == "frame" || $1 == "tensor" { t = $1 == "tensor" ? $2 : ""; k = 0; print; next }
	t == "by" { for (i = 1; i <= NF; i++) $i = "3.4e38" }
	t == "Why" { for (i = 1; i <= NF; i++) { $i = int(k / 16) % 2 ? "-1e38" : "1e38"; k++ } }
	{ print }' | tensordump -r
EOF
	chmod +x "$w/rnn-init"
	PATH="$w:$PATH" run -1 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/n" -H 16 -n 100 -k 1000 -S 0
	[[ "$stderr" == *"; stopped, and no checkpoint was written"* ]]
	[ "${stderr##*$'\n'}" = "train: stopped: feed 1 (program, exit status)" ]
	[ ! -e "$BATS_TEST_TMPDIR/n/ckpt.t" ]
}

# Start train $@ in the background with SIGINT and SIGTERM at their
# defaults (an asynchronous command of a script ignores SIGINT), through
# $LAUNCH if set (setsid: a process group of its own); its pid in $pid.
# Wait until its loss log has a line.
start_train() {
	${LAUNCH:-} perl -e '$SIG{INT} = "DEFAULT"; $SIG{TERM} = "DEFAULT"; exec @ARGV' \
		"$TRAIN" "$@" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	while [ ! -s "$2/loss.log" ]; do sleep 0.05; done
}

# Send signal $1 to $2 (a pid, or -PGID) while the run in $3 trains, and
# check that it stopped at once with a checkpoint of its last step, nothing
# else left in the directory, and that it goes on from there.
stop_and_check() {
	local s=$1 target=$2 d=$3 want
	sleep 0.3
	kill -s "$s" -- "$target"
	status=0
	wait "$pid" || status=$?
	[ "$s" = TERM ] && want=143 || want=130
	[ "$status" -eq "$want" ]
	grep -q "^train: stopped by SIG$s; the model and state after the last finished step are in $d/ckpt.t (resume with -r)\$" "$BATS_TEST_TMPDIR/err"
	k=$(scalar "$d/ckpt.t" iter)
	[ "$k" -ge 1 ]
	[ "$(wc -l < "$d/loss.log")" -eq "$k" ]
	[ "$(tail -n 1 "$d/loss.log" | cut -d ' ' -f 1)" -eq "$k" ]
	[ -z "$(ls "$d" | grep -v -x -e corpus.t -e vocab.t -e init.t -e ckpt.t -e loss.log -e val.log -e best.t)" ]
	run -0 "$TRAIN" -d "$d" -r -n $((k + 10)) -S 0
}

@test "train: SIGTERM and SIGINT stop the run at once with a checkpoint of the last step" {
	local s
	for s in TERM INT; do
		start_train -d "$BATS_TEST_TMPDIR/$s" -c "$C" -H 8 -n 0 -k 100000000 -S 0
		stop_and_check "$s" "$pid" "$BATS_TEST_TMPDIR/$s"
	done
}

@test "train: SIGTERM or SIGINT to the whole process group also stops it with a checkpoint" {
	command -v setsid > /dev/null || skip "no setsid"
	local s
	for s in TERM INT; do
		# A group of its own, as a supervisor or a terminal gives a job.
		LAUNCH=setsid start_train -d "$BATS_TEST_TMPDIR/g$s" -c "$C" -H 8 -n 0 -k 100000000 -S 0
		stop_and_check "$s" "-$pid" "$BATS_TEST_TMPDIR/g$s"
	done
}

@test "train: a second run in the same directory is refused before it touches a file" {
	d="$BATS_TEST_TMPDIR/a"
	start_train -d "$d" -c "$C" -H 8 -n 0 -k 100000000 -S 0
	mkdir "$BATS_TEST_TMPDIR/copy"
	cp -p "$d"/vocab.t "$d"/corpus.t "$d"/init.t "$BATS_TEST_TMPDIR/copy/"
	inode=$(ls -i "$d/loss.log")
	run -1 --separate-stderr "$TRAIN" -d "$d" -c "$C" -H 8 -n 100
	[ "$stderr" = "train: $d is in use by another run (pid $pid)" ]
	run -1 --separate-stderr "$TRAIN" -d "$d" -r -n 1000000
	[ "$stderr" = "train: $d is in use by another run (pid $pid)" ]
	for f in vocab.t corpus.t init.t; do
		cmp "$d/$f" "$BATS_TEST_TMPDIR/copy/$f"
		[ ! "$d/$f" -nt "$BATS_TEST_TMPDIR/copy/$f" ]
	done
	[ "$(ls -i "$d/loss.log")" = "$inode" ]
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	[ ! -e "$d/lock" ]
}

@test "train: after kill -9, -r takes over the stale lock and removes what was left" {
	d="$BATS_TEST_TMPDIR/k"
	# A TMPDIR of its own: the status directory the killed run leaves.
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	setsid "$TRAIN" -c "$C" -d "$d" -H 8 -n 0 -k 40 -S 0 > /dev/null 2>&1 &
	pid=$!
	GROUPS_STARTED=$pid
	while [ ! -f "$d/ckpt.t" ]; do sleep 0.05; done
	kill -9 -- "-$pid"
	wait "$pid" || true
	[ -d "$d/lock" ] && [ -e "$d/ws.t" ] && [ -p "$d/loop" ]
	: > "$d/ckpt.t.tmpABC123"
	left=$(cat "$d/lock/tmp")
	[ "$left" = "$(echo "$TMPDIR"/charnn-train.*)" ] && [ -d "$left" ]
	# Another run's status directory, which the lock does not name, stays.
	mkdir "$TMPDIR/charnn-train.other"
	k=$(scalar "$d/ckpt.t" iter)
	run -0 "$TRAIN" -d "$d" -r -n $((k + 10)) -S 0
	[ -z "$(ls "$d" | grep -v -x -e corpus.t -e vocab.t -e init.t -e ckpt.t -e loss.log -e val.log -e best.t)" ]
	[ "$(echo "$TMPDIR"/charnn-train.*)" = "$TMPDIR/charnn-train.other" ]
}

# A stale lock in $1: a directory holding the pid of a process that is gone.
stale_lock() {
	( : ) &
	local gone=$!
	wait "$gone"
	mkdir -p "$1/lock"
	echo "$gone" > "$1/lock/pid"
}

@test "train: of two runs that find the same stale lock, one takes it over and the other is refused" {
	d="$BATS_TEST_TMPDIR/s"
	mkdir "$d"
	stale_lock "$d"
	# An rm first on PATH that holds the removal of a lock for 2 seconds
	# (saying so in $w/removing): the window in which, before the takeover
	# was made under flock, the second run removed the first's new lock.
	w="$BATS_TEST_TMPDIR/slow"
	mkdir "$w"
	printf '#!/bin/sh\nfor a; do case $a in */lock) : > "%s/removing"; sleep 2 ;; esac; done\nexec "%s" "$@"\n' \
		"$w" "$(command -v rm)" > "$w/rm"
	chmod +x "$w/rm"
	PATH="$w:$PATH" setsid "$TRAIN" -c "$C" -d "$d" -H 8 -n 0 -k 100000000 -S 0 > /dev/null 2>&1 &
	pid=$!
	GROUPS_STARTED=$pid
	while [ ! -e "$w/removing" ]; do sleep 0.05; done
	PATH="$w:$PATH" run -1 --separate-stderr "$TRAIN" -c "$C" -d "$d" -H 8 -n 5 -S 0
	[ "$stderr" = "train: $d is in use by another run (pid $pid)" ]
	[ "$(cat "$d/lock/pid")" = "$pid" ]
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	[ ! -e "$d/lock" ]
}

# The CPUs this test may use, one number each, in order.
allowed_cpus() {
	taskset -pc $$ | sed 's/.*: //' | tr , '\n' |
		awk -F - '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }'
}

# The CPUs the loop of the run in directory $1 runs on (its rnn-fwd's), as
# taskset -pc lists them; waits up to a minute for the stage to be there.
stage_cpus() {
	local p= i=0
	while [ -z "$p" ] && [ $((i += 1)) -le 1200 ]; do
		sleep 0.05
		p=$(pgrep -f -- "rnn-fwd -w $1/ws.t" || :)
	done
	[ -n "$p" ] && taskset -pc "$p" | sed 's/.*: //'
}

@test "train: runs started side by side claim CPUs of their own; a killed run's CPU is claimed again" {
	command -v taskset > /dev/null && command -v flock > /dev/null && command -v pgrep > /dev/null ||
		skip "needs taskset, flock and pgrep"
	cpus=$(allowed_cpus | tr '\n' ' ')
	set -- $cpus
	[ $# -ge 2 ] || skip "one CPU: nothing to share"
	# A TMPDIR of its own: the claims of runs outside the test are not seen.
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	for r in a b; do
		setsid "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/$r" -H 8 -n 0 -k 100000000 -S 0 > /dev/null 2>&1 &
		GROUPS_STARTED="$GROUPS_STARTED $!"
	done
	set -- $GROUPS_STARTED
	a=$(stage_cpus "$BATS_TEST_TMPDIR/a") b=$(stage_cpus "$BATS_TEST_TMPDIR/b")
	# Each on one CPU of the test's, not the same one.
	[[ " $cpus" == *" $a "* && " $cpus" == *" $b "* ]]
	[ "$a" != "$b" ]
	# Run a killed with kill -9: its CPU goes to the next run.
	kill -9 -- "-$1"
	wait "$1" || :
	setsid "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/c" -H 8 -n 0 -k 100000000 -S 0 > /dev/null 2>&1 &
	GROUPS_STARTED="$GROUPS_STARTED $!"
	[ "$(stage_cpus "$BATS_TEST_TMPDIR/c")" = "$a" ]
	# Every CPU held (the others by the test): the system places the stages.
	for c in $cpus; do
		[ "$c" = "$a" ] || [ "$c" = "$b" ] && continue
		setsid flock -n "$TMPDIR/charnn-cpu.$c" sleep 1000 > /dev/null 2>&1 &
		GROUPS_STARTED="$GROUPS_STARTED $!"
		until ! flock -n "$TMPDIR/charnn-cpu.$c" true; do sleep 0.05; done
	done
	setsid "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/d" -H 8 -n 0 -k 100000000 -S 0 > /dev/null 2>&1 &
	GROUPS_STARTED="$GROUPS_STARTED $!"
	[ "$(stage_cpus "$BATS_TEST_TMPDIR/d")" = "$(taskset -pc $$ | sed 's/.*: //')" ]
	# -P keeps its meaning: the stages on its first CPU, held or not.
	setsid "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/e" -H 8 -n 0 -k 100000000 -S 0 -P "$b" > /dev/null 2>&1 &
	GROUPS_STARTED="$GROUPS_STARTED $!"
	[ "$(stage_cpus "$BATS_TEST_TMPDIR/e")" = "$b" ]
}

@test "train: a write that fails (file size limit) is an error, not success" {
	d="$BATS_TEST_TMPDIR/f"
	head -n 40 "$C" > "$BATS_TEST_TMPDIR/small.txt"
	# 40 KB per file: the loss log outgrows it within a thousand iterations.
	run -1 --separate-stderr bash -c "ulimit -f 80; '$TRAIN' -c '$BATS_TEST_TMPDIR/small.txt' -d '$d' -H 8 -n 3000 -S 0 -k 1000000"
	[[ "$stderr" == *"feed: $d/loss.log: write error: File too large"* ]]
	[ "${stderr##*$'\n'}" = "train: stopped: feed 1 (program, exit status)" ]
	[ ! -e "$d/ws.t" ]
}

@test "train: -F double trains with the double build" {
	[ -x "$TOP/build/double/bin/feed" ] || skip "no double build"
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/d" -H 8 -n 50 -S 0 -F double
	[ "$(tensordump "$BATS_TEST_TMPDIR/d/ckpt.t" | awk '$2 == "Wxh" { print $3 }')" = f64 ]
	run -0 "$TRAIN" -d "$BATS_TEST_TMPDIR/d" -r -n 60 -S 0
	run -0 "$TRAIN" --help
	[[ "$output" == *"-F PREC   float (default) or double"* ]]
}

@test "train: val.log gets each measurement and the last; best.t is kept" {
	d="$BATS_TEST_TMPDIR/v"
	run -0 "$TRAIN" -c "$C" -d "$d" -H 8 -n 130 -e 50 -S 0
	[ "$(cut -d ' ' -f 1 "$d/val.log" | tr '\n' ' ')" = "50 100 130 " ]
	[ -f "$d/best.t" ]
	run -0 "$TRAIN" -d "$d" -r -n 200 -e 50 -S 0
	[ "$(cut -d ' ' -f 1 "$d/val.log" | tr '\n' ' ')" = "50 100 150 200 " ]
}

@test "train: stopped on a sampling iteration and resumed, it samples as the unbroken run" {
	run -0 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/a" -H 8 -n 300 -k 100 -S 100
	sed -n '/after iteration 300/,/^----$/p' <<< "$stderr" > "$BATS_TEST_TMPDIR/a.s"
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/b" -H 8 -n 200 -k 100 -S 100
	run -0 --separate-stderr "$TRAIN" -d "$BATS_TEST_TMPDIR/b" -n 300 -k 100 -S 100 -r
	sed -n '/after iteration 300/,/^----$/p' <<< "$stderr" > "$BATS_TEST_TMPDIR/b.s"
	[ -s "$BATS_TEST_TMPDIR/a.s" ]
	cmp "$BATS_TEST_TMPDIR/a.s" "$BATS_TEST_TMPDIR/b.s"
	cmp "$BATS_TEST_TMPDIR/a/ckpt.t" "$BATS_TEST_TMPDIR/b/ckpt.t"
	cmp "$BATS_TEST_TMPDIR/a/loss.log" "$BATS_TEST_TMPDIR/b/loss.log"
}

@test "train -j: 1, 2 and 16 threads per stage give the same bytes" {
	for j in 1 2 16; do
		run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/j$j" -H 256 -B 8 -T 10 -n 12 -k 6 -S 6 -e 6 -j "$j"
		echo "$output" | grep -v 'char/s\|^train: done' > "$BATS_TEST_TMPDIR/j$j.err"
	done
	for j in 2 16; do
		cmp "$BATS_TEST_TMPDIR/j1/ckpt.t" "$BATS_TEST_TMPDIR/j$j/ckpt.t"
		cmp "$BATS_TEST_TMPDIR/j1/loss.log" "$BATS_TEST_TMPDIR/j$j/loss.log"
		cmp "$BATS_TEST_TMPDIR/j1.err" "$BATS_TEST_TMPDIR/j$j.err"
	done
}

@test "train -j and -P: bad values are usage errors, before anything is touched" {
	d="$BATS_TEST_TMPDIR/x"
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -j 0
	[ "$stderr" = "train: -j: 0 is out of range [1, 256]" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -j many
	[ "$stderr" = "train: -j: not an integer: 'many'" ]
	if command -v taskset > /dev/null; then
		run -2 --separate-stderr "$TRAIN" -c "$C" -d "$d" -P 99999
		[ "$stderr" = "train: -P: '99999' is not a list of CPUs this run may use" ]
	fi
	[ ! -e "$d" ]
}

@test "train -I: fine-tuning starts from another run's model on a new text" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/a" -H 16 -n 300 -S 0
	head -n 30 "$C" > "$BATS_TEST_TMPDIR/new.txt"
	run -0 "$TRAIN" -c "$BATS_TEST_TMPDIR/new.txt" -d "$BATS_TEST_TMPDIR/f" -I "$BATS_TEST_TMPDIR/a/ckpt.t" -n 20 -S 0
	# The run starts from the trained parameters, not from new ones: over
	# its 20 iterations its loss is well below a fresh model's (measured:
	# 70 against 89).
	run -0 "$TRAIN" -c "$BATS_TEST_TMPDIR/new.txt" -d "$BATS_TEST_TMPDIR/g" -H 16 -n 20 -S 0
	tuned=$(awk '{ s += $2 } END { print s / NR }' "$BATS_TEST_TMPDIR/f/loss.log")
	fresh=$(awk '{ s += $2 } END { print s / NR }' "$BATS_TEST_TMPDIR/g/loss.log")
	awk -v a="$tuned" -v b="$fresh" 'BEGIN { exit !(a < 0.9 * b) }'
	# Its index stream is in the model's vocabulary, and the hidden size is the model's.
	cmp <(decode "$BATS_TEST_TMPDIR/a/ckpt.t" "$BATS_TEST_TMPDIR/f/corpus.t") "$BATS_TEST_TMPDIR/new.txt"
	run -0 tensordump "$BATS_TEST_TMPDIR/f/ckpt.t"
	[[ "$output" == *"tensor Whh f32 [16 16]"* || "$output" == *"tensor Whh f64 [16 16]"* ]]
}

@test "train -I: a text with characters the model lacks, a hidden size that differs, -r" {
	run -0 "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/a" -H 16 -n 10 -S 0
	m="$BATS_TEST_TMPDIR/a/ckpt.t"
	printf 'Zq\xe2\x98\x83 ~\n' > "$BATS_TEST_TMPDIR/odd.txt"
	grep -q '[Zq~]' "$C" && skip "the test corpus has one of Z q ~"
	run -1 --separate-stderr "$TRAIN" -c "$BATS_TEST_TMPDIR/odd.txt" -d "$BATS_TEST_TMPDIR/x" -I "$m"
	[ "$stderr" = "train: -I $m: its vocabulary lacks 4 characters of $BATS_TEST_TMPDIR/odd.txt: \"Zq~☃\"" ]
	run -2 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/x" -I "$m" -H 32
	[ "$stderr" = "train: -H 32: the model $m has -H 16" ]
	run -2 --separate-stderr "$TRAIN" -d "$BATS_TEST_TMPDIR/a" -I "$m" -r
	[ "$stderr" = "train: -I goes with a new run, not with -r" ]
	run -1 --separate-stderr "$TRAIN" -c "$C" -d "$BATS_TEST_TMPDIR/x" -I "$BATS_TEST_TMPDIR/none.t"
	[ "$stderr" = "train: -I $BATS_TEST_TMPDIR/none.t: No such file or directory" ]
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "train: a fifo that cannot be made is an error in train's name" {
	d="$BATS_TEST_TMPDIR/f"
	# A directory in the way of the named pipe.
	mkdir -p "$d/loop/x"
	run -1 --separate-stderr "$TRAIN" -c "$C" -d "$d" -H 8 -n 10 -S 0
	[ "$stderr" = "train: cannot create fifo '$d/loop': File exists" ] ||
	[ "$stderr" = "train: cannot create fifo ‘$d/loop’: File exists" ]
	[ ! -e "$d/lock" ] && [ -d "$d/loop/x" ]
}

@test "train -M: the mean loss per character, recorded, resumed byte-identical, refused on a run made without it" {
	a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b" u="$BATS_TEST_TMPDIR/u"
	run -0 "$TRAIN" -c "$C" -d "$a" -H 16 -n 200 -k 70 -S 100 -e 50 -M
	run -0 feed -K -r "$a/ckpt.t" -n 300
	grep -qx 'loss mean' <<< "$output"
	# Stopped and resumed (the setting taken from the checkpoint, or -M
	# given again), as the unbroken run.
	run -0 "$TRAIN" -c "$C" -d "$b" -H 16 -n 100 -k 70 -S 100 -e 50 -M
	run -0 "$TRAIN" -d "$b" -n 150 -k 70 -S 100 -e 50 -r
	run -0 "$TRAIN" -d "$b" -n 200 -k 70 -S 100 -e 50 -r -M
	cmp "$a/ckpt.t" "$b/ckpt.t"
	cmp "$a/loss.log" "$b/loss.log"
	# The gradients rnn-bwd -M gives are not the sum's: the run without
	# -M ends elsewhere, and records no loss setting.
	run -0 "$TRAIN" -c "$C" -d "$u" -H 16 -n 200 -k 70 -S 100 -e 50
	! cmp -s "$a/ckpt.t" "$u/ckpt.t"
	run -0 feed -K -r "$u/ckpt.t" -n 300
	! grep -q '^loss ' <<< "$output"
	cp "$u/ckpt.t" "$BATS_TEST_TMPDIR/u.t"
	run -2 --separate-stderr "$TRAIN" -d "$u" -r -M -n 300
	[ "$stderr" = "train: -M: the checkpoint $u/ckpt.t was made without -M" ]
	cmp "$u/ckpt.t" "$BATS_TEST_TMPDIR/u.t"
	run -0 "$TRAIN" --help
	[[ "$output" == *"  -M        "* ]]
}
