#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The file rule with many groups: a stream of group G, mode 0604 (the group may not read,
# others may). A member of G is refused, whether G is one of a few groups or one of 70
# (SO_PEERGROUPS took 64 at most: the 70th-group member was let in by the other bits);
# a user in no group of the stream reads it. The same rule (bl_stream_cred_allows)
# serves inject streams, user filters and endpoints.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline, setpriv, useradd)"; exit 77; fi
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst pgrp)
export BELTLINE_INSTANCE=$I

G=blgg$$
U=blgu$$
groupadd "$G"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$U"
gid=$(getent group "$G" | cut -d: -f3)
cleanup_ids() { userdel "$U" 2> /dev/null || true; groupdel "$G" 2> /dev/null || true; }
trap 'cleanup_ids; rm -rf "$T"' EXIT
chmod 0755 "$T"

cat > "$T/c.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "gen rate=10000 | export name=g mode=0604 group=$G" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; cleanup_ids; rm -rf "$T"' EXIT
check "control socket exists" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"

# cat_as NAME SETPRIV-ARGS...: beltline cat g -c 1 as that; status in $T/NAME.rc
cat_as() {
	local name=$1
	shift
	set +e
	setpriv "$@" "$BELTLINE" cat g -c 1 > "$T/$name.out" 2> "$T/$name.err"
	echo $? > "$T/$name.rc"
	set -e
}
cat_as few --reuid="$U" --regid=nogroup --init-groups
check "a member of $G (a few groups): refused ($(cat "$T/few.rc"))" test "$(cat "$T/few.rc")" -ne 0
check "... permission denied" grep -q "Permission denied" "$T/few.err"
many=$(seq -s, 60000 60069),$gid
cat_as many --reuid="$U" --regid=nogroup --groups="$many"
check "a member of $G as its 71st group: refused ($(cat "$T/many.rc"); it read the stream)" \
	test "$(cat "$T/many.rc")" -ne 0
check "... permission denied" grep -q "Permission denied" "$T/many.err"
set +e
setpriv --reuid="$U" --regid=nogroup --init-groups "$BELTLINE" ls > "$T/ls.out" 2>&1
set -e
check "ls as $U: no stream it may read, said so ($(cat "$T/ls.out"))" \
	grep -q "exports no stream you may read" "$T/ls.out"
cat_as other --reuid=nobody --regid=nogroup --clear-groups
eq "a user in no group of the stream reads it (others may)" "$(cat "$T/other.rc")" 0
cat_as other_many --reuid=nobody --regid=nogroup --groups="$(seq -s, 60000 60069)"
eq "... and with 70 groups, none of them $G" "$(cat "$T/other_many.rc")" 0

kill -TERM $BPID
wait $BPID && st=0 || st=$?
eq "beltlined exit status" "$st" 0
trap 'cleanup_ids; rm -rf "$T"' EXIT
finish
