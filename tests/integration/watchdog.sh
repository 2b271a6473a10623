#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# lib.sh's watchdog: a test that outlives BL_TEST_WATCHDOG seconds gets, on its
# stderr, the tree of its processes with each one's stacks, once, and goes on; the
# watchdog holds none of the test's output meanwhile and ends with the test. Here
# with a 2 s watchdog over a test whose child (a stand-in for a hung beltlined)
# sleeps: the dump names it and shows its stack.
exec 2> "${TMPDIR:-/tmp}/bl-watchdog.$$"
ERRF=${TMPDIR:-/tmp}/bl-watchdog.$$
export BL_TEST_WATCHDOG=2
. "$(dirname "$0")/lib.sh"
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$T" "$ERRF"' EXIT

# The hung process: a program of our own, not a shell or sleep (those are listed, not traced).
cp "$(command -v sleep)" "$T/hung"
"$T/hung" 60 &
HPID=$!
dumped() { grep -q '=== watchdog: end' "$ERRF"; }
check "the watchdog fired after 2 s" wait_for "$WAIT" dumped
check "... listed the test's processes" grep -q "^ *$HPID .*hung 60" "$ERRF"
check "... and the hung one's stack" grep -qE "^--- $HPID: .*hung 60" "$ERRF"
if command -v gdb > /dev/null; then
	check "... from gdb (its threads' frames)" grep -qE '^#0 ' "$ERRF"
fi
eq "... once" "$(grep -c '=== watchdog: the test' "$ERRF")" 1
kill "$HPID"
wait "$HPID" 2> /dev/null || true
sed 's/^/    | /' "$ERRF" | head -20
finish
