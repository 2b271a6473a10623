#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The bpf filter's cost per packet next to libpcap's pcap_offline_filter (libpcap's
# classic-BPF interpreter: it has no JIT in user space; the kernel's JIT is for socket
# filters, not used here), on
# the same packets (a mix of corpus captures) and the same expressions, from
# `tcp` to compound ones; and the cost of an empty filter hop in one lcore
# (issue 4, points 9b and 9c). The measuring is done by bench/bpf_cost.c (see
# there for what exactly is timed); this runs it RUNS times and prints the
# median of its per-run medians, and the ratio ours/libpcap (target <= 0.55).
#
# The mbufs are the appliance's own packet pool (a packet DBuf on ordinary
# memory, as beltlined makes it without hugepages); POOL=page puts them in
# rte_pktmbuf_pool_create's pool instead, one mbuf per 4 KiB page, as the
# first versions of this benchmark did (see bench/bpf_cost.c).
#
#   bench/bpf_vs_libpcap.sh [BUILD_DIR]    env: RUNS (3), MS (50; 200 with FULL=1),
#                                          ROUNDS (5), HOPS (32), CORPUS, SMOKE=1
#                                          (seconds), POOL=dbuf|page, CSV=FILE (append one
#                                          row per expression; header when FILE is new)
# With no variable set (what CI runs) about 25 s quiet; FULL=1 about 90 s.
# Never fails on a figure: it reports. Exit status 1 only when a run fails.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build}
bin=$build/bench/bpf_cost
corpus=${CORPUS:-$top/../shared/corpus/tcpdump-tests}
runs=${RUNS:-3} ms=${MS:-$([ "${FULL:-0}" = 1 ] && echo 200 || echo 50)} rounds=${ROUNDS:-5} hops=${HOPS:-32}
if [ "${SMOKE:-0}" = 1 ]; then
	runs=1 ms=20 rounds=3
fi
tmp=$(mktemp -d /tmp/bl-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -x "$bin" ] || { echo "bpf_vs_libpcap: no $bin (build with ninja -C $build)" >&2; exit 1; }
[ -d "$corpus" ] || { echo "bpf_vs_libpcap: no capture corpus at $corpus" >&2; exit 1; }

# Ethernet captures with frames that fit one mbuf: UDP (AFS, DNS, NTP), TCP
# (ssh, BGP, DNS, MPTCP, HTTP), IPv6 and ICMPv6, VLAN/QinQ, tunnels, ARP.
caps=(afs.pcap ssh.pcap bgp-4byte-asn.pcap dns_tcp.pcap dns_udp_2.pcap mptcp-v0.pcap
      icmpv6.pcap ipv6-routing-header.pcap 802.1ad_QinQ.pcap vxlan.pcap geneve.pcap
      ntp.pcap isakmp4500.pcap OSPFv2_Capture_FINAL.pcapng IGMP_V2.pcap accecn_handshake.pcap)
exprs=(
	'tcp'
	'udp port 53'
	'tcp port 80'
	'host 192.168.1.11'
	'ip6 and udp'
	'vlan and ip'
	'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'
	'ip[6:2] & 0x1fff != 0 or ip6[6] == 44'
	'not (port 53 or port 123) and (tcp or udp)'
	'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420'
	'tcp and (port 80 or port 443 or port 22) and not net 10.0.0.0/8 and tcp[tcpflags] & tcp-push != 0'
)
args=(-t "$ms" -r "$rounds" -H "$hops")
case ${POOL:-dbuf} in
dbuf) ;;
page) args+=(-p) ;;
*) echo "bpf_vs_libpcap: POOL=$POOL: dbuf or page" >&2; exit 1 ;;
esac
for e in "${exprs[@]}"; do args+=(-e "$e"); done
for c in "${caps[@]}"; do [ -f "$corpus/$c" ] && args+=("$corpus/$c"); done

# Other work while it measured, in cores: the machine's busy ticks minus this
# script's children's (bench/lib.sh does the same; this script stands alone).
ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
kids() { awk '{ sub(/.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }
s0=$(ticks) k0=$(kids) t0=$(date +%s.%N)
for ((r = 1; r <= runs; r++)); do
	if ! "$bin" "${args[@]}" > "$tmp/run$r" 2> "$tmp/err$r"; then
		echo "bpf_vs_libpcap: bpf_cost failed: $(grep -v TELEMETRY "$tmp/err$r" | tail -3)" >&2
		exit 1
	fi
done

other=$(awk -v s=$(( $(ticks) - s0 )) -v k=$(( $(kids) - k0 )) -v a="$t0" -v b="$(date +%s.%N)" \
	-v hz="$(getconf CLK_TCK)" 'BEGIN { o = (s - k) / hz / (b - a); printf "%.2f", (o > 0 ? o : 0) }')
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# field VALUE-AFTER-KEY from the tab-separated lines of every run
field() { awk -F'\t' -v e="$1" -v k="$2" '$1 == "expr" && $2 == e {
	for (i = 3; i <= NF; i++) { split($i, kv, " "); if (kv[1] == k) print kv[2] } }' "$tmp"/run*; }
hopf() { awk -F'\t' -v k="$1" '$1 == "hop" { for (i = 2; i <= NF; i++) { split($i, kv, " ");
	if (kv[1] == k) print kv[2] } }' "$tmp"/run*; }

setup=$(awk -F'\t' '$1 == "setup"' "$tmp/run1")
echo "# bpf filter (JIT, its own process function, bursts of 32) vs libpcap pcap_offline_filter (its interpreter: no JIT in user space)"
echo "# ${setup//$'\t'/, }; ${#caps[@]} captures; $runs run(s), medians"
printf '%-72s %9s %9s %11s %7s\n' "expression" "accepted" "ours ns" "libpcap ns" "ratio"
ratios=()
for e in "${exprs[@]}"; do
	acc=$(field "$e" accepted | sed -n 1p)
	dis=$(field "$e" disagree | sort -g | tail -1)
	jit=$(field "$e" jit | sed -n 1p)
	o=$(field "$e" ours_ns | median)
	l=$(field "$e" libpcap_ns | median)
	ratio=$(awk -v a="$o" -v b="$l" 'BEGIN { printf "%.3f", a / b }')
	ratios+=("$ratio")
	note=""
	[ "$dis" != 0 ] && note+=" (verdicts differ on $dis packets)"
	[ "$jit" != yes ] && note+=" (not JIT-compiled)"
	printf '%-72s %9s %9s %11s %7s%s\n' "${e:0:72}" "$acc" "$o" "$l" "$ratio" "$note"
	if [ -n "${CSV:-}" ]; then
		[ -s "$CSV" ] || echo "expr,accepted,packets,ours_ns,libpcap_ns,ratio,jit,disagree,other_cores" >> "$CSV"
		printf '"%s",%s,%s,%s,%s,%s,%s,%s,%s\n' "${e//\"/\"\"}" "${acc%/*}" "${acc#*/}" "$o" "$l" "$ratio" "$jit" "$dis" "$other" >> "$CSV"
	fi
done
med=$(printf '%s\n' "${ratios[@]}" | median)
echo "ours/libpcap: median over the expressions $med (target <= 0.55)"
echo "other work while measuring: $other cores"
echo "# empty filter hop: gen | drop  vs  gen | count x $hops | drop, one lcore, bl_graph_run"
echo "hop: $(hopf hop_cycles | median) cycles/packet ($(hopf hop_ns | median) ns);" \
     "graph without hops $(hopf base_cycles | median) cycles/packet, with $(hopf with_cycles | median)"
