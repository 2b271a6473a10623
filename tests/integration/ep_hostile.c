/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_hostile — a hostile endpoint peer for ep.sh (issue 12, point 4): it speaks the
 * protocol by hand (no client library data path) and writes garbage in every field
 * it can write.
 *
 *   ep_hostile URI MODE
 *
 * MODE: gone (exits once connected, before its hello), silent (connected, no hello, 30 s),
 * unsealed (a hello with
 * writable, unsealed regions), badhello (3 bytes of
 * nonsense), head (head far beyond the ring), slot (a message outside the DBuf),
 * echo (a message "in the victim's own DBuf", outside it),
 * seq (a slot with the wrong sequence number), rxtail (a released count beyond what
 * was sent), random (random bytes over its whole header, slots and DBuf until the victim
 * hangs up), roomdgram (its room channel a datagram socket: one it could have connected
 * to any daemon, for the victim to send its wakeups to), roomnamed (a SOCK_SEQPACKET room
 * channel connected to a named socket: a daemon's, as far as the victim knows). Each mode then stays alive until the victim hangs up
 * (at most 30 s).
 * Its hello says pid 1 (the victim must name its real pid, the appliance's word).
 * After a proper hello it also tries to write the victim's regions and prints
 * "victim memory read-only" when every way is refused. Exit 0 when it did its harm.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_ep_abi.h"
#include "bl_stream_proto.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* Until the victim hangs up (it refused us and exited), or ms have passed: what
 * it sends meanwhile (wake bytes) is read and dropped. 1 when it hung up. */
static int
victim_gone(int sock, int ms)
{
	struct timespec t0, t;
	char b[256];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		ssize_t n = recv(sock, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
}

static int
send_hello(int sock, const struct bl_ep_hello *h, const int *fds, unsigned n, size_t len)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 3)];
	} cm;
	struct iovec iov = { (void *)(uintptr_t)h, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&cm, 0, sizeof(cm));
	if (n > 0) {
		struct cmsghdr *ch;
		m.msg_control = cm.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		ch = CMSG_FIRSTHDR(&m);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(ch), fds, sizeof(int) * n);
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int
main(int argc, char **argv)
{
	int fds[BL_CTL_FDS_MAX], cfd, rc, ro[3], tx[2];
	char inst[BL_INSTANCE_NAME_MAX], body[128], *reply = NULL, path[64];
	const char *uri, *mode, *name, *slash;
	unsigned n = 0;
	uint32_t slots, dbuf, maxm;
	cJSON *j;

	if (argc != 3)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);   /* said before a sanitizer's exit could lose it */
	printf("pid %d\n", (int)getpid());
	uri = argv[1];
	mode = argv[2];
	slash = strchr(uri + 11, '/');
	snprintf(inst, sizeof(inst), "%.*s", (int)(slash - uri - 11), uri + 11);
	name = slash + 4;
	if (blc_ctl_connect(inst, NULL, &cfd) < 0)
		return 2;
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	rc = blc_ctl_call_fd(cfd, 20000, BL_CTL_EP_CONNECT, body, &reply, fds, BL_CTL_FDS_MAX, &n);
	if (rc < 0 || n != 3) {
		printf("connect refused: %s\n", reply != NULL ? reply : strerror(-rc));
		return 2;
	}
	j = cJSON_Parse(reply);
	free(reply);
	slots = (uint32_t)cJSON_GetObjectItem(j, "slots")->valuedouble;
	dbuf = (uint32_t)cJSON_GetObjectItem(j, "dbuf_bytes")->valuedouble;
	maxm = (uint32_t)cJSON_GetObjectItem(j, "max_msg")->valuedouble;
	cJSON_Delete(j);
	size_t ilen = (size_t)bl_ep_ibuf_bytes(slots);
	struct bl_ep_hdr *me = mmap(NULL, ilen, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	uint8_t *md = mmap(NULL, dbuf, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
	struct bl_ep_slot *sl = (struct bl_ep_slot *)((uint8_t *)me + BL_EP_HDR_BYTES);
	/* a lie in the pid too: the victim names the pid the appliance saw */
	struct bl_ep_hello h = { BL_EP_MAGIC, BL_EP_VERSION, slots, dbuf, maxm, 1 };
	int sock = fds[2];

	if (me == MAP_FAILED || md == MAP_FAILED)
		return 2;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, tx) < 0)
		return 2;
	if (strcmp(mode, "unsealed") == 0) {
		int w[3] = { fds[0], fds[1], tx[1] };
		send_hello(sock, &h, w, 3, sizeof(h));
		victim_gone(sock, 30000);
		return 0;
	}
	if (strcmp(mode, "gone") == 0)
		return 0;           /* connected, and gone before any hello */
	if (strcmp(mode, "silent") == 0) {
		sleep(30);          /* connected, and never a hello */
		return 0;
	}
	if (strcmp(mode, "badhello") == 0) {
		send_hello(sock, &h, NULL, 0, 3);
		victim_gone(sock, 30000);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_ADD_SEALS, F_SEAL_FUTURE_WRITE);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
		ro[i] = open(path, O_RDONLY);
	}
	ro[2] = tx[1];
	if (strcmp(mode, "roomdgram") == 0 || strcmp(mode, "roomnamed") == 0) {
		int d[2];

		if (strcmp(mode, "roomdgram") == 0) {
			if (socketpair(AF_UNIX, SOCK_DGRAM, 0, d) < 0)
				return 2;
			ro[2] = d[1];
		} else {        /* a listener of ours at a path, as a daemon's would be */
			struct sockaddr_un a = { .sun_family = AF_UNIX };
			int l = socket(AF_UNIX, SOCK_SEQPACKET, 0), c = socket(AF_UNIX, SOCK_SEQPACKET, 0);

			snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/ep_hostile.%d", (int)getpid());
			unlink(a.sun_path);
			if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
			    listen(l, 1) < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
				return 2;
			unlink(a.sun_path);
			ro[2] = c;
		}
		send_hello(sock, &h, ro, 3, sizeof(h));
		victim_gone(sock, 30000);
		return 0;
	}
	send_hello(sock, &h, ro, 3, sizeof(h));
	/* The victim's hello: its regions, which we must not be able to write. */
	{
		union {
			struct cmsghdr c;
			char b[CMSG_SPACE(sizeof(int) * 3)];
		} cm;
		struct bl_ep_hello vh;
		struct iovec iov = { &vh, sizeof(vh) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			.msg_controllen = sizeof(cm.b) };
		int vf[3] = { -1, -1, -1 }, writable = 0;
		struct pollfd p = { .fd = sock, .events = POLLIN };

		if (poll(&p, 1, 30000) <= 0 || recvmsg(sock, &m, 0) <= 0)
			return 2;
		if (CMSG_FIRSTHDR(&m) != NULL)
			memcpy(vf, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(vf));
		for (int i = 0; i < 2; i++) {
			int rw;
			if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vf[i], 0) != MAP_FAILED)
				writable++;
			if (pwrite(vf[i], "x", 1, 0) == 1)
				writable++;
			snprintf(path, sizeof(path), "/proc/self/fd/%d", vf[i]);
			rw = open(path, O_RDWR);
			if (rw >= 0 && (pwrite(rw, "x", 1, 0) == 1 ||
					mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0) !=
					MAP_FAILED))
				writable++;
		}
		printf(writable ? "victim memory WRITABLE\n" : "victim memory read-only\n");
	}
	if (strcmp(mode, "head") == 0) {
		__atomic_store_n(&me->head, (uint64_t)1 << 40, __ATOMIC_RELEASE);
	} else if (strcmp(mode, "slot") == 0) {
		sl[0] = (struct bl_ep_slot){ .seq = 0, .off = dbuf - 8, .len = 4096 };
		__atomic_store_n(&me->head, 1, __ATOMIC_RELEASE);
	} else if (strcmp(mode, "echo") == 0) {   /* "in your DBuf", past its end */
		sl[0] = (struct bl_ep_slot){ .seq = 0, .off = BL_EP_OFF_YOURS | (dbuf - 8), .len = 4096 };
		__atomic_store_n(&me->head, 1, __ATOMIC_RELEASE);
	} else if (strcmp(mode, "seq") == 0) {
		sl[0] = (struct bl_ep_slot){ .seq = 7, .off = 0, .len = 16 };
		__atomic_store_n(&me->head, 1, __ATOMIC_RELEASE);
	} else if (strcmp(mode, "rxtail") == 0) {
		__atomic_store_n(&me->rx_tail, (uint64_t)1 << 50, __ATOMIC_RELEASE);
		send(tx[1], "w", 1, MSG_DONTWAIT);
	} else if (strcmp(mode, "random") == 0) {
		uint64_t x = 88172645463325252ull;
		unsigned rounds = 0;
		do {
			for (size_t i = 0; i < ilen / 8; i++) {
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				((uint64_t *)me)[i] = x;
			}
			for (size_t i = 0; i < 4096; i++)
				((uint64_t *)md)[(x + i) % (dbuf / 8)] = x;
			send(sock, "w", 1, MSG_DONTWAIT);
			send(tx[1], "w", 1, MSG_DONTWAIT);
		} while (!victim_gone(sock, 1) && ++rounds < 20000);
	}
	/* Alive (so what the victim sees is garbage, not a peer gone) until it hangs up. */
	send(sock, "w", 1, MSG_DONTWAIT);
	victim_gone(sock, 30000);
	return 0;
}
