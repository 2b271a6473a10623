#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The first command of the README: install what is missing, reserve
# hugepages when possible, build, and run beltlined on config/default.json
# (a bundled capture replayed through the appliance; no NIC needed) for a
# few seconds: rates while it runs, the final counters when it stops.
#   deploy/quickstart.sh         env: DURATION (seconds, default 5)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

deploy/install-deps.sh
deploy/hugepages.sh
[ -f build/build.ninja ] || meson setup build > /dev/null
ninja -C build > /dev/null
echo "quickstart: built $(build/app/beltlined --help | head -1 | sed 's/^usage: //')"
build/app/beltlined --check config/default.json
echo "quickstart: running beltlined on config/default.json for ${DURATION:-5} s (Ctrl-C stops it sooner)"
build/app/beltlined --duration "${DURATION:-5}" config/default.json
