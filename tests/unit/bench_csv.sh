#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/lib.sh's CSV=FILE helper (docs/perf/make.sh relies on it): a header only when
# the file is new, one comma-separated row per line given, nothing at all without CSV;
# and busy_since gives a number of cores, never negative.
#   SRCDIR=. tests/unit/bench_csv.sh
set -euo pipefail
command -v dpdk-testpmd > /dev/null || { echo "skip: bench/lib.sh wants dpdk-testpmd"; exit 77; }
work=$(mktemp -d /tmp/bl-benchcsv.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi; }
# lib.sh takes the build folder as $1 and sets its own EXIT trap: source it in a subshell.
run() { local cmd=("$@"); (set -- "$work/nobuild"; . "${SRCDIR:?}/bench/lib.sh"; "${cmd[@]}"); }

out=$(printf '1 a 2.5\n' | CSV= run csv_rows round,impl,mpps)
check "no CSV: nothing on stdout" test -z "$out"
check "no CSV: no file made" test -z "$(ls "$work")"

f=$work/x.csv
printf '1 testpmd 96.6\n1 beltlined 94.7\n' | CSV=$f run csv_rows round,impl,mpps
printf '2 testpmd 90.1\n' | CSV=$f run csv_rows round,impl,mpps
check "header once, then the rows, comma-separated" \
	diff -u <(printf 'round,impl,mpps\n1,testpmd,96.6\n1,beltlined,94.7\n2,testpmd,90.1\n') "$f"

: > "$work/empty.csv"
printf '3 x 1\n' | CSV=$work/empty.csv run csv_rows a,b,c
check "an empty file gets the header" diff -u <(printf 'a,b,c\n3,x,1\n') "$work/empty.csv"

b=$(run eval 'busy_mark; sleep 0.3; busy_since')
check "busy_since: a non-negative number ($b)" awk -v b="$b" 'BEGIN { exit !(b ~ /^[0-9]+\.[0-9][0-9]$/) }'
exit "$fail"
