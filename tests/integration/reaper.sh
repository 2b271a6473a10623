#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The reaper (app/beltlined/reaper.c) removes only what is beltlined's own.
# EAL's runtime folder RUNTIME_DIRECTORY/dpdk/bl_INSTANCE (for an ordinary user
# /tmp/dpdk/bl_INSTANCE, where anyone may make dpdk/ first) that is a symbolic
# link to another folder, or a folder of another user, is not used: a start
# refuses it, and a reaper leaves it and its files, and says why. In a folder
# of its own the reaper removes only the names EAL makes there.
# The folder's lock says whose the paths are (reaper.h, L1-L4): a reaper removes
# nothing while another process holds it, and a start waits for it (saying so)
# and refuses to start when it stays held (an instance of the name runs): so
# the reaper of an instance that just ended cannot remove what a new instance
# of the name is making (CI saw "TELEMETRY: Cannot access DPDK runtime
# directory" and "EAL failed to start").
. "$(dirname "$0")/lib.sh"

I=$(inst reaper)
export RUNTIME_DIRECTORY=$T/rtd BELTLINE_RUN_DIR=$T/run
E=$RUNTIME_DIRECTORY/dpdk/bl_$I
mkdir -p "$RUNTIME_DIRECTORY/dpdk" "$BELTLINE_RUN_DIR"
fwd_cfg "$T/c.json" "$I" net_null0 net_null1 '{ "hugepages": "no" }'
# 6 and 7 are an instance of their own, J: 7's second instance waits out its wait for the
# lock while 1 to 5 run (they waited one after the other); 1 s, not a user's 10, with the
# test hooks (BELTLINED_TEST_REAPER_WAIT_S): the test waited out the 10 s (11 s quiet, 10 of
# them that wait). 6's start waits the 10 s: its lock is freed while it waits.
J=$(inst reaper7)
EJ=$RUNTIME_DIRECTORY/dpdk/bl_$J
fwd_cfg "$T/j.json" "$J" net_null0 net_null1 '{ "hugepages": "no" }'

# A folder someone else's files sit in, some named as EAL names its own.
victim() {   # victim DIR: fill DIR with the files the checks look for
	mkdir -p "$1"
	for f in a b config fbarray_memzone hugepage_info; do echo "$f" > "$1/$f"; done
}
intact() {   # intact DIR: every file victim made is there
	for f in a b config fbarray_memzone hugepage_info; do [ -f "$1/$f" ] || return 1; done
}

# hold DIR: a process that holds DIR's lock (flock on DIR/beltline.lock, as beltlined
# does) until killed; its pid.
hold() {
	rm -f "$T/held"
	python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1] + "/beltline.lock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(600)' "$1" "$T/held" &
	HOLDER=$!
	wait_for "$WAIT" test -e "$T/held"
}
# The reaper waits for the folder's lock (a waiter is listed with "->" in /proc/locks), or is gone.
waits() { grep -qE "^[0-9]+: -> FLOCK +ADVISORY +WRITE +$1 " /proc/locks; }
waits_or_gone() { waits "$1" || gone "$1"; }

# 6. A start waits while the folder is locked (an instance of the name that just
# ended, its reaper at work), and says so; EAL starts once it is free.
mkdir -m 0700 "$EJ"
hold "$EJ"
"$BELTLINED" -q --duration 600 "$T/j.json" > "$T/out6" 2> "$T/err6" &
FIRST=$!
wait_for "$WAIT" grep -q "EAL's runtime folder $EJ is locked: waiting" "$T/err6" || true
check "a start while the folder is locked waits, and says so ($(head -n 1 "$T/err6"))" \
	grep -q "EAL's runtime folder $EJ is locked: waiting up to 10 s" "$T/err6"
check "  ... EAL has not started meanwhile" test ! -e "$EJ/dpdk_telemetry.v2"
kill $HOLDER; wait $HOLDER 2> /dev/null || true
wait_ctl "$BELTLINE_RUN_DIR/$J/ctl" $FIRST "$T/err6"
ok "  ... it starts once the lock is free"

# 7. A second instance of the name, while the first runs (its control socket answers), is
# refused at once, saying why; the first runs on. (It waited for the folder's lock, 10 s
# without the test hooks, 1 s here, and gave up: that wait is for a reaper of one that
# ended, test 6.) Checked after 1 to 5, which run meanwhile.
BELTLINED_TEST_HOOKS=1 BELTLINED_TEST_REAPER_WAIT_S=1 \
	"$BELTLINED" -q --duration 20 "$T/j.json" > "$T/out7" 2> "$T/err7" &
SECOND=$!

# 1. bl_INSTANCE made a symbolic link before the start.
victim "$T/victim"
ln -s "$T/victim" "$E"
set +e; "$BELTLINED" -q --duration 2 "$T/c.json" > "$T/out" 2> "$T/err"; rc=$?; set -e
wait_for "$WAIT" grep -q "reaper: EAL's runtime folder $E" "$T/err" || true
eq "a symbolic link for EAL's folder: the start is refused" "$rc" 1
check "  ... saying why ($(head -n 1 "$T/err"))" \
	grep -q "EAL's runtime folder $E is a symbolic link" "$T/err"
check "  ... the files in the folder it points to are all there" intact "$T/victim"
check "  ... the reaper says it left it" grep -q "reaper: EAL's runtime folder $E is a symbolic link: left" "$T/err"

# 2. bl_INSTANCE moved away and replaced by a link while beltlined runs, then SIGKILL.
rm "$E"
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/out" 2> "$T/err" &
BPID=$!
wait_ctl "$BELTLINE_RUN_DIR/$I/ctl" $BPID "$T/err"
RPID=$(pgrep -P $BPID | head -n 1)
check "its reaper runs ($RPID)" test -n "$RPID"
mv "$E" "$T/moved"
ln -s "$T/victim" "$E"
kill -KILL $BPID; wait $BPID 2> /dev/null || true
wait_for "$WAIT" gone "$RPID" || true
check "SIGKILL, the folder now a link: the files it points to are all there" intact "$T/victim"
check "  ... the reaper says why it left it" grep -q "reaper: EAL's runtime folder $E is a symbolic link: left" "$T/err"
check "  ... it removed the control socket all the same" test ! -e "$BELTLINE_RUN_DIR/$I/ctl"
rm -rf "$E" "$T/moved"

# 3. A file of someone else's in beltlined's own folder stays; EAL's go.
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/out" 2> "$T/err" &
BPID=$!
wait_ctl "$BELTLINE_RUN_DIR/$I/ctl" $BPID "$T/err"
RPID=$(pgrep -P $BPID | head -n 1)
echo mine > "$E/notes"
ls "$E" > "$T/eal-files"
kill -KILL $BPID; wait $BPID 2> /dev/null || true
wait_for "$WAIT" gone "$RPID" || true
check "SIGKILL: EAL's files are gone ($(tr '\n' ' ' < "$T/eal-files"))" \
	test "$(ls "$E" 2> /dev/null)" = notes
check "  ... a file EAL did not make is still there" test -f "$E/notes"
rm -rf "$E"

# 4. bl_INSTANCE a folder of another user (root only: it takes a chown).
if [ "$(id -u)" -eq 0 ]; then
	victim "$E"
	chown -R nobody "$E"
	set +e; "$BELTLINED" -q --duration 2 "$T/c.json" > "$T/out" 2> "$T/err"; rc=$?; set -e
	wait_for "$WAIT" grep -q "reaper: EAL's runtime folder $E" "$T/err" || true
	eq "another user's folder for EAL's: the start is refused" "$rc" 1
	check "  ... saying why ($(head -n 1 "$T/err"))" \
		grep -q "EAL's runtime folder $E belongs to uid $(id -u nobody)" "$T/err"
	check "  ... its files are all there" intact "$E"
	check "  ... the reaper says it left it" grep -q "reaper: EAL's runtime folder $E belongs to uid $(id -u nobody).*: left" "$T/err"
	rm -rf "$E"
fi

# 5. While another process holds the folder's lock, the reaper of a killed instance
# removes nothing; once it is free, everything.
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/out" 2> "$T/err" &
BPID=$!
wait_ctl "$BELTLINE_RUN_DIR/$I/ctl" $BPID "$T/err"
RPID=$(pgrep -P $BPID | head -n 1)
kill -STOP "$RPID"   # so that the lock is ours before it looks
kill -KILL $BPID; wait $BPID 2> /dev/null || true
hold "$E"
kill -CONT "$RPID"
wait_for "$WAIT" waits_or_gone "$RPID" || true
check "SIGKILL, the folder locked by another: the reaper waits for the lock" waits "$RPID"
check "  ... EAL's folder is still there ($(ls "$E" 2> /dev/null | tr '\n' ' '))" \
	test -S "$E/dpdk_telemetry.v2"
check "  ... the control socket too" test -S "$BELTLINE_RUN_DIR/$I/ctl"
kill $HOLDER; wait $HOLDER 2> /dev/null || true
wait_for "$WAIT" gone "$RPID" || true
check "  ... once the lock is free, it removes EAL's folder" test ! -e "$E"
check "  ... and the control socket and its folder" test ! -e "$BELTLINE_RUN_DIR/$I"

# 7, the second instance of J (started before 1).
rc=0; wait $SECOND || rc=$?
eq "a second instance of the name: exit status" "$rc" 1
check "  ... says another runs ($(tail -n 1 "$T/err7"))" \
	grep -q "an appliance of instance name \"$J\" runs (its control socket $BELTLINE_RUN_DIR/$J/ctl answers)" "$T/err7"
check "  ... at once: it did not wait for the folder's lock" \
	bash -c "! grep -q 'is locked: waiting' '$T/err7'"
check "  ... the first still runs" alive $FIRST
# The second's reaper does not wait for the first's lock (signals ignored, as long as the
# first ran: a systemd unit's stop timed out on it): the folder is not the second's.
second_reaper_gone() {   # any process of the config but the first and its own reaper
	local p n=0
	for p in $(pgrep -f -- "$T/j.json"); do
		[ "$p" = "$FIRST" ] || [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$FIRST" ] || n=$((n + 1))
	done
	[ "$n" = 0 ]
}
check "  ... the second's reaper has ended, the first running" wait_for "$WAIT" second_reaper_gone
check "  ... its control socket and EAL's folder are still there" \
	test -S "$BELTLINE_RUN_DIR/$J/ctl" -a -S "$EJ/dpdk_telemetry.v2"
# 8. The same name with an EAL folder of its own (another user's start: EAL's folders are
# per user): its lock is free, so it is not refused as a second instance of the first
# (the control socket's answer alone refused it for a moment of this session); it runs,
# without the control socket the first holds, as before.
mkdir -p "$T/rtd8/dpdk"
RUNTIME_DIRECTORY=$T/rtd8 "$BELTLINED" -q --duration 1 "$T/j.json" > /dev/null 2> "$T/err8" && st=0 || st=$?
eq "the name with an EAL folder of its own: runs (exit status; $(tail -n 2 "$T/err8" | tr '\n' ' '))" "$st" 0
check "  ... not refused as a second instance" bash -c "! grep -q 'runs (its control socket' '$T/err8'"
check "  ... the first still runs" alive $FIRST
# 9. One on its way out: it still answers on its control socket and holds its folder's lock
# for a moment (its workers stop and drain first). A start then waits for the lock (up to
# BL_REAPER_RUNS_WAIT_MS) and starts: a restart right after a stop is not refused. Played by
# a process that listens on the name's socket and frees the lock after 0.3 s.
K=$(inst reaper9)
EK=$RUNTIME_DIRECTORY/dpdk/bl_$K
fwd_cfg "$T/k.json" "$K" net_null0 net_null1 '{ "hugepages": "no" }'
mkdir -p -m 0700 "$EK" "$BELTLINE_RUN_DIR/$K"
python3 -c 'import fcntl, os, socket, sys, time
fd = os.open(sys.argv[1] + "/beltline.lock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[2]); s.listen(16)
open(sys.argv[3], "w").close()
time.sleep(0.3); os.close(fd)      # the lock goes first, then (later) the socket
time.sleep(3); s.close(); os.unlink(sys.argv[2])' "$EK" "$BELTLINE_RUN_DIR/$K/ctl" "$T/k.ready" &
OUT=$!
wait_for "$WAIT" test -e "$T/k.ready"
"$BELTLINED" -q --duration 1 "$T/k.json" > /dev/null 2> "$T/err9" && st=0 || st=$?
eq "a start while one of the name is on its way out: runs (exit status; $(tail -n 1 "$T/err9"))" "$st" 0
check "  ... not refused as a second instance" bash -c "! grep -q 'runs (its control socket' '$T/err9'"
wait $OUT || true
kill -TERM $FIRST; wait $FIRST && st=0 || st=$?
eq "the first stops cleanly" "$st" 0
# The second's reaper waited for the lock as long as the first ran: it ends now too.
wait_for "$WAIT" eval '! pgrep -f -- "$T/j.json" > /dev/null' || true
check "  ... the second's reaper ends with it" eval '! pgrep -f -- "$T/j.json" > /dev/null'
check "  ... nothing is left" \
	test ! -e "$EJ" -a ! -e "$BELTLINE_RUN_DIR/$J"
finish
