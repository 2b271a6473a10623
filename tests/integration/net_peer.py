#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# A hostile (or merely odd) `beltline serve` for net.sh: listens on 127.0.0.1:PORT,
# writes PORT to stdout, takes one connection and sends what MODE says
# (client/net_frame.h), then holds the connection until the client closes it.
#   gap        hello, packets seq 0 1 2 7 8 (4 lost), end seq 9
#   badmagic   a hello that is not one
#   oversize   hello (snaplen 1500), a record claiming 100000 bytes
#   hugelen    hello snaplen 262144, a record claiming 4 GiB
#   backwards  hello, packets seq 5 then 3
#   badtype    hello, a record of type 9
#   torn       hello, half a record, then close
#   stall      accept, send nothing (the client's hello timeout)
#   big        hello snaplen 262144, three packets of 200000 bytes, end (a peek of many
#              fills the receive buffer with two)
#   class2     hello, 5000 packets of class 2 (a tcpstream's payload entries have it), no
#              record among them, then holds (the connection says nothing of its content)
# and as a `serve --write` (hello BLNW) for a writer (net_write.sh):
#   wbadack    an ack for 1000 frames, more than were sent
#   wpkt       a packet record (a server sends a writer acks only)
#   wstall     no ack ever
import socket, struct, sys, time

mode = sys.argv[1]
ls = socket.socket()
ls.bind(('127.0.0.1', 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
c, _ = ls.accept()


def hello(snap=1500, magic=b'BLNT'):
    return magic + struct.pack('>HHIIQ', 1, 24, 1, snap, 0)


def rec(seq, data=b'\x00' * 60, typ=1, caplen=None, length=None, cls=0):
    cl = len(data) if caplen is None else caplen
    ln = cl if length is None else length
    return struct.pack('>BBHIIIQQ', typ, 1, cls, cl, ln, 0, seq, 1000000000 * seq) + data


pkt = bytes(range(12)) + b'\x08\x00' + b'\x45' + b'\x00' * 45
out = b''
if mode == 'gap':
    out = hello() + b''.join(rec(s, pkt) for s in (0, 1, 2, 7, 8)) + rec(9, b'', typ=2)
elif mode == 'badmagic':
    out = b'HTTP/1.1 200 OK\r\n\r\n'
elif mode == 'oversize':
    out = hello() + rec(0, b'', caplen=100000)
elif mode == 'hugelen':
    out = hello(262144) + rec(0, b'', caplen=0xffffffff)
elif mode == 'backwards':
    out = hello() + rec(5, pkt) + rec(3, pkt)
elif mode == 'badtype':
    out = hello() + rec(0, pkt, typ=9)
elif mode == 'torn':
    out = hello() + rec(0, pkt)[:40]
    c.sendall(out)
    c.close()
    sys.exit(0)
elif mode == 'big':
    out = hello(262144) + b''.join(rec(s, bytes([s]) * 200000) for s in range(3)) + rec(3, b'', typ=2)
elif mode == 'class2':
    out = hello() + b''.join(rec(s, pkt, cls=2) for s in range(5000))
elif mode == 'wbadack':
    out = hello(2048, b'BLNW') + rec(1000, b'', typ=3)
elif mode == 'wpkt':
    out = hello(2048, b'BLNW') + rec(0, pkt)
elif mode == 'wstall':
    out = hello(2048, b'BLNW')
elif mode != 'stall':
    sys.exit('unknown mode ' + mode)
c.sendall(out)
c.settimeout(120)
try:
    while c.recv(4096):
        pass
except OSError:
    pass
