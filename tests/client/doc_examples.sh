#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every C program in docs/clients.md compiles, warning-free, against beltline.h and
# libbeltline-client as a user would build it (gcc -Wall -Wextra -Werror, the
# library's header and shared library only): a user copies them whole.
#   env: SRCDIR, CC (cc), INCDIR (client/include), LIBDIR (the built library)
set -euo pipefail
doc=$SRCDIR/docs/clients.md
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
awk -v dir="$T" '
	/^```c$/ { n++; f = sprintf("%s/ex%d.c", dir, n); inblk = 1; next }
	/^```$/ && inblk { inblk = 0; close(f); next }
	inblk { print > f }' "$doc"
n=0 bad=0
for c in "$T"/ex*.c; do
	n=$((n + 1))
	if "${CC:-cc}" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$INCDIR" "$c" \
		-L"$LIBDIR" -lbeltline-client -o "${c%.c}" 2> "${c%.c}.err"; then
		echo "ok   - example $n ($(head -c 60 "$c" | head -1)) compiles"
	else
		echo "FAIL - example $n does not compile:"; sed 's/^/    /' "${c%.c}.err"
		bad=$((bad + 1))
	fi
done
[ "$n" -ge 3 ] || { echo "FAIL - $n C examples found in $doc, want 3 or more"; exit 1; }
echo "$n examples, $bad failed"
[ "$bad" -eq 0 ]
