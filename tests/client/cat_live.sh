#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# beltline cat on a live stream, end to end without the appliance: a fake
# appliance (fake-appliance) serves instance "t" on a control socket, hands out
# an IBuf and a DBuf, publishes N packets and exits. `beltline -i t cat web |
# tcpdump -r - -w Y` must give exactly those N packets, and end by itself.
set -u
bl=$1
fake=$2
n=40
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$fake" "$tmp" $n > "$tmp/fake.out" &
pid=$!
# Deadlines for a loaded machine (tests/README.md): wait for "ready" up to 60 s.
ready() { i=0; while [ $i -lt 1200 ] && ! grep -q ready "$1" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done; }
ready "$tmp/fake.out"
BELTLINE_RUN_DIR=$tmp timeout 60 "$bl" -i t cat web 2> "$tmp/err" | tcpdump -r - -w "$tmp/y.pcap" 2>/dev/null
rc=$?
wait $pid; frc=$?
fail=0
[ $rc = 0 ] || { echo "FAIL: cat | tcpdump: status $rc: $(cat "$tmp/err")"; fail=1; }
[ $frc = 0 ] || { echo "FAIL: the fake appliance could not deliver (status $frc)"; fail=1; }
got=$(tcpdump -r "$tmp/y.pcap" 2>/dev/null | grep -c '^[0-9]')
[ "$got" = $n ] || { echo "FAIL: $got packets, want $n"; fail=1; }
# packet i has 60+i bytes: the file is 24 + sum(16 + 60 + i) bytes
want=24; i=0; while [ $i -lt $n ]; do want=$((want + 76 + i)); i=$((i + 1)); done
size=$(wc -c < "$tmp/y.pcap")
[ "$size" = $want ] || { echo "FAIL: $size bytes of pcap, want $want"; fail=1; }
# packet 5: object 1 ('b' = 0x62), so every byte is 62
tcpdump -r "$tmp/y.pcap" -xx 2>/dev/null | awk '/^[0-9]/ {p++} p==6 && /0x0000/' | grep -q '6262 6262' ||
	{ echo "FAIL: packet 5's bytes are not object 1's"; fail=1; }

# ls, stats, top against a running (fake) instance
"$fake" "$tmp" 0 > "$tmp/fake0.out" &
pid=$!
ready "$tmp/fake0.out"
export BELTLINE_RUN_DIR=$tmp
"$bl" -i t ls > "$tmp/ls" 2>&1 || { echo "FAIL: ls: $(cat "$tmp/ls")"; fail=1; }
grep -q '^  web  *srp  *16 ' "$tmp/ls" || { echo "FAIL: ls output:"; cat "$tmp/ls"; fail=1; }
"$bl" -i t stats --json > "$tmp/sj" 2>&1 || { echo "FAIL: stats --json: $(cat "$tmp/sj")"; fail=1; }
grep -q '"rx_missed":' "$tmp/sj" || { echo "FAIL: stats --json output:"; cat "$tmp/sj"; fail=1; }
"$bl" -i t stats > "$tmp/st" 2>&1 || { echo "FAIL: stats: $(cat "$tmp/st")"; fail=1; }
grep -q '^streams (1)' "$tmp/st" && grep -q '^    readers (1)' "$tmp/st" ||
	{ echo "FAIL: stats output:"; cat "$tmp/st"; fail=1; }
"$bl" -i t top -n 2 -d 1 > "$tmp/top" 2>&1 || { echo "FAIL: top: $(cat "$tmp/top")"; fail=1; }
[ "$(grep -c '^beltline top' "$tmp/top")" = 2 ] || { echo "FAIL: top output:"; cat "$tmp/top"; fail=1; }
# another instance name: not running, and the running one is named
"$bl" -i nope ls > /dev/null 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q "running: t" "$tmp/err" || { echo "FAIL: -i nope: $rc $(cat "$tmp/err")"; fail=1; }
kill $pid; wait $pid
[ $fail = 0 ] && echo "PASS: $got packets through beltline cat from a live stream; ls, stats, top"
exit $fail
