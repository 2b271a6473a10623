#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A device that refuses its queue counts at configure without a reason (a driver's own
# -1, which ethdev hands on as if it were -EPERM) is said by port, with the counts and
# what to change, not as "Operation not permitted". net_tap needs root (/dev/net/tun).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "SKIP: net_tap needs root and /dev/net/tun"
	exit 77
fi
export BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"
cat > "$T/c.json" <<JSON
{ "instance": "$(inst tapq)",
  "ports": [ { "name": "in", "vdev": "net_tap0,iface=blte$$", "rx_queues": 2 } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | drop" } ] }
JSON
rc=0
"$BELTLINED" -q --duration 1 "$T/c.json" > "$T/r.json" 2> "$T/err" || rc=$?
eq "net_tap with 2 rx queues and 1 tx queue: exit status" "$rc" 1
check "... said by port, with the counts and tx_queues ($(grep 'ports\[' "$T/err" | tail -1))" \
	grep -q '^beltlined: ports\[0\] (in): the driver refused 2 rx and 1 tx queues.*tx_queues' "$T/err"
check "... not as a permission missing" bash -c "! grep -q 'Operation not permitted' '$T/err'"
finish
