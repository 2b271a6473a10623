#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A packet stream is read as packets whatever its frames' bytes: cat judged a stream by
# its first entry, so a frame to a MAC that spells a flow record's magic (4c:46:01:04,
# 80 bytes) or a tcpstream record's (54:53:01:..:..:04, 72 bytes, class 1) made every
# capture started before it exit 1 with nothing written. The appliance says what each
# stream holds (content), and cat goes by that.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline)"; exit 77; fi
PY=$(python3 -c 'import sys; print(sys.executable)')
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst catct)
export BELTLINE_INSTANCE=$I
"$BELTLINED" -q --duration 600 --instance "$I" --port nul=net_null0 \
	--pipeline "inject name=w max_frame=1600 | export name=pk" > /dev/null 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"
"$PY" - "$T/in.pcap" <<'PY'
import struct, sys
def frame(dst, n):
    f = bytes(dst) + bytes([2, 0, 0, 0, 0, 1]) + b'\x08\x00'
    return f + bytes(n - len(f))
fs = [frame([0x4c, 0x46, 0x01, 0x04, 0, 0], 80),          # a flow record's first bytes
      frame([0x54, 0x53, 0x01, 0x00, 0x00, 0x04], 72),     # a tcpstream record's
      frame([0x02, 0, 0, 0, 0, 2], 64)]
out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
for i, f in enumerate(fs):
    out += struct.pack('<IIII', i, 0, len(f), len(f)) + f
open(sys.argv[1], 'wb').write(out)
PY
for first in 0 1; do
	# each capture attached before the frames come: its first entry is frame $first
	"$PY" - "$T/in.pcap" "$T/in$first.pcap" "$first" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read(); off = 24; recs = []
while off < len(d):
    n = int.from_bytes(d[off + 8:off + 12], 'little'); recs.append(d[off:off + 16 + n]); off += 16 + n
open(sys.argv[2], 'wb').write(d[:24] + b''.join(recs[int(sys.argv[3]):]))
PY
	want=$(( 3 - first ))
	timeout 60 "$BELTLINE" cat pk -c $want > "$T/out$first.pcap" 2> "$T/cat$first.err" &
	CPID=$!
	readers() { [ "$("$BELTLINE" stats --json | jq '.streams[] | select(.name == "pk") | .n_readers')" = 1 ]; }
	check "capture $first attached" wait_for "$WAIT" readers
	"$BELTLINE" inject w "$T/in$first.pcap" 2> "$T/inj.err" || bad "inject: $(cat "$T/inj.err")"
	wait $CPID && rc=0 || rc=$?
	eq "cat of a packet stream whose first frame begins as a $([ $first = 0 ] && echo flow || echo tcpstream) record: exit 0 ($(head -c 200 "$T/cat$first.err"))" "$rc" 0
	check "... every frame written, byte for byte" "$PCAP_CMP" "$T/in$first.pcap" "$T/out$first.pcap"
done
finish
