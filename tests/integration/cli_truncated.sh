#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A capture cut short (in a record's data, in a record's header; pcap and pcapng), or
# with a record longer than any snaplen: `beltline cat FILE` and `beltline inject NAME
# FILE` exit 1 with one line that says which record, counted from 1 as tcpdump counts
# (they said "packet 4" of the fifth, then a second line, "Protocol error"); the records
# before it went out whole, as tcpdump -r reads them.
. "$(dirname "$0")/lib.sh"
need_corpus
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst clitrunc)
RUN=/run/beltline/$I

# vxlan.pcap's first 4 records, then 30 bytes of the 5th (its header and 14 of its
# data) / 8 bytes of the 5th's header; half of of13_ericsson.pcapng; a record of 2 GB.
python3 - "$CORPUS" "$T" <<'PY'
import struct, sys
c, t = sys.argv[1], sys.argv[2]
d = open(c + '/vxlan.pcap', 'rb').read()
off = 24
for _ in range(4):
    off += 16 + struct.unpack('<I', d[off + 8:off + 12])[0]
open(t + '/data.pcap', 'wb').write(d[:off + 30])
open(t + '/hdr.pcap', 'wb').write(d[:off + 8])
ng = open(c + '/of13_ericsson.pcapng', 'rb').read()
open(t + '/half.pcapng', 'wb').write(ng[:len(ng) // 2 + 3])
open(t + '/huge.pcap', 'wb').write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) +
                                   struct.pack('<IIII', 1, 0, 0x7fffffff, 60) + bytes(60))
PY
one_line() { [ "$(wc -l <<< "$1")" = 1 ] && ! grep -q 'Protocol error' <<< "$1"; }
for f in data.pcap:5 hdr.pcap:5 half.pcapng:132 huge.pcap:1; do
	cap=${f%:*} rec=${f#*:}
	out=$("$BELTLINE" cat "$T/$cap" 2>&1 > "$T/$cap.out") && st=0 || st=$?
	eq "cat $cap: exit status" "$st" 1
	check "... one line, naming record $rec ($out)" one_line "$out"
	check "... record $rec, counted from 1" grep -q ": record $rec (the $((rec - 1)) before it read whole): " <<< "$out"
	eq "... the records before it, as tcpdump reads them" \
		"$(tcpdump -r "$T/$cap.out" 2> /dev/null | md5sum)" "$(tcpdump -r "$T/$cap" 2> /dev/null | md5sum)"
done

cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "data_room": 12416 },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "inject name=a max_frame=12000 | pcap file=$T/a.pcap" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
BPID=$!
wait_ctl "$RUN/ctl" "$BPID" "$T/err"
for f in data.pcap:5 half.pcapng:132; do
	cap=${f%:*} rec=${f#*:}
	out=$("$BELTLINE" -i "$I" inject a "$T/$cap" 2>&1) && st=0 || st=$?
	eq "inject $cap: exit status" "$st" 1
	check "... one line, naming record $rec ($out)" one_line "$out"
	check "... record $rec, counted from 1" grep -q ": record $rec (the $((rec - 1)) before it read whole): " <<< "$out"
done
kill -TERM "$BPID"
wait_pid "$WAIT" "$BPID" && st=0 || st=$?
eq "beltlined exit status" "$st" 0
read -r n _ < <("$PCAP_CMP" -s "$T/a.pcap")
eq "inject: the records before each cut went in (4 + 131)" "$n" 135
finish
