#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Stand in for systemd's notify socket (sd_notify(3)): bind a datagram socket
# at PATH, append every message to OUT as one line (newlines inside a message
# become "|"), and on READY=1 also whether the control socket CTL exists then.
# Runs until killed.   notify_listen.py PATH OUT CTL
import os, socket, sys

path, out, ctl = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        msg = s.recv(4096).decode(errors="replace")
        f.write(msg.replace("\n", "|") + "\n")
        if "READY=1" in msg.split("\n"):
            f.write("ctl-at-ready=%s\n" % ("yes" if os.path.exists(ctl) else "no"))
