#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGINT and SIGTERM stop beltlined cleanly: exit 0, the final counters as
# JSON with elapsed_s, every mbuf back in its pool, no runtime files left.
. "$(dirname "$0")/lib.sh"

for sig in INT TERM; do
	i=$(inst "sig$sig")
	fwd_cfg "$T/c.json" "$i" "net_null0" "net_null1"
	t0=$(date +%s%N)
	"$BELTLINED" --stats-interval 0.2 "$T/c.json" > "$T/r.json" 2> "$T/err" &
	pid=$!
	# Running: it prints a line of rates every 0.2 s (the first at 0.2 s).
	check "SIG$sig: printed rates while running" wait_for "$WAIT" grep -q "Mpps" "$T/err"
	kill -"$sig" "$pid"
	set +e; wait "$pid"; rc=$?; set -e
	wall=$(( ($(date +%s%N) - t0) / 1000000 ))
	eq "SIG$sig: exit status" "$rc" 0
	check "SIG$sig: final JSON parses" jq -e . "$T/r.json" > /dev/null
	eq "SIG$sig: elapsed_s covers the run (0.2 s to the ${wall} ms it took)" \
		"$(jq --argjson w "$wall" '.elapsed_s >= 0.2 and .elapsed_s * 1000 <= $w' "$T/r.json")" true
	eq "SIG$sig: every packet sent or counted" \
		"$(jq '.ports.in.rx == .ports.out.tx + .ports.out.tx_dropped' "$T/r.json")" true
	eq "SIG$sig: leaked mbufs" "$(jget "$T/r.json" .mbufs.leaked)" 0
	eq "SIG$sig: all of the pool available" \
		"$(jq '.mbufs.available_at_exit == .mbufs.pool_size' "$T/r.json")" true
	check "SIG$sig: no EAL runtime folder left" [ ! -e "/var/run/dpdk/bl_$i" ]
done

# --exit-idle stops by itself when the input runs dry.
fwd_cfg "$T/c.json" "$(inst idle)" "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" "net_null0"
start=$(date +%s%N)
"$BELTLINED" -q --exit-idle 300 "$T/c.json" > "$T/r.json"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "exit-idle 300: stopped by itself in ${ms} ms" [ "$ms" -lt $((WAIT * 1000)) ]
eq "exit-idle: elapsed_s at least the idle time" "$(jq '.elapsed_s >= 0.3' "$T/r.json")" true
finish
