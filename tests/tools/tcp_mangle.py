#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Make a capture of TCP connections whose segments arrive reordered, duplicated,
overlapping and lost, and the files a reassembler must write from it.

    tcp_mangle.py OUT      writes OUT.pcap and, in the directory OUT, one file per
                           direction named as tcpflow names them, holding the bytes
                           sent at their offsets with the lost ones as zeros (as
                           tcpflow leaves holes); prints one line per lost run:
                           "gap of LEN bytes at offset OFF"

Deterministic (a fixed seed). Used by tests/integration/tcpstream.sh.
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcpframe import ACK, FIN, PSH, RST, SYN, frame, name  # noqa: E402

rng = random.Random(13)
records = []
t = [1700000000.0]



def emit(f):
    t[0] += 0.001
    records.append((t[0], f))






class Dir:
    def __init__(self, src, dst, sport, dport, isn, n, lo=60, hi=1400):
        self.src, self.dst, self.sport, self.dport, self.isn = src, dst, sport, dport, isn
        self.data = bytes(rng.randrange(256) for _ in range(sum(rng.randrange(lo, hi) for _ in range(n))))
        cuts = sorted(rng.sample(range(1, len(self.data)), n - 1))
        self.segs = list(zip([0] + cuts, cuts + [len(self.data)]))   # [start, end) offsets
        self.got = bytearray(len(self.data))
        self.have = [False] * len(self.data)
        self.lost = set()

    def pkt(self, a, b, ack, flags=ACK | PSH):
        return frame(self.src, self.dst, self.sport, self.dport, self.isn + 1 + a, ack, flags, self.data[a:b])

    def mark(self, a, b):
        self.got[a:b] = self.data[a:b]
        for i in range(a, b):
            self.have[i] = True

    def fin(self, ack):
        return frame(self.src, self.dst, self.sport, self.dport, self.isn + 1 + len(self.data), ack, FIN | ACK)

    def fname(self):
        return name(self.src, self.sport) + "-" + name(self.dst, self.dport)


def play(d, other, lose=(), swap=(), dup=(), overlap=(), ack_all=False):
    """Send d's segments: lose[i] never sent; swap[i]: i and i+1 swapped; dup[i]: sent
    twice; overlap[i]: a retransmission covering the second half of i and the first of
    i+1 follows them. The receiver acknowledges what the capture has in order (or,
    ack_all, what was sent, lost ones too: as if the capture alone lost them)."""
    order = list(range(len(d.segs)))
    for i in swap:
        order[i], order[i + 1] = order[i + 1], order[i]
    reached = [False] * len(d.data)      # what the receiver has (the capture may not)
    for i in order:
        a, b = d.segs[i]
        for j in range(a, b):
            reached[j] = True
        if i in lose:
            d.lost.add(i)
            continue
        emit(d.pkt(a, b, other.isn + 1))
        d.mark(a, b)
        if i in dup:
            emit(d.pkt(a, b, other.isn + 1))
        if i in overlap and i + 1 < len(d.segs):
            x = (a + b) // 2
            y = (d.segs[i + 1][0] + d.segs[i + 1][1]) // 2
            emit(d.pkt(x, y, other.isn + 1))
            d.mark(x, y)
        have = next((j for j, h in enumerate(reached if ack_all else d.have) if not h), len(d.data))
        emit(frame(other.src, other.dst, other.sport, other.dport, other.isn + 1, d.isn + 1 + have, ACK))


def conn(k, cl_n, sv_n, syn=True, rst=False, **kw):
    c = Dir([10, 13, 0, 1], [10, 13, 1, k], 40000 + k, 80, rng.randrange(1 << 32), cl_n)
    s = Dir([10, 13, 1, k], [10, 13, 0, 1], 80, 40000 + k, rng.randrange(1 << 32), sv_n)
    if syn:
        emit(frame(c.src, c.dst, c.sport, c.dport, c.isn, 0, SYN))
        emit(frame(s.src, s.dst, s.sport, s.dport, s.isn, c.isn + 1, SYN | ACK))
        emit(frame(c.src, c.dst, c.sport, c.dport, c.isn + 1, s.isn + 1, ACK))
    play(c, s, **kw.get("c", {}))
    play(s, c, **kw.get("s", {}))
    if rst:
        emit(frame(c.src, c.dst, c.sport, c.dport, c.isn + 1 + len(c.data), s.isn + 1 + len(s.data), RST))
    else:
        emit(c.fin(s.isn + 1 + len(s.data)))
        emit(s.fin(c.isn + 2 + len(c.data)))
        emit(frame(c.src, c.dst, c.sport, c.dport, c.isn + 2 + len(c.data), s.isn + 2 + len(s.data), ACK))
    return c, s


def main():
    out = sys.argv[1]
    dirs = []
    # 1: reordered, duplicated and overlapping, nothing lost
    dirs += conn(1, 30, 20, c={"swap": (3, 10, 20), "dup": (5, 6), "overlap": (8, 15)},
                 s={"swap": (1, 2), "overlap": (4,)})
    # 2: a segment lost mid-stream each way (the receiver acknowledges it in one, not
    #    in the other), with reordering after it
    dirs += conn(2, 25, 25, c={"lose": (7,), "swap": (12,)}, s={"lose": (3,), "ack_all": True, "dup": (9,)})
    # 3: the last segment before the FIN lost; two lost in a row
    dirs += conn(3, 12, 12, c={"lose": (11,)}, s={"lose": (4, 5), "swap": (8,)})
    # 4: picked up mid-stream (no SYN), ended by a RST
    dirs += conn(4, 10, 8, syn=False, rst=True, c={"swap": (4,)}, s={"dup": (2,)})
    with open(out + ".pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in records:
            f.write(struct.pack("<IIII", int(ts), int(ts % 1 * 1e6), len(fr), len(fr)))
            f.write(fr)
    os.makedirs(out, exist_ok=True)
    for d in dirs:
        end = max((i + 1 for i, h in enumerate(d.have) if h), default=0)
        if end:
            with open(os.path.join(out, d.fname()), "wb") as f:
                f.write(bytes(d.got[:end]))
        i = 0
        while i < len(d.data):        # runs of bytes never sent: the gaps
            if d.have[i]:
                i += 1
                continue
            j = i
            while j < len(d.data) and not d.have[j]:
                j += 1
            print("gap of %d bytes at offset %d" % (j - i, i))
            i = j


main()
