#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad configs and bad flags end with a clear message and a status, never a
# DPDK abort or a crash: status 2 with the JSON path for config problems,
# status 1 with the config path for what only DPDK can find out.
. "$(dirname "$0")/lib.sh"

expect() {   # expect NAME STATUS PATTERN beltlined-args...
	local name=$1 want=$2 pat=$3; shift 3
	set +e; "$BELTLINED" "$@" > "$T/out" 2> "$T/err"; local rc=$?; set -e
	eq "$name: exit status" "$rc" "$want"
	[ -n "$pat" ] || return 0
	if grep -qE -- "$pat" "$T/err"; then ok "$name: says \"$pat\""; else
		bad "$name: stderr lacks \"$pat\": $(head -c 400 "$T/err")"; fi
}

for f in "$SRCDIR"/config/*.json; do
	[[ $f != *.schema.json ]] || continue   # the JSON Schema of configs, not one
	expect "--check $(basename "$f")" 0 '' --check "$f"
	check "--check $(basename "$f"): says ok" grep -q ': ok (' "$T/out"
done

# EAL never touches what it was not given: --no-pci, or exactly the PCI ports.
fwd_cfg "$T/c.json" "$(inst eal)" "net_null0" "net_null1"
expect "vdev-only --check" 0 '' --check "$T/c.json"
check "vdev only: EAL gets --no-pci" grep -q '^EAL arguments:.* --no-pci' "$T/out"
check "vdev only: no allowlist" bash -c "! grep -qE '^EAL arguments:.* -a ' '$T/out'"
cat > "$T/pci.json" <<'JSON'
{ "ports": [ { "name": "p0", "pci": "0000:03:00.0" }, { "name": "p1", "pci": "03:00.1" },
             { "name": "v", "vdev": "net_null0" } ],
  "workers": [ { "lcore": 1, "poll": [ { "port": "p0", "queue": 0, "tx": "p1" } ] } ] }
JSON
expect "pci --check" 0 '' --check "$T/pci.json"
check "pci: exactly the configured addresses are allowed" \
	grep -q '^EAL arguments:.* -a 0000:03:00.0 -a 0000:03:00.1' "$T/out"
eq "pci: two allowlist entries" "$(grep '^EAL arguments:' "$T/out" | grep -o ' -a ' | wc -l)" 2
check "pci: no --no-pci" bash -c "! grep -q -- '--no-pci' '$T/out'"

cat > "$T/bad.json" <<'JSON'
{ "instance": "x y", "burts": 32,
  "ports": [ { "name": "in", "vdev": "net_null0", "rx_queues": 0 },
             { "name": "in", "vdev": "eth0" } ],
  "workers": [ { "lcore": 0, "poll": [ { "port": "inn", "queue": 0, "tx": "in" } ] } ] }
JSON
expect "several problems" 2 '^ports\[0\]\.rx_queues: must be 1\.\.64, got 0$' --check "$T/bad.json"
check "several problems: the typo is named with a suggestion" grep -q '^burts: unknown key (did you mean "burst"?)' "$T/err"
check "several problems: the bad instance name" grep -q '^instance: ' "$T/err"
check "several problems: the bad vdev" grep -q '^ports\[1\]\.vdev: must be a DPDK virtual device' "$T/err"
check "several problems: the unknown port, with a suggestion" \
	grep -q '^workers\[0\]\.poll\[0\]\.port: no port named "inn" (did you mean "in"?)' "$T/err"
check "several problems: one line each (5 or more)" [ "$(wc -l < "$T/err")" -ge 5 ]
expect "several problems, without --check" 2 'rx_queues' "$T/bad.json"
check "nothing on stdout for a bad config" [ ! -s "$T/out" ]

echo '{ "ports": [' > "$T/trunc.json"
expect "not JSON" 2 '^\$: not valid JSON \(line 1, col [0-9]+\): the text ends' --check "$T/trunc.json"
printf '{ "ports": [ ] ,,\n}' > "$T/comma.json"
expect "not JSON, mid-text" 2 '^\$: not valid JSON \(line 1, col 1[0-9]\)$' --check "$T/comma.json"
expect "missing file" 2 'cannot open' --check "$T/nonexistent.json"
expect "a folder as config" 2 'not a regular file' --check "$T"
expect "no config" 2 'expected one CONFIG.json' --check
expect "unknown flag" 2 'unrecognized option' --frobnicate "$T/bad.json"
expect "bad --exit-idle" 2 '--exit-idle: must be a number 1..86400000' --exit-idle soon "$T/bad.json"

# A worker on a CPU this machine does not let us use.
fwd_cfg "$T/c.json" "$(inst cpu)" "net_null0" "net_null1"
sed -i 's/"lcore": 1/"lcore": 99/' "$T/c.json"
expect "lcore not available" 2 '^workers\[0\]\.lcore: CPU 99 is not one this process may run on' --check "$T/c.json"

# A capture that is not there: named, with why, before DPDK ("Operation not permitted").
fwd_cfg "$T/c.json" "$(inst nofile)" "net_pcap0,rx_pcap=$T/missing.pcap" "net_null0"
expect "missing capture" 2 "^ports\[0\]\.vdev: rx_pcap=$T/missing.pcap: No such file or directory" "$T/c.json"
# What only DPDK can find out is still named by its config path.
fwd_cfg "$T/c.json" "$(inst nodrv)" "net_nosuchdriver0" "net_null0"
expect "unknown driver" 1 'ports\[0\]\.vdev: DPDK could not create "net_nosuchdriver0"' "$T/c.json"
# (DPDK's -1 is no errno: it was printed as "Operation not permitted")
check "... without a made-up errno" bash -c "! grep -q 'not permitted' '$T/err'"
check "... saying what it most likely is" grep -q 'no driver of that name' "$T/err"
fwd_cfg "$T/c.json" "$(inst badarg)" "net_null0,nosuchkey=1" "net_null1"
expect "bad driver argument" 1 'ports\[0\]\.vdev' "$T/c.json"
# Rings the pool cannot fill: the message names the key to raise (mbufs.count).
cat > "$T/ring.json" <<JSON
{ "instance": "$(inst ring)", "ports": [ { "name": "in", "vdev": "net_null0" } ], "mbufs": { "count": 8191 },
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | export name=web capacity=65536" } ] }
JSON
expect "export ring above the pool" 2 'raise mbufs\.count to at least [0-9]+ or make the rings smaller' "$T/ring.json"
check "export ring above the pool: no internal name" bash -c "! grep -q n_mbufs '$T/err'"

# An ordinary user cannot create the control socket's folder: the message
# says the two ways out (BELTLINE_RUN_DIR, or the user the folder belongs to).
chmod 0755 "$T"
mkdir -m 0755 "$T/rootonly"
cat > "$T/user.json" <<JSON
{ "instance": "$(inst user)", "memory": { "hugepages": "no" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$SRCDIR/config/sample.pcap" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | export name=web" } ] }
JSON
chmod 0644 "$T/user.json"
# user_start NAME RUN_DIR PATTERN: beltlined as nobody with BELTLINE_RUN_DIR
# (unset when ""): exit 1 (an exported stream needs the socket), PATTERN said.
user_start() {
	local e=(env -u BELTLINE_RUN_DIR) rc
	[ -z "$2" ] || e=(env BELTLINE_RUN_DIR="$2")
	set +e
	"${e[@]}" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BELTLINED" -q --exit-idle 200 "$T/user.json" > "$T/out" 2> "$T/err"
	rc=$?; set -e
	eq "$1: exit status" "$rc" 1
	if grep -qE -- "$3" "$T/err"; then ok "$1: says what to do"; else
		bad "$1: stderr lacks \"$3\": $(head -c 600 "$T/err")"; fi
}
user_start "non-root, run dir in root's folder" "$T/rootonly/run" \
	"^beltlined: control socket: cannot create $T/rootonly/run: Permission denied \($T/rootonly belongs to root; this process runs as nobody\): run beltlined as root, or set BELTLINE_RUN_DIR to a folder of your own"
if ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -w /run/beltline 2> /dev/null &&
   ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -w /run 2> /dev/null; then
	user_start "non-root, default run dir" "" \
		"^beltlined: control socket: cannot create /run/beltline(/$(inst user))?: Permission denied \(/run(/beltline)? belongs to root; this process runs as nobody\): run beltlined as root, or set BELTLINE_RUN_DIR"
fi

check "no core dump left" [ -z "$(ls core* 2>/dev/null)" ]
finish
