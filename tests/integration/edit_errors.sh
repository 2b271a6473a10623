#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Errors after a live edit (the control socket's `edit`, what beltline mount's mkdir
# sends) name the pipeline text that runs: an edited graph whose "pipeline" was an
# array in the file runs as one reprinted text, so a refusal says "graphs[0].pipeline:
# col N", N a column of that text (before, the file's array elements were laid over
# the new text: "graphs[0].pipeline[1]: col 7", an element and column that hold no
# such filter). Refusals of the request itself (no filter in the text, a source, a
# "graphs[0N]") are said in the words of the request, not of the regenerated text.
. "$(dirname "$0")/lib.sh"

I=$(inst edite)
export BELTLINE_INSTANCE=$I
cat > "$T/c.json" <<JSON
{ "instance": "$I", "idle_sleep_us": 100,
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "gen rate=100 | count --name=c0 | drop",
                                             "gen rate=100 --name=g2 | count --name=c1 | drop" ] } ] }
JSON
"$BELTLINED" --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/err"

# edit JSON: the reply of one edit request, "STATUS REPLY-JSON"
edit() {
	python3 - "$1" <<'PY'
import json, os, socket, struct, sys
HDR, OP_EDIT, MORE = '=IHHIiII', 18, 0x8000
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(os.environ.get('BELTLINE_RUN_DIR', '/run/beltline') + '/' + os.environ['BELTLINE_INSTANCE'] + '/ctl')
s.settimeout(60)
b = sys.argv[1].encode()
s.send(struct.pack(HDR, 0x314c5442, 1, OP_EDIT, 1, 0, 0, len(b)) + b)
data = b''
while True:
    m = s.recv(70000)
    _, _, rop, _, st, _, ln = struct.unpack(HDR, m[:24])
    data += m[24:24 + ln]
    if not rop & MORE:
        break
print(st, data.decode())
PY
}

# refused WHAT REPLY RUNNING: REPLY refuses the bad bpf the edit added, at a column of
# the edited text: "graphs[0].pipeline: col N", N past the RUNNING text (an edit appends
# a statement "PARENT | FILTER" to it), never an element of the file's array.
refused() {
	local col
	echo "  $2"
	col=$(sed -n 's/.*"graphs\[0\]\.pipeline: col \([0-9]*\): bpf: .*/\1/p' <<< "$2")
	check "$1: refused, at a column of the edited text (col ${col:-none} > ${#3})" \
		test "${col:-0}" -gt "${#3}"
}
bad='{"graph": "graphs[0]", "parent": "c1", "add": "bpf \"udp prt 2\""}'

refused "a bad bpf after c1" "$(edit "$bad")" \
	"gen rate=100 | count --name=c0 | drop; gen rate=100 --name=g2 | count --name=c1 | drop"

r=$(edit '{"graph": "graphs[0]", "parent": "c0", "add": "count --name=x"}')
echo "  $r"
eq "an edit: done" "${r%% *}" 0
refused "after it, a bad bpf after c1" "$(edit "$bad")" "$(jq -r .pipeline <<< "${r#* }")"

# refused_as WHAT PATTERN REQUEST: -EINVAL, the reply says PATTERN (grep -E) and no column
# of regenerated text ("col N"), nor a name the user did not write.
refused_as() {
	local r
	r=$(edit "$3")
	echo "  $r"
	check "$1: -EINVAL, in the request's words" \
		test "${r%% *}" = -22 -a "$(grep -cE -- "$2" <<< "$r")" = 1 -a "$(grep -c 'col [0-9]' <<< "$r")" = 0
}
edits0=$("$BELTLINE" stats --json | jq '.reload.live_edits')
refused_as "empty text" 'graphs\[0\]: new filter \\"\\": names no filter' \
	'{"graph": "graphs[0]", "parent": "c0", "add": ""}'
refused_as "blank text" 'names no filter' '{"graph": "graphs[0]", "parent": "c0", "add": "   "}'
refused_as "a source after c0" 'graphs\[0\]: new filter \\"gen rate=5\\": is a source: nothing can feed it' \
	'{"graph": "graphs[0]", "parent": "c0", "add": "gen rate=5"}'
# (graphs[00] was edited as graphs[0], and the reply echoed "graphs[00]")
for gr in 00 01; do
	refused_as "a graph with a leading zero (graphs[$gr])" \
		"edit: .*graph.* is .*graphs\\[N\\].*not .*graphs\\[$gr\\]" \
		"{\"graph\": \"graphs[$gr]\", \"parent\": \"c0\", \"add\": \"count --name=z\"}"
done
eq "... none of them changed the running graphs" "$("$BELTLINE" stats --json | jq '.reload.live_edits')" "$edits0"

# "tap." names are the taps' (docs/taps.md): an edit may not export one.
r=$(edit '{"graph": "graphs[0]", "parent": "c0", "add": "export name=tap.9"}')
echo "  $r"
check "an edit exporting a tap. name: refused, the key and the rule named" \
	test "${r%% *}" = -22 -a "$(grep -c 'name: \\"tap.9\\": names beginning \\"tap.\\" belong to taps' <<< "$r")" = 1

kill -INT "$PID"
wait "$PID"; rc=$?
eq "exit status" "$rc" 0
finish
