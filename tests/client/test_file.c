/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libbeltline-client on pcap files: exact counts, bytes (FNV-1a of every
 * packet's bytes, computed independently from the files), peek/check/release
 * semantics, the copying read, URIs good and bad, and the log callback.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "beltline.h"

#ifndef BL_CORPUS
#error "BL_CORPUS (the tcpdump-tests corpus directory) comes from meson"
#endif
#define CORPUS(f) BL_CORPUS "/" f

static char last_log[512];
static int n_logs;

static void
capture_log(enum beltline_log_level lvl, const char *msg, void *ctx)
{
	(void)lvl;
	(void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	n_logs++;
}

static void
setup(void)
{
	last_log[0] = '\0';
	n_logs = 0;
	beltline_set_log(capture_log, NULL);
}

TestSuite(file, .init = setup);

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

struct expect {
	const char *file;
	unsigned packets;
	uint64_t bytes, wire, hash;
};

static const struct expect corpus[] = {
	{ "dns_tcp.pcap", 11, 922, 922, 0x6c7e4a63e785cd43ull },
	{ "afs.pcap", 601, 512276, 512276, 0x5a029f473f34dc9eull },
	{ "vxlan.pcap", 10, 1368, 1368, 0xea7954c60beb2a59ull },
	{ "802.1ad_QinQ.pcap", 2, 128, 128, 0x539200e57444eeull },
	{ "huge-tipc-messages.pcap", 13, 197557, 197557, 0xe6f47a93d665f59aull },
};

/* peek in bursts of `burst`, release all: every packet once, in order. */
static void
drain_peek(const struct expect *e, unsigned burst)
{
	struct beltline_stats st = { .sz = sizeof(st) };
	struct beltline_pkt v[64];
	struct beltline_stream *s;
	uint64_t bytes = 0, wire = 0, h = 0xcbf29ce484222325ull, next = 0;
	unsigned count = 0;
	int n;

	cr_assert_eq(beltline_open(e->file, NULL, &s), 0, "%s: %s", e->file, last_log);
	while ((n = beltline_peek(s, v, burst)) > 0) {
		for (int i = 0; i < n; i++) {
			cr_assert_eq(v[i].seq, next++);
			cr_assert_geq(v[i].len, v[i].caplen);
			cr_assert(v[i].flags & BELTLINE_PKT_F_TS);
			h = fnv(h, v[i].data, v[i].caplen);
			bytes += v[i].caplen;
			wire += v[i].len;
			cr_assert_eq(beltline_check(s, v[i].seq), 1);
		}
		cr_assert_eq(beltline_release(s, (unsigned)n), 0);
		count += (unsigned)n;
	}
	cr_assert_eq(n, 0, "%s: end of file is 0, got %d", e->file, n);
	cr_assert_eq(beltline_peek(s, v, burst), 0, "end of file stays the end");
	cr_assert_eq(count, e->packets, "%s: %u packets, want %u", e->file, count, e->packets);
	cr_assert_eq(bytes, e->bytes);
	cr_assert_eq(wire, e->wire);
	cr_assert_eq(h, e->hash, "%s: bytes differ", e->file);
	cr_assert_eq(beltline_stats(s, &st), 0);
	cr_assert_eq(st.received, e->packets);
	cr_assert_eq(st.lost + st.invalid, 0);
	beltline_close(s);
}

Test(file, peek_gives_every_packet_exactly)
{
	char path[512];

	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		struct expect e = corpus[i];
		snprintf(path, sizeof(path), "%s", CORPUS("") );
		strncat(path, corpus[i].file, sizeof(path) - strlen(path) - 1);
		e.file = path;
		drain_peek(&e, 1);
		drain_peek(&e, 7);
		drain_peek(&e, 64);
	}
}

Test(file, read_copies_every_packet_exactly)
{
	static uint8_t buf[262144];
	struct beltline_pkt_info info;
	struct beltline_stream *s;
	char path[512];

	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		uint64_t bytes = 0, h = 0xcbf29ce484222325ull;
		unsigned count = 0;
		int rc;

		snprintf(path, sizeof(path), "file:%s/%s", BL_CORPUS, corpus[i].file);
		cr_assert_eq(beltline_open(path, NULL, &s), 0, "%s: %s", path, last_log);
		while ((rc = beltline_read(s, buf, sizeof(buf), &info)) == 1) {
			cr_assert_eq(info.copied, info.caplen);
			cr_assert_eq(info.seq, count);
			h = fnv(h, buf, info.copied);
			bytes += info.copied;
			count++;
		}
		cr_assert_eq(rc, 0);
		cr_assert_eq(count, corpus[i].packets);
		cr_assert_eq(bytes, corpus[i].bytes);
		cr_assert_eq(h, corpus[i].hash);
		beltline_close(s);
	}
}

Test(file, peek_does_not_advance_and_release_does)
{
	struct beltline_pkt a[8], b[8];
	struct beltline_pkt_info info;
	struct beltline_stream *s;
	uint8_t buf[16];

	cr_assert_eq(beltline_open(CORPUS("dns_tcp.pcap"), NULL, &s), 0);
	cr_assert_eq(beltline_peek(s, a, 3), 3);
	cr_assert_eq(beltline_peek(s, b, 5), 5, "peeking again shows the same packets, and more");
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(b[i].seq, a[i].seq);
		cr_assert_eq(a[i].data, b[i].data, "views stay put until released");
		cr_assert_eq(a[i].caplen, b[i].caplen);
	}
	/* the first packet's capture time, from tcpdump -tt */
	cr_assert_eq(a[0].ts_ns, 1591780863720289000ull);
	cr_assert_eq(beltline_release(s, 6), -EINVAL, "release more than peeked");
	cr_assert(strstr(last_log, "release of 6") != NULL, "log: %s", last_log);
	cr_assert_eq(beltline_release(s, 2), 0);
	cr_assert_eq(beltline_peek(s, a, 8), 8);
	cr_assert_eq(a[0].seq, 2);
	/* a copying read gives the views up and takes the next packet, truncating */
	cr_assert_eq(beltline_read(s, buf, sizeof(buf), &info), 1);
	cr_assert_eq(info.seq, 2);
	cr_assert_eq(info.copied, sizeof(buf));
	cr_assert_gt(info.caplen, sizeof(buf));
	cr_assert_eq(beltline_release(s, 1), -EINVAL, "read gave up the views");
	cr_assert_eq(beltline_peek(s, a, 1), 1);
	cr_assert_eq(a[0].seq, 3);
	cr_assert_eq(beltline_peek(s, a, 0), -EINVAL);
	beltline_close(s);
}

Test(file, pcapng_and_info)
{
	struct beltline_info info = { .sz = sizeof(info) };
	struct beltline_pkt v[64];
	struct beltline_stream *s;
	unsigned count = 0;
	int n;

	cr_assert_eq(beltline_open("file://" CORPUS("OSPFv2_Capture_FINAL.pcapng"), NULL, &s), 0,
		"%s", last_log);
	cr_assert_eq(beltline_info(s, &info), 0);
	cr_assert_eq(info.kind, BELTLINE_KIND_FILE);
	cr_assert_eq(info.linktype, 1);
	cr_assert_str_eq(info.policy, "");
	while ((n = beltline_peek(s, v, 64)) > 0) {
		count += (unsigned)n;
		beltline_release(s, (unsigned)n);
	}
	cr_assert_eq(count, 30);
	beltline_close(s);
}

Test(file, fd_is_always_readable)
{
	struct beltline_stream *s;
	struct pollfd p = { .events = POLLIN };
	struct beltline_pkt v[64];
	int n;

	cr_assert_eq(beltline_open(CORPUS("vxlan.pcap"), NULL, &s), 0);
	p.fd = beltline_fd(s);
	cr_assert_geq(p.fd, 0);
	cr_assert_eq(poll(&p, 1, 0), 1);
	while ((n = beltline_peek(s, v, 64)) > 0)
		beltline_release(s, (unsigned)n);
	cr_assert_eq(poll(&p, 1, 0), 1, "still readable at the end (peek then says 0)");
	beltline_close(s);
}

struct bad {
	const char *uri;
	int rc;
	const char *log;
};

/* A capture cut short is an error (-EPROTO), not an end, whatever the burst: a peek that
 * took the whole records before the cut gives them, and every peek or read after says
 * -EPROTO, so a reader never takes a truncated file for a complete one. */
Test(file, truncated_file_is_an_error_at_any_burst)
{
	static const unsigned bursts[] = { 1, 7, 64 };
	char path[] = "/tmp/beltline-test-trunc-XXXXXX";
	struct beltline_pkt v[64];
	struct beltline_stream *s;
	char buf[500];
	FILE *in;
	int fd, n;

	in = fopen(CORPUS("IGMP_V2.pcap"), "rb");
	cr_assert_not_null(in);
	cr_assert_eq(fread(buf, 1, sizeof(buf), in), sizeof(buf));   /* 6 records whole, then a cut */
	fclose(in);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	for (size_t i = 0; i < sizeof(bursts) / sizeof(bursts[0]); i++) {
		unsigned got = 0;

		cr_assert_eq(beltline_open(path, NULL, &s), 0, "%s", last_log);
		while ((n = beltline_peek(s, v, bursts[i])) > 0) {
			got += (unsigned)n;
			cr_assert_eq(beltline_release(s, (unsigned)n), 0);
		}
		cr_assert_eq(n, -EPROTO, "burst %u: %d, not -EPROTO", bursts[i], n);
		cr_assert_eq(got, 6, "burst %u: %u packets", bursts[i], got);
		cr_assert(strstr(last_log, "truncated") != NULL, "%s", last_log);
		cr_assert_eq(beltline_peek(s, v, bursts[i]), -EPROTO, "the error stays");
		cr_assert_eq(beltline_read(s, buf, sizeof(buf), NULL), -EPROTO);
		beltline_close(s);
	}
	unlink(path);
}

Test(file, bad_sources_are_refused_with_a_reason)
{
	static const struct bad bad[] = {
		{ "", -EINVAL, "empty URI" },
		{ "beltline://", -EINVAL, "bad URI" },
		{ "beltline://inst", -EINVAL, "bad URI" },
		{ "beltline://inst/", -EINVAL, "bad URI" },
		{ "beltline:///web", -EINVAL, "bad URI" },
		{ "beltline://a/b/c", -EINVAL, "bad URI" },
		{ "beltline://../web", -EINVAL, "bad URI" },
		{ "beltline://in st/web", -EINVAL, "bad URI" },
		{ "beltline://inst/0123456789012345678901234567890123456789012345678", -EINVAL, "bad URI" },
		{ "http://example.com/x.pcap", -EINVAL, "unknown scheme" },
		{ "file:", -EINVAL, "empty file path" },
		{ "/nonexistent/x.pcap", -ENOENT, "No such file" },
		{ BL_CORPUS, -EISDIR, "directory" },
		{ CORPUS("LICENSE"), -EPROTO, "not a pcap file" },
		{ "beltline://beltline-test-absent/web", -ENOENT, "no instance 'beltline-test-absent'" },
	};
	struct beltline_stream *s = (void *)1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n_logs = 0;
		last_log[0] = '\0';
		cr_assert_eq(beltline_open(bad[i].uri, NULL, &s), bad[i].rc, "'%s': want %d",
			bad[i].uri, bad[i].rc);
		cr_assert_null(s);
		cr_assert_gt(n_logs, 0, "'%s' said nothing", bad[i].uri);
		/* the reason is in the first line logged or the last */
		cr_assert(strstr(last_log, bad[i].log) != NULL || n_logs > 1,
			"'%s': log '%s' lacks '%s'", bad[i].uri, last_log, bad[i].log);
	}
	cr_assert_eq(beltline_open(NULL, NULL, &s), -EINVAL);
	cr_assert_eq(beltline_open("x.pcap", NULL, NULL), -EINVAL);
}

Test(file, options_struct_is_size_checked)
{
	struct {
		struct beltline_open_opts o;
		char future[16];
	} big = { .o = { .sz = sizeof(big) } };
	struct beltline_stream *s;

	cr_assert_eq(beltline_open(CORPUS("vxlan.pcap"), &big.o, &s), 0, "zeros beyond are fine");
	beltline_close(s);
	big.future[3] = 1;
	cr_assert_eq(beltline_open(CORPUS("vxlan.pcap"), &big.o, &s), -EINVAL);
	cr_assert(strstr(last_log, "beltline_open_opts") != NULL);
	struct beltline_open_opts small = { .sz = 1 };
	cr_assert_eq(beltline_open(CORPUS("vxlan.pcap"), &small, &s), -EINVAL);
}

/* Misuse is refused with -EINVAL and a log line naming the call (beltline.h: the
 * callback says why a call failed), never silently: NULL handles and arguments, a count
 * of 0, a release with nothing peeked, an endpoint commit or release with nothing got. */
#define REFUSED(call, fn) do {							\
	n_logs = 0;								\
	last_log[0] = '\0';							\
	cr_assert_eq((call), -EINVAL, "%s", #call);				\
	cr_assert_eq(n_logs, 1, "%s said nothing", #call);			\
	cr_assert(strstr(last_log, fn ":") == last_log, "%s: '%s'", #call, last_log); \
} while (0)

Test(file, misuse_is_refused_with_a_log_line)
{
	struct beltline_stats st = { .sz = 0 };
	struct beltline_info info = { .sz = 0 };
	struct beltline_class c = { 0 };
	struct beltline_stream *s;
	struct beltline_pkt v[2];
	const void *cb;
	uint32_t len;
	char buf[8];
	void *b;

	REFUSED(beltline_open(CORPUS("vxlan.pcap"), NULL, NULL), "beltline_open");
	REFUSED(beltline_peek(NULL, v, 2), "beltline_peek");
	REFUSED(beltline_check(NULL, 0), "beltline_check");
	REFUSED(beltline_release(NULL, 1), "beltline_release");
	REFUSED(beltline_read(NULL, buf, sizeof(buf), NULL), "beltline_read");
	REFUSED(beltline_fd(NULL), "beltline_fd");
	REFUSED(beltline_stats(NULL, &st), "beltline_stats");
	REFUSED(beltline_info(NULL, &info), "beltline_info");
	cr_assert_eq(beltline_open(CORPUS("vxlan.pcap"), NULL, &s), 0);
	REFUSED(beltline_peek(s, NULL, 2), "beltline_peek");
	REFUSED(beltline_peek(s, v, 0), "beltline_peek");
	REFUSED(beltline_read(s, NULL, 10, NULL), "beltline_read");
	REFUSED(beltline_stats(s, &st), "beltline_stats");
	REFUSED(beltline_stats(s, NULL), "beltline_stats");
	REFUSED(beltline_info(s, &info), "beltline_info");
	beltline_close(s);
	REFUSED(beltline_open_write("beltline://t/w", NULL, NULL), "beltline_open_write");
	REFUSED(beltline_getwritebuf(NULL, &b, &len), "beltline_getwritebuf");
	REFUSED(beltline_commit(NULL, buf, 1), "beltline_commit");
	REFUSED(beltline_write_fd(NULL), "beltline_write_fd");
	REFUSED(beltline_write_flush(NULL, 0), "beltline_write_flush");
	REFUSED(beltline_write_stats(NULL, NULL), "beltline_write_stats");
	REFUSED(beltline_open_user("beltline://t/u", NULL, NULL), "beltline_open_user");
	REFUSED(beltline_take(NULL, v, 2), "beltline_take");
	REFUSED(beltline_give(NULL, &c, 1), "beltline_give");
	REFUSED(beltline_user_flush(NULL, 0), "beltline_user_flush");
	REFUSED(beltline_user_fd(NULL), "beltline_user_fd");
	REFUSED(beltline_user_stats(NULL, NULL), "beltline_user_stats");
	REFUSED(beltline_ep_listen("beltline://t/ep/e", NULL, NULL), "beltline_ep_listen");
	REFUSED(beltline_ep_accept(NULL, 0, NULL), "beltline_ep_accept");
	REFUSED(beltline_ep_listener_fd(NULL), "beltline_ep_listener_fd");
	REFUSED(beltline_ep_connect("beltline://t/ep/e", NULL, NULL), "beltline_ep_connect");
	REFUSED(beltline_ep_getwritebuf(NULL, 1, &b, 0), "beltline_ep_getwritebuf");
	REFUSED(beltline_ep_commit(NULL, buf, 1), "beltline_ep_commit");
	REFUSED(beltline_ep_getreadbuf(NULL, &cb, &len, 0), "beltline_ep_getreadbuf");
	REFUSED(beltline_ep_release(NULL, NULL), "beltline_ep_release");
	REFUSED(beltline_ep_forward(NULL, NULL, NULL, 0, 0), "beltline_ep_forward");
	REFUSED(beltline_ep_fd(NULL), "beltline_ep_fd");
	REFUSED(beltline_ep_stats(NULL, NULL), "beltline_ep_stats");
	REFUSED(beltline_ctl_open("t", NULL, NULL), "beltline_ctl_open");
	REFUSED(beltline_ctl_call(NULL, BELTLINE_CTL_LIST, NULL, NULL), "beltline_ctl_call");
}

Test(file, silent_by_default)
{
	struct beltline_stream *s;

	beltline_set_log(NULL, NULL);
	cr_assert_eq(beltline_open("beltline://bad name/x", NULL, &s), -EINVAL);
	cr_assert_eq(n_logs, 0);
}

/* The endpoint calls take their options by the same rule, over shared memory and tcp://
 * alike, before they touch anything (no appliance, no socket here). */
Test(file, endpoint_options_struct_is_size_checked)
{
	struct {
		struct beltline_ep_opts o;
		char future[16];
	} big = { .o = { .sz = sizeof(big) } };
	struct beltline_ep_opts small = { .sz = 1 };
	const char *uris[] = { "beltline://nosuchinstance/ep/x", "tcp://127.0.0.1:1" };
	struct beltline_ep_listener *l;
	struct beltline_ep *ep;

	big.future[3] = 1;
	for (unsigned i = 0; i < 2; i++) {
		last_log[0] = '\0';
		cr_assert_eq(beltline_ep_connect(uris[i], &big.o, &ep), -EINVAL, "%s", uris[i]);
		cr_assert(strstr(last_log, "beltline_ep_opts") != NULL, "%s: '%s'", uris[i], last_log);
		last_log[0] = '\0';
		cr_assert_eq(beltline_ep_listen(uris[i], &small, &l), -EINVAL, "%s", uris[i]);
		cr_assert(strstr(last_log, "beltline_ep_opts") != NULL, "%s: '%s'", uris[i], last_log);
	}
}

/* peer_user (who a connector's listener must be) is for beltline:// connect only, and
 * names a user that exists: refused before anything is opened otherwise. */
Test(file, endpoint_peer_user_is_for_shared_memory_connect_only)
{
	struct beltline_ep_opts o = { .sz = sizeof(o), .peer_user = "root" };
	struct beltline_ep_listener *l;
	struct beltline_ep *ep;

	last_log[0] = '\0';
	cr_assert_eq(beltline_ep_listen("beltline://nosuchinstance/ep/x", &o, &l), -EINVAL);
	cr_assert(strstr(last_log, "peer_user is for connect") != NULL, "'%s'", last_log);
	last_log[0] = '\0';
	cr_assert_eq(beltline_ep_connect("tcp://127.0.0.1:1", &o, &ep), -EINVAL);
	cr_assert(strstr(last_log, "only for beltline://") != NULL, "'%s'", last_log);
	o.peer_user = "no-such-user-here";
	last_log[0] = '\0';
	cr_assert_eq(beltline_ep_connect("beltline://nosuchinstance/ep/x", &o, &ep), -EINVAL);
	cr_assert(strstr(last_log, "no such user") != NULL, "'%s'", last_log);
	o.peer_user = "0";   /* a number will do: on to the instance, which is not running */
	cr_assert_eq(beltline_ep_connect("beltline://nosuchinstance/ep/x", &o, &ep), -ENOENT);
}
