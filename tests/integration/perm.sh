#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Zero copy, within permissions (issue 5, point 2). One capture, two streams:
# `bpf "tcp"` into a stream of group G, mode 0640 (a copy DBuf of its own),
# `bpf "udp"` into a stream only root may read (the packet DBuf's own
# permissions: memory.packet_mode 0600, so zero copy). A user in G reads the
# tcp stream (byte-identical to tcpdump 'tcp' on the capture) and is refused
# the udp one; mapping every descriptor its attach gave it, it finds bytes
# only TCP packets hold and none that only UDP packets hold, where root on the
# udp stream finds them (so the scan is shown to see packets). The packet
# DBuf's file is root's, mode 0600, and the user cannot open it. No mbuf of
# either pool leaks.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (/run/beltline, setpriv, useradd)"; exit 77; fi
: "${DBUF_SCAN:?}"
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
N=100
I=$(inst perm)
export BELTLINE_INSTANCE=$I
jqe() { jq -e "$1" "$2" > /dev/null; }

G=blpg$$
U=blpu$$
groupadd "$G"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$U"
cleanup_ids() { userdel "$U" 2> /dev/null || true; groupdel "$G" 2> /dev/null || true; }
trap 'cleanup_ids; rm -rf "$T"' EXIT
AS_U=(setpriv --reuid="$U" --regid=nogroup --init-groups)
chmod 0755 "$T"   # U runs programs with their output redirected here by this shell only

# The capture: TCP packets carry one random token, UDP (DNS) packets another,
# each found nowhere else (fresh per run).
TOK_T=t$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
TOK_U=u$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
CAP=$T/cap.pcap
python3 - "$CAP" "$TOK_T" "$TOK_U" <<'PY'
import struct, sys
path, tok_t, tok_u = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
def eth(p): return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + p
def ip(proto, p, i):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(p), i, 0, 64, proto, 0,
                       bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + p
out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
for i in range(200):
    if i % 2 == 0:
        data = b"GET /" + tok_t + b" HTTP/1.1\r\n" + bytes([i]) * (i % 40)
        p = eth(ip(6, struct.pack("!HHIIBBHHH", 40000 + i, 80, i, 0, 0x50, 0x18, 65535, 0, 0) + data, i))
    else:
        q = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + bytes([len(tok_u)]) + tok_u + b"\x07example\x00\x00\x01\x00\x01"
        p = eth(ip(17, struct.pack("!HHHH", 5000 + i, 53, 8 + len(q), 0) + q, i))
    out.append(struct.pack("<IIII", 1000 + i, 0, len(p), len(p)) + p)
open(path, "wb").write(b"".join(out))
PY
eq "capture: tcp packets" "$(tcpdump -nn -r "$CAP" tcp 2> /dev/null | wc -l)" 100
eq "capture: udp packets" "$(tcpdump -nn -r "$CAP" udp 2> /dev/null | wc -l)" 100

cat > "$T/c.json" <<JSON
{ "instance": "$I", "memory": { "hugepages": "auto", "packet_mode": "0600" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$CAP,infinite_rx=1" } ],
  "graphs": [ { "lcores": [1], "pipeline": [
      "rx port=in | bpf \"tcp\" | export name=tcp mode=0640 group=$G capacity=512",
      "rx port=in | bpf \"udp\" | export name=udp mode=0600 policy=frp capacity=512" ] } ] }
JSON
"$BELTLINED" -q --duration 600 "$T/c.json" > "$T/r.json" 2> "$T/err" &
BPID=$!
trap 'kill -TERM $BPID 2> /dev/null || true; cleanup_ids; rm -rf "$T"' EXIT
check "control socket exists" wait_for "$WAIT" test -S "/run/beltline/$I/ctl"
# Both rings have lapped at least once: every slot holds a packet.
lapped() { [ "$("$BELTLINE" stats --json | jq '[.streams[].written] | min')" -gt 1024 ]; }
wait_for "$WAIT" lapped || true

# The user in G reads the tcp stream (SRP: a reader of N <= capacity loses none):
# the packets tcpdump keeps from the capture.
tcpdump -r "$CAP" -w "$T/ref.pcap" tcp 2> /dev/null
"${AS_U[@]}" "$BELTLINE" cat tcp -c $N 2> "$T/cat.err" | tcpdump -r - -w "$T/out.pcap" 2> /dev/null
read -r got _ < <("$PCAP_CMP" -s "$T/out.pcap")
eq "user $U in $G: cat tcp -c $N: packets" "$got" $N
python3 "$(dirname "$0")/pcap_window.py" "$T/ref.pcap" "$T/out.pcap" "$T/exp.pcap"
check "user $U: cat tcp | tcpdump is byte-identical to tcpdump 'tcp' on the capture" \
	"$PCAP_CMP" "$T/exp.pcap" "$T/out.pcap"

# ... and is refused the udp stream.
set +e
"${AS_U[@]}" "$BELTLINE" cat udp -c 1 > "$T/udp.out" 2> "$T/udp.err"
rc=$?
"${AS_U[@]}" "$DBUF_SCAN" "$I" udp "$TOK_U" > "$T/scan_refused" 2> "$T/scan_refused.err"
src=$?
set -e
check "user $U: cat udp fails (status $rc)" test "$rc" -ne 0
check "user $U: cat udp says permission denied" grep -q "may not read udp.*Permission denied" "$T/udp.err"
eq "user $U: cat udp gives no packet" "$(stat -c %s "$T/udp.out")" 0
eq "user $U: attach udp refused with EACCES (dbuf_scan status)" "$src" 2

# What the user maps when attached to tcp: the ring, its page, one DBuf, the copy one.
"${AS_U[@]}" "$DBUF_SCAN" "$I" tcp "$TOK_U" "$TOK_T" > "$T/scan_u" 2> "$T/scan_u.err"
cat "$T/scan_u"
eq "user $U on tcp: one DBuf passed" "$(grep -c '^fd .* dbuf ' "$T/scan_u")" 1
check "user $U on tcp: it is the copy DBuf (bl_${I}_pkts.0.GID.640.SLOT)" \
	grep -Eq "^fd [0-9]+ dbuf [0-9]+ dbuf [0-9]+ bl_${I}_pkts\.0\.[0-9]+\.640\.[0-9]+\$" "$T/scan_u"
check "user $U on tcp: PROT_WRITE on the DBuf refused" grep -q '^write dbuf refused$' "$T/scan_u"
eq "user $U on tcp: bytes only UDP packets hold, found in all it maps" \
	"$(awk -v t="$TOK_U" '$1=="hits" && $2==t {print $3}' "$T/scan_u")" 0
tcp_hits=$(awk -v t="$TOK_T" '$1=="hits" && $2==t {print $3}' "$T/scan_u")
check "user $U on tcp: the scan sees its own packets ($tcp_hits with the TCP token)" \
	test "${tcp_hits:-0}" -gt 0

# Root on the udp stream: the packet DBuf itself (zero copy), where the UDP bytes are.
"$DBUF_SCAN" "$I" udp "$TOK_U" > "$T/scan_r" 2> "$T/scan_r.err"
cat "$T/scan_r"
check "root on udp: the packet DBuf bl_${I}_pkts (zero copy)" \
	grep -Eq "^fd [0-9]+ dbuf [0-9]+ dbuf [0-9]+ bl_${I}_pkts\$" "$T/scan_r"
udp_hits=$(awk -v t="$TOK_U" '$1=="hits" && $2==t {print $3}' "$T/scan_r")
check "root on udp: the same scan finds the UDP bytes ($udp_hits)" test "${udp_hits:-0}" -gt 0

# The packet DBuf's file: root's, mode 0600 (never widened), and the user cannot open it.
pfd=
for f in /proc/$BPID/fd/*; do
	case "$(readlink "$f")" in "/memfd:bl_${I}_pkts (deleted)") pfd=$f; break ;; esac
done
check "the packet DBuf's memfd is found ($pfd)" test -n "$pfd"
eq "packet DBuf: owner, group, mode (no write bit: a reader may not reopen it read-write)" "$(stat -L -c '%u %g %a' "$pfd")" "0 0 400"
set +e
"${AS_U[@]}" cat "$pfd" > /dev/null 2> "$T/open.err"
rc=$?
set -e
check "user $U cannot open the packet DBuf ($pfd; status $rc)" test "$rc" -ne 0
cfd=
for f in /proc/$BPID/fd/*; do
	case "$(readlink "$f")" in "/memfd:bl_${I}_pkts.0."*) cfd=$f; break ;; esac
done
eq "copy DBuf: owner, group, mode (no write bit)" "$(stat -L -c '%u %G %a' "$cfd")" "0 $G 440"
# The file's own permissions, whatever /proc allows: handed a descriptor of each
# (fd 3), the user may reopen the copy DBuf's file but not the packet DBuf's.
set +e
"${AS_U[@]}" head -c 1 /proc/self/fd/3 3< "$pfd" > /dev/null 2> "$T/reopen.err"
rc=$?
"${AS_U[@]}" head -c 1 /proc/self/fd/3 3< "$cfd" > /dev/null 2> "$T/reopen2.err"
rc2=$?
set -e
check "user $U: the packet DBuf's file (root, 0600) does not open (status $rc)" \
	grep -q "Permission denied" "$T/reopen.err"
eq "user $U: the copy DBuf's file (group $G, 0640) opens" "$rc2" 0

kill -TERM $BPID  # (report kept below)
set +e; wait $BPID; rc=$?; set -e
eq "beltlined exit status" "$rc" 0
eq "leaked mbufs (packet pool)" "$(jget "$T/r.json" .mbufs.leaked)" 0
eq "copy pools" "$(jget "$T/r.json" '.mbufs.copy_pools | length')" 1
eq "leaked mbufs (copy pool)" "$(jget "$T/r.json" '.mbufs.copy_pools[0].leaked')" 0
check "tcp: copied every packet it wrote" \
	jqe '[.graphs[].filters[] | select(.filter=="export")] | map(.counters) | any(.copied > 0 and .copied == .written and .copy_nombuf == 0)' "$T/r.json"
check "udp: zero copy (copied 0, written > 0)" \
	jqe '[.graphs[].filters[] | select(.filter=="export")] | map(.counters) | any(.copied == 0 and .written > 0)' "$T/r.json"

# With no memory.packet_mode, an export with its defaults (mode 0640, the
# appliance's owner and group) is zero copy: no copy DBuf at all.
I2=$(inst perm2)
cat > "$T/d.json" <<JSON
{ "instance": "$I2", "memory": { "hugepages": "auto" },
  "ports": [ { "name": "in", "vdev": "net_pcap0,rx_pcap=$CAP" } ],
  "graphs": [ { "lcores": [1], "pipeline": "rx port=in | export name=web" } ] }
JSON
"$BELTLINED" -q --exit-idle 200 "$T/d.json" > "$T/d.out" 2> "$T/d.err"
eq "defaults: no copy DBuf" "$(jget "$T/d.out" '.mbufs.copy_pools | length')" 0
check "defaults: the export wrote, zero copy" \
	jqe '[.graphs[].filters[] | select(.filter=="export") | .counters] | .[0].written == 200 and .[0].copied == 0' "$T/d.out"
finish
