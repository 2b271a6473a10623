#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# net_af_packet (DPDK 22.11) copies a frame of its ring into one mbuf: a frame longer
# than a ring frame keeps (framesz=2048: 1982 bytes) arrives cut short and nothing
# counts it. The start says so, by port, when the interface's MTU lets such frames in,
# and says nothing when it does not (MTU 1500, or a framesz= that holds the MTU). A
# framesz= larger than an mbuf is refused naming mbufs.data_room. Needs root and ip(8).
. "$(dirname "$0")/lib.sh"
veth_ns m
export BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"
run() {   # run VDEV-ARGS [MEMORY-JSON]: status of a short run, stderr in $T/err
	fwd_cfg "$T/c.json" "$(inst afmtu)" "net_af_packet0,iface=$VA$1" "net_null0"
	[ -z "${2:-}" ] || { jq ".mbufs = $2" "$T/c.json" > "$T/c2.json"; mv "$T/c2.json" "$T/c.json"; }
	"$BELTLINED" -q --duration 0.3 "$T/c.json" > "$T/r.json" 2> "$T/err"
}

ip link set "$VA" mtu 9000
run ""
check "MTU 9000, framesz 2048: said, by port ($(grep 'ports\[' "$T/err" | head -1))" \
	grep -q "^beltlined: ports\[0\] (in): interface $VA has MTU 9000, but net_af_packet keeps at most 1982 bytes" "$T/err"
run ",framesz=16384,blocksz=16384" '{ "data_room": 16512 }'
check "MTU 9000, framesz 16384: nothing said" bash -c "! grep -q 'cut short' '$T/err'"
ip link set "$VA" mtu 1500
run ""
check "MTU 1500, framesz 2048: nothing said" bash -c "! grep -q 'cut short' '$T/err'"
rc=0
run ",framesz=4096" || rc=$?
eq "framesz 4096 with 2048-byte mbufs: exit status" "$rc" 1
check "... naming mbufs.data_room ($(grep 'ports\[' "$T/err" | tail -1))" \
	grep -q '^beltlined: ports\[0\] (in): rx queue 0 setup failed: .*mbufs.data_room, now 2176' "$T/err"
finish
