#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# beltline mount's mkdir and rmdir (docs/taps.md): a filter added to the running graph
# under traffic counts what its parent passes, and the parent's counters run on (not
# reset: it keeps its instance); a label after the parent's name, %2F for "/", rmdir by
# name and by the text mkdir was given; refusals (bad text, a bad bpf expression, a
# filter that feeds others, a source, the top, a user who may not reload) come back as
# mkdir's and rmdir's errno with the reason in the appliance's log, and change nothing;
# a reload from the file drops the edits and says so. Shell commands and `beltline
# stats` only.
. "$(dirname "$0")/lib.sh"

need_fuse

I=$(inst medit)
export BELTLINE_INSTANCE=$I
cat > "$T/c.json" <<JSON
{ "instance": "$I",
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline":
    "gen proto=tcp rate=3000 sport=1000-1999 dport=79-81 | bpf \"tcp\" | dport |80 count --name=web | drop" } ] }
JSON
M=$T/mnt
mkdir "$M"
N=""   # a second mount, of a user who may not reload
"$BELTLINED" --stats-interval 0 "$T/c.json" > "$T/final.json" 2> "$T/err" &
PID=$!
cleanup() {
	fusermount3 -u "$M" 2> /dev/null || true
	[ -z "$N" ] || { fusermount3 -u "$N/m" 2> /dev/null || true; rm -rf "$N"; }
	kill -INT "$PID" 2> /dev/null && wait "$PID" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
wait_for 60 test -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl"
stats() { "$BELTLINE" stats --json > "$T/st.json"; }
# f NAME FIELD: a filter's counter (replica 0; absent: -1)
f() { jq "[.filters[] | select(.graph == \"graphs[0].0\" and .name == \"$1\") | .$2] | first // -1" "$T/st.json"; }
n_filters() { jq '[.filters[] | select(.graph == "graphs[0].0")] | length' "$T/st.json"; }
counts() { stats; [ "$(f "$1" in)" -gt "$2" ]; }
wait_for 60 counts bpf 300

"$BELTLINE" mount "$M"
check "mount: the graph is there" test -d "$M/gen/bpf/dport/web"

# mkdir: a count after bpf. bpf and web keep their instances: their counters go on, and
# a tap on bpf (3 s of its packets) goes on through the edit.
timeout 120 "$BELTLINE" tap -c 9000 bpf > "$T/tap.pcap" 2> "$T/tap.err" &
TAP=$!
tapped() { grep -q 'tap\.' <<< "$("$BELTLINE" ls)"; }
wait_for 60 tapped
stats; b0=$(f bpf in); w0=$(f web in)
check "mkdir gen/bpf/count" mkdir "$M/gen/bpf/count"
stats; b1=$(f bpf in); w1=$(f web in)
check "bpf's counters ran on through the edit ($b0 -> $b1)" test "$b1" -ge "$b0"
check "web's too ($w0 -> $w1)" test "$w1" -ge "$w0"
rc=0; wait "$TAP" || rc=$?
eq "the tap on bpf went on through the edit (exit)" "$rc" 0
check "... to its 9000 packets ($(stat -c %s "$T/tap.pcap") bytes)" test "$(stat -c %s "$T/tap.pcap")" -ge $((24 + 9000 * (16 + 54)))
check "... and did not end early" test "$(grep -c 'ends: the new config' "$T/err" || true)" = 0
check "the new directory is there" test -d "$M/gen/bpf/count"
check "... with its all and stats" test -f "$M/gen/bpf/count/stats"
check "the new count counts what bpf passes" wait_for 30 counts count 100
eq "... its stats file is its counters" "$(jq -r .name "$M/gen/bpf/count/stats")" count
check "the log says what changed" grep -q 'graphs\[0\] edited live: filter "count" (count) added after "bpf"' "$T/err"

# A label after the parent's name; the name taken is the next free one (count2).
check "mkdir gen/bpf/'dport |81'/count" mkdir "$M/gen/bpf/dport |81/count"
check "... listed under its name, count2" test -d "$M/gen/bpf/dport/count2"
check "... and reached by the path mkdir was given" test -d "$M/gen/bpf/dport |81/count"
check "count2 gets class 81" wait_for 30 counts count2 50
stats
eq "... and only class 81 (dport's edge to it)" \
	"$(jq -c '[.edges[] | select(.graph == "graphs[0].0" and .from == "dport" and .to == "count2") | .classes | keys[]]' "$T/st.json")" '["81"]'

# %2F in a name is a "/"; rmdir by the text mkdir was given.
check "mkdir a bpf whose expression holds a / (%2F)" mkdir "$M/gen/bpf/bpf \"net 10.0.0.0%2F8\""
check "... listed as bpf2" test -d "$M/gen/bpf/bpf2"
check "... its expression as written" grep -q 'filter "bpf2" (bpf "net 10.0.0.0/8") added' "$T/err"
check "rmdir by the text it was made with" rmdir "$M/gen/bpf/bpf \"net 10.0.0.0%2F8\""
check "... gone" test ! -e "$M/gen/bpf/bpf2"

# Refusals: the errno, the reason in the log, nothing changed.
stats; nf=$(n_filters); e0=$(jq .reload.epoch "$T/st.json")
refused() {   # refused WHAT ERRNO-TEXT LOG-PATTERN COMMAND...
	local what=$1 want=$2 pat=$3 rc=0
	shift 3
	"$@" 2> "$T/m.err" || rc=$?
	if [ "$rc" = 0 ]; then bad "$what: it went through"; return; fi
	if grep -q -- "$want" "$T/m.err"; then ok "$what: $want"
	else bad "$what: said $(cat "$T/m.err"), want $want"; fi
	if [ -z "$pat" ] || grep -qF -- "$pat" "$T/err"; then ok "$what: logged"
	else bad "$what: no '$pat' in the log: $(tail -3 "$T/err")"; fi
}
refused "an unknown filter" "Invalid argument" 'unknown filter "cuont"' mkdir "$M/gen/bpf/cuont"
refused "a bad bpf expression" "Invalid argument" 'edit refused' mkdir "$M/gen/bpf/bpf \"tcp port\""
refused "two filters at once" "Invalid argument" 'one filter (its name and arguments)' mkdir "$M/gen/bpf/count | count"
refused "a bad %" "Invalid argument" '' mkdir "$M/gen/bpf/bpf \"net 10.0.0.0%2\""
refused "after a sink" "Invalid argument" 'is a sink' mkdir "$M/gen/bpf/dport/web/drop/count"
refused "a name the graph has" "File exists" 'names a filter the graph has already' mkdir "$M/gen/bpf/count --name=count"
refused "a filter the parent feeds already" "File exists" '"gen" feeds a filter "bpf' mkdir "$M/gen/bpf \"tcp\""
refused "rmdir of a filter that feeds others" "Directory not empty" '"dport" feeds ' rmdir "$M/gen/bpf/dport"
refused "rmdir of a source" "Permission denied" '"gen" is a source' rmdir "$M/gen"
refused "mkdir at the top" "Permission denied" '' mkdir "$M/count"
refused "a parent that is not there" "No such file" '' mkdir "$M/gen/nosuch/count"
stats
eq "nothing changed: the filters" "$(n_filters)" "$nf"
eq "nothing changed: no reload went through" "$(jq .reload.epoch "$T/st.json")" "$e0"
check "bpf's children as they were" test -d "$M/gen/bpf/count" -a -d "$M/gen/bpf/dport/count2"

# Only who may reload may edit (root and the appliance's own user): nobody may not.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	N=$(mktemp -d /tmp/bl-medit.XXXXXX)
	chmod 755 "$N"
	mkdir "$N/m"
	chown nobody "$N/m"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	as_nobody "$BELTLINE" mount "$N/m"
	check "nobody's mount shows the graph" as_nobody test -d "$N/m/gen/bpf/count"
	refused "mkdir by a user who may not reload" "Permission denied" \
		'edit refused: uid 65534 (pid' as_nobody mkdir "$N/m/gen/bpf/dport/count"
	refused "rmdir by a user who may not reload" "Permission denied" '' as_nobody rmdir "$N/m/gen/bpf/count"
	fusermount3 -u "$N/m"
	check "... nothing changed" test -d "$M/gen/bpf/count"
fi

# rmdir: count goes; bpf's counters run on.
stats; b0=$(f bpf in)
check "rmdir gen/bpf/count" rmdir "$M/gen/bpf/count"
stats; b1=$(f bpf in)
check "... gone from the graph" test "$(f count in)" = -1
check "... and from the mount" test ! -e "$M/gen/bpf/count"
check "bpf's counters ran on through the rmdir ($b0 -> $b1)" test "$b1" -ge "$b0"
check "the log says so" grep -q 'filter "count" removed after "bpf"' "$T/err"

# A reload from the file drops what the mount changed, and says so.
eq "stats count the live edits" "$(jq .reload.live_edits "$T/st.json")" 5
w0=$(f web in)
"$BELTLINE" reload > /dev/null
stats
check "reload from the file: count2 is gone" test "$(f count2 in)" = -1
eq "... the running config is the file's" "$(jq .reload.live_edits "$T/st.json")" 0
check "... web kept its counters" test "$(f web in)" -ge "$w0"
check "... the log says the edits are gone" grep -q 'replaces the running config and its 5 live edits' "$T/err"

# The text a mkdir was given names its filter as long as that filter lives, no longer: the
# reload dropped it, and the name it had goes to the next mkdir. The old text named that
# one too (its `all` gave another filter's packets) and could not be made again (EEXIST).
check "mkdir gen/bpf/'bpf \"udp\"'" mkdir "$M/gen/bpf/bpf \"udp\""
check "... listed as bpf2" test -d "$M/gen/bpf/bpf2"
"$BELTLINE" reload > /dev/null
check "after a reload, mkdir gen/bpf/'bpf \"tcp port 80\"'" mkdir "$M/gen/bpf/bpf \"tcp port 80\""
check "... listed as bpf2 (the name is free again)" test -d "$M/gen/bpf/bpf2"
check "the text of the bpf2 the reload dropped names nothing" test ! -e "$M/gen/bpf/bpf \"udp\""
check "... and may be made again" mkdir "$M/gen/bpf/bpf \"udp\""
eq "... and names what it made" "$(jq -r .name "$M/gen/bpf/bpf \"udp\"/stats")" bpf3

# Two graphs whose sources have one name: the root lists each as graphs[N]:NAME (the
# first was the only one reachable, the second's filters nowhere).
jq '.graphs += [ { "lcores": [1], "pipeline": "gen rate=100 | count --name=other | drop" } ]' \
	"$T/c.json" > "$T/c2.json"
"$BELTLINE" reload "$T/c2.json" > /dev/null
stats
lists() { ls "$M" > "$T/root.ls"; grep -qx 'graphs\[1\]:gen' "$T/root.ls"; }
check "a second graph from gen: the root lists it as graphs[1]:gen" wait_for "$WAIT" lists
check "... and the first as graphs[0]:gen ($(tr '\n' ' ' < "$T/root.ls"))" grep -qx 'graphs\[0\]:gen' "$T/root.ls"
check "... the second graph's filter is reachable" test -d "$M/graphs[1]:gen/other"
check "... and the first's" test -d "$M/graphs[0]:gen/bpf"
check "... the bare name still reaches the first" test -d "$M/gen/bpf"
# A filter named like a directory's files could not be entered: refused.
refused "mkdir with --name=all" "Invalid argument" '' mkdir "$M/graphs[0]:gen/bpf/count --name=all"
fusermount3 -u "$M"

kill -INT "$PID"
wait "$PID" || true
eq "no mbuf leaked" "$(jq .mbufs.leaked "$T/final.json")" 0
finish
