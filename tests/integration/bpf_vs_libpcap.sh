#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bpf keeps exactly what tcpdump keeps: for every capture of the corpus and
# every expression below, the packets `bpf "EXPR"` passes are the packets
# `tcpdump -r CAPTURE -w OUT 'EXPR'` writes, byte for byte and in order, and
# the filter's accepted/rejected counters agree. The references come from
# libpcap in one process per capture (pcap_cmp -f: pcap_compile as tcpdump -r
# calls it, then pcap_offline_filter), not a tcpdump per expression (5520
# process starts a run, most of the test's time); tcpdump itself is run for
# XCHECK (3) expressions a capture, a different few each, and must agree.
#
# One beltlined per capture runs every expression as a parallel branch of one
# rx node (`rx port=in --name=r | bpf "E1" | pcap file=o1; rx --name=r | ...`).
# A graph holds at most 64 filters (BL_GRAPH_MAX_NODES): one rx and a bpf and a
# pcap per expression, so the expressions go in batches of BATCH, one graph
# (and one net_pcap port reading the same capture) per batch, all on lcore 1.
#
# Frames longer than one default mbuf (2048 bytes) arrive as mbuf chains. The
# graph runtime shares a packet between edges by taking a reference on its
# first segment only (rte_mbuf_refcnt_update), so the first branch to free a
# chained packet frees the other segments under the feet of the others (a
# lib/graph defect: `rx port=in --name=r | pcap file=a; rx --name=r | pcap
# file=b` on huge-tipc-messages.pcap crashes). So captures with frames up to
# 16384 bytes run shared with 16512-byte mbufs (no chains), and the two with
# longer frames run unshared, on chains: one graph and port per expression,
# at most 16 graphs (BL_CFG_MAX_GRAPHS) per beltlined. The pcap sinks keep
# whole frames (snaplen=262144, libpcap's largest).
#
# libpcap's `len`, `less` and `greater` read the wire length, which a replay
# keeps (nic/bl_replay.h): the captures whose snaplen cut packets (the *-oobr
# ones) check that bpf reads it too. The outputs are compared as whole
# records (time, captured and wire length, bytes: pcap_cmp -r). tcpdump -r
# compiles with a netmask of 0, and so does bpf by default: `ip broadcast`
# is compared like any other expression.
#
# SHARD=I/N (the first argument or the environment; default 0/1) takes every
# N-th capture from the I-th: meson runs the corpus as N tests of their own
# (each well inside its timeout on a loaded machine); shard 0 also runs the
# refusal checks at the end.
. "$(dirname "$0")/lib.sh"
need_corpus
command -v tcpdump > /dev/null || { echo "SKIP: tcpdump is not installed"; exit 77; }

EXPRS=(
	# protocol keywords
	'ip' 'ip6' 'arp' 'udp' 'tcp' 'icmp' 'icmp6' 'igmp' 'pim' 'vrrp' 'ip proto 47' 'sctp'
	'ah' 'esp' 'stp' 'ipx' 'iso' 'isis' 'decnet' 'mpls' 'pppoes' 'llc' 'ip proto 89'
	# ports
	'tcp port 80' 'udp port 53' 'port 22 or port 179' 'src port 123'
	'dst portrange 1-1023' 'udp portrange 7000-7009' 'tcp dst port 6633 or tcp src port 6633'
	# hosts and nets, IPv4 and IPv6
	'host 10.0.0.1' 'src host 192.168.1.11' 'dst host 224.0.0.18' 'net 10.0.0.0/8'
	'src net 192.168.0.0/16 and not dst net 192.168.0.0/16' 'net 172.16.0.0/12'
	'ip6 host ::1' 'ip6 net fe80::/10' 'dst net ff00::/8' 'ip multicast' 'ip6 multicast'
	# Ethernet
	'ether broadcast' 'ether multicast' 'not ether multicast' 'ether host 00:80:ea:81:88:63'
	'ether dst 01:80:c2:00:00:00' 'ether proto 0x88cc' 'ether src 00:00:00:00:00:00'
	# VLAN, QinQ, encapsulations (offsets shift after vlan, mpls, pppoes, geneve)
	'vlan' 'vlan 2001' 'vlan and vlan' 'vlan 200 and vlan 2001 and arp' 'vlan and ip'
	'pppoes and ip' 'mpls and ip' 'geneve' 'geneve and icmp'
	# ICMP types, ICMPv6 types
	'icmp[icmptype] == icmp-echo' 'icmp[icmptype] == icmp-echoreply'
	'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply'
	'icmp6[icmp6type] == icmp6-echo' 'icmp6 and ip6[40] == 134'
	# TCP flags
	'tcp[tcpflags] & tcp-syn != 0' 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'
	'tcp[tcpflags] & (tcp-fin|tcp-rst) != 0' 'tcp[13] == 0x18' 'tcp[tcpflags] & (tcp-ece|tcp-cwr) != 0'
	# fragments
	'ip[6:2] & 0x1fff != 0' 'ip[6] & 0x20 != 0' 'ip[6:2] & 0x3fff != 0 or ip6[6] == 44'
	# lengths (wire length in libpcap: see above)
	'less 64' 'greater 1000' 'len > 500 and len < 1500' 'less 128 and udp' 'len = 60'
	'greater 100 and less 200' 'len != 64'
	# the netmask (0, as tcpdump -r)
	'ip broadcast' 'ip broadcast or ip multicast' 'net 10.0.0.0/8 and not ip broadcast'
	# byte offsets, comparisons with the top bit set, every ALU operation
	'ether[12:2] = 0x0800' 'ether[12:2] = 0x8100 or ether[12:2] = 0x88a8' 'ip[9] = 17'
	'ip[8] < 64' 'ip[0] & 0xf > 5' 'ip[2:2] > 1400' 'ether[0:4] = 0xffffffff'
	'ip[12:4] > 0x80000000' 'ip[16:4] >= 0xe0000000' 'ether[6:4] & 0x80000001 != 0'
	'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420' 'udp[4:2] > 200'
	'ip[2:2] - ((ip[0] & 0xf) << 2) > 100' 'ip[2:2] % 7 = 3' 'ip[2:2] ^ 0xff > 0x3ff'
	'ip[4:2] * 3 > 60000' 'ip[2:2] / 3 > 100' 'ip[10:2] | 1 = 0xffff' '-ip[8] < -60'
	'ether[len - 1] & 1 = 1' 'ip[2:2] + 14 != len'
	# not, and, or
	'not ip' 'not ip and not ip6 and not arp' 'not (port 53 or port 123)'
	'tcp and (port 80 or port 443 or port 22)' '(ip and udp) or (ip6 and tcp)' 'udp or icmp'
	'host 127.0.0.1 and not port 53' 'not tcp[tcpflags] & tcp-ack != 0 and tcp'
)
BATCH=${BATCH:-30}       # 1 + 2 * 30 = 61 filters per graph (at most 64)
UNSHARED=16              # graphs per beltlined (BL_CFG_MAX_GRAPHS)
ONE_MBUF=2048            # data bytes in one default mbuf (data_room 2176 - headroom)
BIG_MBUF=16384           # ... in one mbuf of data_room 16512

shopt -s nullglob
all=("$CORPUS"/*.pcap "$CORPUS"/*.pcapng)
shopt -u nullglob
SHARD=${1:-${SHARD:-0/1}}
shard=${SHARD%/*} shards=${SHARD#*/}
caps=()
for ((k = shard; k < ${#all[@]}; k += shards)); do caps+=("${all[k]}"); done
echo "# shard $SHARD: ${#caps[@]} of ${#all[@]} captures x ${#EXPRS[@]} expressions"
PAIRS=0
XCHECK=${XCHECK:-3}      # expressions per capture run through tcpdump too
XCHECKED=0 cap_k=0

# run_beltlined DIR NAME: write DIR/c.json from $mbufs, $ports and $graphs,
# run it; on failure, 1 and what went wrong in DIR/fail.
run_beltlined() {
	printf '{"instance": "%s", "memory": {"hugepages": "no"}, %s\n "ports": [%s],\n "graphs": [%s]}\n' \
		"$(inst bpf)" "$mbufs" "$ports" "$graphs" > "$1/c.json"
	local rc=0
	"$BELTLINED" -q --exit-idle 100 "$1/c.json" > "$1/r.json" 2> "$1/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "$2: beltlined failed (exit $rc): $(grep -v TELEMETRY "$1/err" | tail -3)" > "$1/fail"
		return 1
	fi
	# One jq (a start is 20-30 ms): the leaked mbufs, then accepted and rejected per
	# bpf node (named eI).
	local rep
	mapfile -t rep < <(jq -r '.mbufs.leaked, (.graphs[].filters | to_entries[] |
		select(.value.filter == "bpf") |
		"\(.key) \(.value.counters.accepted) \(.value.counters.rejected)")' "$1/r.json")
	eq "$2: leaked mbufs" "${rep[0]:-}" 0
	((${#rep[@]} < 2)) || printf '%s\n' "${rep[@]:1}" >> "$1/counts"
}

# Append a statement for expression $1 (index) reading port $2 (none = shared r).
stmt() {
	local src="rx --name=r"
	[ -n "${2:-}" ] && src="rx port=$2 --name=r"
	stmts+="${stmts:+, }\"$src | bpf --name=e$1 \\\"${EXPRS[$1]}\\\" | pcap snaplen=262144 file=$d/out$1.pcap\""
}
port() { ports+="${ports:+, }{\"name\": \"$1\", \"vdev\": \"net_pcap${1#in},rx_pcap=$cap\", \"rx_desc\": 128, \"tx_desc\": 32}"; }
graph() { graphs+="${graphs:+, }{\"lcores\": [1], \"pipeline\": [$stmts]}"; stmts=""; }

# belt DIR NAME: every expression of idx through beltlined: branches of a
# shared rx, or unshared (the JSON by hand: jq is slow to start, and the
# expressions hold no quote or backslash). Sets failed; counts in DIR/counts.
belt() {
	: > "$1/counts"
	ports="" graphs="" stmts="" failed=0
	# The captures are short and a port a replay: 2047 mbufs are plenty, 4095 for 16
	# ports (the default, sized for 1024 descriptors a ring, is 16383: 270 MB of
	# 16512-byte mbufs to build, each run, for a few hundred packets).
	mbufs='"mbufs": {"count": 2047},'
	if [ "$maxlen" -le "$BIG_MBUF" ]; then
		[ "$maxlen" -gt "$ONE_MBUF" ] && mbufs='"mbufs": {"count": 2047, "data_room": 16512},'
		for ((k = 0; k < ${#idx[@]}; k++)); do
			if ((k % BATCH == 0)); then
				port "in$((k / BATCH))"
				stmt "${idx[k]}" "in$((k / BATCH))"
			else
				stmt "${idx[k]}"   # no $(...): a fork an expression was 0.1 s a capture
			fi
			((k % BATCH == BATCH - 1 || k == ${#idx[@]} - 1)) && graph
		done
		run_beltlined "$1" "$2" || failed=1
	else
		echo "# $2: frames up to $maxlen bytes (mbuf chains): one graph per expression"
		mbufs='"mbufs": {"count": 4095},'   # 16 ports' rings
		for ((k = 0; k < ${#idx[@]}; k++)); do
			port "in$((k % UNSHARED))"
			stmt "${idx[k]}" "in$((k % UNSHARED))"
			graph
			if ((k % UNSHARED == UNSHARED - 1 || k == ${#idx[@]} - 1)); then
				run_beltlined "$1" "$2" || failed=1
				ports="" graphs=""
			fi
		done
	fi
}

for cap in "${caps[@]}"; do
	name=$(basename "$cap")
	d="$T/${name//[^a-zA-Z0-9_.]/_}"
	mkdir -p "$d"
	read -r total maxlen _ < <("$PCAP_CMP" -s "$cap")

	# The reference: libpcap's filter engine, as tcpdump -r -w runs it, every
	# expression in one process (pcap_cmp -f), in the background while
	# beltlined runs. An expression libpcap rejects for this capture is a
	# failure (and beltlined runs again without it).
	: > "$d/rejected"
	for i in "${!EXPRS[@]}"; do printf '%s\t%s\n' "$i" "${EXPRS[i]}"; done |
		"$PCAP_CMP" -f "$cap" "$d" 2> "$d/ref.err" &
	refs=$!
	# ... and tcpdump itself, for XCHECK expressions a capture (another few each
	# capture: the corpus goes through every one), also in the background; each must
	# agree with pcap_cmp -f, record by record (compared in the batch below).
	xs=() tds=()
	for ((x = 0; x < XCHECK; x++)); do
		i=$(( ((shard + cap_k * shards) * XCHECK + x) % ${#EXPRS[@]} ))   # by its place in all
		tcpdump -r "$cap" -w "$d/td$i.pcap" -- "${EXPRS[i]}" 2> /dev/null &
		xs+=("$i") tds+=("$!")
	done
	cap_k=$((cap_k + 1))
	idx=("${!EXPRS[@]}")
	belt "$d" "$name"
	wait "$refs" || { bad "$name: pcap_cmp -f failed: $(head -c 200 "$d/ref.err")"; wait "${tds[@]}" || true; continue; }
	xpairs=()   # the tcpdump outputs to compare with their references
	for x in "${!xs[@]}"; do
		i=${xs[x]}
		if wait "${tds[x]}"; then
			if [ -f "$d/ref$i.pcap" ]; then
				xpairs+=("$i")
			else
				bad "$name: '${EXPRS[i]}': tcpdump and pcap_cmp -f differ: only tcpdump takes it"
			fi
		elif ! grep -qx "$i" "$d/rejected"; then
			bad "$name: '${EXPRS[i]}': tcpdump rejects it, pcap_cmp -f took it"
		fi
	done
	if [ -s "$d/rejected" ]; then
		idx=()
		for i in "${!EXPRS[@]}"; do
			if grep -qx "$i" "$d/rejected"; then
				bad "$name: libpcap rejects '${EXPRS[i]}': $(sed -n 1p "$d/ref$i.err")"
			else
				idx+=("$i")
			fi
		done
		belt "$d" "$name"
	fi
	if [ "$failed" -ne 0 ]; then
		bad "$(cat "$d/fail")"
		idx=()   # no output of bpf's to compare; tcpdump's still are, below
	fi
	declare -A got=()
	while read -r n a r; do got[$n]="$a $r"; done < "$d/counts"

	same=0
	# Every pair in one pcap_cmp (-b: a line "STATUS what-it-says" per pair): bpf's
	# outputs against their references, then tcpdump's against theirs.
	{
		for i in "${idx[@]}"; do
			printf '%s\t%s\n' "$d/ref$i.pcap" "$d/out$i.pcap"
		done
		for i in "${xpairs[@]}"; do
			printf '%s\t%s\n' "$d/td$i.pcap" "$d/ref$i.pcap"
		done
	} | "$PCAP_CMP" -r -b > "$d/cmps" 2> "$d/cmps.err" || true
	mapfile -t cmps < "$d/cmps"
	k=${#idx[@]}
	for i in "${xpairs[@]}"; do
		c=${cmps[k]:-2 pcap_cmp said nothing: $(head -1 "$d/cmps.err")}
		k=$((k + 1))
		if [ "${c%% *}" = 0 ]; then
			XCHECKED=$((XCHECKED + 1))
		else
			bad "$name: '${EXPRS[i]}': tcpdump and pcap_cmp -f differ: ${c#* }"
		fi
	done
	k=0
	for i in "${idx[@]}"; do
		PAIRS=$((PAIRS + 1))
		ref="$d/ref$i.pcap"
		b=${got[e$i]:-none}
		c=${cmps[k]:-2 pcap_cmp said nothing: $(head -1 "$d/cmps.err")}
		k=$((k + 1))
		echo "${c#* }" > "$d/cmp"
		if [ "${c%% *}" = 0 ]; then
			read -r nref _ < "$d/cmp"
			if [ "$b" = "$nref $((total - nref))" ]; then
				same=$((same + 1))
				continue
			fi
		fi
		read -r nref _ < <("$PCAP_CMP" -s "$ref")
		bad "$name: '${EXPRS[i]}': bpf accepted/rejected $b, tcpdump keeps $nref of $total;" \
		    "$(head -1 "$d/cmp")"
	done
	unset got
	[ "$failed" -eq 0 ] || continue
	if [ "$same" -eq "${#idx[@]}" ]; then
		ok "$name: $total packets, ${#idx[@]} expressions: bpf keeps what tcpdump keeps"
	fi
	rm -rf "$d"
done

if [ "$shard" = 0 ]; then
# netmask=unknown is libpcap without a netmask: `ip broadcast` is refused,
# naming the netmask; a netmask that is not one is refused, naming the key.
for nm in unknown 255.255.0; do
	jq -n --arg i "$(inst bcast)" --arg p "rx port=in | bpf \"ip broadcast\" netmask=$nm | drop" \
		'{instance: $i, memory: {hugepages: "no"}, ports: [{name: "in", vdev: "net_null0"}],
		  graphs: [{lcores: [1], pipeline: $p}]}' > "$T/c.json"
	if "$BELTLINED" -q --duration 1 "$T/c.json" > /dev/null 2> "$T/err"; then
		bad "bpf \"ip broadcast\" netmask=$nm: accepted"
	else
		check "bpf \"ip broadcast\" netmask=$nm: refused, naming the netmask: $(grep -m1 netmask "$T/err")" \
			grep -q netmask "$T/err"
	fi
done
# ... and with netmask=255.255.0.0 it compiles.
rc=0
"$BELTLINED" -q --duration 0.2 --instance "$(inst bcast2)" --port in=net_null0 \
	--pipeline 'rx port=in | bpf "ip broadcast" netmask=255.255.0.0 | drop' > /dev/null 2> "$T/err" || rc=$?
eq "bpf \"ip broadcast\" netmask=255.255.0.0: accepted" "$rc" 0

# rte_bpf_convert refuses programs with a backward jump, which libpcap emits
# for `protochain`: bpf refuses them at build time, saying why.
jq -n --arg i "$(inst chain)" '{instance: $i, memory: {hugepages: "no"},
	ports: [{name: "in", vdev: "net_null0"}],
	graphs: [{lcores: [1], pipeline: "rx port=in | bpf \"ip6 protochain 58\" | drop"}]}' > "$T/c.json"
if "$BELTLINED" -q --duration 1 "$T/c.json" > /dev/null 2> "$T/err"; then
	bad "bpf \"ip6 protochain 58\": accepted, but rte_bpf_convert cannot take backward jumps"
else
	check "bpf \"ip6 protochain 58\": refused: $(grep expr: "$T/err")" grep -q "cannot convert to eBPF" "$T/err"
fi

fi

echo "# $PAIRS capture x expression pairs compared; $XCHECKED references checked against tcpdump"
check "tcpdump checked some references ($XCHECKED)" test "$XCHECKED" -gt 0
finish
