#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGINT and SIGTERM stop beltlined cleanly: exit 0, the final counters as
# JSON with elapsed_s, every mbuf back in its pool, no runtime files left.
. "$(dirname "$0")/lib.sh"

for sig in INT TERM; do
	i=$(inst "sig$sig")
	fwd_cfg "$T/c.json" "$i" "net_null0" "net_null1"
	"$BELTLINED" --stats-interval 0.2 "$T/c.json" > "$T/r.json" 2> "$T/err" &
	pid=$!
	sleep 1.5
	kill -"$sig" "$pid"
	set +e; wait "$pid"; rc=$?; set -e
	eq "SIG$sig: exit status" "$rc" 0
	check "SIG$sig: printed rates while running" grep -q "Mpps" "$T/err"
	check "SIG$sig: final JSON parses" jq -e . "$T/r.json" > /dev/null
	eq "SIG$sig: elapsed_s covers the run" "$(jq '.elapsed_s > 0.5 and .elapsed_s < 10' "$T/r.json")" true
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
check "exit-idle 300: stopped by itself in ${ms} ms" [ "$ms" -lt 5000 ]
eq "exit-idle: elapsed_s at least the idle time" "$(jq '.elapsed_s >= 0.3' "$T/r.json")" true
finish
