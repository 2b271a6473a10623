#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The control socket's permissions come from the config (control.mode,
# control.group): a user in the group may connect (ls, stats), a user outside
# it is refused with a clear error and gets nothing; the default is 0666. The folders
# are 0755 whatever the umask.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline, users, setpriv)"; exit 77; fi
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
I=$(inst ctlmode)
export BELTLINE_INSTANCE=$I
RUN=/run/beltline/$I
G=blcg$$
U=blcu$$
groupadd "$G"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$U"
BPID=
cleanup() {
	[ -n "$BPID" ] && kill -TERM "$BPID" 2> /dev/null && wait "$BPID" 2> /dev/null
	userdel "$U" 2> /dev/null || true
	groupdel "$G" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
AS_U=(setpriv --reuid="$U" --regid=nogroup --init-groups)
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# start CONTROL-JSON: beltlined with gen | export, waits for its socket.
start() {
	cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto" }, $1
  "ports": [ { "name": "out", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "gen rate=1000 | export name=s mode=0644" ] } ] }
JSON
	"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
	BPID=$!
	wait_for "$WAIT" test -S "$RUN/ctl" || true
}
stop() { kill -TERM "$BPID"; wait "$BPID" || true; BPID=; }

start '"control": { "mode": "0660", "group": "'"$G"'" },'
check "control socket exists" test -S "$RUN/ctl"
eq "socket mode from control.mode" "$(stat -c %a "$RUN/ctl")" 660
eq "socket group from control.group" "$(stat -c %G "$RUN/ctl")" "$G"
check "a user in the group may list streams" \
	sh -c '"$@" > "$0" 2>&1' "$T/ls.u" "${AS_U[@]}" "$BELTLINE" ls
check "... and sees the stream" grep -q '^ *s ' "$T/ls.u"
if "${AS_NOBODY[@]}" "$BELTLINE" ls > "$T/ls.n" 2>&1; then
	bad "a user outside the group is refused"
else
	ok "a user outside the group is refused (exit $?)"
fi
check "... with a clear error" grep -q "Permission denied" "$T/ls.n"
check "... and sees no stream" sh -c '! grep -q "^ *s " "$0"' "$T/ls.n"
stop
check "socket gone after exit" test ! -e "$RUN/ctl"

start ''
eq "default socket mode" "$(stat -c %a "$RUN/ctl")" 666
check "default: anyone may list" "${AS_NOBODY[@]}" "$BELTLINE" ls
stop

# The instance's folder is 0755 whatever beltlined's umask: under umask 077 it was 0700,
# and nobody but root reached the socket its mode (0666) opens to all.
umask 077
start ''
umask 022
eq "umask 077: the instance folder's mode" "$(stat -c %a "$RUN")" 755
check "umask 077: anyone may list" "${AS_NOBODY[@]}" "$BELTLINE" ls
stop

# A bad group is a config error naming the key, exit 2, nothing started.
cat > "$T/bad.json" <<JSON
{ "instance": "$I", "control": { "group": "no-such-group-$$" },
  "ports": [ { "name": "out", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [ "gen | tx port=out" ] } ] }
JSON
rc=0
"$BELTLINED" --check "$T/bad.json" > /dev/null 2> "$T/bad.err" || rc=$?
eq "unknown control.group: exit status" "$rc" 2
check "... names the key" grep -q "control.group: no group named" "$T/bad.err"
finish
