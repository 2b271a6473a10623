/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_client_reply — libbeltline-client taking what the appliance's control
 * socket answers (client/ctl.c: the reply header and body, the descriptors,
 * the attach reply's JSON; then src_live.c with the descriptors it names).
 *
 * A server thread of this process listens on RUN_DIR/f/ctl (a temporary
 * folder) and answers each connection's first request with the input's reply;
 * the client side is the public API: beltline_open("beltline://f/web") or
 * beltline_ctl_open + beltline_ctl_call.
 *
 * Input:  u8 mode | u8 n_fds | n_fds selector bytes | the reply (header, body)
 *   mode bit 0: attach (beltline_open), else a call of op 1 + (mode >> 1) % 4
 *   mode bit 3: the header's id is set to the request's (else as given)
 *   mode bit 4: magic, version, op, len and n_fds are set to what is right
 *   selector % 5: a fresh read-only ring fd, the reader page fd, the DBuf's
 *   read-only fd, an eventfd, /dev/null  (a real IBuf and DBuf, made once)
 * Oracles: a negative errno or a result; a reply string is NUL-terminated;
 * no descriptor leaks, whatever was sent (after beltline_close and
 * beltline_ctl_close); a stream that opens can be peeked and closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_stream_proto.h"
#include "bl_ibuf.h"
#include "bl_shm.h"
#include "fake_appliance.h"
#include "fuzz.h"

#define MAX_SEL 8

static char dir[64], sub[80], sock_path[128];
static int lfd = -1;
static struct bl_ibuf *ib;
static struct bl_shm *dbuf;
static unsigned int reader_idx;

/* The reply the server sends next, and a count of connections served (under mu). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint8_t reply_buf[BL_CTL_MSG_MAX];
static size_t reply_len;
static uint8_t sel[MAX_SEL];
static unsigned int n_sel;
static unsigned int mode;
static unsigned long served;

/* The library's log lines: none, unless FUZZ_VERBOSE is set (to see why an input fails). */
static void
quiet(enum beltline_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", msg);
}

static void
cleanup(void)
{
	unlink(sock_path);
	rmdir(sub);
	rmdir(dir);
}

static int
open_sel(uint8_t s)
{
	struct bl_ibuf_fds f;

	switch (s % 5) {
	case 0:
		return bl_ibuf_reader_fds(ib, reader_idx, &f) == 0 ? f.ring_fd : -1;
	case 1:
		/* the ring's own page fd: dup it, so that closing it here is ours to do */
		return bl_ibuf_reader_fds(ib, reader_idx, &f) == 0 ?
			(close(f.ring_fd), fcntl(f.page_fd, F_DUPFD_CLOEXEC, 0)) : -1;
	case 2:
		return bl_shm_ro_fd(dbuf);
	case 3:
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	default:
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}

/* Serve one connection: read the request, send the reply with its descriptors. */
static void
serve(int c)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * MAX_SEL)];
	} cm;
	uint8_t req[BL_CTL_MSG_MAX], out[BL_CTL_MSG_MAX];
	struct bl_ctl_hdr rh, h;
	struct pollfd p = { .fd = c, .events = POLLIN };
	int fds[MAX_SEL], n = 0;
	ssize_t r;
	size_t len;

	if (poll(&p, 1, 5000) != 1 || (r = recv(c, req, sizeof(req), 0)) < (ssize_t)sizeof(rh))
		return;
	memcpy(&rh, req, sizeof(rh));
	pthread_mutex_lock(&mu);
	len = reply_len;
	memcpy(out, reply_buf, len);
	for (unsigned int i = 0; i < n_sel; i++) {
		int fd = open_sel(sel[i]);
		if (fd >= 0)
			fds[n++] = fd;
	}
	if (len >= sizeof(h)) {
		memcpy(&h, out, sizeof(h));
		if (mode & 8)
			h.id = rh.id;
		if (mode & 16) {
			h.magic = BL_CTL_MAGIC;
			h.version = BL_CTL_VERSION;
			h.op = rh.op;
			h.len = (uint32_t)(len - sizeof(h));
			h.n_fds = (uint32_t)n;
		}
		memcpy(out, &h, sizeof(h));
	}
	pthread_mutex_unlock(&mu);

	struct iovec iov = { out, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > 0) {
		memset(&cm, 0, sizeof(cm));
		m.msg_control = cm.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		struct cmsghdr *ch = CMSG_FIRSTHDR(&m);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(ch), fds, sizeof(int) * (size_t)n);
	}
	(void)sendmsg(c, &m, MSG_NOSIGNAL);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void *
server(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		serve(c);
		close(c);
		pthread_mutex_lock(&mu);
		served++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;
	int idx;

	(void)argc;
	(void)argv;
	beltline_set_log(quiet, NULL);
	snprintf(dir, sizeof(dir), "/tmp/blfuzz-reply-XXXXXX");
	if (mkdtemp(dir) == NULL)
		FUZZ_FAIL("mkdtemp");
	snprintf(sub, sizeof(sub), "%s/f", dir);
	snprintf(sock_path, sizeof(sock_path), "%s/%s", sub, BL_CTL_SOCKET);
	atexit(cleanup);
	if (mkdir(sub, 0700) != 0)
		FUZZ_FAIL("mkdir %s", sub);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0)
		FUZZ_FAIL("listen on %s", sock_path);
	ib = fake_ibuf(BL_IBUF_SRP, 8);
	dbuf = fake_dbuf();
	idx = ib != NULL ? bl_ibuf_reader_alloc(ib, 0) : -1;
	if (dbuf == NULL || idx < 0)
		FUZZ_FAIL("fake ibuf or dbuf");
	reader_idx = (unsigned int)idx;
	if (pthread_create(&t, NULL, server, NULL) != 0)
		FUZZ_FAIL("pthread_create");
	return 0;
}

/* Wait until the server has finished the connection after `before` (it closes its end). */
static void
wait_served(unsigned long before)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&mu);
	while (served == before)
		if (pthread_cond_timedwait(&cv, &mu, &ts) != 0)
			break;
	pthread_mutex_unlock(&mu);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct beltline_open_opts o = { .sz = sizeof(o), .run_dir = dir, .timeout_ms = 5000,
		.client = "fuzz" };
	unsigned long before;
	int fds0, rc;

	if (size < 2 || size > BL_CTL_MSG_MAX)
		return 0;
	pthread_mutex_lock(&mu);
	mode = fuzz_take(&data, &size, 1);
	n_sel = fuzz_take(&data, &size, 1) % (MAX_SEL + 1);
	for (unsigned int i = 0; i < n_sel; i++)
		sel[i] = (uint8_t)fuzz_take(&data, &size, 1);
	memcpy(reply_buf, data, size);
	reply_len = size;
	before = served;
	pthread_mutex_unlock(&mu);
	fds0 = fuzz_fds();

	if (mode & 1) {
		struct beltline_stream *s = NULL;
		struct beltline_pkt v[4];

		rc = beltline_open("beltline://f/web", &o, &s);
		FUZZ_CHECK((rc == 0) == (s != NULL) && rc <= 0 && rc > -4096, "open: %d", rc);
		if (s != NULL) {
			struct beltline_info info = { .sz = sizeof(info) };
			(void)beltline_peek(s, v, 4);
			FUZZ_CHECK(beltline_info(s, &info) == 0, "info");
			beltline_close(s);
		}
	} else {
		struct beltline_ctl *c = NULL;
		char *reply = NULL;

		rc = beltline_ctl_open("f", &o, &c);
		FUZZ_CHECK(rc == 0 && c != NULL, "ctl_open: %d", rc);
		rc = beltline_ctl_call(c, (enum beltline_ctl_op)(1 + (mode >> 1) % 4), "{}", &reply);
		FUZZ_CHECK(rc <= 0 && rc > -4096, "call: %d", rc);
		if (reply != NULL)
			FUZZ_CHECK(strlen(reply) < BL_CTL_MSG_MAX, "reply");
		free(reply);
		beltline_ctl_close(c);
	}
	wait_served(before);
	FUZZ_CHECK(fuzz_fds() == fds0, "%d descriptors before, %d after", fds0, fuzz_fds());
	return 0;
}
