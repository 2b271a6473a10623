#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The pcap sink loses nothing silently (issue 15 point 2): on a full disk (a
# 1 MiB tmpfs this test mounts) and on /dev/full it counts every packet it
# could not write (written + errors = in), logs the errno, keeps its file
# readable and starts no empty files when rotating; a build that fails
# leaves no file it created and an existing file as it was, also when the
# graph that fails is a later one than the sink's. Needs root for the mount.
. "$(dirname "$0")/lib.sh"

M=$T/mnt
mkdir "$M"
if ! mount -t tmpfs -o size=1m tmpfs "$M" 2> /dev/null; then
	echo "SKIP: cannot mount a tmpfs (needs root)"
	exit 77
fi
trap 'umount "$M" 2> /dev/null; rm -rf "$T"' EXIT

N=3000
# cfg PIPELINE [PIPELINE2]: a config of one graph (two) with an instance name of its own
cfg() {
	cat > "$T/c.json" <<JSON
{ "instance": "$(inst p)",
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "$1" }${2:+, { \"lcores\": [1], \"pipeline\": \"$2\" \}} ] }
JSON
}
run() { cfg "$1"; "$BELTLINED" -q --exit-idle 300 "$T/c.json" > "$T/r.json" 2> "$T/err"; }
pc() { jget "$T/r.json" ".graphs[0].filters.pcap.$1"; }
# records FILE: packets in a capture that must end cleanly (no record cut short)
records() {
	local n
	n=$(tcpdump -nr "$1" 2> "$T/tcpdump.err" | wc -l)
	if grep -q -i truncated "$T/tcpdump.err"; then echo "truncated after $n"; else echo "$n"; fi
}

# A full disk, one file: what is not written is counted, the file stays readable.
run "gen size=1000 count=$N | pcap file=$M/o.pcap"
w=$(pc counters.written) e=$(pc counters.errors)
eq "full disk: packets in" "$(pc in)" $N
eq "full disk: written + errors = in" $((w + e)) $N
check "full disk: errors counted ($e)" test "$e" -gt 0
eq "full disk: last_errno is ENOSPC" "$(pc counters.last_errno)" 28
eq "full disk: the file holds what was counted written, whole" "$(records "$M/o.pcap")" "$w"
check "full disk: the log names the file and the errno" \
	grep -q "$M/o.pcap: write: No space left on device" "$T/err"
rm -f "$M"/*

# Rotation on a full disk: no empty files.
run "gen size=1000 count=$N | pcap file=$M/o.pcap rotate_packets=10"
w=$(pc counters.written) e=$(pc counters.errors) files=$(pc counters.files)
eq "rotation on a full disk: written + errors = in" $((w + e)) $N
check "rotation on a full disk: errors counted ($e)" test "$e" -gt 0
eq "rotation on a full disk: files on disk = files counted" "$(ls "$M" | wc -l)" "$files"
total=0 empty=0
for f in "$M"/*; do
	n=$(records "$f")
	case $n in "truncated after 0") empty=$((empty + 1)) ;; esac
	case $n in truncated*) bad "$f: $n"; continue ;; esac
	total=$((total + n))
	[ "$n" -gt 0 ] || empty=$((empty + 1))
done
eq "rotation on a full disk: packets in the files = written" $total "$w"
check "rotation on a full disk: at most one file without packets ($empty)" test $empty -le 1
rm -f "$M"/*

# /dev/full: nothing is written, all of it is counted, /dev/full stays.
run "gen size=1000 count=$N | pcap file=/dev/full"
eq "/dev/full: written" "$(pc counters.written)" 0
eq "/dev/full: errors" "$(pc counters.errors)" $N
check "/dev/full: still the device" test -c /dev/full

# A FIFO whose reader leaves: the writes say EPIPE, counted, and beltlined runs to its
# end (SIGPIPE killed it, status 141, no report).
mkfifo "$T/fifo"
head -c 100 "$T/fifo" > /dev/null &
rc=0
run "gen size=100 count=$N | pcap file=$T/fifo" || rc=$?
eq "a FIFO whose reader left: exit status" "$rc" 0
eq "... every packet written or counted an error" "$(( $(pc counters.written) + $(pc counters.errors) ))" $N
eq "... the last error EPIPE" "$(pc counters.last_errno)" 32

# A failed build: a later filter of the pipeline fails, or a later graph.
expect2() { set +e; "$BELTLINED" -q "$T/c.json" > /dev/null 2> "$T/err"; echo $?; set -e; }
later_filter() { cfg "gen count=10 | pcap file=$T/x.pcap; rx port=nosuch | drop"; expect2; }
later_graph() { cfg "gen count=10 | pcap file=$T/x.pcap" "rx port=nosuch | drop"; expect2; }
eq "a later filter fails: exit status" "$(later_filter)" 2
check "a later filter fails: no file left" test ! -e "$T/x.pcap"
eq "a later graph fails: exit status" "$(later_graph)" 2
check "a later graph fails: no file left" test ! -e "$T/x.pcap"
echo "a capture from before" > "$T/x.pcap"
cp "$T/x.pcap" "$T/x.orig"
later_filter > /dev/null
check "a later filter fails: an existing file is untouched" cmp -s "$T/x.pcap" "$T/x.orig"
later_graph > /dev/null
check "a later graph fails: an existing file is untouched" cmp -s "$T/x.pcap" "$T/x.orig"
finish
