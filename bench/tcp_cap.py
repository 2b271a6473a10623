#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A capture for bench/tcpstream_vs_tcpflow.sh: CONNS TCP connections carrying MB
megabytes of payload in all, in 1448-byte segments interleaved across connections,
one segment in 50 swapped with the next (reordering to hold), ACKs every other
segment, SYN and FIN both ways.

    tcp_cap.py OUT.pcap MB [CONNS]
"""
import os
import struct
import sys


def main():
    out, mb = sys.argv[1], int(sys.argv[2])
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    seg = 1448
    per = mb * 1000000 // conns // seg
    blob = os.urandom(1 << 20)
    eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
    ts = [1700000000, 0]

    def rec(f, src, dst, sp, dp, seq, ack, flags, pay=b""):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(pay), 0, 0, 64, 6, 0, src, dst)
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags,
                          65535, 0, 0)
        fr = eth + ip + tcp + pay
        ts[1] += 1
        if ts[1] == 1000000:
            ts[0], ts[1] = ts[0] + 1, 0
        f.write(struct.pack("<IIII", ts[0], ts[1], len(fr), len(fr)) + fr)

    cs = []
    for k in range(conns):
        cs.append((bytes([10, 20, k >> 8, k & 255]), bytes([10, 21, 0, 1]), 30000 + k, 443,
                   (k * 2654435761) & 0xFFFFFFFF, (k * 40503 + 7) & 0xFFFFFFFF))
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for c, s, cp, sp, ci, si in cs:
            rec(f, c, s, cp, sp, ci, 0, 0x02)
            rec(f, s, c, sp, cp, si, ci + 1, 0x12)
            rec(f, c, s, cp, sp, ci + 1, si + 1, 0x10)
        pos = 0
        for i in range(0, per, 2):
            for c, s, cp, sp, ci, si in cs:
                order = (i + 1, i) if i % 50 == 0 and i + 1 < per else (i, i + 1)
                for j in order:
                    if j >= per:
                        continue
                    pos = (pos + 7919) % ((1 << 20) - seg)
                    rec(f, s, c, sp, cp, si + 1 + j * seg, ci + 1, 0x18, blob[pos:pos + seg])
                rec(f, c, s, cp, sp, ci + 1, si + 1 + min(i + 2, per) * seg, 0x10)
        for c, s, cp, sp, ci, si in cs:
            end = si + 1 + per * seg
            rec(f, s, c, sp, cp, end, ci + 1, 0x11)
            rec(f, c, s, cp, sp, ci + 1, end + 1, 0x11)
            rec(f, s, c, sp, cp, end + 1, ci + 2, 0x10)
    print(per * seg * conns)


main()
