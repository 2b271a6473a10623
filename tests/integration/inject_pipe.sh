#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `beltline inject NAME FILE` with FILE a pipe (/dev/stdin, <(...)), as tcpdump -r takes
# one: every frame goes in, byte for byte, in order (the file was opened twice, once
# to check its link type and once to send, and the second open found the pipe drained:
# exit 1, "not a pcap file libpcap can read: truncated dump file"); -l 2 on a pipe,
# which cannot be played again, is refused as a usage error before anything is sent.
. "$(dirname "$0")/lib.sh"
need_corpus
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst injpipe)
RUN=/run/beltline/$I

cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "data_room": 12416 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "inject name=a max_frame=12000 | pcap file=$T/a.pcap",
      "inject name=b max_frame=12000 | pcap file=$T/b.pcap",
      "inject name=c | drop" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
BPID=$!
wait_ctl "$RUN/ctl" "$BPID" "$T/err"

out=$("$BELTLINE" -i "$I" inject a /dev/stdin < <(cat "$CORPUS/afs.pcap") 2>&1) && st=0 || st=$?
eq "inject from /dev/stdin, a pipe (afs.pcap): exit status ($out)" "$st" 0
check "... it says all 601 frames went in" grep -q ': 601 frames into beltline://' <<< "$out"
out=$("$BELTLINE" -i "$I" inject b <(cat "$CORPUS/of13_ericsson.pcapng") 2>&1) && st=0 || st=$?
eq "inject from <(...), a pipe (of13_ericsson.pcapng): exit status ($out)" "$st" 0
out=$("$BELTLINE" -i "$I" inject c /dev/stdin -l 2 < <(cat "$CORPUS/vxlan.pcap") 2>&1) && st=0 || st=$?
eq "inject -l 2 from a pipe: exit status (usage)" "$st" 2
check "... it says a pipe is read once ($out)" grep -q 'no regular file (a pipe is read once)' <<< "$out"
frames() { "$BELTLINE" -i "$I" stats --json | jq '.injects[] | select(.name == "c") | .writers_total'; }
eq "... and took no writer's place on the stream" "$(frames)" 0
check "-l 2 from a regular file still plays twice" "$BELTLINE" -i "$I" inject c "$CORPUS/vxlan.pcap" -l 2

kill -TERM "$BPID"
wait_pid "$WAIT" "$BPID" && st=0 || st=$?
eq "beltlined exit status" "$st" 0
check "afs.pcap through a pipe: out is byte-identical" "$PCAP_CMP" "$CORPUS/afs.pcap" "$T/a.pcap"
check "of13_ericsson.pcapng through a pipe: out is byte-identical" "$PCAP_CMP" "$CORPUS/of13_ericsson.pcapng" "$T/b.pcap"
finish
