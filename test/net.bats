#!/usr/bin/env bats
# The model family (formats/model.md, THE MODEL FAMILY) in rnn-fwd and
# rnn-bwd on a frame that carries its model inline: the loss and every
# gradient against test/ref_net.py, an independent reference written from
# the equations page, for each cell, B=1 and B>1, in float and double; and
# several steps with dropout and an optimiser, the updates checked too.

bats_require_minimum_version 1.5.0
load test_helper
load mdl_helper

setup() {
	D=$BATS_TEST_TMPDIR
	mdl_vocab "$D/vocab.t"
	REF="$BATS_TEST_DIRNAME/ref_net.py"
	FBIN="${CHARNN_BIN:-$TOP/bin}"
}

# net_window BIN CELL SIZES T B DTYPE [bare]: a window frame (text form)
# with x and y (T,B), each layer's states h0.l (and c0.l for lstm), made of
# fixed values in (-0.5, 0.5), and (unless bare: for -m) a model of CELL
# and SIZES (rnn-init -H).
net_window() {
	local bin=$1 cell=$2 sizes=$3 T=$4 B=$5 dt=$6 l=0 h
	echo "frame window"
	echo "tensor x i32 [$T $B]"
	seq 0 $((T * B - 1)) | awk '{ printf "%d ", ($1 * 7 + 1) % 6 } END { print "" }'
	echo "tensor y i32 [$T $B]"
	seq 0 $((T * B - 1)) | awk '{ printf "%d ", ($1 * 5 + 2) % 6 } END { print "" }'
	for h in ${sizes//,/ }; do
		for s in h0 c0; do
			[ $s = c0 ] && [ "$cell" != lstm ] && continue
			echo "tensor $s.$l $dt [$B $h]"
			seq $((B * h)) | awk -v k=$l '{ printf "%.6f ", 0.5 * sin($1 * 1.7 + k) }
				END { print "" }'
		done
		l=$((l + 1))
	done
	[ "${7:-}" = bare ] && return
	"$bin/rnn-init" -C "$cell" -H "$sizes" -s 4 "$D/vocab.t" | "$bin/tensordump" -a | sed '/^frame /d'
}

# check BIN CELL SIZES T B DTYPE TOL: the forward and backward pass against
# the reference.
check() {
	local bin=$1
	net_window "$@" | "$bin/tensordump" -r > "$D/w.t"
	"$bin/tensordump" -a "$D/w.t" > "$D/w.txt"
	"$bin/rnn-fwd" "$D/w.t" | "$bin/rnn-bwd" | "$bin/tensordump" -a > "$D/g.txt"
	run -0 python3 "$REF" 5 "$7" "$D/w.txt" "$D/g.txt"
	[[ "$output" == "ref_net.py: "*" tensors, largest error "* ]]
}

# steps BIN CELL SIZES T B DTYPE TOL OPT LR DROP: three training steps
# through rnn-fwd -D DROP | rnn-bwd | OPT, inline, each window carrying the
# model, optimiser state and layer states the step before left: the loss,
# the gradients and the update of every step against the reference.
steps() {
	local bin=$1 tol=$7 opt=$8 lr=$9 drop=${10} k
	{ net_window "$@"; printf 'tensor step i64 []\n0\n'; } | "$bin/tensordump" -r > "$D/w0.t"
	net_window "$@" | sed -n '2,5p' > "$D/xy.txt"
	for k in 0 1 2; do
		"$bin/rnn-fwd" -D "$drop" -s 3 "$D/w$k.t" > "$D/f$k.t"
		"$bin/rnn-bwd" "$D/f$k.t" > "$D/g$k.t"
		"$bin/$opt" -l "$lr" "$D/g$k.t" > "$D/p$k.t"
		for t in f g p; do "$bin/tensordump" -a "$D/$t$k.t" > "$D/$t.txt"; done
		run python3 "$REF" 5 "$tol" "$D/f.txt" "$D/g.txt" "$opt" "$lr" "$D/p.txt"
		echo "$output"; [ "$status" -eq 0 ]
		[[ "$output" == "ref_net.py: "*" tensors, largest error "* ]]
		# The next window: the step's output, its final states as the
		# next one's first, the same characters, the next step.
		{ echo "frame window"; cat "$D/xy.txt"
		  awk -v k=$((k + 1)) '/^frame/ { next } /^tensor / { skip = $2 == "loss" }
			/^tensor step / { print; getline; print k; next } skip { next }
			{ sub(/^tensor hT\./, "tensor h0."); sub(/^tensor cT\./, "tensor c0."); print }' "$D/p.txt"
		} | "$bin/tensordump" -r > "$D/w$((k + 1)).t"
	done
	# Dropout was on (or off) as asked.
	if [ "$drop" = 0 ]; then ! grep -q '^tensor drop\.0 ' "$D/f.txt"; else grep -q '^tensor drop\.0 ' "$D/f.txt"; fi
}

@test "net: three steps with dropout and an optimiser against the reference, every cell, float and double" {
	steps "$FBIN" lstm 3,2 4 2 f32 1e-4 adagrad 0.1 0.3
	steps "$FBIN" gru 2,3 3 1 f32 1e-4 adam 0.01 0.5
	steps "$FBIN" rnn 3,2,2 3 2 f32 1e-4 adagrad 0.1 0.2
	[ -x "$DBIN/rnn-fwd" ] || skip "no double build"
	steps "$DBIN" lstm 3,2 4 2 f64 1e-9 adam 0.01 0.3
	steps "$DBIN" gru 2,3 3 3 f64 1e-9 adagrad 0.1 0.25
	steps "$DBIN" rnn 3,2 3 2 f64 1e-9 adam 0.01 0
}

@test "net: lstm 2 layers against the reference, float, B=1 and B=3" {
	check "$FBIN" lstm 3,2 4 1 f32 1e-4
	check "$FBIN" lstm 3,2 3 3 f32 1e-4
}

@test "net: gru 3 layers and rnn 2 layers against the reference, float" {
	check "$FBIN" gru 2,3,2 3 2 f32 1e-4
	check "$FBIN" rnn 3,2 3 2 f32 1e-4
	check "$FBIN" lstm 3 3 1 f32 1e-4
}

@test "net: every cell against the reference to 1e-9 in double, B=1 and B>1" {
	[ -x "$DBIN/rnn-fwd" ] || skip "no double build"
	check "$DBIN" lstm 3,2 3 1 f64 1e-9
	check "$DBIN" lstm 2,3 2 3 f64 1e-9
	check "$DBIN" gru 3,2 3 1 f64 1e-9
	check "$DBIN" gru 2,2,3 2 2 f64 1e-9
	check "$DBIN" rnn 3,2,2 3 2 f64 1e-9
}

@test "net: the forward frame shows every layer's states and gates; rnn-bwd drops them" {
	net_window "$FBIN" lstm 3,2 2 2 f32 | tensordump -r | rnn-fwd > "$D/f.t"
	run -0 bash -c "tensordump '$D/f.t' | sed -n 's/^tensor \([^ ]*\) f32/\1/p' | tail -12"
	[ "${lines[0]}" = "hs.0 [2 2 3]" ]
	[ "${lines[1]}" = "cs.0 [2 2 3]" ]
	[ "${lines[2]}" = "gs.0 [2 2 12]" ]
	[ "${lines[5]}" = "gs.1 [2 2 8]" ]
	[ "${lines[6]}" = "ps [2 2 6]" ]
	[ "${lines[7]}" = "loss [2]" ]
	[ "${lines[11]}" = "cT.1 [2 2]" ]
	run -0 bash -c "rnn-bwd '$D/f.t' | tensordump | awk '/^tensor/ { print \$2 }' | tr '\n' ' '"
	[ "$output" = "vocab arch Wx.0 Wh.0 b.0 Wx.1 Wh.1 b.1 Why by loss hT.0 cT.0 hT.1 cT.1 dWx.0 dWh.0 db.0 dWx.1 dWh.1 db.1 dWhy dby dh0.0 dc0.0 dh0.1 dc0.1 " ]
}

@test "net: a missing layer state, a bad arch record" {
	net_window "$FBIN" gru 3,2 2 1 f32 | awk '/^tensor h0.1/ { skip = 2 } skip { skip--; next } 1' |
		tensordump -r > "$D/w.t"
	run -1 --separate-stderr rnn-fwd "$D/w.t"
	[ "$stderr" = "rnn-fwd: $D/w.t: frame 'window': no tensor 'h0.1'" ]
	[ -z "$output" ]
	net_window "$FBIN" gru 3,2 2 1 f32 |
		awk '/^tensor arch/ { print; getline; print "7 3 2"; next } 1' | tensordump -r > "$D/a.t"
	run -1 --separate-stderr rnn-fwd "$D/a.t"
	[ "$stderr" = "rnn-fwd: $D/a.t: tensor 'arch': cell 7 unknown (0 rnn, 1 lstm, 2 gru)" ]
	net_window "$FBIN" gru 3,2 2 1 f32 |
		awk '/^tensor arch/ { print; getline; print "2 3 4"; next } 1' | tensordump -r > "$D/a.t"
	run -1 --separate-stderr rnn-bwd "$D/a.t"
	[ "$stderr" = "rnn-bwd: $D/a.t: tensor 'Wx.1' has shape (6,3), expected (12,3)" ]
}

@test "net: -m MODEL gives the same forward and gradients as the model inline" {
	rnn-init -C gru -H 3,2 -s 4 "$D/vocab.t" > "$D/m.t"
	net_window "$FBIN" gru 3,2 2 2 f32 | tensordump -r > "$D/w.t"
	net_window "$FBIN" gru 3,2 2 2 f32 bare | tensordump -r > "$D/s.t"
	rnn-fwd "$D/w.t" | rnn-bwd | tensordump -a | mdl_pick loss dWx.0 dWh.1 db.1 dWhy dby dh0.0 dh0.1 > "$D/a.txt"
	rnn-fwd -m "$D/m.t" "$D/s.t" | rnn-bwd -m "$D/m.t" | tensordump -a |
		mdl_pick loss dWx.0 dWh.1 db.1 dWhy dby dh0.0 dh0.1 > "$D/b.txt"
	[ -s "$D/a.txt" ]
	cmp "$D/a.txt" "$D/b.txt"
	run -1 --separate-stderr rnn-fwd -m "$D/m.t" "$D/w.t"
	[ "$stderr" = "rnn-fwd: $D/w.t: frame 'window' carries tensor 'arch', but the parameters come from $D/m.t" ]
}

@test "net: float and double agree on an H=1024 LSTM, over two windows (T 2 and 3)" {
	[ -x "$DBIN/rnn-fwd" ] || skip "no double build"
	rnn-init -C lstm -H 1024 "$D/vocab.t" > "$D/m32.t"
	"$DBIN/rnn-init" -C lstm -H 1024 "$D/vocab.t" > "$D/m64.t"
	for T in 2 3; do
		net_window "$FBIN" lstm 1024 "$T" 2 f32 bare
	done | sed 's/ f32 / DT /' > "$D/w.txt"
	sed 's/ DT / f32 /' "$D/w.txt" | tensordump -r > "$D/w32.t"
	sed 's/ DT / f64 /' "$D/w.txt" | "$DBIN/tensordump" -r > "$D/w64.t"
	rnn-fwd -m "$D/m32.t" "$D/w32.t" | rnn-bwd -m "$D/m32.t" | tensordump -e "$D/e32"
	"$DBIN/rnn-fwd" -m "$D/m64.t" "$D/w64.t" | "$DBIN/rnn-bwd" -m "$D/m64.t" |
		"$DBIN/tensordump" -e "$D/e64"
	run -0 python3 "$BATS_TEST_DIRNAME/cmp_npy.py" 1e-4 "$D/e32" "$D/e64" \
		loss hT.0 cT.0 dWx.0 dWh.0 db.0 dWhy dby dh0.0 dc0.0
	[[ "$output" == "cmp_npy.py: largest difference "* ]]
}

# score_vs_fwd BIN CELL SIZES: score's mean loss of a fresh model over a
# text, and rnn-fwd's over the same text as one window (B 1, zero states):
# the same to 1e-12 in double (they sum -ln p in other orders).
score_vs_fwd() {
	local bin=$1 cell=$2 sizes=$3 dt=f64 l=0 h n
	printf 'abcabcddeeffabfedcbaaf' > "$D/text"
	"$bin/rnn-init" -C "$cell" -H "$sizes" -s 5 "$D/vocab.t" > "$D/m.t"
	"$bin/encode" "$D/vocab.t" "$D/text" > "$D/x.t"
	run -0 "$bin/score" "$D/m.t" "$D/x.t"
	local s=$output
	"$bin/tensordump" -a "$D/x.t" | mdl_pick x | grep -v '^tensor' | xargs -n 1 > "$D/idx"
	n=$(wc -l < "$D/idx")
	{
		echo "frame window"
		echo "tensor x i32 [$((n - 1)) 1]"
		head -n $((n - 1)) "$D/idx" | xargs
		echo "tensor y i32 [$((n - 1)) 1]"
		tail -n $((n - 1)) "$D/idx" | xargs
		for h in ${sizes//,/ }; do
			mdl_zeros "h0.$l" $dt 1 "$h"
			[ "$cell" = lstm ] && mdl_zeros "c0.$l" $dt 1 "$h"
			l=$((l + 1))
		done
	} | "$bin/tensordump" -r > "$D/w.t"
	local f
	f=$("$bin/rnn-fwd" -m "$D/m.t" "$D/w.t" | "$bin/tensordump" -a | mdl_pick loss | sed -n 2p)
	echo "$s" | awk -v f="$f" -v n=$((n - 1)) '{ d = $4 - f / n; if (d < 0) d = -d
		exit !($2 == n && d <= 1e-12 * $4) }'
}

@test "score: a family model's loss is rnn-fwd's over the same text (double)" {
	[ -x "$DBIN/score" ] || skip "no double build"
	score_vs_fwd "$DBIN" lstm 4,3
	score_vs_fwd "$DBIN" gru 3,3,2
	score_vs_fwd "$DBIN" rnn 5,2
}

@test "sample: a family model writes its vocabulary's characters; a seed gives the same text" {
	rnn-init -C lstm -L 2 -H 6 -s 2 "$D/vocab.t" > "$D/m.t"
	run -0 sample -n 50 -s 3 "$D/m.t"
	[[ "$output" =~ ^[a-f]{50}$ ]]
	[ "$(sample -n 50 -s 3 "$D/m.t")" = "$output" ]
	[ "$(sample -n 50 -s 4 "$D/m.t")" != "$output" ]
	run -0 sample -g -n 20 -p abc "$D/m.t"
	[[ "$output" =~ ^abc[a-f]{20}$ ]]
}

@test "net: a window without h0.l starts from the last one's hT.l and cT.l, as if given them" {
	rnn-init -C lstm -H 3,2 -s 4 "$D/vocab.t" > "$D/m.t"
	net_window "$FBIN" lstm 3,2 2 2 f32 bare | tensordump -r > "$D/w1.t"
	printf 'frame window\ntensor x i32 [2 2]\n3 4 5 0\ntensor y i32 [2 2]\n1 1 2 2\n' |
		tensordump -r > "$D/w2.t"
	cat "$D/w1.t" "$D/w2.t" | rnn-fwd -m "$D/m.t" > "$D/f.t"
	# The second window again, given the first one's final states by hand.
	{
		tensordump -a "$D/w2.t"
		tensordump -a "$D/f.t" | awk '/^frame/ { n++ } n == 1' | mdl_pick hT.0 cT.0 hT.1 cT.1 |
			sed 's/^tensor hT/tensor h0/; s/^tensor cT/tensor c0/'
	} | sed 's/^frame window 2$/frame window 6/' | tensordump -r > "$D/w2s.t"
	tensordump -a "$D/f.t" | awk '/^frame/ { n++ } n == 2' | mdl_pick loss hT.1 cT.1 > "$D/a.txt"
	rnn-fwd -m "$D/m.t" "$D/w2s.t" | tensordump -a | mdl_pick loss hT.1 cT.1 > "$D/b.txt"
	[ -s "$D/a.txt" ]
	cmp "$D/a.txt" "$D/b.txt"
	# Carried states go on in the frame, for rnn-bwd.
	cat "$D/w1.t" "$D/w2.t" | rnn-fwd -m "$D/m.t" | rnn-bwd -m "$D/m.t" > /dev/null
	run -1 --separate-stderr rnn-fwd -m "$D/m.t" "$D/w2.t"
	[ "$stderr" = "rnn-fwd: $D/w2.t: frame 'window': no tensor 'h0.0', and no window before it" ]
}
