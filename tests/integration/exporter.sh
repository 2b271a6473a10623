#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# beltline exporter (issue 14 point 3): beltlined replays the sample capture once
# into a count, an export with a reader and a pcap sink, beside an inject stream
# with a writer; `beltline exporter` serves it on an HTTP port; the scrape passes
# `promtool check metrics`, names every number (no untyped family), and its values
# equal `beltline stats --json` once the replay has ended. When beltlined stops, the
# exporter serves beltline_up 0. Bad --listen, a wrong path and a POST are refused.
. "$(dirname "$0")/lib.sh"

command -v promtool > /dev/null || { echo "SKIP: no promtool (apt-get install prometheus)"; exit 77; }
command -v curl > /dev/null || { echo "SKIP: no curl"; exit 77; }
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
CAP=$SRCDIR/config/sample.pcap
I=$(inst exporter)
export BELTLINE_INSTANCE=$I BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$CAP" },
             { "name": "out", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | count --name=all | export name=web policy=frp",
      "rx port=in | bpf \"tcp\" | pcap file=$T/tcp.pcap",
      "inject name=inj | tx port=out" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
XPID=
RPID=
trap 'kill -TERM $BPID $XPID $RPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket" wait_for "$WAIT" test -S "$BELTLINE_RUN_DIR/$I/ctl"
stat_of() { "$BELTLINE" stats --json | jq -r "$1"; }
replayed() { [ "$(stat_of '.ports[] | select(.name=="in") | .rx')" = 1000 ]; }
check "the capture is replayed (1000 packets)" wait_for "$WAIT" replayed
# A reader on the stream and a writer on the inject stream (it writes the capture once).
"$BELTLINE" cat web > /dev/null 2> "$T/cat.err" &
RPID=$!
has_reader() { [ "$(stat_of '.streams[0].n_readers')" = 1 ]; }
check "a reader attached" wait_for "$WAIT" has_reader
"$BELTLINE" inject inj "$CAP" 2> "$T/inj.err"
injected() { [ "$(stat_of '.ports[] | select(.name=="out") | .tx')" = 1000 ]; }
check "the inject stream sent the capture" wait_for "$WAIT" injected

# Bad input first: nothing listens, a clear word.
set +e
"$BELTLINE" exporter --listen nonsense > /dev/null 2> "$T/x.err"; rc=$?
set -e
eq "--listen nonsense: exit status" "$rc" 2
check "--listen nonsense: says what it wants" grep -q "ADDRESS:PORT" "$T/x.err"
set +e
"$BELTLINE" exporter --listen 127.0.0.1:99999 > /dev/null 2> "$T/x.err"; rc=$?
set -e
eq "--listen port 99999: exit status" "$rc" 2

# An HTTP port of our own: try a few (another test may hold one).
up() { curl -sf -o /dev/null "http://127.0.0.1:$PORT/"; }
for try in 1 2 3 4 5; do
	PORT=$(( 20000 + (RANDOM % 20000) ))
	"$BELTLINE" exporter --listen "127.0.0.1:$PORT" 2> "$T/exporter.err" &
	XPID=$!
	if wait_for "$WAIT" up; then break; fi
	kill -TERM $XPID 2> /dev/null || true
	wait $XPID 2> /dev/null || true
	XPID=
done
check "the exporter listens (port $PORT)" test -n "$XPID"
set +e; "$BELTLINE" exporter --listen "127.0.0.1:$PORT" > /dev/null 2> "$T/x.err"; rc=$?; set -e
eq "a second exporter on its port: exit status" "$rc" 1
check "... saying why, with the port ($(head -c 200 "$T/x.err"))" grep -qF \
	"exporter: cannot listen on 127.0.0.1:$PORT: Address already in use (another program has it" "$T/x.err"
check "... and only that (libmicrohttpd said \"port 0\")" test "$(wc -l < "$T/x.err")" -eq 1
curl -sf -D "$T/hdr" "http://127.0.0.1:$PORT/metrics" -o "$T/m.txt"
check "content type is the text format 0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$T/hdr"
# a fraction printed with the digits a double holds, no more (uptime was 37.770600780000002)
# (significant digits: the leading zeros of 0.5178... are none; counted, an uptime under 1 s
# failed with its 15 digits)
noisy=$(grep -vE '^#' "$T/m.txt" | awk '$NF ~ /\./ { v = $NF; sub(/e.*/, "", v); gsub(/[^0-9]/, "", v); sub(/^0+/, "", v); if (length(v) > 15) print }' | head -3)
check "no value printed past the digits a double holds (${noisy:-none})" test -z "$noisy"
if promtool check metrics < "$T/m.txt" > "$T/promtool.out" 2>&1; then
	ok "promtool check metrics: no problem"
else
	bad "promtool check metrics: $(cat "$T/promtool.out")"
fi
eq "no untyped family (every stats key has a name)" "$(grep -c '^# TYPE .* untyped$' "$T/m.txt" || true)" 0
eq "beltline_up" "$(sed -n 's/^beltline_up{instance="'"$I"'"} //p' "$T/m.txt")" 1

# The values: the replay is over and the stream idle, so they stand still.
"$BELTLINE" stats --json > "$T/s.json"
m() { sed -n "s/^$1{$2} //p" "$T/m.txt"; }
L="instance=\"$I\""
G="$L,graph=\"graphs\\[0\\]\\.0\""
eq "port in rx packets" "$(m beltline_port_rx_packets_total "$L,port=\"in\"")" \
	"$(jget "$T/s.json" '.ports[] | select(.name=="in") | .rx')"
eq "port in rx bytes" "$(m beltline_port_rx_bytes_total "$L,port=\"in\"")" \
	"$(jget "$T/s.json" '.ports[] | select(.name=="in") | .rx_bytes')"
eq "port out tx packets" "$(m beltline_port_tx_packets_total "$L,port=\"out\"")" \
	"$(jget "$T/s.json" '.ports[] | select(.name=="out") | .tx')"
eq "count filter's packets" "$(m beltline_filter_count_packets_total "$G,filter=\"all\",type=\"count\"")" \
	"$(jget "$T/s.json" '.filters[] | select(.name=="all") | .counters.packets')"
eq "count filter's bytes" "$(m beltline_filter_count_bytes_total "$G,filter=\"all\",type=\"count\"")" \
	"$(jget "$T/s.json" '.filters[] | select(.name=="all") | .counters.bytes')"
eq "bpf dropped" "$(m beltline_filter_dropped_packets_total "$G,filter=\"bpf\",type=\"bpf\"")" \
	"$(jget "$T/s.json" '.filters[] | select(.name=="bpf") | .dropped')"
eq "pcap written" "$(m beltline_filter_pcap_written_total "$G,filter=\"pcap\",type=\"pcap\"")" \
	"$(jget "$T/s.json" '.filters[] | select(.name=="pcap") | .counters.written')"
eq "edge all -> export" "$(m beltline_edge_packets_total "$G,from=\"all\",to=\"export\"")" \
	"$(jget "$T/s.json" '.edges[] | select(.from=="all") | .packets')"
eq "stream written" "$(m beltline_stream_written_total "$L,stream=\"web\"")" \
	"$(jget "$T/s.json" '.streams[0].written')"
eq "stream readers (a gauge)" "$(m beltline_stream_readers "$L,stream=\"web\"")" 1
check "the reader's lag is a gauge" grep -q '^# TYPE beltline_reader_lag_entries gauge$' "$T/m.txt"
check "a stream's info: its policy and what it holds" \
	grep -qE '^beltline_stream_info\{.*stream="web".*policy="frp".*content="packets".*\} 1$' "$T/m.txt"
eq "inject frames" "$(m beltline_inject_frames_total "$L,inject=\"inj\"")" \
	"$(jget "$T/s.json" '.injects[0].writer.frames')"
eq "mbuf pool size" "$(m beltline_mbuf_pool_size "$L")" "$(jget "$T/s.json" '.mbufs.pool_size')"
check "mbufs in use: a gauge" grep -q '^# TYPE beltline_mbuf_pool_in_use gauge$' "$T/m.txt"
eq "control: max connections" "$(m beltline_control_connections_max "$L")" \
	"$(jget "$T/s.json" '.control.max')"
eq "control: idle timeout in seconds" "$(m beltline_control_idle_timeout_seconds "$L")" 10
check "tx's port_id is a gauge" grep -q '^# TYPE beltline_filter_tx_port_id gauge$' "$T/m.txt"
# Every counter a filter's table marks a value (bl_counter_def.gauge) is a gauge, by the
# appliance's own "gauges" list of the filter (the exporter kept a list of its own, which
# lacked flow's and tcpstream's: flow_active_total was a counter that went down).
check "bpf's jit is a gauge" grep -q '^# TYPE beltline_filter_bpf_jit gauge$' "$T/m.txt"
check "export's readers is a gauge" grep -q '^# TYPE beltline_filter_export_readers gauge$' "$T/m.txt"
check "pcap's last_errno is a gauge" grep -q '^# TYPE beltline_filter_pcap_last_errno gauge$' "$T/m.txt"
# (inject's held and zero_copy_on were declared as counters: served as *_total counters,
# which rate() takes a fall of for a reset)
check "inject's held is a gauge" grep -q '^# TYPE beltline_filter_inject_held gauge$' "$T/m.txt"
check "inject's zero_copy_on is a gauge" grep -q '^# TYPE beltline_filter_inject_zero_copy_on gauge$' "$T/m.txt"
# ... and beltline top shows them as they are, not as a rate (port_id:0 from a port 1).
"$BELTLINE" top -n 1 -d 1 > "$T/top" 2>&1 || true
check "top: tx's port_id as it is (1), not per second" grep -q "port_id:1," "$T/top"

# DPDK's telemetry: beltlined's own commands, through DPDK's own client.
if command -v dpdk-telemetry.py > /dev/null; then
	tel() { timeout 60 dpdk-telemetry.py -f "bl_$I" <<< "$1" 2> "$T/tel.err"; }
	tel /beltline/stats > "$T/tel.json"
	eq "telemetry /beltline/stats: port in rx" "$(jget "$T/tel.json" '."/beltline/stats".ports.in.rx')" \
		"$(jget "$T/s.json" '.ports[] | select(.name=="in") | .rx')"
	tel /beltline/stats,filters > "$T/tel.json"
	eq "telemetry /beltline/stats,filters: count's packets" \
		"$(jget "$T/tel.json" '."/beltline/stats"["graphs_0__0/all"]["counters/packets"]')" \
		"$(jget "$T/s.json" '.filters[] | select(.name=="all") | .counters.packets')"
	tel /beltline/streams > "$T/tel.json"
	eq "telemetry /beltline/streams: web written" "$(jget "$T/tel.json" '."/beltline/streams".web.written')" \
		"$(jget "$T/s.json" '.streams[0].written')"
	tel /beltline/streams,web > "$T/tel.json"
	eq "telemetry /beltline/streams,web: its reader" \
		"$(jget "$T/tel.json" '."/beltline/streams".readers | length')" 1
	tel /beltline/stats,nothing > "$T/tel.json"
	eq "telemetry /beltline/stats,nothing: refused (null)" "$(jget "$T/tel.json" '."/beltline/stats"')" null
	tel /beltline/streams,nothing > "$T/tel.json"
	eq "telemetry /beltline/streams,nothing: refused (null)" "$(jget "$T/tel.json" '."/beltline/streams"')" null
else
	echo "(no dpdk-telemetry.py: telemetry not checked)"
fi

# What is not served.
eq "GET /nothing: 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nothing")" 404
eq "POST /metrics: 405" "$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$PORT/metrics")" 405

# The instance stopped (SIGSTOP): beltline_up 0 within what Prometheus says it waits
# (X-Prometheus-Scrape-Timeout-Seconds, less 0.5 s). The exporter waited the library's
# 10 s, Prometheus' whole default scrape_timeout: a failed scrape, not up 0.
kill -STOP $BPID
t0=$(date +%s%N)
code=$(curl -s -o "$T/ms.txt" -w '%{http_code}' -H 'X-Prometheus-Scrape-Timeout-Seconds: 2' \
	"http://127.0.0.1:$PORT/metrics")
dt=$((($(date +%s%N) - t0) / 1000000))
kill -CONT $BPID
eq "instance stopped: HTTP status" "$code" 200
eq "instance stopped: beltline_up" "$(sed -n 's/^beltline_up{instance="'"$I"'"} //p' "$T/ms.txt")" 0
check "... in about 1.5 s, not the library's 10 ($dt ms; under 5 s: a busy machine)" test "$dt" -lt 5000
answered() { curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics"; grep -q "instance '$I' answers again" "$T/exporter.err"; }
check "it answers again" wait_for "$WAIT" answered
n_out=$(grep -c "serving beltline_up 0\|no instance" "$T/exporter.err" || true)

# The instance gone: up 0, still HTTP 200.
kill -TERM $RPID; wait $RPID 2> /dev/null || true; RPID=
kill -TERM $BPID; wait $BPID || true
code=$(curl -s -o "$T/m2.txt" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
eq "instance gone: HTTP status" "$code" 200
eq "instance gone: beltline_up" "$(sed -n 's/^beltline_up{instance="'"$I"'"} //p' "$T/m2.txt")" 0
check "instance gone: promtool still content" promtool check metrics < "$T/m2.txt"
# The outage said once, with the library's reason, however many scrapes see it (each
# scrape added the library's line)
for _ in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics"; done
eq "the outage said once in 4 scrapes ($(grep -v '^$' "$T/exporter.err" | tail -n 3))" \
	"$(grep -c "serving beltline_up 0\|no instance" "$T/exporter.err")" $((n_out + 1))
check "... with the library's reason" grep -q "(serving beltline_up 0): .*no instance '$I' is running" "$T/exporter.err"
kill -TERM $XPID
set +e
wait $XPID; rc=$?
set -e
XPID=
eq "the exporter stops on SIGTERM: exit status" "$rc" 0

# Without libmicrohttpd (hidden in a mount namespace of its own: root only) the exporter
# says what to install, not only the loader's complaint.
lib=$(ldconfig -p | sed -n 's/^[[:space:]]*libmicrohttpd\.so\.12 .*=> //p' | head -n 1)
if [ "$(id -u)" -eq 0 ] && [ -n "$lib" ] && unshare -m true 2> /dev/null; then
	set +e
	unshare -m sh -c 'mount --bind /dev/null "$(readlink -f "$1")" && exec "$2" exporter --listen 127.0.0.1:1' \
		sh "$lib" "$BELTLINE" > /dev/null 2> "$T/nolib.err"; rc=$?
	set -e
	eq "without libmicrohttpd: exit status" "$rc" 1
	check "... the error names the package to install ($(head -c 300 "$T/nolib.err"))" \
		grep -q "cannot load libmicrohttpd.so.12: .*install it (Debian: apt-get install libmicrohttpd12)" "$T/nolib.err"
else
	echo "# SKIP: hiding libmicrohttpd (needs root, unshare -m and libmicrohttpd.so.12 in ldconfig's cache)"
fi
finish
