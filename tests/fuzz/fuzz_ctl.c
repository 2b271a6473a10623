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
 * Refusals (issue 15 point 3; docs/control.md): a well-formed request (magic
 * and version right) whose body holds a NUL in a string or key (raw or
 * \u0000), a key twice in one object (at any depth), anything but JSON white
 * space after its value, or a value that is not an object, gets a negative
 * status and no descriptor: never a list or an attach. The harness finds
 * these with a scanner of its own (strict JSON; a body it cannot read is left
 * to the other oracles). Notices: the server closes a connection only after
 * a request that is not well formed, or with a notice (op 0, id 0, negative
 * status); every well-formed request before that is answered.
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
#include "edit.h"
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

int
bl_app_reload(struct bl_app *a, const char *path, struct bl_err *err)
{
	(void)a;
	return bl_err_set(err, -EINVAL, "%s: no reload in the fuzzer", path ? path : "(none)");
}

int
bl_app_edit(struct bl_app *a, const struct bl_edit *ed, char *name, size_t name_len,
	    struct bl_err *err)
{
	(void)a;
	(void)name;
	(void)name_len;
	return bl_err_set(err, -EINVAL, "graphs[%u]: no edit in the fuzzer", ed->graph);
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
	int refuse;     /* the body must be refused (scan below) */
	int answered;
};

/* ---- a strict JSON scanner: what the server must refuse ----------------------- */

struct scan {
	const uint8_t *p, *end;
	int bad;        /* not JSON this scanner reads: no verdict */
	int nul;        /* a string or key holds a NUL */
	int twice;      /* an object has a key twice */
	unsigned int depth;
};

static int
is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && is_ws(*s->p))
		s->p++;
}

static int
hex4(struct scan *s, unsigned int *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++, s->p++) {
		uint8_t c = s->p < s->end ? *s->p : 0;
		unsigned int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				 c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
		if (s->p >= s->end || d == 16)
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

/* A string after its '"'; its decoded bytes in out (up to cap; *n may pass cap: not compared). */
static void
scan_string(struct scan *s, uint8_t *out, size_t cap, size_t *n, int *comparable)
{
	*n = 0;
	*comparable = 1;
	while (s->p < s->end && *s->p != '"') {
		unsigned int c = *s->p++;
		int escaped = 0;

		if (c == '\\') {
			if (s->p >= s->end) {
				s->bad = 1;
				return;
			}
			escaped = 1;
			c = *s->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (hex4(s, &c) != 0) {
					s->bad = 1;
					return;
				}
				if (c >= 0xd800 && c <= 0xdfff)
					*comparable = 0;   /* pairs: cJSON's UTF-8, not worth redoing here */
				break;
			default:
				s->bad = 1;
				return;
			}
		}
		if (c == 0)
			s->nul = 1;
		/* As cJSON decodes: a raw byte stays itself, an escape becomes its UTF-8. */
		uint8_t u[3];
		size_t k = !escaped || c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
		if (k == 1) {
			u[0] = (uint8_t)c;
		} else if (k == 2) {
			u[0] = (uint8_t)(0xc0 | c >> 6);
			u[1] = (uint8_t)(0x80 | (c & 0x3f));
		} else {
			u[0] = (uint8_t)(0xe0 | c >> 12);
			u[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			u[2] = (uint8_t)(0x80 | (c & 0x3f));
		}
		for (size_t i = 0; i < k; i++, (*n)++)
			if (*n < cap)
				out[*n] = u[i];
	}
	if (s->p >= s->end)
		s->bad = 1;
	else
		s->p++;
}

static void scan_value(struct scan *s);

static void
scan_object(struct scan *s)
{
	enum { KEYS = 64, KEY_MAX = 64 };
	static uint8_t keys_at[1100][KEYS][KEY_MAX];   /* one table per depth */
	size_t len[KEYS];
	unsigned int n = 0;

	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return;
	}
	for (;;) {
		uint8_t key[KEY_MAX];
		size_t kn;
		int cmp;

		skip_ws(s);
		if (s->p >= s->end || *s->p != '"') {
			s->bad = 1;
			return;
		}
		s->p++;
		scan_string(s, key, sizeof(key), &kn, &cmp);
		if (s->bad)
			return;
		if (cmp && kn <= KEY_MAX) {
			for (unsigned int i = 0; i < n && i < KEYS; i++)
				if (len[i] == kn && memcmp(keys_at[s->depth][i], key, kn) == 0)
					s->twice = 1;
			if (n < KEYS) {
				memcpy(keys_at[s->depth][n], key, kn);
				len[n++] = kn;
			}
		}
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':') {
			s->bad = 1;
			return;
		}
		s->p++;
		scan_value(s);
		if (s->bad)
			return;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return;
		}
		s->bad = 1;
		return;
	}
}

static void
scan_value(struct scan *s)
{
	static const char *const words[] = { "true", "false", "null" };

	skip_ws(s);
	if (s->p >= s->end || ++s->depth >= 1000) {
		s->bad = 1;
		return;
	}
	if (*s->p == '{') {
		s->p++;
		scan_object(s);
	} else if (*s->p == '[') {
		s->p++;
		skip_ws(s);
		if (s->p < s->end && *s->p == ']') {
			s->p++;
		} else {
			for (;;) {
				scan_value(s);
				skip_ws(s);
				if (s->bad || s->p >= s->end || (*s->p != ',' && *s->p != ']')) {
					s->bad = 1;
					break;
				}
				if (*s->p++ == ']')
					break;
			}
		}
	} else if (*s->p == '"') {
		uint8_t dummy[1];
		size_t n;
		int cmp;

		s->p++;
		scan_string(s, dummy, 0, &n, &cmp);
	} else if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) {
		while (s->p < s->end && strchr("+-.eE0123456789", *s->p) != NULL && *s->p != 0)
			s->p++;
	} else {
		unsigned int i;

		for (i = 0; i < 3; i++) {
			size_t l = strlen(words[i]);
			if ((size_t)(s->end - s->p) >= l && memcmp(s->p, words[i], l) == 0) {
				s->p += l;
				break;
			}
		}
		if (i == 3)
			s->bad = 1;
	}
	s->depth--;
}

/* Must the server refuse this body? (0 when it is fine or this scanner cannot tell.) */
static int
must_refuse(const uint8_t *body, size_t len)
{
	struct scan s = { .p = body, .end = body + len };
	int object;

	skip_ws(&s);
	object = s.p < s.end && *s.p == '{';
	scan_value(&s);
	if (s.bad)
		return 0;
	skip_ws(&s);
	return s.nul || s.twice || s.p != s.end || !object;
}

/* Read every reply waiting on c; check each against what was sent. */
static unsigned int
replies(int c, struct sent *sent, unsigned int n_sent, unsigned int got, int *eof, int *notice)
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

		if (r == 0)
			*eof = 1;
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
		if (h.op == 0 && h.id == 0 && h.status < 0 &&
		    (got >= n_sent || sent[got].op != 0 || sent[got].id != 0)) {
			*notice = 1;    /* the server closes this connection, saying why */
			FUZZ_CHECK(n_fds == 0, "a notice with descriptors");
			continue;
		}
		FUZZ_CHECK(got < n_sent, "more replies than requests");
		FUZZ_CHECK(h.op == sent[got].op && h.id == sent[got].id,
			   "reply %u: op %u id %u, request op %u id %u", got, h.op, h.id, sent[got].op,
			   sent[got].id);
		sent[got].answered = 1;
		FUZZ_CHECK(!sent[got].refuse || (h.status < 0 && n_fds == 0),
			   "request %u (op %u) has a NUL in a string, a key twice or bytes after its "
			   "object, and got status %d with %u descriptors", got, h.op, h.status, n_fds);
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
	int c, fds0 = fuzz_fds(), eof = 0, notice = 0;

	c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		FUZZ_FAIL("connect %s", sock_path);
	bl_ctl_tick(ctl, 0);   /* accept */
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
		/* Well formed: the server answers it (above BL_CTL_MSG_MAX it closes: not ours). */
		sent[n].valid = len >= sizeof(h) && len <= BL_CTL_MSG_MAX && h.magic == BL_CTL_MAGIC &&
				h.version == BL_CTL_VERSION;
		sent[n].refuse = sent[n].valid && must_refuse(msg + sizeof(h), len - sizeof(h));
		sent[n].answered = 0;
		if (send(c, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;
		n++;
		bl_ctl_tick(ctl, 0);
		got = replies(c, sent, n, got, &eof, &notice);
	}
	for (int i = 0; i < 3; i++) {
		bl_ctl_tick(ctl, 0);
		got = replies(c, sent, n, got, &eof, &notice);
	}
	/* Every well-formed request up to the first that is not gets its reply, or a notice came. */
	for (unsigned int i = 0; i < n && sent[i].valid && !notice; i++)
		FUZZ_CHECK(sent[i].answered, "request %u (op %u id %u) was well formed and got no reply "
			   "%s", i, sent[i].op, sent[i].id,
			   eof ? "(the server closed the connection without a notice)" : "");
	close(c);
	bl_ctl_tick(ctl, 0);   /* the server sees the close: the lease ends */
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
