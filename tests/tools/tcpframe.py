# SPDX-License-Identifier: BSD-3-Clause
"""Ethernet/IPv4 or IPv6/TCP frames (802.1Q-tagged or not) with right checksums, for the capture makers of
tests/tools (tcp_mangle.py, tcp_hostile.py), and tcpflow's file names."""
import socket
import struct

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b"", vlan=None):
    """IPv4 when src and dst are 4 bytes, IPv6 when 16; vlan: an 802.1Q tag's id."""
    src, dst = bytes(src), bytes(dst)
    v6 = len(src) == 16
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0) + payload
    pseudo = struct.pack("!IxxxB", len(tcp), 6) if v6 else struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(src + dst + pseudo + tcp)) + tcp[18:]
    if v6:
        ip, etype = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst, 0x86DD
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
        ip, etype = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:], 0x0800
    tag = b"" if vlan is None else struct.pack("!HH", 0x8100, vlan)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01" + tag + struct.pack("!H", etype) + ip + tcp


def name(a, p):
    """A tcpflow file name's half: address and port, zero-padded (IPv6 as inet_ntop)."""
    if len(a) == 16:
        return "%s.%05d" % (socket.inet_ntop(socket.AF_INET6, bytes(a)), p)
    return "%03d.%03d.%03d.%03d.%05d" % (a[0], a[1], a[2], a[3], p)
