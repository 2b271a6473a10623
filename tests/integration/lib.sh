# SPDX-License-Identifier: BSD-3-Clause
# Shared by the integration tests: they run beltlined for real on virtual
# devices. meson passes BELTLINED, PCAP_CMP, CORPUS and SRCDIR in the environment.
set -euo pipefail

: "${BELTLINED:?}" "${PCAP_CMP:?}" "${CORPUS:?}" "${SRCDIR:?}"
T=$(mktemp -d /tmp/bl-itest.XXXXXX)
# On the way out (a failed check under set -e too) stop what the test left running in
# the background (beltlined, readers), so a failure leaves no process behind.
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$T"' EXIT
# A command that stops the script (set -e) says which, where, and what beltlined
# said last (a failure seen once on a loaded machine must be readable in the log).
set -E
trap 'rc=$?; [[ $- != *e* ]] || { echo "FAIL - line $LINENO: exit status $rc from: $BASH_COMMAND"
	[ ! -s "$T/err" ] || { echo "  its stderr ($T/err):"; tail -5 "$T/err"; }; } >&2' ERR
FAILS=0
CHECKS=0

# A test that runs far longer than it should (a hang seen once on a busy machine, and
# gone before anyone looked) leaves in its log where each of its processes was: after
# $BL_TEST_WATCHDOG seconds (100; 0: none) a watchdog prints the tree of the test's
# processes, each one's kernel wait and its threads' stacks (gdb), on the test's
# stderr (appended: a file there is not truncated), once, and lets the test go on.
# It is not the test's child (a `wait` in the test must not wait for it) and holds
# no descriptor of the test's output meanwhile (meson waits for those to close); it
# ends within a second of the test.
bl_dump_tree() {   # bl_dump_tree PID: what PID's descendants are doing
	local p pids
	bl_desc() { local c; for c in $(pgrep -P "$1"); do echo "$c"; bl_desc "$c"; done; }
	pids=$(bl_desc "$1")
	echo "=== watchdog: the test ($1) has run ${BL_TEST_WATCHDOG:-100} s; its processes:"
	# shellcheck disable=SC2086
	[ -z "$pids" ] || ps -o pid,ppid,stat,etime,wchan:24,args -p "$(echo $pids | tr ' ' ,)"
	for p in $pids; do
		case $(cat "/proc/$p/comm" 2> /dev/null) in
		bash|sh|sleep|timeout|"") continue ;;
		esac
		echo "--- $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null | cut -c1-160)"
		sed 's/^/  kernel: /' "/proc/$p/stack" 2> /dev/null | head -12 || true
		! command -v gdb > /dev/null ||
			timeout 30 gdb -p "$p" -batch -nx -ex 'thread apply all bt 12' 2> /dev/null |
			grep -E '^(Thread|#)' | head -80 || true
	done
	echo "=== watchdog: end"
}
if [ "${BL_TEST_WATCHDOG:-100}" != 0 ]; then
	( exec < /dev/null > /dev/null 2>&1
	  set +eE
	  trap - ERR EXIT
	  ( me=$$
	    for (( i = 0; i < ${BL_TEST_WATCHDOG:-100}; i++ )); do
		sleep 1
		kill -0 "$me" 2> /dev/null || exit 0
	    done
	    bl_dump_tree "$me" >> "/proc/$me/fd/2" 2>&1 ) & )
fi

ok()   { CHECKS=$((CHECKS + 1)); echo "ok   - $*"; }
bad()  { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
# check "what" test-expression...
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# eq "what" got want
eq() { if [ "$2" = "$3" ]; then ok "$1 ($2)"; else bad "$1: got '$2', want '$3'"; fi; }
finish() { echo "$CHECKS checks, $FAILS failed"; [ "$FAILS" -ne 0 ] || exit 0; exit 1; }

need_corpus() {
	if [ ! -d "$CORPUS" ]; then
		echo "SKIP: no capture corpus at $CORPUS (it sits beside the project in CI)"
		exit 77
	fi
}

# wait_for SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds (status
# 0) or SECONDS have passed (status 1). What takes time on a loaded machine is
# waited for this way, never with a fixed sleep before a check (tests/README.md);
# WAIT is the deadline to use when nothing tighter is being asserted.
WAIT=${BL_TEST_WAIT:-60}
# Without a process a round (the clock is bash's, the nap a read that times out on a
# pipe nobody writes): two tests at a time poll, and date and sleep were two of the
# few processes each round of every poll started.
exec {BL_NAP_FD}<> <(:)
wait_for() {
	local t=${EPOCHREALTIME/[.,]/} deadline
	deadline=$(( t + $1 * 1000000 ))
	shift
	until "$@"; do
		t=${EPOCHREALTIME/[.,]/}
		[ "$t" -lt "$deadline" ] || return 1
		read -r -t 0.05 -u "$BL_NAP_FD" _ || true
	done
}

# gone PID: PID has exited. A zombie has: bash reaps its background children when their
# SIGCHLD is handled, and CI saw a killed child stay a zombie for a minute while a loop of
# builtins (kill -0, read -t) polled it, and kill -0 succeeds on a zombie (integration-ep_net
# timed "the other end ended" at 60 s that way, the length of its wait_for).
# (The helpers below call pid_gone, not gone: a test that named a function of its own
# `gone` made dpdk_tools' "beltlined still runs" checks look at EAL's files instead.)
pid_gone() { ! kill -0 "$1" 2> /dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2> /dev/null; }
gone() { pid_gone "$@"; }
# alive PID...: every PID still runs (a zombie does not: with kill -0 a process that had
# died and not yet been reaped passed "still runs" checks).
alive() { local p; for p; do ! pid_gone "$p" || return 1; done; }
# wait_pid SECONDS PID: PID (a child of this shell) ended within SECONDS, with status 0.
# `wait PID` alone has no deadline: a helper that never ends hangs the test until meson's
# timeout instead of failing the one check that waited for it.
wait_pid() { wait_for "$1" pid_gone "$2" || { echo "  (pid $2 still runs after $1 s)"; return 1; }; wait "$2"; }

# wait_ctl SOCKET PID LOG: the appliance's control socket within $WAIT; else a failed
# check that says whether PID still runs and LOG's last lines, and the test ends
# (a daemon that failed at start left nothing to tell why).
wait_ctl() {
	wait_for "$WAIT" test -S "$1" && return 0
	local state=exited
	! alive "$2" || state="still running"
	bad "beltlined up ($1 within $WAIT s): it $state; its log: $(tail -n 5 "$3" 2> /dev/null | tr '\n' ' ')"
	finish
}

# have_fuse: beltline mount can run here (/dev/fuse, fusermount3, a beltline built with
# libfuse3-dev); need_fuse: else the test is skipped.
have_fuse() {
	[ -c /dev/fuse ] && command -v fusermount3 > /dev/null &&
		"${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}" mount --help > /dev/null 2>&1
}
need_fuse() {
	have_fuse && return 0
	echo "SKIP: no FUSE here (/dev/fuse, fusermount3, a beltline built with libfuse3-dev)"
	exit 77
}

# A unique instance name per run, so tests may run side by side.
inst() { echo "t$$_$1"; }

# fwd_cfg FILE INSTANCE IN_VDEV OUT_VDEV [memory-json]: one worker, in -> out.
fwd_cfg() {
	cat > "$1" <<JSON
{ "instance": "$2",
  "memory": ${5:-{ \"hugepages\": \"auto\" \}},
  "ports": [ { "name": "in",  "vdev": "$3" }, { "name": "out", "vdev": "$4" } ],
  "workers": [ { "lcore": 1, "poll": [ { "port": "in", "queue": 0, "tx": "out" } ] } ] }
JSON
}

# jget FILE JQ-EXPR
# lcore_held PID LCORE: that beltlined's worker on LCORE sleeps in write(2) (syscall 1):
# a `pcap file=` sink writing into a full FIFO nobody reads holds it (reload tests).
lcore_held() {
	local t
	for t in /proc/$1/task/*; do
		case "$(cat "$t/comm" 2> /dev/null)" in rte-worker-$2|lcore-worker-$2) ;; *) continue ;; esac
		[ "$(cut -d' ' -f1 "$t/syscall" 2> /dev/null)" = 1 ] && return 0
	done
	return 1
}

jget() { jq -r "$2" "$1"; }

# unix_connected PID: process PID has a Unix socket (a client connected to the control
# socket: tests that kill the appliance under a call wait for it, not for a sleep)
unix_connected() { ss -xp 2> /dev/null | grep -q "pid=$1,"; }


# veth_ns TAG: root and ip(8), or SKIP; a veth pair, $VA here and $VB in namespace $NS (both
# up), removed at exit with the test's folder (the EXIT trap is set here).
veth_ns() {
	if [ "$(id -u)" != 0 ] || ! command -v ip > /dev/null; then
		echo "SKIP: needs root and ip(8) (a veth pair in a network namespace)"
		exit 77
	fi
	NS=bl${1}n$$ VA=bl${1}a$$ VB=bl${1}b$$
	trap 'kill $(jobs -p) 2> /dev/null || true; ip link del "$VA" 2> /dev/null || true
	      ip netns del "$NS" 2> /dev/null || true; rm -rf "$T"' EXIT
	ip netns add "$NS"
	ip link add "$VA" type veth peer name "$VB"
	ip link set "$VB" netns "$NS"
	ip link set "$VA" up
	ip -n "$NS" link set "$VB" up
}
