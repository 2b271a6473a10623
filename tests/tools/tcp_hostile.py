#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Make small captures of TCP connections with forged or odd segments, one per case,
for tests/integration/tcpstream.sh.

    tcp_hostile.py CASE OUT    writes OUT.pcap and, in the directory OUT, the files a
                               reassembler that is not fooled writes (named as tcpflow
                               names them; where tcpflow is not fooled either, they
                               are tcpflow's)

ack_spoof  a forged ACK of 10^9 bytes the server never sent, then the server's real
           bytes: an ACK alone gave a hole up to it and the real bytes were dropped
fin_ahead  a forged client FIN 5*10^8 bytes ahead, then the client's real bytes and
           FINs: the close made a hole up to the forged FIN (tcpflow takes it: it
           writes the bytes after it to a second file, c1)
rst_oow    a forged blind client RST 5*10^8 bytes out of the window, then the client's
           real bytes and FINs: it ended the connection and the bytes after it were
           dropped (tcpflow takes it: it writes them to a second file, c1)
rst_data   a client RST in the window, then new client bytes: a new connection on the
           tuple, as tcpflow's c1 file (they were dropped as stragglers)
data_ack   a forged server byte 5*10^8 ahead, a forged client ACK of it, then the
           server's real bytes: the held byte widened the ACK window to itself, and the
           real bytes were dropped after the hole
data_rst   a forged client byte 5*10^8 ahead, a forged client RST just past it, then
           the client's real bytes and FINs: the RST was taken as in the window
data_ahead a forged client byte 5*10^8 ahead, then the real FINs: the held byte kept the
           connection from ending, and its close wrote a hole and the byte past the FIN
rst_noack  picked up mid-stream: client bytes, a bare server ACK, then a server RST without
           ACK at the sequence number the client acknowledged: it ends the connection (it
           was ignored: the server had sent no byte to check it against)
open_only  a connection that sends 100 bytes and nothing more (no FIN): it ends
           idle_s after its last packet, live, with no packet after it
vlan_v6    the same tuple on VLANs 7 and 8 (two connections, one after the other on VLAN 7)
           and an IPv6 connection: files named as tcpflow names them (--7, --7c1, --8;
           2001:db8::1, not 2001:0db8:0000:...: cat --tcp wrote other names)
big        a server segment 300000 bytes ahead of the first, the lost bytes before it
           acknowledged (a real hole: cat --tcp writes at offset 300000), then an
           ordinary connection: a file cat --tcp cannot write must not stop it
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcpframe import ACK, FIN, PSH, RST, SYN, frame, name  # noqa: E402


C, S = [10, 14, 0, 1], [10, 14, 0, 2]
CP, SP, CI, SI = 40000, 80, 1000, 5000


def c2s(seq, ack, flags, data=b"", cp=CP):
    return frame(C, S, cp, SP, CI + seq, SI + ack, flags, data)


def s2c(seq, ack, flags, data=b"", cp=CP):
    return frame(S, C, SP, cp, SI + seq, CI + ack, flags, data)


def handshake(cp=CP):
    return [c2s(0, -SI, SYN, cp=cp), s2c(0, 1, SYN | ACK, cp=cp), c2s(1, 1, ACK, cp=cp)]


def fins(c, s, cp=CP):
    """Both FINs and the last ACK: the client's stream ends at c, the server's at s."""
    return [c2s(1 + c, 1 + s, FIN | ACK, cp=cp), s2c(1 + s, 2 + c, FIN | ACK, cp=cp),
            c2s(2 + c, 2 + s, ACK, cp=cp)]




CF, SF = name(C, CP) + "-" + name(S, SP), name(S, SP) + "-" + name(C, CP)
A, B = b"A" * 100, b"B" * 100
case, out = sys.argv[1], sys.argv[2]
p = handshake()
if case == "ack_spoof":
    p += [s2c(1, 1, ACK | PSH, A), c2s(1, 101, ACK), c2s(1, 101 + 1000000000, ACK),
          s2c(101, 1, ACK | PSH, B), c2s(1, 201, ACK)] + fins(0, 200)
    want = {SF: A + B}
elif case == "fin_ahead":
    p += [c2s(1, 1, ACK | PSH, A), s2c(1, 101, ACK), c2s(1 + 500000000, 1, FIN | ACK),
          c2s(101, 1, ACK | PSH, B), s2c(1, 201, ACK)] + fins(200, 0)
    want = {CF: A + B}
elif case == "rst_oow":
    p += [c2s(1, 1, ACK | PSH, A), s2c(1, 101, ACK), c2s(1 + 500000000, 0 - SI, RST),
          c2s(101, 1, ACK | PSH, B), s2c(1, 201, ACK)] + fins(200, 0)
    want = {CF: A + B}
elif case == "rst_data":
    p += [c2s(1, 1, ACK | PSH, A), s2c(1, 101, ACK), c2s(101, 1, RST | ACK),
          c2s(101, 1, ACK | PSH, B), s2c(1, 201, ACK)] + fins(200, 0)
    want = {CF: A, CF + "c1": B}
elif case == "data_ack":
    p += [s2c(1, 1, ACK | PSH, A), c2s(1, 101, ACK), s2c(1 + 500000000, 1, ACK | PSH, b"X"),
          c2s(1, 1 + 500000001, ACK), s2c(101, 1, ACK | PSH, B), c2s(1, 201, ACK)] + fins(0, 200)
    want = {SF: A + B}
elif case == "data_rst":
    p += [c2s(1, 1, ACK | PSH, A), s2c(1, 101, ACK), c2s(1 + 500000000, 1, ACK | PSH, b"X"),
          c2s(1 + 500000001, 1, RST | ACK), c2s(101, 1, ACK | PSH, B), s2c(1, 201, ACK)] + fins(200, 0)
    want = {CF: A + B}
elif case == "data_ahead":
    p += [c2s(1, 1, ACK | PSH, A), s2c(1, 101, ACK), c2s(1 + 500000000, 1, ACK | PSH, b"X")] + fins(100, 0)
    want = {CF: A}
elif case == "rst_noack":
    p = [c2s(1, 1, ACK | PSH, A), s2c(1, 101, ACK), s2c(1, 0, RST)]
    want = {CF: A}
elif case == "open_only":
    p += [c2s(1, 1, ACK | PSH, A)]
    want = {CF: A}
elif case == "vlan_v6":
    p = []
    want = {}
    for vlan, ci, data in ((7, 1000, A), (8, 1000, B), (7, 9000, b"again")):
        cs = lambda seq, ack, fl, d=b"": frame(C, S, CP, SP, ci + seq, SI + ack, fl, d, vlan=vlan)
        sc = lambda seq, ack, fl, d=b"": frame(S, C, SP, CP, SI + seq, ci + ack, fl, d, vlan=vlan)
        n = len(data)
        p += [cs(0, -SI, SYN), sc(0, 1, SYN | ACK), cs(1, 1, ACK), cs(1, 1, ACK | PSH, data),
              sc(1, 1 + n, ACK | PSH, b"ok"), cs(1 + n, 3, FIN | ACK), sc(3, 2 + n, FIN | ACK),
              cs(2 + n, 4, ACK)]
        sfx = "--%d%s" % (vlan, "c1" if ci == 9000 else "")
        want[CF + sfx], want[SF + sfx] = data, b"ok"
    C6, S6 = bytes(15) + b"\x01", bytes(15) + b"\x02"
    C6 = bytes.fromhex("20010db8") + C6[4:]
    S6 = bytes.fromhex("20010db8") + S6[4:]
    cs = lambda seq, ack, fl, d=b"": frame(C6, S6, CP, SP, CI + seq, SI + ack, fl, d)
    sc = lambda seq, ack, fl, d=b"": frame(S6, C6, SP, CP, SI + seq, CI + ack, fl, d)
    p += [cs(0, -SI, SYN), sc(0, 1, SYN | ACK), cs(1, 1, ACK), cs(1, 1, ACK | PSH, A),
          sc(1, 101, ACK | PSH, B), cs(101, 101, FIN | ACK), sc(101, 102, FIN | ACK), cs(102, 102, ACK)]
    want[name(C6, CP) + "-" + name(S6, SP)], want[name(S6, SP) + "-" + name(C6, CP)] = A, B
elif case == "big":
    p += [s2c(1, 1, ACK | PSH, A), c2s(1, 101, ACK), s2c(300001, 1, ACK | PSH, B),
          c2s(1, 300101, ACK)] + fins(0, 300100)
    p += handshake(41000) + [c2s(1, 1, ACK | PSH, b"hello world\n", cp=41000),
                             s2c(1, 13, ACK | PSH, b"hi\n", cp=41000)] + fins(12, 3, cp=41000)
    want = {SF: A + bytes(300000 - 100) + B, name(C, 41000) + "-" + name(S, SP): b"hello world\n",
            name(S, SP) + "-" + name(C, 41000): b"hi\n"}
else:
    sys.exit("tcp_hostile.py: unknown case " + case)
with open(out + ".pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(p):
        f.write(struct.pack("<IIII", 1700000000, i * 1000, len(fr), len(fr)) + fr)
os.makedirs(out, exist_ok=True)
for n, b in want.items():
    with open(os.path.join(out, n), "wb") as f:
        f.write(b)
