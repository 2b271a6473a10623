#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A net_af_packet port turns its kernel interface promiscuous (the interface's own
# flag): at the stop it is put back as it was, off when it was off, on when it was on;
# a reload that moves the interface to another port keeps it promiscuous meanwhile.
# Needs root and ip(8): a veth pair whose other end is in a namespace of its own.
. "$(dirname "$0")/lib.sh"
veth_ns p
promisc() { ip link show "$VA" | head -1 | grep -q PROMISC; }

fwd_cfg "$T/c.json" "$(inst promisc)" "net_af_packet0,iface=$VA" "net_null0"
export BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"
"$BELTLINED" -q "$T/c.json" > "$T/r.json" 2> "$T/err" &
pid=$!
check "while it runs, $VA is promiscuous" wait_for "$WAIT" promisc
kill -INT "$pid"
check "beltlined stops cleanly" wait_pid "$WAIT" "$pid"
check "after the stop, $VA is not promiscuous, as before ($(ip link show "$VA" | head -1))" \
	bash -c "! ip link show '$VA' | head -1 | grep -q PROMISC"

# A reload that moves the interface to another port (another DPDK device on the same
# interface: the new one opens before the old one closes) leaves it promiscuous while it
# runs: the old port's close once turned it off under the new one.
cat > "$T/a.json" <<JSON
{ "instance": "$(inst promisc2)",
  "ports": [ { "name": "in", "vdev": "net_af_packet0,iface=$VA" }, { "name": "out", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | tx port=out" } ] }
JSON
sed -e 's/"name": "in", "vdev": "net_af_packet0/"name": "in2", "vdev": "net_af_packet1/' \
    -e 's/rx port=in /rx port=in2 /' "$T/a.json" > "$T/b.json"
export BELTLINE_INSTANCE=$(inst promisc2)
"$BELTLINED" -q --stats-interval 0 "$T/a.json" > "$T/r.json" 2> "$T/err2" &
pid=$!
wait_ctl "$BELTLINE_RUN_DIR/$BELTLINE_INSTANCE/ctl" "$pid" "$T/err2"
check "while it runs, $VA is promiscuous" wait_for "$WAIT" promisc
check "reload moving $VA to another port" "$BELTLINE" reload "$T/b.json"
check "after the reload, $VA is still promiscuous ($(ip link show "$VA" | head -1))" promisc
kill -INT "$pid"
check "beltlined stops cleanly" wait_pid "$WAIT" "$pid"
check "after the stop, $VA is not promiscuous, as before ($(ip link show "$VA" | head -1))" \
	bash -c "! ip link show '$VA' | head -1 | grep -q PROMISC"

ip link set "$VA" promisc on
"$BELTLINED" -q --duration 0.5 "$T/c.json" > "$T/r.json" 2> "$T/err"
check "promiscuous before the run: still so after" promisc
finish
