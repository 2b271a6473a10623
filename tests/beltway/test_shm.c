/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared regions: huge pages, the fallback, owner/group/mode, a read-only
 * mapping in another process at another address, and a reader in another
 * process that may write its own page and nothing else. No EAL.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bl_ibuf_worker.h"
#include "ibuf_test.h"
#include "bl_shm.h"

TestSuite(shm, .timeout = 30);

static struct bl_shm_opts
shm_opts(const char *name, size_t size, uint32_t flags)
{
	struct bl_shm_opts o = {
		.sz = sizeof(o), .name = name, .size = size, .flags = flags,
		.uid = (uid_t)-1, .gid = (gid_t)-1, .mode = 0640,
	};
	return o;
}

/* Run fn in a child; return its wait status. */
static int
in_child(void (*fn)(void *), void *arg)
{
	int st = 0;
	pid_t p = fork();

	cr_assert(p >= 0);
	if (p == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	cr_assert(eq(int, waitpid(p, &st, 0), p));
	return st;
}

static int exited_ok(int st) { return WIFEXITED(st) && WEXITSTATUS(st) == 0; }
static int segfaulted(int st) { return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV; }

/* A number from /proc/meminfo ("HugePages_Free:"), or -1. */
static long
meminfo_long(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0) {
			v = strtol(line + strlen(key), NULL, 10);
			break;
		}
	if (f != NULL)
		fclose(f);
	return v;
}

static long huge_free(void) { return meminfo_long("HugePages_Free:"); }

/* The kernel may hand out surplus huge pages beyond the reserved ones. */
static long
huge_overcommit(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_overcommit_hugepages", "r");
	long v = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The kernel page size backing addr, from /proc/self/smaps, in KiB. */
static long
kernel_page_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	int in = 0;
	long kb = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)   /* a mapping line */
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "KernelPageSize: %ld kB", &kb) == 1)
			break;
	}
	if (f != NULL)
		fclose(f);
	return kb;
}

Test(shm, hugetlb_memfd_when_huge_pages_are_free)
{
	struct bl_shm_opts o = shm_opts("t-huge", 3u << 20, 0);
	struct bl_shm *s;
	struct stat st;

	if (huge_free() < 2)
		cr_skip_test("fewer than 2 free huge pages");
	cr_assert(eq(int, bl_shm_create(&o, &s, NULL), 0));
	cr_assert(eq(sz, s->page_size, 2u << 20));
	cr_assert(eq(sz, s->size, 4u << 20));            /* rounded up to 2 huge pages */
	cr_assert(eq(long, kernel_page_kb(s->base), 2048));
	cr_assert(eq(int, fstat(s->fd, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0440));   /* 0640 asked: no write bit */
	memset(s->base, 0xab, s->size);
	bl_shm_free(s);
}

Test(shm, falls_back_to_small_pages_when_huge_pages_run_out)
{
	/* One 2 MiB page more than the machine has reserved in all (free or not; the
	 * default allows no surplus pages), so the hugetlb mapping fails whatever
	 * else is running. */
	long total = meminfo_long("HugePages_Total:");
	struct bl_shm_opts o = shm_opts("t-fallback", (size_t)(total < 0 ? 0 : total + 1) << 21, 0);
	struct bl_shm *s;
	struct bl_err err;

	if (total < 0 || huge_overcommit() != 0)
		cr_skip_test("no HugePages_Total in /proc/meminfo, or surplus huge pages allowed");

	o.flags = BL_SHM_F_HUGE_REQUIRE;
	cr_assert(eq(int, bl_shm_create(&o, &s, &err), -ENOMEM));
	cr_assert(strstr(err.msg, "t-fallback") != NULL, "%s", err.msg);
	o.flags = 0;
	cr_assert(eq(int, bl_shm_create(&o, &s, &err), 0));
	cr_assert(eq(sz, s->page_size, 4096));
	((char *)s->base)[s->size - 1] = 1;              /* the last byte is really there */
	bl_shm_free(s);
}

Test(shm, no_huge_flag_gives_ordinary_shared_memory)
{
	struct bl_shm_opts o = shm_opts("t-small", 10000, BL_SHM_F_NO_HUGE);
	struct bl_shm *s;

	cr_assert(eq(int, bl_shm_create(&o, &s, NULL), 0));
	cr_assert(eq(sz, s->page_size, 4096));
	cr_assert(eq(sz, s->size, 12288));
	cr_assert(eq(long, kernel_page_kb(s->base), 4));
	bl_shm_free(s);
}

Test(shm, owner_group_and_mode_applied)
{
	struct bl_shm_opts o = shm_opts("t-perm", 4096, BL_SHM_F_NO_HUGE);
	struct bl_shm *s;
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("chown needs root");
	o.uid = 1234;
	o.gid = 5678;
	o.mode = 0440;
	cr_assert(eq(int, bl_shm_create(&o, &s, NULL), 0));
	cr_assert(eq(int, fstat(s->fd, &st), 0));
	cr_assert(eq(u32, st.st_uid, 1234));
	cr_assert(eq(u32, st.st_gid, 5678));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0440));
	bl_shm_free(s);
}

Test(shm, ibuf_regions_and_pages_carry_owner_group_mode)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "perm", .capacity = 64, .policy = BL_IBUF_MRP,
		.max_readers = 2, .uid = 1234, .gid = 5678, .mode = 0640,
	};
	struct bl_ibuf *ib;
	struct stat st;
	int fds[4];

	if (geteuid() != 0)
		cr_skip_test("chown needs root");
	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	fds[0] = ib->shm->fd;
	fds[1] = ib->mrp_shm->fd;
	fds[2] = ib->rshm[0]->fd;
	fds[3] = ib->rshm[1]->fd;
	for (unsigned i = 0; i < 4; i++) {
		cr_assert(eq(int, fstat(fds[i], &st), 0));
		cr_assert(eq(u32, st.st_uid, 1234));
		cr_assert(eq(u32, st.st_gid, 5678));
		cr_assert(eq(int, (int)(st.st_mode & 07777), 0440));   /* no write bit */
	}
	bl_ibuf_free(ib);
}

/* What a client is given cannot be turned on the appliance: the size is sealed (a reader
 * page is handed out read-write, and truncating it faulted the appliance's next access
 * with SIGBUS) and the file has no write bit (the stream's owner reopened a read-only fd
 * read-write through /proc/self/fd). */
static void
sealed_and_read_only(uint32_t flags)
{
	struct bl_shm_opts o = shm_opts("t-seal", 8192, flags);
	struct bl_shm *s;
	struct stat st;
	int seals;

	o.mode = 0660;
	cr_assert(eq(int, bl_shm_create(&o, &s, NULL), 0));
	seals = fcntl(s->fd, F_GET_SEALS);
	cr_assert(eq(int, seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
		     F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), "seals %#x", seals);
	cr_assert(eq(int, ftruncate(s->fd, 0), -1));      /* even on our read-write fd */
	cr_assert(eq(int, errno, EPERM));
	cr_assert(eq(int, ftruncate(s->fd, (off_t)s->size * 2), -1));
	cr_assert(eq(int, fstat(s->fd, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0440));
	memset(s->base, 1, s->size);                       /* still ours to write */
	bl_shm_free(s);
}

Test(shm, small_pages_sizes_sealed_no_write_bit) { sealed_and_read_only(BL_SHM_F_NO_HUGE); }

Test(shm, huge_pages_sizes_sealed_no_write_bit)
{
	if (huge_free() < 2)
		cr_skip_test("fewer than 2 free huge pages");
	sealed_and_read_only(BL_SHM_F_HUGE_REQUIRE);
}

Test(shm, rejects_bad_names_and_sizes)
{
	struct bl_shm_opts o = shm_opts("a/b", 4096, 0);
	struct bl_shm *s;
	struct bl_err err;

	cr_assert(eq(int, bl_shm_create(&o, &s, &err), -EINVAL));
	cr_assert(strstr(err.msg, "without '/'") != NULL);
	o.name = "ok";
	o.size = 0;
	cr_assert(eq(int, bl_shm_create(&o, &s, &err), -EINVAL));
}

struct ro_arg { int fd; const void *parent_base; size_t size; int write; };

static void
ro_child(void *a)
{
	struct ro_arg *ra = a;
	struct bl_shm *s;
	const unsigned char *p;

	if (bl_shm_attach_fd(ra->fd, 1, &s) != -EACCES)   /* PROT_WRITE on an O_RDONLY fd */
		_exit(10);
	if (bl_shm_attach_fd(ra->fd, 0, &s) != 0)
		_exit(11);
	if (s->base == ra->parent_base)                   /* another address */
		_exit(12);
	p = s->base;
	for (size_t i = 0; i < ra->size; i += 4096)
		if (p[i] != (unsigned char)(i / 4096))
			_exit(13);
	if (ra->write)
		((volatile unsigned char *)s->base)[0] = 1; /* must fault */
	_exit(0);
}

static void
read_only_mapping(uint32_t flags)
{
	struct bl_shm_opts o = shm_opts("t-ro", 4u << 20, flags);
	struct ro_arg a;
	struct bl_shm *s;
	int st;

	cr_assert(eq(int, bl_shm_create(&o, &s, NULL), 0));
	for (size_t i = 0; i < s->size; i += 4096)
		((unsigned char *)s->base)[i] = (unsigned char)(i / 4096);
	a.fd = bl_shm_ro_fd(s);
	cr_assert(a.fd >= 0);
	cr_assert(eq(int, fcntl(a.fd, F_GETFL) & O_ACCMODE, O_RDONLY));
	a.parent_base = s->base;
	a.size = s->size;
	a.write = 0;
	st = in_child(ro_child, &a);
	cr_assert(exited_ok(st), "status %#x", st);
	a.write = 1;
	st = in_child(ro_child, &a);
	cr_assert(segfaulted(st), "status %#x", st);
	cr_assert(eq(u8, ((unsigned char *)s->base)[0], 0));
	close(a.fd);
	bl_shm_free(s);
}

Test(shm, read_only_mapping_elsewhere_faults_on_write_huge)
{
	if (huge_free() < 2)
		cr_skip_test("no free huge pages");
	read_only_mapping(BL_SHM_F_HUGE_REQUIRE);
}

Test(shm, read_only_mapping_elsewhere_faults_on_write_small)
{
	read_only_mapping(BL_SHM_F_NO_HUGE);
}

/* A hugetlbfs file, in a private mount namespace so nothing leaks to the host. */
Test(shm, hugetlbfs_file_with_mode_and_path_attach)
{
	char dir[] = "/tmp/bl-hugetlbfs-XXXXXX";
	struct bl_shm_opts o = shm_opts("region0", 2u << 20, BL_SHM_F_HUGE_REQUIRE);
	struct bl_shm *s, *ro;
	struct stat st;
	char path[300];

	if (huge_free() < 2 || unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		cr_skip_test("no huge pages or no mount namespace");
	cr_assert(mkdtemp(dir) != NULL);
	if (mount("nodev", dir, "hugetlbfs", 0, "pagesize=2M") != 0) {
		rmdir(dir);
		cr_skip_test("cannot mount hugetlbfs");
	}
	o.hugetlbfs_dir = dir;
	o.mode = 0604;
	cr_assert(eq(int, bl_shm_create(&o, &s, NULL), 0));
	snprintf(path, sizeof(path), "%s/region0", dir);
	cr_assert(eq(str, s->path, path));
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0404));   /* 0604 asked: no write bit */
	strcpy(s->base, "hello");
	cr_assert(eq(int, bl_shm_attach_path(path, 0, &ro), 0));
	cr_assert(eq(str, (char *)ro->base, "hello"));
	cr_assert(ro->base != s->base);
	cr_assert(eq(sz, ro->page_size, 2u << 20));
	bl_shm_free(ro);
	bl_shm_free(s);
	cr_assert(eq(int, stat(path, &st), -1));         /* the creator unlinks it */
	umount(dir);
	rmdir(dir);
}

/* ---- an IBuf reader in another process ---- */

struct rd_arg { struct bl_ibuf_fds fds; unsigned n; int poke; const void *other_page_off; };

static void
ibuf_child(void *a)
{
	struct rd_arg *ra = a;
	struct bl_ibuf_reader *r;
	struct bl_ibuf_entry out[64];
	unsigned got = 0;

	if (bl_ibuf_reader_open(&ra->fds, &r) != 0)
		_exit(20);
	while (got < ra->n) {
		unsigned k = bl_ibuf_read(r, out, 64);
		for (unsigned i = 0; i < k; i++)
			if (out[i].object != got + i || out[i].dbuf_id != 3)
				_exit(21);
		got += k;
	}
	if (ra->poke == 1)          /* the ring itself is read-only */
		((volatile struct bl_ibuf_entry *)r->slots)[0].length = 0;
	if (ra->poke == 2)          /* so is every other reader's page */
		*(volatile uint64_t *)((char *)r->hdr + (uintptr_t)ra->other_page_off) = 0;
	_exit(0);
}

static void
ibuf_in_child(int poke)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "proc", .capacity = 128, .policy = BL_IBUF_SRP,
		.max_readers = 2, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	struct bl_ibuf_entry e[100];
	struct bl_ibuf *ib;
	struct rd_arg a = { .n = 100, .poke = poke };
	int idx, st;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	idx = bl_ibuf_reader_alloc(ib, 4242);
	cr_assert(eq(int, idx, 0));
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, (unsigned)idx, &a.fds), 0));
	a.other_page_off = (const void *)(uintptr_t)(ib->hdr->off_readers + 4096);
	for (unsigned i = 0; i < 100; i++)
		e[i] = (struct bl_ibuf_entry){ .dbuf_id = 3, .object = i, .length = 60 };
	cr_assert(eq(u32, bl_ibuf_write(ib, e, 100), 100));
	st = in_child(ibuf_child, &a);
	if (poke == 0) {
		cr_assert(exited_ok(st), "status %#x", st);
		/* its position came back through its own page */
		cr_assert(eq(u64, ib->rpage[0]->pos, 100));
		cr_assert(eq(u64, ib->rpage[0]->consumed, 100));
		cr_assert(eq(u32, bl_ibuf_write(ib, e, 100), 100));
	} else {
		cr_assert(segfaulted(st), "status %#x", st);
		cr_assert(eq(u32, ib->slots[0].length, 60));
	}
	close(a.fds.ring_fd);
	bl_ibuf_free(ib);
}

Test(shm, ibuf_reader_in_another_process_reads_by_offsets)
{
	ibuf_in_child(0);
}

Test(shm, ibuf_reader_process_cannot_write_the_ring)
{
	ibuf_in_child(1);
}

Test(shm, ibuf_reader_process_cannot_write_another_readers_page)
{
	ibuf_in_child(2);
}

/* A reader distrusts the header it maps: a bad magic, version or layout is refused. */
Test(shm, ibuf_reader_refuses_a_bad_header)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "badhdr", .capacity = 64, .policy = BL_IBUF_FRP,
		.max_readers = 1, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	struct bl_ibuf_reader *r = NULL;
	struct bl_ibuf_fds fds;
	struct bl_ibuf *ib;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	cr_assert(eq(int, bl_ibuf_reader_alloc(ib, 0), 0));
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, 0, &fds), 0));
	cr_assert(eq(int, bl_ibuf_reader_open(&fds, &r), 0));
	bl_ibuf_reader_close(r);
	ib->hdr->version = BL_SHM_ABI_VERSION + 1;
	cr_assert(eq(int, bl_ibuf_reader_open(&fds, &r), -EPROTO));
	ib->hdr->version = BL_SHM_ABI_VERSION;
	ib->hdr->capacity = 1u << 20;                    /* slots beyond the region */
	cr_assert(eq(int, bl_ibuf_reader_open(&fds, &r), -EPROTO));
	ib->hdr->capacity = 48;                          /* not a power of two */
	cr_assert(eq(int, bl_ibuf_reader_open(&fds, &r), -EPROTO));
	ib->hdr->capacity = 64;
	fds.idx = 1;                                     /* no such reader page */
	cr_assert(eq(int, bl_ibuf_reader_open(&fds, &r), -EPROTO));
	close(fds.ring_fd);
	bl_ibuf_free(ib);
}

/*
 * A reader page is handed to one attach only (issue 15): a client that detached
 * but kept its mapping writes garbage into its old page, in a loop as a hostile
 * one would; the next reader of the same page index must see none of it: its
 * position, counters and wait word are its own, and it keeps a stream it keeps
 * up with free of drops.
 */
static void
stale_child(const struct bl_ibuf_fds *fds, int ready, int go)
{
	struct bl_ibuf_reader *r;
	char c = 'r';

	if (bl_ibuf_reader_open(fds, &r) != 0)
		_exit(20);
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(21);
	for (unsigned i = 0; i < 1000; i++) {       /* what it held, and worse */
		__atomic_store_n(&r->page->pos, 100, __ATOMIC_RELEASE);
		r->page->consumed = 1000000000;
		r->page->lost = 777;
		r->page->laps = 7;
		r->page->check_fail = 9;
		r->page->wait = 1;
	}
	bl_ibuf_reader_close(r);
	_exit(0);
}

Test(shm, detached_reader_cannot_reach_the_next_readers_page)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "stale", .capacity = 128, .policy = BL_IBUF_SRP,
		.max_readers = 1, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	struct bl_ibuf *ib;
	struct bl_ibuf_reader *b;
	struct bl_ibuf_fds fds;
	struct bl_ibuf_stats st;
	int ready[2], go[2], status;
	char c;
	pid_t pid;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	cr_assert(eq(int, bl_ibuf_reader_alloc(ib, 4242), 0));
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, 0, &fds), 0));
	cr_assert(eq(int, pipe(ready), 0));
	cr_assert(eq(int, pipe(go), 0));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		stale_child(&fds, ready[1], go[0]);
	cr_assert(eq(int, (int)read(ready[0], &c, 1), 1), "the client mapped its page");
	close(fds.ring_fd);
	/* The client detaches (its connection closed) but keeps its mapping. */
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, 0), 0));
	cr_assert(eq(u32, put(ib, 0, 64), 64));
	cr_assert(eq(u32, put(ib, 64, 36), 36));
	/* The next reader gets page index 0 again and keeps up. */
	cr_assert(eq(int, bl_ibuf_reader_attach(ib, &b), 0));
	cr_assert(eq(u32, b->idx, 0));
	cr_assert(eq(u32, put(ib, 100, 64), 64));
	cr_assert(eq(u32, take(b, 64, NULL), 64));
	cr_assert(eq(int, (int)write(go[1], "g", 1), 1));
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(exited_ok(status), "status %#x", status);
	/* Nothing the old client wrote reached the new reader's page. */
	cr_assert(eq(u64, ib->rpage[0]->pos, 164));
	cr_assert(eq(u64, ib->rpage[0]->consumed, 64));
	cr_assert(eq(u64, ib->rpage[0]->lost, 0));
	cr_assert(eq(u64, ib->rpage[0]->wait, 0));
	/* A full ring past the new reader's position: no drop, no clamp. */
	cr_assert(eq(u32, put(ib, 164, 64), 64));
	cr_assert(eq(u32, put(ib, 228, 64), 64));
	bl_ibuf_stats(ib, &st);
	cr_assert(eq(u64, st.dropped, 0));
	cr_assert(eq(u64, st.clamps, 0));
	cr_assert(eq(u64, st.r[0].clamps, 0));
	cr_assert(eq(u64, st.r[0].consumed, 64));
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
	}
	bl_ibuf_reader_close(b);
	bl_ibuf_free(ib);
}

/* The MRP page is shared by every MRP reader; one that detached may keep its mapping of
 * it and raise R there, which made the next MRP readers skip entries (R is their shared
 * position). The first MRP reader after none gets a page no earlier one was given. */
Test(shm, detached_mrp_reader_cannot_raise_the_next_readers_r)
{
	struct bl_ibuf_opts o = {
		.sz = sizeof(o), .name = "stalemrp", .capacity = 128, .policy = BL_IBUF_MRP,
		.max_readers = 2, .uid = (uid_t)-1, .gid = (gid_t)-1,
	};
	struct bl_ibuf *ib;
	struct bl_ibuf_fds fds;
	struct bl_ibuf_mrp *old;

	cr_assert(eq(int, bl_ibuf_create(&o, &ib, NULL), 0));
	cr_assert(eq(int, bl_ibuf_reader_alloc_as(ib, 4242, BL_IBUF_MRP), 0));
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, 0, &fds), 0));
	old = mmap(NULL, BL_SHM_META_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fds.mrp_fd, 0);
	cr_assert(old != MAP_FAILED);
	close(fds.ring_fd);
	cr_assert(eq(int, bl_ibuf_reader_detach(ib, 0), 0));    /* it keeps its mapping */
	cr_assert(eq(u32, put(ib, 0, 64), 64));
	cr_assert(eq(int, bl_ibuf_reader_alloc_as(ib, 4243, BL_IBUF_MRP), 0));
	cr_assert(eq(u64, ib->mrp->r, 64), "R starts at the head for the new reader");
	old->r = 1u << 30;                                       /* the old client raises R */
	cr_assert(eq(u64, ib->mrp->r, 64), "... and it reaches nobody");
	/* a second MRP reader beside the first shares its page (it is not replaced) */
	cr_assert(eq(int, bl_ibuf_reader_alloc_as(ib, 4244, BL_IBUF_MRP), 1));
	cr_assert(eq(int, bl_ibuf_reader_fds(ib, 1, &fds), 0));
	close(fds.ring_fd);
	{
		struct bl_ibuf_mrp *now = mmap(NULL, BL_SHM_META_PAGE, PROT_READ, MAP_SHARED,
					       fds.mrp_fd, 0);
		cr_assert(now != MAP_FAILED);
		cr_assert(eq(u64, now->r, 64));
		ib->mrp->r = 70;
		cr_assert(eq(u64, now->r, 70), "one page for the readers attached together");
		munmap(now, BL_SHM_META_PAGE);
	}
	munmap(old, BL_SHM_META_PAGE);
	bl_ibuf_free(ib);
}
