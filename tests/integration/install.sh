#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `meson install` into a throwaway root puts every part where Debian keeps it
# (relative to the build's prefix): both binaries (with --version), the client
# library, its header and .pc, the man pages (when scdoc is there), bash
# completion, the systemd units and the sysusers group, the hugepage helper,
# the docs and the example configs.
. "$(dirname "$0")/lib.sh"
: "${BUILDDIR:?}"

root=$T/root
meson install -C "$BUILDDIR" --no-rebuild --quiet --destdir "$root" > "$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; bad "meson install"; finish; }
opt() { meson introspect "$BUILDDIR" --buildoptions | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
prefix=$(opt prefix)
P=$root$prefix
bindir=$P/$(opt bindir)
libdir=$P/$(opt libdir)
datadir=$P/$(opt datadir)
mandir=$P/$(opt mandir)
libexecdir=$P/$(opt libexecdir)

for b in beltlined beltline; do
	check "bin: $b" test -x "$bindir/$b"
done
v=$(LD_LIBRARY_PATH=$libdir "$bindir/beltline" --version)
check "the installed beltline runs: $v" grep -q '^beltline [0-9]' <<< "$v"
check "lib: libbeltline-client.so.0" test -e "$libdir/libbeltline-client.so.0"
check "header: beltline.h" test -f "$P/include/beltline.h"
check "pkg-config: libbeltline-client.pc" test -f "$libdir/pkgconfig/libbeltline-client.pc"
eq "pkg-config names the library" \
	"$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --libs-only-l libbeltline-client | xargs)" "-lbeltline-client"
if command -v scdoc > /dev/null; then
	for m in man8/beltlined.8 man1/beltline.1 man3/libbeltline-client.3; do
		check "man: $m" test -s "$mandir/$m"
		# man(1) renders it without a complaint
		w=$(MANWIDTH=80 man -l "$mandir/$m" 2>&1 > /dev/null || echo failed)
		eq "man: $m renders cleanly" "$w" ""
	done
	check "beltlined(8) documents SIGHUP" grep -q 'Reloads the config file live' "$mandir/man8/beltlined.8"
else
	echo "SKIP: man pages (no scdoc)"
fi
check "bash completion: beltline" test -f "$datadir/bash-completion/completions/beltline"
check "bash completion: beltlined" test -e "$datadir/bash-completion/completions/beltlined"
check "bash completion: loads in bash" bash -c "complete() { :; }; . '$datadir/bash-completion/completions/beltline'"
# Every command of beltline --help, and every option of beltlined --help, is offered.
comp=$datadir/bash-completion/completions/beltline
offered=$(sed -n '/if \[ -z "\$cmd" \]/,/return/p' "$comp" | tr -s ' \t\n"(' '\n' | sort -u)
for c in $("${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}" --help 2>&1 |
	   sed -n 's/^  \([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' | sort -u); do
	check "bash completion offers beltline $c" grep -qx -- "$c" <<< "$offered"
done
for o in $("$BELTLINED" --help 2>&1 | grep -oE '^  (-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
	check "bash completion offers beltlined $o" grep -q -- "$o" "$comp"
done
unitdir=$(find "$root" -name 'beltlined@.service' -printf '%h\n')
check "systemd: beltlined@.service" test -n "$unitdir"
check "systemd: beltline-hugepages.service" test -f "$unitdir/beltline-hugepages.service"
check "systemd: the unit runs the installed beltlined" \
	grep -q "^ExecStart=$prefix/$(opt bindir)/beltlined --instance %i " "$unitdir/beltlined@.service"
check "systemd: the hugepage unit runs the installed helper" \
	grep -q "^ExecStart=$prefix/$(opt libexecdir)/beltline/hugepages.sh " "$unitdir/beltline-hugepages.service"
check "hugepage helper, executable" test -x "$libexecdir/beltline/hugepages.sh"
check "sysusers.d: group beltline" grep -qx 'g beltline -' "$(find "$root" -path '*/sysusers.d/beltline.conf')"
for d in README.md config.md filters.md control.md clients.md service.md architecture.md performance.md; do
	check "doc: $d" test -f "$datadir/doc/beltline/$d"
done
for c in "$SRCDIR"/config/*.json; do
	check "example: $(basename "$c")" cmp -s "$c" "$datadir/doc/beltline/examples/$(basename "$c")"
done
check "example: the sample capture default.json reads" test -f "$datadir/doc/beltline/examples/sample.pcap"
finish
