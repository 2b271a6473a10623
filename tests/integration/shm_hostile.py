#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# shm_hostile SOCKET STREAM UID — a reader that turns on the appliance's memory: as
# UID (the stream's owner), attach to STREAM, then for every descriptor the attach gave
# try to reopen it read-write through /proc/self/fd/N (the kernel checks the file's mode,
# not the descriptor's) and to truncate it, the reopened one too (a truncated page or
# ring faults every later access of the appliance's: SIGBUS). Prints one line per
# descriptor and "refused N of M"; exit 0 when every attempt was refused, 1 when one
# succeeded (the appliance must still run either way: the caller checks), 2 on a
# set-up error. It stays attached until it has tried everything, then detaches by
# closing.
import array, json, os, socket, struct, sys

MAGIC, VER, ATTACH = 0x314c5442, 1, 2

sock, stream, uid = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(30)
s.connect(sock)
body = json.dumps({'stream': stream, 'client': 'shm_hostile', 'pid': os.getpid(),
                   'policy': 'frp'}).encode()   # looser than any stream
s.send(struct.pack('=IHHIiII', MAGIC, VER, ATTACH, 1, 0, 0, len(body)) + body)
fds = array.array('i')
msg, anc, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(16 * fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
st = struct.unpack('=IHHIiII', msg[:24])[4]
if st != 0 or not fds:
    print('attach refused (status %d): %s' % (st, msg[24:].decode(errors='replace')))
    sys.exit(2)
names = json.loads(msg[24:].decode()).get('fds', [])
tried = refused = 0
for i, fd in enumerate(fds):
    name = names[i] if i < len(names) else str(i)
    if name == 'wake':
        continue      # an eventfd: nothing to truncate
    for how in ('reopen', 'truncate'):
        tried += 1
        try:
            if how == 'reopen':
                os.close(os.open('/proc/self/fd/%d' % fd, os.O_RDWR))
            else:
                os.ftruncate(fd, 0)
            print('%s: %s succeeded' % (name, how))
        except OSError as e:
            refused += 1
            print('%s: %s refused (%s)' % (name, how, e.strerror))
    try:   # reopened read-write, then truncated: the way around a read-only descriptor
        rw = os.open('/proc/self/fd/%d' % fd, os.O_RDWR)
        tried += 1
        try:
            os.ftruncate(rw, 0)
            print('%s: truncate after reopening succeeded' % name)
        except OSError as e:
            refused += 1
            print('%s: truncate after reopening refused (%s)' % (name, e.strerror))
        os.close(rw)
    except OSError:
        pass
print('refused %d of %d' % (refused, tried))
s.close()
sys.exit(0 if refused == tried else 1)
