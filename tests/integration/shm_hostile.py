#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# shm_hostile SOCKET STREAM UID — a reader that turns on the appliance's memory: as
# UID (the stream's owner), attach to STREAM, then for every descriptor the attach gave:
# truncate it (a truncated page or ring faults every later access of the appliance's:
# SIGBUS), reopen it read-write through /proc/self/fd/N (the kernel checks the file's
# mode, not the descriptor's), and, as the file's owner may, fchmod it writable, reopen
# it and truncate, map writable, write. Prints one line per attempt and "refused N of
# M"; exit 0 when every attempt was refused, 1 when one succeeded (the appliance must
# still run either way: the caller checks), 2 on a set-up error. It stays attached until
# it has tried everything, then detaches by closing.
import array, json, mmap, os, socket, struct, sys

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


def attempt(what, fn):
    """One attempt at write access: refused is what we want."""
    global tried, refused
    tried += 1
    try:
        fn()
        print('%s succeeded' % what)
    except (OSError, ValueError) as e:
        refused += 1
        print('%s refused (%s)' % (what, getattr(e, 'strerror', None) or e))


def map_rw(fd):
    m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[0:1] = m[0:1]
    m.close()


for i, fd in enumerate(fds):
    name = names[i] if i < len(names) else str(i)
    if name == 'wake':
        continue      # an eventfd: nothing to truncate
    attempt('%s: truncate' % name, lambda: os.ftruncate(fd, 0))
    if name in ('page', 'mrp'):
        continue      # the reader's own to write: the size alone is sealed
    attempt('%s: reopen read-write' % name,
            lambda: os.close(os.open('/proc/self/fd/%d' % fd, os.O_RDWR)))
    # the file's owner may give itself the write bits back: then every way to write
    try:
        os.fchmod(fd, 0o666)
        print('%s: fchmod to 0666 taken (its owner may)' % name)
    except OSError:
        pass
    try:
        rw = os.open('/proc/self/fd/%d' % fd, os.O_RDWR)
    except OSError:
        continue
    attempt('%s: truncate after reopening' % name, lambda: os.ftruncate(rw, 0))
    attempt('%s: map writable after reopening' % name, lambda: map_rw(rw))
    attempt('%s: write after reopening' % name, lambda: os.pwrite(rw, b'x', 0))
    os.close(rw)
print('refused %d of %d' % (refused, tried))
s.close()
sys.exit(0 if refused == tried else 1)
