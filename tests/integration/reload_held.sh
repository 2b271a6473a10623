#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A reload while a worker is held longer than the swap waits (10 s; 1 s here, with the
# test hooks' BELTLINED_TEST_EPOCH_WAIT_S, so the test does not wait out 10 s twice): its `pcap
# file=` sink writes into a FIFO nobody drains, so the worker sleeps in write(2).
# The reload removes a graph and its port; what the workers ran is freed, and the
# port closed, once the worker is past the new epoch, not never (the graphs stayed
# allocated and the port open until exit, so a later reload that adds the port
# again was refused: "already exists"). stats' reload.awaiting_workers says what
# waits; the log says when it went; nothing leaks at exit.
. "$(dirname "$0")/lib.sh"

I=$(inst rheld)
export BELTLINE_INSTANCE=$I BELTLINED_TEST_HOOKS=1 BELTLINED_TEST_EPOCH_WAIT_S=1
mkfifo "$T/fifo"
exec 3<> "$T/fifo"   # open, never read: the sink's writes fill the pipe, then wait
# mkcfg FILE WITH_B
mkcfg() {
	local ports='{ "name": "a", "vdev": "net_null0" }' pipes='"gen rate=20000 | pcap file='"$T"'/fifo"'
	if [ "$2" = 1 ]; then
		ports="$ports, { \"name\": \"b\", \"vdev\": \"net_null1\" }"
		pipes="$pipes, \"rx port=b | count --name=cb | drop\""
	fi
	cat > "$1" <<JSON
{ "instance": "$I", "mbufs": { "count": 32767 }, "ports": [ $ports ],
  "graphs": [ { "lcores": [1], "pipeline": [ $pipes ] } ] }
JSON
}
mkcfg "$T/c.json" 1
cp "$T/c.json" "$T/with_b.json"
mkcfg "$T/without_b.json" 0

st() { "$BELTLINE" stats --json; }
ports() { jq -r '[.ports[].name] | join(",")' <<< "$(st)"; }
awaiting() { jq -r '.reload.awaiting_workers' <<< "$(st)"; }

"$BELTLINED" --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
DRAIN= TAPPID=
# (set -u: an unset DRAIN made this trap fail before its kill, and a failed run left its
# beltlined running, its worker spinning on lcore 1 under every later test)
trap 'exec 3>&-; kill -9 $PID ${DRAIN:-} ${TAPPID:-} 2> /dev/null || true; rm -rf "$T"' EXIT
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
eq "ports at the start" "$(ports)" "a,b"
worker_held() { lcore_held "$PID" 1; }
check "the worker is held in write(2) on the full FIFO" wait_for "$WAIT" worker_held

cp "$T/without_b.json" "$T/c.json"
kill -HUP "$PID"
reloaded() { grep -q 'reloaded .*c.json' "$T/d.err"; }
check "a reload without b goes through (after the swap's wait, 1 s here)" wait_for $((WAIT + 30)) reloaded
check "... saying the worker did not pass its epoch" grep -q 'did not pass epoch .* in 1 s' "$T/d.err"
check "... and that port b closes once it does" grep -q 'port "b" closes once every worker has passed' "$T/d.err"
eq "ports now" "$(ports)" "a"
n=$(awaiting)
check "stats: things await the worker ($n)" test "${n:-0}" -gt 0

# A tap whose reader leaves while the worker is held: ended once, waiting with the rest
# (it was ended again every tick, each time holding the control socket for 10 s).
"$BELTLINE" tap gen > /dev/null 2> "$T/tap.err" &
TAPPID=$!
tap_there() { [ "$(jq '[.streams[] | select(.name | startswith("tap."))] | length' <<< "$(st)")" -ge 1 ]; }
check "a tap on gen while the worker is held" wait_for "$WAIT" tap_there || sed "s/^/    tap: /" "$T/tap.err"
kill "$TAPPID"; wait "$TAPPID" 2> /dev/null || true
ended() { grep -q 'tap tap\.[0-9]*: a worker did not pass the epoch in 1 s' "$T/d.err"; }
check "its end waits for the worker" wait_for $((WAIT + 30)) ended
t0=$(date +%s)
"$BELTLINE" stats --json > /dev/null
"$BELTLINE" stats --json > /dev/null
dt=$(( $(date +%s) - t0 ))
check "... once: stats answers at once after it (two in ${dt} s)" test "$dt" -lt 8
eq "... and it was ended once" "$(grep -c 'tap tap\.[0-9]*: a worker did not pass the epoch' "$T/d.err")" 1

cat "$T/fifo" > /dev/null &   # drained: the worker goes on
DRAIN=$!
none_await() { [ "$(awaiting)" = 0 ]; }
check "once the worker is past its epoch, nothing awaits it" wait_for "$WAIT" none_await
check "... and the log says what went" grep -q 'the workers passed epoch .* at last: freed' "$T/d.err"

# b again: its device was closed, so it can be made again.
cp "$T/with_b.json" "$T/c.json"
kill -HUP "$PID"
again() { [ "$(grep -c 'reloaded .*c.json' "$T/d.err")" -ge 2 ] || grep -q 'reload refused' "$T/d.err"; }
check "a reload that adds b again ends" wait_for "$WAIT" again
check "... not refused ($(grep 'reload refused' "$T/d.err" | head -1))" eval '! grep -q "reload refused" "$T/d.err"'
eq "ports again" "$(ports)" "a,b"

kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
kill "$DRAIN" 2> /dev/null || true
eq "beltlined exit status" "$rc" 0
eq "mbufs leaked" "$(jget "$T/final.json" '.mbufs.leaked')" 0
finish
