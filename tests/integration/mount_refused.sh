#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What a shell user of beltline mount is told when the appliance refuses. Opening a
# filter's `all` asks for a tap; a refusal comes back as open(2)'s errno alone, and the
# mount's own stderr is /dev/null once it has gone to the background, so the reason must
# be in the appliance's log: a pool too small for a tap's ring said "No space left on
# device" and nothing anywhere said "raise mbufs.count".
. "$(dirname "$0")/lib.sh"

need_fuse
I=$(inst mref)
export BELTLINE_INSTANCE=$I
# 4095 mbufs: a tap's ring (4096 entries) cannot fit beside what receive keeps.
cat > "$T/c.json" <<JSON
{ "instance": "$I", "mbufs": { "count": 4095 }, "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen proto=udp rate=200 dport=80 | count --name=c | drop" } ] }
JSON
M=$T/mnt
mkdir "$M"
"$BELTLINED" --stats-interval 0 --duration 600 "$T/c.json" > "$T/final.json" 2> "$T/err" &
PID=$!
cleanup() {
	fusermount3 -u "$M" 2> /dev/null || true
	kill -INT "$PID" 2> /dev/null && wait "$PID" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/err"
"$BELTLINE" mount "$M"
check "mount: the count is there" test -f "$M/gen/c/all"

rc=0
timeout 60 cat "$M/gen/c/all" > /dev/null 2> "$T/cat.err" || rc=$?
check "cat all: refused (exit $rc)" test "$rc" = 1
check "... with open's errno ($(cat "$T/cat.err"))" grep -q 'No space left on device' "$T/cat.err"
check "... and the appliance's log says why (raise mbufs.count)" \
	grep -q 'tap refused: uid [0-9]* (pid [0-9]*): .*raise mbufs.count' "$T/err"
# A filter that is not there, asked over the control socket: logged too, naming it.
"$BELTLINE" tap nosuch > /dev/null 2>&1 || true
check "a tap of a filter that is not there: logged, naming it" \
	grep -q 'tap refused: .*no filter "nosuch"' "$T/err"

fusermount3 -u "$M"
kill -INT "$PID"
wait "$PID" || true
eq "no mbuf leaked" "$(jq .mbufs.leaked "$T/final.json")" 0
finish
