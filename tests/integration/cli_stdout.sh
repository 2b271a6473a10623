#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What beltline prints on stdout reaches it, or it says not: `top | head -2` ends
# when head has its lines, with status 0 (it printed into the closed pipe every
# second, for ever); ls, stats, top -n 1 and cat --flows into a full disk (/dev/full)
# exit 1 with one line naming the error (they exited 0, the output lost in silence);
# `stats | head -1` and `cat FILE | head -c 100` still end with status 0.
. "$(dirname "$0")/lib.sh"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst clistdout)
RUN=/run/beltline/$I

cat > "$T/c.json" <<JSON
{ "instance": "$I",
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap,infinite_rx=1" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | flow idle_s=1 active_s=1 export=fl",
      "rx port=in | drop" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
BPID=$!
wait_ctl "$RUN/ctl" "$BPID" "$T/err"

# top into a pipe its reader closes: ends (within 20 s: it naps a second between screens)
"$BELTLINE" -i "$I" top > >(head -n 2 > /dev/null) &
TPID=$!
if wait_for 20 pid_gone "$TPID"; then
	ok "top | head -2: top ends once head has gone"
	wait "$TPID" && st=0 || st=$?
	eq "... with status 0" "$st" 0
else
	bad "top | head -2: top still runs 20 s after head has gone"
	kill "$TPID"
fi

if [ -c /dev/full ]; then
	for cmd in "ls" "stats" "stats --json" "top -n 1" "cat --flows -c 1 fl" "help" "--help" "ls --help"; do
		# shellcheck disable=SC2086
		out=$("$BELTLINE" -i "$I" $cmd 2>&1 > /dev/full) && st=0 || st=$?
		eq "$cmd > /dev/full: exit status" "$st" 1
		check "... one line that says why ($out)" \
			test "$(grep -c 'writing stdout: No space left on device' <<< "$out")" = 1 -a \
			"$(wc -l <<< "$out")" = 1
	done
fi
"$BELTLINE" -i "$I" stats | head -n 1 > /dev/null
eq "stats | head -1: status 0" "${PIPESTATUS[0]}" 0
"$BELTLINE" cat "$SRCDIR/config/sample.pcap" | head -c 100 > /dev/null
eq "cat FILE | head -c 100: status 0" "${PIPESTATUS[0]}" 0
"$BELTLINE" -i "$I" ls > /dev/null
eq "ls > /dev/null: status 0" "$?" 0

kill -TERM "$BPID"
wait_pid "$WAIT" "$BPID" && st=0 || st=$?
eq "beltlined exit status" "$st" 0
finish
