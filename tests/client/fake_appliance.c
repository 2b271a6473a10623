/* SPDX-License-Identifier: BSD-3-Clause */
/* fake_appliance — see fake_appliance.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bl_stream_proto.h"
#include "bl_shm_abi.h"
#include "fake_appliance.h"

/* A packet DBuf region as bl_dbuf lays it out: header, object table, objects. */
struct bl_shm *
fake_dbuf(void)
{
	struct bl_shm_opts so = { .sz = sizeof(so), .name = "test.dbuf", .size = 4096 + N_OBJS * OBJ_SIZE,
		.flags = BL_SHM_F_NO_HUGE, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600 };
	struct bl_shm *d;
	struct bl_dbuf_hdr *h;
	uint64_t *objtab;

	if (bl_shm_create(&so, &d, NULL) < 0)
		return NULL;
	h = d->base;
	h->magic = BL_DBUF_MAGIC;
	h->version = BL_SHM_ABI_VERSION;
	h->hdr_size = sizeof(*h);
	h->id = DBUF_ID;
	h->kind = BL_DBUF_PKT;
	h->n_objs = N_OBJS;
	h->obj_size = OBJ_SIZE;
	h->page_size = 4096;
	h->region_size = d->size;
	h->off_objtab = sizeof(*h);
	h->off_data = 4096;
	h->data_size = N_OBJS * OBJ_SIZE;
	objtab = (uint64_t *)((char *)d->base + h->off_objtab);
	for (unsigned i = 0; i < N_OBJS; i++) {
		objtab[i] = 4096 + i * OBJ_SIZE;
		memset((char *)d->base + objtab[i], 'a' + (int)i, OBJ_SIZE);
	}
	return d;
}

struct bl_ibuf *
fake_ibuf(uint32_t policy, uint32_t cap)
{
	struct bl_ibuf_opts o = { .sz = sizeof(o), .name = "test.web", .capacity = cap,
		.policy = policy, .max_readers = 2, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0600 };
	struct bl_ibuf *ib;
	struct bl_err err;

	if (bl_ibuf_create(&o, &ib, &err) < 0) {
		fprintf(stderr, "fake_ibuf: %s\n", err.msg);
		return NULL;
	}
	return ib;
}

static void
fake_reply(int fd, const struct bl_ctl_hdr *req, int status, const char *body, const int *fds,
	unsigned n)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} cm;
	struct bl_ctl_hdr h = *req;
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, strlen(body) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	memset(&cm, 0, sizeof(cm));
	h.status = status;
	h.n_fds = n;
	h.len = (uint32_t)strlen(body);
	if (n > 0) {
		m.msg_control = cm.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* A memfd of size bytes, data at offset 0; -1 on failure. */
static int
fake_memfd(const char *name, size_t size, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 || pwrite(fd, data, len, 0) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A reader's attach is granted on connection c: with f->wake, a wake eventfd for it, our
 * end kept in f->wake_fd (-1: none; the one before closed). Stored before the reply goes,
 * so the client that has its reply sees them (release: pairs with the acquire loads of
 * the test's thread, fake_drop).
 */
static int
fake_granted(struct fake *f, int c)
{
	int efd = f->wake ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
	int old = __atomic_exchange_n(&f->wake_fd, efd, __ATOMIC_ACQ_REL);

	if (old >= 0)
		close(old);
	__atomic_store_n(&f->reader_c, c, __ATOMIC_RELEASE);
	return efd;
}

/* attach_verdict: a reader as attach gives, plus a verdict ring of FAKE_VCAP descriptors
 * and a tail page whose `ignored` is FAKE_VIGNORED (docs/control.md). */
static void
fake_verdict(struct fake *f, int c, const struct bl_ctl_hdr *h)
{
	struct bl_vring_hdr vh = { .magic = BL_VRING_MAGIC, .version = BL_SHM_ABI_VERSION,
		.capacity = FAKE_VCAP, .off_desc = BL_SHM_META_PAGE,
		.region_size = 2 * BL_SHM_META_PAGE };
	struct bl_vring_tail vt = { .ignored = FAKE_VIGNORED };
	struct bl_ibuf_fds fds;
	int idx = bl_ibuf_reader_alloc(f->ib, 0);
	char body[220];

	bl_ibuf_reader_fds(f->ib, (unsigned)idx, &fds);
	int v[6] = { fds.ring_fd, fds.page_fd, bl_shm_ro_fd(f->d),
		fake_memfd("fake-vring", vh.region_size, &vh, sizeof(vh)),
		fake_memfd("fake-vtail", BL_SHM_META_PAGE, &vt, sizeof(vt)), fake_granted(f, c) };
	snprintf(body, sizeof(body), "{\"stream\":\"ips\",\"reader\":%d,\"linktype\":1,"
		"\"vring_capacity\":%u,\"fds\":[\"ring\",\"page\",\"dbuf\",\"vring\",\"vtail\"%s]}",
		idx, FAKE_VCAP, v[5] >= 0 ? ",\"wake\"" : "");
	fake_reply(c, h, 0, body, v, v[5] >= 0 ? 6 : 5);
	__atomic_store_n(&f->attached, 1, __ATOMIC_RELEASE);
	close(v[0]);
	close(v[2]);
	close(v[3]);
	close(v[4]);
}

struct fake_conn {
	struct fake *f;
	int c;
};

/* The connections fake_stop hangs up (as the appliance's stop does), so their threads end:
 * an attached client waits for the hangup, and the thread for the client's. */
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;

static void
conn_remember(struct fake *f, int c)
{
	pthread_mutex_lock(&conn_lock);
	for (unsigned i = 0; i < sizeof(f->conn_fd1) / sizeof(f->conn_fd1[0]); i++)
		if (f->conn_fd1[i] == 0) {
			f->conn_fd1[i] = c + 1;
			break;
		}
	pthread_mutex_unlock(&conn_lock);
}

static void
conn_forget(struct fake *f, int c)
{
	pthread_mutex_lock(&conn_lock);
	for (unsigned i = 0; i < sizeof(f->conn_fd1) / sizeof(f->conn_fd1[0]); i++)
		if (f->conn_fd1[i] == c + 1)
			f->conn_fd1[i] = 0;
	pthread_mutex_unlock(&conn_lock);
}

static void
conn_hangup_all(struct fake *f)
{
	pthread_mutex_lock(&conn_lock);
	for (unsigned i = 0; i < sizeof(f->conn_fd1) / sizeof(f->conn_fd1[0]); i++)
		if (f->conn_fd1[i] != 0)
			shutdown(f->conn_fd1[i] - 1, SHUT_RDWR);
	pthread_mutex_unlock(&conn_lock);
}

/* One thread per connection: an attached reader keeps its connection open. */
static void *
fake_conn(void *arg)
{
	struct fake_conn *fc = arg;
	struct fake *f = fc->f;
	int c = fc->c;
	char buf[4096];

	free(fc);
	{
		for (;;) {
			ssize_t r = recv(c, buf, sizeof(buf) - 1, 0);
			struct bl_ctl_hdr h;
			if (r <= 0) {
				if (r == 0 && c != __atomic_load_n(&f->dropped_c, __ATOMIC_ACQUIRE))
					__atomic_fetch_add(&f->saw_hangup, 1, __ATOMIC_SEQ_CST);
				break;
			}
			memcpy(&h, buf, sizeof(h));
			buf[r] = '\0';
			__atomic_fetch_add(&f->served, 1, __ATOMIC_SEQ_CST);
			if (h.op == BL_CTL_LIST) {
				fake_reply(c, &h, 0, "{\"instance\":\"t\",\"streams\":[{\"name\":\"web\","
					"\"policy\":\"srp\",\"capacity\":16,\"readers\":0}]}", NULL, 0);
			} else if (h.op == BL_CTL_STATS && f->with_stats) {
				fake_reply(c, &h, 0, "{\"instance\":\"t\",\"uptime_s\":12,"
					"\"ports\":[{\"name\":\"p0\",\"rx\":100,\"tx\":90,\"rx_missed\":0}],"
					"\"streams\":[{\"name\":\"web\",\"policy\":\"srp\",\"written\":40,"
					"\"dropped\":2,\"readers\":[{\"reader\":0,\"pid\":77,\"lag\":3,"
					"\"lost\":0}]}]}", NULL, 0);
			} else if (h.op == BL_CTL_ATTACH && f->refuse) {
				fake_reply(c, &h, -EACCES, "{\"error\":\"uid 1000 may not read web "
					"(owner root, group beltline, mode 0640)\"}", NULL, 0);
			} else if (h.op == BL_CTL_ATTACH) {
				struct bl_ibuf_fds fds;
				int idx = bl_ibuf_reader_alloc(f->ib, 0);
				snprintf(f->attach_body, sizeof(f->attach_body), "%s", buf + sizeof(h));
				bl_ibuf_reader_fds(f->ib, (unsigned)idx, &fds);
				int v[4] = { fds.ring_fd, fds.page_fd, bl_shm_ro_fd(f->d),
					fake_granted(f, c) };
				char body[160];
				snprintf(body, sizeof(body), "{\"stream\":\"web\",\"reader\":%d,\"linktype\":1,"
					"\"fds\":[\"ring\",\"page\",\"dbuf\"%s]}", idx,
					v[3] >= 0 ? ",\"wake\"" : "");
				fake_reply(c, &h, 0, body, v, v[3] >= 0 ? 4 : 3);
				__atomic_store_n(&f->attached, 1, __ATOMIC_RELEASE);
				close(v[0]);
				close(v[2]);
			} else if (h.op == BL_CTL_ATTACH_VERDICT) {
				fake_verdict(f, c, &h);
			} else {
				fake_reply(c, &h, -EOPNOTSUPP, "{\"error\":\"unknown op\"}", NULL, 0);
			}
		}
		conn_forget(f, c);
		close(c);
	}
	/* The last touch of f: fake_stop waits for it (release: pairs with its acquire). */
	__atomic_fetch_sub(&f->conns, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *
fake_serve(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		struct fake_conn *fc = malloc(sizeof(*fc));
		pthread_t t;
		fc->f = f;
		fc->c = accept(f->lfd, NULL, NULL);
		if (fc->c < 0) {
			free(fc);
			return NULL;
		}
		__atomic_fetch_add(&f->conns, 1, __ATOMIC_RELAXED);   /* fake_stop waits for 0 */
		conn_remember(f, fc->c);
		if (pthread_create(&t, NULL, fake_conn, fc) != 0) {
			__atomic_fetch_sub(&f->conns, 1, __ATOMIC_RELAXED);
			conn_forget(f, fc->c);
			close(fc->c);
			free(fc);
			continue;
		}
		pthread_detach(t);
	}
}

int
fake_start(struct fake *f, pthread_t *t)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/blc-test.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	return fake_start_in(f, t);
}

/* Like fake_start, in the existing directory f->dir. */
int
fake_start_in(struct fake *f, pthread_t *t)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char inst[160];

	f->wake_fd = f->reader_c = f->dropped_c = -1;
	snprintf(inst, sizeof(inst), "%s/t", f->dir);
	if (mkdir(inst, 0700) < 0)
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/t/ctl", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 4) < 0)
		return -1;
	f->d = fake_dbuf();
	f->ib = fake_ibuf(BL_IBUF_SRP, f->capacity ? f->capacity : 16);
	if (f->d == NULL || f->ib == NULL)
		return -1;
	return pthread_create(t, NULL, fake_serve, f) == 0 ? 0 : -1;
}

void
fake_stop(struct fake *f, pthread_t t)
{
	char inst[160];

	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(t, NULL);
	/* Each connection's thread reads f (often on the test's stack) and its ring to the
	 * end: a test whose clients are closed returns only once they are done. It did not
	 * wait: a thread still seeing its client's hangup wrote into the stack of a test that
	 * had returned (Criterion: "crashed during its setup or teardown", 1 run in 10).
	 * Each is hung up first, as the appliance's stop does (a client attached waits for
	 * it); bounded all the same, 30 s (tests/README.md). */
	conn_hangup_all(f);
	for (int i = 0; i < 30000 && __atomic_load_n(&f->conns, __ATOMIC_ACQUIRE) != 0; i++)
		usleep(1000);
	close(f->lfd);
	unlink(f->sock);
	snprintf(inst, sizeof(inst), "%s/t", f->dir);
	rmdir(inst);
	rmdir(f->dir);
	bl_ibuf_free(f->ib);
	bl_shm_free(f->d);
	if (f->wake_fd >= 0)
		close(f->wake_fd);
}

int
fake_drop(struct fake *f)
{
	static const char why[] = "{\"error\":\"stream removed: \\\"web\\\" is not in the "
		"appliance's new config\"}";
	struct bl_ctl_hdr h = { .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION,
		.op = BL_CTL_NOTICE, .status = -ENOENT };
	int c = __atomic_load_n(&f->reader_c, __ATOMIC_ACQUIRE);

	if (c < 0)
		return -1;
	__atomic_store_n(&f->dropped_c, c, __ATOMIC_RELEASE);  /* not the client's hangup */
	fake_reply(c, &h, -ENOENT, why, NULL, 0);
	/* Its thread, in recv, returns 0 and closes c: the client sees the hangup from here. */
	return shutdown(c, SHUT_RDWR);
}

