#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every relative link and image in the docs (README.md, docs/*.md, every README.md
# of a module) names a file or folder of the tree: a doc that moves or a plot that
# is not checked in fails here. Links in fenced code blocks and URLs with a
# scheme (https:, mailto:) are not checked; an #anchor is dropped.
#   SRCDIR=. tests/unit/doclinks.sh
set -euo pipefail
cd "${SRCDIR:?}"
bad=0 n=0
mapfile -t files < <(find . -name '*.md' -not -path './build*' -not -path './.git/*' \
	\( -path './docs/*' -o -name README.md \) | sort)
for f in "${files[@]}"; do
	d=$(dirname "$f")
	# outside ``` blocks: every ](TARGET), one a line
	links=$(awk '/^ *```/ { code = !code; next } !code' "$f" | grep -o '](\([^) ]*\))' || true)
	while IFS= read -r l; do
		[ -n "$l" ] || continue
		t=${l#](}; t=${t%)}; t=${t%%#*}
		case $t in ''|*:*) continue ;; esac
		n=$((n + 1))
		if [ ! -e "$d/$t" ]; then
			echo "${f#./}: broken link: $t (no $d/$t)"
			bad=1
		fi
	done <<< "$links"
done
echo "doclinks: $n links in ${#files[@]} files checked"
[ "$n" -gt 0 ] || { echo "doclinks: no links found: the check itself is broken"; exit 1; }
exit "$bad"
