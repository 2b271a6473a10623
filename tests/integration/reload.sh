#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reload under traffic: beltline reload, SIGHUP and the control op move the
# appliance between two configs differing in one filter's arguments (plus an
# added graph and a removed stream) while net_null forwards at full rate and
# an SRP reader reads: no packet lost (port a rx = port b tx, exactly), the
# reader never detached and never lost an entry, the unchanged graph's
# counters continuous, and so the unchanged filters' of the changed graph (they
# keep their instance), no mbuf leaked. A removed stream ends its reader with
# "stream removed"; what needs a restart is refused by name; a failure
# injected at every step leaves the old config running.
. "$(dirname "$0")/lib.sh"

N=${RELOADS:-$([ -n "${BL_SANITIZED:-}" ] && echo 20 || echo 100)}   # 20 under the sanitizers
I=$(inst reload)
export BELTLINE_INSTANCE=$I BELTLINED_TEST_HOOKS=1
# mkcfg FILE BPF_LEN EXTRA: two configs, differing in bpf's argument; B adds a
# graph, A has a stream (s2) B removes.
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I",
  "ports": [ { "name": "a", "vdev": "net_null0" }, { "name": "b", "vdev": "net_null1" } ],
  "graphs": [
    { "lcores": [1], "pipeline": "gen rate=100000 | count --name=keep | export name=s1 policy=srp" },
    { "lcores": [1], "pipeline": "rx port=a | bpf \"len >= $2\" | count --name=fwd | tx port=b" }
    $3 ] }
JSON
}
mkcfg "$T/a.json" 0 ', { "lcores": [1], "pipeline": "gen rate=1000 | export name=s2" }'
mkcfg "$T/b.json" 1 ', { "lcores": [1], "pipeline": "gen rate=1000 | count --name=extra" }'
cp "$T/a.json" "$T/cur.json"

stats() { "$BELTLINE" stats --json > "$T/st.json"; }
filter_in() { jq -r --arg n "$1" '[.filters[] | select(.name == $n) | .in] | add // 0' "$T/st.json"; }

"$BELTLINED" -q --stats-interval 0 "$T/cur.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
"$BELTLINE" cat s1 > "$T/s1.pcap" 2> "$T/cat1.err" &
CAT1=$!
"$BELTLINE" cat s2 > /dev/null 2> "$T/cat2.err" &
CAT2=$!
wait_for 30 bash -c "'$BELTLINE' stats --json | jq -e '[.streams[] | select(.readers | length == 1)] | length == 2' > /dev/null"

# What needs a restart is refused by name; the old config runs on.
jq '.mbufs = { "count": 32767 }' "$T/a.json" > "$T/pool.json"   # the running pool: 16383
set +e; "$BELTLINE" reload "$T/pool.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "pool size change refused" "$rc" 1
check "... by name: needs a restart" grep -q 'mbufs.count (the pool.s size) changed: needs a restart' "$T/r.err"
# only the cache: named as such (it said the pool's size had changed)
jq '.mbufs = { "cache": 128 }' "$T/a.json" > "$T/cache.json"
set +e; "$BELTLINE" reload "$T/cache.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "mbufs.cache changed: refused" "$rc" 1
check "... by name, not as the pool's size ($(head -c 200 "$T/r.err"))" \
	bash -c "grep -q ': mbufs.cache changed: needs a restart' '$T/r.err' && ! grep -q 'count' '$T/r.err'"
jq '.ports[0].rx_queues = 2' "$T/a.json" > "$T/port.json"
set +e; "$BELTLINE" reload "$T/port.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "a port's settings changed: refused" "$rc" 1
check "... by name" grep -q 'ports "a" (its settings) changed: needs a restart' "$T/r.err"
jq '.memory = { "multiprocess": true }' "$T/a.json" > "$T/mp.json"
set +e; "$BELTLINE" reload "$T/mp.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "memory.multiprocess flipped: refused" "$rc" 1
check "... by name ($(head -c 200 "$T/r.err"))" grep -q ': memory.multiprocess changed: needs a restart' "$T/r.err"
sed 's/len >= 0/len >= /' "$T/a.json" > "$T/bad.json"
set +e; "$BELTLINE" reload "$T/bad.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "bad bpf refused" "$rc" 1
check "... with its path and column" grep -q 'graphs\[1\]\.pipeline: col 13: bpf: expr' "$T/r.err"
check "... naming the file" grep -qF "$T/bad.json: graphs[1].pipeline: col 13" "$T/r.err"
head -c 40 "$T/a.json" > "$T/cut.json"
set +e; "$BELTLINE" reload "$T/cut.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "a file cut short refused" "$rc" 1
check "... naming the file ($(head -c 200 "$T/r.err"))" \
	grep -qF "$T/cut.json: \$: not valid JSON (line" "$T/r.err"
check "... and so does reload.last_error" bash -c "'$BELTLINE' stats --json |
	jq -e '.reload.last_error | startswith(\"$T/cut.json: \")' > /dev/null"

# Failure injected at every step in turn: refused, the old config untouched.
set +e
python3 "$(dirname "$0")/reload_steps.py" "$T/b.json" \
	'st["reload"]["epoch"] == st0["reload"]["epoch"] and [x["name"] for x in st["streams"]].count("s2") == 1' \
	> "$T/steps" 2>&1
rc=$?; set -e
sed 's/^/    /' "$T/steps"
n=$(sed -n 's/^steps \([0-9]*\)$/\1/p' "$T/steps")
check "failures injected at ${n:-no} steps, each refused, old config kept (the same epoch, s2 there)" \
	test "$rc" = 0 -a "${n:-0}" -gt 5
check "the first reload that went through removed s2" \
	bash -c "'$BELTLINE' stats --json | jq -e '[.streams[] | select(.name == \"s2\")] | length == 0' > /dev/null"
wait_for 30 gone "$CAT2"
check "s2's reader ended, told 'stream removed'" grep -q 'stream removed' "$T/cat2.err"

# N reloads, alternating, by the CLI (and every 10th by SIGHUP, same file).
stats; keep_last=$(filter_in keep); fwd_last=$(filter_in fwd)
# (cur.json written by the shell, not by a cp a reload, and the epoch polled without a bash
# a look: a tenth of the loop's processes)
A=$(< "$T/a.json") B=$(< "$T/b.json")
epoch_past() { [ "$("$BELTLINE" stats --json | jq .reload.epoch)" -gt "$1" ]; }
for i in $(seq "$N"); do
	if [ $((i % 2)) -eq 1 ]; then printf '%s\n' "$A" > "$T/cur.json"; else printf '%s\n' "$B" > "$T/cur.json"; fi
	if [ $((i % 10)) -eq 0 ]; then
		e=$(jq .reload.epoch <<< "$("$BELTLINE" stats --json)")
		kill -HUP "$PID"
		wait_for 30 epoch_past "$e"
	else
		"$BELTLINE" reload "$T/cur.json" > /dev/null
	fi
	if [ $((i % 20)) -eq 0 ]; then
		stats
		k=$(filter_in keep)
		[ "$k" -ge "$keep_last" ] || bad "reload $i: keep's counter went back ($keep_last -> $k)"
		keep_last=$k
		f=$(filter_in fwd)
		[ "$f" -ge "$fwd_last" ] || bad "reload $i: fwd's counter went back ($fwd_last -> $f)"
		fwd_last=$f
		[ "$(jq '[.streams[] | select(.name == "s1") | .readers | length] | add' "$T/st.json")" = 1 ] ||
			bad "reload $i: s1's reader is gone"
	fi
done
stats
eq "refused reloads counted (the steps and the six above)" "$(jq .reload.failures "$T/st.json")" "$((n + 6))"
check "s1's reader still attached" alive "$CAT1"
eq "s1's reader lost nothing" "$(jq '[.streams[] | select(.name == "s1") | .readers[] | (.lost // 0)] | add' "$T/st.json")" 0
eq "unchanged graph's counters continuous: keep's in never went back" ok ok
kill -INT "$PID"
wait "$PID"; rc=$?
eq "exit status" "$rc" 0
kill "$CAT1" 2> /dev/null || true
a_rx=$(jq '.ports.a.rx' "$T/final.json"); b_tx=$(jq '.ports.b.tx' "$T/final.json")
check "traffic flowed ($a_rx packets)" [ "$a_rx" -gt 100000 ]
eq "no packet lost: port a rx = port b tx" "$b_tx" "$a_rx"
eq "no mbuf leaked" "$(jq .mbufs.leaked "$T/final.json")" 0
# The changed graph's unchanged filters kept their instance: count fwd (after the bpf
# that changed at every reload) counted every packet since the start.
eq "fwd (unchanged, in the changed graph) counted every packet across $N reloads" \
	"$(jq '[.graphs[].filters.fwd // empty | .in] | add' "$T/final.json")" "$a_rx"
eq "reloads in the final report" "$(jq .reloads "$T/final.json")" "$((N + 1))"
# The bpf built anew at every reload counts from its build, and so do its in-edges: the
# one from rx (kept) carried its count from the start (an operator's try: a filter's in
# 1000, its classes_in 2000).
eq "the bpf built anew: in = the sum of its in-edges (classes_in)" \
	"$(jq '[.graphs[].filters.bpf // empty | .in == ([.classes_in[]] | add // 0)] | all' "$T/final.json")" true

# An rx queue that moves between worker lcores is let go by one before the other polls it
# (two epochs): no packet lost, none leaked.
I2=$(inst move)
for v in 1 2; do
	cat > "$T/m$v.json" <<JSON
{ "instance": "$I2", "lcore_cpu": { "2": 1 },
  "ports": [ { "name": "a", "vdev": "net_null0" }, { "name": "b", "vdev": "net_null1" } ],
  "graphs": [ { "lcores": [$v], "pipeline": "rx port=a | tx port=b" },
              { "lcores": [$((3 - v))], "pipeline": "gen rate=1000 | count --name=k" } ] }
JSON
done
"$BELTLINED" -q --stats-interval 0 "$T/m1.json" > "$T/mfinal.json" 2> "$T/m.err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I2/ctl" "$PID" "$T/m.err"
for i in $(seq 20); do
	BELTLINE_INSTANCE=$I2 "$BELTLINE" reload "$T/m$((i % 2 + 1)).json" > /dev/null
done
kill -INT "$PID"
wait "$PID"; rc=$?
eq "moving rx: exit status" "$rc" 0
eq "moving rx: no packet lost" "$(jq .ports.b.tx "$T/mfinal.json")" "$(jq .ports.a.rx "$T/mfinal.json")"
eq "moving rx: no mbuf leaked" "$(jq .mbufs.leaked "$T/mfinal.json")" 0
eq "moving rx: 20 reloads" "$(jq .reloads "$T/mfinal.json")" 20
finish
