#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# export + the control server, end to end: beltlined replays a capture (in a
# loop) through `bpf "tcp port 80" | export name=web`; `beltline cat web` fed to
# tcpdump gives the very packets tcpdump keeps from the capture; ls and stats
# show the stream and its reader; a reader SIGKILLed mid-read never stalls the
# SRP stream; a user the mode does not admit is refused and sees nothing; the
# socket and its folder go when beltlined exits; no mbuf leaks.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline, setpriv)"; exit 77; fi
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
CAP=$SRCDIR/config/sample.pcap
N=200
I=$(inst export)
export BELTLINE_INSTANCE=$I
RUN=/run/beltline/$I
jqe() { jq -e "$1" "$2" > /dev/null; }
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# A user inside the stream's group (created here, removed at exit) needs no root.
G=blg$$
U=blu$$
groupadd "$G"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$U"
cleanup_ids() { userdel "$U" 2> /dev/null || true; groupdel "$G" 2> /dev/null || true; }
trap 'cleanup_ids; rm -rf "$T"' EXIT

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$CAP,infinite_rx=1" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | bpf \"tcp port 80\" | export name=web capacity=1024 mode=0644",
      "rx port=in | export name=secret mode=0600 owner=root policy=frp",
      "rx port=in | export name=grp mode=0640 owner=root group=$G policy=mrp",
      "rx port=in | bpf \"tcp port 80\" | export name=webm capacity=1024 mode=0644 policy=mrp",
      "rx port=in | export name=mine mode=0600 owner=$U policy=frp" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; cleanup_ids; rm -rf "$T"' EXIT
check "control socket $RUN/ctl exists" wait_for "$WAIT" test -S "$RUN/ctl"
eq "socket mode" "$(stat -c %a "$RUN/ctl")" 666
eq "folder mode" "$(stat -c %a "$RUN")" 755

# The same packets as tcpdump with the same expression (the capture loops, so
# the stream starts anywhere in it: compare with the matching window).
tcpdump -r "$CAP" -w "$T/ref.pcap" 'tcp port 80' 2> /dev/null
"$BELTLINE" cat web -c $N 2> "$T/cat.err" | tcpdump -r - -w "$T/out.pcap" 2> /dev/null
read -r got _ < <("$PCAP_CMP" -s "$T/out.pcap")
eq "cat web -c $N: packets" "$got" $N
python3 "$(dirname "$0")/pcap_window.py" "$T/ref.pcap" "$T/out.pcap" "$T/exp.pcap"
check "cat web | tcpdump: byte-identical to tcpdump 'tcp port 80' on the capture" \
	"$PCAP_CMP" "$T/exp.pcap" "$T/out.pcap"

# Stopped by a signal while blocked writing to a pipe whose reader is slow (the pipe full):
# cat finishes the record it was writing and ends the file whole. (The write failed
# with EINTR: "writing stdout: Interrupted system call", and tcpdump said "truncated
# dump file".) secret carries every packet of the capture, looped: the pipe fills at once.
# The reader starts only once cat sleeps in the full pipe and has taken the SIGINT.
# in_pipe_write PID: PID sleeps writing into a full pipe.
in_pipe_write() { grep -q pipe "/proc/$1/wchan" 2> /dev/null; }
# int_taken PID: PID has no SIGINT pending (its handler ran) and writes into the pipe
# again, or is gone.
int_taken() {
	local p s
	gone "$1" && return 0
	p=$(awk '/^(SigPnd|ShdPnd):/ { print $2 }' "/proc/$1/status" 2> /dev/null) || return 0
	for s in $p; do [ $(( 0x$s & 2 )) = 0 ] || return 1; done
	in_pipe_write "$1" || gone "$1"
}
cat_pid() { pgrep -P $$ -f "beltline cat -p frp secret"; }
"$BELTLINE" cat -p frp secret 2> "$T/int.err" | { wait_for "$WAIT" test -e "$T/go" || true
	rc=0; tcpdump -r - -w /dev/null 2> "$T/int.td" || rc=$?; echo $rc > "$T/int.rc"; } &
IPID=$!
wait_for "$WAIT" cat_pid > /dev/null
CAT=$(cat_pid)
check "cat blocks writing into the full pipe" wait_for "$WAIT" in_pipe_write "$CAT"
kill -INT "$CAT"
wait_for "$WAIT" int_taken "$CAT" || true
touch "$T/go"
wait "$IPID" || true
check "cat stopped by SIGINT mid-write: no write error" eval '! grep -q "writing stdout" "$T/int.err"'
eq "... and tcpdump reads the file to its end" "$(cat "$T/int.rc")" 0
[ "$(cat "$T/int.rc")" = 0 ] || { sed -n 1,2p "$T/int.err"; sed -n 1,2p "$T/int.td"; }
# A pipe nobody reads: the first SIGINT lets the blocked write wait, a second ends cat.
"$BELTLINE" cat -p frp secret 2> /dev/null | sleep 600 &
wait_for "$WAIT" cat_pid > /dev/null
CAT=$(cat_pid)
check "cat blocks writing into the full pipe" wait_for "$WAIT" in_pipe_write "$CAT"
kill -INT "$CAT"
# Its handler has run (the signal no longer pending): it writes on, or (the bug) is gone.
wait_for "$WAIT" int_taken "$CAT" || true
check "a blocked cat outlives one SIGINT (and waits in the pipe again)" in_pipe_write "$CAT"
kill -INT "$CAT" 2> /dev/null || true
check "... and ends at the second" wait_for "$WAIT" gone "$CAT"
pkill -P $$ -f "^sleep 600$" || true

# ls and stats, with a reader attached.
"$BELTLINE" cat web > /dev/null 2>&1 &
CPID=$!
web_readers() { [ "$("$BELTLINE" stats --json | jq '.streams[] | select(.name=="web") | .n_readers')" = "$1" ]; }
wait_for "$WAIT" web_readers 1 || true
"$BELTLINE" ls > "$T/ls" 2>&1
check "ls shows web (srp, 1024)" grep -Eq '^ +web +srp +1024 +1 ' "$T/ls"
"${NOBODY[@]}" "$BELTLINE" ls > "$T/ls2" 2>&1 || true
check "ls as nobody shows web (0644)" grep -q ' web ' "$T/ls2"
check "ls as nobody hides secret (0600)" bash -c "! grep -q ' secret ' '$T/ls2'"
"$BELTLINE" stats --json > "$T/s.json"
eq "stats: web has one reader" "$(jq '.streams[] | select(.name=="web") | .readers | length' "$T/s.json")" 1
eq "stats: the reader's pid" "$(jq '.streams[] | select(.name=="web") | .readers[0].pid' "$T/s.json")" $CPID
check "stats: ports, filters, edges" jqe '(.ports|length)==1 and (.filters|length)>=3 and (.edges|length)>=2' "$T/s.json"
kill $CPID; wait $CPID 2> /dev/null || true

# SIGKILL mid-read, 10 times on the SRP stream and 10 on the MRP one: the reader
# is detached and the stream goes on.
stream() { "$BELTLINE" stats --json | jq -r ".streams[] | select(.name==\"${S:-web}\") | .$1"; }
# look: $S's readers and written, both from one stats (into R and W); each look of a round
# was a stats of its own, six a round at least.
look() { read -r R W < <("$BELTLINE" stats --json |
	jq -r ".streams[] | select(.name==\"$S\") | \"\(.n_readers) \(.written)\""); }
readers_are() { R= W=; look; [ "$R" = "$1" ]; }
written_over() { R= W=; look; [ "${W:-0}" -gt "$1" ]; }
for k in $(seq 20); do
	S=web; [ "$k" -gt 10 ] && S=webm
	"$BELTLINE" cat $S > /dev/null 2>&1 &
	CPID=$!
	wait_for "$WAIT" readers_are 1 || true   # attached (or never: then below fails)
	kill -KILL $CPID; wait $CPID 2> /dev/null || true
	# detached at the next 1 ms tick; the stream goes on being written
	wait_for "$WAIT" readers_are 0 || true
	r=$R w1=$W
	wait_for "$WAIT" written_over "${w1:-0}" || true
	w2=$W
	if [ "$r" = 0 ] && [ "$w2" -gt "$w1" ]; then ok "kill $k ($S): detached, still written ($w1 -> $w2)"
	else bad "kill $k ($S): readers $r, written $w1 -> $w2"; fi
done
S=web

# Refused: nobody may not read a stream of mode 0600 owned by root.
set +e
"${NOBODY[@]}" "$BELTLINE" cat secret -c 1 > "$T/sec.out" 2> "$T/sec.err"
rc=$?
set -e
check "nobody: cat secret fails (status $rc)" test "$rc" -ne 0
check "nobody: says permission denied" grep -q "may not read secret.*Permission denied" "$T/sec.err"
eq "nobody: sees no packet" "$(stat -c %s "$T/sec.out")" 0
eq "stats: no reader left on secret" "$(S=secret stream n_readers)" 0

# In the group: reads (MRP, so the mrp page is passed too). Outside: refused.
INGRP=(setpriv --reuid="$U" --regid=nogroup --init-groups)
set +e
"${INGRP[@]}" "$BELTLINE" cat grp -c 5 > "$T/grp.pcap" 2> "$T/grp.err"
rc=$?
set -e
eq "user $U in group $G: cat grp -c 5 status" "$rc" 0
read -r got _ < <("$PCAP_CMP" -s "$T/grp.pcap" 2> /dev/null || echo x)
eq "user $U in group $G: packets" "$got" 5
set +e
"${NOBODY[@]}" "$BELTLINE" cat grp -c 1 > "$T/grp2.out" 2> "$T/grp2.err"
rc=$?
set -e
check "nobody (not in $G): cat grp refused (status $rc)" test "$rc" -ne 0
check "nobody (not in $G): says permission denied" grep -q "may not read grp.*Permission denied" "$T/grp2.err"

# A reader turns on the memory it was given: reopening its read-only descriptors read-write
# (the stream's owner could: the files had the stream's mode, write bits and all) and
# truncating them (a reader's page was read-write and unsealed: the next stats faulted
# beltlined with SIGBUS). As the owner of mine (a copy DBuf of its own) and as nobody on
# web (zero copy: the packet DBuf); then the appliance still answers and serves.
for who in "mine $U" "web nobody"; do
	set -- $who
	python3 "$(dirname "$0")/shm_hostile.py" "$RUN/ctl" "$1" "$(id -u "$2")" > "$T/shm.out" 2>&1 &&
		rc=0 || rc=$?
	sed 's/^/    /' "$T/shm.out"
	eq "$2 on $1: every reopen and truncate of its descriptors refused" "$rc" 0
	check "... beltlined still runs" alive "$BPID"
	check "... and answers stats" bash -c "\"$BELTLINE\" stats --json > /dev/null"
done
"$BELTLINE" cat web -c 5 2> /dev/null | "$PCAP_CMP" -s /dev/stdin > "$T/n" || true
read -r got _ < "$T/n"
eq "after them, cat web still reads" "$got" 5

# Hostile requests: error replies or closed connections, and the server goes on.
check "hostile requests answered or closed, server still serves" \
	python3 "$(dirname "$0")/ctl_hostile.py" "$RUN/ctl" web

kill -TERM $BPID
set +e; wait $BPID; rc=$?; set -e
eq "beltlined exit status" "$rc" 0
check "socket gone" test ! -e "$RUN/ctl"
check "folder gone" test ! -e "$RUN"
eq "leaked mbufs" "$(jget "$T/r.json" .mbufs.leaked)" 0
check "web was written" jqe '[.graphs[].filters[] | select(.filter=="export") | .counters.written] | min > 0' "$T/r.json"
finish
