#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A port some rx polls, but not on every one of its rx queues: what the device puts on
# the others is never read (RSS, af_packet's fanout; net_af_packet and net_tap count
# none of what they then drop), so the start says which queues, naming the port. A
# port every queue of which is polled, and a port no rx polls, are not warned about.
# A net_ring with more tx queues than rx queues (it loops tx queue q into rx queue q) is
# said too: what the extra tx queues send is never received.
. "$(dirname "$0")/lib.sh"

Q2="net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap,rx_pcap=$SRCDIR/config/sample.pcap"
run() {   # run NAME PORTS-JSON GRAPHS-OR-WORKERS-JSON: stderr of a short run in $T/err
	cat > "$T/c.json" <<JSON
{ "instance": "$(inst "$1")", "ports": [ $2 ], $3 }
JSON
	BELTLINED_TEST_HOOKS=1 "$BELTLINED" -q --exit-idle 200 "$T/c.json" > "$T/r.json" 2> "$T/err"
}
warned() { grep -q "$1" "$T/err"; }

run one "{ \"name\": \"in\", \"vdev\": \"$Q2\", \"rx_queues\": 2 }" \
	'"graphs": [ { "lcores": [1], "pipeline": "rx port=in queue=0 | count" } ]'
check "rx queue=0 of a 2-queue port: queue 1 said, with the port ($(tail -1 "$T/err"))" \
	warned 'ports\[0\] (in): rx queue 1 of 2 polled by no rx'

run workers "{ \"name\": \"in\", \"vdev\": \"$Q2\", \"rx_queues\": 2 }, { \"name\": \"out\", \"vdev\": \"net_null0\" }" \
	'"workers": [ { "lcore": 1, "poll": [ { "port": "in", "queue": 1, "tx": "out" } ] } ]'
check "workers polling queue 1 only: queue 0 said" warned 'ports\[0\] (in): rx queue 0 of 2 polled by no rx'
check "... not the port sent to only" bash -c "! grep -q '(out)' '$T/err'"

run all "{ \"name\": \"in\", \"vdev\": \"$Q2\", \"rx_queues\": 2 }" \
	'"graphs": [ { "lcores": [1], "pipeline": "rx port=in | count" } ]'
check "every queue polled: no warning" bash -c "! grep -q 'polled by no rx' '$T/err'"
eq "... and every packet of both queues counted" "$(jget "$T/r.json" '.graphs[0].filters.count.in')" 2000

run ring '{ "name": "r", "vdev": "net_ring0", "tx_queues": 2 }' \
	'"graphs": [ { "lcores": [1], "pipeline": "gen count=10 | tx port=r; rx port=r | count" } ]'
check "net_ring with 2 tx queues and 1 rx queue: said ($(grep net_ring "$T/err" | head -c 200))" \
	warned 'ports\[0\] (r): net_ring hands what tx queue q sends to its rx queue q.*give it rx_queues 2'
run ring2 '{ "name": "r", "vdev": "net_ring0", "tx_queues": 2, "rx_queues": 2 }' \
	'"graphs": [ { "lcores": [1], "pipeline": "gen count=10 | tx port=r; rx port=r | count" } ]'
check "... as many rx queues as tx queues: not said" bash -c "! grep -q 'net_ring hands' '$T/err'"
finish
