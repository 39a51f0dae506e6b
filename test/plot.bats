#!/usr/bin/env bats
# pipelines/plot: loss and validation curves of run directories as PNG or
# SVG through gnuplot; the error without gnuplot; bad arguments.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	PLOT="$TOP/pipelines/plot"
	cd "$BATS_TEST_TMPDIR"
	# Two small runs: loss.log (iter loss smooth), val.log (ITER BPC).
	mkdir -p runs/a runs/b
	awk 'BEGIN { for (i = 1; i <= 200; i++) print i, 100 - i / 4, 100 - i / 5 }' > runs/a/loss.log
	awk 'BEGIN { for (i = 1; i <= 200; i++) print i, 90 - i / 4, 90 - i / 3 }' > runs/b/loss.log
	printf '100 4.5\n200 4.1\n200 4.1\n' > runs/a/val.log
	printf '100 4.2\n200 3.9\n' > runs/b/val.log
}

need_gnuplot() {
	command -v gnuplot > /dev/null ||
		skip "gnuplot is not installed (test/bats.sh installs it when run as root)"
}

# A directory with every command of /usr/bin and /bin except $1.
path_without() {
	nb="$BATS_TEST_TMPDIR/no-$1"
	mkdir -p "$nb"
	ln -s /usr/bin/* "$nb/" 2> /dev/null || :
	[ /bin -ef /usr/bin ] || ln -s /bin/* "$nb/" 2> /dev/null || :
	rm -f "$nb/$1"
	echo "$nb"
}

@test "plot --help: on stdout, exit 0; usage errors exit 2" {
	run -0 --separate-stderr "$PLOT" --help
	[[ "$output" == "usage: plot [-f png|svg] [-o FILE] [-s WIDTHxHEIGHT] RUNDIR..."* ]]
	run -2 --separate-stderr "$PLOT"
	[ "$stderr" = "usage: plot [-f png|svg] [-o FILE] [-s WIDTHxHEIGHT] RUNDIR..." ]
	run -2 --separate-stderr "$PLOT" -f gif runs/a
	[ "$stderr" = "usage: plot [-f png|svg] [-o FILE] [-s WIDTHxHEIGHT] RUNDIR..." ]
	run -2 --separate-stderr "$PLOT" -s 10x runs/a
	[ "$stderr" = "usage: plot [-f png|svg] [-o FILE] [-s WIDTHxHEIGHT] RUNDIR..." ]
}

@test "plot: a directory without loss.log is an error" {
	mkdir empty
	run -1 --separate-stderr "$PLOT" -o x.png runs/a empty/
	[ "$stderr" = "plot: empty: no loss.log (not a run directory?)" ]
	[ ! -e x.png ]
}

@test "plot: without gnuplot, one line and exit 1, nothing written" {
	PATH=$(path_without gnuplot)
	run -1 --separate-stderr "$PLOT" -o x.png runs/a
	[ "$stderr" = "plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox)" ]
	[ -z "$output" ]
	[ ! -e x.png ]
}

@test "plot -o FILE.png: a PNG of the requested size, two runs" {
	need_gnuplot
	run -0 "$PLOT" -s 640x480 -o both.png runs/a runs/b
	# The signature, then the IHDR chunk: width and height, big-endian.
	[ "$(head -c 8 both.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	[ "$(od -An -j 16 -N 8 -tu1 both.png | tr -s ' ' | sed 's/^ //')" = "0 0 2 128 0 0 1 224" ]
	[ -z "$(ls | grep tmp)" ]
}

@test "plot: SVG on stdout (-f svg) and by extension, every run named" {
	need_gnuplot
	run -0 --separate-stderr "$PLOT" -f svg runs/a runs/b/
	[[ "$output" == "<?xml"* ]]
	[[ "$output" == *"<svg"* && "$output" == *"</svg>"* ]]
	[[ "$output" == *">runs/a<"* && "$output" == *">runs/b<"* ]]
	run -0 "$PLOT" -o out.svg runs/b
	[ "$(head -c 5 out.svg)" = "<?xml" ]
	grep -q '</svg>' out.svg
}
