#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Clients that come and go leave nothing behind in the appliance (issue 15,
# point 9; the soak in minutes): readers of every policy attach and exit after
# a count, or are SIGKILLed; writers inject a capture and exit, or are
# SIGKILLed holding every buffer. After a warm-up and again after 12 more
# rounds, with nobody attached: the same descriptors, the same mappings, and
# malloc's live bytes (`beltline stats`: heap.in_use) within 1 KiB. glibc's
# per-thread cache is off here (GLIBC_TUNABLES): chunks it keeps count as in
# use, up to some 240 KiB, which would hide a leak of tens of bytes a client.
. "$(dirname "$0")/lib.sh"
: "${WRITER:?}"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst churn)
export BELTLINE_INSTANCE=$I
cat > "$T/c.json" <<JSON
{ "instance": "$I",
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "gen rate=20000 size=64 | export name=s_srp policy=srp capacity=256",
      "gen rate=20000 size=64 | export name=s_mrp policy=mrp capacity=256",
      "inject name=w capacity=64 | drop" ] } ] }
JSON
GLIBC_TUNABLES=glibc.malloc.tcache_count=0 "$BELTLINED" -q "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
up() { "$BELTLINE" ls > /dev/null 2>&1; }
check "beltlined answers" wait_for "$WAIT" up

stats() { "$BELTLINE" stats --json; }
attached() {   # readers and writers attached now
	jq '([.streams[].n_readers] + [.injects[].writers]) | add' <<< "$(stats)"
}
idle() { [ "$(attached)" = 0 ]; }
reader_on() { [ "$(jq --arg s "$1" '.streams[] | select(.name == $s) | .n_readers' <<< "$(stats)")" -ge 1 ]; }
holding() { grep -q holding "$T/hold.out"; }
round() {   # one of each: a reader per policy that exits after a count, a SIGKILLed
	# reader, a writer that injects and exits, a writer SIGKILLed holding its buffers
	local p
	for pol in srp mrp frp; do
		"$BELTLINE" cat s_srp -p "$pol" -c 20 > /dev/null 2>> "$T/clients.err" ||
			bad "a reader ($pol) exits after its count"
	done
	"$BELTLINE" cat s_mrp > /dev/null 2>> "$T/clients.err" &
	p=$!
	wait_for "$WAIT" reader_on s_mrp || bad "a reader attaches"
	kill -KILL "$p"
	wait "$p" 2> /dev/null || true
	"$BELTLINE" inject w "$SRCDIR/config/sample.pcap" 2>> "$T/clients.err" ||
		bad "a writer injects the sample and exits"
	wait_for "$WAIT" idle || bad "its lease ends"   # at the appliance's next control tick
	"$WRITER" "$I" w hold > "$T/hold.out" 2>> "$T/clients.err" &
	p=$!
	wait_for "$WAIT" holding || bad "a writer takes every buffer"
	kill -KILL "$p"
	wait "$p" 2> /dev/null || true
	wait_for "$WAIT" idle || bad "readers and writers detached"
}
measure() {   # descriptors mappings heap.in_use
	echo "$(find "/proc/$BPID/fd" -mindepth 1 | wc -l) $(wc -l < "/proc/$BPID/maps")" \
		"$(jq '.heap.in_use // -1' <<< "$(stats)")"
}

for _ in $(seq 3); do round; done   # every reader page and writer region made once
read -r fd0 map0 heap0 <<< "$(measure)"
for _ in $(seq 12); do round; done
read -r fd1 map1 heap1 <<< "$(measure)"
eq "descriptors after 12 rounds of clients" "$fd1" "$fd0"
eq "mappings after 12 rounds of clients" "$map1" "$map0"
check "stats says the heap's live bytes ($heap0)" test "$heap0" -ge 0
# Under ASan malloc is the sanitizer's (glibc's count stays put; LSan checks at exit).
check "heap in use after 12 rounds: $heap0 -> $heap1 bytes (at most +1 KiB: 48 readers and 24 writers came and went)" \
	test "$heap1" -le $(( heap0 + 1024 ))
kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
eq "mbufs leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0
trap 'rm -rf "$T"' EXIT
finish
