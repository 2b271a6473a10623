#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Soak (issue 15, point 9): beltlined runs for MINUTES with traffic from `gen`
# into three exported streams (srp, mrp, frp) and through a looped port
# (net_ring0: gen | tx, rx | export), while readers attach, read for a random
# time and are SIGKILLed, SIGTERMed or exit on their own, and writers
# (`beltline inject`, the test writer) write into two inject streams and exit,
# are SIGTERMed or SIGKILLed (some while holding every buffer). Every INTERVAL
# seconds it samples beltlined's resident memory (anonymous, file, shmem),
# mappings, open descriptors, mbufs in use and the drop counters; at the end it
# prints a table (first, last, max, the anonymous memory's slope over the
# second half) and fails if memory, descriptors or mbufs grew, or if a packet
# is missing from every counter (port, filter, stream, writer). Not in CI:
# tests/soak/README.md.
#   tests/soak/soak.sh [MINUTES]         default 60
#   env: BUILD (build), INTERVAL (10 s), READERS (6 at once), RATE (20000 pps),
#        OUT (a temporary folder, kept on failure), RSS_SLACK_KB (512),
#        MBUF_SLACK (256), VRATE (2000 pps), VTIMEOUT_US (2000), RELOAD_EVERY (20 s),
#        TOP (the source tree, when run from a copy)
# Verdict clients (examples/ips_syn_drop on a `user` filter) and reloads (three
# configs in turn) run too; a phase whose feature the build lacks is off and
# the output says so.
set -euo pipefail
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}   # TOP: the source tree, when run from a copy
minutes=${1:-60}
build=${BUILD:-$top/build}
interval=${INTERVAL:-10}
n_readers=${READERS:-6}
rate=${RATE:-20000}
rss_slack=${RSS_SLACK_KB:-512}
mbuf_slack=${MBUF_SLACK:-256}
vrate=${VRATE:-2000}                 # pps through the user filter (its own gen)
vtimeout=${VTIMEOUT_US:-2000}        # the user filter's timeout_us: a client stopped longer misses it
reload_every=${RELOAD_EVERY:-20}     # s between two reloads
rl_rate_a=1000 rl_rate_b=1500        # the reload graph's gen: the one argument the configs differ in
VCLIENT=$build/examples/ips_syn_drop # the verdict client: drops TCP SYNs to port VPORT
VPORT=1000
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
mkdir -p "$T/readers" "$T/writers"
SIZE=128                                    # every record of a reader's pcap: 16 + SIZE bytes
STREAMS=(s_srp s_mrp s_frp s_rx)
INJECTS=(w0 w1)
FRAMES=$top/config/sample.pcap                # what writers inject: 1000 frames, at most 1334 bytes
WRITER=$build/tests/integration/writer      # the test writer: takes every buffer, commits half

# One gen, shared by the four pipelines (same arguments): each of them sees
# every generated packet, so generated = in (s_srp, s_mrp, s_frp, tx). The
# port loop is a net_ring0: what tx sends, rx receives (port tx = rx +
# rx_flushed_at_stop). Two inject streams take the writers.
soak_cfg() {   # $1: the reload graph and what else (a: rate A, b: rate B, c: rate A and one more stream)
	local extra
	case $1 in
	a) extra=$(cat <<RL
  , { "lcores": [1], "pipeline": [ "gen rate=$rl_rate_a size=$SIZE --name=rg | export name=s_rl policy=mrp capacity=1024 --name=s_rl" ] }
RL
) ;;
	b) extra=$(cat <<RL
  , { "lcores": [1], "pipeline": [ "gen rate=$rl_rate_b size=$SIZE --name=rg | export name=s_rl policy=mrp capacity=1024 --name=s_rl" ] }
RL
) ;;
	c) extra=$(cat <<RL
  , { "lcores": [1], "pipeline": [ "gen rate=$rl_rate_a size=$SIZE --name=rg | export name=s_rl policy=mrp capacity=1024 --name=s_rl" ] }
  , { "lcores": [1], "pipeline": [ "gen rate=1000 size=$SIZE --name=xg | export name=s_x policy=frp capacity=1024 --name=s_x" ] }
RL
) ;;
	esac
	cat <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" }, "mbufs": { "count": 16383 },
  "ports": [ { "name": "loop", "vdev": "net_ring0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "gen rate=$rate size=$SIZE | export name=s_srp policy=srp capacity=1024 --name=s_srp",
      "gen rate=$rate size=$SIZE | export name=s_mrp policy=mrp capacity=1024 --name=s_mrp",
      "gen rate=$rate size=$SIZE | export name=s_frp policy=frp capacity=1024 --name=s_frp",
      "gen rate=$rate size=$SIZE | tx port=loop --name=tx",
      "rx port=loop --name=rx | export name=s_rx policy=mrp capacity=1024 --name=s_rx",
      "inject name=w0 capacity=64 --name=w0 | export name=s_w0 policy=frp capacity=1024 --name=s_w0",
      "inject name=w1 capacity=1024 --name=w1 | export name=s_w1 policy=frp capacity=1024 --name=s_w1",
      "gen rate=$vrate size=$SIZE proto=tcp dport=1000-1003 --name=vg | user name=v timeout_us=$vtimeout on_timeout=pass max_inflight=256 --name=v | export name=s_v policy=frp capacity=1024 --name=s_v" ] }
$extra ] }
JSON
}
for c in a b c; do soak_cfg $c > "$T/soak-$c.json"; done
cp "$T/soak-a.json" "$T/soak.json"

# ---- optional phases: on when the build has the feature --------------------------
phase_write=0 phase_verdict=0 phase_reload=0
grep -q 'inject NAME FILE' <<< "$("$BELTLINE" --help 2>&1)" && phase_write=1
[ -x "$VCLIENT" ] && phase_verdict=1
grep -q '^  reload ' <<< "$("$BELTLINE" --help 2>&1)" && phase_reload=1
say_phase() {   # name on(0/1) why-off [has-a-body(0/1)]
	if [ "$2" = 0 ]; then echo "soak: phase $1: off ($3)"
	elif [ "${4:-1}" = 1 ]; then echo "soak: phase $1: on"
	else echo "soak: phase $1: WARNING: the build has it, soak.sh does not exercise it yet (HOOK in soak.sh)"
	fi
}
echo "soak: $minutes min ($warm_s s warm-up), sampling every $interval s, $n_readers readers, gen $rate pps, output in $T"
say_phase readers 1 ""
say_phase writers $phase_write "\`beltline --help\` names no inject: not in this build"
say_phase verdicts $phase_verdict "$VCLIENT is missing: not in this build"
say_phase reloads $phase_reload "\`beltline --help\` names no reload: not in this build"

# ---- beltlined ------------------------------------------------------------------
"$BELTLINED" -q "$T/soak.json" > "$T/final.json" 2> "$T/beltlined.err" &
BPID=$!
pids_file=$T/readers.pids
: > "$pids_file"
# A client's pid with its start time: only that process is ever killed by
# pid (a pid freed long ago may be anyone's now, on a shared machine).
track() { echo "$1 $(cut -d' ' -f22 "/proc/$1/stat" 2> /dev/null)" >> "$pids_file"; }
ours() { [ -n "$2" ] && [ "$(cut -d' ' -f22 "/proc/$1/stat" 2> /dev/null)" = "$2" ]; }
stop_all() {
	[ -n "${SPAWNER:-}" ] && kill "$SPAWNER" 2> /dev/null || true
	touch "$T/writers.stop"
	touch "$T/verdicts.stop" "$T/reloads.stop"
	for p in ${WRITERS:-} ${VERDICTS:-} ${RELOADS:-}; do kill "$p" 2> /dev/null || true; done
	while read -r p st; do ! ours "$p" "$st" || kill -KILL "$p" 2> /dev/null || true; done < "$pids_file"
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
		track $!
		echo "$1 $2 stall $life $!" > "$f.how"
	elif [ "$how" = 2 ]; then   # exits on its own after a count: its pcap must hold exactly that
		local n=$(( (RANDOM % 50 + 1) * 100 ))
		"$BELTLINE" cat "$1" -p "$2" -c "$n" > "$f.pcap" 2> "$f.err" &
		track $!
		echo "$1 $2 count $n $!" > "$f.how"
	else
		"$BELTLINE" cat "$1" -p "$2" > /dev/null 2> "$f.err" &
		local p=$!
		track "$p"
		echo "$1 $2 $([ "$how" = 0 ] && echo kill || echo term) $life $p" > "$f.how"
		local st
		st=$(cut -d' ' -f22 "/proc/$p/stat" 2> /dev/null) || st=
		( sleep "$life"; ! ours "$p" "$st" ||
			kill "-$([ "$how" = 0 ] && echo KILL || echo TERM)" "$p" 2> /dev/null ) &
		track $!
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
			s_mrp|s_rx) p=$(echo mrp frp | tr ' ' '\n' | shuf -n 1) ;;
			*) p=frp ;;
			esac
			id=$(( id + 1 ))
			reader "$s" "$p" "$id"
		fi
		sleep "0.$(( RANDOM % 9 + 1 ))"
	done
}
# ---- writers: one at a time per inject stream (the stream takes one writer) ----------
# Each writer ends one of four ways: it writes L loops of FRAMES and exits
# (`beltline inject -v`: it says what it committed), it is SIGTERMed (it stops,
# waits until the appliance read what it committed and says so), SIGKILLed
# mid-write (nobody says what it committed), or it takes every buffer, commits
# half and is SIGKILLed holding them (the test writer). Then the loop waits for
# the appliance to reclaim the lease (its `writers` back to 0) and logs one
# line per writer: the client's count and the appliance's counters of it.
# beltline stats, retried: on a loaded machine a reply may miss the CLI's 2 s
# (each miss is counted in $T/stats.misses and shown; 10 in a row fail the soak).
stats_json() {
	local js
	for _ in $(seq 10); do
		js=$("$BELTLINE" stats --json 2> /dev/null) && { echo "$js"; return 0; }
		echo x >> "$T/stats.misses"
		kill -0 "$BPID" 2> /dev/null || return 1
	done
	return 1
}
inj() {   # $1 stream, $2 jq on its stats object
	stats_json | jq -r --arg n "$1" ".injects[] | select(.name == \$n) | $2"
}
writer_loop() {   # $1 inject stream
	local w=$1 k log=$T/writers/$1.log
	k=0
	[ ! -e "$log" ] || k=$(wc -l < "$log")
	# a line: k how status committed, then the appliance's: writers (0: reclaimed) frames
	# refused writers_total reclaimed
	while [ ! -e "$T/writers.stop" ]; do
		local how=$(( RANDOM % 4 )) f=$T/writers/$1.$k st=0 committed=- p line
		[ "$how" = 3 ] && [ ! -x "$WRITER" ] && how=1
		case $how in
		0)	"$BELTLINE" -v inject "$w" "$FRAMES" -l $(( RANDOM % 3 + 1 )) \
				-r $(( (RANDOM % 8 + 2) * 1000 )) 2> "$f.err" || st=$? ;;
		1|2)	"$BELTLINE" -v inject "$w" "$FRAMES" -l 1000 -r 5000 2> "$f.err" &
			p=$!
			track "$p"
			sleep "$(( RANDOM % 3 )).$(( RANDOM % 9 + 1 ))"
			kill "-$([ "$how" = 1 ] && echo KILL || echo TERM)" "$p" 2> /dev/null || true
			wait "$p" || st=$? ;;
		3)	"$WRITER" "$I" "$w" hold > "$f.out" 2> "$f.err" &
			p=$!
			track "$p"
			for _ in $(seq 300); do grep -q holding "$f.out" && break; sleep 0.1; done
			sleep "0.$(( RANDOM % 9 + 1 ))"
			kill -KILL "$p" 2> /dev/null || true
			wait "$p" || st=$?
			read -r _ n < "$f.out" || n=
			[ -z "$n" ] || committed=$(( n / 2 )) ;;
		esac
		line=$(sed -n 's/.* \([0-9]*\) frames committed, \([0-9]*\) read.*/\1/p' "$f.err")
		[ -z "$line" ] || committed=$line
		# The lease: reclaimed at the appliance's next control tick (1 ms); budget 30 s.
		for _ in $(seq 300); do [ "$(inj "$w" .writers)" = 0 ] && break; sleep 0.1; done
		echo "$k $(echo exit kill term hold | cut -d' ' -f$(( how + 1 ))) $st $committed $(inj "$w" '[.writers,
			.writer.frames, ([.writer | (.bad_offset, .too_long, .empty, .reused, .not_got,
			.bad_head)] | add), .writers_total, .reclaimed] | @tsv')" >> "$log"
		k=$(( k + 1 ))
	done
}
stop_writers() {   # let each loop finish its writer, then stop (it logs every writer)
	[ -n "${WRITERS:-}" ] || return 0
	touch "$T/writers.stop"
	for p in $WRITERS; do wait "$p" 2> /dev/null || true; done
	WRITERS=
	rm -f "$T/writers.stop"
}
start_writers() {
	WRITERS=
	rm -f "$T/writers.stop"
	[ "$phase_write" = 1 ] || return 0
	for w in "${INJECTS[@]}"; do
		writer_loop "$w" 2> "$T/writers/$w.loop.err" &
		WRITERS="$WRITERS $!"
	done
}

# ---- verdict clients: one at a time on the user filter `v` (it takes one) ----------
# Each attaches (examples/ips_syn_drop: it drops the TCP SYNs to port VPORT, a quarter
# of vg's packets, and passes the rest), gives classes for 1-10 s, and ends one of
# four ways: SIGTERMed (it flushes its last classes, closes and says how many it
# saw); SIGKILLed holding packets; stalled (SIGSTOP for 5-200 ms, past timeout_us,
# so on_timeout decides what it held and its classes for them come late), then
# SIGCONT and SIGTERM; or stalled and SIGKILLed while stopped. The loop then waits
# (30 s at most) until the appliance saw it go (`users[].client` null) and logs
# one line: k how status seen(its own count, or -) attached(0/1), and the filter's
# clients (0: the appliance saw it go) and clients_total.
ufl() {   # jq on the user filter v's stats object
	stats_json | jq -r ".users[]? | select(.name == \"v\") | $1"
}
verdict_loop() {
	local k=0 log=$T/verdicts.log
	while [ ! -e "$T/verdicts.stop" ]; do
		local how=$(( RANDOM % 4 )) f=$T/verdicts/$k st=0 seen=- p pst
		"$VCLIENT" "beltline://$I/v" "$VPORT" > "$f.out" 2> "$f.err" &
		p=$!
		track "$p"
		pst=$(cut -d' ' -f22 "/proc/$p/stat" 2> /dev/null) || pst=
		sleep "$(( RANDOM % 10 + 1 )).$(( RANDOM % 9 ))"
		if [ "$how" -ge 2 ] && ours "$p" "$pst"; then   # a stall past timeout_us
			kill -STOP "$p" 2> /dev/null || true
			sleep "0.$(printf %03d $(( RANDOM % 195 + 5 )))"
			[ "$how" = 3 ] || kill -CONT "$p" 2> /dev/null || true
		fi
		if ours "$p" "$pst"; then
			case $how in 0|2) kill -TERM "$p" ;; *) kill -KILL "$p" ;; esac 2> /dev/null || true
		fi
		wait "$p" || st=$?
		seen=$(sed -n 's/^\([0-9]*\) packets, .*/\1/p' "$f.out")
		for _ in $(seq 300); do [ "$(ufl .clients)" = 0 ] && break; sleep 0.1; done
		echo "$k $(echo term kill stall-term stall-kill | cut -d' ' -f$(( how + 1 ))) $st ${seen:--} $(grep -c '^attached' "$f.out") $(ufl '[.clients, .clients_total] | @tsv')" >> "$log"
		k=$(( k + 1 ))
	done
}
start_verdicts() {
	VERDICTS=
	rm -f "$T/verdicts.stop"
	[ "$phase_verdict" = 1 ] || return 0
	mkdir -p "$T/verdicts"
	verdict_loop 2> "$T/verdicts.loop.err" &
	VERDICTS=$!
}
stop_verdicts() {
	[ -n "${VERDICTS:-}" ] || return 0
	touch "$T/verdicts.stop"
	wait "$VERDICTS" 2> /dev/null || true
	VERDICTS=
}

# ---- reloads: every RELOAD_EVERY s, `beltline reload` to the next config ---------------
# The configs: a and b differ in one argument of the reload graph (graphs[1]: its gen's
# rate), so that graph is rebuilt and its stream s_rl taken over; c is a plus graphs[2]
# (a stream s_x), so going to c adds a stream and leaving it removes one. The order
# b a b a c a b a b c b ...: every fifth reload goes to c (adds s_x), the next one
# leaves it (removes s_x). Around each,
# a sample of what must not move: graphs[0]'s counters (never rebuilt: they only grow),
# the sentinel readers (started with the main phase, on s_frp (graphs[0]) and s_rl (taken
# over): attached from the start to the end), s_rl's head (its sequence goes on).
# One line per reload in reloads.log: n to status epoch reloads failures, then before
# and after: s_frp in, gen generated (graphs[0]), s_rl's head, sentinels attached.
unchanged() {   # s_frp written, s_rl written, sentinels attached, s_x there (0/1), reloads, failures, epoch
	stats_json | jq -r '[(.streams[] | select(.name == "s_frp") | .written),
		(.streams[] | select(.name == "s_rl") | .written),
		([.streams[] | select(.name == "s_frp" or .name == "s_rl") | .readers[] |
		  select(.pid == ($ENV.SENT1 | tonumber) or .pid == ($ENV.SENT2 | tonumber))] | length),
		([.streams[] | select(.name == "s_x")] | length),
		.reload.reloads, .reload.failures, .reload.epoch] | @tsv'
}
reload_loop() {   # after the stop request, one last reload back to a (the first sample's config)
	local n=0 to=a last=a
	while :; do
		sleep "$reload_every"
		if [ -e "$T/reloads.stop" ]; then
			[ "$last" != a ] || break
			to=a
		elif [ $(( (n + 1) % 5 )) = 0 ]; then to=c
		elif [ $(( (n + 1) % 2 )) = 0 ]; then to=a
		else to=b
		fi
		n=$(( n + 1 ))
		local before after st=0
		before=$(unchanged)
		"$BELTLINE" reload "$T/soak-$to.json" > "$T/reloads/$n.out" 2>&1 || st=$?
		# The CLI waits 2 s for the reply: on a loaded machine a reload may take longer
		# (it goes on all the same). Then wait for its counters, and log "late".
		if [ "$st" != 0 ] && grep -q 'no reply within' "$T/reloads/$n.out"; then
			st=late
			for _ in $(seq 300); do
				after=$(unchanged)
				[ "$(cut -f5 <<< "$after")" = "$(cut -f5 <<< "$before")" ] &&
				[ "$(cut -f6 <<< "$after")" = "$(cut -f6 <<< "$before")" ] || break
				sleep 0.1
			done
		fi
		sleep 1
		after=$(unchanged)
		echo "$n $to $st $before $after" | tr '\t' ' ' >> "$T/reloads.log"
		last=$to
		[ ! -e "$T/reloads.stop" ] || break
	done
}
start_reloads() {
	RELOADS=
	rm -f "$T/reloads.stop"
	[ "$phase_reload" = 1 ] || return 0
	mkdir -p "$T/reloads"
	# sentinels: a reader on a stream no reload touches, one on the stream each reload takes over
	"$BELTLINE" cat s_frp -p frp > /dev/null 2> "$T/sentinel1.err" &
	SENT1=$!
	"$BELTLINE" cat s_rl -p mrp > /dev/null 2> "$T/sentinel2.err" &
	SENT2=$!
	track "$SENT1"; track "$SENT2"
	export SENT1 SENT2
	reload_loop 2> "$T/reloads.loop.err" &
	RELOADS=$!
}
stop_reloads() {
	[ -n "${RELOADS:-}" ] || return 0
	touch "$T/reloads.stop"
	wait "$RELOADS" 2> /dev/null || true
	RELOADS=
	# the sentinels must still be running (and attached: the last sample says so)
	sent_alive=0
	kill -0 "$SENT1" 2> /dev/null && sent_alive=$(( sent_alive + 1 ))
	kill -0 "$SENT2" 2> /dev/null && sent_alive=$(( sent_alive + 1 ))
	sent_attached=$(unchanged | cut -f3)
	kill "$SENT1" "$SENT2" 2> /dev/null || true
	wait "$SENT1" "$SENT2" 2> /dev/null || true
}

stop_readers() {   # stop the spawner and every reader, then wait until none is attached
	kill "$SPAWNER" 2> /dev/null || true
	wait "$SPAWNER" 2> /dev/null || true
	SPAWNER=
	while read -r p st; do   # a reader still running now was cut short by us, not by a loss
		ours "$p" "$st" || continue
		echo "$p" >> "$T/cut.pids"
		kill -KILL "$p" 2> /dev/null || true
	done < "$pids_file"
	: > "$pids_file"
	for _ in $(seq 200); do
		[ "$(stats_json | jq '[.streams[].n_readers] | add')" = 0 ] && break
		sleep 0.1
	done
	sleep 1
}

# ---- samples ---------------------------------------------------------------------
# t rss_kb fds mbufs_in_use readers dropped(srp,mrp) overwritten(frp) reader_lost alloc_fail
#   anon_kb file_kb shmem_kb maps writers heap_rss_kb heap_in_use_kb heap_system_kb
# Resident memory in its three kinds (/proc/PID/status): anonymous (malloc: a
# leak shows here), file-backed (the binary and libraries) and shmem (memfds:
# reader pages, rings, DBufs on 4 KiB pages, counted once a page is touched).
# The C heap: its resident pages ([heap] in smaps) and malloc's own count
# (beltline stats: heap.in_use, live; heap.system, held): a leak grows in_use,
# malloc touching more of what it holds grows only the resident pages.
sample() {
	local rss fds js kinds maps heap
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$BPID/status")
	kinds=$(awk '/^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } /^RssShmem/ { s = $2 }
		END { printf "%s\t%s\t%s", a, f, s }' "/proc/$BPID/status")
	maps=$(wc -l < "/proc/$BPID/maps")
	heap=$(awk '/\[heap\]/ { h = 1 } h && /^Rss:/ { print $2; exit }' "/proc/$BPID/smaps")
	fds=$(ls "/proc/$BPID/fd" | wc -l)
	js=$(stats_json) || { echo "soak: beltline stats failed 10 times in a row" >&2; return 1; }
	jq -r --arg t "$1" --arg rss "$rss" --arg fds "$fds" --arg kinds "$kinds" --arg maps "$maps" \
		--arg heap "${heap:-0}" '[ $t, $rss, $fds,
		.mbufs.in_use, ([.streams[].n_readers] | add),
		([.streams[] | select(.policy != "frp") | .dropped] | add),
		([.streams[] | select(.policy == "frp") | .overwritten] | add),
		([.streams[].readers[].lost] | add // 0),
		([.filters[] | select(.filter == "gen") | .counters.alloc_fail] | add),
		($kinds | split("\t") | .[]), $maps, ([.injects[]?.writers] | add // 0),
		$heap, ((.heap.in_use // 0) / 1024 | floor), ((.heap.system // 0) / 1024 | floor) ] | @tsv' <<< "$js"
}

# The first and the last sample (nobody attached): mbufs in use is the least of 10 reads
# over a second. With nobody attached it is what the graphs have in flight, and that
# moves: an idle soak config read 19 to 352 (gen's bursts catching up after the worker
# lost its CPU), so one read at each end differed by more than MBUF_SLACK with nothing
# held (a 20-minute run failed on 84 -> 370, 0 leaked at exit). A leak raises the floor.
quiet_sample() {
	local line m js
	line=$(sample "$1") || return 1
	m=$(cut -f4 <<< "$line")
	for _ in $(seq 9); do
		sleep 0.1
		js=$(stats_json) || continue
		js=$(jq '.mbufs.in_use' <<< "$js")
		[ "$js" -ge "$m" ] || m=$js
	done
	awk -F'\t' -v OFS='\t' -v m="$m" '{ $4 = m; print }' <<< "$line"
}

spawner 2> /dev/null & SPAWNER=$!
start_writers
echo "soak: warm-up, $warm_s s"
sleep "$warm_s"
stop_writers
stop_readers
echo "t_s	rss_kb	fds	mbufs	readers	dropped	overwritten	lost	alloc_fail	anon_kb	file_kb	shmem_kb	maps	writers	heap_rss_kb	heap_in_use_kb	heap_system_kb" > "$T/samples.tsv"
quiet_sample 0 > "$T/quiet0.tsv"
cat "$T/quiet0.tsv" >> "$T/samples.tsv"
spawner 2> /dev/null & SPAWNER=$!
start_writers
start_verdicts
start_reloads
t0=$(date +%s)
while :; do
	sleep "$interval"
	now=$(( $(date +%s) - t0 ))
	kill -0 "$BPID" 2> /dev/null || { echo "soak: beltlined died" >&2; tail "$T/beltlined.err" >&2; exit 1; }
	sample "$now" >> "$T/samples.tsv"
	[ "$now" -ge "$main_s" ] && break
done
stop_reloads
stop_verdicts
stop_writers
stop_readers
quiet_sample "$(( $(date +%s) - t0 ))" > "$T/quiet1.tsv"
cat "$T/quiet1.tsv" >> "$T/samples.tsv"
kill -INT "$BPID"
wait "$BPID" && bst=0 || bst=$?
trap - EXIT

# ---- verdicts ----------------------------------------------------------------------
fails=0
fail() { echo "soak: FAIL: $*"; fails=$((fails + 1)); }
col() { cut -f"$1" "$2"; }
q0=$T/quiet0.tsv q1=$T/quiet1.tsv
# Growth per hour over the second half of the run (least squares): a creep goes
# on, a first touch (pages of a ring or a pool touched once) levels off.
slope() {   # column -> growth per hour over the busy samples from the middle on
	sed '1d;$d' "$T/samples.tsv" | awk -F'\t' -v c="$1" -v h="$(( main_s / 2 ))" '
		$1 >= h { n++; x += $1; y += $c; xx += $1 * $1; xy += $1 * $c }
		END { d = n * xx - x * x; s = 0; if (d > 0) s = (n * xy - x * y) / d * 3600
		      printf "%+d\n", s }'
}
echo
echo "soak: $(( $(wc -l < "$T/samples.tsv") - 1 )) samples; first and last taken with no reader or writer attached"
printf '%-24s %10s %10s %10s %11s %7s  %s\n' "" first last max "2nd half/h" bound verdict
row() {   # name column slack [strict]: flat, levels off (grew, but not over the second half), GROWS
	local a b m v g
	a=$(col "$2" "$q0"); b=$(col "$2" "$q1")
	m=$(tail -n +2 "$T/samples.tsv" | cut -f"$2" | sort -n | tail -1)
	g=$(slope "$2")
	if [ $(( b - a )) -le "$3" ]; then v=flat
	elif [ -z "${4:-}" ] && [ $(( ${g#+} * (main_s / 2) / 3600 )) -le $(( $3 / 2 )) ]; then
		v="levels off"
	else v=GROWS; fail "$1 grew from $a to $b (bound +$3; $g an hour over the second half)"
	fi
	printf '%-24s %10s %10s %10s %11s %7s  %s\n' "$1" "$a" "$b" "$m" "$g" "+$3" "$v"
}
row "resident memory (KB)" 2 "$rss_slack"
row "  anonymous (KB)" 10 "$rss_slack"
row "    C heap resident (KB)" 15 "$rss_slack"
row "  file (KB)" 11 "$rss_slack"
row "  shmem (KB)" 12 "$rss_slack"
row "C heap held (KB)" 17 "$rss_slack"
row "C heap in use (KB)" 16 256 strict   # malloc's per-thread cache counts as in use: up to ~240 KB
row "mappings" 13 16 strict
row "descriptors" 3 0 strict
row "mbufs in use" 4 "$mbuf_slack" strict
shown() {   # name column: shown, not judged (counters, or how many were attached)
	printf '%-24s %10s %10s %10s %11s %7s  %s\n' "$1" "$(col "$2" "$q0")" "$(col "$2" "$q1")" \
		"$(tail -n +2 "$T/samples.tsv" | cut -f"$2" | sort -n | tail -1)" "" "" "$3"
}
shown "readers attached" 5 ""
shown "writers attached" 14 ""
shown "dropped (srp, mrp)" 6 counted
shown "overwritten (frp)" 7 counted
shown "readers' lost (now)" 8 counted
shown "gen alloc_fail" 9 counted
echo "stats replies that missed the CLI's 2 s (retried): $(cat "$T/stats.misses" 2> /dev/null | wc -l)"

# Every packet accounted for, from the final report (the worker has stopped: the
# counters agree): each line is an equation, exactly.
[ "$bst" = 0 ] || fail "beltlined exited $bst (1: an mbuf leak at exit): $(tail -n 3 "$T/beltlined.err")"
acct() {   # label lhs rhs... : lhs = sum of rhs, exactly
	local label=$1 lhs=$2 sum=0 v=yes
	shift 2
	for x in "$@"; do sum=$(( sum + x )); done
	[ "$lhs" = "$sum" ] || { v=NO; fail "$label: $lhs, not $*"; }
	printf '%-52s %12s = %-30s %s\n' "$label" "$lhs" "$(echo "$@" | sed 's/ / + /g')" "$v"
}
if jq -e '.graphs' "$T/final.json" > /dev/null 2>&1; then
	F=$T/final.json
	fl() { jq -r --arg f "$1" "[.graphs[].filters[\$f] | select(. != null) | $2] | add // 0" "$F"; }
	echo
	echo "packets, from beltlined's final report"
	# the gen the four pipelines share (unnamed; vg, rg, xg are the verdict's and the reloads')
	gen=$(jq '[.graphs[].filters | to_entries[] | select(.value.filter == "gen" and
		(.key | IN("vg", "rg", "xg") | not)) | .value.counters.generated] | add' "$F")
	for x in s_srp s_mrp s_frp tx; do
		acct "gen generated = $x in" "$gen" "$(fl $x .in)"
	done
	for x in s_srp s_mrp s_frp s_rx s_w0 s_w1; do
		acct "$x in = written + dropped + copy_nombuf" "$(fl $x .in)" "$(fl $x .counters.written)" \
			"$(fl $x .counters.dropped)" "$(fl $x .counters.copy_nombuf)"
	done
	acct "tx in = tx + tx_dropped" "$(fl tx .in)" "$(fl tx .counters.tx)" "$(fl tx .counters.tx_dropped)"
	acct "port loop tx = tx's tx" "$(jq .ports.loop.tx "$F")" "$(fl tx .counters.tx)"
	acct "port loop tx = rx + rx_flushed_at_stop" "$(jq .ports.loop.tx "$F")" \
		"$(jq .ports.loop.rx "$F")" "$(jq .ports.loop.rx_flushed_at_stop "$F")"
	acct "port loop rx = rx out + malformed + dropped" "$(jq .ports.loop.rx "$F")" \
		"$(fl rx .out)" "$(fl rx .counters.malformed)" "$(fl rx .dropped)"
	acct "rx out = s_rx in" "$(fl rx .out)" "$(fl s_rx .in)"
	for w in "${INJECTS[@]}"; do
		[ -s "$T/writers/$w.log" ] || { [ "$phase_write" = 0 ] || fail "$w: no writer ran"; continue; }
		acct "$w out = its writers' frames, summed ($(wc -l < "$T/writers/$w.log") writers)" \
			"$(fl "$w" .out)" "$(awk '$8 > p { s += $6 } { p = $8 } END { print s + 0 }' \
			"$T/writers/$w.log")"
		acct "$w out = s_$w in" "$(fl "$w" .out)" "$(fl "s_$w" .in)"
		acct "$w writers_total = writers seen to open, one by one" "$(fl "$w" .counters.writers_total)" \
			"$(awk '$8 == p + 1 { n++ } { p = $8 } END { print n + 0 }' "$T/writers/$w.log")"
	done
	if [ "$phase_verdict" = 1 ]; then
		vc() { fl v ".counters.$1"; }
		acct "vg generated = v in" "$(jq '[.graphs[].filters.vg | select(. != null) | .counters.generated] | add' "$F")" "$(fl v .in)"
		acct "v in = verdicts + timeout + no_client + gone + full + evicted + copy_nombuf" "$(fl v .in)" \
			"$(vc verdicts)" "$(( $(vc timeout_pass) + $(vc timeout_drop) ))" \
			"$(( $(vc no_client_pass) + $(vc no_client_drop) ))" "$(( $(vc gone_pass) + $(vc gone_drop) ))" \
			"$(( $(vc full_pass) + $(vc full_drop) ))" "$(( $(vc evicted_pass) + $(vc evicted_drop) ))" \
			"$(vc copy_nombuf)"
		acct "v in = out + dropped" "$(fl v .in)" "$(fl v .out)" "$(fl v .dropped)"
		acct "v dropped = verdict_drop + *_drop + copy_nombuf" "$(fl v .dropped)" "$(vc verdict_drop)" \
			"$(( $(vc timeout_drop) + $(vc no_client_drop) + $(vc gone_drop) + $(vc full_drop) + $(vc evicted_drop) ))" \
			"$(vc copy_nombuf)"
		acct "v out = s_v in" "$(fl v .out)" "$(fl s_v .in)"
		acct "s_v in = written + dropped + copy_nombuf" "$(fl s_v .in)" "$(fl s_v .counters.written)" \
			"$(fl s_v .counters.dropped)" "$(fl s_v .counters.copy_nombuf)"
		acct "v clients_total = verdict clients that said they attached" "$(vc clients_total)" \
			"$(awk '{ n += $5 } END { print n + 0 }' "$T/verdicts.log")"
		# a late class is for a packet on_timeout decided (timed out, or held by a client that went)
		[ "$(vc late)" -le $(( $(vc timeout_pass) + $(vc timeout_drop) + $(vc gone_pass) + $(vc gone_drop) )) ] ||
			fail "v late $(vc late) > timeout + gone"
		[ $(( $(vc twice) + $(vc unknown) + $(vc bad_class) + $(vc bad_head) )) = 0 ] ||
			fail "v: an honest client's classes were refused (twice/unknown/bad_class/bad_head)"
		printf '%-52s %12s\n' "v late (classes after on_timeout decided)" "$(vc late)"
		printf '%-52s %12s\n' "v twice + unknown + bad_class + bad_head (must be 0)" \
			"$(( $(vc twice) + $(vc unknown) + $(vc bad_class) + $(vc bad_head) ))"
	fi
	leaked=$(jq '.mbufs.leaked' "$F")
	[ "$leaked" = 0 ] || fail "beltlined reports $leaked mbufs leaked at exit"
	echo "mbufs leaked at exit: $leaked"
else
	fail "no final report from beltlined"
fi

# Writers, one line each: k how status committed writers frames refused writers_total reclaimed
# (writers is the stream's writers when the line was taken: 0, the lease reclaimed).
declare -A wn=()
for w in "${INJECTS[@]}"; do
	[ -s "$T/writers/$w.log" ] || continue
	prev_total=0 prev_recl=0
	while read -r k how st committed open frames refused total recl; do
		wn[$how]=$(( ${wn[$how]:-0} + 1 ))
		opened=$(( total - prev_total ))
		[ "$open" = 0 ] || fail "$w writer $k ($how): its lease was not reclaimed within 30 s"
		[ "$refused" = 0 ] || fail "$w writer $k ($how): $refused descriptors refused (an honest writer)"
		case $how in
		exit) [ "$st" = 0 ] || fail "$w writer $k (exit): exit status $st: $(tail -n 1 "$T/writers/$w.$k.err")"
		      [ "$committed" != - ] && [ "$frames" = "$committed" ] && [ "$opened" = 1 ] ||
			fail "$w writer $k (exit): it committed $committed, the appliance took $frames" ;;
		term|hold)   # term: it said what it committed (unless it died before it could)
		      if [ "$committed" != - ] && [ "$opened" = 1 ] && [ "$frames" != "$committed" ] &&
			 [ $(( recl - prev_recl )) != 1 ]; then
			fail "$w writer $k ($how): it committed $committed, the appliance took $frames and did not count it reclaimed"
		      fi
		      [ "$how" = term ] || [ "$opened" = 1 ] || fail "$w writer $k (hold): it did not open" ;;
		esac
		prev_total=$total prev_recl=$recl
	done < "$T/writers/$w.log"
done
[ "$phase_write" = 0 ] ||
	echo "writers: ${wn[exit]:-0} wrote and exited, ${wn[term]:-0} SIGTERMed, ${wn[kill]:-0} SIGKILLed mid-write, ${wn[hold]:-0} SIGKILLed holding every buffer; every lease reclaimed, every writer's frames counted"

# Verdict clients, one line each: k how status seen attached clients(after) clients_total.
if [ "$phase_verdict" = 1 ]; then
	declare -A vn=()
	n_vterm_seen=0
	while read -r k how st seen att open total; do
		vn[$how]=$(( ${vn[$how]:-0} + 1 ))
		[ "$open" = 0 ] || fail "verdict client $k ($how): the appliance did not see it go within 30 s"
		[ "$att" = 1 ] || fail "verdict client $k ($how): it did not attach: $(tail -n 1 "$T/verdicts/$k.err")"
		case $how in
		term|stall-term) [ "$st" = 0 ] && [ "$seen" != - ] ||
			fail "verdict client $k ($how): exit $st, it said no count: $(tail -n 1 "$T/verdicts/$k.err")"
			n_vterm_seen=$(( n_vterm_seen + ${seen/-/0} )) ;;
		esac
	done < "$T/verdicts.log"
	echo "verdict clients: ${vn[term]:-0} SIGTERMed, ${vn[kill]:-0} SIGKILLed holding packets, ${vn[stall-term]:-0} stalled past timeout_us then SIGTERMed, ${vn[stall-kill]:-0} SIGKILLed while stalled; the SIGTERMed ones classified $n_vterm_seen packets"
fi

# Reloads, one line each: n to status, then before and after: s_frp written, s_rl written,
# sentinels attached, s_x there, reloads, failures, epoch.
if [ "$phase_reload" = 1 ]; then
	n_rl=0 n_to_c=0 n_rl_late=0
	while read -r n to st f0 r0 s0 x0 rl0 fl0 ep0 f1 r1 s1 x1 rl1 fl1 ep1; do
		n_rl=$(( n_rl + 1 ))
		[ "$to" = c ] && n_to_c=$(( n_to_c + 1 ))
		[ "$st" != late ] || n_rl_late=$(( n_rl_late + 1 ))
		[ "$st" = 0 ] || [ "$st" = late ] || fail "reload $n (to $to): refused: $(sed -n 1p "$T/reloads/$n.out")"
		[ "$rl1" = $(( rl0 + 1 )) ] && [ "$fl1" = "$fl0" ] || fail "reload $n (to $to): reloads $rl0 -> $rl1, failures $fl0 -> $fl1"
		[ "$f1" -ge "$f0" ] || fail "reload $n (to $to): s_frp (a graph it did not change) went back, $f0 -> $f1"
		[ "$r1" -ge "$r0" ] || fail "reload $n (to $to): s_rl (taken over) went back, $r0 -> $r1"
		[ "$s0" = 2 ] && [ "$s1" = 2 ] || fail "reload $n (to $to): sentinel readers attached $s0 -> $s1 (want 2)"
		[ "$x1" = "$([ "$to" = c ] && echo 1 || echo 0)" ] || fail "reload $n (to $to): s_x there: $x1"
	done < <(cat "$T/reloads.log" 2> /dev/null)
	[ "$n_rl" -gt 0 ] || fail "no reload ran"
	[ "${sent_alive:-0}" = 2 ] && [ "${sent_attached:-0}" = 2 ] ||
		fail "sentinel readers: $sent_alive of 2 running, $sent_attached attached at the end"
	! grep -l 'removed\|detached' "$T/sentinel1.err" "$T/sentinel2.err" > /dev/null 2>&1 ||
		fail "a sentinel reader was told its stream went: $(cat "$T/sentinel1.err" "$T/sentinel2.err")"
	echo "reloads: $n_rl (every $reload_every s; $n_to_c of them adding s_x, as many back removing it; the last back to a), each accepted ($n_rl_late replied after the CLI's 2 s: applied all the same, by the counters); s_frp (unchanged graph) and s_rl (taken over) never went back; the two sentinel readers attached throughout"
fi

# Readers that stopped on their own after N packets: their pcap holds exactly N.
n_count=0 n_kill=0 n_term=0 n_stall=0 n_late=0
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
		# never attached: its request missed the CLI's 2 s on a loaded machine (counted)
		grep -q 'no reply within' "${h%.how}.err" 2> /dev/null && { n_late=$((n_late + 1)); continue; }
		n_count=$((n_count + 1))
		[ "$sz" = $(( 24 + n * (16 + SIZE) )) ] ||
			fail "reader $(basename "${h%.how}") ($s, $p, -c $n): pcap of $sz bytes, want $(( 24 + n * (16 + SIZE) ))"
		;;
	esac
done
echo "readers: $n_kill SIGKILLed, $n_term SIGTERMed, $n_stall stalled (their pipe unread, then closed), $n_count exited after their count (pcap sizes checked), $n_late of those never attached (no reply within the CLI's 2 s)"
onoff() { [ "$1" = 1 ] && echo "${2:-on}" || echo off; }
echo "phases: readers on; writers $(onoff $phase_write); verdicts $(onoff $phase_verdict); reloads $(onoff $phase_reload)"
if [ "$fails" -gt 0 ]; then
	echo "soak: $fails failed (samples and logs in $T)"
	exit 1
fi
echo "soak: flat, every drop counted"
[ -n "${OUT:-}" ] || rm -rf "$T"
