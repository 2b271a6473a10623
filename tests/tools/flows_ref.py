#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""flows_ref.py: flow records, one line each, sorted, in one form for every source:
    ipver proto src sport dst dport vlan packets bytes tcp_flags(hex)

  flows_ref.py ref IDLE_S ACTIVE_S CAPTURE.pcap   the reference: computed here from the
        packets, independently of Beltline's code, by the rules docs/flows.md states
        (uniflows; IP length fields; ports 0 without ports or in later fragments;
        headers cut short or invalid: not metered; a record ends when a packet comes
        idle_s or more after the flow's last one, or active_s or more after its first)
  flows_ref.py tshark DOMAIN FILE.json   what `tshark -T json` decoded (cflow) of the
        IPFIX messages of that observation domain
  flows_ref.py nfdump FILE.json          what `nfdump -o json` printed
  flows_ref.py refs IDLE_S ACTIVE_S PREFIX CAP...    ref of each CAP into PREFIXk (k from 0)
  flows_ref.py tsharks N FILE.json PREFIX           tshark of domains 1..N into PREFIXk (domain k+1)
"""
import json
import socket
import struct
import sys


def line(ipver, proto, src, sport, dst, dport, vlan, pkts, byts, flags):
    return '%d %d %s %d %s %d %d %d %d 0x%02x' % (ipver, proto, src, sport, dst, dport, vlan,
                                                 pkts, byts, flags)


def packets(path):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e, nano = '<', magic == 0xa1b23c4d
    else:
        e, nano = '>', struct.unpack('>I', data[:4])[0] == 0xa1b23c4d
    link = struct.unpack(e + 'I', data[20:24])[0]
    # every frame is read as Ethernet, as beltlined's ports deliver them
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + 'IIII', data[off:off + 16])
        off += 16
        ms = sec * 1000 + (frac // 1000000 if nano else frac // 1000)
        yield ms, data[off:off + incl]
        off += incl


def parse(p):
    """(key, length, flags) or None (not metered), as docs/flows.md says."""
    n = len(p)
    if n < 14:
        return None
    etype = p[12] << 8 | p[13]
    off, nvlan, vid = 14, 0, 0
    while etype in (0x8100, 0x88a8) and nvlan < 4:
        if off + 4 > n:
            return None
        if nvlan == 0:
            vid = (p[off] << 8 | p[off + 1]) & 0xfff
        nvlan += 1
        etype = p[off + 2] << 8 | p[off + 3]
        off += 4
    first = True
    if etype == 0x0800:
        if off + 20 > n or p[off] >> 4 != 4:
            return None
        ihl = (p[off] & 15) * 4
        tot = p[off + 2] << 8 | p[off + 3]
        if ihl < 20 or off + ihl > n or tot < ihl:
            return None
        ipver, proto, length = 4, p[off + 9], tot
        src = socket.inet_ntop(socket.AF_INET, p[off + 12:off + 16])
        dst = socket.inet_ntop(socket.AF_INET, p[off + 16:off + 20])
        first = ((p[off + 6] << 8 | p[off + 7]) & 0x1fff) == 0
        l4 = off + ihl
    elif etype == 0x86dd:
        if off + 40 > n or p[off] >> 4 != 6:
            return None
        ipver, length = 6, 40 + (p[off + 4] << 8 | p[off + 5])
        src = socket.inet_ntop(socket.AF_INET6, p[off + 8:off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, p[off + 24:off + 40])
        nh, l4 = p[off + 6], off + 40
        for _ in range(8):
            if nh not in (0, 43, 44, 60):
                break
            if l4 + 8 > n:
                return None
            if nh == 44:
                first = ((p[l4 + 2] << 8 | p[l4 + 3]) & 0xfff8) == 0
                nh, l4 = p[l4], l4 + 8
            else:
                nh, l4 = p[l4], l4 + (p[l4 + 1] + 1) * 8
        proto = nh
    else:
        return None
    sport = dport = flags = 0
    if first:
        need = {6: 20, 17: 8, 132: 12, 1: 4, 58: 4}.get(proto, 0)
        if l4 + need > n:
            return None
        if proto == 6 and (p[l4 + 12] >> 4 < 5 or l4 + (p[l4 + 12] >> 4) * 4 > n):
            return None
        if proto in (6, 17, 132):
            sport, dport = p[l4] << 8 | p[l4 + 1], p[l4 + 2] << 8 | p[l4 + 3]
        if proto == 6:
            flags = p[l4 + 13]
    return (ipver, proto, src, sport, dst, dport, vid), length, flags


def ref(idle_s, active_s, path):
    idle, active = idle_s * 1000, active_s * 1000
    live, out, clock = {}, [], None
    for ms, p in packets(path):
        r = parse(p)
        if r is None:
            continue
        # the meter's clock never goes back: a packet stamped earlier than the
        # latest one metered counts at the latest
        prev = clock
        clock = ms if clock is None or ms > clock else clock
        # a jump of 2^31 ms (24.8 days) or more passes every timeout: every flow ends first
        if prev is not None and clock - prev >= 1 << 31:
            out += list(live.items())
            live = {}
        ms = clock
        key, length, flags = r
        f = live.get(key)
        if f is not None and (ms - f[4] >= idle or ms - f[3] >= active):
            out.append((key, f))
            f = None
        if f is None:
            live[key] = [1, length, flags, ms, ms]
        else:
            f[0] += 1
            f[1] += length
            f[2] |= flags
            f[4] = max(f[4], ms)
    out += list(live.items())
    return [line(*k[:1], k[1], k[2], k[3], k[4], k[5], k[6], f[0], f[1], f[2]) for k, f in out]


def flows_in(o, found):
    if isinstance(o, dict):
        for k, v in o.items():
            if k.startswith('Flow ') and isinstance(v, dict):
                found.append(v)
            else:
                flows_in(v, found)
    elif isinstance(o, list):
        for v in o:
            flows_in(v, found)


def tshark(domain, path, msgs=None):
    res = []
    for pkt in msgs if msgs is not None else json.load(open(path)):
        cf = pkt['_source']['layers'].get('cflow')
        if cf is None:
            continue
        for c in cf if isinstance(cf, list) else [cf]:
            if int(c.get('cflow.od_id', -1)) != domain:
                continue
            fl = []
            flows_in(c, fl)
            for f in fl:
                v6 = 'cflow.srcaddrv6' in f
                res.append(line(6 if v6 else 4, int(f['cflow.protocol']),
                                f['cflow.srcaddrv6' if v6 else 'cflow.srcaddr'],
                                int(f['cflow.srcport']),
                                f['cflow.dstaddrv6' if v6 else 'cflow.dstaddr'],
                                int(f['cflow.dstport']), int(f['cflow.vlanid']),
                                int(f['cflow.packets']), int(f['cflow.octets']),
                                int(f['cflow.tcpflags'], 16)))
    return res


def nfdump(path):
    res = []
    for r in json.load(open(path)):
        if r.get('type') != 'FLOW':
            continue
        flags = 0
        # ICMP records: nfdump shows the destination port as icmp_type and icmp_code
        dport = r.get('dst_port', r.get('icmp_type', 0) << 8 | r.get('icmp_code', 0))
        for i, ch in enumerate(r.get('tcp_flags', '')):   # "CEUAPRSF", '.' where unset
            if ch != '.':
                flags |= 0x80 >> i
        v6 = 'src6_addr' in r
        res.append(line(6 if v6 else 4, r['proto'], r['src6_addr' if v6 else 'src4_addr'],
                        r.get('src_port', 0), r['dst6_addr' if v6 else 'dst4_addr'], dport,
                        r.get('src_vlan', 0), r['in_packets'], r['in_bytes'], flags))
    return res


def write(path, lines):
    with open(path, 'w') as f:
        for ln in sorted(lines):
            f.write(ln + '\n')


if __name__ == '__main__':
    if sys.argv[1] == 'refs':
        for k, cap in enumerate(sys.argv[5:]):
            write(sys.argv[4] + str(k), ref(int(sys.argv[2]), int(sys.argv[3]), cap))
        sys.exit(0)
    if sys.argv[1] == 'tsharks':
        msgs = json.load(open(sys.argv[3]))
        for k in range(int(sys.argv[2])):
            write(sys.argv[4] + str(k), tshark(k + 1, None, msgs))
        sys.exit(0)
    if sys.argv[1] == 'ref':
        lines = ref(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == 'tshark':
        lines = tshark(int(sys.argv[2]), sys.argv[3])
    else:
        lines = nfdump(sys.argv[2])
    for ln in sorted(lines):
        print(ln)
