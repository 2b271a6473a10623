#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# beltlined --check is a full dry run: every graph built as the start builds
# it (each filter's own init checks its arguments) with no EAL and no device,
# every problem reported at once with its path and column; what passes it
# starts and what starts passed it; neither a dry run nor a failed start
# leaves anything outside the process (no file created or truncated, no
# stream).
. "$(dirname "$0")/lib.sh"

run() {   # run NAME beltlined-args...: sets rc, $T/out, $T/err
	local name=$1; shift
	set +e; "$BELTLINED" "$@" > "$T/out" 2> "$T/err"; rc=$?; set -e
}

# The examples: each passes --check; those on devices this machine has start.
for f in "$SRCDIR"/config/*.json; do
	case $f in *.schema.json) continue ;; esac   # the JSON Schema, not a config
	run x --check "$f"
	eq "--check $(basename "$f")" "$rc" 0
done
for f in default monitor null-forward; do
	run x -q --duration 0.5 --instance "$(inst "$f")" "$SRCDIR/config/$f.json"
	eq "$f.json starts and stops cleanly" "$rc" 0
done

# No mbufs.count: the pool is sized for the streams' rings too (a new user's config with
# five exports was refused: "raise mbufs.count to at least 9024"), and what --check
# passes starts.
cat > "$T/rings.json" <<JSON
{ "instance": "$(inst rings)", "ports": [ { "name": "in", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "rx port=in | export name=a", "gen | export name=b",
      "gen | export name=c", "gen | export name=d", "gen | export name=e capacity=auto",
      "gen | export name=f capacity=8192" ] } ] }
JSON
run x --check "$T/rings.json"
eq "six exports, no mbufs.count: --check passes ($(head -c 300 "$T/err"))" "$rc" 0
run x -q --duration 0.5 "$T/rings.json"
eq "... and they start ($(head -c 300 "$T/err"))" "$rc" 0
pool=$(jq '.mbufs.pool_size' "$T/out")
check "... in a pool sized for them ($pool mbufs >= 1.5 x (4 x 1024 + 4096 + 8192))" \
	test "$pool" -ge $(( (4 * 1024 + 4096 + 8192) * 3 / 2 ))
# memory.size_mb is checked against that pool, not the one the ports alone would want
jq '.memory = { "size_mb": 100 }' "$T/rings.json" > "$T/rings_mb.json"
run x --check "$T/rings_mb.json"
eq "... with memory.size_mb 100: refused" "$rc" 2
check "... saying the pool it is for ($(head -c 300 "$T/err"))" \
	grep -q "memory.size_mb: $pool mbufs of [0-9]* bytes (a pool sized for the streams' rings" "$T/err"

# A misspelled key refuses the file, and the graphs are checked all the same when the rest
# of it is whole: one run says both (the graph's problem came only once the key was fixed).
# When the rest is not whole (no ports), the graphs wait.
cat > "$T/keys.json" <<JSON
{ "instance": "$(inst keys)", "idle_sleep_usec": 5,
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen | count --nam=x | drop" } ] }
JSON
run x --check "$T/keys.json"
eq "a misspelled key and a bad graph: refused" "$rc" 2
check "... the key said ($(head -c 300 "$T/err"))" \
	grep -q '^idle_sleep_usec: unknown key (did you mean "idle_sleep_us"?)$' "$T/err"
check "... and the graph's problem in the same run" \
	grep -q '^graphs\[0\]\.pipeline: col 13: unknown option "--nam=x"' "$T/err"
eq "... two lines" "$(wc -l < "$T/err")" 2
jq '.ports = [] | .portz = 1' "$T/keys.json" > "$T/keys2.json"
run x --check "$T/keys2.json"
eq "keys and no ports: refused" "$rc" 2
check "... the empty ports said" grep -q '^ports: must be a non-empty array' "$T/err"
check "... the graphs not checked against a config that is not whole" \
	bash -c "! grep -q '^graphs' '$T/err'"

# A "(" left open in an element of a "pipeline" array that is not the last: the element
# and the "(" column in it (it said 'col 12: expected "|", ... to close the "(" at col 19,
# got ";"', the column of "(" in the joined text and a ";" the user never wrote).
cat > "$T/paren.json" <<JSON
{ "instance": "$(inst paren)", "ports": [ { "name": "in", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "gen | drop", "gen | (drop", "gen | count" ] } ] }
JSON
run x --check "$T/paren.json"
eq "an open ( in pipeline[1]: refused" "$rc" 2
check "... naming the element and the ( column in it ($(cat "$T/err"))" \
	grep -qx 'graphs\[0\]\.pipeline\[1\]: col 7: unbalanced "(": no ")" before the end of the statement' "$T/err"
eq "... one line" "$(wc -l < "$T/err")" 1

# A stream name given but not a valid one is called that, not "required".
run x --check --port n=net_null0 --pipeline 'gen | export name=ic/mp'
eq "export name=ic/mp: refused" "$rc" 2
check "... naming it as not a stream name ($(cat "$T/err"))" \
	grep -q 'export: name: "ic/mp" is not a stream name' "$T/err"
# A long one is echoed cut, and says so (68 characters: the first 60, then "...").
LONG=$(printf 'a%.0s' $(seq 68))
run x --check --port n=net_null0 --pipeline "gen | export name=$LONG"
check "export name= of 68 characters: cut with a mark ($(head -c 160 "$T/err"))" \
	grep -q "export: name: \"$(printf 'a%.0s' $(seq 60))\.\.\.\" is not a stream name" "$T/err"

# Problems only a filter's own init finds, all in one run, each with its path and column.
touch "$T/ro.pcap"; chmod 0444 "$T/ro.pcap"
cat > "$T/many.json" <<JSON
{ "instance": "$(inst many)",
  "ports": [ { "name": "in", "vdev": "net_null0" } ],
  "graphs": [
    { "lcores": [1], "pipeline": "rx port=inn | count" },
    { "lcores": [1], "pipeline": "gen | bpf \"tcp port 80 and\" | count" },
    { "lcores": [1], "pipeline": "gen | pcap file=$T/nodir/x.pcap" },
    { "lcores": [1], "pipeline": "gen size=9000 | count" },
    { "lcores": [1], "pipeline": "gen | export name=a owner=no_such_user_bl" },
    { "lcores": [1], "pipeline": "gen | export name=b group=no_such_group_bl" },
    { "lcores": [1], "pipeline": "gen | export name=c" },
    { "lcores": [1], "pipeline": "gen | export name=c" },
    { "lcores": [1], "pipeline": "gen | ibuf_in name=nowhere" },
    { "lcores": [1], "pipeline": "gen | pcap file=$T/new.pcap" },
    { "lcores": [1], "pipeline": [ "rx port=inn | count bogus=1",
                                   "gen size=9000 | export name=d owner=no_such_user_bl" ] },
    { "lcores": [1], "pipeline": "gen | ibuf_out name=q capacity=bogus" },
    { "lcores": [1], "pipeline": "ibuf_in name=q | count" },
    { "lcores": [1], "pipeline": [ "gen | | count", "gen | count bogus=1",
                                   "gen | nosuchfilter | drop", "gen | (count | drop" ] },
    { "lcores": [1], "pipeline": "gen | bfp \\"tcp\\" | count bogus=1" },
    { "lcores": [1], "pipeline": [ "gen | | bpf \\"tcp", "port 80\\" | drop" ] } ] }
JSON
# graphs[10]: every bad filter of one graph, in each of its pipelines (it said the
# first alone: a user fixed them one run at a time)
want=(
	'^graphs\[0\]\.pipeline: col 1: rx: port: no port named "inn" \(did you mean "in"\?\)$'
	'^graphs\[1\]\.pipeline: col 7: bpf: expr: "tcp port 80 and": '
	'^graphs\[2\]\.pipeline: col 7: pcap: file: cannot open ".*/nodir/x.pcap" for writing'
	'^graphs\[3\]\.pipeline: col 1: gen: size: 9000 bytes do not fit one mbuf'
	'^graphs\[4\]\.pipeline: col 7: export: owner: no user named "no_such_user_bl"'
	'^graphs\[5\]\.pipeline: col 7: export: group: no group named "no_such_group_bl"'
	'^graphs\[7\]\.pipeline: col 7: export: name: stream "c" is already exported'
	'^graphs\[8\]\.pipeline: col 7: ibuf_in: name: no ibuf_out name=nowhere'
	'^graphs\[10\]\.pipeline\[0\]: col 1: rx: port: no port named "inn"'
	'^graphs\[10\]\.pipeline\[0\]: col 15: count: bogus: unknown argument'
	'^graphs\[10\]\.pipeline\[1\]: col 1: gen: size: 9000 bytes do not fit one mbuf'
	'^graphs\[10\]\.pipeline\[1\]: col 17: export: owner: no user named "no_such_user_bl"'
	# graphs[12] reads the ring graphs[11] failed to make: one error, not a second
	# saying the ring is missing
	'^graphs\[11\]\.pipeline: col 7: ibuf_out: capacity: must be an integer'
	# graphs[13]: a syntax error ends the graph's parse; the later pipelines are parsed
	# each alone, so their syntax errors are said in the same run (they were not). The
	# filters' own checks (count bogus=1) wait for the syntax to be fixed.
	'^graphs\[13\]\.pipeline\[0\]: col 7: expected a filter name, got "\|"$'
	'^graphs\[13\]\.pipeline\[2\]: col 7: unknown filter "nosuchfilter"'
	'^graphs\[13\]\.pipeline\[3\]: col 7: unbalanced "\(": no "\)" before the end'
	# graphs[14]: a name that is no filter is said by the dry build, which goes on to the
	# graph's other filters (it ended the parse, hiding count's problem)
	'^graphs\[14\]\.pipeline: col 7: unknown filter "bfp" \(did you mean "bpf"\?\)$'
	'^graphs\[14\]\.pipeline: col 19: count: bogus: unknown argument'
	# graphs[15]: a string running from one element into the next: the second alone is
	# not a part of the whole, so it is not parsed alone (it said 'unknown filter "port"')
	'^graphs\[15\]\.pipeline\[0\]: col 7: expected a filter name, got "\|"$'
)
for mode in --check ""; do
	run x $mode "$T/many.json"
	eq "many problems ${mode:-(start)}: exit status" "$rc" 2
	for p in "${want[@]}"; do
		if grep -qE -- "$p" "$T/err"; then ok "${mode:-start} says $p"; else
			bad "${mode:-start}: stderr lacks '$p': $(head -c 1500 "$T/err")"; fi
	done
	eq "${mode:-start}: one line per problem" "$(wc -l < "$T/err")" "${#want[@]}"
	check "${mode:-start}: the dry run created no file" [ ! -e "$T/new.pcap" ]
	check "${mode:-start}: no control socket or stream left" \
		bash -c "! ls /dev/shm /dev/hugepages ${BELTLINE_RUN_DIR:-/run/beltline} 2>/dev/null | grep -q '$(inst many)'"
done

# A read-only file passes nothing; a writable existing one is never truncated by
# --check, nor by a start that fails (here: a capture DPDK cannot open).
echo "keep me" > "$T/old.pcap"
cat > "$T/ro.json" <<JSON
{ "instance": "$(inst ro)", "ports": [ { "name": "in", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | pcap file=$T/ro.pcap" } ] }
JSON
if [ "$(id -u)" -ne 0 ]; then   # root may write it
	run x --check "$T/ro.json"
	eq "read-only pcap file: --check fails" "$rc" 2
	check "read-only pcap file: says why" grep -q 'Permission denied' "$T/err"
fi
cat > "$T/keep.json" <<JSON
{ "instance": "$(inst keep)",
  "ports": [ { "name": "in", "vdev": "net_nosuchdriver0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | pcap file=$T/old.pcap" },
              { "lcores": [1], "pipeline": "gen | export name=keep" } ] }
JSON
run x --check "$T/keep.json"
eq "existing pcap file: --check passes" "$rc" 0
eq "existing pcap file: --check left it" "$(cat "$T/old.pcap")" "keep me"
run x -q "$T/keep.json"
eq "failed start: exit status" "$rc" 1
eq "failed start: the old file is untouched" "$(cat "$T/old.pcap")" "keep me"
check "failed start: no stream left" \
	bash -c "! ls /dev/shm /dev/hugepages 2>/dev/null | grep -q '$(inst keep)'"

# What starts passed --check, and the other way round, for the configs of the
# other tests' bad cases too: same status (2) and the same first line.
for p in 'rx port=in | export name=web capacity=1048577' 'rx port=in | nosuch' \
	 'rx port=in | export name=x/y' 'rx port=in | tx port=in | count' 'rx port=in queue=3 | count'; do
	cat > "$T/one.json" <<JSON
{ "instance": "$(inst one)", "ports": [ { "name": "in", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "$p" } ] }
JSON
	run x --check "$T/one.json"; c_rc=$rc; c_err=$(sed -n 1p "$T/err")
	run x -q --duration 0.3 "$T/one.json"; s_rc=$rc; s_err=$(sed -n 1p "$T/err")
	eq "'$p': --check and start agree on the status" "$c_rc" "$s_rc"
	eq "'$p': and on the message" "$c_err" "$s_err"
	check "'$p': refused" [ "$c_rc" -eq 2 ]
done

# --lcores with a worker twice: refused by --check and at start alike (19 replicas on one
# lcore wrote past the worker's graph arrays: the start crashed or freed garbage).
lc=0$(printf ',1%.0s' $(seq 19))
run x --check --port a=net_null0 --lcores "$lc" --pipeline 'gen | drop'
eq "--lcores $lc: --check refuses it" "$rc" 2
check "... saying which lcore is listed twice" grep -q 'graphs\[0\].lcores\[2\]: lcore 1 is listed twice' "$T/err"
run x -q --duration 0.3 --port a=net_null0 --lcores "$lc" --pipeline 'gen | drop'
eq "... and the start refuses it (no crash)" "$rc" 2

# 30 worker lcores (all on CPU 1): EAL's --lcores argument was cut at 127 characters
# (EAL refused it, exit 1, from about 24 workers); now whole. And an lcore mapped by
# lcore_cpu to a CPU this process may not use is blamed on lcore_cpu, with that CPU
# (it said "main_lcore: CPU 0", which is allowed).
python3 -c "
import json
print(json.dumps({'instance': '$(inst lc30)', 'lcore_cpu': {str(i): 1 for i in range(1, 31)},
                  'ports': [{'name': 'a', 'vdev': 'net_null0'}],
                  'graphs': [{'lcores': list(range(1, 31)), 'pipeline': 'gen | drop'}]}))" > "$T/lc30.json"
run x -q --duration 0.5 "$T/lc30.json"
eq "30 worker lcores: the start runs" "$rc" 0
eq "... every replica" "$(jq '.graphs | length' "$T/out")" 30
cpus=$(nproc)
jq --arg c "$cpus" '.lcore_cpu = {"0": ($c | tonumber)}' "$T/lc30.json" > "$T/lcbad.json"
run x --check "$T/lcbad.json"
eq "lcore 0 on CPU $cpus (not allowed): refused" "$rc" 2
check "... naming lcore_cpu.0 and CPU $cpus" grep -q "^lcore_cpu.0: CPU $cpus (for main_lcore, lcore 0) is not one" "$T/err"

# tx from two worker lcores to a device with one tx queue (net_pcap, rx_pcap= only): the
# default (one per worker) was cut to the device's one, and the message said to leave
# tx_queues out, which it was. Now it says to send from fewer lcores.
cat > "$T/txq.json" <<JSON
{ "instance": "$(inst txq)", "lcore_cpu": { "2": 1 },
  "ports": [ { "name": "out", "vdev": "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" } ],
  "graphs": [ { "lcores": [1, 2], "pipeline": "gen count=10 | tx port=out" } ] }
JSON
run x -q --duration 0.5 "$T/txq.json"
eq "tx from 2 lcores to a 1-queue device: refused" "$rc" 2
check "... saying to send from at most 1 worker lcore" \
	grep -q "port: \"out\"'s device has 1 tx queue, and this worker lcore needs queue 1 of its own: send to it from at most 1 worker lcore" "$T/err"

# A capture that is not there, a folder to write one in that is not: --check says so, with
# the file and why (it passed, and the start said DPDK "could not create" the device:
# "Operation not permitted"). Paths relative to the config's folder.
cat > "$T/pcapfiles.json" <<JSON
{ "instance": "$(inst pcapf)",
  "ports": [ { "name": "a", "vdev": "net_pcap0,rx_pcap=missing.pcap" },
             { "name": "b", "vdev": "net_pcap1,rx_pcap=$SRCDIR/config/sample.pcap,tx_pcap=$T/nodir/o.pcap" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=a | tx port=b" },
              { "lcores": [1], "pipeline": "rx port=a | bogus" } ] }
JSON
run x --check "$T/pcapfiles.json"
eq "--check: a missing rx_pcap and a tx_pcap folder that is not there: refused" "$rc" 2
# ... and the same run says what is wrong with the graphs (it stopped at the files)
check "... and the bad pipeline beside them" \
	grep -q '^graphs\[1\]\.pipeline: col 13: unknown filter "bogus"' "$T/err"
check "... the capture named, with why" \
	grep -q "^ports\[0\].vdev: rx_pcap=$T/missing.pcap: No such file or directory" "$T/err"
check "... the folder named, with why" \
	grep -q "^ports\[1\].vdev: tx_pcap: cannot write in $T/nodir: No such file or directory" "$T/err"
# A tx_pcap file that is there is written as it is: its folder need not be writable
# (/dev/null as nobody was refused: "cannot write in /dev").
if [ "$(id -u)" -eq 0 ]; then
	set +e
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$BELTLINED" --check \
		--port "in=net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap,tx_pcap=/dev/null" \
		--pipeline "rx port=in | drop" > "$T/out" 2> "$T/err"
	rc=$?; set -e
	eq "--check as nobody: tx_pcap=/dev/null passes ($(head -c 200 "$T/err"))" "$rc" 0
fi
# A JSON graph's node has no column: its error names the node ("col 0" said nothing).
cat > "$T/jg.json" <<JSON
{ "instance": "$(inst jg)", "ports": [ { "name": "a", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "graph": { "nodes": [ { "name": "g", "filter": "gen", "args": { "size": "5" } },
    { "name": "d", "filter": "drop" } ], "edges": [ { "from": "g", "to": "d" } ] } } ] }
JSON
run x --check "$T/jg.json"
eq "--check: a JSON graph's bad argument: refused" "$rc" 2
check "... naming the node, no col 0 ($(head -c 200 "$T/err"))" \
	grep -q '^graphs\[0\]\.graph: g: size: must be an integer 42..9000, got "5"$' "$T/err"
finish
