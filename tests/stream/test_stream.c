/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stream layer's control side (lib/stream/bl_stream.h), without a filter
 * or a socket: the attach sequence (permission, policy, room, descriptors) and
 * its rollback with a failure at every step, the reader page an attach gets,
 * what ls and stats show. EAL comes up in each test's process (harness_eal).
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bl_dbuf.h"
#include "bl_ibuf.h"
#include "bl_stream.h"
#include "bl_stream_worker.h"
#include "harness.h"

static struct bl_dbuf *pkt;

static void
setup(void)
{
	struct bl_dbuf_pkt_opts o = {
		.sz = sizeof(o), .name = "test_stream_pkts", .n_mbufs = 1023, .cache_size = 0,
		.shm_flags = BL_SHM_F_NO_HUGE, .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	struct bl_err err;

	harness_eal();
	cr_assert(eq(int, bl_dbuf_pkt_create(&o, &pkt, &err), 0), "%s", err.msg);
}

static void
teardown(void)
{
	bl_dbuf_free(pkt);
	pkt = NULL;
}

TestSuite(stream, .init = setup, .fini = teardown, .timeout = 30);

static struct bl_stream *
make(const char *name, uint32_t policy, uint32_t max_readers)
{
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = name, .pkt = pkt,
		.policy = policy, .capacity = 64, .max_readers = max_readers,
		.uid = geteuid(), .gid = getegid(), .mode = 0640, .wake_count = 1,
	};
	struct bl_stream *s = NULL;
	struct bl_err err;

	cr_assert(eq(int, bl_stream_create(&o, &s, &err), 0), "%s", err.msg);
	return s;
}

static struct bl_stream_cred
me(void)
{
	struct bl_stream_cred who = { .uid = geteuid(), .gid = getegid(), .pid = getpid(),
		.wake_channel = 1 };   /* as the library asks */

	return who;
}

/* The lowest free descriptor number: what the next open gets. */
static int
next_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

/* Descriptors open now (a replaced reader page may take another number). */
static int
open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* The file rule every stream kind and endpoint takes (bl_stream_cred_allows). */
Test(stream, cred_allows_is_the_file_rule_with_groups_known_or_not)
{
	const gid_t few[] = { 7, 100, 9 };
	struct bl_stream_cred root = { .uid = 0, .gid = 0 }, owner = { .uid = 10, .gid = 5 },
		member = { .uid = 11, .gid = 5, .groups = few, .n_groups = 3 },
		other = { .uid = 12, .gid = 6, .groups = few, .n_groups = 1 },
		unknown = { .uid = 13, .gid = 6, .n_groups = -1 };

	cr_assert(bl_stream_cred_allows(&root, 10, 100, 0000, 06), "root may");
	cr_assert(bl_stream_cred_allows(&owner, 10, 100, 0600, 06));
	cr_assert(eq(int, bl_stream_cred_allows(&owner, 10, 100, 0066, 04), 0), "the owner's bits only");
	cr_assert(bl_stream_cred_allows(&member, 10, 100, 0040, 04), "a supplementary group");
	cr_assert(eq(int, bl_stream_cred_allows(&member, 10, 100, 0604, 04), 0), "the group's bits only");
	cr_assert(eq(int, bl_stream_cred_allows(&member, 10, 100, 0040, 06), 0), "read and write: both bits");
	cr_assert(bl_stream_cred_allows(&other, 10, 100, 0004, 04), "100 is past its n_groups");
	cr_assert(eq(int, bl_stream_cred_allows(&other, 10, 100, 0040, 04), 0));
	cr_assert(eq(int, bl_stream_cred_allows(&unknown, 10, 100, 0604, 04), 0),
		  "groups not known: maybe a member, refused by the group bits");
	cr_assert(eq(int, bl_stream_cred_allows(&unknown, 10, 100, 0040, 04), 0), "... maybe not one");
	cr_assert(bl_stream_cred_allows(&unknown, 10, 100, 0044, 04), "both classes may");
	cr_assert(bl_stream_cred_allows(&unknown, 10, 6, 0040, 04), "its primary group is known");
	cr_assert(bl_stream_cred_in_group(&member, 100));
	cr_assert(bl_stream_cred_in_group(&member, 5));
	cr_assert(eq(int, bl_stream_cred_in_group(&unknown, 100), 0));
}

Test(stream, attach_checks_permission_policy_and_room)
{
	struct bl_stream *s = make("web", BL_IBUF_MRP, 2);
	struct bl_stream_cred who = me(), other = { .uid = 54321, .gid = 54321, .pid = 1 };
	struct bl_stream_grant g[3];
	struct bl_err err;

	cr_assert(eq(int, bl_stream_attach(s, &other, NULL, "x", &g[0], &err), -EACCES));
	cr_assert(strstr(err.msg, "uid 54321 may not read web") != NULL, "%s", err.msg);
	cr_assert(eq(int, bl_stream_attach(s, &who, "srp", "x", &g[0], &err), -EINVAL),
		  "stricter than the stream");
	cr_assert(strstr(err.msg, "mrp or frp") != NULL, "%s", err.msg);
	cr_assert(eq(int, bl_stream_attach(s, &who, "block", "x", &g[0], &err), -EINVAL));
	cr_assert(eq(int, bl_stream_attach(s, &who, "", "x", &g[0], &err), -EINVAL));
	cr_assert(eq(u64, s->ib->prod->active, 0), "nothing refused holds a page");
	cr_assert(eq(int, bl_stream_attach(s, &who, "frp", "a", &g[0], &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "b", &g[1], &err), 0), "%s", err.msg);
	cr_assert(eq(u32, g[0].policy, BL_IBUF_FRP));
	cr_assert(eq(u32, g[1].policy, BL_IBUF_MRP));
	cr_assert(eq(u32, g[1].n_fds, 5), "ring, page, mrp, wake, dbuf");
	cr_assert(eq(str, (char *)g[1].fd_name[2], BL_CTL_FD_MRP));
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "c", &g[2], &err), -EBUSY));
	cr_assert(strstr(err.msg, "all its 2 readers") != NULL, "%s", err.msg);
	for (int i = 0; i < 2; i++) {
		bl_stream_grant_close(&g[i]);
		bl_stream_detach(s, g[i].reader);
	}
	cr_assert(eq(u64, s->ib->prod->active, 0));
	cr_assert(eq(u64, s->wake.capable, 0), "every eventfd closed");
	bl_stream_release(s);
	cr_assert(bl_stream_find(BL_STREAM_EXPORT, "web") == NULL);
}

/*
 * Run out of descriptors at every step of the attach in turn: each failure
 * leaves no reader page taken, no eventfd, no descriptor open; the first limit
 * that leaves room for all of them attaches.
 */
Test(stream, attach_rolls_back_a_failure_at_every_step)
{
	struct bl_stream *s = make("rb", BL_IBUF_SRP, 8);
	struct bl_stream_cred who = me();
	struct bl_stream_grant g;
	struct bl_err err;
	struct rlimit rl, old;
	int open0, rc = -1, failures = 0;

	cr_log_info("out of descriptors at each step");   /* criterion's own, opened once */
	open0 = open_fds();
	cr_assert(eq(int, getrlimit(RLIMIT_NOFILE, &old), 0));
	for (int room = 0; room <= 8 && rc != 0; room++) {
		rl = old;
		rl.rlim_cur = (rlim_t)(next_fd() + room);
		cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &rl), 0));
		rc = bl_stream_attach(s, &who, NULL, "rb", &g, &err);
		cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &old), 0));
		if (rc == 0)
			break;
		failures++;
		cr_log_info("room %d: %s", room, err.msg);
		cr_assert(strstr(err.msg, "stream \"rb\"") != NULL, "%s", err.msg);
		cr_assert(eq(u64, s->ib->prod->active, 0), "room %d: no page held", room);
		cr_assert(eq(u64, s->wake.capable, 0), "room %d: no eventfd held", room);
		cr_assert(eq(int, open_fds(), open0), "room %d: no descriptor leaked", room);
	}
	cr_assert(eq(int, rc, 0), "%s", err.msg);
	cr_assert(failures >= 2, "the ring's and the DBuf's descriptors each failed once");
	bl_stream_grant_close(&g);
	bl_stream_detach(s, g.reader);
	cr_assert(eq(int, open_fds(), open0), "the stream keeps no client descriptor after detach");
	bl_stream_release(s);
}

static ino_t
inode(int fd)
{
	struct stat st;

	cr_assert(eq(int, fstat(fd, &st), 0));
	return st.st_ino;
}

/* issue 15: a reader page is one attach's; the next attach at its index gets another. */
Test(stream, each_attach_gets_a_page_no_earlier_client_holds)
{
	struct bl_stream *s = make("pg", BL_IBUF_SRP, 8);
	struct bl_stream_cred who = me();
	struct bl_stream_grant g1, g2;
	struct bl_ibuf_rpage *old;
	struct bl_err err;
	ino_t first;
	int keep;

	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "one", &g1, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)g1.fd_name[1], BL_CTL_FD_PAGE));
	keep = dup(g1.fd[1]);                 /* what the first client keeps */
	first = inode(keep);
	old = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, keep, 0);
	cr_assert(old != MAP_FAILED);
	bl_stream_grant_close(&g1);
	bl_stream_detach(s, g1.reader);
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "two", &g2, &err), 0), "%s", err.msg);
	cr_assert(eq(u32, g2.reader, g1.reader), "the same index");
	cr_assert(inode(g2.fd[1]) != first, "a page the first client never had");
	__atomic_store_n(&old->pos, 12345, __ATOMIC_RELEASE);   /* the first client, after */
	old->consumed = 999;
	cr_assert(eq(u64, s->ib->rpage[g2.reader]->pos, 0));
	cr_assert(eq(u64, s->ib->rpage[g2.reader]->consumed, 0));
	munmap(old, 4096);
	close(keep);
	bl_stream_grant_close(&g2);
	bl_stream_detach(s, g2.reader);
	bl_stream_release(s);
}

Test(stream, list_shows_only_what_one_may_read_and_stats_name_clients)
{
	struct bl_stream *s = make("ls", BL_IBUF_SRP, 8);
	struct bl_stream_cred who = me(), other = { .uid = 54321, .gid = 54321 };
	struct bl_stream_grant g;
	struct bl_err err;
	cJSON *a, *r;

	a = bl_stream_list_json(&who);
	cr_assert(eq(int, cJSON_GetArraySize(a), 1));
	cr_assert(eq(str, cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "policy")->valuestring,
		     "srp"));
	cJSON_Delete(a);
	a = bl_stream_list_json(&other);
	cr_assert(eq(int, cJSON_GetArraySize(a), 0), "a stream one may not read is not listed");
	cJSON_Delete(a);
	cr_assert(eq(int, bl_stream_attach(s, &who, "frp", "tcp\001dump", &g, &err), 0), "%s",
		  err.msg);
	a = bl_stream_stats_json();
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "readers"), 0);
	cr_assert(r != NULL);
	cr_assert(eq(str, cJSON_GetObjectItem(r, "client")->valuestring, "tcp?dump"));
	cr_assert(eq(str, cJSON_GetObjectItem(r, "policy")->valuestring, "frp"));
	cr_assert(eq(int, (int)cJSON_GetObjectItem(r, "pid")->valuedouble, (int)getpid()));
	cJSON_Delete(a);
	a = bl_stream_grant_json(s, &g);
	cr_assert(eq(str, cJSON_GetObjectItem(a, "stream_policy")->valuestring, "srp"));
	cr_assert(eq(int, cJSON_GetArraySize(cJSON_GetObjectItem(a, "fds")), (int)g.n_fds));
	cJSON_Delete(a);
	bl_stream_grant_close(&g);
	bl_stream_detach(s, g.reader);
	bl_stream_release(s);
}

Test(stream, create_refuses_bad_names_and_duplicates)
{
	struct bl_stream *s = make("dup", BL_IBUF_SRP, 8), *t = NULL;
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = "dup", .pkt = pkt,
		.policy = BL_IBUF_SRP, .capacity = 64, .max_readers = 8, .mode = 0640,
		.uid = geteuid(), .gid = getegid(), .wake_count = 1,
	};
	struct bl_err err;

	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EEXIST));
	cr_assert(strstr(err.msg, "already exported") != NULL, "%s", err.msg);
	o.kind = BL_STREAM_LCORE;                  /* another kind: another namespace */
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), 0), "%s", err.msg);
	cr_assert(bl_stream_may_read(t, &(struct bl_stream_cred){ .uid = 0 }) == 0,
		  "no client reaches an lcore ring");
	bl_stream_release(t);
	o.kind = BL_STREAM_EXPORT;
	o.name = "..";
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EINVAL));
	cr_assert(strstr(err.msg, "name:") != NULL, "%s", err.msg);
	o.name = "ok";
	o.capacity = 48;
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EINVAL));
	cr_assert(strstr(err.msg, "capacity:") != NULL, "%s", err.msg);
	o.capacity = 64;
	o.wake_count = 65;
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EINVAL));
	cr_assert(strstr(err.msg, "wake_count:") != NULL, "%s", err.msg);
	cr_assert(eq(u32, bl_stream_count(BL_STREAM_EXPORT), 1), "nothing half-made is left");
	bl_stream_release(s);
}

/* "tap." names are the taps': a config's stream of that name is refused before it is
 * made or checked, and a tap's own stream is never adopted by a reload's export (it did:
 * the export became a second writer of the tap's ring). */
Test(stream, tap_names_belong_to_taps)
{
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = "tap.1", .pkt = pkt,
		.policy = BL_IBUF_SRP, .capacity = 64, .max_readers = 8, .mode = 0640,
		.uid = geteuid(), .gid = getegid(), .wake_count = 1,
	};
	struct bl_stream *s = NULL, *t = NULL;
	struct bl_err err;

	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EINVAL));
	cr_assert(strstr(err.msg, "name: \"tap.1\"") && strstr(err.msg, "belong to taps"),
		  "%s", err.msg);
	bl_stream_check_reset(NULL);
	cr_assert(eq(int, bl_stream_check(&o, &err), -EINVAL), "a dry run refuses it too");
	cr_assert(strstr(err.msg, "belong to taps") != NULL, "%s", err.msg);
	o.name = "tap";                          /* only the prefix with its dot is reserved */
	cr_assert(eq(int, bl_stream_check(&o, &err), 0), "%s", err.msg);
	o.name = "mytap.1";
	cr_assert(eq(int, bl_stream_check(&o, &err), 0), "%s", err.msg);
	bl_stream_check_reset(NULL);
	o.name = "tap.1";
	o.tap = 1;                               /* the tap itself */
	cr_assert(eq(int, bl_stream_create(&o, &s, &err), 0), "%s", err.msg);
	o.tap = 0;
	bl_stream_adopt(true);                   /* a reload's export, the same settings */
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EBUSY));
	bl_stream_adopt(false);
	cr_assert(strstr(err.msg, "\"tap.1\" is a live tap's") != NULL, "%s", err.msg);
	cr_assert(eq(int, s->writer, 1), "the tap keeps its one writer");
	cr_assert(eq(u32, s->refs, 1));
	bl_stream_release(s);
	cr_assert(eq(u32, bl_stream_count(BL_STREAM_EXPORT), 0));
}

/* The longest name the protocol allows (BL_STREAM_NAME_MAX - 1 characters)
 * is created: its ring's name must not grow past what the ring takes. */
Test(stream, the_longest_allowed_name_is_created)
{
	char name[BL_STREAM_NAME_MAX];
	struct bl_stream *t = NULL;
	struct bl_err err;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = name, .pkt = pkt,
		.policy = BL_IBUF_SRP, .capacity = 64, .max_readers = 8, .mode = 0640,
		.uid = geteuid(), .gid = getegid(), .wake_count = 1,
	};
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), 0), "%s", err.msg);
	cr_assert(bl_stream_find(BL_STREAM_EXPORT, name) == t);
	bl_stream_release(t);
}

/* ---- dry runs (beltlined --check) and reloads ---------------------------- */

static unsigned int removed_calls;
static void
on_removed(struct bl_stream *s, void *ctx)
{
	(void)s;
	(void)ctx;
	removed_calls++;
}

Test(stream, dry_check_makes_nothing_and_counts_the_pool)
{
	struct bl_stream_dry_pool pool = {
		.name = "p", .n_mbufs = 1023, .min_free = 100, .uid = geteuid(), .gid = getegid(),
		.mode = 0640, .count_key = "mbufs.count",
	};
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = "dry", .policy = BL_IBUF_SRP,
		.capacity = 512, .max_readers = 8, .uid = geteuid(), .gid = getegid(), .mode = 0640,
		.wake_count = 1,
	};
	struct bl_err err;

	bl_stream_check_reset(&pool);
	cr_assert(eq(int, bl_stream_check(&o, &err), 0), "%s", err.msg);
	cr_assert(eq(ptr, bl_stream_find(BL_STREAM_EXPORT, "dry"), NULL));   /* nothing made */
	cr_assert(eq(int, bl_stream_check_declared(BL_STREAM_EXPORT, "dry"), 1));
	cr_assert(eq(int, bl_stream_check(&o, &err), -EEXIST));           /* one writer per name */
	o.name = "dry2";                                                   /* 512 + 512 + 100 > 1023 */
	cr_assert(eq(int, bl_stream_check(&o, &err), -ENOSPC));
	cr_assert(strstr(err.msg, "raise mbufs.count to at least 1124") != NULL, "%s", err.msg);
	o.mode = 0600;                                                     /* a copy DBuf: not counted */
	cr_assert(eq(int, bl_stream_check(&o, &err), 0), "%s", err.msg);
	bl_stream_check_reset(NULL);
	cr_assert(eq(int, bl_stream_check_declared(BL_STREAM_EXPORT, "dry"), 0));
}

Test(stream, reload_adopts_an_unchanged_stream_and_refuses_a_changed_one)
{
	struct bl_stream *s = make("kept", BL_IBUF_SRP, 8), *t = NULL;
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = "kept", .pkt = pkt,
		.policy = BL_IBUF_SRP, .capacity = 64, .max_readers = 8,
		.uid = geteuid(), .gid = getegid(), .mode = 0640, .wake_count = 1,
	};
	struct bl_err err;

	removed_calls = 0;
	bl_stream_on_removed(on_removed, NULL);
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EEXIST));      /* not while starting */
	bl_stream_adopt(true);
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), 0), "%s", err.msg);
	cr_assert(eq(ptr, t, s));                                          /* the same ring */
	o.capacity = 128;
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EBUSY));
	cr_assert(strstr(err.msg, "capacity") != NULL, "%s", err.msg);
	o.capacity = 64;
	o.lcore = 3;                                                        /* one writer's lcore */
	cr_assert(eq(int, bl_stream_create(&o, &t, &err), -EBUSY));
	bl_stream_adopt(false);
	bl_stream_release(s);                                               /* the old graph goes */
	cr_assert(eq(u32, removed_calls, 0));
	cr_assert(eq(ptr, bl_stream_find(BL_STREAM_EXPORT, "kept"), s));
	bl_stream_release(s);                                               /* and the new one */
	cr_assert(eq(u32, removed_calls, 1));
	cr_assert(eq(ptr, bl_stream_find(BL_STREAM_EXPORT, "kept"), NULL));
	bl_stream_on_removed(NULL, NULL);
}

/*
 * A reader's wait word is its own to write, and the worker looks at it after every
 * burst. One that changes it before every burst (a new sleep each time, always due)
 * must not get an eventfd write per burst out of the worker when the stream moderates
 * to one per wake_count entries: it had one per burst (64 for 16 here). An honest
 * sleeper beside it (it sleeps again for the entry after the head it was woken at)
 * is woken as before: every wake_count entries.
 */
/* The wake descriptor a grant hands the client, or -1. */
static int
grant_wake(const struct bl_stream_grant *g)
{
	for (unsigned int i = 0; i < g->n_fds; i++)
		if (strcmp(g->fd_name[i], BL_CTL_FD_WAKE) == 0)
			return g->fd[i];
	return -1;
}

/* Did the appliance signal this wake descriptor since the last look? Drains it. */
static int
drain_wake(int fd)
{
	char b[64];
	int got = 0;

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		got = 1;
	return got;
}

/*
 * The wake descriptor is the client's to do with as it likes. With an eventfd (shared
 * file description, O_NONBLOCK on it) a client could clear O_NONBLOCK and fill the
 * counter to its maximum: the appliance's next signal blocked for good, on the worker
 * (every graph of its lcore) or the main lcore (the control socket). It must not.
 */
Test(stream, a_reader_cannot_make_a_wakeup_block_the_appliance, .timeout = 10)
{
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = "noblock", .pkt = pkt,
		.policy = BL_IBUF_FRP, .capacity = 64, .max_readers = 1,
		.uid = geteuid(), .gid = getegid(), .mode = 0640, .wake_count = 1,
	};
	struct bl_ibuf_entry e[8] = { { .cls = 1 } };
	struct bl_stream_cred who = me();
	struct bl_stream *s = NULL;
	struct bl_stream_grant g;
	struct bl_err err;
	uint64_t big = 0xfffffffffffffffeull;
	int fd;

	cr_assert(eq(int, bl_stream_create(&o, &s, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "hostile", &g, &err), 0), "%s", err.msg);
	fd = grant_wake(&g);
	cr_assert(fd >= 0);
	cr_assert(eq(int, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0));
	signal(SIGPIPE, SIG_IGN);              /* a write to it only hurts the client */
	(void)!write(fd, &big, sizeof(big));   /* an eventfd's counter to its maximum */
	for (unsigned int b = 0; b < 1000; b++) {
		s->ib->rpage[g.reader]->wait = s->ib->head + 1;   /* a new sleep each burst */
		cr_assert(eq(u32, bl_ibuf_write(s->ib, e, 8), 8));
		bl_stream_wake_burst(s);                      /* must not block */
		bl_stream_wake_tick(1000000000ull * (b + 1)); /* nor the main lcore's tick */
	}
	cr_assert(gt(u64, s->wake.signals, 0));
	bl_stream_grant_close(&g);
	bl_stream_detach(s, g.reader);
	/* A client that did not ask for a wake channel (a library before it, which wrote
	 * into its wake fd) gets none, and polls. */
	who.wake_channel = 0;
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "old", &g, &err), 0), "%s", err.msg);
	cr_assert(eq(int, grant_wake(&g), -1));
	cr_assert(eq(u64, s->wake.capable, 0), "nothing to signal");
	bl_stream_grant_close(&g);
	bl_stream_detach(s, g.reader);
	bl_stream_release(s);
}

Test(stream, a_reader_rewriting_its_wait_is_signalled_at_most_once_per_wake_count)
{
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = "wakes", .pkt = pkt,
		.policy = BL_IBUF_FRP, .capacity = 64, .max_readers = 2,
		.uid = geteuid(), .gid = getegid(), .mode = 0640, .wake_count = 32, .wake_us = 1000,
	};
	struct bl_ibuf_entry e[8] = { { .cls = 1 } };
	struct bl_stream_cred who = me();
	struct bl_stream *s = NULL;
	struct bl_stream_grant liar, honest;
	struct bl_err err;
	uint64_t woken = 0;

	cr_assert(eq(int, bl_stream_create(&o, &s, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "liar", &liar, &err), 0), "%s", err.msg);
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "honest", &honest, &err), 0), "%s",
		  err.msg);
	s->ib->rpage[honest.reader]->wait = 1;            /* asleep, for entry 0 */
	for (unsigned int b = 0; b < 64; b++) {           /* 64 bursts of 8: 512 entries */
		/* due at once: waits for entry b (1 + seq), a new sleep each burst */
		s->ib->rpage[liar.reader]->wait = 1 + b;
		cr_assert(eq(u32, bl_ibuf_write(s->ib, e, 8), 8));
		bl_stream_wake_burst(s);
		/* the main lcore's tick, every 100 us of a made-up clock */
		bl_stream_wake_tick(1000000000ull + 100000ull * b);
		drain_wake(grant_wake(&liar));   /* it reads them all: every signal counts */
		if (drain_wake(grant_wake(&honest))) {
			woken++;              /* reads to the head, sleeps for the next entry */
			s->ib->rpage[honest.reader]->wait = s->ib->head + 1;
		}
	}
	cr_assert(eq(u64, woken, 512 / 32), "the honest sleeper: once per wake_count entries");
	/* the worker's, once per wake_count entries; the tick's, as often again and once per
	 * wake_us (6.4 ms here) */
	cr_assert(le(u64, s->wake.signals - woken, 512 / 32 * 2 + 7), "the liar: %llu signals for "
		  "512 entries", (unsigned long long)(s->wake.signals - woken));
	bl_stream_grant_close(&liar);
	bl_stream_grant_close(&honest);
	bl_stream_detach(s, liar.reader);
	bl_stream_detach(s, honest.reader);
	bl_stream_release(s);
}

/*
 * The main lcore ticked every 100 us while any reader slept, even one whose next entry
 * was not there yet and whose stream's worker signals it at once (wake_count 1): 10000
 * wakeups a second on the CPU it shares with the clients, a few system calls each. A
 * stream whose writer checks once a pass (wake_pass) leaves such a sleeper to the
 * worker; the race the unfenced burst check can lose is caught by the pass check.
 */
Test(stream, a_sleeper_the_worker_watches_does_not_hold_the_fast_tick)
{
	struct bl_stream_opts o = {
		.sz = sizeof(o), .kind = BL_STREAM_EXPORT, .name = "passwake", .pkt = pkt,
		.policy = BL_IBUF_FRP, .capacity = 64, .max_readers = 1,
		.uid = geteuid(), .gid = getegid(), .mode = 0640, .wake_count = 1, .wake_pass = 1,
	};
	struct bl_ibuf_entry e[4] = { { .cls = 1 } };
	struct bl_stream_cred who = me();
	struct bl_stream *s = NULL;
	struct bl_stream_grant g;
	struct bl_err err;
	uint64_t now = 1000000000ull;

	for (int variant = 0; variant < 3; variant++) {
		/* 0: watched once a pass; 1: not (the tap's, flow's); 2: wake_count 2 */
		o.wake_pass = variant != 1;
		o.wake_count = variant == 2 ? 2 : 1;
		cr_assert(eq(int, bl_stream_create(&o, &s, &err), 0), "%s", err.msg);
		cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "sleeper", &g, &err), 0), "%s",
			  err.msg);
		cr_assert(eq(int, bl_stream_wake_tick(now += 100000), 0), "awake: no fast tick");
		s->ib->rpage[g.reader]->wait = s->ib->head + 1;       /* asleep for the next */
		cr_assert(eq(int, bl_stream_wake_tick(now += 100000), variant == 0 ? 0 : 1),
			  "variant %d: the fast tick only where the tick may have to act", variant);
		if (variant == 0) {
			/* The race: the burst's own check saw no wait (it ran before the store
			 * was seen), and the reader, having stored its wait, saw no entry. */
			cr_assert(eq(u32, bl_ibuf_write(s->ib, e, 4), 4));   /* no check after */
			cr_assert(eq(int, drain_wake(grant_wake(&g)), 0));
			bl_stream_wake_pass(s);                               /* the next pass */
			cr_assert(eq(int, drain_wake(grant_wake(&g)), 1), "the pass check wakes it");
			bl_stream_wake_pass(s);
			bl_stream_wake_tick(now += 100000);
			cr_assert(eq(int, drain_wake(grant_wake(&g)), 0), "once");
		}
		bl_stream_grant_close(&g);
		bl_stream_detach(s, g.reader);
		bl_stream_release(s);
		s = NULL;
	}
}

/* What a client calls itself is untrusted and shown by stats: printable ASCII only, on
 * every platform (a plain char is unsigned on some), cut to the field. */
Test(stream, a_client_name_is_shown_printable_only)
{
	struct bl_stream *s = make("names", BL_IBUF_FRP, 1);
	struct bl_stream_cred who = me();
	struct bl_stream_grant g;
	struct bl_err err;
	char longname[200];

	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, "\x01" "bad\xc3\xa9name\x7f\xff", &g,
					   &err), 0), "%s", err.msg);
	cr_assert(eq(str, s->reader[g.reader].client, "?bad??name??"));
	bl_stream_grant_close(&g);
	bl_stream_detach(s, g.reader);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert(eq(int, bl_stream_attach(s, &who, NULL, longname, &g, &err), 0), "%s", err.msg);
	cr_assert(eq(sz, strlen(s->reader[g.reader].client), sizeof(s->reader[0].client) - 1));
	bl_stream_grant_close(&g);
	bl_stream_detach(s, g.reader);
	bl_stream_release(s);
}
