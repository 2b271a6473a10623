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
wait_for() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
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
jget() { jq -r "$2" "$1"; }

