#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reading a filter's `all` through beltline mount: every packet, whatever the reads'
# sizes. A record that did not fit what was left of a read was read from the tap and
# dropped, counted nowhere (frames of 1900 bytes read 5500 bytes at a time: every
# third lost); a read smaller than a record's header, after the pcap header, wrote a
# 16-byte header into it and copied ~4 GiB (the mount crashed). Now the record waits
# for the next read, and a read under 16 bytes is EINVAL.
. "$(dirname "$0")/lib.sh"

need_fuse
I=$(inst mread)
export BELTLINE_INSTANCE=$I
cat > "$T/c.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline":
    "gen proto=udp rate=2000 size=1900 sport=1000-60999 dport=80 | count --name=c | drop" } ] }
JSON
M=$T/mnt
mkdir "$M"
"$BELTLINED" -q --stats-interval 0 --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
PID=$!
cleanup() {
	fusermount3 -u "$M" 2> /dev/null || true
	kill -INT "$PID" 2> /dev/null && wait "$PID" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
wait_for "$WAIT" test -S "${BELTLINE_RUN_DIR:-/run/beltline}/$I/ctl"
"$BELTLINE" mount "$M"
check "mount: the count is there" test -f "$M/gen/c/all"
# 300 records read 5500 bytes at a time: their source ports must follow one another.
timeout 120 python3 - "$M/gen/c/all" > "$T/r.txt" <<'PY'
import os, struct, sys
f = os.open(sys.argv[1], os.O_RDONLY)
hdr = os.read(f, 24)
assert len(hdr) == 24, len(hdr)
try:
    os.read(f, 8)
    print("small read: accepted")
except OSError as e:
    print("small read:", e.errno)
buf, ports = b'', []
while len(ports) < 300:
    buf += os.read(f, 5500)
    while len(buf) >= 16:
        caplen = struct.unpack('<I', buf[8:12])[0]
        if len(buf) < 16 + caplen:
            break
        rec, buf = buf[16:16 + caplen], buf[16 + caplen:]
        ports.append(struct.unpack('>H', rec[34:36])[0])
ports = ports[:300]
gaps = sum(1 for a, b in zip(ports, ports[1:]) if b != a + 1)
print("records", len(ports), "caplen", caplen, "gaps", gaps)
PY
rc=$?
eq "the reader ran" "$rc" 0
eq "a read of 8 bytes after the header: EINVAL" "$(sed -n 's/^small read: //p' "$T/r.txt")" 22
eq "300 records of 1900 bytes read 5500 at a time: none lost" \
	"$(sed -n 's/^records //p' "$T/r.txt")" "300 caplen 1900 gaps 0"
check "the mount is still there" test -f "$M/gen/c/stats"
# head reads a buffer and seeks back to the end of the lines it printed: a stats file
# said "Illegal seek" (every open file was made non-seekable, not only all).
head -n 2 "$M/gen/c/stats" > "$T/head.out" 2> "$T/head.err"
eq "head on stats: exit 0" "$?" 0
eq "head on stats: no error" "$(cat "$T/head.err")" ""
eq "head on stats: 2 lines" "$(wc -l < "$T/head.out")" 2
# A text file ends its last line (cat left the prompt after the "}", wc -l said one less).
eq "stats ends with a newline" "$(tail -c 1 "$M/gen/c/stats" | od -An -c | tr -d ' ')" '\n'
# Times are those of the counters shown (the last stats reply): every file and directory
# said 1970-01-01 (ls -l, find -mmin, make).
mt=$(stat -c %Y "$M/gen/c/stats"); now=$(date +%s)
check "stats' mtime is of now, not 1970 ($mt, now $now)" test $((now - mt)) -lt 120 -a $((now - mt)) -gt -120
mt=$(stat -c %Y "$M/gen/c"); check "... a directory's too ($mt)" test $((now - mt)) -lt 120
# A mount stops on the first SIGTERM and unmounts: it went on after the first (its
# handler only set a flag, so libfuse installed none), and a second killed it mounted
# ("Transport endpoint is not connected").
fusermount3 -u "$M"
mounted() { grep -q " $M fuse" /proc/mounts; }
check "unmounted" wait_for "$WAIT" bash -c "! grep -q ' $M fuse' /proc/mounts"
"$BELTLINE" mount -f "$M" 2> "$T/mf.err" &
MP=$!
check "mount -f: mounted" wait_for "$WAIT" mounted
# The instance stopped (SIGSTOP): each operation waits a second at most (the library's
# 10 s, tried again by every operation under one lock: `ls` took minutes), and the last
# tree is served meanwhile.
kill -STOP "$PID"
sleep 1.5       # the mount's last reply is older than a second: it asks again
t0=$(date +%s%N)
ls "$M/gen" > "$T/ls.out" 2>&1 && ls "$M/gen/c" >> "$T/ls.out" 2>&1 && cat "$M/gen/c/stats" > /dev/null 2>&1 || true
dt=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$PID"
check "three operations on a stopped instance's tree: a few seconds at most ($dt ms; 30 s and more before)" \
	test "$dt" -lt 10000
check "... the last tree served meanwhile" grep -q "^c\$" "$T/ls.out"
kill -TERM "$MP"
gone() { ! kill -0 "$MP" 2> /dev/null; }
check "one SIGTERM: the mount process ends" wait_for "$WAIT" gone
check "... and the directory is unmounted" bash -c "! grep -q ' $M fuse' /proc/mounts"
# The instance killed: its tree goes within seconds (its last counters were served for ever).
"$BELTLINE" mount -f "$M" 2> "$T/mf2.err" &
MP=$!
check "mounted again" wait_for "$WAIT" mounted
kill -KILL "$PID"
wait "$PID" 2> /dev/null || true
tree_gone() { ! test -e "$M/gen/c/stats"; }
check "the instance killed: its tree goes" wait_for "$WAIT" tree_gone
# ... and the mount point stays an empty directory: it was "No such file or directory"
# itself (ls of the parent showed it as d?????????, cd and ls of it failed).
check "... the mount point stays a directory" test -d "$M"
eq "... an empty one" "$(ls -A "$M" 2>&1)" ""
kill -TERM "$MP"
check "... and the mount stops" wait_for "$WAIT" gone
finish
