#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Ports on a live reload (issue 11 point 2): a vdev port added to the config is
# made and started live, and a graph that polls it runs; one no graph uses any
# more is closed once no worker polls it; the ports that stay keep their DPDK
# port and counters. A failure at any step (injected, or a graph naming a port
# that is not there) leaves the ports as they were: the next add of the same
# device works (a half-made device would be "already exists"). A PCI port added
# live is refused by name, and so is a port whose rings the running pool cannot
# fill (mbufs: the pool stays; give it headroom to add ports live), and a capture port
# on a FIFO with nobody at its other end (the driver would wait, holding the appliance).
. "$(dirname "$0")/lib.sh"

I=$(inst rports)
export BELTLINE_INSTANCE=$I BELTLINED_TEST_HOOKS=1
# mkcfg FILE EXTRA_PORTS EXTRA_GRAPHS
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "$I", "mbufs": { "count": 32767 },
  "ports": [ { "name": "a", "vdev": "net_null0" }, { "name": "b", "vdev": "net_null1" } $2 ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=a | count --name=fa | tx port=b" } $3 ] }
JSON
}
mkcfg "$T/a.json" '' ''
mkcfg "$T/c.json" ', { "name": "c", "vdev": "net_null2" }' \
	', { "lcores": [1], "pipeline": "rx port=c | count --name=fc | drop" }'
mkcfg "$T/nograph.json" ', { "name": "c", "vdev": "net_null2" }' \
	', { "lcores": [1], "pipeline": "rx port=d | count --name=fc | drop" }'
mkcfg "$T/pci.json" ', { "name": "p", "pci": "0000:00:1f.7" }' ''
mkcfg "$T/nocap.json" ', { "name": "c", "vdev": "net_pcap2,rx_pcap='"$T"'/missing.pcap" }' \
	', { "lcores": [1], "pipeline": "rx port=c | count --name=fc | drop" }'

st() { "$BELTLINE" stats --json; }
ports() { jq -r '[.ports[].name] | join(",")' <<< "$(st)"; }
filter_in() { jq -r --arg n "$1" '[.filters[] | select(.name == $n) | .in] | add // 0' <<< "$(st)"; }

"$BELTLINED" --stats-interval 0 "$T/a.json" > "$T/final.json" 2> "$T/d.err" &
PID=$!
wait_ctl "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl" "$PID" "$T/d.err"
eq "ports at the start" "$(ports)" "a,b"

# Refused, by name, the ports untouched.
set +e; "$BELTLINE" reload "$T/pci.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "a PCI port added live: refused" "$rc" 1
check "... by name" grep -q 'ports "p" (a PCI port is added at start only) changed: needs a restart' "$T/r.err"
set +e; "$BELTLINE" reload "$T/nograph.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "a graph naming a port that is not there: refused" "$rc" 1
check "... saying which" grep -q 'no port named "d"' "$T/r.err"
set +e; "$BELTLINE" reload "$T/nocap.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "a capture port added live whose capture is not there: refused" "$rc" 1
check "... naming the file and why ($(head -c 300 "$T/r.err"))" \
	grep -q "rx_pcap=$T/missing.pcap: No such file or directory" "$T/r.err"
# A capture port on a FIFO added live with nobody at its other end: the pcap driver's open
# waited for a reader (tx) or for the header (rx) in the main lcore, control socket and all,
# until one came. Refused at once, naming the FIFO; the control socket answers throughout.
mkfifo "$T/txfifo" "$T/rxfifo"
mkcfg "$T/txfifo.json" ', { "name": "c", "vdev": "net_pcap2,tx_pcap='"$T"'/txfifo" }' ''
mkcfg "$T/rxfifo.json" ', { "name": "c", "vdev": "net_pcap2,rx_pcap='"$T"'/rxfifo" }' \
	', { "lcores": [1], "pipeline": "rx port=c | count --name=fc | drop" }'
for f in txfifo rxfifo; do
	set +e; timeout 60 "$BELTLINE" reload "$T/$f.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
	eq "a $f nobody is at the other end of, added live: refused ($(head -c 300 "$T/r.err"))" "$rc" 1
	check "... naming it" grep -q "${f%fifo}_pcap=$T/$f is a FIFO" "$T/r.err"
	eq "... the ports unchanged" "$(ports)" "a,b"
done
# With its reader there, the same port is added (the FIFO held open until the driver has it).
cat "$T/txfifo" > /dev/null &
CATP=$!
set +e; timeout 60 "$BELTLINE" reload "$T/txfifo.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "a tx FIFO with its reader, added live ($(head -c 300 "$T/r.err"))" "$rc" 0
eq "... port c there" "$(ports)" "a,b,c"
"$BELTLINE" reload "$T/a.json" > /dev/null
eq "... and removed again" "$(ports)" "a,b"
kill "$CATP" 2> /dev/null || true
wait "$CATP" 2> /dev/null || true
jq '.mbufs.count = 8191' "$T/c.json" > "$T/small.json"
set +e; "$BELTLINE" reload "$T/small.json" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "another pool size: refused" "$rc" 1
check "... by name" grep -q 'mbufs.count (the pool.s size) changed: needs a restart' "$T/r.err"
eq "ports unchanged" "$(ports)" "a,b"

# A failure injected at every step of the add in turn: refused, nothing left behind.
set +e
python3 "$(dirname "$0")/reload_steps.py" "$T/c.json" '[p["name"] for p in st["ports"]] == ["a", "b"]' 100 \
	> "$T/steps" 2>&1
rc=$?; set -e
sed 's/^/    /' "$T/steps"
n=$(sed -n 's/^steps \([0-9]*\)$/\1/p' "$T/steps")
check "failures injected at ${n:-no} steps, each refused, the ports as they were" test "$rc" = 0 -a "${n:-0}" -gt 3

# The add that went through: port c is up and polled; a and b kept their counters.
eq "port c added live" "$(ports)" "a,b,c"
wait_for 30 bash -c "[ \"\$(jq -r '[.filters[] | select(.name == \"fc\") | .in] | add // 0' <<< \"\$('$BELTLINE' stats --json)\")\" -gt 1000 ]"
check "a graph polls it: fc counts its packets" [ "$(filter_in fc)" -gt 1000 ]
fa1=$(filter_in fa)
check "fa counting on" [ "$fa1" -gt 0 ]

# Removed again: closed once no worker polls it.
"$BELTLINE" reload "$T/a.json" > /dev/null
eq "port c removed live" "$(ports)" "a,b"
check "... and logged" grep -q 'reload: port "c" removed' "$T/d.err"
# And added again: the device was let go (no "already exists").
"$BELTLINE" reload "$T/c.json" > /dev/null
eq "port c added again" "$(ports)" "a,b,c"
"$BELTLINE" reload "$T/a.json" > /dev/null
check "fa's counter never went back" [ "$(filter_in fa)" -ge "$fa1" ]

kill -INT "$PID"
wait "$PID"; rc=$?
eq "exit status" "$rc" 0
eq "final report: ports a and b" "$(jq -r '.ports | keys | join(",")' "$T/final.json")" "a,b"
eq "no mbuf leaked" "$(jq .mbufs.leaked "$T/final.json")" 0
a_rx=$(jq '.ports.a.rx' "$T/final.json"); b_tx=$(jq '.ports.b.tx' "$T/final.json")
eq "no packet lost on a -> b across the reloads: a rx = b tx" "$b_tx" "$a_rx"
finish
