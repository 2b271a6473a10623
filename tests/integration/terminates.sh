#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every command-line and config path terminates (issue 15 point 4): --check on a
# FIFO refuses at once instead of waiting for a writer; a config over 4 MiB is
# refused; NaN, infinities, negatives and huge values for the numeric flags are
# refused naming the flag; and pathological configs up to 4 MiB (a pipeline
# whose "|" would make a million edges, deep nesting, long chains, many graphs,
# huge strings, many labels and keys) are checked in little CPU time.
#
# Every beltlined runs under `timeout`, so a hang shows as a failure (status 124).
# Times: CPU seconds (user + sys) are asserted, at most LIMIT (3 s: a second on a
# quiet machine, three on a busy one); wall time is printed beside them only.
. "$(dirname "$0")/lib.sh"

LIMIT=${LIMIT:-3.0}
TIMEOUT=${TIMEOUT:-120}   # seconds before a run counts as hung
WORST=0 WORST_WHAT= WORST_MS=0
TIMEFORMAT='%3U %3S %3R'
# The sums and comparisons in milliseconds, by the shell (three awks a run were a tenth of
# the test's processes).
LIMIT_MS=$(awk -v l="$LIMIT" 'BEGIN { printf "%d", l * 1000 + 0.5 }')

# run NAME STATUS PATTERN beltlined-args...
run() {
	local name=$1 want=$2 pat=$3; shift 3
	set +e
	{ time timeout "$TIMEOUT" "$BELTLINED" "$@" > "$T/out" 2> "$T/err"; } 2> "$T/time"
	local rc=$?
	set -e
	local u s r cpu ms
	read -r u s r < "$T/time"
	u=${u/[.,]/} s=${s/[.,]/}   # %3U, %3S: seconds with 3 decimals, so milliseconds
	ms=$((10#$u + 10#$s))
	printf -v cpu '%d.%03d' $((ms / 1000)) $((ms % 1000))
	eq "$name: exit status" "$rc" "$want"
	if [ -n "$pat" ]; then
		if grep -qE -- "$pat" "$T/err"; then ok "$name: says \"$pat\""; else
			bad "$name: stderr lacks \"$pat\": $(head -c 300 "$T/err")"; fi
	fi
	check "$name: ${cpu} s CPU (${r} s wall) is under ${LIMIT} s" test "$ms" -lt "$LIMIT_MS"
	if [ "$ms" -gt "$WORST_MS" ]; then
		WORST=$cpu WORST_WHAT=$name WORST_MS=$ms
	fi
}

cat > "$T/ok.json" <<'JSON'
{ "ports": [ { "name": "in", "vdev": "net_null0" }, { "name": "out", "vdev": "net_null1" } ],
  "graphs": [ { "pipeline": "rx port=in | tx port=out", "lcores": [1] } ] }
JSON
run "a good config" 0 '' --check "$T/ok.json"

# --- files that are not configs -------------------------------------------
mkfifo "$T/fifo"
run "a FIFO" 2 '^[^ ]*fifo: not a regular file \(a FIFO\)$' --check "$T/fifo"
run "a FIFO, without --check" 2 'not a regular file \(a FIFO\)' "$T/fifo"
run "a character device" 2 'not a regular file \(a device\)' --check /dev/zero
{ head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' ' '; echo ' {}'; } > "$T/big.json"
run "over 4 MiB" 2 'big.json: 4194308 bytes: a config holds at most 4194304 \(4 MiB\)' --check "$T/big.json"

# --- numeric flags ----------------------------------------------------------
for flag in --duration --exit-idle --stats-interval; do
	for v in nan NaN -nan inf -inf infinity -1 1e400 1e12 '' 1x 0x; do
		run "$flag '$v'" 2 "^beltlined: $flag: must be a number .*, got \"$v\"\$" \
			"$flag" "$v" --check "$T/ok.json"
	done
done
# the client's: beltline top -d/-n (refused before it looks for an appliance)
for v in 0 -1 '' 1x 86401 99999999999999999999; do
	set +e; timeout "$TIMEOUT" "$BELTLINE" -i "$(inst none)" top -d "$v" > "$T/out" 2> "$T/err"
	rc=$?; set -e
	eq "beltline top -d '$v': exit status" "$rc" 2
	check "beltline top -d '$v': says what -d takes" grep -q "^beltline: top: -d wants a number 1..86400, got '$v'" "$T/err"
done
# $BELTLINE_TIMEOUT_MS out of range: said, and the default used
for v in 0 -5 1x 3600001; do
	set +e; BELTLINE_TIMEOUT_MS=$v timeout "$TIMEOUT" "$BELTLINE" cat tcp://127.0.0.1:1 > "$T/out" 2> "$T/err"
	rc=$?; set -e
	eq "BELTLINE_TIMEOUT_MS=$v: beltline cat of a closed port: exit status" "$rc" 1
	check "BELTLINE_TIMEOUT_MS=$v: says what it wants" grep -q "BELTLINE_TIMEOUT_MS: want 1..3600000 (ms), got \"$v\": 10000 ms instead" "$T/err"
done
# beltline inject -w (refused before it opens anything)
for v in -1 '' 1x 3600001 99999999999999999999; do
	set +e; timeout "$TIMEOUT" "$BELTLINE" -i "$(inst none)" inject -w "$v" x /dev/null > "$T/out" 2> "$T/err"
	rc=$?; set -e
	eq "beltline inject -w '$v': exit status" "$rc" 2
	check "beltline inject -w '$v': says what -w takes" grep -q "^beltline: inject: -w wants a number of ms, 0..3600000, got '$v'" "$T/err"
done
run "--duration 0.5" 0 '' --duration 0.5 --check "$T/ok.json"
run "--stats-interval 0" 0 '' --stats-interval 0 --check "$T/ok.json"
run "--exit-idle 200" 0 '' --exit-idle 200 --check "$T/ok.json"

# --- pathological configs up to 4 MiB ---------------------------------------
python3 - "$T" <<'PY'
import json, os, sys
out, MIB = sys.argv[1], 1 << 20
port = [{"name": "in", "vdev": "net_null0"}, {"name": "out", "vdev": "net_null1"}]

def w(name, obj=None, text=None):
    t = text if text is not None else json.dumps(obj, separators=(",", ":"))
    assert len(t) <= 4 * MIB, (name, len(t))
    open(os.path.join(out, name + ".json"), "w").write(t)

def side(n): return "(" + "+".join(["eth"] * n) + ")"
def fill(unit, size, head="", tail=""):
    return head + unit * ((size - len(head) - len(tail)) // len(unit)) + tail
def graph(p): return {"pipeline": p, "lcores": [1]}

prod = side(1023) + "|" + side(1023)          # the config from the issue: 8.2 KB
open(os.path.join(out, "product.txt"), "w").write(prod)
w("product", {"ports": port, "graphs": [graph(prod)]})
w("product16", {"ports": port, "graphs": [graph(prod)] * 16})
w("product_edges", {"ports": port, "graphs": [graph(side(500) + "|" + side(500))]})
w("chain", {"ports": port, "graphs": [graph(fill(" | eth", 8191, "rx port=in"))]})
w("chain70", {"ports": port, "graphs": [graph("rx port=in" + " | eth" * 70)]})
w("parens", {"ports": port, "graphs": [graph(fill("(", 8191, "", "rx port=in"))]})
# 16 graphs must not poll one rx queue (--check builds them): gen is their source.
w("sharing16", {"ports": port, "graphs": [graph(fill("gen size=64 | eth; ", 8191))] * 16})
w("labels16", {"ports": port, "graphs": [graph(fill("gen size=64 |1,2,3,4,5,6,7,8 eth; ", 8191))] * 16})
w("joins16", {"ports": port, "graphs": [graph("gen | " + "|".join([side(30)] * 4))] * 16})
w("strings16", {"ports": port, "graphs": [graph(fill("x", 8191, "rx port=in | bpf \"", "\""))] * 16})
edges = [{"from": "r", "to": "e"}] * 400
g = {"nodes": [{"name": "r", "filter": "gen"}, {"name": "e", "filter": "eth"}],
     "edges": edges}
while len(json.dumps(g, separators=(",", ":"))) > 8191:
    edges.pop()
w("jsongraph16", {"ports": port, "graphs": [{"graph": g, "lcores": [1]}] * 16})
w("jsoninf", {"ports": port, "graphs": [{"graph": {"nodes": [{"name": "r", "filter": "rx",
  "args": {"port": "in"}}, {"name": "e", "filter": "eth"}], "edges": [{"from": "r", "to": "e",
  "label": 1}]}, "lcores": [1]}]})
w("jsondeep", text='{"ports": ' + fill("[", 4 * MIB - 20))
w("dupkeys", text="{" + fill('"burst":32,', 4 * MIB - 20) + '"burst":32}')
half = "".join('"t%07d":1,' % i for i in range(160000))
w("typosdup", text="{" + half + fill('"burst":32,', 4 * MIB - 20 - len(half)) + '"burst":32}')
w("unknownkeys", text="{" + "".join('"k%07d":1,' % i for i in range(320000)) + '"burst":32}')
w("hugestring", {"instance": "x" * (4 * MIB - 100), "ports": port})
w("hugevdev", {"ports": [{"name": "in", "vdev": fill(",a", 4 * MIB - 100, "net_null0")}]})
w("hugevdev_keys", {"ports": [{"name": "in", "vdev": fill(",rx_pcap", 4 * MIB - 100, "net_pcap0")}]})
w("pipearray", {"ports": port, "graphs": [{"pipeline": ["rx port=in"] * 320000, "lcores": [1]}]})
w("manygraphs", text='{"graphs":[' + ",".join(['{}'] * 1300000) + ']}')
w("zeros", text='{"burst":[' + ",".join(['0'] * 2000000) + ']}')
w("lcorecpu", text='{"lcore_cpu":{' + ",".join('"%d":1' % i for i in range(380000)) + '}}')
w("bignumber", text='{"burst":' + "9" * (4 * MIB - 20) + "}")
PY
# 1e999 is a JSON number cJSON reads as infinity: refused wherever numbers go
sed 's/"label":1/"label":1e999/' "$T/jsoninf.json" > "$T/jsoninf_label.json"
sed 's/"port":"in"/"port":1e999/' "$T/jsoninf.json" > "$T/jsoninf_arg.json"
sed 's/"to":"e"/"to":"ee"/' "$T/jsoninf.json" > "$T/jsonbadto.json"

run "8 KB (eth+...)|(eth+...)" 2 '^graphs\[0\]\.pipeline: col 4100: too many filters: a graph.s text makes at most 1024' --check "$T/product.json"
run "the same as --pipeline" 2 '^graphs\[0\]\.pipeline: col 4100: too many filters' --port in=net_null0 --pipeline "$(cat "$T/product.txt")" --check
run "16 graphs of it" 2 '^graphs\[15\]\.pipeline: col 4100: too many filters' --check "$T/product16.json"
run "500 x 500 edges" 2 '^graphs\[0\]\.pipeline: col 2002: too many edges: "\|" joins 500 exits to 500 entries, 250000 edges' --check "$T/product_edges.json"
run "a chain of 1365" 2 'too many filters' --check "$T/chain.json"
run "a chain of 71" 2 '^graphs\[0\]\.pipeline: the graph has 71 filters once common prefixes are shared, at most 64 are allowed$' --check "$T/chain70.json"
run "8 KB of (" 2 'col 65: parentheses nested too deep \(at most 64\)' --check "$T/parens.json"
run "16 graphs sharing 740 filters each" 0 '' --check "$T/sharing16.json"
run "16 graphs of 8-range labels" 0 '' --check "$T/labels16.json"
run "16 graphs of 4 joins of 30 x 30" 0 '' --check "$T/joins16.json"
run "16 graphs of 8 KB strings" 2 'graphs\[15\]\.pipeline: col 14: bpf: expr: ' --check "$T/strings16.json"
run "16 JSON graphs of 300 edges" 0 '' --check "$T/jsongraph16.json"
run "a JSON label of 1e999" 2 '^graphs\[0\]\.graph: numbers must be finite' --check "$T/jsoninf_label.json"
run "a JSON argument of 1e999" 2 '^graphs\[0\]\.graph: numbers must be finite' --check "$T/jsoninf_arg.json"
run "a JSON graph's error names its path" 2 '^graphs\[0\]\.graph\.edges\[0\]\.to: no node named "ee" \(did you mean "e"\?\)$' --check "$T/jsonbadto.json"
run "4 MiB of [" 2 'not valid JSON' --check "$T/jsondeep.json"
run "4 MiB of one key again" 2 '^burst: given twice$' --check "$T/dupkeys.json"
check "4 MiB of one key again: 100 lines, then a count" \
	grep -qE '^beltlined: and [0-9]+ more problems$' "$T/err"
check "4 MiB of one key again: no more than 101 lines" [ "$(wc -l < "$T/err")" -le 101 ]
run "2 MiB of typos, 2 MiB of one key again" 2 '^t0000000: unknown key' --check "$T/typosdup.json"
run "4 MiB of unknown keys" 2 '^k0000000: unknown key' --check "$T/unknownkeys.json"
run "a 4 MiB string" 2 '^instance: must be 1\.\.31 characters' --check "$T/hugestring.json"
run "a 4 MiB vdev" 2 '^ports\[0\]\.vdev: longer than 1023' --check "$T/hugevdev.json"
run "a 4 MiB vdev of path keys" 2 '^ports\[0\]\.vdev: longer than 1023' --check "$T/hugevdev_keys.json"
run "320000 pipeline strings" 2 '^graphs\[0\]\.pipeline: longer than 8191' --check "$T/pipearray.json"
run "1300000 graphs" 2 '^graphs: must be an array of 1\.\.16 graphs' --check "$T/manygraphs.json"
run "2000000 numbers" 2 '^burst: must be an integer' --check "$T/zeros.json"
run "380000 lcore_cpu keys" 2 '^lcore_cpu\.128: the key must be an lcore' --check "$T/lcorecpu.json"
run "a 4 MiB number" 2 '^burst: must be an integer 1\.\.256, got inf' --check "$T/bignumber.json"

echo "worst: $WORST_WHAT, $WORST s CPU"
finish
