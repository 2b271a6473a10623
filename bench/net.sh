#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The same stream read locally (shared memory, zero copy) and over tcp:// and tls:// on
# loopback through `beltline serve` (issue 12 point 5, the transport half), in one run:
# `gen size=S fill=headers | export name=b policy=frp` on one worker lcore, read by
# bench/client_reader (libbeltline-client alone, the same program, only the URI differs)
# for a window each, at 64 B and 1500 B. Prints Mpps received, the share lost and each
# transport's rate as a ratio to the local reader's. bench/ipc.sh may call it.
#   bench/net.sh [BUILD_DIR]     SMOKE=1: short windows     SECONDS_PER_RUN=S: window length
#                                (default 2 s; 6 s with FULL=1)
[ "${SMOKE:-0}" = 1 ] || export SECONDS_PER_RUN=${SECONDS_PER_RUN:-$([ "${FULL:-0}" = 1 ] && echo 6 || echo 2)}
. "$(dirname "$0")/lib.sh"
reader=$build/bench/client_reader
beltline=$build/app/beltline/beltline
[ -x "$reader" ] && [ -x "$beltline" ] || { echo "net: build first ($reader, $beltline)"; exit 1; }
export BELTLINE_RUN_DIR=$tmp/run BELTLINE_TLS_PLUGIN=$build/client/libbeltline-client-tls.so.0
mkdir -p "$BELTLINE_RUN_DIR"
inst=bnet$$
pids=()
track() { pids+=("$1"); }
bench_cleanup() { local p; for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; }
hp=$([ "$mem" = yes ] && echo yes || echo no)
C=$tmp/certs
mkdir -p "$C"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 1 -subj /CN=ca 2> /dev/null
for n in server client; do
	openssl req -newkey rsa:2048 -nodes -keyout "$C/$n.key" -out "$C/$n.csr" -subj "/CN=$n" 2> /dev/null
	echo "subjectAltName=IP:127.0.0.1" > "$C/$n.ext"
	openssl x509 -req -in "$C/$n.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
		-out "$C/$n.pem" -days 1 -extfile "$C/$n.ext" 2> /dev/null
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# read URI: "Mpps lost_share" of client_reader over one window
read_uri() {
	local out n l
	out=$(BELTLINE_TLS_CA=$C/ca.pem BELTLINE_TLS_CERT=$C/client.pem BELTLINE_TLS_KEY=$C/client.key \
		timeout $((secs * 3 + 60)) "$reader" --warmup 1 --duration "$secs" "$1" 2> "$tmp/rd.err" || true)
	n=$(kv received <<< "$out"); l=$(kv lost <<< "$out")
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "nan nan"; sed "s/^/  # $(basename "$1"): /" "$tmp/rd.err" >&2; return; }
	awk -v p="$(kv pps <<< "$out")" -v n="$n" -v l="$l" 'BEGIN { printf "%.3f %.3f\n", p / 1e6, l / (n + l) }'
}

printf '%-6s %-10s %10s %8s %10s\n' size transport Mpps lost ratio
for size in 64 1500; do
	# before our own gen starts: it keeps a core busy, and would read as other work
	wait_quiet 2> /dev/null || true
	cat > "$tmp/bl.json" <<JSON
{ "instance": "$inst", "memory": { "hugepages": "$hp" }, "lcore_cpu": { "0": 0, "1": 1 },
  "ports": [ { "name": "out", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen size=$size fill=headers | export name=b policy=frp capacity=4096" } ] }
JSON
	"$beltlined" -q --duration 3600 "$tmp/bl.json" > /dev/null 2> "$tmp/bl.err" &
	bp=$!; track "$bp"
	for _ in $(seq 1200); do [ -S "$BELTLINE_RUN_DIR/$inst/ctl" ] && break; sleep 0.05; done
	tp=$(free_port); sp=$(free_port)
	"$beltline" -i "$inst" serve b "tcp://127.0.0.1:$tp" 2> "$tmp/serve_tcp.err" & track $!
	"$beltline" -i "$inst" serve --cert "$C/server.pem" --key "$C/server.key" --ca "$C/ca.pem" \
		b "tls://127.0.0.1:$sp" 2> "$tmp/serve_tls.err" & track $!
	for _ in $(seq 1200); do grep -qs serving "$tmp/serve_tcp.err" && grep -qs serving "$tmp/serve_tls.err" && break; sleep 0.05; done
	read -r lm ll <<< "$(read_uri "beltline://$inst/b")"
	printf '%-6s %-10s %10s %8s %10s\n' "$size" local "$lm" "$ll" 1.000
	for tr in tcp tls; do
		port=$([ $tr = tcp ] && echo "$tp" || echo "$sp")
		read -r m l <<< "$(read_uri "$tr://127.0.0.1:$port")"
		printf '%-6s %-10s %10s %8s %10s\n' "$size" "$tr://" "$m" "$l" "$(ratio "$m" "$lm" 2> /dev/null || echo nan)"
	done
	bench_cleanup
	pids=()
done
echo "# one window of $secs s per row; lost: the share the reader lost (FRP: the producer never waits)"
