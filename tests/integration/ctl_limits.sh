#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The control socket under load (issue 15, points 3 and 4): replies of any size
# (stats of 440 filter instances, far past one 64 KiB record, through `beltline
# stats --json` and `beltline top`); connections limited per uid, with a notice
# saying why to those refused, while other users are served; idle connections
# and clients that do not read their replies closed; an attached reader (whose
# connection is its lease, and idle by design) kept; all of it counted in the
# stats' "control" section. The uids are forked children of ctl_limits.py. The idle
# and slow phases run after a reload that shortens control.idle_ms and slow_ms (and
# shows the reload applies them); a reload back to the defaults follows at once (a
# CLI call stalled 1.5 s by a busy machine would be closed).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline, other uids)"; exit 77; fi
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst ctllimits)
export BELTLINE_INSTANCE=$I
RUN=/run/beltline/$I
PY=$(dirname "$0")/ctl_limits.py

# 8 graphs of gen + 53 counts + drop: 55 filters each, 440 in all, on one worker.
python3 - "$I" > "$T/c.json" <<'PY'
import json, sys
pipe = 'gen rate=1000 | ' + ' | '.join('count' for _ in range(53)) + ' | drop'
graphs = [{'lcores': [1], 'pipeline': [pipe]} for _ in range(7)]
graphs.append({'lcores': [1], 'pipeline': [pipe.replace(' | drop', ' | export name=s mode=0644 policy=frp')]})
print(json.dumps({'instance': sys.argv[1], 'memory': {'hugepages': 'auto'},
                  'ports': [{'name': 'out', 'vdev': 'net_null0'}], 'graphs': graphs}))
PY
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket $RUN/ctl exists" wait_for "$WAIT" test -S "$RUN/ctl"

# Replies of any size.
rc=0
"$BELTLINE" stats --json > "$T/s.json" 2> "$T/s.err" || rc=$?
eq "stats --json with 440 filters: exit status" "$rc" 0
sed 's/^/    /' "$T/s.err"
eq "stats --json: filters" "$(jq '.filters | length' "$T/s.json" 2> /dev/null)" 440
eq "stats --json: edges" "$(jq '.edges | length' "$T/s.json" 2> /dev/null)" 432
size=$(jq -c . "$T/s.json" 2> /dev/null | wc -c)
check "stats: the reply ($size bytes) is more than one 64 KiB record" test "$size" -gt 65536
rc=0
"$BELTLINE" top -n 1 > "$T/top" 2> "$T/top.err" || rc=$?
eq "top -n 1 with 440 filters: exit status" "$rc" 0
sed 's/^/    /' "$T/top.err"
check "top shows all 440 filters" grep -q '^filters (440)' "$T/top"
check "top shows the control section" grep -q '^control (1)' "$T/top"

# A reader attached all along: its connection is a lease, never idle-closed.
"$BELTLINE" cat s > /dev/null 2> "$T/cat.err" &
CPID=$!

check "per-uid limit, refusal notices, root's reserve" python3 "$PY" "$RUN/ctl" refuse
cp "$T/c.json" "$T/c0.json"
jq '.control = {"idle_ms": 1500, "slow_ms": 1500}' "$T/c0.json" > "$T/c.json"
rc=0
"$BELTLINE" reload > "$T/reload.out" 2>&1 || rc=$?
eq "reload to control.idle_ms and slow_ms 1500 ($(tr '\n' ' ' < "$T/reload.out"))" "$rc" 0
# Each CLI call under these limits is tried again if the server closed it.
limits_are() { [ "$("$BELTLINE" stats --json 2> /dev/null | jq -c '[.control.idle_ms, .control.slow_ms]')" = "$1" ]; }
check "... stats show them" wait_for "$WAIT" limits_are "[1500,1500]"
check "idle connections closed with a notice" python3 "$PY" "$RUN/ctl" idle
check "a client that never reads its replies is closed" python3 "$PY" "$RUN/ctl" slow
cp "$T/c0.json" "$T/c.json"
check "reload back to the default limits" wait_for "$WAIT" "$BELTLINE" reload
check "... stats show them" wait_for "$WAIT" limits_are "[10000,5000]"

eq "the attached reader is still attached" \
	"$("$BELTLINE" stats --json | jq '.streams[] | select(.name=="s") | .n_readers')" 1
check "... and still reading" alive $CPID
kill $CPID; wait $CPID 2> /dev/null || true
"$BELTLINE" stats --json > "$T/s2.json"
jq -c .control "$T/s2.json" | sed 's/^/    /'

kill -TERM $BPID
set +e; wait $BPID; rc=$?; set -e
eq "beltlined exit status" "$rc" 0
eq "leaked mbufs" "$(jget "$T/r.json" .mbufs.leaked)" 0
finish
