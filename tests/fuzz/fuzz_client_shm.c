/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_client_shm — libbeltline-client reading a live stream whose shared
 * memory the appliance wrote (client/src_live.c, lib/beltway's reader and
 * DBuf view): everything in the ring region and the DBuf region is the
 * peer's, and the client must distrust all of it.
 *
 * A fresh IBuf and packet DBuf per input (as tests/client/fake_appliance.c
 * makes them), then the input is a program of operations:
 *   byte 0:  policy (srp, mrp or frp: 1 + b % 3; a block ring would wait here
 *            for its reader forever) and capacity (2 << (b >> 2) % 4)
 *   then ops, each an op byte then its operands:
 *     0 write n (1..4) entries: u8 dbuf id, u8 object, u16 offset, u16 length, u8 class
 *     1 poke the ring: u16 where (page 0: header, page 1: producer, above: slots),
 *       u8 width (1, 2, 4, 8), u64 value
 *     2 poke the DBuf: u16 where, u8 width, u64 value
 *     3 open the reader (beltline__open_live_fds); pokes before it test the
 *       header checks, pokes after it what a reader re-reads
 *     4 peek n (u8), touch every byte of every view, check each, release
 *     5 read into a buffer of u8 bytes (0: no buffer)
 * Oracles: no crash and no read outside the mappings (a view's bytes are all
 * read); open fails with a negative errno or works; caplen <= len; nothing
 * leaks (descriptors and mappings are freed by beltline_close/bl_ibuf_free).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_ibuf.h"
#include "bl_ibuf_worker.h"
#include "bl_shm.h"
#include "fake_appliance.h"
#include "fuzz.h"

#define PG 4096u

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
poke(uint8_t *base, uint64_t off, unsigned int width, uint64_t v)
{
	switch (width) {
	case 1: base[off] = (uint8_t)v; break;
	case 2: memcpy(base + off, &(uint16_t){ (uint16_t)v }, 2); break;
	case 4: memcpy(base + off, &(uint32_t){ (uint32_t)v }, 4); break;
	default: memcpy(base + off, &v, 8); break;
	}
}

static uint32_t
touch(const struct beltline_pkt *v)
{
	const volatile uint8_t *p = v->data;
	uint32_t sum = 0;

	for (uint32_t i = 0; i < v->caplen; i++)
		sum += p[i];
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct beltline_stream *s = NULL;
	struct bl_ibuf *ib;
	struct bl_shm *d;
	struct bl_ibuf_fds fds;
	uint32_t policy, cap, b;
	uint64_t slots;
	volatile uint32_t sink = 0;
	int idx, dfd, ops = 0, fds0 = fuzz_fds();

	if (!once) {
		beltline_set_log(quiet, NULL);
		once = 1;
	}
	if (size < 1)
		return 0;
	b = fuzz_take(&data, &size, 1);
	policy = 1 + b % 3;
	cap = 2u << ((b >> 2) % 4);
	ib = fake_ibuf(policy, cap);
	d = fake_dbuf();
	if (ib == NULL || d == NULL)
		abort();
	slots = ib->hdr->off_slots;   /* before any poke: the header is the peer's from here */
	idx = bl_ibuf_reader_alloc(ib, 0);
	dfd = bl_shm_ro_fd(d);
	if (idx < 0 || dfd < 0 || bl_ibuf_reader_fds(ib, (unsigned int)idx, &fds) != 0)
		abort();

	while (size > 0 && ops++ < 256) {
		uint32_t op = fuzz_take(&data, &size, 1) % 6;

		switch (op) {
		case 0: {
			struct bl_ibuf_entry e[4];
			uint32_t n = fuzz_take(&data, &size, 1) % 4 + 1;

			for (uint32_t i = 0; i < n; i++) {
				e[i].dbuf_id = (uint16_t)fuzz_take(&data, &size, 1);
				e[i].object = fuzz_take(&data, &size, 1);
				e[i].offset = fuzz_take(&data, &size, 2);
				e[i].length = fuzz_take(&data, &size, 2);
				e[i].cls = (uint16_t)fuzz_take(&data, &size, 1);
			}
			bl_ibuf_write(ib, e, n);
			break;
		}
		case 1:
		case 2: {
			uint32_t where = fuzz_take(&data, &size, 2);
			unsigned int width = 1u << (fuzz_take(&data, &size, 1) % 4);
			uint64_t v = (uint64_t)fuzz_take(&data, &size, 4) << 32;
			uint64_t off;

			v |= fuzz_take(&data, &size, 4);
			if (op == 1) {
				/* header and producer pages, or the slots: never a reader's own page */
				uint64_t n = (uint64_t)cap * 16;
				off = where < 2 * PG ? where : slots + (where - 2 * PG) % n;
				if (off + width > (where < 2 * PG ? 2 * PG : slots + n))
					off -= width;
				poke(ib->shm->base, off, width, v);
			} else {
				off = where % (d->size - 8);
				poke(d->base, off, width, v);
			}
			break;
		}
		case 3:
			if (s == NULL) {
				struct beltline__live_fds f = { .ring_fd = fds.ring_fd, .page_fd = fds.page_fd,
					.mrp_fd = fds.mrp_fd, .idx = fds.idx, .wake_fd = -1, .ctl_fd = -1,
					.n_dbufs = 1, .dbuf_fds = &dfd, .name = "fuzz/shm" };
				int rc = beltline__open_live_fds(&f, &s);

				FUZZ_CHECK(rc == 0 || (rc < 0 && rc > -4096 && s == NULL), "open: %d", rc);
				if (rc < 0)
					s = NULL;
			}
			break;
		case 4: {
			struct beltline_pkt v[8];
			unsigned int want = fuzz_take(&data, &size, 1) % 8 + 1;
			int n;

			if (s == NULL)
				break;
			n = beltline_peek(s, v, want);
			FUZZ_CHECK(n <= (int)want, "peek %u gave %d", want, n);
			for (int i = 0; i < n; i++) {
				FUZZ_CHECK(v[i].caplen <= v[i].len, "caplen %u > len %u", v[i].caplen, v[i].len);
				sink += touch(&v[i]);
				(void)beltline_check(s, v[i].seq);
			}
			if (n > 0)
				FUZZ_CHECK(beltline_release(s, (unsigned int)n) == 0, "release");
			break;
		}
		default: {
			uint8_t buf[256];
			struct beltline_pkt_info info;
			size_t room = fuzz_take(&data, &size, 1);
			int rc;

			if (s == NULL)
				break;
			rc = beltline_read(s, room != 0 ? buf : NULL, room, &info);
			if (rc == 1)
				FUZZ_CHECK(info.copied <= room && info.copied <= info.caplen, "copied %u",
					   info.copied);
			break;
		}
		}
	}
	(void)sink;
	beltline_close(s);
	close(dfd);
	close(fds.ring_fd);   /* fresh for each reader (the control server closes its own too) */
	bl_ibuf_free(ib);
	bl_shm_free(d);
	FUZZ_CHECK(fuzz_fds() == fds0, "%d descriptors before, %d after", fds0, fuzz_fds());
	return 0;
}
