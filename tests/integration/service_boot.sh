#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# beltlined@.service under a real systemd (docs/service.md, "Tested under a real
# systemd"): systemd 252 boots as PID 1 of new PID, mount, cgroup, network, UTS
# and IPC namespaces, with only the units this test gives it, and runs the built
# unit (ExecStart pointed at the build's beltlined) for an instance config in
# /etc/beltline that replays the bundled capture and generates a stream:
#   systemctl start returns only after READY=1; status shows STATUS=; the
#   hardening options are in force and it works; systemctl reload reloads live
#   (logged, a reader keeps reading); a SIGKILL is restarted (Restart=on-failure);
#   systemctl stop stops it cleanly, its final counters and logs in the journal;
#   a wrong config fails with status 2 and is not restarted.
# The host is left alone: the namespaces get their own /run, /dev, /tmp, /var/tmp,
# an overlay on /etc (the group and the config live in its upper layer under $T),
# read-only /sys and /proc/sys, and a cgroup of their own that is removed at the end.
# Skips (77) where the namespaces or the mounts are refused, or systemd cannot boot.
. "$(dirname "$0")/lib.sh"
: "${BELTLINE:?}" "${UNITDIR:?}"

skip() { echo "SKIP: $*"; exit 77; }
SYSTEMD=/lib/systemd/systemd
[ "$(id -u)" -eq 0 ] || skip "booting systemd in namespaces needs root"
[ -x "$SYSTEMD" ] || skip "no $SYSTEMD"
for c in unshare nsenter systemctl journalctl findmnt; do
	command -v "$c" > /dev/null || skip "no $c"
done
[ -f "$UNITDIR/beltlined@.service" ] || skip "no built unit in $UNITDIR"
# The namespace mounts its own /tmp and /var/tmp (and the unit has PrivateTmp=yes): a build
# below them is hidden from the unit, which failed with status 203/EXEC.
case "$(readlink -f "$BELTLINED")" in
/tmp/*|/var/tmp/*) skip "the build ($BELTLINED) is under /tmp or /var/tmp, which the booted" \
	"systemd's namespace (and the unit's PrivateTmp) hide: build elsewhere to run this" ;;
esac

CG=                 # the cgroup made below (a cgroup, checked), removed by cleanup()
B=$T/boot           # what the namespace is built from (setup.sh copies it in)
P=                  # systemd's pid (in our namespace)
UPID=
cleanup() {
	[ -z "$P" ] || kill -9 "$P" 2> /dev/null || true
	[ -z "$UPID" ] || { kill -9 "$UPID"; wait "$UPID"; } 2> /dev/null || true
	kill $(jobs -p) 2> /dev/null || true
	# The cgroups systemd made, once every process in them has gone.
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		wait_for 30 grep -qx 'populated 0' "$CG/cgroup.events" || true
		find "$CG" -depth -type d -exec rmdir {} + 2> /dev/null || true
		[ ! -d "$CG" ] || echo "WARNING: could not remove cgroup $CG" >&2
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT   # meson's timeout: clean up all the same

# A cgroup of our own in the cgroup2 hierarchy: it becomes the root of the
# namespace's cgroup tree, where systemd makes its slices and scopes.
# (findmnt says 0 when it finds nothing: check what it found.)
cg2=$(findmnt -n -t cgroup2 -o TARGET 2> /dev/null || true)
cg2=$(sed -n 1p <<< "$cg2")
[ -n "$cg2" ] && [ "$(stat -f -c %T "$cg2")" = cgroup2fs ] ||
	skip "no cgroup2 hierarchy mounted (systemd needs one)"
here=$(sed -n 's/^0:://p' /proc/self/cgroup)
[ -n "$here" ] || skip "this process is in no cgroup2 cgroup"
cg=${cg2%/}${here%/}/bl-boot-$$
mkdir "$cg" 2> /dev/null || skip "cannot make a cgroup at $cg"
[ -f "$cg/cgroup.procs" ] || { rmdir "$cg"; skip "$cg is not a cgroup"; }
CG=$cg

I=$(inst boot)
U="beltlined@$I.service"
mkdir -p "$B/units" "$B/etc-up/beltline" "$B/etc-work"

# --- The units: ours, and stand-ins for the targets a service is ordered against.
sed -e "s|^ExecStart=[^ ]*/beltlined |ExecStart=$BELTLINED |" \
	"$UNITDIR/beltlined@.service" > "$B/units/beltlined@.service"
sed -e "s|^ExecStart=[^ ]*/hugepages.sh |ExecStart=$SRCDIR/deploy/hugepages.sh |" \
	"$UNITDIR/beltline-hugepages.service" > "$B/units/beltline-hugepages.service"
# SERVICE_BOOT_DROPIN=FILE: a drop-in for beltlined@.service, to try an option under a real systemd.
if [ -n "${SERVICE_BOOT_DROPIN:-}" ]; then
	mkdir -p "$B/units/beltlined@.service.d"
	cp "$SERVICE_BOOT_DROPIN" "$B/units/beltlined@.service.d/try.conf"
fi
# A sanitizer build: the service gets the test's sanitizer options (systemd passes
# it a clean environment), so an error in it fails it as anywhere else.
if [ -n "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ]; then
	mkdir -p "$B/units/beltlined@.service.d"
	printf '[Service]\nEnvironment="ASAN_OPTIONS=%s" "UBSAN_OPTIONS=%s"\n' \
		"${ASAN_OPTIONS:-}" "${UBSAN_OPTIONS:-}" > "$B/units/beltlined@.service.d/sanitizers.conf"
fi
# The host's hugepages are shared: ask for none (it says "enough" and changes nothing).
mkdir "$B/units/beltline-hugepages.service.d"
printf '[Service]\nEnvironment=BELTLINE_HUGEPAGES=0\n' > "$B/units/beltline-hugepages.service.d/test.conf"
for t in sysinit basic sockets timers paths slices local-fs swap network multi-user shutdown; do
	printf '[Unit]\nDescription=%s (stand-in)\nDefaultDependencies=no\n' "$t" > "$B/units/$t.target"
done
printf '[Unit]\nDescription=service_boot.sh\nWants=systemd-journald.socket systemd-journald.service\n' \
	> "$B/units/bl-boot.target"
cp /lib/systemd/system/systemd-journald.socket "$B/units/"
cat > "$B/units/systemd-journald.service" <<'UNIT'
[Unit]
Description=Journal Service (only the sockets under /run)
DefaultDependencies=no
Requires=systemd-journald.socket
After=systemd-journald.socket
[Service]
Type=notify
ExecStart=/lib/systemd/systemd-journald
Sockets=systemd-journald.socket
RuntimeDirectory=systemd/journal
RuntimeDirectoryPreserve=yes
StandardOutput=null
Restart=always
UNIT
cp "$SRCDIR/deploy/beltline.sysusers" "$B/beltline.sysusers"

# --- The instance: the bundled capture replayed once, a generated stream to read,
# and (where /dev/net/tun is) a tap interface in the namespaces: what the devices
# and address families the unit leaves open are for.
cp "$SRCDIR/config/sample.pcap" "$B/etc-up/beltline/"
TUN=; NP=2 NG=2
if [ -c /dev/net/tun ]; then
	TUN=', { "name": "tun", "vdev": "net_tap0,iface=bltap0" }'
	TUNG=', { "lcores": [1], "pipeline": "rx port=tun | count --name=tun" }'
	NP=3 NG=3
fi
# mkcfg FILE EXTRA-GRAPH
mkcfg() {
	cat > "$1" <<JSON
{ "instance": "not-this-one",
  "ports": [ { "name": "in",  "vdev": "net_pcap0,rx_pcap=sample.pcap" },
             { "name": "out", "vdev": "net_null0" } $TUN ],
  "graphs": [
    { "lcores": [1], "pipeline": "rx port=in | bpf \\"ip or not ip\\" | count --name=seen | tx port=out" },
    { "lcores": [1], "pipeline": "gen rate=2000 | count --name=keep | export name=s1 policy=srp" }
    ${TUNG:-} $2 ] }
JSON
}
mkcfg "$B/etc-up/beltline/$I.json" ''
mkcfg "$T/b.json" ', { "lcores": [1], "pipeline": "gen rate=1000 | count --name=extra" }'

# --- Inside the namespaces, as their PID 1: private mounts, then exec systemd.
cat > "$B/setup.sh" <<'SETUP'
set -eu
B=$1 SYSTEMD=$2
step() { "$@" || { echo "setup: refused: $*" >&2; exit 100; }; }
step mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/bl /run/systemd/journald.conf.d
cp -a "$B/units" /run/bl/units
cp "$B/beltline.sysusers" /run/bl/
# journald: in memory only, and nothing to the host's consoles or kernel log
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\n' \
	> /run/systemd/journald.conf.d/test.conf
step mount -t overlay overlay -o "lowerdir=/etc,upperdir=$B/etc-up,workdir=$B/etc-work" /etc
# /dev: a few nodes of the host's, the shared hugepages, the rest our own.
d=/run/bl/dev
mkdir $d
step mount -t tmpfs -o mode=0755,nosuid tmpfs $d
for n in null zero full random urandom tty; do
	touch $d/$n
	step mount --bind /dev/$n $d/$n
done
touch $d/console   # systemd logs here (a file: $B/console.log, bound below)
mkdir $d/pts $d/shm $d/hugepages
step mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts $d/pts
ln -s pts/ptmx $d/ptmx
step mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $d/shm
! mountpoint -q /dev/hugepages || step mount --bind /dev/hugepages $d/hugepages
if [ -c /dev/net/tun ]; then
	mkdir $d/net
	touch $d/net/tun
	step mount --bind /dev/net/tun $d/net/tun
fi
ln -s /proc/self/fd $d/fd
ln -s /proc/self/fd/0 $d/stdin; ln -s /proc/self/fd/1 $d/stdout; ln -s /proc/self/fd/2 $d/stderr
step mount --bind "$B/console.log" $d/console
step mount --move $d /dev
step mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp   # hides $B: all copied by now
step mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
# The kernel's settings are the host's: read-only here.
step mount --bind /proc/sys /proc/sys
step mount -o remount,bind,ro /proc/sys
step mount -o remount,bind,ro /sys
step mount -t cgroup2 cgroup2 /sys/fs/cgroup
# The beltline group, as the package makes it (in the overlay's upper layer).
step systemd-sysusers /run/bl/beltline.sysusers
exec env -i container=beltline-test SYSTEMD_UNIT_PATH=/run/bl/units \
	SYSTEMD_GENERATOR_PATH=/run/bl/none SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/bl/none \
	"$SYSTEMD" --system --unit=bl-boot.target --log-target=console --log-level=info \
	--show-status=no
SETUP
: > "$B/console.log"

(
	echo "$BASHPID" > "$CG/cgroup.procs" || exit 101
	# In it, or systemd would make its cgroups beside ours, in the host's tree.
	grep -qxF "0::${here%/}/bl-boot-$$" "/proc/$BASHPID/cgroup" || exit 101
	exec unshare --kill-child --fork --pid --mount --uts --ipc --net --cgroup --mount-proc \
		--propagation private bash "$B/setup.sh" "$B" "$SYSTEMD"
) > "$T/boot.out" 2>&1 &
UPID=$!

# systemd's pid: the child of unshare, once it has exec'd systemd.
find_pid() {
	local c
	c=$(pgrep -P "$UPID") || return 1
	[ -n "$c" ] && [ "$(readlink "/proc/$c/exe")" = "$(readlink -f "$SYSTEMD")" ] && P=$c
}
booted() {
	alive "$UPID" || return 0
	find_pid || return 1
	nsenter -t "$P" -m -p -n -u -i test -S /run/systemd/private
}
wait_for "$WAIT" booted || true
if ! alive "$UPID"; then
	set +e; wait "$UPID"; rc=$?; set -e
	UPID=
	echo "--- namespace setup ($rc):"; cat "$T/boot.out"; echo "--- systemd:"; tail -20 "$B/console.log"
	case $rc in
	1 | 100 | 101) skip "the namespaces, mounts or cgroup systemd needs are refused here (above)" ;;
	*) skip "systemd did not boot in the namespaces (above)" ;;
	esac
fi
[ -n "$P" ] || { cat "$B/console.log"; bad "systemd answers within $WAIT s"; finish; }
ok "systemd $("$SYSTEMD" --version | sed -n 's/^systemd \([0-9]*\).*/\1/p') booted as PID 1 in namespaces (pid $P here)"

inns() { nsenter -t "$P" -m -p -n -u -i -- "$@"; }
sctl() { inns systemctl --no-pager "$@"; }
prop() { sctl show -P "$1" "$U"; }
jctl() { inns journalctl --no-pager "$@"; }

state=$(timeout "$WAIT" nsenter -t "$P" -m -p -n -u -i -- systemctl is-system-running --wait 2>&1) || true
check "the manager finished starting up (is-system-running: $state)" \
	grep -qxE 'running|degraded' <<< "$state"
check "the beltline group exists (systemd-sysusers on deploy/beltline.sysusers)" \
	inns getent group beltline > /dev/null

# --- systemctl start: returns once READY=1 is in, so the CLI answers at once.
set +e; out=$(timeout $((WAIT * 2)) nsenter -t "$P" -m -p -n -u -i -- systemctl start "$U" 2>&1); rc=$?; set -e
eq "systemctl start $U: status" "$rc" 0
if [ "$rc" != 0 ]; then
	echo "$out"; sctl status "$U" || true
	echo "--- its journal:"; jctl -u "$U" -o cat > "$T/j.txt" || true; tail -20 "$T/j.txt"
	echo "--- systemd:"; tail -20 "$B/console.log"
	finish
fi
eq "... active (running) when it returns" "$(prop ActiveState)/$(prop SubState)" "active/running"
check "... the control socket answers at once (READY=1 comes after it listens)" \
	inns "$BELTLINE" -i "$I" ls > /dev/null
pid1=$(prop MainPID)
if [ -f "$B/units/beltlined@.service.d/sanitizers.conf" ]; then
	check "it runs with the test's sanitizer options" grep -qF "ASAN_OPTIONS=${ASAN_OPTIONS:-}" \
		<<< "$(inns cat "/proc/$pid1/environ" | tr '\0' '\n')"
fi
eq "MainPID is beltlined" "$(inns readlink "/proc/$pid1/exe")" "$(readlink -f "$BELTLINED")"
run="running: instance $I, $NP ports, $NG graphs on 1 worker"
# (READY=1 and STATUS= are two messages: start may return between them.)
status_is() { [ "$(prop StatusText)" = "$1" ]; }
check "STATUS= as StatusText: $run" wait_for "$WAIT" status_is "$run"
status=$(sctl status "$U" 2>&1) || true
check "systemctl status shows it" grep -qF "Status: \"$run\"" <<< "$status"
check "the hugepage unit ran (asked for none here)" \
	grep -q 'hugepages: .* enough' <<< "$(jctl -u beltline-hugepages.service -o cat)"
hp=$(sctl show -P ExecMainExitTimestampMonotonic beltline-hugepages.service)
hp_first() { [ "$hp" -gt 0 ] && [ "$hp" -le "$(prop ExecMainStartTimestampMonotonic)" ]; }
check "... before beltlined started" hp_first

# The hardening options are in force (not silently dropped) and it works under them.
st=$(inns cat "/proc/$pid1/status")
eq "NoNewPrivileges: NoNewPrivs" "$(sed -n 's/^NoNewPrivs:\t//p' <<< "$st")" 1
eq "RestrictNamespaces & co.: a seccomp filter" "$(sed -n 's/^Seccomp:\t//p' <<< "$st")" 2
eq "CapabilityBoundingSet: CapBnd" "$(sed -n 's/^CapBnd:\t//p' <<< "$st")" 000000000022700f
check "PrivateTmp: its /tmp is not the manager's" \
	test "$(inns stat -L -c %d:%i "/proc/$pid1/root/tmp")" != "$(inns stat -c %d:%i /tmp)"
gid=$(inns getent group beltline | cut -d: -f3)
eq "Group=beltline: its gid" "$(sed -n 's/^Gid:\t\([0-9]*\).*/\1/p' <<< "$st")" "$gid"
stats() { inns "$BELTLINE" -i "$I" stats --json > "$T/st.json"; }
fin() { jq -r --arg n "$1" '[.filters[] | select(.name == $n) | .in] | add // 0' "$T/st.json"; }
sample_pkts() { stats && [ "$(jq '.ports[] | select(.name == "in") | .rx' "$T/st.json")" = 1000 ] &&
	[ "$(fin seen)" = 1000 ]; }
check "the bundled capture (1000 packets, relative to /etc/beltline) is read" wait_for "$WAIT" sample_pkts
eq "the bpf filter runs JIT-compiled (so MemoryDenyWriteExecute stays off)" \
	"$(jq '[.filters[] | select(.filter == "bpf") | .counters.jit] | min' "$T/st.json")" 1

if [ -n "$TUN" ]; then
	# What the kernel sends out of the tap (ARP for a neighbour) reaches the tun port.
	inns ip addr add 10.99.0.1/24 dev bltap0
	inns ip link set bltap0 up
	tun_rx() { inns bash -c 'echo x > /dev/udp/10.99.0.2/9' 2> /dev/null || true
		stats && [ "$(fin tun)" -gt 0 ]; }
	check "a tap port works (/dev/net/tun, netlink, CAP_NET_ADMIN)" wait_for "$WAIT" tun_rx
else
	echo "SKIP: the tap port (no /dev/net/tun)"
fi

# --- systemctl reload: a live reload; the reader of s1 reads on.
inns "$BELTLINE" -i "$I" cat s1 > "$T/s1.pcap" 2> "$T/cat.err" &
CAT=$!
reader() { stats && [ "$(jq '[.streams[] | select(.name == "s1") | .readers[]] | length' "$T/st.json")" = 1 ]; }
check "a reader of s1 attached" wait_for "$WAIT" reader
e=$(( $(jq .reload.epoch "$T/st.json") + 1 )) keep0=$(fin keep)
inns sh -c "cat > /etc/beltline/$I.json" < "$T/b.json"
sctl reload "$U"
jmsg() { jctl -u "$U" -o cat > "$T/j.txt"; grep -q "$1" "$T/j.txt"; }
check "systemctl reload: the journal says it reloaded" \
	wait_for "$WAIT" jmsg "^reloaded /etc/beltline/$I.json (epoch $e)$"
check "... and so does STATUS=" wait_for "$WAIT" status_is "running; reloaded /etc/beltline/$I.json (epoch $e)"
eq "... the same process" "$(prop MainPID)" "$pid1"
stats
eq "... the new graph runs" "$(jq '[.filters[] | select(.name == "extra")] | length > 0' "$T/st.json")" true
check "... the reader is still attached" reader
check "... the unchanged graph kept its counters ($keep0 before)" [ "$(fin keep)" -ge "$keep0" ]
size0=$(stat -c %s "$T/s1.pcap")
grows() { [ "$(stat -c %s "$T/s1.pcap")" -gt "$size0" ]; }
check "... and reads on" wait_for "$WAIT" grows
check "... it did not stop" alive "$CAT"

# --- Restart=on-failure: a SIGKILL of the main process restarts it.
sctl kill --kill-whom=main -s KILL "$U"
restarted() { [ "$(prop NRestarts)" = 1 ] && [ "$(prop ActiveState)" = active ] &&
	[ "$(prop SubState)" = running ] && [ "$(prop MainPID)" != "$pid1" ]; }
check "SIGKILL: restarted (Restart=on-failure), NRestarts=1" wait_for $((WAIT * 2)) restarted
check "... and answers again" wait_for "$WAIT" inns "$BELTLINE" -i "$I" ls > /dev/null
check "the reader of the killed one ended" wait_for "$WAIT" gone "$CAT"
pid2=$(prop MainPID)

# --- systemctl stop: clean, with its final counters in the journal.
set +e; out=$(timeout $((WAIT * 2)) nsenter -t "$P" -m -p -n -u -i -- systemctl stop "$U" 2>&1); rc=$?; set -e
eq "systemctl stop: status" "$rc" 0
eq "... inactive, result success" "$(prop ActiveState)/$(prop Result)" "inactive/success"
eq "... exit status 0" "$(prop ExecMainStatus)" 0
check "... its run directory is gone (RuntimeDirectory=beltline/%i)" inns test ! -e "/run/beltline/$I"
# The final report: the JSON document on its stdout (after EAL's lines there), once
# journald has read the stream to its end.
report() { jctl _PID="$pid2" _TRANSPORT=stdout -o cat > "$T/out.txt" &&
	sed -n '/^{$/,$p' "$T/out.txt" > "$T/final.json" &&
	jq -e '.ports.in and .ports.out and .mbufs' "$T/final.json" > /dev/null 2>&1; }
check "the final counters are in the journal" wait_for "$WAIT" report
eq "... every packet read was forwarded or counted" \
	"$(jq '.ports.in.rx == .ports.out.tx + .ports.out.tx_dropped' "$T/final.json")" true
check "its log lines carry the instance (BELTLINE_INSTANCE=$I)" \
	grep -q . <<< "$(jctl BELTLINE_INSTANCE="$I" -o cat)"

# A wrong config: status 2, and no restart (RestartPreventExitStatus=2): failed
# at once, not "activating (auto-restart)".
X="beltlined@${I}x.service"
echo '{ "ports": 7 }' | inns sh -c "cat > /etc/beltline/${I}x.json"
set +e; timeout $((WAIT * 2)) nsenter -t "$P" -m -p -n -u -i -- systemctl start "$X" 2> /dev/null; rc=$?; set -e
check "a wrong config: systemctl start fails" [ "$rc" -ne 0 ]
eq "... with status 2, failed, not restarted" \
	"$(sctl show -P ExecMainStatus "$X")/$(sctl show -P ActiveState "$X")/$(sctl show -P NRestarts "$X")" "2/failed/0"
said_wrong() { jctl -u "$X" -o cat > "$T/x.txt"; grep -q '^ports' "$T/x.txt"; }
check "... the journal says what is wrong" wait_for "$WAIT" said_wrong
finish
