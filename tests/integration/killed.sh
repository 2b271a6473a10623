#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance killed mid-stream (issue 5, point 8): beltlined replays a capture
# in a loop into two streams, a `beltline cat` reads each; beltlined is SIGKILLed.
# Each reader says the appliance went away and exits on its own, its pcap
# complete and readable; once the readers are gone the shared memory is back
# (hugepages free as before, no file of ours in hugetlbfs, no EAL runtime
# folder), and beltlined's reaper has removed its control socket and EAL's
# runtime folder, so `beltline ls` says no instance runs; a stale socket (were
# the reaper killed too) is taken over by the next beltlined of that name,
# which leaves nothing when it stops. A writer (`beltline inject`) learns of the
# SIGKILL when its ring is full, and of a stop at its next buffer.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline)"; exit 77; fi
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
CAP=$SRCDIR/config/sample.pcap
I=$(inst killed)
export BELTLINE_INSTANCE=$I
RUN=/run/beltline/$I
huge_free() { awk '/^HugePages_Free/ { print $2 }' /proc/meminfo; }

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$CAP,infinite_rx=1" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | bpf \"tcp\" | export name=web",
      "rx port=in | export name=all policy=frp",
      "inject name=probe | drop" ] } ] }
JSON
free0=$(huge_free)
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -KILL $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket $RUN/ctl exists" wait_for "$WAIT" test -S "$RUN/ctl"
"$BELTLINE" cat web > "$T/web.pcap" 2> "$T/web.err" &
C1=$!
"$BELTLINE" cat all > "$T/all.pcap" 2> "$T/all.err" &
C2=$!
n_readers() { [ "$("$BELTLINE" stats --json 2> /dev/null | jq '[.streams[].n_readers] | add')" = 2 ]; }
wait_for "$WAIT" n_readers || true
# Both readers have packets in their files (more than the 24-byte pcap header).
has_pkts() { [ "$(stat -c %s "$T/web.pcap")" -gt 24 ] && [ "$(stat -c %s "$T/all.pcap")" -gt 24 ]; }
wait_for "$WAIT" has_pkts || true
# A writer at 1000 frames a second (it sees the appliance gone once its ring of 1024
# is full, or at its flush: about a second here; docs/control.md).
"$BELTLINE" inject probe "$CAP" -r 1000 -l 100000 > /dev/null 2> "$T/inj.err" &
C3=$!
injected() { "$BELTLINE" stats --json 2> /dev/null | jq -e '[.injects[] | select(.name == "probe") | .writer.frames] | add > 10' > /dev/null; }
wait_for "$WAIT" injected || true
kill -KILL $BPID
wait $BPID 2> /dev/null || true
t0=$(date +%s%N)
wait $C1 && s1=0 || s1=$?
wait $C2 && s2=0 || s2=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait $C3 && s3=0 || s3=$?
eq "the writer (beltline inject) exits 1" "$s3" 1
check "... saying the stream is gone ($(head -c 300 "$T/inj.err"))" \
	grep -q 'beltline: inject: the stream is gone (the appliance stopped, or a reload' "$T/inj.err"
eq "cat web exits 0 at the end of the stream" "$s1" 0
eq "cat all exits 0 at the end of the stream" "$s2" 0
# 2 s quiet is far more than it takes (the next poll of the control connection); 3x that.
check "the readers noticed within 6 s (${ms} ms)" test "$ms" -lt 6000
check "cat web says the appliance went away ($(head -c 120 "$T/web.err"))" \
	grep -q 'the appliance closed the control connection' "$T/web.err"
check "cat all says so too" grep -q 'the appliance closed the control connection' "$T/all.err"
check "... without a word from it: killed or crashed" \
	grep -qF 'end of stream (without a word: it was killed or crashed)' "$T/web.err"
n1=$(tcpdump -r "$T/web.pcap" 2> /dev/null | wc -l)
n2=$(tcpdump -r "$T/all.pcap" 2> /dev/null | wc -l)
check "web.pcap is complete and readable ($n1 packets)" test "$n1" -gt 0
check "all.pcap is complete and readable ($n2 packets)" test "$n2" -gt 0
check "web.pcap holds only tcp" test "$(tcpdump -r "$T/web.pcap" 'not tcp' 2> /dev/null | wc -l)" = 0
wait_for "$WAIT" eval '[ "$(huge_free)" -ge "$free0" ]' || true
check "hugepages free again, as before the run ($(huge_free) >= $free0)" test "$(huge_free)" -ge "$free0"
check "no file of ours in hugetlbfs" test -z "$(ls /dev/hugepages 2> /dev/null | grep -F "$I" || true)"
# The reaper (app/beltlined/reaper.c) outlives the SIGKILL and removes what was left.
wait_for "$WAIT" eval '[ ! -e "$RUN" ] && [ ! -e "/var/run/dpdk/bl_$I" ]' || true
check "no EAL runtime folder left" test ! -e "/var/run/dpdk/bl_$I"
check "no control socket or folder left" test ! -e "$RUN"
out=$("$BELTLINE" ls 2>&1) && st=0 || st=$?
eq "beltline ls on the dead instance: exit status" "$st" 1
check "it says no instance runs ($out)" grep -q "no instance '$I' is running" <<< "$out"

# A stale socket (a reaper killed too, say) is taken over by the next one of that name.
mkdir -p "$RUN"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' "$RUN/ctl"
check "a stale socket nobody answers on" test -S "$RUN/ctl"
# ... and stopped (SIGTERM), its reader is told so: a stop, not a crash.
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r2.json" 2> "$T/err2" &
BPID=$!
wait_for "$WAIT" "$BELTLINE" ls > /dev/null 2>&1 || true
"$BELTLINE" cat web > "$T/web2.pcap" 2> "$T/web2.err" &
C1=$!
# A slow writer (20 frames a second: its ring of 1024 would take 50 s to fill) learns
# of the stop at its next buffer, from the tail page's closed flag (docs/shm-abi.md).
"$BELTLINE" inject probe "$CAP" -r 20 -l 100000 > /dev/null 2> "$T/inj2.err" &
C3=$!
wait_for "$WAIT" injected || true
one_reader() { [ "$("$BELTLINE" stats --json 2> /dev/null | jq '[.streams[].n_readers] | add')" = 1 ]; }
wait_for "$WAIT" one_reader || true
kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "a new beltlined of that name runs" "$st" 0
t0=$(date +%s%N)
wait $C1 && s1=0 || s1=$?
eq "its reader exits 0 at the stop" "$s1" 0
check "... told that the appliance stopped ($(head -c 160 "$T/web2.err"))" \
	grep -qF 'the appliance closed the control connection: end of stream: the appliance stopped' \
	"$T/web2.err"
wait $C3 && s3=0 || s3=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
eq "the slow writer exits 1 at the stop" "$s3" 1
# its next frame is due 50 ms on; 2 s is more than it takes, 3x that.
check "... within 6 s of it, not once its ring is full (${ms} ms)" test "$ms" -lt 6000
check "... told that the appliance stopped ($(head -c 200 "$T/inj2.err"))" \
	grep -qF 'the appliance stopped' "$T/inj2.err"
eq "mbufs leaked" "$(jget "$T/r2.json" '.mbufs.leaked')" 0
check "no control folder left after a clean stop" test ! -e "$RUN"
trap 'rm -rf "$T"' EXIT
finish
