#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Nothing a driver hands over is trusted. DPDK 22.11's net_pcap turns a frame
# above about 67 KB into an mbuf chain whose segments hold fewer bytes than
# its pkt_len (it keeps the length after the first segment in 16 bits); every
# reader bounded by pkt_len then reads past the chain's end (beltlined died
# of SIGSEGV in pcap, bpf and tee). rx drops such an mbuf and counts it in
# its `malformed` counter; the packets around it pass unharmed.
. "$(dirname "$0")/lib.sh"

# A capture of five frames, and the same without the 70000-byte one: TCP
# 60 B, TCP 70000 B (unsound after net_pcap), TCP 60000 B (a sound chain),
# UDP 60 B, TCP 60 B.
python3 - "$T/in.pcap" "$T/want.pcap" <<'PY'
import struct, sys

def frame(size, proto):
    eth = bytes.fromhex('020000000002020000000001') + b'\x08\x00'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, min(size - 14, 65535), 1, 0, 64, proto, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    if proto == 6:
        l4 = struct.pack('!HHIIBBHHH', 1024, 80, 1, 0, 0x50, 0x10, 65535, 0, 0)
    else:
        l4 = struct.pack('!HHHH', 1024, 53, size - 34, 0)
    f = eth + ip + l4
    return f + bytes(i & 0xff for i in range(size - len(f)))

frames = [frame(60, 6), frame(70000, 6), frame(60000, 6), frame(60, 17), frame(60, 6)]
for path, keep in ((sys.argv[1], frames), (sys.argv[2], [f for f in frames if len(f) != 70000])):
    with open(path, 'wb') as out:
        out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for i, f in enumerate(keep):
            out.write(struct.pack('<IIII', 1000 + i, 0, len(f), len(f)) + f)
PY

# run NAME PIPELINE: beltlined on the capture; the final JSON in $T/r.json.
run() {
	local rc=0
	"$BELTLINED" -q --exit-idle 300 --instance "$(inst m)" --port "in=net_pcap0,rx_pcap=$T/in.pcap" \
		--pipeline "$2" > "$T/r.json" 2> "$T/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "$1: beltlined exit status $rc (139: SIGSEGV): $(tail -2 "$T/err" | tr '\n' ' ')"
		echo '{}' > "$T/r.json"
		return 1
	fi
	ok "$1: beltlined runs to the end"
	eq "$1: rx counts the unsound chain as malformed" \
		"$(jget "$T/r.json" .graphs[0].filters.rx.counters.malformed)" 1
	eq "$1: rx passes the four sound packets" "$(jget "$T/r.json" .graphs[0].filters.rx.out)" 4
	eq "$1: leaked mbufs" "$(jget "$T/r.json" .mbufs.leaked)" 0
}

if run "pcap" "rx port=in | pcap file=$T/out.pcap"; then
	check "pcap: the sound packets, byte-identical (the 60000-byte chain too)" \
		"$PCAP_CMP" "$T/want.pcap" "$T/out.pcap"
fi
if run "bpf" "rx port=in | bpf \"tcp\" | pcap file=$T/bpf.pcap"; then
	eq "bpf: accepted" "$(jget "$T/r.json" .graphs[0].filters.bpf.counters.accepted)" 3
	read -r n _ < <("$PCAP_CMP" -s "$T/bpf.pcap")
	eq "bpf: written" "$n" 3
fi
if run "tee" "rx port=in | tee | pcap file=$T/tee.pcap"; then
	eq "tee: copies" "$(jget "$T/r.json" .graphs[0].filters.tee.copies)" 4
	read -r n _ < <("$PCAP_CMP" -s "$T/tee.pcap")
	eq "tee: written (each packet and its copy)" "$n" 8
fi

# Live: `beltline stats` shows the counter too (the final JSON above is the same record).
I=$(inst live)
cat > "$T/c.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$T/in.pcap" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | count" } ] }
JSON
"$BELTLINED" -q --duration 60 "$T/c.json" > "$T/r.json" 2> "$T/err" &
bpid=$!
trap 'kill -TERM $bpid 2> /dev/null || true; rm -rf "$T"' EXIT
m=
for _ in $(seq 300); do
	m=$(BELTLINE_INSTANCE=$I "$BELTLINE" stats --json 2> /dev/null |
		jq -r '.filters[] | select(.name == "rx") | .counters.malformed' 2> /dev/null) || true
	[ "$m" = 1 ] && break
	sleep 0.1
done
eq "beltline stats: rx malformed" "$m" 1
BELTLINE_INSTANCE=$I "$BELTLINE" stats > "$T/stats.txt" 2>&1 || true
check "beltline stats (table): rx shows malformed:1" grep -qE '^ +[^ ]+ +rx +rx .*malformed:1' "$T/stats.txt"
kill -INT $bpid
wait $bpid || bad "live: beltlined exit status $?"
finish
