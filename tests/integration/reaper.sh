#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The reaper (app/beltlined/reaper.c) removes only what is beltlined's own.
# EAL's runtime folder RUNTIME_DIRECTORY/dpdk/bl_INSTANCE (for an ordinary user
# /tmp/dpdk/bl_INSTANCE, where anyone may make dpdk/ first) that is a symbolic
# link to another folder, or a folder of another user, is not used: a start
# refuses it, and a reaper leaves it and its files, and says why. In a folder
# of its own the reaper removes only the names EAL makes there.
. "$(dirname "$0")/lib.sh"

I=$(inst reaper)
export RUNTIME_DIRECTORY=$T/rtd BELTLINE_RUN_DIR=$T/run
E=$RUNTIME_DIRECTORY/dpdk/bl_$I
mkdir -p "$RUNTIME_DIRECTORY/dpdk" "$BELTLINE_RUN_DIR"
fwd_cfg "$T/c.json" "$I" net_null0 net_null1 '{ "hugepages": "no" }'

# A folder someone else's files sit in, some named as EAL names its own.
victim() {   # victim DIR: fill DIR with the files the checks look for
	mkdir -p "$1"
	for f in a b config fbarray_memzone hugepage_info; do echo "$f" > "$1/$f"; done
}
intact() {   # intact DIR: every file victim made is there
	for f in a b config fbarray_memzone hugepage_info; do [ -f "$1/$f" ] || return 1; done
}
# The reaper is gone (not running; a zombie waiting for an init that does not reap counts).
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2> /dev/null)" = Z ]; }

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
fi
finish
