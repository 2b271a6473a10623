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
for i in $(seq 100); do grep -q ready "$tmp/fake.out" 2>/dev/null && break; sleep 0.05; done
BELTLINE_RUN_DIR=$tmp timeout 20 "$bl" -i t cat web 2> "$tmp/err" | tcpdump -r - -w "$tmp/y.pcap" 2>/dev/null
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
[ $fail = 0 ] && echo "PASS: $got packets through beltline cat from a live stream"
exit $fail
