#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write config/sample.pcap: a small, deterministic mix of traffic for the
default config and the demos (web, ssh, DNS, ICMP, ARP, IPv6, VLAN, a
fragment). Run from the repository top: python3 tests/tools/mksample.py"""
import random
import struct

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def eth(dst, src, etype, payload, vlan=None):
    h = bytes(dst) + bytes(src)
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", etype) + payload

def ip4(src, dst, proto, payload, frag=0, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def tcp(sp, dp, seq, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, seq, 0, 0x50, flags, 65535, 0, 0) + data

def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data

def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, bytes(src), bytes(dst)) + payload

def main():
    rnd = random.Random(7)
    mac_a, mac_b = [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]
    a, b = [10, 0, 0, 1], [10, 0, 0, 2]
    pkts = []
    for i in range(1000):
        k = i % 10
        if k < 4:
            sp, dp = 40000 + i % 50, 80
            if i % 2:
                sp, dp = dp, sp
            body = b"GET / HTTP/1.1\r\n" * rnd.randint(0, 80)
            p = eth(mac_a, mac_b, 0x0800, ip4(a, b, 6, tcp(sp, dp, i, 0x18, body)))
        elif k == 4:
            p = eth(mac_a, mac_b, 0x0800, ip4(a, b, 6, tcp(50000, 22, i, 0x18, bytes(rnd.randrange(256) for _ in range(48)))))
        elif k == 5:
            p = eth(mac_b, mac_a, 0x0800, ip4(b, a, 17, udp(5353 + i % 3, 53, b"\x12\x34\x01\x00" + bytes(28))))
        elif k == 6:
            p = eth(mac_a, mac_b, 0x0800, ip4(a, b, 1, struct.pack("!BBHHH", 8, 0, 0, 1, i) + bytes(56)))
        elif k == 7:
            p = eth([0xff] * 6, mac_a, 0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, bytes(mac_a), bytes(a), bytes(6), bytes(b)))
        elif k == 8:
            s6, d6 = [0xfe, 0x80] + [0] * 13 + [1], [0xfe, 0x80] + [0] * 13 + [2]
            p = eth(mac_a, mac_b, 0x86DD, ip6(s6, d6, 17, udp(546, 547, bytes(40))))
        else:
            inner = ip4(a, b, 17, udp(4000, 4001, bytes(100)), frag=(0x2000 if i % 20 == 9 else 0), ident=i)
            p = eth(mac_a, mac_b, 0x0800, inner, vlan=100 + i % 3)
        if len(p) < 60:
            p += bytes(60 - len(p))
        pkts.append(p)
    with open("config/sample.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000, len(p), len(p)))
            f.write(p)

if __name__ == "__main__":
    main()
