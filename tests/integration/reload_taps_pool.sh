#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What receive keeps of the pool follows a reload: after a reload that adds four ports
# (their rx and tx descriptors hold 8192 more mbufs), a tap is held to the new ports'
# share as at a start with that config, not to the start's: the pool (16383) has room
# for one tap's ring (4096) beside the stream and the descriptors, and the second tap
# is refused naming what must stay free (11072). It once took three taps after the
# reload, rings and descriptors then needing 8000 mbufs more than the pool has.
. "$(dirname "$0")/lib.sh"

I=$(inst rtpool)
export BELTLINE_INSTANCE=$I
# mkcfg FILE EXTRA_PORTS
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I", "mbufs": { "count": 16383 },
  "ports": [ { "name": "n", "vdev": "net_null0" } $2 ],
  "graphs": [ { "lcores": [1], "pipeline": "gen rate=1000 | count --name=c | export name=s1" } ] }
JSON
}
mkcfg "$T/a.json" ''
mkcfg "$T/b.json" ', { "name": "p1", "vdev": "net_null1" }, { "name": "p2", "vdev": "net_null2" },
  { "name": "p3", "vdev": "net_null3" }, { "name": "p4", "vdev": "net_null4" }'

"$BELTLINED" -q --stats-interval 0 "$T/a.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
check "reload adding four ports" "$BELTLINE" reload "$T/b.json"

# tap.py: ask for three taps on c, each on a connection of its own kept open (a tap with
# no reader lives 10 s); print each reply's status.
python3 - "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" > "$T/taps.out" <<'PY'
import json, socket, struct, sys
keep = []
for i in range(3):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    b = json.dumps({"filter": "c"}).encode()
    s.send(struct.pack('=IHHIiII', 0x314c5442, 1, 17, 7, 0, 0, len(b)) + b)
    r = s.recv(65536)
    print(struct.unpack('=IHHIiII', r[:24])[4], r[24:].decode())
    keep.append(s)
PY
eq "taps granted after the reload" "$(awk '$1 == 0' "$T/taps.out" | wc -l)" 1
check "the second is refused for what receive keeps now ($(sed -n 2p "$T/taps.out" | head -c 200))" \
	bash -c "sed -n 2p '$T/taps.out' | grep -q '^-28 .*11072 must stay free for receive'"

kill -TERM "$PID"
wait_pid "$WAIT" "$PID" || true
check "no mbuf leaked" jq -e '.mbufs.leaked == 0' "$T/final.json"
finish
