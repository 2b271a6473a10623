#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Wireshark's Follow TCP Stream as files: for every TCP stream of CAP, tshark -z
follow,tcp,raw; each direction's bytes go to DIR/SRC.SPORT-DST.DPORT, named as
tcpflow names its files (IPv4). Used by tests/integration/tcpstream.sh where
tcpflow takes Ethernet padding for payload (dns_tcp.pcap).

    follow_ref.py CAP DIR
"""
import os
import subprocess
import sys


def name(ep):
    host, port = ep.rsplit(":", 1)
    return "%s.%05d" % (".".join("%03d" % int(x) for x in host.split(".")), int(port))


def main():
    cap, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    ids = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-e", "tcp.stream"],
                         capture_output=True, text=True, check=True).stdout.split()
    for sid in sorted({int(x) for x in ids if x}):
        txt = subprocess.run(["tshark", "-r", cap, "-q", "-z", "follow,tcp,raw,%d" % sid],
                             capture_output=True, text=True, check=True).stdout
        nodes, data = {}, {0: b"", 1: b""}
        for line in txt.split("\n"):
            if line.startswith("Node 0: ") or line.startswith("Node 1: "):
                nodes[int(line[5])] = line[8:].strip()
            elif line.strip() and all(c in "0123456789abcdef" for c in line.strip()):
                data[1 if line.startswith("\t") else 0] += bytes.fromhex(line.strip())
        for d in (0, 1):
            if data[d]:
                fn = name(nodes[d]) + "-" + name(nodes[1 - d])
                with open(os.path.join(out, fn), "wb") as f:
                    f.write(data[d])


main()
