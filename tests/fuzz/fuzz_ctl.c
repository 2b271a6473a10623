/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl — the control server's request handling (app/beltlined/ctl.c),
 * driven the way a client drives it: the server is started on a folder of
 * its own (BELTLINE_RUN_DIR), one connection per input sends the input's
 * requests, bl_ctl_tick serves them, the connection closes, a last tick
 * detaches. The appliance around it is a stub: no ports, no workers, and two
 * streams from one graph (`gen | export name=web; ... export name=priv`), on
 * EAL without hugepages.
 *
 * Input: up to 8 requests, each u16 (big-endian) length then that many bytes;
 *   if the length's top bit is set the request's header gets the right magic,
 *   version, len, n_fds and status (so the body is what is fuzzed), and a
 *   request shorter than a header is padded to one.
 * Oracles: the server never crashes, never reads past a request; every reply
 * is one well-formed message (magic, version, the request's op and id, len =
 * the bytes after the header, status 0 or -errno, n_fds = the descriptors
 * that came with it, a JSON object body); a closed connection's reader is
 * detached (no stream keeps a reader); no descriptor leaks.
 *
 * The server loop itself is unchanged (another branch reworks its request
 * parsing, h-ctl): this harness goes through the socket and needs no hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <rte_cycles.h>

#include "app.h"
#include "bl_stream_proto.h"
#include "bl_dbuf.h"
#include "bl_dbuf_perm.h"
#include "bl_stream.h"
#include "bl_graph.h"
#include "bl_ibuf.h"
#include "bl_pipe.h"
#include "ctl.h"
#include "fuzz.h"
#include "fuzz_eal.h"
#include "reaper.h"

/* ---- stubs for what ctl.c uses of the rest of beltlined ------------------ */

void
bl_reaper_note(enum bl_reaper_kind kind, const char *path)
{
	(void)kind;
	(void)path;
}

void
bl_app_filter_json(const struct bl_graph *g, const struct bl_filter *f, struct cJSON *o)
{
	(void)g;
	(void)f;
	(void)o;
}

void
bl_app_edge_json(const struct bl_edge_rt *e, struct cJSON *o)
{
	(void)e;
	(void)o;
}

/* ---- the server ------------------------------------------------------------ */

static struct bl_app app;
static struct bl_ctl *ctl;
static struct bl_graph *graph;
static char run_dir[64], sock_path[160], inst_dir[128];

static void
cleanup(void)
{
	bl_ctl_stop(ctl);   /* removes the socket and its folder */
	rmdir(inst_dir);
	rmdir(run_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct bl_pipe_opts opts = { .filters = bl_filter_names() };
	const struct bl_dbuf_pkt_opts po = {
		.sz = sizeof(po), .name = "fuzz_pkts", .n_mbufs = 511, .cache_size = 0,
		.shm_flags = BL_SHM_F_NO_HUGE, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	struct bl_graph_env env;
	struct bl_dbuf *pkt;
	struct bl_gdesc d;
	struct bl_err err = { 0 };

	(void)argc;
	(void)argv;
	fuzz_eal();
	if (bl_graph_global_init(&err) != 0 || bl_dbuf_pkt_create(&po, &pkt, &err) != 0)
		FUZZ_FAIL("setup: %s", err.msg);
	memset(&env, 0, sizeof(env));
	env.pool = pkt->mp;
	env.dbuf = pkt;
	env.n_replicas = 1;
	env.burst = 32;
	bl_gdesc_init(&d);
	if (bl_pipe_parse("gen | export name=web capacity=16 max_readers=8; "
			  "gen | export name=priv policy=frp mode=0600 capacity=16", &opts, &d, &err) != 0 ||
	    bl_graph_build(&d, &env, &graph, &err) != 0)
		FUZZ_FAIL("graph: %s", err.msg);
	bl_gdesc_free(&d);

	snprintf(run_dir, sizeof(run_dir), "/tmp/blfuzz-ctl-XXXXXX");
	if (mkdtemp(run_dir) == NULL)
		FUZZ_FAIL("mkdtemp");
	setenv("BELTLINE_RUN_DIR", run_dir, 1);
	bl_cfg_defaults(&app.cfg);
	snprintf(app.cfg.instance, sizeof(app.cfg.instance), "fz%d", (int)getpid());
	app.cfg.ctl_mode = 0600;
	app.cfg.ctl_gid = -1;
	app.start_tsc = rte_get_tsc_cycles();
	snprintf(inst_dir, sizeof(inst_dir), "%s/%s", run_dir, app.cfg.instance);
	snprintf(sock_path, sizeof(sock_path), "%s/%s", inst_dir, BL_CTL_SOCKET);
	if (bl_ctl_start(&app, &ctl) != 0)
		FUZZ_FAIL("bl_ctl_start");
	atexit(cleanup);
	return 0;
}

/* ---- one input ---------------------------------------------------------------- */

#define MAX_REQ 8

struct sent {
	uint16_t op;
	uint32_t id;
	int valid;      /* magic and version right: a reply is due */
};

/* Read every reply waiting on c; check each against what was sent. */
static unsigned int
replies(int c, const struct sent *sent, unsigned int n_sent, unsigned int got)
{
	static uint8_t buf[BL_CTL_MSG_MAX + 1];

	for (;;) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int) * BL_CTL_FDS_MAX)];
		} cm;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			.msg_controllen = sizeof(cm.b) };
		struct bl_ctl_hdr h;
		unsigned int n_fds = 0;
		ssize_t r = recvmsg(c, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		cJSON *j;

		if (r <= 0)
			return got;
		for (struct cmsghdr *ch = CMSG_FIRSTHDR(&m); ch != NULL; ch = CMSG_NXTHDR(&m, ch)) {
			unsigned int k = (unsigned int)((ch->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (unsigned int i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(ch) + i * sizeof(int), sizeof(int));
				close(fd);
				n_fds++;
			}
		}
		FUZZ_CHECK(!(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)), "a reply was cut");
		FUZZ_CHECK((size_t)r >= sizeof(h), "a reply of %zd bytes", r);
		memcpy(&h, buf, sizeof(h));
		FUZZ_CHECK(h.magic == BL_CTL_MAGIC && h.version == BL_CTL_VERSION, "reply magic/version");
		FUZZ_CHECK(h.len == (size_t)r - sizeof(h), "reply len %u, %zd bytes", h.len, r);
		FUZZ_CHECK(h.n_fds == n_fds, "reply says %u fds, %u came", h.n_fds, n_fds);
		FUZZ_CHECK(h.status <= 0 && h.status > -4096, "reply status %d", h.status);
		/* Replies come in order, one per request with a good magic and version. */
		while (got < n_sent && !sent[got].valid)
			got++;
		FUZZ_CHECK(got < n_sent, "more replies than requests");
		FUZZ_CHECK(h.op == sent[got].op && h.id == sent[got].id,
			   "reply %u: op %u id %u, request op %u id %u", got, h.op, h.id, sent[got].op,
			   sent[got].id);
		got++;
		if (getenv("FUZZ_VERBOSE") != NULL)
			fprintf(stderr, "reply op %u status %d fds %u: %.*s\n", h.op, h.status, n_fds,
				(int)h.len, (const char *)buf + sizeof(h));
		j = cJSON_ParseWithLength((const char *)buf + sizeof(h), h.len);
		FUZZ_CHECK(cJSON_IsObject(j), "reply body is not a JSON object: %.*s", (int)h.len,
			   (const char *)buf + sizeof(h));
		FUZZ_CHECK(h.status == 0 || cJSON_IsString(cJSON_GetObjectItem(j, "error")),
			   "an error reply without \"error\"");
		cJSON_Delete(j);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[BL_CTL_MSG_MAX + 64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sent sent[MAX_REQ];
	unsigned int n = 0, got = 0;
	int c, fds0 = fuzz_fds();

	c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		FUZZ_FAIL("connect %s", sock_path);
	bl_ctl_tick(ctl);   /* accept */
	while (size > 0 && n < MAX_REQ) {
		uint32_t w = fuzz_take(&data, &size, 2);
		size_t len = w & 0x7fff;
		struct bl_ctl_hdr h;

		if (len > size)
			len = size;
		memcpy(msg, data, len);
		data += len;
		size -= len;
		if (w & 0x8000) {
			if (len < sizeof(h)) {
				memset(msg + len, 0, sizeof(h) - len);
				len = sizeof(h);
			}
			memcpy(&h, msg, sizeof(h));
			h.magic = BL_CTL_MAGIC;
			h.version = BL_CTL_VERSION;
			h.len = (uint32_t)(len - sizeof(h));
			h.n_fds = 0;
			h.status = 0;
			memcpy(msg, &h, sizeof(h));
		}
		memset(&h, 0, sizeof(h));
		memcpy(&h, msg, len < sizeof(h) ? len : sizeof(h));
		sent[n].op = h.op;
		sent[n].id = h.id;
		sent[n].valid = len >= sizeof(h) && h.magic == BL_CTL_MAGIC && h.version == BL_CTL_VERSION;
		n++;
		if (send(c, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;
		bl_ctl_tick(ctl);
		got = replies(c, sent, n, got);
	}
	bl_ctl_tick(ctl);
	got = replies(c, sent, n, got);
	close(c);
	bl_ctl_tick(ctl);   /* the server sees the close: the lease ends */
	for (unsigned int i = 0; i < 2; i++) {
		struct bl_stream *x = bl_stream_find(BL_STREAM_EXPORT, i == 0 ? "web" : "priv");
		struct bl_ibuf_stats st;

		FUZZ_CHECK(x != NULL, "stream gone");
		bl_ibuf_stats(x->ib, &st);
		FUZZ_CHECK(st.n_active == 0, "%s keeps %u readers after the connection closed", x->name,
			   (unsigned int)st.n_active);
	}
	FUZZ_CHECK(fuzz_fds() == fds0, "%d descriptors before, %d after", fds0, fuzz_fds());
	return 0;
}
