#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The pcap filter's capture files (issue 14 point 6), read back with tcpdump and tshark
# (cat_capfiles.sh does beltline cat's):
# - format=pcapng on a replay of the sample capture: every packet, time and byte as
#   tcpdump reads the original; tshark sees the port's name as the interface and the
#   wire length of every record;
# - rotate_packets with keep=2: only the two newest files remain, counted in removed;
# - rotate_s with keep=2 on live generated traffic: files by time, at most two kept.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/capfiles_lib.sh" capfiles

# ---- the pcap filter ----
cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$CAP" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | pcap --name=ng file=$T/f.pcapng format=pcapng",
      "rx port=in | pcap --name=ring file=$T/r.pcapng format=pcapng rotate_packets=300 keep=2",
      "gen size=100 rate=200 | pcap --name=bytime file=$T/t.pcap rotate_s=1 keep=2" ] } ] }
JSON
# Until the replay is written whole and three files were begun by time (a fixed 4 s
# gave fewer on a machine busy enough to start late), then stopped.
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BP=$!
wait_ctl "$BELTLINE_RUN_DIR/$I/ctl" "$BP" "$T/err"
written() {
	local j
	j=$("$BELTLINE" stats --json 2> /dev/null) || return 1
	[ "$(jq '[.filters[] | select(.name == "bytime") | .counters.files] | add // 0' <<< "$j")" -ge 3 ] &&
	[ "$(jq '[.filters[] | select(.name == "ng" or .name == "ring") | .in] | add // 0' <<< "$j")" -ge 2000 ]
}
check "the replay written, three files begun by time" wait_for "$WAIT" written
kill -INT "$BP"
wait "$BP" || bad "beltlined exit status $?"
pc() { jq -r ".graphs[0].filters[\"$1\"].counters.$2" "$T/r.json"; }
eq "pcapng: tcpdump reads every packet" "$(npkts "$T/f.pcapng")" 1000
check "pcapng: tcpdump's dump (times, headers, bytes) equals the original's" \
	cmp -s "$T/ref.txt" <(dump "$T/f.pcapng")
tsh "$T/f.pcapng" -e frame.len -e frame.time_epoch -e frame.interface_name > "$T/f.fields"
check "pcapng: tshark reads the wire length and time of every record as the original's" \
	cmp -s "$T/ref.fields" <(cut -f 1,2 "$T/f.fields")
eq "pcapng: tshark names the interface after the port" "$(cut -f 3 "$T/f.fields" | sort -u)" in
check "pcapng: capinfos calls it pcapng" grep -q "File type:.*pcapng" <<< "$(capinfos -t "$T/f.pcapng")"
check "ring: the two newest files remain" test -f "$T/r.pcapng.2" -a -f "$T/r.pcapng.3"
check "ring: the older ones are gone" test ! -e "$T/r.pcapng" -a ! -e "$T/r.pcapng.1"
eq "ring: packets in the kept files" "$(npkts "$T/r.pcapng.2") $(npkts "$T/r.pcapng.3")" "300 100"
eq "ring: removed" "$(pc ring removed)" 2
eq "ring: files begun" "$(pc ring files)" 4
eq "no ring: nothing removed" "$(pc ng removed)" 0
begun=$(pc bytime files)
removed=$(pc bytime removed)
check "by time: a new file each second ($begun begun)" test "$begun" -ge 3
eq "by time: removed all but two" "$removed" $((begun - 2))
kept=$(ls "$T"/t.pcap* | wc -l)
eq "by time: files on disk" "$kept" 2
for f in "$T"/t.pcap*; do
	check "by time: tcpdump reads $(basename "$f")" test "$(npkts "$f")" -ge 1
done

finish
