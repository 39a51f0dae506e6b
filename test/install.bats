#!/usr/bin/env bats
# make install / uninstall: one command in PREFIX/bin, the filters and
# scripts in PREFIX/libexec/charnn, corpus and notes in PREFIX/share/charnn,
# man pages in PREFIX/share/man; the installed charnn trains and samples with
# nothing of the source tree on PATH; uninstall removes exactly what install
# put; DESTDIR stages.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	P="$BATS_TEST_TMPDIR/prefix"
	PROGS=$(sed -n '/^PROGS *=/,/[^\\]$/p' "$TOP/Makefile" | sed 's/^PROGS *=//; s/\\//' | tr -s ' \n' '\n' | grep . | sort)
}

# The files under $1, one relative path a line, sorted.
files() {
	(cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

# What install must put under a prefix, sorted.
expected() {
	{
		echo bin/charnn
		for p in $PROGS train sweep plot; do echo "libexec/charnn/$p"; done
		for p in $PROGS; do echo "libexec/charnn/double/$p"; done
		echo share/charnn/corpus.txt
		for f in "$TOP"/formats/*.md; do echo "share/charnn/${f##*/}"; done
		for f in "$TOP"/man/*.1; do echo "share/man/man1/${f##*/}"; done
		for f in "$TOP"/man/*.5; do echo "share/man/man5/${f##*/}"; done
	} | LC_ALL=C sort
}

install_into() {
	make -s -C "$TOP" install PREFIX="$1" > /dev/null
}

@test "install: exactly the expected files; nothing in bin but charnn" {
	install_into "$P"
	[ "$(files "$P")" = "$(expected)" ]
	[ "$(ls "$P/bin")" = charnn ]
	for p in $PROGS train sweep plot; do [ -x "$P/libexec/charnn/$p" ]; done
}

@test "installed charnn: train -n 200 on the bundled corpus, then sample, with only the install on PATH" {
	install_into "$P"
	cd "$BATS_TEST_TMPDIR"
	PATH=/usr/bin:/bin
	run -0 --separate-stderr "$P/bin/charnn" train -n 200 -H 16 -S 0 -e 100
	[[ "$stderr" == *"train: done; model and state in runs/corpus/ckpt.t"* ]]
	[ "$(wc -l < runs/corpus/loss.log)" -eq 200 ]
	# The bundled corpus was the installed one.
	cmp "$P/share/charnn/corpus.txt" "$TOP/data/corpus.txt"
	run -0 "$P/bin/charnn" sample -n 40 runs/corpus/ckpt.t
	[ -n "$output" ]
	run -0 "$P/bin/charnn" score runs/corpus/ckpt.t runs/corpus/corpus.t
	[[ "$output" == "chars "*" bpc "* ]]
}

@test "installed charnn train -F double: the installed double build" {
	install_into "$P"
	cd "$BATS_TEST_TMPDIR"
	PATH=/usr/bin:/bin
	run -0 --separate-stderr "$P/bin/charnn" train -F double -n 30 -H 8 -S 0 -e 30 -d r
	run -0 "$P/libexec/charnn/tensordump" r/ckpt.t
	[[ "$output" == *"tensor Wxh f64 "* ]]
}

@test "installed train, run by its path, finds its filters beside it" {
	install_into "$P"
	cd "$BATS_TEST_TMPDIR"
	PATH=/usr/bin:/bin
	run -0 --separate-stderr "$P/libexec/charnn/train" -d r -n 30 -H 8 -S 0 -e 30
	[ "$(wc -l < r/loss.log)" -eq 30 ]
}

@test "installed charnn train --help: the bundled corpus where it really is" {
	install_into "$P"
	run -0 --separate-stderr "$P/bin/charnn" train --help
	[[ "$output" == *"-c FILE   corpus (default: $P/share/charnn/corpus.txt)"* ]]
}

@test "installed charnn sweep and plot: the train beside them, the bundled corpus" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed"
	"$TOP/pipelines/train" --help | grep -q -- '-P CPU' ||
		skip "pipelines/train has no -P yet (it comes with the train branch)"
	install_into "$P"
	cd "$BATS_TEST_TMPDIR"
	PATH=/usr/bin:/bin
	run -0 --separate-stderr "$P/bin/charnn" sweep -g '-H 8 12' -- -n 40 -S 0 -e 20
	[ "${#lines[@]}" -eq 3 ]
	cmp "$P/share/charnn/corpus.txt" sweeps/corpus/corpus.txt
	if command -v gnuplot > /dev/null; then
		run -0 "$P/bin/charnn" plot -o s.svg sweeps/corpus/H8 sweeps/corpus/H12
		grep -q '</svg>' s.svg
	fi
}

@test "installed charnn path: the short names on PATH for a pipeline by hand" {
	install_into "$P"
	run -0 "$P/bin/charnn" path
	[ "$output" = "$P/libexec/charnn" ]
	# Also through a symbolic link to the command, relative or not.
	mkdir "$BATS_TEST_TMPDIR/mybin"
	ln -s "$P/bin/charnn" "$BATS_TEST_TMPDIR/mybin/charnn"
	ln -s ../mybin/charnn "$BATS_TEST_TMPDIR/mybin/cn"
	run -0 "$BATS_TEST_TMPDIR/mybin/cn" path
	[ "$output" = "$P/libexec/charnn" ]
	PATH=$("$P/bin/charnn" path):/usr/bin:/bin
	[ "$(command -v encode)" = "$P/libexec/charnn/encode" ]
	printf 'abcab' > "$BATS_TEST_TMPDIR/t.txt"
	vocab "$BATS_TEST_TMPDIR/t.txt" > "$BATS_TEST_TMPDIR/v.t"
	encode "$BATS_TEST_TMPDIR/v.t" "$BATS_TEST_TMPDIR/t.txt" | decode "$BATS_TEST_TMPDIR/v.t" |
		cmp - "$BATS_TEST_TMPDIR/t.txt"
}

@test "charnn help lists every program; unknown names and no name are usage errors" {
	run -0 --separate-stderr "$TOP/pipelines/charnn" help
	[[ "${lines[0]}" == "usage: charnn help | path | PROGRAM [ARG...]" ]]
	for p in $PROGS train sweep plot; do
		printf '%s\n' "$output" | grep -q "^  $p  *[A-Za-z]"
	done
	run -2 --separate-stderr "$TOP/pipelines/charnn" nosuch
	[ "$stderr" = "charnn: nosuch: no such program (charnn help lists them)" ]
	run -2 --separate-stderr "$TOP/pipelines/charnn" ../bin/feed
	[ "$stderr" = "usage: charnn help | path | PROGRAM [ARG...]" ]
	run -2 --separate-stderr "$TOP/pipelines/charnn"
	[ "$stderr" = "usage: charnn help | path | PROGRAM [ARG...]" ]
}

@test "charnn in the source tree runs bin/ and pipelines/" {
	run -0 "$TOP/pipelines/charnn" path
	[ "$output" = "$TOP/bin" ]
	run -0 --separate-stderr "$TOP/pipelines/charnn" vocab --help
	[[ "$output" == "usage: vocab "* ]]
	run -0 --separate-stderr "$TOP/pipelines/charnn" sweep --help
	[[ "$output" == "usage: sweep "* ]]
}

@test "installed man pages: man finds them under PREFIX/share/man" {
	install_into "$P"
	command -v man > /dev/null || skip "no man command; the files were checked by the first test"
	for f in "$TOP"/man/*.[15]; do
		b=${f##*/}
		run -0 man -M "$P/share/man" -w "${b##*.}" "${b%.*}"
		[ "$output" = "$P/share/man/man${b##*.}/$b" ]
	done
	MANPAGER=cat run -0 man -M "$P/share/man" 1 charnn-train
	[[ "$output" == *"SYNOPSIS"* ]]
}

@test "uninstall removes exactly what install put" {
	mkdir -p "$P/bin" "$P/share/man/man1"
	echo mine > "$P/bin/other"
	echo mine > "$P/share/man/man1/other.1"
	install_into "$P"
	make -s -C "$TOP" uninstall PREFIX="$P"
	[ "$(files "$P")" = "$(printf 'bin/other\nshare/man/man1/other.1')" ]
	[ ! -e "$P/libexec/charnn" ] && [ ! -e "$P/share/charnn" ]
}

@test "DESTDIR: install stages under it, the staged charnn runs, uninstall empties it" {
	S="$BATS_TEST_TMPDIR/stage"
	make -s -C "$TOP" install DESTDIR="$S" PREFIX=/opt/charnn > /dev/null
	[ "$(files "$S/opt/charnn")" = "$(expected)" ]
	run -0 "$S/opt/charnn/bin/charnn" path
	[ "$output" = "$S/opt/charnn/libexec/charnn" ]
	make -s -C "$TOP" uninstall DESTDIR="$S" PREFIX=/opt/charnn
	[ -z "$(files "$S")" ]
}
