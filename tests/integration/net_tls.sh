#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tls:// (issue 12 points 2 and 4): `beltline serve STREAM tls://ADDR:PORT` on a veth
# address (off loopback: mutual TLS is required) and, in a network namespace created
# here, `beltline cat tls://ADDR:PORT | tcpdump -r -` prints what `beltline cat
# STREAM | tcpdump -r -` prints locally. Refused, with the peer logged: no client
# certificate, one signed by another CA, a plain tcp:// client, a stalled handshake;
# and the client refuses a server its CA did not sign. Certificates are made here.
. "$(dirname "$0")/lib.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
CAP=$SRCDIR/config/sample.pcap
[ "$(id -u)" = 0 ] || { echo "SKIP: network namespaces need root"; exit 77; }
I=$(inst tls)
export BELTLINE_INSTANCE=$I BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"
NS=bltls$$
VA=bt$$a
VB=bt$$b
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

# ---- certificates: a CA, the server (SAN: the veth address), a client; another CA ----
C=$T/certs
mkdir -p "$C"
. "$(dirname "$0")/tls_certs.sh"
ca ca
ca otherca
V6=fd$(printf %02x $((RANDOM % 256))):$(printf %x $((RANDOM % 65536)))   # a /32 of our own
leaf server ca "IP:$NET.1,IP:127.0.0.1,IP:$V6:a::1"
leaf client ca "DNS:client"
leaf rogue otherca "DNS:rogue"
check "certificates made" test -s "$C/rogue.pem"

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "inject name=src | export name=web policy=srp capacity=4096" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
PIDS="$PIDS $!"
check "control socket" wait_for "$WAIT" test -S "$BELTLINE_RUN_DIR/$I/ctl"

PORT=$((20000 + RANDOM % 20000))
set +e
"$BELTLINE" serve web tcp://$NET.1:$PORT > /dev/null 2> "$T/s0.err"; rc=$?
"$BELTLINE" serve web tls://$NET.1:$PORT > /dev/null 2> "$T/s1.err"; rc1=$?
set -e
eq "serve tcp:// on the veth address: refused" "$rc" 2
eq "serve tls:// without certificates: refused" "$rc1" 2
check "serve tls:// without certificates: says --ca" grep -q -- "--ca" "$T/s1.err"
"$BELTLINE" serve --cert "$C/server.pem" --key "$C/server.key" --ca "$C/ca.pem" \
	--handshake-ms 1500 web tls://$NET.1:$PORT 2> "$T/serve.err" &
SERVE=$!
PIDS="$PIDS $SERVE"
check "serve listens on $NET.1:$PORT" wait_for "$WAIT" grep -qs "serving" "$T/serve.err"

inns() { timeout 60 ip netns exec "$NS" env BELTLINE_TLS_CA="$C/ca.pem" "$@"; }
# refused CASE CMD...: the client fails (exit 1) and serve logs a refusal of $NET.2
refused() {
	local what=$1 rc n0
	shift
	n0=$(grep -c "refused $NET.2" "$T/serve.err" || true)
	set +e
	"$@" > /dev/null 2> "$T/r.err"; rc=$?
	set -e
	eq "$what: the client fails" "$rc" 1
	more() { [ "$(grep -c "refused $NET.2" "$T/serve.err" || true)" -gt "$n0" ]; }
	check "$what: serve logs the refusal with the peer" wait_for "$WAIT" more
}
refused "no client certificate" inns "$BELTLINE" cat tls://$NET.1:$PORT
# TLS 1.3: the server's refusal (an alert) comes with the client's first read: said as a
# refusal (-ECONNREFUSED, as documented), not as "receive: Protocol error"
check "... the client says the server refused its certificate ($(head -c 300 "$T/r.err"))" \
	grep -q "Connection refused (the server refused our certificate" "$T/r.err"
refused "a certificate of another CA" inns env BELTLINE_TLS_CERT="$C/rogue.pem" \
	BELTLINE_TLS_KEY="$C/rogue.key" "$BELTLINE" cat tls://$NET.1:$PORT
check "... the client says the server refused its certificate ($(head -c 300 "$T/r.err"))" \
	grep -q "Connection refused (the server refused our certificate" "$T/r.err"
refused "a plain tcp:// client on the TLS port" inns "$BELTLINE" cat tcp://$NET.1:$PORT
refused "a stalled handshake" inns python3 -c "
import socket, sys, time
s = socket.create_connection(('$NET.1', $PORT)); s.settimeout(30)
sys.exit(1 if s.recv(1) == b'' else 0)"
check "a stalled handshake: logged as timed out" grep -q "timed out" "$T/serve.err"
# A handshake trickled a byte every half second: each receive is quick, the whole is not.
# It is cut at --handshake-ms (1500) all the same (it was not: a timeout per receive let
# such a peer hold a place, of --max-clients or the one writer's, for ever, unchecked).
refused "a handshake trickled a byte every 0.5 s" inns python3 -c "
import socket, sys, time
s = socket.create_connection(('$NET.1', $PORT)); s.settimeout(0.5)
for b in bytes([0x16, 3, 1, 1, 0]) + bytes(60):   # a record of 256 bytes, never whole
    try:
        s.send(bytes([b]))
        if s.recv(1) == b'':
            sys.exit(1)         # cut
    except socket.timeout:
        pass
    except OSError:
        sys.exit(1)             # cut
sys.exit(0)                     # 30 s and never cut"
check "... logged as not done in --handshake-ms" grep -q "not done in 1500 ms" "$T/serve.err"
set +e
ip netns exec "$NS" env BELTLINE_TLS_CA="$C/otherca.pem" BELTLINE_TLS_CERT="$C/client.pem" \
	BELTLINE_TLS_KEY="$C/client.key" "$BELTLINE" cat tls://$NET.1:$PORT > /dev/null 2> "$T/w.err"
rc=$?
set -e
eq "the client refuses a server its CA did not sign" "$rc" 1
check "... and says the server's certificate" grep -q "server's certificate" "$T/w.err"

# ---- the same stream, locally and from the namespace over tls:// ----
N=$(tcpdump -r "$CAP" -nn 2> /dev/null | wc -l)
"$BELTLINE" cat -c "$N" web 2> "$T/local.err" | tcpdump -r - -nn -t -e -xx > "$T/local.txt" 2> /dev/null &
LPID=$!
export BELTLINE_TLS_CERT="$C/client.pem" BELTLINE_TLS_KEY="$C/client.key"
inns "$BELTLINE" cat -c "$N" tls://$NET.1:$PORT 2> "$T/remote.err" | \
	tcpdump -r - -nn -t -e -xx > "$T/remote.txt" 2> /dev/null &
RPID=$!
readers() { "$BELTLINE" stats --json | jq '[.streams[] | select(.name == "web") | .readers[]] | length'; }
two_readers() { [ "$(readers 2> /dev/null)" = 2 ]; }
check "two readers of web (one local, one over tls:// from $NS)" wait_for "$WAIT" two_readers
"$BELTLINE" inject src "$CAP"
wait $LPID && st=0 || st=$?
eq "local cat | tcpdump" "$st" 0
wait $RPID && st=0 || st=$?
eq "cat tls:// | tcpdump in $NS" "$st" 0
eq "local: every packet" "$(wc -l < "$T/local.txt" | tr -d ' ')" \
	"$(tcpdump -r "$CAP" -nn -t -e -xx 2> /dev/null | wc -l | tr -d ' ')"
check "tcpdump of cat tls:// in $NS prints what tcpdump of cat STREAM prints" \
	cmp -s "$T/local.txt" "$T/remote.txt"
check "serve logged the client certificate" grep -q "TLS client /CN=client" "$T/serve.err"
# Its last line totals them: the reader served, and the six refused in their handshakes
# above (no certificate, another CA, plain tcp://, stalled, trickled, a client that did
# not trust serve). It printed only the refusals serve itself made, none of these.
kill -TERM "$SERVE"
wait "$SERVE" || true
check "serve's last line: 1 served, 6 refused ($(tail -n 1 "$T/serve.err"))" \
	bash -c "tail -n 1 '$T/serve.err' | grep -q 'stopped: 1 peers served, 6 refused'"

# Connections that never start their handshake counted against --max-clients until
# --handshake-ms: two such kept an authenticated reader out of a --max-clients 2 serve.
# They count apart now, 8 at most: a ninth connection cuts the oldest.
MPORT=$((PORT + 1))
"$BELTLINE" serve --cert "$C/server.pem" --key "$C/server.key" --ca "$C/ca.pem" \
	--max-clients 2 --handshake-ms 30000 web tls://$NET.1:$MPORT 2> "$T/mserve.err" &
PIDS="$PIDS $!"
check "serve --max-clients 2 listens" wait_for "$WAIT" grep -qs "serving" "$T/mserve.err"
ip netns exec "$NS" python3 -c "
import socket, time
ss = [socket.create_connection(('$NET.1', $MPORT)) for _ in range(9)]
time.sleep(40)" &
IDLE=$!
PIDS="$PIDS $IDLE"
check "a ninth connection in handshake cuts the oldest" wait_for "$WAIT" \
	grep -q "cut $NET.2:[0-9]*: its TLS handshake was the oldest of its host's 9, the most of the 8 in progress" "$T/mserve.err"
# A host flooding the port with connections that never shake hands cuts its own, not
# another host's: a handshake from this side ($NET.1) that starts a second late, while the
# namespace connects 50 more, is served. (The oldest of all was cut: this one, mid-way.)
ip netns exec "$NS" "$PY" -c "
import socket, time
ss = []
for i in range(50): ss.append(socket.create_connection(('$NET.1', $MPORT))); time.sleep(0.02)
time.sleep(30)" &
FLOOD=$!
PIDS="$PIDS $FLOOD"
set +e
timeout 60 "$PY" - "$C" $MPORT $NET.1 > "$T/slowh.out" 2>&1 <<'PY'
import socket, ssl, sys, time
c, port, host = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
time.sleep(1.5)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(c + '/ca.pem'); ctx.load_cert_chain(c + '/client.pem', c + '/client.key')
t = ctx.wrap_socket(s, server_hostname=host)
print('hello', t.recv(24)[:4])
PY
st=$?
set -e
eq "a slow handshake from another host beside a flood: served ($(tail -n 1 "$T/slowh.out"))" "$st" 0
check "... its hello" grep -q "hello b'BLNT'" "$T/slowh.out"
kill $FLOOD 2> /dev/null || true
inns "$BELTLINE" cat -c 1 tls://$NET.1:$MPORT > "$T/m.pcap" 2> "$T/m.err" &
MPID=$!
one_reader() { [ "$(readers 2> /dev/null)" = 1 ]; }
check "... it is served (a reader of web)" wait_for "$WAIT" one_reader
"$BELTLINE" inject src "$CAP" > /dev/null
wait $MPID && st=0 || st=$?
eq "an authenticated reader beside connections that sent nothing: exit 0 ($(head -c 300 "$T/m.err"))" "$st" 0
kill $IDLE 2> /dev/null || true

# The same flood from 40 addresses of one IPv6 /64 (one host may hold a whole /64): each
# counted as a host of its own, so every count was 1 and the oldest of all was cut, the
# honest handshake from another /64 among them. Now the /64 is one host.
ip -6 addr add "$V6:a::1/64" dev "$VA" nodad
ip -6 addr add "$V6:b::1/64" dev "$VA" nodad
for i in $(seq 2 41); do ip -n "$NS" -6 addr add "$V6:a::$i/64" dev "$VB" nodad; done
V6PORT=$((MPORT + 1))
"$BELTLINE" serve --cert "$C/server.pem" --key "$C/server.key" --ca "$C/ca.pem" \
	--max-clients 2 --handshake-ms 30000 web "tls://[$V6:a::1]:$V6PORT" 2> "$T/v6serve.err" &
V6SERVE=$!
PIDS="$PIDS $V6SERVE"
check "serve listens on [$V6:a::1]:$V6PORT" wait_for "$WAIT" grep -qs "serving" "$T/v6serve.err"
# The honest client connects first (the oldest of all: what the old rule cut first),
# then waits 3 s before its handshake while the flood connects.
timeout 60 "$PY" - "$C" $V6PORT "$V6" > "$T/slowh6.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
c, port, v6 = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6); s.bind((v6 + ':b::1', 0)); s.connect((v6 + ':a::1', port))
print('connected', flush=True)
time.sleep(3)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(c + '/ca.pem'); ctx.load_cert_chain(c + '/client.pem', c + '/client.key')
t = ctx.wrap_socket(s, server_hostname=v6 + ':a::1')
print('hello', t.recv(24)[:4])
PY
HONEST=$!
check "the honest client connected" wait_for "$WAIT" grep -q connected "$T/slowh6.out"
ip netns exec "$NS" "$PY" -c "
import socket, time
ss = []
for i in range(2, 42):
    s = socket.socket(socket.AF_INET6); s.bind(('$V6:a::%d' % i, 0)); s.connect(('$V6:a::1', $V6PORT))
    ss.append(s); time.sleep(0.02)
time.sleep(30)" &
FLOOD6=$!
PIDS="$PIDS $FLOOD6"
wait $HONEST && st=0 || st=$?
eq "a slow handshake from another /64 beside a flood from 40 addresses of one: served ($(tail -n 1 "$T/slowh6.out"))" "$st" 0
check "... the flood's /64 counted as one host" grep -q "cut \[$V6:a::[0-9a-f]*\]:[0-9]*: its TLS handshake was the oldest of its host's [2-9]" "$T/v6serve.err"
kill $FLOOD6 $V6SERVE 2> /dev/null || true

# The connect, the TLS handshake and the hello share the open's one timeout: a server that
# is slow to shake hands (1.2 s) and then sends no hello held `cat` for the handshake's
# time and then the whole timeout again (1.5 s: 2.7 s in all); now 1.5 s.
"$PY" - "$C/server.pem" "$C/server.key" > "$T/slow.port" <<'PY' &
import socket, ssl, sys, time
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(1)
print(ls.getsockname()[1], flush=True)
c, _ = ls.accept()
time.sleep(1.2)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
t = ctx.wrap_socket(c, server_side=True)
time.sleep(30)
PY
PIDS="$PIDS $!"
wait_for "$WAIT" test -s "$T/slow.port"
t0=$(date +%s%N)
set +e
BELTLINE_TIMEOUT_MS=1500 BELTLINE_TLS_CA="$C/ca.pem" "$BELTLINE" cat -c 1 \
	tls://127.0.0.1:$(cat "$T/slow.port") > /dev/null 2> "$T/slow.err"; st=$?
set -e
dt=$((($(date +%s%N) - t0) / 1000000))
eq "a slow handshake, then no hello: cat fails ($(head -c 200 "$T/slow.err"))" "$st" 1
check "... no hello (the timeout, 1500 ms)" grep -q "no hello from the peer in 1500 ms" "$T/slow.err"
check "... after about 1500 ms in all, not 2700 ($dt ms)" test "$dt" -lt 2500
finish
