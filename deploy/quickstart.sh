#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The first command of the README: install what is missing, reserve
# hugepages when possible, build, and run beltlined on config/default.json
# (a bundled capture replayed through the appliance; no NIC needed) for a
# few seconds: rates while it runs, the final counters when it stops.
#   deploy/quickstart.sh         env: DURATION (seconds, default 5)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

deploy/install-deps.sh
deploy/hugepages.sh
[ -f build/build.ninja ] || meson setup build > /dev/null
ninja -C build > /dev/null
echo "quickstart: built $(build/app/beltlined --version)"
build/app/beltlined --check config/default.json
echo "quickstart: running beltlined on config/default.json for ${DURATION:-5} s (Ctrl-C stops it sooner)"
build/app/beltlined --duration "${DURATION:-5}" config/default.json &
pid=$!
# A client: the exported stream "web" (tcp port 80), read zero-copy, as pcap into tcpdump.
# (its control socket: in BELTLINE_RUN_DIR when set, as beltlined and beltline both take it)
ctl=${BELTLINE_RUN_DIR:-/run/beltline}/default/ctl
until [ -S "$ctl" ]; do
	kill -0 "$pid" 2> /dev/null || { wait "$pid" || true; echo "quickstart: beltlined stopped before its control socket $ctl appeared" >&2; exit 1; }
	sleep 0.1
done
echo "quickstart: beltline ls; beltline cat web -c 5 | tcpdump -nn -r -"
BELTLINE_INSTANCE=default build/app/beltline/beltline ls || true
BELTLINE_INSTANCE=default build/app/beltline/beltline cat web -c 5 | tcpdump -nn -r - || true
wait "$pid"
