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
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
for f in b a b; do
	set +e; "$BELTLINE" reload "$T/$f.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
	eq "reload to $f with an inject stream running: accepted" "$rc" 0
	[ "$rc" = 0 ] || sed -n 1p "$T/r.err"
done
eq "reloads counted" "$("$BELTLINE" stats --json | jq .reload.reloads)" 3
# A user filter whose settings change cannot be carried: refused, saying how to do it
# (it said 'a user filter "v" exists already'), the old config running on.
sed 's/user name=v timeout_us=2000/user name=v timeout_us=3000/' "$T/a.json" > "$T/v3.json"
set +e; "$BELTLINE" reload "$T/v3.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload changing a user filter's timeout_us: refused" "$rc" 1
check "... saying to remove it in one reload and add it in the next" \
	grep -q 'user filter "v" runs with other settings or in another place; a reload keeps a user filter as it is: remove it in one reload, add it back in the next' "$T/r.err"
eq "... the reloads counted as before" "$("$BELTLINE" stats --json | jq .reload.reloads)" 3
# w0's filter has --name=w0: a reload finds it wherever it stands (without one, at the end).
jq '.graphs[0].pipeline |= ["inject name=w9 | drop"] + .' "$T/a.json" > "$T/plus.json"
set +e; "$BELTLINE" reload "$T/plus.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload adding an inject filter before w0's: accepted" "$rc" 0
set +e; "$BELTLINE" reload "$T/a.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload removing it again (w0's filter named by --name=): accepted" "$rc" 0
eq "... the reloads counted" "$("$BELTLINE" stats --json | jq .reload.reloads)" 5
"$BELTLINE" reload "$T/plus.json" > "$T/r.out" 2> "$T/r.err" &
RL=$!
kill -STOP "$PID"
sleep 3
kill -CONT "$PID"
set +e; wait "$RL"; rc=$?; set -e
eq "a reload slower than 2 s: the CLI waited for it" "$rc" 0
check "... and said it reloaded, and which file ($(cat "$T/r.out"))" grep -qF "reloaded $T/plus.json (epoch" "$T/r.out"
[ "$rc" = 0 ] || sed -n 1,2p "$T/r.err"
eq "... the reload counted once" "$("$BELTLINE" stats --json | jq .reload.reloads)" 6
# A reload that removes the inject stream and the user filter ends the leases on them at
# once, each client told why, and a client of the filter put back later is not touched by
# anything the old connections do. (The connections kept pointing into the removed
# filters: the clients never heard, and closing such a connection after the filter was
# put back detached the new filter's client.)
cat > "$T/c.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen rate=1000 | export name=s1 policy=mrp" } ] }
JSON
IPS=${IPS_SYN_DROP:-$(dirname "$BELTLINED")/../examples/ips_syn_drop}
n_users() { "$BELTLINE" stats --json | jq "[.users[]? | select(.name == \"v\") | .clients] | add // 0"; }
n_writers() { "$BELTLINE" stats --json | jq "[.injects[]? | select(.name == \"w0\") | .writer.pid // empty] | length"; }
"$IPS" "beltline://$I/v" 1000 > "$T/v1.out" 2> "$T/v1.err" &
V1=$!
"$BELTLINE" inject w0 "$SRCDIR/config/sample.pcap" -l 1000000 -r 1000 > /dev/null 2> "$T/w1.err" &
W1=$!
both_attached() { test "$(n_users)$(n_writers)" = 11; }
one_user() { test "$(n_users)" = 1; }
check "a verdict client and a writer attached" wait_for 30 both_attached
set +e; "$BELTLINE" reload "$T/c.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload without w0 and v: accepted" "$rc" 0
[ "$rc" = 0 ] || sed -n 1,3p "$T/r.err"
check "the verdict client ended" wait_for 30 gone "$V1"
check "... told why" grep -q 'user filter removed: "v"' "$T/v1.err"
check "the writer ended" wait_for 30 gone "$W1"
check "... told why" grep -q 'inject stream removed: "w0"' "$T/w1.err"
set +e; "$BELTLINE" reload "$T/a.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload with w0 and v back: accepted" "$rc" 0
"$IPS" "beltline://$I/v" 1000 > "$T/v2.out" 2> "$T/v2.err" &
V2=$!
check "a new verdict client attached to v" wait_for 30 one_user
kill "$V1" "$W1" 2> /dev/null || true   # the old clients (if still there) go now
wait "$V1" "$W1" 2> /dev/null || true
sleep 1
eq "... and stays attached when the old clients' connections close" "$(n_users)" 1
kill "$V2"; wait "$V2" 2> /dev/null || true

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

# Without --name= an inject filter is named by its place (inject, inject2): one before it
# that goes renames it, and the reload is refused, saying why and what to do (it said
# 'an inject stream "b" exists already', a stream the user never added; found by a new user).
cat > "$T/x1.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "inject name=a | drop", "inject name=b | count" ] } ] }
JSON
jq '.graphs[0].pipeline |= .[1:]' "$T/x1.json" > "$T/x2.json"
"$BELTLINED" -q --stats-interval 0 "$T/x1.json" > /dev/null 2> "$T/d2.err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d2.err"
set +e; "$BELTLINE" reload "$T/x2.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload removing the inject filter before an unnamed one: refused" "$rc" 1
check "... saying why and what to do ($(head -c 300 "$T/r.err"))" \
	grep -q 'inject stream "b" runs already, and a reload keeps it only as the same filter: the same filter name (give it --name=), settings and lcore; or remove it in one reload, add it back in the next' "$T/r.err"
kill -INT "$PID"
wait "$PID" && rc=0 || rc=$?
eq "exit status" "$rc" 0

# A user filter's max_inflight changed by a reload: refused naming max_inflight, the argument
# the user wrote (it said "capacity", which user has none of).
cat > "$T/u1.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "inject name=w | user name=v max_inflight=64 | drop" } ] }
JSON
sed 's/max_inflight=64/max_inflight=256/' "$T/u1.json" > "$T/u2.json"
"$BELTLINED" -q --stats-interval 0 "$T/u1.json" > /dev/null 2> "$T/d3.err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d3.err"
set +e; "$BELTLINE" reload "$T/u2.json" > "$T/r.out" 2> "$T/r.err"; rc=$?; set -e
eq "reload changing a user filter's max_inflight: refused" "$rc" 1
check "... naming max_inflight ($(head -c 300 "$T/r.err"))" grep -q 'max_inflight: stream "v" runs with another capacity' "$T/r.err"
kill -INT "$PID"
wait "$PID" && rc=0 || rc=$?
eq "exit status" "$rc" 0
finish
