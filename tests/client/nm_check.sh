#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# libbeltline-client.so: no DPDK symbol (defined or needed), no DPDK library
# needed, no TLS library needed (libbeltline-client-tls is dlopened), and nothing
# exported but beltline_*.
set -eu
lib=$1
fail=0
dpdk=$(nm -D "$lib" | grep -Ei ' (rte_|eal_|__rte)' || true)
if [ -n "$dpdk" ]; then
	echo "FAIL: $lib has DPDK symbols:"; echo "$dpdk"; fail=1
fi
needed=$(objdump -p "$lib" | awk '/NEEDED/ {print $2}')
echo "NEEDED: $(echo $needed)"
if echo "$needed" | grep -Eq 'librte|libdpdk'; then
	echo "FAIL: $lib needs a DPDK library"; fail=1
fi
if echo "$needed" | grep -Eq 'libssl|libcrypto|libgnutls'; then
	echo "FAIL: $lib needs a TLS library (tls:// is the dlopened plug-in's)"; fail=1
fi
extra=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^beltline_' || true)
if [ -n "$extra" ]; then
	echo "FAIL: $lib exports more than beltline_*:"; echo "$extra"; fail=1
fi
n=$(nm -D --defined-only "$lib" | awk '$2 == "T"' | grep -c ' beltline_')
echo "exports $n beltline_* functions"
[ "$n" -ge 10 ] || { echo "FAIL: too few exports"; fail=1; }
exit $fail
