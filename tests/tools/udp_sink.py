#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""udp_sink.py PORTFILE OUT.pcap: receive UDP datagrams on 127.0.0.1 (a free
port, written to PORTFILE once bound) and write each as a raw-IP pcap record
(IPv4 + UDP headers made up around it, destination port the one bound), so
tshark can decode them afterwards (tests/integration/flow.sh). Stops on
SIGTERM or SIGINT, after writing what it received."""
import signal
import socket
import struct
import sys
import time

stop = False


def on_signal(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(('127.0.0.1', 0))
s.settimeout(0.05)
port = s.getsockname()[1]
out = open(sys.argv[2], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
with open(sys.argv[1] + '.tmp', 'w') as f:
    f.write('%d\n' % port)
import os
os.rename(sys.argv[1] + '.tmp', sys.argv[1])
n = 0
while not stop:
    try:
        data, (_, sport) = s.recvfrom(65535)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    udp = struct.pack('!HHHH', sport, port, 8 + len(data), 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp) + len(data), n & 0xffff, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    rec = ip + udp + data
    t = time.time()
    out.write(struct.pack('<IIII', int(t), int((t % 1) * 1e6), len(rec), len(rec)) + rec)
    out.flush()
    n += 1
out.close()
