#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# beltlined as a service (deploy/beltlined@.service, docs/service.md):
# --version; SIGHUP (systemctl reload) is refused in the log and never kills
# it; Type=notify: READY=1 once ports, graphs and the control socket are up,
# STATUS= lines, STOPPING=1; one default instance name for beltlined and the
# CLI; the units pass systemd-analyze verify. The notify socket is a stand-in
# (notify_listen.py); service_boot.sh runs the unit under a real systemd.
. "$(dirname "$0")/lib.sh"
: "${BELTLINE:?}"

# --version: the project's version (and git describe when built from git).
want=$(sed -n "s/^\tversion: '\(.*\)',$/\1/p" "$SRCDIR/meson.build")
for b in "$BELTLINED" "$BELTLINE"; do
	v=$("$b" --version)
	check "$(basename "$b") --version says '$v'" \
		grep -qE "^$(basename "$b") ${want//./\\.}( \(git [0-9a-f]+(-dirty)?\))?$" <<< "$v"
done

# One default instance: beltlined's (no --instance, none in the config) is the CLI's.
v=$("$BELTLINED" --check --port in=net_null0 --pipeline 'rx port=in | drop')
check "beltlined's default instance is 'default'" grep -q '^the command line: ok (instance default,' <<< "$v"
mkdir "$T/empty"
set +e; BELTLINE_RUN_DIR=$T/empty BELTLINE_INSTANCE='' "$BELTLINE" ls > /dev/null 2> "$T/cli.err"; rc=$?; set -e
eq "beltline ls with no instance running: status" "$rc" 1
check "... it looked for instance 'default'" grep -q "'default'" "$T/cli.err"

# Type=notify and SIGHUP, with a stand-in notify socket.
i=$(inst svc)
run=$T/run
mkdir "$run"
python3 "$SRCDIR/tests/integration/notify_listen.py" "$T/notify.sock" "$T/notify" "$run/$i/ctl" &
lpid=$!
trap 'kill "$lpid" 2> /dev/null || true; [ -z "${bpid:-}" ] || kill -9 "$bpid" 2> /dev/null || true; rm -rf "$T"' EXIT
check "notify stand-in listening" wait_for "$WAIT" test -S "$T/notify.sock"
BELTLINE_RUN_DIR=$run NOTIFY_SOCKET=$T/notify.sock "$BELTLINED" --duration 600 --stats-interval 0 \
	--instance "$i" --port in=net_null0 --port out=net_null1 \
	--pipeline 'rx port=in | tx port=out' > "$T/r.json" 2> "$T/err" &
bpid=$!
check "READY=1 sent" wait_for "$WAIT" grep -q '^READY=1' "$T/notify"
eq "... once the control socket listens" "$(grep '^ctl-at-ready=' "$T/notify")" "ctl-at-ready=yes"
check "STATUS says it runs, with its instance and parts" \
	grep -q "^STATUS=running: instance $i, 2 ports, 1 graph on 1 worker$" "$T/notify"
check "the CLI reaches it" wait_for "$WAIT" env BELTLINE_RUN_DIR="$run" "$BELTLINE" -i "$i" ls

kill -HUP "$bpid"
check "SIGHUP (started from flags): says the reload is refused and why" wait_for "$WAIT" \
	grep -qF 'beltlined: reload refused, the old config runs on: started from flags, not a config file: give one (beltline reload CONFIG.json)' "$T/err"
check "SIGHUP: STATUS says the reload was refused" wait_for "$WAIT" grep -q '^STATUS=running; reload refused' "$T/notify"
kill -HUP "$bpid"
refusals() { [ "$(grep -c 'reload refused, the old config runs on' "$T/err")" -eq "$1" ]; }
check "a second SIGHUP: said again" wait_for "$WAIT" refusals 2
check "after two SIGHUPs it still runs" alive "$bpid"
check "... and still answers" env BELTLINE_RUN_DIR="$run" "$BELTLINE" -i "$i" stats --json > /dev/null
# A refusal whose text holds a newline (the file's name here) stays one STATUS line: a
# newline would start another assignment (notify_listen.py shows it as "|").
nl=$T/'bad
STATUS=x.json'
cat > "$nl" <<JSON
{ "instance": "$i", "burst": 64, "ports": [ { "name": "in", "vdev": "net_null0" }, { "name": "out", "vdev": "net_null1" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | tx port=out" } ] }
JSON
set +e; BELTLINE_RUN_DIR=$run "$BELTLINE" -i "$i" reload "$nl" > /dev/null 2> "$T/r.err"; rc=$?; set -e
eq "a reload refused (burst), from a file with a newline in its name" "$rc" 1
check "... STATUS says so on one line, the newline a space ($(grep 'burst' "$T/notify" | head -c 300))" \
	wait_for "$WAIT" grep -q '^STATUS=running; reload refused: .*/bad STATUS=x\.json: burst changed: needs a restart$' "$T/notify"

kill -TERM "$bpid"
set +e; wait "$bpid"; rc=$?; set -e
bpid=
eq "SIGTERM after SIGHUPs: exit status" "$rc" 0
check "STOPPING=1 sent" wait_for "$WAIT" grep -q '^STOPPING=1' "$T/notify"
eq "the final counters: every packet sent or counted" \
	"$(jq '.ports.in.rx == .ports.out.tx + .ports.out.tx_dropped' "$T/r.json")" true

# A SIGHUP while it starts (before its loop runs) is answered, never a kill.
BELTLINE_RUN_DIR=$run "$BELTLINED" -q --duration 600 --instance "$i" --port in=net_null0 \
	--pipeline 'rx port=in | drop' > /dev/null 2> "$T/err" &
bpid=$!
is_beltlined() { [ "$(readlink "/proc/$bpid/exe")" = "$(readlink -f "$BELTLINED")" ]; }
# Its handler is there once main() has begun (SigCgt has SIGHUP, bit 1): a HUP before
# that (the exec, a sanitizer's start-up) takes the default action, as for any program;
# systemd sends it only after READY=1.
hup_caught() { local m; m=$(awk '/^SigCgt:/ { print $2 }' "/proc/$bpid/status") && (( 0x$m & 2 )); }
wait_for "$WAIT" is_beltlined   # exec'd (a HUP before would hit the shell's fork)
wait_for "$WAIT" hup_caught
kill -HUP "$bpid"
check "SIGHUP while starting: still runs once up" wait_for "$WAIT" test -S "$run/$i/ctl"
kill -TERM "$bpid"
set +e; wait "$bpid"; rc=$?; set -e
bpid=
eq "... and stops cleanly" "$rc" 0

# The units: systemd-analyze verify (offline) says nothing and succeeds.
if command -v systemd-analyze > /dev/null && [ -n "${UNITDIR:-}" ]; then
	mkdir "$T/units"
	for u in "$UNITDIR"/*.service; do
		sed -e "s|^ExecStart=[^ ]*/beltlined |ExecStart=$BELTLINED |" \
		    -e "s|^ExecStart=[^ ]*/hugepages.sh |ExecStart=$SRCDIR/deploy/hugepages.sh |" \
		    "$u" > "$T/units/$(basename "$u")"
	done
	set +e
	out=$(cd "$T/units" && SYSTEMD_LOG_LEVEL=notice timeout 120 systemd-analyze verify --man=no \
		./beltlined@.service ./beltline-hugepages.service 2>&1); rc=$?
	set -e
	eq "systemd-analyze verify: status" "$rc" 0
	eq "systemd-analyze verify: no complaint" "$out" ""
else
	echo "SKIP: systemd-analyze verify (no systemd-analyze, or UNITDIR unset)"
fi
finish
