#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# A hostile (or merely odd) writer for net_write.sh: connects to `beltline serve
# --write` on 127.0.0.1:PORT, reads its hello (client/net_frame.h: magic BLNW), sends
# what MODE says, then waits (at most 60 s) for the server to close the connection
# and prints "closed" (or "hello: ..." when the hello was not a --write server's).
#   hold       send nothing: hold the one writer's place until killed
#   gap        packets seq 0 1 2 7 8 (4 lost), then an end record seq 9
#   oversize   a record claiming 100000 bytes (over the stream's max_frame)
#   hugelen    a record claiming 4 GiB
#   backwards  packets seq 5 then 3
#   badtype    a record of type 9
#   ack        an ack record (only the server sends them)
#   empty      a packet of 0 bytes
#   torn       half a record, then close
import socket, struct, sys, time

mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port), timeout=60)
h = b''
while len(h) < 24:
    b = s.recv(24 - len(h))
    if not b:
        sys.exit('hello: the server closed first')
    h += b
if h[:4] != b'BLNW':
    sys.exit('hello: not a --write server: %r' % h[:4])
snap = struct.unpack('>I', h[12:16])[0]


def rec(seq, data=b'', typ=1, caplen=None, length=None):
    cl = len(data) if caplen is None else caplen
    ln = cl if length is None else length
    return struct.pack('>BBHIIIQQ', typ, 0, 0, cl, ln, 0, seq, 0) + data


pkt = b'\xff' * 6 + b'\x02\x00\x00\x00\x00\x01' + b'\x88\xb5' + bytes(range(46))
out = b''
if mode == 'hold':
    time.sleep(600)
elif mode == 'gap':
    out = b''.join(rec(q, pkt[:14] + bytes([q]) * 46) for q in (0, 1, 2, 7, 8)) + rec(9, typ=2)
elif mode == 'oversize':
    out = rec(0, caplen=100000)
elif mode == 'hugelen':
    out = rec(0, caplen=0xffffffff)
elif mode == 'backwards':
    out = rec(5, pkt) + rec(3, pkt)
elif mode == 'badtype':
    out = rec(0, pkt, typ=9)
elif mode == 'ack':
    out = rec(0, typ=3)
elif mode == 'empty':
    out = rec(0)
elif mode == 'torn':
    s.sendall(rec(0, pkt)[:40])
    s.shutdown(socket.SHUT_WR)
else:
    sys.exit('unknown mode ' + mode)
if out:
    s.sendall(out)
try:
    while s.recv(4096):     # acks, until the server closes
        pass
except OSError:
    pass
print('closed', flush=True)
