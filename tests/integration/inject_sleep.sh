#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A writer that sleeps for its buffers (beltline_write_fd): it polls the fd at every
# -EAGAIN, and each sleep ends with the appliance's signal (never the 20 s timeout);
# every frame arrives. With the appliance stopped (SIGSTOP) the writer sleeps without
# spinning and goes on when it resumes; with the appliance killed while the writer
# sleeps, its poll returns and getwritebuf says -EPIPE at once. `beltline inject`
# sleeps the same way (through a ring of 8, every frame arrives).
. "$(dirname "$0")/lib.sh"
need_corpus
: "${WRITER:?}"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst isleep)
RUN=/run/beltline/$I

start() {
	cat > "$T/c.json" <<JSON
{ "instance": "$I",
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "inject name=s capacity=8 | drop",
      "inject name=f capacity=8 | pcap file=$T/f.pcap" ] } ] }
JSON
	"$BELTLINED" -q --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
	BPID=$!
	check "control socket $RUN/ctl exists" wait_for "$WAIT" test -S "$RUN/ctl"
}
# CPU ticks (user + system) PID has used
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$2"; }

# On the way out, a stopped appliance (a check that failed between SIGSTOP and SIGCONT)
# must go too: SIGTERM waits on a stopped process.
BPID=
trap 'kill -CONT $BPID 2> /dev/null || true; kill $(jobs -p) 2> /dev/null || true; rm -rf "$T"' EXIT

start
# 1. Frames through a ring of 8: the writer finds it full again and again.
check "a sleeping writer commits 50000 frames" \
	"$WRITER" "$I" s sleep 50000 64 > "$T/w1" 2> "$T/w1.err"
cat "$T/w1"
eq "every frame was read" "$(field frames "$T/w1")" 50000
eq "no sleep ran into its 20 s timeout" "$(field timeouts "$T/w1")" 0
s=$(field sleeps "$T/w1"); wk=$(field wakeups "$T/w1")
check "it slept ($s times: 8 buffers for 50000 frames)" test "${s:-0}" -gt 0
check "every sleep but the last was ended by the appliance's signal ($wk of $s)" \
	test "${wk:-0}" -ge $(( ${s:-0} - 1 ))
aw=$("$BELTLINE" -i "$I" stats --json | jq '[.injects[] | select(.name == "s") | .writer.wakeups] | add // 0')
check "stats counts the appliance's signals ($aw)" test "$aw" -ge "$wk"
# The fd asked for only after the appliance read everything the -EAGAIN was about: the
# caller's poll still returns (it slept for good: nothing was left to signal it for).
eq "a writer that asks for its fd late is woken" "$("$WRITER" "$I" s late)" woken
# A writer holding more than half its buffers got and not committed asked to be woken
# at half the ring back, which the appliance can never give (it gives back only what
# was committed): its poll slept for good. With none committed it is told at once.
mkfifo "$T/go"
"$WRITER" "$I" s heldwake < "$T/go" > "$T/hw" 2> "$T/hw.err" &
HW=$!
exec 7> "$T/go"
check "a writer took every buffer" wait_for "$WAIT" grep -q '^holding' "$T/hw"
eq "every buffer got and none committed: getwritebuf says -EDEADLK ($(head -1 "$T/hw"))" \
	"$(awk '/^holding/ { print $4 }' "$T/hw")" EDEADLK
kill -STOP "$BPID"
echo go >&7
exec 7>&-
check "one committed, the appliance stopped: it sleeps" wait_for "$WAIT" grep -q '^asleep EAGAIN' "$T/hw"
kill -CONT "$BPID"
check "the writer ends" wait_pid "$WAIT" "$HW"
eq "it is woken once the appliance read its one frame" "$(sed -n 3p "$T/hw")" woken
eq "and gets a buffer" "$(sed -n 4p "$T/hw")" room

# 2. The appliance stopped: the writer fills its ring and sleeps; it does not spin,
# and goes on when the appliance resumes. 3. Then the appliance is killed while the
# writer sleeps: its poll returns, and getwritebuf says -EPIPE.
frames() { "$BELTLINE" -i "$I" stats --json | jq '[.injects[] | select(.name == "s") | .writer.frames] | add // 0'; }
"$WRITER" "$I" s sleep 100000000 64 > "$T/w3" 2> "$T/w3.err" &
WP=$!
check "the writer opened" wait_for "$WAIT" grep -q '^sleeping writer' "$T/w3"
kill -STOP "$BPID"
sleep 0.3
t0=$(ticks "$WP")
sleep 1
t1=$(ticks "$WP")
check "a writer asleep behind a stopped appliance uses no CPU ($((t1 - t0)) ticks in 1 s)" \
	test $((t1 - t0)) -le 10
kill -CONT "$BPID"
f0=$(frames)
check "it goes on when the appliance resumes (from $f0 frames)" \
	wait_for "$WAIT" eval '[ "$(frames)" -gt $((f0 + 1000)) ]'
kill -STOP "$BPID"
sleep 0.3
kill -KILL "$BPID"
t0=${EPOCHREALTIME/[.,]/}
st=0; wait_pid "$WAIT" "$WP" || st=$?
dt=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
eq "the writer ends with -EPIPE (exit 3)" "$st" 3
[ "$st" = 3 ] || tail -20 "$T/w3.err"
check "it says so ($(tail -1 "$T/w3"))" grep -q '^gone ' "$T/w3"
echo "  (it saw the end $dt ms after the kill)"
wait "$BPID" 2> /dev/null || true
rm -rf "$RUN"

# 4. beltline inject sleeps too: a capture through a ring of 8, byte for byte.
start
check "beltline inject through a ring of 8" "$BELTLINE" -i "$I" inject f "$CORPUS/afs.pcap" -l 20
kill -TERM "$BPID"
check "the appliance ends" wait_pid "$WAIT" "$BPID"
n=$(tcpdump -r "$T/f.pcap" 2> /dev/null | wc -l)
m=$(tcpdump -r "$CORPUS/afs.pcap" 2> /dev/null | wc -l)
eq "all 20 loops of the capture arrived" "$n" $((m * 20))
finish
