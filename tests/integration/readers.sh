#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Four readers of one stream with different policies (srp, mrp, mrp, frp), exact
# counts, and wake moderation (issue 5, points 1, 4, 8): beltlined reads a tap
# interface through `bpf "udp port 9" | export name=q`, and tests/integration/
# readers.c (client library only) writes frames into that interface phase by
# phase and reads as each policy says. Also: a reader may not be stricter than
# its stream; nothing of the stream is left once beltlined exits.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (a tap interface, AF_PACKET)"; exit 77; fi
: "${READERS:?}"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst readers)
IF=blr$$
export BELTLINE_INSTANCE=$I
RUN=/run/beltline/$I

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_tap0,iface=$IF" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | bpf \"udp port 9\" | export name=q capacity=64 wake_count=16 wake_us=5000000",
      "rx port=in | bpf \"udp port 9\" | export name=f policy=frp" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket $RUN/ctl exists" wait_for "$WAIT" test -S "$RUN/ctl"
# Quiet interface: no IPv6 chatter, no address; only our frames match the bpf anyway.
sysctl -qw "net.ipv6.conf.$IF.disable_ipv6=1" 2> /dev/null || true
ip link set dev "$IF" up

"$READERS" "$I" q "$IF" > "$T/readers.out" 2>&1 && rc=0 || rc=$?   # set -e: keep its output
sed 's/^/    /' "$T/readers.out"
eq "readers: every check" "$rc" 0

# A reader may be looser than its stream, never stricter.
out=$("$BELTLINE" cat f -p srp -c 1 2>&1 > /dev/null) && st=0 || st=$?
eq "cat -p srp on an frp stream: exit status" "$st" 1
check "the refusal names the policy rule ($out)" grep -q 'looser than its stream' <<< "$out"
out=$("$BELTLINE" cat q -p block -c 1 2>&1 > /dev/null) && st=0 || st=$?
eq "cat -p block: usage error" "$st" 2

kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
eq "mbufs leaked" "$(jget "$T/r.json" '.mbufs.leaked')" 0
check "no control folder left" test ! -e "$RUN"
check "no tap interface left" test ! -e "/sys/class/net/$IF"
trap 'rm -rf "$T"' EXIT
finish
