#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Endpoints over the network (issue 12, point 4): the same ep_peer as ep.sh, given a
# tcp:// or tls:// URI, exchanges EP_NET_N messages (default 20000; the issue's 10^7:
# EP_NET_N=10000000) of random sizes 1 B..64 KiB both ways over tcp:// on loopback,
# each checked by sequence number and checksum; either end SIGKILLed mid-stream makes
# the other see the end at once. Then over tls:// to a listener in a network namespace
# created here (mutual TLS, off loopback): the exchange and the kills again; refused,
# with the peer logged: no client certificate, one of another CA, a plain tcp:// client,
# a stalled handshake; the connector refuses a listener its CA did not sign. tcp://
# off loopback and tls:// without certificates cannot listen. A hostile peer (malformed
# hellos and records, oversized lengths, a gap, a repeat, a stall) is refused with a
# clear error, never a crash; a peer gone mid-record is the end of the stream.
. "$(dirname "$0")/lib.sh"
# python3 starts often here: found once (through a launcher such as a pyenv shim, a shell
# script that costs more than the interpreter at each start), the same interpreter each time.
PY=$(python3 -c 'import sys; print(sys.executable)')
: "${EP_PEER:?}"
N=${EP_NET_N:-20000}
TLS_N=${EP_NET_TLS_N:-8000}
HOSTILE=$(dirname "$0")/ep_net_hostile.py
PIDS=()
NS=blep$$
VA=be$$a
VB=be$$b
NET=10.$((RANDOM % 200 + 20)).$((RANDOM % 250))
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null || true; done
	wait 2> /dev/null || true
	ip link del "$VA" 2> /dev/null || true
	ip netns del "$NS" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
# A port nobody listens on (the test binds it right away; a clash fails loudly): the
# next of a run from a random base, so the listeners that run at once (the hostile
# peers' victims) never draw the same one. (Called in $(...): the count is a file.)
PBASE=$((20000 + RANDOM % 19900))
port() { echo >> "$T/ports"; echo $((PBASE + $(wc -l < "$T/ports"))); }

# progressed FILE K: FILE has at least K progress lines
progressed() { [ "$(grep -c progress "$1")" -ge "$2" ]; }

# listen_bg OUT ARGS...: an ep_peer listener in the background (ARGS after "ep_peer");
# LPID; waits until it listens
listen_bg() {
	local out=$1
	shift
	rm -f "$out"
	"$@" > "$out" 2>&1 &
	LPID=$!
	PIDS+=("$LPID")
	wait_for "$WAIT" grep -q listening "$out"
}

# exchange WHAT URI N LISTEN-PREFIX... -- CONNECT-PREFIX...: both ends, every message checked
exchange() {
	local what=$1 uri=$2 n=$3 lpre=() cpre=() st lst t0 dt
	shift 3
	while [ "$1" != -- ]; do lpre+=("$1"); shift; done
	shift
	cpre=("$@")
	listen_bg "$T/x.l" "${lpre[@]}" "$EP_PEER" listen "$uri" "$n" 10
	t0=$(date +%s%N)
	"${cpre[@]}" "$EP_PEER" connect "$uri" "$n" 11 > "$T/x.c" 2>&1 && st=0 || st=$?
	wait "$LPID" && lst=0 || lst=$?
	dt=$((($(date +%s%N) - t0) / 1000000))
	eq "$what: connector exchanged $n each way, all checked (${dt} ms)" "$st" 0
	eq "$what: listener the same" "$lst" 0
	check "$what: connector says ok ($(tail -n 1 "$T/x.c"))" grep -q "^ok sent $n received $n" "$T/x.c"
	check "$what: a network peer's uid is not known" grep -q "peer_uid 4294967295\$" "$T/x.c"
	check "$what: listener says ok ($(tail -n 1 "$T/x.l"))" grep -q "^ok sent $n received $n" "$T/x.l"
}

# kills WHAT URI LISTEN-PREFIX... -- CONNECT-PREFIX...: each end SIGKILLed mid-stream
# (once the connector received 4096: a few hundred MB each way, a second or so), the
# other ends with end-of-stream (exit 3) at once (budget 5 s: a busy machine).
kills() {
	local what=$1 uri=$2 lpre=() cpre=() victim s st dt t0 cpid o
	shift 2
	while [ "$1" != -- ]; do lpre+=("$1"); shift; done
	shift
	cpre=("$@")
	for victim in listener connector; do
		listen_bg "$T/k.l" "${lpre[@]}" "$EP_PEER" listen "$uri" 0 20
		rm -f "$T/k.c"
		EP_PROGRESS=2048 "${cpre[@]}" "$EP_PEER" connect "$uri" 0 21 > "$T/k.c" 2>&1 &
		cpid=$!
		PIDS+=("$cpid")
		check "$what: both exchange ($victim to be killed)" wait_for 120 grep -q "^progress 4096$" "$T/k.c"
		if [ $victim = listener ]; then kill -9 "$LPID"; s=$cpid; else kill -9 "$cpid"; s=$LPID; fi
		t0=$(date +%s%N)
		wait_for 60 gone "$s" || kill -9 "$s" 2> /dev/null || true
		wait "$s" && st=0 || st=$?
		dt=$((($(date +%s%N) - t0) / 1000000))
		o=$T/k.$([ $victim = listener ] && echo c || echo l)
		# (its seconds without progress: 0 unless it waited for the end itself)
		eq "$what: $victim SIGKILLed mid-stream: the other ends with end-of-stream (${dt} ms; $(tail -n 1 "$o"); $(grep -c "^no progress" "$o") s without progress)" "$st" 3
		check "$what: ... within 5 s" test "$dt" -lt 5000
		wait "$LPID" "$cpid" 2> /dev/null || true
	done
}

# ---- 1. tcp:// on loopback ----
P=$(port)
exchange "tcp://" "tcp://127.0.0.1:$P" "$N" -- env
# beltline_ep_forward back to the writer, the same program as over shared memory
# (integration-ep): over tcp:// nothing can be mapped, so every echo is one copy.
EP2=$(port)
listen_bg "$T/e.l" "$EP_PEER" echo "tcp://127.0.0.1:$EP2" 5000
"$EP_PEER" echoed "tcp://127.0.0.1:$EP2" 5000 30 > "$T/e.c" 2>&1 && st=0 || st=$?
wait "$LPID" && lst=0 || lst=$?
eq "tcp:// echo: 5000 back, all checked" "$st" 0
check "... each one copied ($(tail -n 1 "$T/e.l"))" grep -q "^echoed 5000 zero_copy 0 copied 5000" "$T/e.l"
kills "tcp://" "tcp://127.0.0.1:$(port)" env -- env

# The xpoll contract: a message that arrives after getreadbuf said -EAGAIN makes
# beltline_ep_fd() readable, even when getwritebuf filled the send side meanwhile.
# (Started first, checked below: it sleeps a second, and its close waits 3 s for a
# peer that reads nothing; what follows need not wait for it. Its first read must come
# before the peer's message, 0.2 s after the hello: what follows starts once it has.)
P=$(port)
listen_bg "$T/xp.l" env EP_TIMEOUT_MS=3000 "$EP_PEER" xpoll "tcp://127.0.0.1:$P" 0
XPID=$LPID
"$PY" "$HOSTILE" onemsg "$P" > /dev/null 2>&1 &
XHPID=$!
PIDS+=("$XHPID")
wait_for "$WAIT" grep -q "^getreadbuf first" "$T/xp.l" || true

# The certificates of part 2, made meanwhile (part 1's hostile peers mostly wait out
# timeouts; the CA's serial file is shared: one after the other).
C=$T/certs
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$C"
	( . "$(dirname "$0")/tls_certs.sh"
	  ca ca
	  ca otherca
	  leaf server ca "IP:$NET.2"
	  leaf client ca "DNS:client"
	  leaf rogue otherca "DNS:rogue" ) > "$T/certs.log" 2>&1 &
	CERTS=$!
	PIDS+=("$CERTS")
fi

# The victim of a hostile peer: a sink (reads unchecked), the set-up timeout 3 s. All
# at once (each victim its own port and files), then each one's end checked in turn:
# the stall waits out the 3 s, and the others need not wait for it.
HMODES=(stall badhello servehello bigsnap badtype oversize hugelen gap repeat ack torn)
declare -A HVICTIM HPEER
for mode in "${HMODES[@]}"; do
	P=$(port)
	listen_bg "$T/h.$mode.l" env EP_TIMEOUT_MS=3000 "$EP_PEER" sink "tcp://127.0.0.1:$P" 0
	HVICTIM[$mode]=$LPID
	"$PY" "$HOSTILE" $mode "$P" > "$T/h.$mode.py" 2>&1 &
	HPEER[$mode]=$!
	PIDS+=("$!")
done

for mode in "${HMODES[@]}"; do
	wait "${HVICTIM[$mode]}" && st=0 || st=$?
	kill "${HPEER[$mode]}" 2> /dev/null || true
	wait "${HPEER[$mode]}" 2> /dev/null || true
	case $mode in
	badhello|servehello|bigsnap|stall) want=2 ;;
	torn) want=3 ;;
	*) want=1 ;;
	esac
	eq "hostile peer ($mode): the victim ends ($(grep -v '^listening' "$T/h.$mode.l" | tr '\n' ' '))" "$st" $want
	case $mode in
	badhello) re="refused 127.0.0.1:[0-9]+: its hello: not a beltline serve peer" ;;
	servehello) re="refused 127.0.0.1:[0-9]+: its hello: a beltline serve stream, not an endpoint" ;;
	bigsnap) re="refused 127.0.0.1:[0-9]+: its hello: snaplen outside" ;;
	stall) re="no hello from 127.0.0.1:[0-9]+ in [0-9]+ ms \(what was left of the set-up's 3000 ms\)" ;;
	badtype) re="peer 127.0.0.1:[0-9]+ sent garbage: a malformed record after 0 messages: unknown record type" ;;
	oversize|hugelen) re="sent garbage: a malformed record after 0 messages: record longer than the snaplen" ;;
	gap) re="sent garbage: sequence number 5 where 3 was due" ;;
	repeat) re="sent garbage: sequence number 1 where 2 was due" ;;
	ack) re="sent garbage: a record of type 3" ;;
	torn) re="went away in the middle of a record .* the end" ;;
	esac
	check "... saying why, naming the peer" grep -qE "$re" "$T/h.$mode.l"
	case $mode in
	gap|repeat|ack) check "... after the good messages" grep -qE "read error after [123]: Protocol error \(garbage 1\)" "$T/h.$mode.l" ;;
	torn) check "... after the whole one" grep -q "eos after 1" "$T/h.$mode.l" ;;
	esac
done

# A stream reader at an endpoint, an endpoint at a stream server: refused, clearly.
: "${BELTLINE:?}"
P=$(port)
listen_bg "$T/s.l" env EP_TIMEOUT_MS=3000 "$EP_PEER" sink "tcp://127.0.0.1:$P" 0
out=$(timeout 60 "$BELTLINE" cat "tcp://127.0.0.1:$P" 2>&1 > /dev/null) && st=0 || st=$?
check "beltline cat of an endpoint: fails ($st), saying so ($out)" grep -q "the peer is an endpoint" <<< "$out"
kill -9 "$LPID" 2> /dev/null || true; wait "$LPID" 2> /dev/null || true

wait "$XPID" && st=0 || st=$?
kill "$XHPID" 2> /dev/null || true
wait "$XHPID" 2> /dev/null || true
eq "a message waiting makes beltline_ep_fd() readable after the send side filled ($(grep -v '^listening' "$T/xp.l" | tr '\n' ' '))" "$st" 0

# ---- 2. tls:// to a listener in a network namespace ----
if [ "$(id -u)" != 0 ]; then
	echo "SKIP - tls:// in a network namespace: not root"
	finish
fi
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
check "certificates made" test -s "$C/rogue.pem"
# (ip netns exec runs the command in its own process: a pid of ours to kill)
SRV=(ip netns exec "$NS" env BELTLINE_TLS_CA="$C/ca.pem" BELTLINE_TLS_CERT="$C/server.pem" BELTLINE_TLS_KEY="$C/server.key")
CLI=(env BELTLINE_TLS_CA="$C/ca.pem" BELTLINE_TLS_CERT="$C/client.pem" BELTLINE_TLS_KEY="$C/client.key")

# Listening off loopback: only tls://, only with all three certificate files.
out=$(ip netns exec "$NS" "$EP_PEER" listen "tcp://$NET.2:$(port)" 1 2>&1) && st=0 || st=$?
eq "tcp:// on $NET.2 (not loopback): cannot listen" "$st" 2
check "... saying why ($out)" grep -q "not a loopback address" <<< "$out"
out=$(ip netns exec "$NS" env BELTLINE_TLS_CA="$C/ca.pem" "$EP_PEER" listen "tls://$NET.2:$(port)" 1 2>&1) && st=0 || st=$?
eq "tls:// without our certificate: cannot listen" "$st" 2
check "... saying why ($out)" grep -q "mutual TLS: tls_cert, tls_key and tls_ca" <<< "$out"

# Two listeners of their own, started now and checked after the refusals below: each
# waits out (part of) a 3 s set-up time or a peer that stays, which the refusals need not
# wait for.
# A peer with a good certificate that then sends a TLS record that does not decrypt:
# garbage (-EPROTO naming the peer), not the end.
P=$(port)
listen_bg "$T/tj.l" "${SRV[@]}" "$EP_PEER" sink "tls://$NET.2:$P" 0
TJ=$LPID
"$PY" "$HOSTILE" tlsjunk "$P" "$NET.2" "$C/ca.pem" "$C/client.pem" "$C/client.key" > "$T/tj.py" 2>&1 &
TJH=$!
PIDS+=("$TJH")
# A peer slow through its handshake, then silent: the handshake and the hello share the
# set-up time (each had all of it: accept was held for twice EP_TIMEOUT_MS).
P=$(port)
listen_bg "$T/ts.l" "${SRV[@]}" EP_TIMEOUT_MS=3000 "$EP_PEER" sink "tls://$NET.2:$P" 0
TS=$LPID
"$PY" "$HOSTILE" tlsslow "$P" "$NET.2" "$C/ca.pem" "$C/client.pem" "$C/client.key" > "$T/ts.py" 2>&1 &
TSH=$!
PIDS+=("$TSH")

# Refusals: the listener (in the namespace) logs each with the peer and accepts again.
P=$(port)
U=tls://$NET.2:$P
listen_bg "$T/r.l" "${SRV[@]}" EP_ACCEPT_RETRY=1 EP_TIMEOUT_MS=3000 "$EP_PEER" listen "$U" 1000 10
RL=$LPID
# refused WHAT CMD...: the connector fails (setup failed: exit 2); the listener logs a refusal of $NET.1
refused() {
	local what=$1 st n0
	shift
	n0=$(grep -c "refused a connection" "$T/r.l" || true)
	"$@" > "$T/rc.out" 2>&1 && st=0 || st=$?
	eq "$what: the connector fails ($(tail -n 1 "$T/rc.out"))" "$st" 2
	more() { [ "$(grep -c "refused a connection" "$T/r.l" || true)" -gt "$n0" ]; }
	check "$what: the listener refuses it, naming the peer" wait_for "$WAIT" more
	check "$what: ... $(grep "refused $NET.1" "$T/r.l" | tail -n 1)" grep -q "refused $NET.1:[0-9]*: " "$T/r.l"
}
# (the connector's error is -ECONNREFUSED, as beltline.h says, with the hint: TLS 1.3
# refuses after the client's handshake, at its first read or write, which said
# -ECONNRESET, "closed before its hello")
refused "no client certificate" env BELTLINE_TLS_CA="$C/ca.pem" "$EP_PEER" connect "$U" 1000 11
check "... the listener says so" grep -q "did not return a certificate\|certificate required" "$T/r.l"
check "... the connector: Connection refused, naming the certificate variables" \
	grep -q "setup failed: Connection refused" "$T/rc.out"
check "... with the hint" grep -q "BELTLINE_TLS_CERT" "$T/rc.out"
refused "a certificate of another CA" env BELTLINE_TLS_CA="$C/ca.pem" BELTLINE_TLS_CERT="$C/rogue.pem" \
	BELTLINE_TLS_KEY="$C/rogue.key" "$EP_PEER" connect "$U" 1000 11
check "... the listener says so" grep -q "the client's certificate: unable to get local issuer" "$T/r.l"
check "... the connector: Connection refused" grep -q "setup failed: Connection refused" "$T/rc.out"
refused "a plain tcp:// client on the TLS port" "$EP_PEER" connect "tcp://$NET.2:$P" 1000 11
n0=$(grep -c "refused a connection" "$T/r.l" || true)
"$PY" -c "
import socket, time
s = socket.create_connection(('$NET.2', $P)); s.settimeout(60)
s.recv(1)" > /dev/null 2>&1 &
STALLED=$!
PIDS+=("$STALLED")
# Meanwhile (the listener waits 3 s for that handshake), on listeners of their own: the
# exchange and the kills over tls://, once the slow handshake above is through (its
# 1.5 s late start leaves it 1.5 s: not to be spent beside an exchange).
wait_for "$WAIT" grep -q sent "$T/ts.py" || true
exchange "tls:// to $NS" "tls://$NET.2:$(port)" "$TLS_N" "${SRV[@]}" -- "${CLI[@]}"
kills "tls:// to $NS" "tls://$NET.2:$(port)" "${SRV[@]}" -- "${CLI[@]}"
wait "$STALLED" || true
stalled() { [ "$(grep -c "refused a connection" "$T/r.l" || true)" -gt "$n0" ]; }
check "a stalled handshake: refused when the set-up timeout ends" wait_for "$WAIT" stalled
check "... saying so" grep -q "TLS handshake not done in 3000 ms" "$T/r.l"
out=$(env BELTLINE_TLS_CA="$C/otherca.pem" BELTLINE_TLS_CERT="$C/client.pem" \
	BELTLINE_TLS_KEY="$C/client.key" "$EP_PEER" connect "$U" 1000 11 2>&1) && st=0 || st=$?
eq "the connector refuses a listener its CA did not sign" "$st" 2
check "... saying so ($(grep TLS <<< "$out"))" grep -q "the server's certificate" <<< "$out"
# After all that, a good client gets in and the listener serves it.
"${CLI[@]}" "$EP_PEER" connect "$U" 1000 11 > "$T/rc.out" 2>&1 && st=0 || st=$?
wait "$RL" && lst=0 || lst=$?
eq "then a client with a certificate of the CA: 1000 checked each way" "$st/$lst" 0/0

# (the two started before the refusals)
wait "$TJ" && st=0 || st=$?
kill "$TJH" 2> /dev/null || true
wait "$TJH" 2> /dev/null || true
eq "a TLS record that does not decrypt: refused as garbage ($(grep -v '^listening' "$T/tj.l" | tail -n 2 | tr '\n' ' '))" "$st" 1
check "... naming the peer, after the good message" grep -q "the peer $NET.1:[0-9]* sent garbage: a TLS record that does not decrypt" "$T/tj.l"
check "... counted" grep -q "read error after 1: Protocol error (garbage 1)" "$T/tj.l"
wait "$TS" && st=0 || st=$?
kill "$TSH" 2> /dev/null || true
wait "$TSH" 2> /dev/null || true
ms=$(sed -n 's/.*no hello from .* in \([0-9]*\) ms.*/\1/p' "$T/ts.l" | head -n 1)
check "a slow handshake, then no hello: the hello had what the handshake left of 3000 ms ($(grep -v "^listening" "$T/ts.l" | tr "\n" " "))" \
	test -n "$ms" -a "${ms:-3000}" -lt 3000
# A silent connection (no handshake, no hello) holds an accept with timeout 0 2.5 s at most
# (a quarter of opts.timeout_ms), not opts.timeout_ms (10 s): -EPROTO, accept again.
P=$(port)
"${EP_XPOLL:?}" "tcp://127.0.0.1:$P" accept0 > "$T/xa" 2>&1 &
XA=$!
PIDS+=("$XA")
wait_for "$WAIT" grep -q listening "$T/xa"
python3 -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $P)); time.sleep(30)" &
PIDS+=("$!")
wait "$XA" && st=0 || st=$?
eq "tcp:// accept(timeout 0) beside a silent connection: done in under 5 s ($(tail -n 1 "$T/xa"))" "$st" 0
check "... with -EPROTO" grep -q "accept0 Protocol error after" "$T/xa"
finish
