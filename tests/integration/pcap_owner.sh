#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Whose files `pcap file=` writes. The appliance runs as root and the name is in a folder
# every user may write (sticky, 1777: /tmp, as config/monitor.json's). Another user who
# made the name first, as a file of their own or a symbolic link to a file of root's,
# must get no packet and root's file must stay as it was: the start is refused, naming
# the file. A file the sink creates has memory.packet_mode's read bits and the owner's
# write whatever the umask (0666 under root's umask 0022 let every user read captures
# the packet DBuf's 0600 kept from them): 0600 for packet_mode 0600 under umask 0000,
# 0640 for packet_mode 0640. The user cannot read the first.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (useradd, a file of another user)"; exit 77; fi
U=blpo$$
useradd -M -N -g nogroup -s /usr/sbin/nologin "$U"
trap 'userdel "$U" 2> /dev/null || true; rm -rf "$T"' EXIT
AS_U=(setpriv --reuid="$U" --regid=nogroup --clear-groups)
chmod 0755 "$T"
D=$T/shared
mkdir "$D"
chmod 1777 "$D"

run() {   # run NAME PACKET_MODE UMASK: a second of gen into pcap file=$D/NAME
	cat > "$T/c.json" <<JSON
{ "instance": "$(inst po)", "memory": { "hugepages": "no", "packet_mode": "$2" },
  "ports": [ { "name": "n", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "gen size=100 rate=1000 count=50 | pcap file=$D/$1" ] } ] }
JSON
	set +e
	( umask "$3"; "$BELTLINED" -q --exit-idle 200 "$T/c.json" > "$T/r.json" 2> "$T/err" )
	rc=$?
	set -e
}

# A file of the user's, made first: empty, their own mode.
"${AS_U[@]}" sh -c "umask 077; : > '$D/planted.pcap'"
run planted.pcap 0600 0022
check "planted file: the start is refused (status $rc)" test "$rc" -ne 0
check "planted file: the refusal names it" grep -q "planted.pcap.*another user" "$T/err"
eq "planted file: no packet in it" "$(stat -c %s "$D/planted.pcap")" 0
eq "planted file: still the user's" "$(stat -c %U "$D/planted.pcap")" "$U"

# A link of the user's to a file of root's.
echo "root's own data" > "$T/victim"
chmod 0600 "$T/victim"
"${AS_U[@]}" ln -s "$T/victim" "$D/link.pcap"
run link.pcap 0600 0022
check "link to root's file: the start is refused (status $rc)" test "$rc" -ne 0
eq "link to root's file: root's file is as it was" "$(cat "$T/victim")" "root's own data"

# A hard link to a file of root's (protected_hardlinks off) is refused too.
if "${AS_U[@]}" ln "$T/victim" "$D/hard.pcap" 2> /dev/null; then
	run hard.pcap 0600 0022
	check "hard link to root's file: the start is refused (status $rc)" test "$rc" -ne 0
	eq "hard link to root's file: root's file is as it was" "$(cat "$T/victim")" "root's own data"
fi

# Files the sink creates: the packet DBuf's read bits, whatever the umask.
run new600.pcap 0600 0000
eq "new file, packet_mode 0600, umask 0000: runs" "$rc" 0
eq "new file, packet_mode 0600, umask 0000: mode" "$(stat -c %a "$D/new600.pcap")" 600
set +e
"${AS_U[@]}" cat "$D/new600.pcap" > /dev/null 2>&1
urc=$?
set -e
check "new file, packet_mode 0600: the user cannot read it" test "$urc" -ne 0
run new640.pcap 0640 0022
eq "new file, packet_mode 0640, umask 0022: runs" "$rc" 0
eq "new file, packet_mode 0640, umask 0022: mode" "$(stat -c %a "$D/new640.pcap")" 640
eq "new file: packets written" "$(tcpdump -nn -r "$D/new640.pcap" 2> /dev/null | wc -l)" 50

# A file of root's there already is written as before (a rerun, /dev/full, a FIFO).
run new640.pcap 0640 0022
eq "root's existing file: runs" "$rc" 0
eq "root's existing file: packets written" "$(tcpdump -nn -r "$D/new640.pcap" 2> /dev/null | wc -l)" 50
finish
