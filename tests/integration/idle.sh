#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# idle_sleep_us (docs/config.md): a worker whose rounds find no packet naps, so an
# appliance with nothing to do leaves its CPU to others; packets that come after a
# quiet spell still get through, every one; a reload changes the setting live; a bad
# value is refused by --check naming the key. BELTLINED_IDLE_SLEEP_US gives it to a
# config that sets none (the integration tests run so, two at a time), at start and
# at each reload; a config's own wins; a bad value is refused naming the variable.
. "$(dirname "$0")/lib.sh"
need_corpus
unset BELTLINED_IDLE_SLEEP_US   # set for every integration test (meson.build); not here
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst idle)
export BELTLINE_INSTANCE=$I
RUN=${BELTLINE_RUN_DIR:-/run/beltline}/$I
cap=$CORPUS/vxlan.pcap
n=$(tcpdump -nn -r "$cap" 2> /dev/null | grep -c "^[0-9]")   # one line a frame, inner ones indented

mkcfg() {   # FILE IDLE_SLEEP_US
	cat > "$1" <<JSON
{ "instance": "$I", "idle_sleep_us": $2,
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "inject name=w | count --name=got | drop" } ] }
JSON
}
mkcfg "$T/nap.json" 1000
mkcfg "$T/poll.json" 0
mkcfg "$T/bad.json" 100001
sed 's/"idle_sleep_us": 1000/"idle_sleep_us": "1ms"/' "$T/nap.json" > "$T/str.json"

for f in bad str; do
	out=$("$BELTLINED" --check "$T/$f.json" 2>&1) && st=0 || st=$?
	eq "--check $f.json: exit status" "$st" 2
	check "it names the key ($out)" grep -q 'idle_sleep_us: must be .*0..100000' <<< "$out"
done

cp "$T/nap.json" "$T/cur.json"
"$BELTLINED" -q --stats-interval 0 "$T/cur.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
trap 'kill -TERM $PID 2> /dev/null || true; rm -rf "$T"' EXIT
wait_ctl "$RUN/ctl" "$PID" "$T/d.err"
wtid() { grep -l '^rte-worker' /proc/"$PID"/task/*/comm 2> /dev/null | head -1 | cut -d/ -f5 || true; }
cpu_ns() { awk '{ print $1 }' /proc/"$PID"/task/"$1"/schedstat; }
tid=$(wtid)
check "the worker thread is there ($tid)" test -n "$tid"
# The worker's CPU time over 2 s of nothing to do: naps of 1 ms after every empty
# round cost it a few % of a CPU (a polling worker takes all it is given). A loaded
# machine only makes it less.
c0=$(cpu_ns "$tid"); sleep 2; c1=$(cpu_ns "$tid")
pct=$(( (c1 - c0) / 20000000 ))
check "an idle worker with idle_sleep_us 1000 used $pct% of a CPU (< 30%)" test "$pct" -lt 30
"$BELTLINE" stats --json > "$T/st.json"
naps=$(jq '.reload.workers[0].idle_sleeps' "$T/st.json")
check "beltline stats counts its naps ($naps)" test "$naps" -gt 100
eq "and shows the setting" "$(jq '.reload.workers[0].idle_sleep_us' "$T/st.json")" 1000

# Packets after the quiet spell: every one through.
check "inject $cap after 2 s idle" "$BELTLINE" inject w "$cap"
wait_for 30 bash -c "'$BELTLINE' stats --json | jq -e '[.filters[] | select(.name == \"got\") | .in] | add == $n' > /dev/null"
"$BELTLINE" stats --json > "$T/st.json"
eq "count saw the file's $n frames" "$(jq '[.filters[] | select(.name == "got") | .in] | add' "$T/st.json")" "$n"

# A reload to 0 is live: the setting changes and the naps stop.
cp "$T/poll.json" "$T/cur.json"
check "reload to idle_sleep_us 0" "$BELTLINE" reload "$T/cur.json"
"$BELTLINE" stats --json > "$T/st.json"
eq "the setting after the reload" "$(jq '.reload.workers[0].idle_sleep_us' "$T/st.json")" 0
naps0=$(jq '.reload.workers[0].idle_sleeps' "$T/st.json")
sleep 0.5
"$BELTLINE" stats --json > "$T/st.json"
eq "no nap since" "$(jq '.reload.workers[0].idle_sleeps' "$T/st.json")" "$naps0"
eq "the same worker thread ran on (no restart)" "$(wtid)" "$tid"

kill -TERM "$PID"; wait "$PID" && st=0 || st=$?
eq "clean stop" "$st" 0
check "the final report counts the naps" jq -e '.workers[0].idle_sleeps > 100' "$T/final.json"

# --- BELTLINED_IDLE_SLEEP_US: the default of a config without the key.
grep -v idle_sleep_us "$T/poll.json" | sed 's/^  "ports"/{ "instance": "'"$I"'",\n  "ports"/' > "$T/none.json"
check "a config without idle_sleep_us ($(tr -d '\n' < "$T/none.json"))" "$BELTLINED" --check "$T/none.json"
for v in abc 100001 -1 1.5; do
	out=$(BELTLINED_IDLE_SLEEP_US=$v "$BELTLINED" --check "$T/none.json" 2>&1) && st=0 || st=$?
	eq "BELTLINED_IDLE_SLEEP_US=$v: exit status" "$st" 2
	check "it names the variable ($out)" grep -q 'BELTLINED_IDLE_SLEEP_US: must be' <<< "$out"
done
cp "$T/none.json" "$T/cur.json"
BELTLINED_IDLE_SLEEP_US=700 "$BELTLINED" --stats-interval 0 "$T/cur.json" > /dev/null 2> "$T/e.err" &
PID=$!
wait_ctl "$RUN/ctl" "$PID" "$T/e.err"
st_idle() { "$BELTLINE" stats --json | jq '.reload.workers[0].idle_sleep_us'; }
eq "the environment's value" "$(st_idle)" 700
check "the log says where it came from" grep -q 'idle_sleep_us 700, from BELTLINED_IDLE_SLEEP_US' "$T/e.err"
cp "$T/poll.json" "$T/cur.json"
check "reload to a config that says 0" "$BELTLINE" reload "$T/cur.json"
eq "the config's own wins" "$(st_idle)" 0
cp "$T/none.json" "$T/cur.json"
check "reload to one that says nothing" "$BELTLINE" reload "$T/cur.json"
eq "the environment's value again" "$(st_idle)" 700
kill -TERM "$PID"; wait "$PID" && st=0 || st=$?
eq "clean stop" "$st" 0

# --- The main lcore with a client asleep on a stream: it ticked every 100 us while
# anyone slept (10000 wakeups a second, on the CPU it shares with the clients), though
# an export's worker wakes its sleepers itself. Now about once a millisecond; a loaded
# machine only makes it fewer. The sleeper still gets every packet. A flow stream's
# sleeper too (its exporter thread looks again each round).
cat > "$T/sleep.json" <<JSON
{ "instance": "$I", "idle_sleep_us": 0,
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "inject name=w | flow export=f | export name=e" } ] }
JSON
"$BELTLINED" --stats-interval 0 "$T/sleep.json" > /dev/null 2> "$T/s.err" &
PID=$!
wait_ctl "$RUN/ctl" "$PID" "$T/s.err"
"$BELTLINE" cat e -c "$n" -w "$T/got.pcap" 2> "$T/cat.err" &
CAT=$!
"$BELTLINE" cat --flows f > /dev/null 2> "$T/flows.err" &
FLOWS=$!
readers() { "$BELTLINE" stats --json | jq '[.streams[] | select(.name == "e" or .name == "f") | .n_readers] | add'; }
check "a reader sleeps on e, one on f" wait_for 30 eval '[ "$(readers)" = 2 ]'
sleep 0.3   # its first empty look, then asleep
vcs() { awk '/^voluntary_ctxt_switches/ { print $2 }' /proc/"$PID"/task/"$PID"/status; }
v0=$(vcs); sleep 2; v1=$(vcs)
check "the main lcore woke $((v1 - v0)) times in 2 s with a reader asleep (< 3000)" \
	test $((v1 - v0)) -lt 3000
check "inject $cap to the sleeper" "$BELTLINE" inject w "$cap"
check "it got every frame" wait_pid 30 "$CAT"
eq "frames read" "$(tcpdump -r "$T/got.pcap" 2> /dev/null | grep -c "^[0-9]")" "$n"
kill -TERM "$FLOWS" 2> /dev/null || true
kill -TERM "$PID"; wait "$PID" && st=0 || st=$?
eq "clean stop" "$st" 0
finish
