#!/usr/bin/env bats
# The manual pages in man/: each renders without a warning (mandoc -Tlint),
# every program (bin/*.c, the scripts, the front command) has one, each
# SYNOPSIS names every option its program's --help lists, and every
# charnn page a page refers to exists.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	MAN="$TOP/man"
}

need_mandoc() {
	command -v mandoc > /dev/null ||
		skip "mandoc is not installed (test/bats.sh installs it when run as root)"
}

# The options (-X, one a line, sorted) named in the text on stdin: words
# that are a dash and one letter, once brackets, bars, parentheses and
# trailing punctuation are taken off; with "all", also every letter of a
# word of several (mdoc's "[-gu]").
options() {
	awk -v all="${1:-}" '{
		for (i = 1; i <= NF; i++) {
			w = $i
			sub(/^[[(|]+/, "", w); sub(/[])|,.:;]+$/, "", w)
			if (w ~ /^-[A-Za-z]$/) print w
			else if (all != "" && w ~ /^-[A-Za-z][A-Za-z]+$/)
				for (j = 2; j <= length(w); j++) print "-" substr(w, j, 1)
		}
	}' | LC_ALL=C sort -u
}

# Page $1 rendered as plain text (no overstrike).
render() {
	mandoc -Tascii "$1" | sed "s/.$(printf '\b')//g"
}

# The SYNOPSIS section of page $1, rendered as plain text.
synopsis() {
	render "$1" |
		awk '/^[A-Z]/ { on = ($0 == "SYNOPSIS"); next } on'
}

# The command whose --help program $1's page documents.
command_of() {
	case $1 in
	train | sweep | plot | charnn) echo "$TOP/pipelines/$1" ;;
	*) echo "$1" ;;
	esac
}

# Options that --help still lists by the name they had before a rename
# decided for all branches (program:old:new); the page has the new one.
# The lead drops an entry once the rename is merged (then it is inert).
RENAMED=""

# Prints, one a line, the options that program $1's --help lists and its
# page $2 does not name in its SYNOPSIS.
missing_options() {
	page=$(synopsis "$2" | options all)
	"$(command_of "$1")" --help | options | while read -r o; do
		printf '%s\n' "$page" | grep -qx -- "$o" && continue
		for r in $RENAMED; do
			p=${r%%:*} old=${r#*:} old=${old%%:*} new=${r##*:}
			[ "$p" = "$1" ] && [ "$o" = "-$old" ] &&
				printf '%s\n' "$page" | grep -qx -- "-$new" && continue 2
		done
		printf "%s\n" "$o"
	done
}

# Every page: the programs of bin/, the scripts, the front command.
programs() {
	for f in "$TOP"/bin/*.c; do b=${f##*/}; echo "${b%.c}"; done
	echo train; echo sweep; echo plot
}

@test "man: every program in bin/, every script and the front command has a page" {
	for p in $(programs); do
		[ -f "$MAN/charnn-$p.1" ] || { echo "no page man/charnn-$p.1 for $p"; false; }
	done
	[ -f "$MAN/charnn.1" ]
	for f in tensor text corpus model; do [ -f "$MAN/charnn-$f.5" ]; done
}

@test "man: every page renders without a warning (mandoc -Tlint)" {
	need_mandoc
	for f in "$MAN"/*.[15]; do
		run -0 mandoc -Tlint -W warning "$f"
		[ -z "$output" ] || { echo "$output"; false; }
	done
}

@test "man: each SYNOPSIS names every option its program's --help lists" {
	need_mandoc
	bad=
	for p in $(programs); do
		m=$(missing_options "$p" "$MAN/charnn-$p.1" | tr '\n' ' ')
		[ -z "$m" ] || { echo "man/charnn-$p.1 SYNOPSIS lacks: $m"; bad=1; }
	done
	[ -z "$bad" ]
}

@test "man: the SYNOPSIS check fails for a page that lacks an option" {
	need_mandoc
	sed '/^\.Op Fl b$/d' "$MAN/charnn-vocab.1" > "$BATS_TEST_TMPDIR/charnn-vocab.1"
	run -0 missing_options vocab "$BATS_TEST_TMPDIR/charnn-vocab.1"
	[ "$output" = "-b" ]
	sed 's/^\.Op Fl gu$/.Op Fl u/' "$MAN/charnn-sample.1" > "$BATS_TEST_TMPDIR/charnn-sample.1"
	run -0 missing_options sample "$BATS_TEST_TMPDIR/charnn-sample.1"
	[ "$output" = "-g" ]
	run -0 missing_options sample "$MAN/charnn-sample.1"
	[ -z "$output" ]
}

@test "man: every charnn page a page refers to (Xr) exists" {
	for f in "$MAN"/*.[15]; do
		awk '$1 == ".Xr" && $2 ~ /^charnn/ { print $2 "." $3 }' "$f" | while read -r ref; do
			[ -f "$MAN/$ref" ] || { echo "${f##*/} refers to missing $ref"; exit 1; }
		done
	done
}

@test "man: the front command's page lists every program" {
	need_mandoc
	text=$(render "$MAN/charnn.1")
	for p in $(programs); do
		[[ "$text" == *"charnn-$p(1)"* ]] || { echo "charnn.1 does not list $p"; false; }
	done
}
