#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Exact counts: a capture of known size into net_null; conservation on a
# net_null -> net_null run; a full tx ring frees and counts (never leaks).
. "$(dirname "$0")/lib.sh"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}

# run_until INSTANCE JQ: beltlined on $T/c.json until its stats meet JQ (a machine that
# stalls its worker for a while takes longer: no fixed duration or idle time), then
# SIGTERM; its final JSON in $T/r.json.
run_until() {
	"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" &
	local pid=$!
	wait_for "$WAIT" eval "'$BELTLINE' -i '$1' stats --json 2> /dev/null | jq -e '$2' > /dev/null" || true
	kill -TERM "$pid"
	wait "$pid"
}
port() { echo "([.ports[] | select(.name == \"$1\") | .$2] | add)"; }

# 1000 packets of the bundled sample into net_null: exactly 1000 in and out.
fwd_cfg "$T/c.json" "$(inst count)" "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" "net_null0"
run_until "$(inst count)" "$(port out tx) == 1000"
read -r n _ bytes < <("$PCAP_CMP" -s "$SRCDIR/config/sample.pcap")
eq "sample: packets in the capture" "$n" 1000
eq "sample: rx" "$(jget "$T/r.json" .ports.in.rx)" 1000
eq "sample: rx bytes" "$(jget "$T/r.json" .ports.in.rx_bytes)" "$bytes"
eq "sample: tx" "$(jget "$T/r.json" .ports.out.tx)" 1000
eq "sample: tx_dropped" "$(jget "$T/r.json" .ports.out.tx_dropped)" 0
eq "sample: worker rx" "$(jget "$T/r.json" '.workers[0].rx')" 1000
eq "sample: leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0
eq "sample: elapsed_s is a positive number" "$(jq '.elapsed_s > 0' "$T/r.json")" true

# net_null -> net_null until 100000 went out (some ms quiet): every packet received is
# sent or counted.
fwd_cfg "$T/c.json" "$(inst null)" "net_null0" "net_null1"
run_until "$(inst null)" "$(port out tx) > 100000"
rx=$(jget "$T/r.json" .ports.in.rx); tx=$(jget "$T/r.json" .ports.out.tx)
drop=$(jget "$T/r.json" .ports.out.tx_dropped)
check "null: forwarded packets ($rx)" [ "$rx" -gt 100000 ]
eq "null: rx = tx + tx_dropped" "$rx" "$((tx + drop))"
eq "null: leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0

# A tx ring nobody drains (net_ring0, 1024 slots): it fills, the rest is
# freed and counted as tx_dropped, and at stop nothing is leaked. Run until four rings'
# worth came in.
fwd_cfg "$T/c.json" "$(inst ring)" \
	"net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap,infinite_rx=1" "net_ring0"
run_until "$(inst ring)" "$(port in rx) > 4 * 1024"   # the ring's worth four times over
rx=$(jget "$T/r.json" .ports.in.rx); tx=$(jget "$T/r.json" .ports.out.tx)
drop=$(jget "$T/r.json" .ports.out.tx_dropped)
eq "ring: tx stops at the ring's capacity" "$tx" 1023
check "ring: tx_dropped counted ($drop)" [ "$drop" -gt 0 ]
eq "ring: rx = tx + tx_dropped" "$rx" "$((tx + drop))"
eq "ring: queue-level tx_dropped" "$(jget "$T/r.json" '.ports.out.tx_queues[0].tx_dropped')" "$drop"
eq "ring: packets left in the ring flushed at stop" "$(jget "$T/r.json" .ports.out.rx_flushed_at_stop)" 1023
eq "ring: leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0
finish
