#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# config/beltline.schema.json (JSON Schema 2020-12, for editors) is a valid
# schema; every example config passes it; every bad config of the config
# reader's tests (tests/unit/test_cfg_bad.c's table, written out by test_cfg)
# fails it, but for those only beltlined can judge, listed below by name and
# why: a schema judges one value at a time, sees the last of two equal keys,
# and knows nothing of this machine.
set -euo pipefail
: "${TEST_CFG:?}" "${SRCDIR:?}"
T=$(mktemp -d /tmp/bl-schema.XXXXXX)
trap 'rm -rf "$T"' EXIT

if python3 -c 'import jsonschema' 2> /dev/null; then
	:
else
	echo "SKIP: no python3-jsonschema (deploy/install-deps.sh installs it)"
	exit 77
fi

# Bad configs the schema accepts, because only beltlined can see what is wrong.
beyond_schema=(
	# a key given twice: JSON parsers keep the last one
	twice_top twice_port twice_mbufs twice_poll twice_lcore_cpu twice_lcore_cpu_spelt_apart
	# names that must be unique, or must name a port defined elsewhere
	duplicate_port_names duplicate_pci_devices duplicate_vdev_devices duplicate_worker_lcores
	poll_port_unknown_far poll_port_unknown_suggested poll_tx_unknown
	# rules across keys (docs/config.md, "Rules")
	poll_queue_1_of_1 poll_queue_beyond_rx_queues same_queue_one_worker same_queue_two_workers
	tx_queues_below_senders worker_on_main_lcore worker_on_moved_main_lcore
	mbufs_count_below_rings memory_size_mb_too_small memory_size_mb_too_small_for_count
	# this machine: its groups
	control_group_unknown
)

mkdir "$T/bad"
BL_CFG_DUMP_DIR=$T/bad "$TEST_CFG" --filter 'cfg_bad/dump_for_the_schema_test' > /dev/null 2>&1
python3 - "$SRCDIR/config/beltline.schema.json" "$SRCDIR/config" "$T/bad" "${beyond_schema[@]}" <<'PY'
import glob, json, os, sys
import jsonschema

schema_path, examples, bad_dir, *beyond = sys.argv[1:]
schema = json.load(open(schema_path))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
fails = checks = 0

def report(ok, what):
    global fails, checks
    checks += 1
    if not ok:
        fails += 1
    print(("ok   - " if ok else "FAIL - ") + what)

report(True, "the schema is valid JSON Schema 2020-12")
ex = sorted(f for f in glob.glob(os.path.join(examples, "*.json")) if not f.endswith("schema.json"))
report(len(ex) >= 5, "%d example configs" % len(ex))
for f in ex:
    errs = [e.message for e in v.iter_errors(json.load(open(f)))]
    report(not errs, "example %s passes%s" % (os.path.basename(f), ": " + "; ".join(errs) if errs else ""))
bad = sorted(glob.glob(os.path.join(bad_dir, "*.json")))
report(len(bad) >= 100, "%d bad configs from test_cfg_bad.c" % len(bad))
seen = set()
for f in bad:
    name = os.path.basename(f)[:-5]
    seen.add(name)
    try:
        doc = json.loads(open(f, encoding="utf-8", errors="surrogateescape").read())
    except ValueError:
        report(True, "bad %s: not JSON, refused" % name)
        continue
    errs = list(v.iter_errors(doc))
    if name in beyond:
        report(not errs, "bad %s: beyond the schema (beltlined's own check), accepted as listed" % name)
    else:
        report(bool(errs), "bad %s: refused%s" % (name, " (" + errs[0].message[:80] + ")" if errs else ""))
for name in beyond:
    report(name in seen, "listed %s is a case of test_cfg_bad.c" % name)

# Every key docs/config.md's tables document is one the schema knows: with
# additionalProperties false, an editor marked a config using a documented key (the
# top-level idle_sleep_us, memory.multiprocess) as wrong, though beltlined took it.
import re
def resolve(node, parts):
    for part in parts:
        while "$ref" in node:
            node = schema["$defs"][node["$ref"].split("/")[-1]]
        if part == "[]":
            node = node.get("items")
        else:
            node = node.get("properties", {}).get(part)
        if node is None:
            return False
    return True
section, n_keys = [], 0
for line in open(os.path.join(os.path.dirname(examples), "docs", "config.md"), encoding="utf-8"):
    m = re.match(r"^## (?:`([^`]*)`|.*)", line)
    if m:
        section = [p for p in re.split(r"\.|(\[\])", (m.group(1) or "").replace("[i]", "[]")) if p] \
            if m.group(1) else []
        continue
    m = re.match(r"^\| `([a-z_.\[\]ij]+)` \|", line)
    if not m or m.group(1) == "key":
        continue
    key = m.group(1).replace("[i]", "[]").replace("[j]", "[]")
    parts = [p for p in re.split(r"\.|(\[\])", key) if p]
    if section and parts[0] != section[0]:
        parts = section + parts
    n_keys += 1
    report(resolve(schema, parts), "documented key %s is in the schema" % ".".join(parts))
report(n_keys >= 30, "%d keys documented in docs/config.md" % n_keys)
print("%d checks, %d failed" % (checks, fails))
sys.exit(1 if fails else 0)
PY
