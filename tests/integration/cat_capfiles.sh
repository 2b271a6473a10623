#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# beltline cat's capture files (issue 14 point 6), read back with tcpdump and tshark:
# -F pcapng -w, -C (size) and -G (time) with -W (a ring of files), offline from a file
# and live from a stream; bad options refused by name. (capfiles.sh: the pcap filter's.)
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/capfiles_lib.sh" catcap

# ---- beltline cat, offline ----
(cd "$SRCDIR/config" && "$BELTLINE" cat -F pcapng -w "$T/c.pcapng" sample.pcap)
check "cat -F pcapng -w: tcpdump's dump equals the original's" cmp -s "$T/ref.txt" <(dump "$T/c.pcapng")
tsh "$T/c.pcapng" -e frame.len -e frame.time_epoch -e frame.interface_name > "$T/c.fields"
check "cat -F pcapng -w: tshark reads the same lengths and times" \
	cmp -s "$T/ref.fields" <(cut -f 1,2 "$T/c.fields")
eq "cat -F pcapng: the interface is the source" "$(cut -f 3 "$T/c.fields" | sort -u)" sample.pcap
# A capture over 1 MB (the sample four times over) into files of at most 1 MB, keeping 2.
python3 - "$CAP" "$T/big.pcap" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d[:24] + d[24:] * 4)
PY
"$BELTLINE" cat -C 1 -w "$T/s.pcap" "$T/big.pcap"
check "cat -C 1: a second file" test -f "$T/s.pcap.1"
ok_size=1
for f in "$T"/s.pcap*; do [ "$(stat -c %s "$f")" -le 1000000 ] || ok_size=0; done
eq "cat -C 1: no file passes 1,000,000 bytes" "$ok_size" 1
eq "cat -C 1: every packet in the files" "$(cat "$T"/s.pcap* > /dev/null; for f in "$T"/s.pcap*; do npkts "$f"; done | paste -sd+ | bc)" 4000
"$BELTLINE" cat -C 1 -W 1 -w "$T/k.pcap" "$T/big.pcap"
eq "cat -C 1 -W 1: one file kept" "$(ls "$T"/k.pcap* | wc -l)" 1
check "cat -C 1 -W 1: the newest (k.pcap.1)" test -f "$T/k.pcap.1"

# Bad options: refused by name, nothing written.
bad_opt() {
	local rc
	set +e
	"$BELTLINE" cat "$@" "$CAP" > /dev/null 2> "$T/bad.err"; rc=$?
	set -e
	eq "cat $*: exit status" "$rc" 2
}
bad_opt -F pcapx -w "$T/x"
check "-F pcapx: says what it wants" grep -q "pcapng" "$T/bad.err"
bad_opt -C 1
check "-C without -w: says -w" grep -q -- "-w" "$T/bad.err"
bad_opt -W 2 -w "$T/x"
check "-W without -C or -G: says so" grep -q -- "-C or -G" "$T/bad.err"
bad_opt -G 0 -w "$T/x"
check "nothing written by refused runs" test ! -e "$T/x"

# ---- beltline cat, live, rotating by time ----
cat > "$T/g.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "gen size=80 rate=500 | export name=g policy=frp" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/g.json" > /dev/null 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "control socket" wait_for "$WAIT" test -S "$BELTLINE_RUN_DIR/$I/ctl"
"$BELTLINE" cat -F pcapng -G 1 -W 2 -w "$T/g.pcapng" g 2> "$T/cat.err" &
CPID=$!
three_files() { [ -e "$T/g.pcapng.3" ]; }
check "cat -G 1: a fourth file within the wait" wait_for "$WAIT" three_files
kill -INT $CPID
wait $CPID || true
n=$(ls "$T"/g.pcapng* | wc -l)
check "cat -G 1 -W 2: at most two files kept ($n)" test "$n" -le 2
for f in "$T"/g.pcapng*; do
	tsh "$f" -e frame.len -e frame.interface_name -e frame.time_epoch >> "$T/g.fields"
	check "cat -G: tshark reads $(basename "$f")" test -s "$T/g.fields"
done
eq "cat -G: lengths and interface (the stream)" "$(cut -f 1,2 "$T/g.fields" | sort -u)" "80	g"
# Nanoseconds: over all records, some time is not a whole microsecond.
check "cat -F pcapng: nanosecond times" grep -qv '000$' "$T/g.fields"
kill -TERM $BPID
wait $BPID || true
finish
