#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reserve 2 MB hugepages when we can (root, and the kernel agrees). Without
# them beltlined still runs, on ordinary memory, and says so in its log.
#   deploy/hugepages.sh [PAGES]    (default 512 = 1 GiB)
set -uo pipefail
want=${1:-512}
f=/sys/kernel/mm/hugepages/hugepages-2048kB
if [ ! -d "$f" ]; then
	echo "hugepages: this kernel offers no 2 MB hugepages; beltlined will use ordinary memory"
	exit 0
fi
# EAL finds the pages through a hugetlbfs mount; systemd mounts /dev/hugepages,
# a container or a minimal system may not.
if ! grep -q ' hugetlbfs ' /proc/mounts; then
	if [ "$(id -u)" -eq 0 ] && mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages 2> /dev/null; then
		echo "hugepages: mounted hugetlbfs on /dev/hugepages"
	else
		echo "hugepages: no hugetlbfs mounted (mount -t hugetlbfs nodev /dev/hugepages, as root): beltlined will use ordinary memory"
		exit 0
	fi
fi
free=$(cat "$f/free_hugepages")
if [ "$free" -ge "$want" ]; then
	echo "hugepages: $free free 2 MB pages, enough"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "hugepages: $free free 2 MB pages and not root: beltlined will use ordinary memory"
	exit 0
fi
total=$(cat "$f/nr_hugepages")
echo $((total + want - free)) > "$f/nr_hugepages" 2>/dev/null
free=$(cat "$f/free_hugepages")
echo "hugepages: $free free 2 MB pages now (asked for $want)"
exit 0
