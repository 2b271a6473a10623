#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# ctl_limits SOCKET PHASE — the control socket's connection limits (issue 15,
# point 3), run as root; each uid is a forked child that drops to it (the
# socket is 0666, so any uid may connect; SO_PEERCRED names it).
#   refuse: one uid opens more than its share: the extra connections get a
#           one-record notice saying why, then a close; another uid is served
#           all along, and so is root once the table is full of other uids.
#   idle:   connections that send nothing are closed after the idle limit,
#           each with a notice saying so.
#   slow:   a client that asks for stats and never reads its replies is closed.
# The limits are the server's (docs/control.md); the idle and slow timeouts are read
# from its stats (config control.idle_ms and slow_ms).
import json, os, select, socket, struct, subprocess, sys, time

MAGIC, VER, HDR = 0x314c5442, 1, '=IHHIiII'
PER_UID, ALL, ROOT_RESERVE = 32, 256, 16
path, phase = sys.argv[1], sys.argv[2]
fails = 0


def say(ok, what):
    global fails
    print(('ok   - ' if ok else 'FAIL - ') + what, flush=True)
    fails += not ok


def msg(op, body='{}', i=7):
    b = body.encode()
    return struct.pack(HDR, MAGIC, VER, op, i, 0, 0, len(b)) + b


def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)           # blocking: waits while the listen backlog is full
    s.settimeout(20)
    return s


def record(s, timeout):
    """(status, op, json) of the next record, None at EOF, 'timeout' if nothing came."""
    r, _, _ = select.select([s], [], [], timeout)
    if not r:
        return 'timeout'
    try:
        b = s.recv(70000)
    except ConnectionResetError:
        return 'reset'
    if not b:
        return None
    _, _, op, _, st, _, ln = struct.unpack(HDR, b[:24])
    try:
        j = json.loads(b[24:24 + ln])
    except ValueError:
        j = {}
    return st, op, j


def ask(s, op=1):
    """One request, its whole reply (records joined): (status, json) or a string."""
    try:
        s.send(msg(op))
    except OSError as e:
        return 'send: %s' % e
    body, st = b'', None
    while True:
        r, _, _ = select.select([s], [], [], 20)
        if not r:
            return 'timeout'
        b = s.recv(70000)
        if not b:
            return 'closed'
        _, _, rop, _, st, _, ln = struct.unpack(HDR, b[:24])
        body += b[24:24 + ln]
        if not rop & 0x8000:
            return st, json.loads(body)


def as_uid(uid, fn):
    """Run fn() in a child with this uid; its exit status is fn's."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            code = fn()
        except Exception:
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            os._exit(code)
    return pid


def wait(pid):
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def hold(n, r_fd, w_fd, timeout=20):
    """Open n connections and ask a list on each: a refused one reads the server's notice
    (op 0) in place of the reply, a kept one the reply (at once quiet; within timeout s)."""
    socks = [conn() for _ in range(n)]
    for s in socks:
        try:
            s.send(msg(1))
        except OSError:
            pass              # shut out already (EPIPE): its notice waits to be read
    deadline = time.monotonic() + timeout
    refused, why = [], set()
    for s in socks:
        r = record(s, max(0.0, deadline - time.monotonic()))
        while isinstance(r, tuple) and r[1] & 0x8000:     # a long reply: its other records
            r = record(s, max(0.0, deadline - time.monotonic()))
        if isinstance(r, tuple) and r[1] != 0 and r[0] == 0:
            continue          # the reply: kept
        refused.append(s)
        why.add(r[2].get('error', '?') if isinstance(r, tuple) else str(r))
        if isinstance(r, tuple) and (r[0] >= 0 or r[1] != 0):
            why.add('status %d op %d: want a negative status and op 0' % (r[0], r[1]))
    os.write(w_fd, json.dumps({'kept': n - len(refused), 'refused': len(refused),
                               'why': sorted(why)}).encode() + b'\n')
    # Until the parent says to let go, stay busy (a list every 2 s): these are
    # clients that use their connections, not idle ones the server may close.
    while not select.select([r_fd], [], [], 2)[0]:
        for s in socks:
            if s not in refused and not isinstance(ask(s), tuple):
                return 1
    return 0


def start_holding(uid, n):
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    pid = as_uid(uid, lambda: hold(n, r2, w1))
    os.close(w1)
    os.close(r2)
    return pid, w2, r1


def report(r1):
    line = b''
    while not line.endswith(b'\n'):
        c = os.read(r1, 4096)
        if not c:
            break
        line += c
    return json.loads(line or b'{}')


def child_holding(uid, n):
    pid, w2, r1 = start_holding(uid, n)
    return pid, w2, report(r1)


probe = None


def connections():
    """Connections open, asked on one root connection kept for it (one that came
    and went would hold its slot until the server's next tick). One the server closed
    (idle_ms passed between two calls on a slow machine) is opened again."""
    global probe
    for _ in range(2):
        probe = probe or conn()
        r = ask(probe, 4)
        if isinstance(r, tuple):
            return r[1]['control']['connections']
        probe.close()
        probe = None
    return -1


if phase == 'refuse':
    # 1. One uid asks for more than its share: the extras are told why.
    pid, go, got = child_holding(4242, PER_UID + 8)
    say(got.get('kept') == PER_UID and got.get('refused') == 8,
        'uid 4242 opens %d: %s kept, %s refused (want %d, 8)'
        % (PER_UID + 8, got.get('kept'), got.get('refused'), PER_UID))
    why = ' | '.join(got.get('why', []))
    say('too many connections from uid 4242 (limit %d)' % PER_UID in why,
        'the refused are told why: %s' % why)
    # ... and so is a client of the library, beltline ls, of that uid: in its error.
    if os.environ.get('BELTLINE'):
        def cli():
            env = dict(os.environ, BELTLINE_RUN_DIR=os.path.dirname(os.path.dirname(path)),
                       BELTLINE_INSTANCE=os.path.basename(os.path.dirname(path)))
            r = subprocess.run([os.environ['BELTLINE'], 'ls'], capture_output=True, text=True,
                               env=env)
            print('    beltline ls as uid 4242: exit %d: %s' % (r.returncode, r.stderr.strip()))
            return 0 if r.returncode == 1 and 'too many connections from uid 4242' in r.stderr else 1
        say(wait(as_uid(4242, cli)) == 0, 'beltline ls as uid 4242 says why it was refused')
    # A client that sends only after it was shut out: its send fails (EPIPE), not
    # with a reset, and the notice is still there to read. It sends once the notice is
    # there; the server shuts the connection for reading just after the notice, so a send
    # in between goes through: tried again on a new connection (3 tries).
    def late():
        for _ in range(3):
            s = conn()
            select.select([s], [], [], 20)          # the notice is there to read
            try:
                s.send(msg(1))
                sent = 'sent'
            except OSError as e:
                sent = e.__class__.__name__
            r = record(s, 20)
            print('    late sender: %s, then %s' % (sent, r))
            s.close()
            if sent != 'sent':
                break
        return 0 if sent == 'BrokenPipeError' and isinstance(r, tuple) and r[1] == 0 else 1
    say(wait(as_uid(4242, late)) == 0, 'a late sender gets EPIPE and reads the notice')
    # 2. Meanwhile another uid is served.
    c0 = connections()
    other = as_uid(4343, lambda: 0 if ask(conn())[0] == 0 else 1)
    say(wait(other) == 0, 'uid 4343 still gets list while uid 4242 holds its share')
    deadline = time.monotonic() + 60
    while connections() != c0 and time.monotonic() < deadline:   # its close: the next tick
        time.sleep(0.05)
    # 3. Many uids fill the table to what non-root may hold; root still gets in.
    kids = [start_holding(5000 + u, PER_UID) for u in range((ALL - ROOT_RESERVE) // PER_UID)]
    kids = [(p, w, report(r)) for p, w, r in kids]
    kept = sum(k[2].get('kept', 0) for k in kids)
    refused = sum(k[2].get('refused', 0) for k in kids)
    n = connections()
    # Non-root is refused once ALL - ROOT_RESERVE are open, root's own included.
    say(n == ALL - ROOT_RESERVE and kept + refused == len(kids) * PER_UID and refused >= 16,
        '%d more uids: %d kept, %d refused; %d open (non-root stops at %d)'
        % (len(kids), kept, refused, n, ALL - ROOT_RESERVE))
    why = ' | '.join(w for k in kids for w in k[2].get('why', []))
    say('the control socket is full' in why, 'the last uid is told the table is full: %s' % why)
    r = ask(conn(), 4)
    say(isinstance(r, tuple) and r[0] == 0, 'root still gets stats with the table full')
    c = r[1].get('control', {}) if isinstance(r, tuple) else {}
    say(c.get('refused_uid', 0) >= 8 and c.get('refused_full', 0) >= 1,
        'stats.control counts the refusals: %s' % json.dumps(c))
    for p, w, _ in [(pid, go, None)] + kids:
        os.write(w, b'x')
        say(wait(p) == 0, 'uid holding its connections: still served when let go')


def limit_s(key):
    """The limit, in s, from stats; asked again if the server closed the connection (a
    machine that stalled longer than idle_ms or slow_ms between connect and reply)."""
    for _ in range(10):
        r = ask(conn(), 4)
        if isinstance(r, tuple):
            return r[1]['control'][key] / 1000.0
    sys.exit('no stats: %s' % (r,))


if phase == 'idle':
    # Connections that send nothing, and one that sent a request and then nothing.
    # The clock starts before the request that is answered: its connection's notice comes
    # idle_ms after that request at the earliest. One stalled past idle_ms between its
    # connect and its request is closed before it asks: asked again on another.
    IDLE_S = limit_s('idle_ms')
    socks = [conn() for _ in range(3)]
    for _ in range(5):
        s0 = conn()
        t0 = time.monotonic()
        answer = ask(s0)
        if isinstance(answer, tuple):
            break
    socks.insert(0, s0)
    say(isinstance(answer, tuple) and answer[0] == 0, 'a connection that asks is answered')
    got = [record(s, IDLE_S * 4 + 30) for s in socks]
    dt = time.monotonic() - t0
    ok = all(isinstance(r, tuple) and r[1] == 0 and r[0] < 0 and 'idle' in r[2].get('error', '')
             for r in got)
    say(ok, 'idle connections get a notice: %s' % (got[0],))
    say(IDLE_S * 0.9 <= dt <= IDLE_S * 4 + 30, 'after %.1f s (limit %.1f s)' % (dt, IDLE_S))
    say(all(record(s, 5) is None for s in socks), '... and are closed')
    r = ask(conn(), 4)
    c = r[1].get('control', {}) if isinstance(r, tuple) else {}
    say(c.get('idle_closed', 0) >= 4, 'stats.control counts them: %s' % json.dumps(c))

elif phase == 'slow':
    # Stats (140 KiB here) asked for 40 times, never read: more than any socket
    # buffer holds, so replies pile up and the server gives up on the connection
    # instead of holding them forever. The client reads nothing until the server
    # says (stats.control.slow_closed, asked on another connection) that it gave
    # up: a read before that is progress, which restarts the server's clock (a
    # fixed 3.5 s wait raced that once on a busy machine).
    SLOW_S = limit_s('slow_ms')

    # The stats asked on the side are 140 KiB too: one read more slowly than slow_ms (a
    # stalled machine) is closed and counted too, and asked again.
    def slow_closed():
        for _ in range(10):
            k = conn()
            r = ask(k, 4)
            k.close()
            if isinstance(r, tuple):
                return r[1].get('control', {}).get('slow_closed', 0)
        sys.exit('no stats: %s' % (r,))
    before = slow_closed()
    s = conn()
    for _ in range(40):
        s.send(msg(4))
    deadline = time.monotonic() + 3 * SLOW_S + 60
    after = before
    while after == before and time.monotonic() < deadline:
        time.sleep(0.2)
        after = slow_closed()
    say(after >= before + 1, 'stats.control counts it (slow_closed %d, then %d)' % (before, after))
    n = 0
    while True:
        r = record(s, 20)
        if not isinstance(r, tuple):
            break
        n += 1
    say(r is None or r == 'reset', 'a client that never reads is closed (%d records were '
        'queued, then %s)' % (n, r))
sys.exit(1 if fails else 0)
