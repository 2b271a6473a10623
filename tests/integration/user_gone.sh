#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A verdict client whose give loop finds the ring full because the appliance went away
# ends: beltline_give says -EPIPE (it said -EAGAIN for ever, and docs/clients.md's loop,
# and examples/ips_syn_drop, spun at 100% of a CPU after the appliance was gone). The
# appliance is stopped (SIGSTOP) so the client's ring fills, then killed.
. "$(dirname "$0")/lib.sh"
: "${VERDICT:?}"
I=$(inst ugone)
cat > "$T/c.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "inject name=s | user name=g | drop" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > /dev/null 2> "$T/err" &
BPID=$!
VPID=
trap 'kill -CONT $BPID 2> /dev/null || true; kill -9 $BPID $VPID 2> /dev/null || true; rm -rf "$T"' EXIT
check "started" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"
"$VERDICT" "$I" g giveloop 0 > "$T/v.out" 2> "$T/v.err" &
VPID=$!
check "the verdict client is attached" wait_for "$WAIT" grep -q attached "$T/v.out"
kill -STOP $BPID
check "its ring fills (the appliance is stopped)" wait_for "$WAIT" grep -q full "$T/v.out"
kill -9 $BPID
check "the appliance gone, its give loop ends (-EPIPE)" wait_for "$WAIT" gone $VPID
check "... saying so" grep -q "gave up: Broken pipe" "$T/v.out"
check "... and the library says why" grep -q "verdicts end" "$T/v.err"
kill -9 $VPID 2> /dev/null || true   # (were it spinning still)
wait $VPID 2> /dev/null && st=0 || st=$?
eq "its exit status" "$st" 0
trap 'rm -rf "$T"' EXIT
finish
