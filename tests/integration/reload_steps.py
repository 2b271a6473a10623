#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# reload_steps.py FILE CHECK [MAX] — a failure injected at every step of a reload in
# turn (the instance $BELTLINE_INSTANCE runs with BELTLINED_TEST_HOOKS=1): step 1,
# 2, ... fail until one goes through (status 0). After each refusal the reply must
# say "injected", and CHECK, a Python expression over `st` (the stats now) and `st0`
# (the stats before the first step), must hold: the old config kept. One control
# connection for all of it (a process and a `beltline stats` a step took seconds).
# Prints a line per failed step, then "steps N" (N refused before one went through);
# exit 0 when all held, 1 otherwise.
import json, os, socket, struct, sys

HDR = '=IHHIiII'
OP_STATS, OP_RELOAD, MORE = 4, 16, 0x8000
path, check = sys.argv[1], sys.argv[2]
most = int(sys.argv[3]) if len(sys.argv) > 3 else 200
ctl = os.environ.get('BELTLINE_RUN_DIR', '/run/beltline') + '/' + os.environ['BELTLINE_INSTANCE'] + '/ctl'
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(ctl)
s.settimeout(60)


def ask(op, body):
    """One request, its whole reply (records joined): (status, json)."""
    b = json.dumps(body).encode()
    s.send(struct.pack(HDR, 0x314c5442, 1, op, 1, 0, 0, len(b)) + b)
    data = b''
    while True:
        m = s.recv(70000)
        if not m:
            sys.exit('the appliance closed the control connection')
        _, _, rop, _, st, _, ln = struct.unpack(HDR, m[:24])
        data += m[24:24 + ln]
        if not rop & MORE:
            return st, json.loads(data)


bad = 0
st0 = ask(OP_STATS, {})[1]
for step in range(1, most + 1):
    status, r = ask(OP_RELOAD, {'config': path, 'fail_step': step})
    if status == 0:
        print('steps %d' % (step - 1))
        sys.exit(1 if bad else 0)
    st = ask(OP_STATS, {})[1]
    why = r.get('error', '')
    try:
        held = eval(check, {'st': st, 'st0': st0})
    except Exception as e:     # a missing key is a failed check, said so
        held = 'raised %r' % e
    if 'injected' not in why or held is not True:
        print('fail_step %d: status %d: %s; check: %s' % (step, status, why, held))
        bad += 1
print('steps %d: no reload went through' % most)
sys.exit(1)
