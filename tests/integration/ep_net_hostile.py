#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# A hostile (or merely odd) endpoint peer for ep_net.sh: connects to an endpoint
# listening on tcp://127.0.0.1:PORT and sends what MODE says (client/net_frame.h,
# hello magic BLNE), then reads and drops what the victim sends until it closes.
#   badhello   a hello that is not one (an HTTP request)
#   servehello a beltline serve's hello (magic BLNT): not an endpoint
#   bigsnap    a hello announcing messages of 1 MiB (over the 262144 limit)
#   stall      connect, send nothing (the victim's set-up timeout)
#   badtype    hello, a record of type 9
#   oversize   hello, a message record claiming 100000 bytes (over max_msg 65536)
#   hugelen    hello, a message record claiming 4 GiB
#   gap        hello, messages seq 0 1 2 then 5
#   repeat     hello, messages seq 0 1 1
#   ack        hello, an ack record (only a serve --write sends those)
#   torn       hello, message 0, half of message 1, then close (the end, not garbage)
#   onemsg     hello, a second later message 0, then nothing (it reads nothing either)
#   tlsjunk    (MODE PORT HOST CA CERT KEY) over TLS with a good certificate: hello,
#              message 0, then a TLS record that does not decrypt, on the raw socket
#   tlsslow    (MODE PORT HOST CA CERT KEY) 1.5 s, then a TLS handshake with a good
#              certificate, then nothing (no hello)
# Prints "sent" once it has sent it all.
import socket, struct, sys, time

mode, port = sys.argv[1], int(sys.argv[2])
host = sys.argv[3] if len(sys.argv) > 3 else '127.0.0.1'
s = socket.create_connection((host, port), timeout=60)


def hello(snap=65536, magic=b'BLNE'):
    return magic + struct.pack('>HHIIQ', 1, 24, 0, snap, 0)


def rec(seq, data=b'', typ=1, caplen=None, length=None):
    cl = len(data) if caplen is None else caplen
    ln = cl if length is None else length
    return struct.pack('>BBHIIIQQ', typ, 0, 0, cl, ln, 0, seq, 0) + data


def msgs(*seqs):
    return b''.join(rec(q, bytes([q % 256]) * 20) for q in seqs)


out = {
    'badhello': b'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    'servehello': hello(1500, b'BLNT'),
    'bigsnap': hello(1 << 20),
    'stall': b'',
    'badtype': hello() + rec(0, b'abc', typ=9),
    'oversize': hello() + rec(0, caplen=100000),
    'hugelen': hello() + rec(0, caplen=0xffffffff),
    'gap': hello() + msgs(0, 1, 2, 5),
    'repeat': hello() + msgs(0, 1, 1),
    'ack': hello() + msgs(0) + rec(1, typ=3),
    'torn': hello() + msgs(0) + msgs(1)[:40],
    'onemsg': b'',
    'tlsjunk': b'',
}.get(mode, b'')
if mode == 'tlsslow':
    import ssl
    time.sleep(1.5)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(sys.argv[4])
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    ctx.check_hostname = False
    t = ctx.wrap_socket(s, server_hostname=host)
    print('sent', flush=True)
    time.sleep(30)
    sys.exit(0)
if mode == 'tlsjunk':
    import os, ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(sys.argv[4])
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    ctx.check_hostname = False
    t = ctx.wrap_socket(s, server_hostname=host)
    t.sendall(hello() + msgs(0))
    raw = socket.socket(fileno=os.dup(t.fileno()))
    raw.sendall(b'\x17\x03\x03\x00\x40' + b'\xaa' * 64)   # application data, bad tag
    print('sent', flush=True)
    time.sleep(30)
    sys.exit(0)
if mode == 'onemsg':
    s.sendall(hello())
    time.sleep(0.2)
    out = msgs(0)
s.sendall(out)
print('sent', flush=True)
if mode == 'onemsg':
    time.sleep(60)
    sys.exit(0)
if mode == 'torn':
    s.close()
    sys.exit(0)
s.settimeout(120)
try:
    while s.recv(65536):
        pass
except OSError:
    pass
