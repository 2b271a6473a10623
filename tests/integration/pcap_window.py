#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# pcap_window REF OUT EXP — a live stream of a looping capture starts anywhere:
# write EXP, the len(OUT) packets of REF (taken cyclically) starting at the
# first offset whose bytes equal OUT's first packet, for pcap_cmp EXP OUT.
# Only the alignment is found here; pcap_cmp does the comparing.
import struct, sys

def read(path):
    with open(path, 'rb') as f:
        b = f.read()
    hdr, off, pk = b[:24], 24, []
    e = '<' if b[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    while off + 16 <= len(b):
        ts, tu, cap, wire = struct.unpack(e + 'IIII', b[off:off + 16])
        pk.append((b[off:off + 16], b[off + 16:off + 16 + cap]))
        off += 16 + cap
    return hdr, pk

hdr, ref = read(sys.argv[1])
_, out = read(sys.argv[2])
k = 0
for i in range(len(ref)):
    if out and all(ref[(i + j) % len(ref)][1] == out[j][1] for j in range(len(out))):
        k = i
        break
with open(sys.argv[3], 'wb') as f:
    f.write(hdr)
    for j in range(len(out)):
        h, d = ref[(k + j) % len(ref)]
        f.write(h + d)
