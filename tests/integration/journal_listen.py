#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Stand in for journald's native socket (sd_journal_send): bind a datagram
# socket at PATH and write each entry to OUT as one JSON object a line
# ({"MESSAGE": ..., "PRIORITY": ..., ...}). Plain KEY=VALUE fields only
# (beltlined's lines have no newline). Runs until killed.   journal_listen.py PATH OUT
import json, socket, sys

path, out = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        d = s.recv(65536).decode(errors="replace")
        entry = dict(l.split("=", 1) for l in d.split("\n") if "=" in l)
        f.write(json.dumps(entry) + "\n")
