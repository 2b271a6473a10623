#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Soak (issue 15, point 9): beltlined runs for MINUTES with traffic from `gen`
# into three exported streams (srp, mrp, frp) while readers attach, read for a
# random time and are SIGKILLed, SIGTERMed or exit on their own. Every
# INTERVAL seconds it samples beltlined's resident memory, open descriptors,
# mbufs in use and the streams' drop counters; at the end it prints a table
# (first, last, max) and fails if memory, descriptors or mbufs grew, or if a
# packet is missing from every counter. Not in CI: tests/soak/README.md.
#   tests/soak/soak.sh [MINUTES]         default 60
#   env: BUILD (build), INTERVAL (10 s), READERS (6 at once), RATE (20000 pps),
#        OUT (a temporary folder, kept on failure), RSS_SLACK_KB (512),
#        MBUF_SLACK (256)
# Phases that need what has not landed yet (clients that write and give
# verdicts, reloads: SIGHUP every minute) run only when the build has them,
# and the output says which ran.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
minutes=${1:-60}
build=${BUILD:-$top/build}
interval=${INTERVAL:-10}
n_readers=${READERS:-6}
rate=${RATE:-20000}
rss_slack=${RSS_SLACK_KB:-512}
mbuf_slack=${MBUF_SLACK:-256}
BELTLINED=$build/app/beltlined
BELTLINE=$build/app/beltline/beltline
case $minutes in ''|*[!0-9.]*) echo "usage: $0 [MINUTES]" >&2; exit 2 ;; esac
for t in "$BELTLINED" "$BELTLINE"; do
	[ -x "$t" ] || { echo "soak: $t is missing: build first (ninja -C build)" >&2; exit 2; }
done
command -v jq > /dev/null || { echo "soak: needs jq" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || export BELTLINE_RUN_DIR=${BELTLINE_RUN_DIR:-${XDG_RUNTIME_DIR:-/tmp}/beltline}

total_s=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
warm_s=$(( total_s / 10 < 60 ? total_s / 10 : 60 ))   # readers run, nothing measured yet
[ "$warm_s" -ge 5 ] || warm_s=5
main_s=$(( total_s - warm_s ))
[ "$main_s" -ge "$interval" ] || { echo "soak: at least $(( (warm_s + interval) )) s, please" >&2; exit 2; }

I=soak$$
export BELTLINE_INSTANCE=$I
T=${OUT:-$(mktemp -d /tmp/blsoak.XXXXXX)}
mkdir -p "$T/readers"
SIZE=128                                    # every record of a reader's pcap: 16 + SIZE bytes
STREAMS=(s_srp s_mrp s_frp)

# One gen, shared by the three pipelines (same arguments): each export sees
# every generated packet, so generated = in = written + dropped + copy_nombuf.
cat > "$T/soak.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "sink", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "gen rate=$rate size=$SIZE | export name=s_srp policy=srp capacity=1024 --name=s_srp",
      "gen rate=$rate size=$SIZE | export name=s_mrp policy=mrp capacity=1024 --name=s_mrp",
      "gen rate=$rate size=$SIZE | export name=s_frp policy=frp capacity=1024 --name=s_frp" ] } ] }
JSON

# ---- optional phases: enabled when the build has the feature ----------------
phase_write=0 phase_verdict=0 phase_reload=0
"$BELTLINE" inject --help > /dev/null 2>&1 && phase_write=1
"$BELTLINE" verdict --help > /dev/null 2>&1 && phase_verdict=1
grep -q SIGHUP <<< "$("$BELTLINED" --help 2>&1)" && phase_reload=1   # reload: SIGHUP, every minute
# A phase whose feature is there but has no body here yet says so: give it one below.
say_phase() {
	if [ "$2" = 0 ]; then echo "soak: phase $1: off ($3)"
	elif [ "$1" = readers ] || [ "$1" = reloads ]; then echo "soak: phase $1: on"
	else echo "soak: phase $1: WARNING: the build has it, soak.sh does not exercise it yet"
	fi
}
echo "soak: $minutes min ($warm_s s warm-up), sampling every $interval s, $n_readers readers, gen $rate pps, output in $T"
say_phase readers 1 ""
say_phase writers $phase_write "\`beltline inject --help\` fails: not in this build"
say_phase verdicts $phase_verdict "\`beltline verdict --help\` fails: not in this build"
say_phase reloads $phase_reload "beltlined --help names no SIGHUP reload: not in this build"

# ---- beltlined ------------------------------------------------------------------
"$BELTLINED" -q "$T/soak.json" > "$T/final.json" 2> "$T/beltlined.err" &
BPID=$!
pids_file=$T/readers.pids
: > "$pids_file"
stop_all() {
	[ -n "${SPAWNER:-}" ] && kill "$SPAWNER" 2> /dev/null || true
	[ -n "${RELOADER:-}" ] && kill "$RELOADER" 2> /dev/null || true
	while read -r p; do kill -KILL "$p" 2> /dev/null || true; done < "$pids_file"
	kill -INT "$BPID" 2> /dev/null || true
}
trap 'stop_all' EXIT
for _ in $(seq 400); do
	"$BELTLINE" ls > /dev/null 2>&1 && break
	kill -0 "$BPID" 2> /dev/null || { cat "$T/beltlined.err" >&2; exit 1; }
	sleep 0.05
done

# ---- readers: each attaches, reads for 1-20 s, then dies one of three ways ------
# Policies: what each stream takes (a reader may be looser than its stream).
reader() {   # $1 stream, $2 policy, $3 id
	local life=$(( RANDOM % 20 + 1 )) how=$(( RANDOM % 4 )) f=$T/readers/$3
	if [ "$how" = 3 ]; then   # stalls: nobody reads its pipe, so an srp stream drops (counted)
		# shellcheck disable=SC2216  # sleep reads nothing: that is the stall
		"$BELTLINE" cat "$1" -p "$2" 2> "$f.err" | sleep "$life" &
		echo $! >> "$pids_file"
		echo "$1 $2 stall $life $!" > "$f.how"
	elif [ "$how" = 2 ]; then   # exits on its own after a count: its pcap must hold exactly that
		local n=$(( (RANDOM % 50 + 1) * 100 ))
		"$BELTLINE" cat "$1" -p "$2" -c "$n" > "$f.pcap" 2> "$f.err" &
		echo $! >> "$pids_file"
		echo "$1 $2 count $n $!" > "$f.how"
	else
		"$BELTLINE" cat "$1" -p "$2" > /dev/null 2> "$f.err" &
		local p=$!
		echo "$p" >> "$pids_file"
		echo "$1 $2 $([ "$how" = 0 ] && echo kill || echo term) $life $p" > "$f.how"
		( sleep "$life"; kill "-$([ "$how" = 0 ] && echo KILL || echo TERM)" "$p" 2> /dev/null ) &
		echo $! >> "$pids_file"
	fi
}
spawner() {
	local id=0
	while :; do
		local running
		running=$(jobs -rp | wc -l)
		if [ "$running" -lt $(( n_readers * 2 )) ]; then
			local s=${STREAMS[$(( RANDOM % 3 ))]} p
			case $s in
			s_srp) p=$(echo srp mrp frp | tr ' ' '\n' | shuf -n 1) ;;
			s_mrp) p=$(echo mrp frp | tr ' ' '\n' | shuf -n 1) ;;
			*) p=frp ;;
			esac
			id=$(( id + 1 ))
			reader "$s" "$p" "$id"
		fi
		sleep "0.$(( RANDOM % 9 + 1 ))"
	done
}
stop_readers() {   # stop the spawner and every reader, then wait until none is attached
	kill "$SPAWNER" 2> /dev/null || true
	wait "$SPAWNER" 2> /dev/null || true
	SPAWNER=
	while read -r p; do   # a reader still running now was cut short by us, not by a loss
		kill -0 "$p" 2> /dev/null && echo "$p" >> "$T/cut.pids"
		kill -KILL "$p" 2> /dev/null || true
	done < "$pids_file"
	: > "$pids_file"
	for _ in $(seq 200); do
		[ "$("$BELTLINE" stats --json 2> /dev/null | jq '[.streams[].n_readers] | add')" = 0 ] && break
		sleep 0.1
	done
	sleep 1
}

# ---- samples ---------------------------------------------------------------------
# t rss_kb fds mbufs_in_use readers dropped(srp,mrp) overwritten(frp) reader_lost alloc_fail
sample() {
	local rss fds js
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$BPID/status")
	fds=$(ls "/proc/$BPID/fd" | wc -l)
	js=$("$BELTLINE" stats --json) || { echo "soak: beltline stats failed" >&2; return 1; }
	jq -r --arg t "$1" --arg rss "$rss" --arg fds "$fds" '[ $t, $rss, $fds,
		.mbufs.in_use, ([.streams[].n_readers] | add),
		([.streams[] | select(.policy != "frp") | .dropped] | add),
		([.streams[] | select(.policy == "frp") | .overwritten] | add),
		([.streams[].readers[].lost] | add // 0),
		([.filters[] | select(.filter == "gen") | .counters.alloc_fail] | add) ] | @tsv' <<< "$js"
}

spawner 2> /dev/null & SPAWNER=$!
echo "soak: warm-up, $warm_s s"
sleep "$warm_s"
stop_readers
echo "t_s	rss_kb	fds	mbufs	readers	dropped	overwritten	lost	alloc_fail" > "$T/samples.tsv"
sample 0 > "$T/quiet0.tsv"
cat "$T/quiet0.tsv" >> "$T/samples.tsv"
spawner 2> /dev/null & SPAWNER=$!
RELOADER=
if [ "$phase_reload" = 1 ]; then   # stopped by stop_all (trap) or below
	( while sleep 60; do kill -HUP "$BPID"; done ) & RELOADER=$!
fi
t0=$(date +%s)
while :; do
	sleep "$interval"
	now=$(( $(date +%s) - t0 ))
	kill -0 "$BPID" 2> /dev/null || { echo "soak: beltlined died" >&2; tail "$T/beltlined.err" >&2; exit 1; }
	sample "$now" >> "$T/samples.tsv"
	[ "$now" -ge "$main_s" ] && break
done
[ -z "$RELOADER" ] || kill "$RELOADER" 2> /dev/null || true
stop_readers
sample "$(( $(date +%s) - t0 ))" > "$T/quiet1.tsv"
cat "$T/quiet1.tsv" >> "$T/samples.tsv"
kill -INT "$BPID"
wait "$BPID" && bst=0 || bst=$?
trap - EXIT

# ---- verdicts ----------------------------------------------------------------------
fails=0
fail() { echo "soak: FAIL: $*"; fails=$((fails + 1)); }
col() { cut -f"$1" "$2"; }
q0=$T/quiet0.tsv q1=$T/quiet1.tsv
echo
echo "soak: $(( $(wc -l < "$T/samples.tsv") - 1 )) samples; first and last taken with no reader attached"
printf '%-22s %12s %12s %12s %8s  %s\n' "" first last max bound verdict
row() {   # name column slack
	local a b m v
	a=$(col "$2" "$q0"); b=$(col "$2" "$q1")
	m=$(tail -n +2 "$T/samples.tsv" | cut -f"$2" | sort -n | tail -1)
	if [ $(( b - a )) -le "$3" ]; then v=flat; else v=GROWS; fail "$1 grew from $a to $b (bound +$3)"; fi
	printf '%-22s %12s %12s %12s %8s  %s\n' "$1" "$a" "$b" "$m" "+$3" "$v"
}
row "resident memory (KB)" 2 "$rss_slack"
row "descriptors" 3 0
row "mbufs in use" 4 "$mbuf_slack"
printf '%-22s %12s %12s %12s\n' "readers attached" "$(col 5 "$q0")" "$(col 5 "$q1")" \
	"$(tail -n +2 "$T/samples.tsv" | cut -f5 | sort -n | tail -1)"
counted() {   # name column: counters, shown; that they are counters is the point
	printf '%-22s %12s %12s %12s %8s  %s\n' "$1" "$(col "$2" "$q0")" "$(col "$2" "$q1")" \
		"$(tail -n +2 "$T/samples.tsv" | cut -f"$2" | sort -n | tail -1)" "" counted
}
counted "dropped (srp, mrp)" 6
counted "overwritten (frp)" 7
counted "readers' lost (now)" 8
counted "gen alloc_fail" 9

# Every packet accounted for, from the final report (the worker has stopped: the counters agree).
[ "$bst" = 0 ] || fail "beltlined exited $bst (1: an mbuf leak at exit): $(tail -n 3 "$T/beltlined.err")"
if jq -e '.graphs' "$T/final.json" > /dev/null 2>&1; then
	echo
	printf '%-8s %12s %12s %12s %12s %12s  %s\n' stream generated in written dropped overwritten accounted
	gen=$(jq '[.graphs[].filters[] | select(.filter == "gen") | .counters.generated] | add' "$T/final.json")
	while read -r name in written dropped over nombuf; do
		v=yes
		if [ "$in" != "$gen" ] || [ "$in" != $(( written + dropped + nombuf )) ]; then
			v=NO; fail "stream $name: generated $gen, in $in, written $written + dropped $dropped + copy_nombuf $nombuf"
		fi
		printf '%-8s %12s %12s %12s %12s %12s  %s\n' "$name" "$gen" "$in" "$written" "$dropped" "$over" "$v"
	done < <(jq -r '.graphs[].filters | to_entries[] | select(.value.filter == "export") |
		[.key, .value.in, .value.counters.written, .value.counters.dropped,
		 .value.counters.overwritten, .value.counters.copy_nombuf] | @tsv' "$T/final.json")
	leaked=$(jq '.mbufs.leaked' "$T/final.json")
	[ "$leaked" = 0 ] || fail "beltlined reports $leaked mbufs leaked at exit"
	echo "mbufs leaked at exit: $leaked"
else
	fail "no final report from beltlined"
fi

# Readers that stopped on their own after N packets: their pcap holds exactly N.
n_count=0 n_kill=0 n_term=0 n_stall=0
for h in "$T"/readers/*.how; do
	[ -e "$h" ] || continue
	read -r s p how n pid < "$h"
	case $how in
	kill) n_kill=$((n_kill + 1)) ;;
	term) n_term=$((n_term + 1)) ;;
	stall) n_stall=$((n_stall + 1)) ;;
	count)
		f=${h%.how}.pcap
		sz=$(stat -c %s "$f")
		# stop_readers cut it short: only the readers that finished count.
		grep -qx "$pid" "$T/cut.pids" 2> /dev/null && continue
		n_count=$((n_count + 1))
		[ "$sz" = $(( 24 + n * (16 + SIZE) )) ] ||
			fail "reader $(basename "${h%.how}") ($s, $p, -c $n): pcap of $sz bytes, want $(( 24 + n * (16 + SIZE) ))"
		;;
	esac
done
echo "readers: $n_kill SIGKILLed, $n_term SIGTERMed, $n_stall stalled (their pipe unread, then closed), $n_count exited after their count (pcap sizes checked)"
echo "phases: readers on; writers $([ $phase_write = 1 ] && echo on || echo off); verdicts $([ $phase_verdict = 1 ] && echo on || echo off); reloads $([ $phase_reload = 1 ] && echo on || echo off)"
if [ "$fails" -gt 0 ]; then
	echo "soak: $fails failed (samples and logs in $T)"
	exit 1
fi
echo "soak: flat, every drop counted"
[ -n "${OUT:-}" ] || rm -rf "$T"
