#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the Debian package from this tree (dpkg-buildpackage, in a copy under
# /tmp) and install it into a throwaway root: a mount namespace in which /usr,
# /etc and /var are overlays whose writes land in a temporary folder, so
# the machine (and the other engineers on it) never see the install. Then check
# what `dpkg -i` put where, that the group exists, and that the installed
# beltlined and beltline run. Not in the meson suites: it builds everything
# again (minutes). Needs root, dpkg-dev, debhelper.   tests/deb/deb.sh  [DEB=FILE.deb]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/bl-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (a mount namespace)"; exit 77; }
command -v dpkg-buildpackage > /dev/null || { echo "SKIP: no dpkg-dev"; exit 77; }

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
if [ -n "${DEB:-}" ]; then   # DEB=FILE.deb: install that one, build nothing
	deb=$(readlink -f "$DEB")
else
	mkdir "$T/beltline-$version"
	(cd "$src" && git ls-files -co --exclude-standard | grep -v '^build' | tar -T - -cf -) |
		tar -x -C "$T/beltline-$version"
	echo "deb: building beltline $version (dpkg-buildpackage -b, a few minutes)"
	(cd "$T/beltline-$version" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
		dpkg-buildpackage -b -us -uc > "$T/build.log" 2>&1) ||
		{ tail -30 "$T/build.log"; echo "FAIL - dpkg-buildpackage"; exit 1; }
	deb=$(ls "$T"/beltline_"$version"_*.deb)
	echo "ok   - built $(basename "$deb")"
fi

cat > "$T/inside.sh" <<'SH'
set -euo pipefail
T=$1 deb=$2
for d in usr etc var; do   # /lib, /bin are links into /usr (usrmerge)
	mkdir -p "$T/ov/$d/up" "$T/ov/$d/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/up,workdir=$T/ov/$d/work" "/$d"
done
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local w=$1; shift; if "$@" > /dev/null 2>&1; then ok "$w"; else bad "$w"; fi; }
if dpkg -i "$deb" > "$T/install.log" 2>&1; then ok "dpkg -i"; else bad "dpkg -i: $(tail -5 "$T/install.log")"; fi
check "dpkg says installed" sh -c "dpkg-query -W -f='\${Status}' beltline | grep -q 'install ok installed'"
for f in /usr/bin/beltlined /usr/bin/beltline /lib/systemd/system/beltlined@.service \
	 /lib/systemd/system/beltline-hugepages.service /usr/lib/sysusers.d/beltline.conf \
	 /usr/libexec/beltline/hugepages.sh /usr/include/beltline.h \
	 /usr/share/man/man8/beltlined.8.gz /usr/share/man/man1/beltline.1.gz \
	 /usr/share/man/man3/libbeltline-client.3.gz /usr/share/bash-completion/completions/beltline \
	 /usr/share/doc/beltline/service.md /usr/share/doc/beltline/examples/default.json \
	 /usr/share/doc/beltline/examples/beltline.schema.json; do
	check "installed $f" test -e "$f" -o -e "$f.gz"   # dh_compress gzips the larger docs
done
check "libbeltline-client.pc" sh -c "ls /usr/lib/*/pkgconfig/libbeltline-client.pc"
check "group beltline created" getent group beltline
check "/etc/beltline made" test -d /etc/beltline
check "the unit runs /usr/bin/beltlined" grep -q '^ExecStart=/usr/bin/beltlined --instance %i ' \
	/lib/systemd/system/beltlined@.service
check "systemd-analyze verify of the installed units" sh -c \
	'out=$(systemd-analyze verify --man=no /lib/systemd/system/beltlined@.service /lib/systemd/system/beltline-hugepages.service 2>&1) && [ -z "$out" ]'
v=$(/usr/bin/beltlined --version); check "beltlined --version: $v" test -n "$v"
v=$(/usr/bin/beltline --version); check "beltline --version: $v" test -n "$v"
check "installed beltlined --check the example" /usr/bin/beltlined --check /usr/share/doc/beltline/examples/default.json
check "man beltlined renders" sh -c 'man -l /usr/share/man/man8/beltlined.8.gz > /dev/null'
if dpkg -r beltline > "$T/remove.log" 2>&1; then ok "dpkg -r"; else bad "dpkg -r: $(tail -3 "$T/remove.log")"; fi
check "removed: no /usr/bin/beltlined" test ! -e /usr/bin/beltlined
echo "$fails failed"
[ "$fails" -eq 0 ]
SH
unshare -m --propagation private bash "$T/inside.sh" "$T" "$deb"
check_host() { [ ! -e /usr/bin/beltlined ] || dpkg-query -W beltline > /dev/null 2>&1; }
if check_host; then echo "ok   - the machine itself is untouched"; else echo "FAIL - /usr/bin/beltlined on the host"; exit 1; fi
