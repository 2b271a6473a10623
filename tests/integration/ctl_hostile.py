#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# ctl_hostile SOCKET [STREAM] — hostile requests to a control socket: each must
# get an error reply or a closed connection, never crash or hang the server; then
# a well-formed list must still be answered. With STREAM (one the caller may
# read), requests that would attach to it if the server read them loosely (a NUL
# inside a string, bytes after the object, a key given twice) must be refused
# with an error saying why. Exit 0 if so.
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

def ask(m, why=None):
    s = conn()
    s.send(m)
    try:
        r = s.recv(70000)
    except socket.timeout:
        print('timeout: the server did not answer nor close'); sys.exit(1)
    s.close()
    if not r:
        return None
    st, ln = struct.unpack('=IHHIiII', r[:24])[4::2]
    if why is not None:
        why.append(r[24:24 + ln].decode(errors='replace'))
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
    'attach_verdict no stream': msg(6, '{}'),
    'attach_verdict stream number': msg(6, '{"stream": 5}'),
    'attach_verdict long name': msg(6, json.dumps({'stream': 'x' * 5000})),
    'attach_verdict missing': msg(6, '{"stream": "nosuch", "client": [1, {}], "pid": -1}'),
    'attach_verdict NUL': msg(6, '{"stream": "web\\u0000x"}'),
}
bad = 0
if len(sys.argv) > 2:
    x = sys.argv[2]
    # Each would attach to x if the server cut, ignored or picked: refused, saying why.
    loose = {
        'NUL in stream': (msg(2, '{"stream": "%s\\u0000junk"}' % x), 'NUL'),
        'raw NUL byte in stream': (msg(2, b'{"stream": "' + x.encode() + b'\0junk"}'), 'NUL'),
        'NUL in client': (msg(2, '{"stream": "%s", "client": "a\\u0000b"}' % x), 'NUL'),
        'NUL in a key': (msg(2, '{"stream": "%s", "cl\\u0000x": 1}' % x), 'NUL'),
        'bytes after the object': (msg(2, '{"stream": "%s"} junk' % x), 'after'),
        'a second object after': (msg(2, '{"stream": "%s"}{}' % x), 'after'),
        'a NUL byte after': (msg(2, b'{"stream": "' + x.encode() + b'"}\0'), 'after'),
        'stream given twice': (msg(2, '{"stream": "nosuch", "stream": "%s"}' % x), 'twice'),
        'stream twice, same': (msg(2, '{"stream": "%s", "stream": "%s"}' % (x, x)), 'twice'),
        'a control byte between tokens': (msg(2, b'{"stream":\x01"' + x.encode() + b'"}'), 'control'),
        'a raw control byte in stream': (msg(2, b'{"stream": "' + x.encode() + b'\x1f"}'), 'control'),
        'a raw DEL-less ESC in a key': (msg(2, b'{"str\x1beam": "' + x.encode() + b'"}'), 'control'),
    }
    for name, (m, word) in loose.items():
        why = []
        st = ask(m, why)
        ok = st is not None and st < 0 and word in (why[0] if why else '')
        print(('ok   - ' if ok else 'FAIL - ') + 'refused %s: %s %s' %
              (name, 'closed' if st is None else st, why[0] if why else ''))
        bad += not ok
    # Trailing white space is still fine.
    st = ask(msg(2, '{"stream": "%s"} \n\t ' % x))
    print(('ok   - ' if st == 0 else 'FAIL - ') + 'white space after the object is fine (%s)' % st)
    bad += st != 0
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
