#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A remote writer (issue 12 point 2): `beltline serve --write X LISTEN-URI` takes
# `beltline inject tcp://HOST:PORT FILE` (and tls:// from a network namespace made
# here, with client certificates) into the inject stream X, and the packets read
# from `inject name=X | export name=Y` (beltline cat Y) are the capture's, byte for
# byte. Refused, with the peer logged and counted, serve and the appliance running
# on: a tls:// writer without a certificate, a second writer, writers sending
# malformed or oversized records; a gap in sequence numbers is counted as loss. The
# writer trusts no server: a bad ack, a packet, no ack at all end it with a clear error.
. "$(dirname "$0")/lib.sh"
# python3 starts often here: found once (through a launcher such as a pyenv shim, a shell
# script that costs more than the interpreter at each start), the same interpreter each time.
PY=$(python3 -c 'import sys; print(sys.executable)')
need_corpus
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
PEER=$SRCDIR/tests/integration/net_writer.py
CAP=$CORPUS/mptcp-v0.pcap           # 264 Ethernet frames of 74..934 bytes
CAP2=$CORPUS/ptp_ethernet.pcap      # 205 frames
[ "$(id -u)" = 0 ] || { echo "SKIP: network namespaces need root"; exit 77; }
I=$(inst nwr)
export BELTLINE_INSTANCE=$I BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"
NS=blnw$$
VA=bw$$a
VB=bw$$b
NET=10.$((RANDOM % 200 + 20)).$((RANDOM % 250))
PIDS=
cleanup() {
	kill -TERM $PIDS 2> /dev/null || true
	wait 2> /dev/null || true
	ip link del "$VA" 2> /dev/null || true
	ip netns del "$NS" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
dump() { tcpdump -r "$1" -nn -t -e -xx 2> /dev/null; }
freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "inject name=x | export name=y policy=srp capacity=4096" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
BPID=$!
PIDS="$PIDS $BPID"
check "control socket" wait_for "$WAIT" test -S "$BELTLINE_RUN_DIR/$I/ctl"
# The certificates of the tls:// part at the end, made meanwhile (one after the other:
# the CA's serial file is shared).
C=$T/certs
mkdir -p "$C"
( . "$(dirname "$0")/tls_certs.sh"
  ca ca
  leaf server ca "IP:$NET.1,IP:127.0.0.1"
  leaf client ca "DNS:client" ) > "$T/certs.log" 2>&1 &
CERTS=$!
PIDS="$PIDS $CERTS"
has_x() { [ "$("$BELTLINE" stats --json | jq '[.injects[] | select(.name == "x")] | length')" = 1 ]; }
check "inject stream x is there" wait_for "$WAIT" has_x

readers() { "$BELTLINE" stats --json | jq '[.streams[] | select(.name == "y") | .readers[]] | length'; }
one_reader() { [ "$(readers 2> /dev/null)" = 1 ]; }
# reader N FILE: beltline cat -c N y > FILE in the background (RPID), attached
reader() {
	"$BELTLINE" cat -c "$1" y > "$2" 2> "$T/cat.err" &
	RPID=$!
	check "a reader of y" wait_for "$WAIT" one_reader
}
# same WHAT FILE CAPTURE: FILE holds what CAPTURE holds, byte for byte (tcpdump -xx)
same() {
	wait $RPID && st=0 || st=$?
	eq "$1: cat y ends" "$st" 0
	dump "$3" > "$T/want.txt"
	dump "$2" > "$T/got.txt"
	eq "$1: every packet" "$(wc -l < "$T/got.txt" | tr -d ' ')" "$(wc -l < "$T/want.txt" | tr -d ' ')"
	check "$1: y holds the capture byte for byte" cmp -s "$T/want.txt" "$T/got.txt"
}

# ---- usage and refusals at start ----
# (not rc: lib.sh's ERR trap sets rc to the status of every command that fails)
"$BELTLINE" serve --write x tcp://0.0.0.0:1 > /dev/null 2> "$T/s.err" && r1=0 || r1=$?
"$BELTLINE" serve --write x udp://127.0.0.1:1 > /dev/null 2> "$T/s2.err" && r2=0 || r2=$?
"$BELTLINE" serve --write nosuch tcp://127.0.0.1:1 > /dev/null 2> "$T/s3.err" && r3=0 || r3=$?
eq "serve --write tcp://0.0.0.0: usage error" "$r1" 2
check "... says loopback or tls" grep -q "not a loopback address" "$T/s.err"
eq "serve --write udp://: usage error" "$r2" 2
eq "serve --write to no such inject stream: exit 1" "$r3" 1
check "... says so" grep -q "no inject stream" "$T/s3.err"

# ---- tcp:// on loopback: a corpus capture through serve --write, byte for byte ----
WPORT=$(freeport)
"$BELTLINE" serve --write x tcp://127.0.0.1:$WPORT 2> "$T/serve.err" &
SPID=$!
PIDS="$PIDS $SPID"
check "serve --write listens" wait_for "$WAIT" grep -qs "serving writes into" "$T/serve.err"
N=$(tcpdump -r "$CAP" -nn 2> /dev/null | wc -l)
reader "$N" "$T/tcp.pcap"
"$BELTLINE" inject tcp://127.0.0.1:$WPORT "$CAP" 2> "$T/inj.err" && st=0 || st=$?
eq "inject tcp://: exit 0 (every frame acknowledged)" "$st" 0
same "tcp://" "$T/tcp.pcap" "$CAP"
check "serve logged the frames" wait_for "$WAIT" grep -q "done: $N frames .* 0 lost" "$T/serve.err"

# the wrong way round: a reader on a --write port, a writer on a reader's port
holding() { grep -q "writer.*client.*serve 127.0.0.1" <<< "$("$BELTLINE" stats --json | jq -c '.injects')"; }
free_again() { ! holding; }
check "the writer gone, x is free" wait_for "$WAIT" free_again
set +e
timeout 60 "$BELTLINE" cat tcp://127.0.0.1:$WPORT > /dev/null 2> "$T/w1.err"; rc=$?
set -e
eq "cat from a --write port: exit 1" "$rc" 1
check "... says it takes a writer" grep -q "takes a writer" "$T/w1.err"
RPORT=$(freeport)
"$BELTLINE" serve y tcp://127.0.0.1:$RPORT 2> "$T/rserve.err" &
PIDS="$PIDS $!"
check "serve (readers) listens" wait_for "$WAIT" grep -qs "serving" "$T/rserve.err"
set +e
timeout 60 "$BELTLINE" inject tcp://127.0.0.1:$RPORT "$CAP" 2> "$T/w2.err"; rc=$?
set -e
eq "inject into a readers' port: exit 1" "$rc" 1
check "... says it serves readers" grep -q "serves readers" "$T/w2.err"

# ---- a hostile server: the writer trusts nothing it says ----
NPEER=$SRCDIR/tests/integration/net_peer.py
# badserver_start MODE [MS]: beltline inject (-w MS) to net_peer.py MODE, in the background
# (BADPID; its status in $T/bad.MODE.rc); badserver_check MODE WANT: it failed (exit 1)
# and said WANT. The stalled server's writer waits out its 1.5 s while the rest goes on.
badserver_start() {
	"$PY" "$NPEER" "$1" > "$T/peer.port" &
	PIDS="$PIDS $!"
	wait_for "$WAIT" test -s "$T/peer.port"
	local port
	port=$(cat "$T/peer.port")
	rm -f "$T/peer.port"
	( timeout 60 "$BELTLINE" inject -w "${2:-10000}" tcp://127.0.0.1:$port "$CAP" 2> "$T/bad.$1.err" && r=0 || r=$?
	  echo $r > "$T/bad.$1.rc" ) &
	BADPID=$!
	PIDS="$PIDS $BADPID"
}
badserver_check() {
	wait_pid 90 "$BADPID" || true
	eq "server $1: inject exits 1" "$(cat "$T/bad.$1.rc" 2> /dev/null)" 1
	check "server $1: inject says '$2'" grep -q "$2" "$T/bad.$1.err"
}
badserver_start wstall 1500
WSTALL=$BADPID
badserver_start wbadack
badserver_check wbadack "malformed record from the server: an ack going backwards or beyond"
badserver_start wpkt
badserver_check wpkt "malformed record from the server: a record that is not an ack"

# ---- one writer at a time ----
"$PY" "$PEER" hold $WPORT > /dev/null 2>&1 &
HPID=$!
PIDS="$PIDS $HPID"
check "the first writer holds x (stats: client serve 127.0.0.1:...)" wait_for "$WAIT" holding
set +e
timeout 60 "$BELTLINE" inject tcp://127.0.0.1:$WPORT "$CAP" 2> "$T/second.err"; rc=$?
set -e
eq "a second writer: exit 1" "$rc" 1
check "... serve logs the refusal with the peer" grep -q "refused 127.0.0.1:[0-9]*: 127.0.0.1:[0-9]* is writing into" "$T/serve.err"
kill $HPID
wait $HPID 2> /dev/null || true
check "the writer gone, x is free again" wait_for "$WAIT" free_again

# A writer that sends nothing held the one writer place for ever (and the stream's local
# writer place: `beltline inject x` was refused too); with --stall-ms it is cut.
IPORT=$(freeport)
"$BELTLINE" serve --write --stall-ms 1000 x tcp://127.0.0.1:$IPORT 2> "$T/iserve.err" &
ISPID=$!
PIDS="$PIDS $ISPID"
check "serve --write --stall-ms 1000 listens" wait_for "$WAIT" grep -qs "serving writes into" "$T/iserve.err"
"$PY" -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $IPORT)); s.recv(24); time.sleep(600)" &
SILENT=$!
PIDS="$PIDS $SILENT"
check "the silent writer is cut after --stall-ms" wait_for "$WAIT" \
	grep -q "cut 127.0.0.1:[0-9]*: sent nothing for 1000 ms (--stall-ms) after 0 frames" "$T/iserve.err"
check "the writer gone, x is free again" wait_for "$WAIT" free_again
"$BELTLINE" inject tcp://127.0.0.1:$IPORT "$CAP" 2> "$T/inj3.err" && st=0 || st=$?
eq "then a writer that sends: exit 0 ($(head -c 300 "$T/inj3.err"))" "$st" 0
# A writer that trickles one record, a byte every 0.2 s, was never idle: it held the place
# for ever. A record not whole --stall-ms after its first byte is cut.
"$PY" -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $IPORT)); s.recv(24)
for i in range(3000): s.send(b'\x01'); time.sleep(0.2)" 2> /dev/null &
TRICKLE=$!
PIDS="$PIDS $TRICKLE"
check "the trickling writer is cut after --stall-ms" wait_for "$WAIT" \
	grep -q "cut 127.0.0.1:[0-9]*: a record not whole 1000 ms after its first byte" "$T/iserve.err"
check "the writer gone, x is free again" wait_for "$WAIT" free_again
"$BELTLINE" inject tcp://127.0.0.1:$IPORT "$CAP" 2> "$T/inj4.err" && st=0 || st=$?
eq "then a writer that sends: exit 0 ($(head -c 300 "$T/inj4.err"))" "$st" 0
kill $SILENT $TRICKLE $ISPID 2> /dev/null || true
BADPID=$WSTALL   # (started with the other bad servers)
badserver_check wstall "did not take the last frames: Connection timed out"

# ---- a gap in sequence numbers is counted as loss; the frames that came go through ----
reader 5 "$T/gap.pcap"
eq "gap: the writer sees the server close after its end" "$(timeout 60 "$PY" "$PEER" gap $WPORT)" closed
wait $RPID && st=0 || st=$?
eq "gap: the 5 frames sent are in y, in order" "$st/$(tcpdump -r "$T/gap.pcap" -nn 2> /dev/null | \
	sed -n 's/^.*0x0000:  \(..\).*/\1/p' | tr '\n' ' ')" "0/00 01 02 07 08 "
check "gap: seq 2 to 7 counted as 4 lost" wait_for "$WAIT" grep -q "done: 5 frames .* 4 lost" "$T/serve.err"

# ---- hostile writers: refused by name, counted; serve and the appliance run on ----
# hostile MODE WANT: the server closes on the writer and logs WANT with the peer
NMAL=0
hostile() {
	eq "writer $1: the server closes on it" "$(timeout 60 "$PY" "$PEER" "$1" $WPORT)" closed
	check "writer $1: serve says '$2' naming the peer" wait_for "$WAIT" \
		grep -q "refused 127.0.0.1:[0-9]*: malformed.*$2" "$T/serve.err"
	check "writer $1: serve runs on" alive $SPID
	NMAL=$((NMAL + 1))
}
hostile oversize "longer than the snaplen"
hostile hugelen "longer than the snaplen"
hostile backwards "sequence number not increasing"
hostile badtype "unknown record type"
hostile ack "an ack record"
hostile empty "an empty frame"
hostile torn "closed inside a record"
check "beltlined runs on" alive $BPID
N2=$(tcpdump -r "$CAP2" -nn 2> /dev/null | wc -l)
reader "$N2" "$T/after.pcap"
"$BELTLINE" inject tcp://127.0.0.1:$WPORT "$CAP2" 2> "$T/inj2.err" && st=0 || st=$?
eq "an honest writer after the hostile ones: exit 0" "$st" 0
same "after the hostile writers" "$T/after.pcap" "$CAP2"
kill -TERM $SPID
wait $SPID && st=0 || st=$?
eq "serve --write stops on SIGTERM: exit 0" "$st" 0
check "serve counted $NMAL writers cut for malformed records and 1 refused" \
	grep -q "1 refused (one at a time), 0 refused in the TLS handshake, $NMAL cut for malformed records" "$T/serve.err"
check "beltlined counted no refused frame" test "$("$BELTLINE" stats --json | \
	jq '[.injects[] | select(.name == "x") | .writer.too_long, .writer.empty] | add')" = 0

# ---- tls:// from a network namespace, client certificates required ----
ip netns add "$NS"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VB" netns "$NS"
ip addr add "$NET.1/30" dev "$VA"
ip link set "$VA" up
ip -n "$NS" addr add "$NET.2/30" dev "$VB"
ip -n "$NS" link set "$VB" up
ip -n "$NS" link set lo up
up() { grep -q "$NET.2" <<< "$(ip -n "$NS" addr show dev "$VB")"; }
check "the namespace has $NET.2" wait_for "$WAIT" up
wait_pid "$WAIT" "$CERTS" || echo "  (the certificates: $(tr '\n' ' ' < "$T/certs.log"))"
check "certificates made" test -s "$C/client.pem"
TPORT=$((20000 + RANDOM % 20000))
set +e
"$BELTLINE" serve --write x tcp://$NET.1:$TPORT > /dev/null 2> "$T/t0.err"; rc=$?
set -e
eq "serve --write tcp:// on the veth address: refused" "$rc" 2
"$BELTLINE" serve --write --cert "$C/server.pem" --key "$C/server.key" --ca "$C/ca.pem" \
	--handshake-ms 3000 x tls://$NET.1:$TPORT 2> "$T/tserve.err" &
TSPID=$!
PIDS="$PIDS $TSPID"
check "serve --write listens on tls://$NET.1:$TPORT" wait_for "$WAIT" grep -qs "serving writes" "$T/tserve.err"
inns() { timeout 60 ip netns exec "$NS" env BELTLINE_TLS_CA="$C/ca.pem" "$@"; }
set +e
inns "$BELTLINE" inject tls://$NET.1:$TPORT "$CAP" > /dev/null 2> "$T/nocert.err"; rc=$?
set -e
eq "a tls:// writer without a certificate: exit 1" "$rc" 1
check "... serve logs the refusal with the peer" wait_for "$WAIT" grep -q "refused $NET.2:[0-9]*: TLS" "$T/tserve.err"
# A connection that never starts its handshake took the one writer place until
# --handshake-ms (a peer with no certificate could keep the writer out by reconnecting):
# now a writer is one once authenticated.
ip netns exec "$NS" "$PY" -c "
import socket, time
s = socket.create_connection(('$NET.1', $TPORT)); open('$T/idle.up', 'w').close(); time.sleep(20)" &
IDLE=$!
PIDS="$PIDS $IDLE"
# (connected first: serve accepts in the order of the connections)
check "a connection that sends nothing" wait_for "$WAIT" test -e "$T/idle.up"
reader "$N" "$T/tls.pcap"
inns env BELTLINE_TLS_CERT="$C/client.pem" BELTLINE_TLS_KEY="$C/client.key" \
	"$BELTLINE" inject tls://$NET.1:$TPORT "$CAP" 2> "$T/tinj.err" && st=0 || st=$?
eq "inject tls:// from $NS with a certificate, beside a connection that sent nothing: exit 0 ($(head -c 300 "$T/tinj.err"))" "$st" 0
kill $IDLE 2> /dev/null || true
same "tls:// from $NS" "$T/tls.pcap" "$CAP"
check "serve logged the client certificate" grep -q "TLS client /CN=client" "$T/tserve.err"
kill -TERM $TSPID
wait $TSPID 2> /dev/null || true
# (the writer without a certificate, and the connection that never started its handshake
# if its --handshake-ms ran out before it closed: each refused in its handshake)
check "serve --write's last line counts the writer without a certificate as refused in its TLS handshake, not failed ($(tail -n 1 "$T/tserve.err"))" \
	grep -qE "stopped: 1 writers taken, 0 refused \(one at a time\), [12] refused in the TLS handshake, 0 cut for malformed records" "$T/tserve.err"
# Inside a TLS record: a writer with a certificate that sends a record's header and then
# a byte every 0.2 s held the blocking read (10 s a byte) and the writer place for ever.
# TLS is read without blocking now: it sent nothing whole, so --stall-ms cuts it.
SPORT2=$(freeport)
"$BELTLINE" serve --write --stall-ms 1000 --cert "$C/server.pem" --key "$C/server.key" \
	--ca "$C/ca.pem" x tls://127.0.0.1:$SPORT2 2> "$T/t2serve.err" &
T2PID=$!
PIDS="$PIDS $T2PID"
check "serve --write --stall-ms 1000 listens on tls://127.0.0.1" wait_for "$WAIT" grep -qs "serving writes" "$T/t2serve.err"
"$PY" - "$C" $SPORT2 <<'PY' 2> /dev/null &
import os, socket, ssl, sys, time
c, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.load_verify_locations(c + '/ca.pem')
ctx.load_cert_chain(c + '/client.pem', c + '/client.key')
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='127.0.0.1')
s.recv(24)                                   # the hello
raw = socket.socket(fileno=os.dup(s.fileno()))
raw.send(b'\x17\x03\x03\x40\x00')            # application data, 16384 bytes: to come
for i in range(3000): raw.send(b'\x00'); time.sleep(0.2)
PY
TT=$!
PIDS="$PIDS $TT"
check "a writer trickling inside a TLS record is cut after --stall-ms" wait_for "$WAIT" \
	grep -q "cut 127.0.0.1:[0-9]*: sent nothing for 1000 ms" "$T/t2serve.err"
kill $TT $T2PID 2> /dev/null || true
check "beltlined runs on" alive $BPID
finish
