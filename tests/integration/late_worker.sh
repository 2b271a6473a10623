#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --exit-idle counts idleness from when every worker polls, not from when the
# main thread starts watching: on a busy machine a worker thread may be
# scheduled long after the main one, and a replay then stopped with rx 0.
# gdb (non-stop mode) holds the worker at its entry for 2 s, three times
# --exit-idle, while the main thread runs on; the replay must still be read.
. "$(dirname "$0")/lib.sh"

if ! command -v gdb > /dev/null; then echo "SKIP: no gdb"; exit 77; fi
fwd_cfg "$T/c.json" "$(inst late)" "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" "net_null0" '{}'
cat > "$T/gdb" <<'G'
set pagination off
set confirm off
set non-stop on
set print thread-events off
break bl_worker_main
run
shell sleep 2
continue -a
G
set +e
timeout 120 gdb -q -batch -x "$T/gdb" --args "$BELTLINED" -q --exit-idle 600 --stats-interval 0 \
	"$T/c.json" > "$T/gdb.out" 2> "$T/err"
set -e
check "gdb held the worker at its entry" grep -q "Breakpoint 1, bl_worker_main" "$T/gdb.out"
# beltlined's JSON: from gdb's output line "{" to "}".
sed -n '/^{/,/^}/p' "$T/gdb.out" > "$T/r.json"
eq "a worker started 2 s late still reads the whole replay: rx" "$(jget "$T/r.json" .ports.in.rx)" 1000
eq "  ... leaked" "$(jget "$T/r.json" .mbufs.leaked)" 0
finish
