#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A config file with command-line overrides (--lcores, --port, --pipeline): each reload
# lays them over the file as the start did. Before, a reload read the file alone: with
# --lcores every reload of the unchanged file was refused ("the worker lcores changed:
# needs a restart", the main lcore being the flag's), and the --port and --pipeline
# graph went. A refusal names what changed: lcore_cpu alone is lcore_cpu, with the CPUs.
. "$(dirname "$0")/lib.sh"

I=$(inst rflags)
export BELTLINE_INSTANCE=$I
# mkcfg FILE CPU_OF_LCORE_2: main lcore 2 (--lcores 2,1) on CPU 0 or 1.
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I", "lcore_cpu": { "2": $2 }, "idle_sleep_us": 100,
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen rate=1000 | count --name=file | drop" } ] }
JSON
}
mkcfg "$T/c.json" 0
mkcfg "$T/cpu.json" 1

"$BELTLINED" --stats-interval 0 --lcores 2,1 --port x=net_null1 \
	--pipeline 'rx port=x | count --name=flag | drop' "$T/c.json" > "$T/final.json" 2> "$T/err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/err"
names() { "$BELTLINE" stats --json | jq -r '[.filters[].name] | sort | join(",")'; }
ports() { "$BELTLINE" stats --json | jq -r '[.ports[].name] | join(",")'; }
eq "started: the file's graph and the flag's" "$(names)" "drop,drop,file,flag,gen,rx"

rc=0; "$BELTLINE" reload > /dev/null 2> "$T/r.err" || rc=$?
eq "a reload of the unchanged file with --lcores: done ($(head -c 200 "$T/r.err"))" "$rc" 0
eq "... the flags' port kept" "$(ports)" "n,x"
eq "... and their graph" "$(names)" "drop,drop,file,flag,gen,rx"
kill -HUP "$PID"
wait_for 30 grep -q 'reloaded .*epoch 2' "$T/err" || true
check "SIGHUP too" grep -q 'reloaded .*epoch 2' "$T/err"
eq "... the flags' graph kept" "$(names)" "drop,drop,file,flag,gen,rx"

rc=0; "$BELTLINE" reload "$T/cpu.json" > /dev/null 2> "$T/r.err" || rc=$?
eq "lcore_cpu changed: refused" "$rc" 1
check "... saying lcore_cpu and the CPUs ($(head -c 200 "$T/r.err"))" \
	grep -q 'lcore_cpu (lcore 2 on CPU 0, now 1) changed: needs a restart' "$T/r.err"
check "... not the worker lcores" bash -c "! grep -q 'worker lcores' '$T/r.err'"

# The file names another instance: the reload goes through, the name stays, and both the
# reply and the log say so (it was taken silently).
sed "s/\"instance\": \"$I\"/\"instance\": \"other_$I\"/" "$T/c.json" > "$T/other.json"
rc=0; "$BELTLINE" reload "$T/other.json" > "$T/r.out" 2> "$T/r.err" || rc=$?
eq "a file naming another instance: reloaded ($(cat "$T/r.out"))" "$rc" 0
check "... saying the name stays ($(head -c 200 "$T/r.err"))" \
	grep -q "beltline: reload: instance: the file says \"other_$I\", this appliance stays \"$I\" (a new name takes a restart)" "$T/r.err"
check "... in the log too" grep -q "reload: instance: the file says \"other_$I\"" "$T/err"
rc=0; "$BELTLINE" reload "$T/c.json" > /dev/null 2> "$T/r.err" || rc=$?
eq "back to its own file: reloaded" "$rc" 0
check "... with nothing to say" test ! -s "$T/r.err"

kill -INT "$PID"
wait "$PID"; rc=$?
eq "exit status" "$rc" 0

# Started with --instance (the file names another): a reload of the file says nothing,
# the flag's name is the process's.
"$BELTLINED" -q --stats-interval 0 --instance "f_$I" "$T/c.json" > /dev/null 2> "$T/err2" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/f_$I/ctl" "$PID" "$T/err2"
rc=0; "$BELTLINE" -i "f_$I" reload > /dev/null 2> "$T/r.err" || rc=$?
eq "--instance, a reload of its file: reloaded" "$rc" 0
check "... with nothing to say ($(head -c 200 "$T/r.err"))" test ! -s "$T/r.err"
# The appliance killed under a reload: no refusal came, so "the old config runs on" (what
# it said) would be wrong: nothing runs.
kill -STOP "$PID"
"$BELTLINE" -i "f_$I" reload > /dev/null 2> "$T/rk.err" &
RK=$!
# connected (the request goes at once after; killed before it, the send fails: the same)
check "the reload is connected to the stopped appliance" wait_for "$WAIT" unix_connected "$RK"
kill -KILL "$PID"
wait "$PID" 2> /dev/null || true
wait "$RK" && rc=0 || rc=$?
eq "a reload the appliance died in: exit 1" "$rc" 1
check "... saying the outcome is unknown, not refused ($(head -c 300 "$T/rk.err"))" \
	grep -q "no answer from instance 'f_$I' (stopped or killed?)" "$T/rk.err"
check "... not that the old config runs on" bash -c "! grep -q 'the old config runs on' '$T/rk.err'"
rm -rf "${BELTLINE_RUN_DIR:-/run/beltline}/f_$I"
finish
