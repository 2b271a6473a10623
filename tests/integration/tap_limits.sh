#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What one user other than root may hold of the taps: four at once, and a ring of at most
# 16384 slots; root is held to the pool alone (and the 16 taps). One user once took every tap (16, or the
# pool's room with one ring of 2^20 slots) in a loop on one connection, and root's
# `beltline tap` was refused.
. "$(dirname "$0")/lib.sh"
# the system's python: another user may not run a shim under /root (pyenv)
PYSYS=/usr/bin/python3
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null || [ ! -x "$PYSYS" ]; then
	echo "SKIP: needs root, setpriv and $PYSYS (to ask as another user)"; exit 77
fi
I=$(inst taplim)
export BELTLINE_INSTANCE=$I
RUN=${BELTLINE_RUN_DIR:-/run/beltline}
cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "count": 65535 }, "memory": { "packet_mode": "0644" },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen rate=1000 | count --name=c | drop" } ] }
JSON
"$BELTLINED" -q --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
trap 'kill -TERM $PID 2> /dev/null || true; rm -rf "$T"' EXIT
wait_ctl "$RUN/$I/ctl" "$PID" "$T/d.err"

# taps.py N [CAPACITY]: ask for N taps of c, each on a connection of its own kept open (a tap
# with no reader lives 10 s); print each reply's status and text.
cat > "$T/taps.py" <<'PY'
import json, socket, struct, sys
keep = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    req = {"filter": "c"}
    if len(sys.argv) > 3:
        req["capacity"] = int(sys.argv[3])
    b = json.dumps(req).encode()
    s.send(struct.pack('=IHHIiII', 0x314c5442, 1, 17, 7, 0, 0, len(b)) + b)
    r = s.recv(65536)
    print(struct.unpack('=IHHIiII', r[:24])[4], r[24:].decode())
    keep.append(s)
PY
chmod 0755 "$T" && chmod 0644 "$T/taps.py"
AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
"${AS[@]}" "$PYSYS" "$T/taps.py" "$RUN/$I/ctl" 5 > "$T/user.out" 2>&1 || true
eq "a user's taps: four granted" "$(awk '$1 == 0' "$T/user.out" | wc -l)" 4
check "... the fifth refused naming the limit ($(sed -n 5p "$T/user.out" | head -c 200))" \
	grep -q 'holds 4 taps already (a user other than root holds at most 4' "$T/user.out"
"${AS[@]}" "$PYSYS" "$T/taps.py" "$RUN/$I/ctl" 1 65536 > "$T/cap.out" 2>&1 || true
check "a user's tap of 65536 slots: refused as root's ($(head -c 200 "$T/cap.out"))" \
	grep -q 'above 16384 is root.s (uid 65534' "$T/cap.out"
"$PYSYS" "$T/taps.py" "$RUN/$I/ctl" 1 32768 > "$T/root.out" 2>&1 || true
eq "root's tap of 32768 slots beside them: granted ($(head -c 200 "$T/root.out"))" \
	"$(awk '$1 == 0' "$T/root.out" | wc -l)" 1

kill -TERM "$PID"
wait_pid "$WAIT" "$PID" && st=0 || st=$?
eq "beltlined exit status" "$st" 0
check "no mbuf leaked" jq -e '.mbufs.leaked == 0' "$T/final.json"
finish
