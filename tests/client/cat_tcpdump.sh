#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# For every capture X in the corpus: `beltline cat X | tcpdump -r - -w Y` gives
# the same packets as X (tcpdump's full hex dump with timestamps, X vs Y, equal),
# and -c N gives the first N. With no appliance running, cat/ls/stats/top say
# so and exit 1 (never crash).
set -u
bl=$1
corpus=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
dump() { tcpdump -r "$1" -nn -tt -e -xx 2>/dev/null; }
for x in "$corpus"/*.pcap "$corpus"/*.pcapng; do
	[ -f "$x" ] || continue
	# libpcap cannot read every pcapng (several link types): skip what tcpdump skips
	dump "$x" > "$tmp/x.txt" || { echo "skip $(basename "$x"): tcpdump cannot read it"; continue; }
	if ! "$bl" cat "$x" 2>"$tmp/err" | tcpdump -r - -w "$tmp/y.pcap" 2>/dev/null; then
		echo "FAIL $(basename "$x"): beltline cat | tcpdump -w failed: $(cat "$tmp/err")"
		fail=1; continue
	fi
	dump "$tmp/y.pcap" > "$tmp/y.txt"
	if ! cmp -s "$tmp/x.txt" "$tmp/y.txt"; then
		echo "FAIL $(basename "$x"): packets differ"; diff "$tmp/x.txt" "$tmp/y.txt" | head -5
		fail=1; continue
	fi
	n=$((n + 1))
done
echo "$n captures identical through beltline cat | tcpdump"
[ "$n" -ge 40 ] || { echo "FAIL: only $n captures compared"; fail=1; }

# -c N: the first N packets
x=$corpus/afs.pcap
"$bl" cat "$x" -c 5 | tcpdump -r - -nn -tt -e -xx 2>/dev/null > "$tmp/c.txt"
tcpdump -r "$x" -c 5 -nn -tt -e -xx 2>/dev/null > "$tmp/x5.txt"
cmp -s "$tmp/c.txt" "$tmp/x5.txt" || { echo "FAIL: cat -c 5 differs"; fail=1; }
[ "$(tcpdump -r - -nn < /dev/null 2>/dev/null | wc -l)" = 0 ] || true

# file: URIs too
"$bl" cat "file:$x" -c 1 | tcpdump -r - -nn 2>/dev/null | grep -q . || { echo "FAIL: file: URI"; fail=1; }

# no appliance: a clear line and exit status 1, for every command
export BELTLINE_RUN_DIR="$tmp/run"
for cmd in "ls" "stats" "stats --json" "top -n 1" "cat web"; do
	# shellcheck disable=SC2086
	"$bl" $cmd > "$tmp/out" 2> "$tmp/err" < /dev/null
	rc=$?
	if [ "$rc" != 1 ] || ! grep -q "no instance" "$tmp/err"; then
		echo "FAIL: 'beltline $cmd' with no instance: status $rc, said: $(cat "$tmp/err")"
		fail=1
	fi
done
"$bl" cat 'beltline://bad name/x' > /dev/null 2> "$tmp/err"
[ $? = 1 ] && grep -q "bad URI" "$tmp/err" || { echo "FAIL: bad URI: $(cat "$tmp/err")"; fail=1; }
"$bl" --help | grep -q "usage: beltline" || { echo "FAIL: --help"; fail=1; }
"$bl" frobnicate 2>/dev/null; [ $? = 2 ] || { echo "FAIL: unknown command is not status 2"; fail=1; }
# A usage error says what was wrong and where help is, not the whole help (60 lines).
err=$("$bl" frobnicate 2>&1 >/dev/null)
printf '%s\n' "$err" | grep -q "unknown command 'frobnicate'" &&
	[ "$(printf '%s\n' "$err" | wc -l)" -le 2 ] ||
	{ echo "FAIL: unknown command: $(printf '%s' "$err" | head -c 200)"; fail=1; }
[ $fail = 0 ] && echo PASS
exit $fail
