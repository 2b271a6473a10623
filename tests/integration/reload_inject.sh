#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reload of a config with an `inject` stream (and a `user` filter) in a graph
# the reload does not change: the whole-config dry run must not collide with
# the running inject stream of the same name (it refused every such reload:
# 'an inject stream "w0" exists already', found by tests/soak). The inject
# stream still takes a writer afterwards; two injects of one name in one
# config are still refused by --check. And a reload slower than 2 s (the
# appliance stopped for 3 s meanwhile, as a loaded machine does): the CLI
# waits for it and says it reloaded (it said "refused, the old config runs
# on: Connection timed out" while the reload went on; found by tests/soak).
. "$(dirname "$0")/lib.sh"

I=$(inst reloadinj)
export BELTLINE_INSTANCE=$I
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [
    { "lcores": [1], "pipeline": [ "inject name=w0 capacity=64 --name=w0 | count --name=wc",
      "gen rate=1000 | user name=v timeout_us=2000 | count --name=vc" ] },
    { "lcores": [1], "pipeline": "gen rate=$2 | export name=s1 policy=mrp" } ] }
JSON
}
mkcfg "$T/a.json" 1000
mkcfg "$T/b.json" 1500
"$BELTLINED" -q --stats-interval 0 "$T/a.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
wait_for 30 test -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl"
for f in b a b; do
	set +e; "$BELTLINE" reload "$T/$f.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
	eq "reload to $f with an inject stream running: accepted" "$rc" 0
	[ "$rc" = 0 ] || sed -n 1p "$T/r.err"
done
eq "reloads counted" "$("$BELTLINE" stats --json | jq .reload.reloads)" 3
"$BELTLINE" reload "$T/a.json" > "$T/r.out" 2> "$T/r.err" &
RL=$!
kill -STOP "$PID"
sleep 3
kill -CONT "$PID"
set +e; wait "$RL"; rc=$?; set -e
eq "a reload slower than 2 s: the CLI waited for it" "$rc" 0
check "... and said it reloaded" grep -q '^reloaded (epoch' "$T/r.out"
[ "$rc" = 0 ] || sed -n 1,2p "$T/r.err"
eq "... the reload counted once" "$("$BELTLINE" stats --json | jq .reload.reloads)" 4
set +e; "$BELTLINE" -v inject w0 "$SRCDIR/config/sample.pcap" > /dev/null 2> "$T/w.err"; rc=$?; set -e
eq "a writer writes into w0 after the reloads" "$rc" 0
kill -INT "$PID"
wait "$PID"; rc=$?
eq "exit status" "$rc" 0
eq "w0 took the writer's 1000 frames" "$(jq '.graphs[].filters.wc.in // empty' "$T/final.json")" 1000
sed 's/"gen rate=1000 | user/"inject name=w0 | count --name=w2", "gen rate=1000 | user/' "$T/a.json" > "$T/dup.json"
set +e; "$BELTLINED" --check "$T/dup.json" > /dev/null 2> "$T/c.err"; rc=$?; set -e
check "two inject streams named w0 still refused by --check" test "$rc" != 0
check "... by name" grep -q 'inject stream "w0" exists already' "$T/c.err"
finish
