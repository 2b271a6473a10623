#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# ctl_hostile SOCKET — hostile requests to a control socket: each must get an
# error reply or a closed connection, never crash or hang the server; then a
# well-formed list must still be answered. Exit 0 if so.
import json, socket, struct, sys

MAGIC, VER = 0x314c5442, 1

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(2)
    s.connect(sys.argv[1])
    return s

def msg(op, body, magic=MAGIC, ver=VER, status=0, nfds=0, ln=None):
    b = body if isinstance(body, bytes) else body.encode()
    return struct.pack('=IHHIiII', magic, ver, op, 7, status, nfds, len(b) if ln is None else ln) + b

def ask(m):
    s = conn()
    s.send(m)
    try:
        r = s.recv(70000)
    except socket.timeout:
        print('timeout: the server did not answer nor close'); sys.exit(1)
    s.close()
    if not r:
        return None
    st = struct.unpack('=IHHIiII', r[:24])[4]
    return st

cases = {
    'short': b'\x01\x02',
    'bad magic': msg(1, '{}', magic=0xdeadbeef),
    'bad version': msg(1, '{}', ver=9),
    'len lies': msg(1, '{}', ln=9999),
    'fds claimed': msg(1, '{}', nfds=3),
    'not json': msg(1, '{{{'),
    'json array': msg(1, '[1,2]'),
    'empty body': msg(1, ''),
    'unknown op': msg(99, '{}'),
    'attach no stream': msg(2, '{}'),
    'attach stream number': msg(2, '{"stream": 5}'),
    'attach long name': msg(2, json.dumps({'stream': 'x' * 5000})),
    'attach missing': msg(2, '{"stream": "nosuch"}'),
}
bad = 0
for name, m in cases.items():
    st = ask(m)
    ok = st is None or st < 0
    print(('ok   - ' if ok else 'FAIL - ') + 'hostile %s: %s' % (name, 'closed' if st is None else st))
    bad += not ok
s = conn()
s.send(msg(1, '{}'))
r = s.recv(70000)
st = struct.unpack('=IHHIiII', r[:24])[4]
print(('ok   - ' if st == 0 else 'FAIL - ') + 'list still answered (%d)' % st)
sys.exit(1 if bad or st != 0 else 0)
