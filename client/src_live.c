/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * src_live — a stream the appliance exports: an IBuf reader over the shared
 * ring, plus read-only mappings of the DBuf regions its entries point into.
 *
 * Distrust of the peer: every entry is copied out of the ring (16 bytes) before
 * use and resolved with bl_dbuf_view_ptr, which bounds-checks the DBuf id, the
 * object index, the object table value and offset+length against the mapping.
 * An entry that does not resolve is skipped and counted (stats.invalid), never
 * dereferenced. Data pointers handed out lie inside a read-only mapping, so a
 * torn or overwritten entry can only give wrong bytes, which check() reports.
 *
 * The pollable fd (live_fd_asked) is an epoll descriptor of the stream's own over the
 * wake fd and the control connection: readable when the appliance signals, and when it
 * hangs up (it died, or a reload removed the stream), so a caller that sleeps on it
 * without a timeout learns of the end from its next peek.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_ibuf_worker.h"
#include "bl_stream_proto.h"

static int
live_map_dbuf(struct blc_live *l, int fd, const char *name)
{
	struct blc_dbuf *d = &l->dbuf[l->n_dbufs];
	int rc;

	if (l->n_dbufs == BLC_MAX_DBUFS) {
		blc_log(BELTLINE_LOG_ERROR, "%s: more than %u DBuf regions", name, BLC_MAX_DBUFS);
		return -E2BIG;
	}
	rc = bl_shm_attach_fd(fd, 0, &d->shm);
	if (rc < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot map DBuf fd %d: %s", name, fd, strerror(-rc));
		return rc;
	}
	if (bl_dbuf_view_init(&d->view, d->shm->base, d->shm->size) < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: fd %d is not a DBuf region of ABI version %u",
			name, fd, BL_SHM_ABI_VERSION);
		bl_shm_free(d->shm);
		d->shm = NULL;
		return -EPROTO;
	}
	for (unsigned i = 0; i < l->n_dbufs; i++)
		if (l->dbuf[i].view.id == d->view.id) {
			blc_log(BELTLINE_LOG_ERROR, "%s: two DBuf regions with id %u", name, d->view.id);
			bl_shm_free(d->shm);
			d->shm = NULL;
			return -EPROTO;
		}
	l->n_dbufs++;
	return 0;
}

int
beltline__open_live_fds(const struct beltline__live_fds *f, struct beltline_stream **out)
{
	struct bl_ibuf_fds ifds = { .ring_fd = f->ring_fd, .page_fd = f->page_fd,
		.mrp_fd = f->mrp_fd, .idx = f->idx };
	const char *name = f->name != NULL ? f->name : "stream";
	struct beltline_stream *s = calloc(1, sizeof(*s));
	struct blc_live *l;
	int rc;

	if (s == NULL) {
		rc = -ENOMEM;
		goto fail_fds;
	}
	l = &s->l;
	s->kind = BELTLINE_KIND_LIVE;
	s->ops = &blc_live_ops;
	s->poll_fd = -1;            /* made when beltline_fd is first asked for */
	l->wake_fd = f->wake_fd;
	l->self_fd = -1;
	l->ctl_fd = f->ctl_fd;
	s->linktype = f->linktype > 0 ? f->linktype : 1;
	s->snaplen = 65535;
	snprintf(s->content, sizeof(s->content), "%s", f->content);
	snprintf(s->name, sizeof(s->name), "%s", name);
	rc = bl_ibuf_reader_open(&ifds, &l->r);
	if (rc < 0) {
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot map the IBuf (reader %u): %s", name, f->idx,
			rc == -EPROTO ? "not an IBuf of this ABI version" : strerror(-rc));
		goto fail;
	}
	for (unsigned i = 0; i < f->n_dbufs; i++) {
		rc = live_map_dbuf(l, f->dbuf_fds[i], name);
		if (rc < 0)
			goto fail;
	}
	if (l->wake_fd < 0) {
		/* No wake fd from the appliance: fall back to polling every millisecond. */
		struct itimerspec its = { .it_interval = { 0, 1000000 }, .it_value = { 0, 1000000 } };
		l->wake_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (l->wake_fd < 0 || timerfd_settime(l->wake_fd, 0, &its, NULL) < 0) {
			rc = -errno;
			goto fail;
		}
		l->own_timer = 1;
	}
	blc_log(BELTLINE_LOG_DEBUG, "%s: reader %u (%s) of a %s ring of %u slots, %u DBuf regions",
		name, f->idx, bl_stream_policy_name(l->r->policy),
		bl_stream_policy_name(l->r->hdr->policy),   /* untrusted: a name or "?" */
		l->r->cap, l->n_dbufs);
	*out = s;
	return 0;
fail:
	blc_stream_free(s);    /* closes the owned fds it already holds */
	return rc;
fail_fds:
	if (f->wake_fd >= 0)
		close(f->wake_fd);
	if (f->ctl_fd >= 0)
		close(f->ctl_fd);
	return rc;
}

/* Resolve an entry (a private copy) to its bytes, or NULL. */
static const void *
live_resolve(struct blc_live *l, const struct bl_ibuf_entry *e)
{
	const struct blc_dbuf *d = &l->dbuf[l->last_dbuf];

	if (l->n_dbufs == 0 || e->dbuf_id == 0)
		return NULL;
	if (d->view.id != e->dbuf_id) {
		unsigned i;
		for (i = 0; i < l->n_dbufs && l->dbuf[i].view.id != e->dbuf_id; i++)
			;
		if (i == l->n_dbufs)
			return NULL;
		l->last_dbuf = i;
		d = &l->dbuf[i];
	}
	return bl_dbuf_view_ptr(&d->view, e);
}

/* Drain the wake fd (and our own); count a wakeup if the appliance had signalled (and
 * note it: l->signalled). A read shorter than the buffer emptied it (a stream socket
 * gives what it holds; an eventfd or a timerfd its counter): no second read for the
 * EAGAIN, a system call a sleep saved. */
static void
live_drain(struct beltline_stream *s)
{
	struct blc_live *l = &s->l;
	char b[64];
	uint64_t v;
	ssize_t r = (ssize_t)sizeof(b);
	int got = 0;

	for (int i = 0; i < 64 && !l->wake_eof && r == (ssize_t)sizeof(b) &&
	     (r = read(l->wake_fd, b, sizeof(b))) > 0; i++)
		got = 1;
	if (r == 0) {
		/* The appliance closed its end (we were detached; the connection says the
		 * rest): it signals no more, and an end of file would keep poll_fd readable. */
		l->wake_eof = 1;
		if (s->poll_fd >= 0)
			(void)epoll_ctl(s->poll_fd, EPOLL_CTL_DEL, l->wake_fd, NULL);
	}
	if (got && !l->own_timer)
		s->st.wakeups++;
	l->signalled = got && !l->own_timer;
	if (l->self_woken && read(l->self_fd, &v, sizeof(v)) < 0)
		v = 0;   /* drained already */
	l->self_woken = 0;
}

/*
 * Found the ring empty: a sleeper tells the appliance which entry it waits for
 * (rpage.wait = that seq + 1), so the appliance signals the wake channel with the
 * stream's moderation. relaxed: the appliance samples it on its wake tick; a wait
 * it sees late costs latency, never a lost wakeup (it re-reads head each tick).
 */
static void
live_wait(struct beltline_stream *s)
{
	struct blc_live *l = &s->l;

	if (!l->sleeper || l->own_timer || l->waiting)
		return;
	bl_ibuf_flush(l->r);     /* a sleeper holds back no more than it read */
	__atomic_store_n(&l->r->page->wait, l->r->pos + 1, __ATOMIC_RELAXED);
	l->waiting = 1;
}

/* Found entries: not waiting any more. */
static void
live_awake(struct beltline_stream *s)
{
	struct blc_live *l = &s->l;

	if (!l->waiting)
		return;
	__atomic_store_n(&l->r->page->wait, 0, __ATOMIC_RELAXED);   /* relaxed: as in live_wait */
	l->waiting = 0;
}

/*
 * A call cut short with entries still there (a run of bad ones, bounded so a garbage
 * ring cannot keep us): -EAGAIN. A sleeper's wait is 0 then (it found entries, or it
 * never found the ring empty), so the appliance will not signal it and a caller that
 * polls beltline_fd would sleep on entries that wait. Make the fd readable ourselves:
 * the caller comes back at once, and the next empty look drains it. A 1 ms timer
 * needs no help, nor does a busy poller.
 */
static int
live_again(struct beltline_stream *s)
{
	struct blc_live *l = &s->l;
	uint64_t one = 1;

	if (l->sleeper && l->self_fd >= 0 && !l->self_woken &&
	    write(l->self_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		l->self_woken = 1;
	return -EAGAIN;
}

/* 1 if the appliance hung up s's control connection (logged the first time, as what
 * ended: a verdict client's flush after its reader found the end said it again, and as a
 * crash, the appliance's word being read already), else 0. */
int
blc_live_hung_up(struct beltline_stream *s, const char *what)
{
	struct pollfd p = { .fd = s->l.ctl_fd, .events = POLLIN };

	if (s->l.hung_up)
		return 1;
	if (s->l.ctl_fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR))) {
		blc_ctl_log_hangup(s->l.ctl_fd, s->name, what);
		s->l.hung_up = 1;
		return 1;
	}
	return 0;
}

/* Nothing to read: 0 if the appliance hung up (end of stream), else -EAGAIN. */
static int
live_empty(struct beltline_stream *s)
{
	return blc_live_hung_up(s, "end of stream") ? 0 : -EAGAIN;
}

/* Pauses a busy poller takes after an empty look, at most (about a microsecond). */
#define BLC_IDLE_PAUSE_MAX 32u
/* A busy poller checks for a hangup (a poll() syscall) every this many empty looks. */
#define BLC_IDLE_CHECK     64u

/*
 * A busy poller (no beltline_fd) found the ring empty. Every look at an empty ring
 * loads the producer's head line; the producer's next publish then has to take the
 * line back from us (a transfer on its side, once per burst for a reader that keeps
 * up). So back off: pause 1, 2, 4 .. BLC_IDLE_PAUSE_MAX times after each empty look
 * while the ring stays empty, so a caught-up reader finds several bursts at once and
 * the producer publishes most of them into a line it still owns. No syscall on this
 * path but the hangup check every BLC_IDLE_CHECK looks; a busy poller needs no wake
 * fd drained (the appliance signals only readers that set their wait).
 */
static int
live_idle(struct beltline_stream *s)
{
	struct blc_live *l = &s->l;

	if (l->hung_up || (l->idle_looks++ % BLC_IDLE_CHECK == 0 && live_empty(s) == 0))
		return 0;   /* the end, and from then on (it said -EAGAIN to the next 63 looks) */
	for (unsigned i = 0; i < l->idle_pause; i++)
		bl_ibuf__pause();
	l->idle_pause = l->idle_pause == 0 ? 1 :
		l->idle_pause < BLC_IDLE_PAUSE_MAX ? l->idle_pause * 2 : BLC_IDLE_PAUSE_MAX;
	return -EAGAIN;
}

static int
live_peek(struct beltline_stream *s, struct beltline_pkt *v, unsigned n)
{
	struct blc_live *l = &s->l;
	const struct bl_ibuf_entry *ev[BLC_MAX_BURST];
	unsigned k, i, tries = 0, bad = 0;
	uint64_t seq;

	for (;;) {
		k = bl_ibuf_peek(l->r, ev, n, &seq);
		if (k == 0) {
			if (!l->sleeper)
				return live_idle(s);
			if (tries++ > 0)   /* the appliance signalled this sleep: it was there
			                    * then, and a hangup since wakes the caller's poll
			                    * (poll_fd watches the connection), whose next
			                    * empty look drains nothing and asks here */
				return l->signalled ? -EAGAIN : live_empty(s);
			live_wait(s);
			live_drain(s);      /* then look again: a publish may have raced the drain */
			continue;
		}
		live_awake(s);
		l->idle_pause = 0;
		for (i = 0; i < k; i++) {
			struct bl_ibuf_entry e = *ev[i];  /* private copy: the slot may change */
			const void *p = live_resolve(l, &e);
			if (p == NULL)
				break;
			v[i].data = p;
			v[i].caplen = e.length;
			v[i].len = e.length;
			v[i].seq = seq + i;
			v[i].ts_ns = 0;
			v[i].cls = e.cls;
			v[i].flags = 0;
			v[i].pad = 0;
		}
		if (i > 0) {
			l->held = seq;
			l->check_failed = 0;
			return (int)i;
		}
		/* The first entry points nowhere: skip it (counted once) and go on. */
		blc_log(BELTLINE_LOG_DEBUG, "%s: entry %llu points outside every DBuf: skipped",
			s->name, (unsigned long long)seq);
		s->st.invalid++;
		bl_ibuf_skip(l->r, 1);
		bl_ibuf_complete(l->r);
		if (++bad == BLC_MAX_BURST)     /* a garbage head must not keep us here: */
			return live_again(s);   /* the next call goes on skipping */
	}
}

static int
live_check(struct beltline_stream *s, uint64_t seq)
{
	int ok = bl_ibuf_check(s->l.r, seq);

	if (!ok)        /* the producer is at our heels: the release resyncs */
		s->l.check_failed = 1;
	return ok;
}

static int
live_release(struct beltline_stream *s, unsigned n)
{
	struct bl_ibuf_reader *r = s->l.r;

	/* The caller gives back the first n of the views it still holds, [held, held + n):
	 * an earlier release after the same peek gave back those before held. A lap since
	 * the peek moved the position on: only what is left is skipped. */
	uint64_t end = s->l.held + n;

	if (r->pos < end)
		bl_ibuf_skip(r, (unsigned)(end - r->pos));
	/* A check of these views failed: the producer is at our heels, so go on with room
	 * (bl_ibuf_resync), past what the caller held only: that was its to use or lose. */
	if (s->l.check_failed && n > 0)
		bl_ibuf_resync(r, end - 1);
	s->l.check_failed = 0;
	s->l.held = end;
	bl_ibuf_complete(r);
	return 0;
}

static int
live_read(struct beltline_stream *s, void *buf, size_t size, struct beltline_pkt_info *info)
{
	struct beltline_pkt v;
	unsigned failed = 0;
	int rc;

	for (;;) {
		if (failed == BLC_MAX_BURST)    /* as in live_peek: never spin on a bad ring */
			return live_again(s);
		rc = live_peek(s, &v, 1);
		if (rc <= 0)
			return rc;
		info->caplen = v.caplen;
		info->len = v.len;
		info->copied = v.caplen < size ? v.caplen : (uint32_t)size;
		info->cls = v.cls;
		info->flags = v.flags;
		info->seq = v.seq;
		info->ts_ns = v.ts_ns;
		if (info->copied != 0)      /* buf may be NULL when size is 0 */
			memcpy(buf, v.data, info->copied);
		rc = bl_ibuf_check(s->l.r, v.seq);  /* copies, then checks */
		bl_ibuf_skip(s->l.r, 1);
		if (rc == 1) {
			bl_ibuf_complete(s->l.r);
			return 1;
		}
		s->l.r->skipped++;    /* not consumed; counted in check_fail, so in lost */
		failed++;
		bl_ibuf_resync(s->l.r, v.seq);
		bl_ibuf_complete(s->l.r);
	}
}

static void
live_stats(const struct beltline_stream *s, struct beltline_stats *st)
{
	const struct bl_ibuf_rpage *pg = s->l.r != NULL ? s->l.r->page : NULL;

	if (pg == NULL)
		return;
	/* Our own page: written by this process only (relaxed counters). */
	st->lost = bl_counter_read(&pg->lost) + bl_counter_read(&pg->check_fail);
	st->laps = bl_counter_read(&pg->laps);
}

static void
live_info(const struct beltline_stream *s, struct beltline_info *info)
{
	const char *p;

	if (s->l.r == NULL)
		return;
	info->capacity = s->l.r->cap;
	p = bl_stream_policy_name(s->l.r->policy);
	for (size_t i = 0; i + 1 < sizeof(info->policy) && p[i]; i++)
		info->policy[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
}

static void
live_close(struct beltline_stream *s)
{
	struct blc_live *l = &s->l;

	if (l->r != NULL)
		bl_ibuf_flush(l->r);
	bl_ibuf_reader_close(l->r);
	for (unsigned i = 0; i < l->n_dbufs; i++)
		bl_shm_free(l->dbuf[i].shm);
	if (l->ctl_fd >= 0)
		close(l->ctl_fd);   /* the appliance detaches us */
	if (l->wake_fd >= 0)
		close(l->wake_fd);  /* s->poll_fd, watching them, is blc_stream_free's */
	if (l->self_fd >= 0)
		close(l->self_fd);
}

/*
 * beltline_fd(): asking for the fd makes a live reader a sleeper (beltline.h), and the
 * first ask makes the fd, kept for the stream's life: an epoll descriptor over the wake
 * fd (EPOLLIN: the appliance's signal), our own eventfd (EPOLLIN: live_again's; the
 * wake channel is the appliance's alone to write), both drained by an empty look,
 * and the control connection. The wake fd alone was the fd before, and nothing signals
 * it when the appliance dies or a reload removes the stream: a caller sleeping on it
 * without a timeout never learnt that the stream had ended. The connection is watched
 * for EPOLLHUP (and EPOLLERR, always): what live_empty calls the end, so the next peek
 * says 0. Not EPOLLIN or EPOLLRDHUP: the appliance's notice comes before its close, and
 * a readiness the next peek does not turn into 0 or packets would spin the caller's
 * poll loop. A busy poller never asks: no epoll, no cost. 0 or -errno (logged; the
 * reader then stays a busy poller).
 */
static int
live_fd_asked(struct beltline_stream *s)
{
	struct blc_live *l = &s->l;
	struct epoll_event wev = { .events = EPOLLIN, .data.fd = l->wake_fd };
	struct epoll_event cev = { .events = EPOLLHUP, .data.fd = l->ctl_fd };
	struct epoll_event sev = { .events = EPOLLIN };
	int ep, rc;

	if (s->poll_fd >= 0)
		return 0;
	if (!l->own_timer && l->self_fd < 0)
		l->self_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sev.data.fd = l->self_fd;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || (!l->own_timer && l->self_fd < 0) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, l->wake_fd, &wev) < 0 ||
	    (l->self_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, l->self_fd, &sev) < 0) ||
	    (l->ctl_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, l->ctl_fd, &cev) < 0)) {
		rc = -errno;
		if (ep >= 0)
			close(ep);
		if (l->self_fd >= 0)
			close(l->self_fd);
		l->self_fd = -1;
		blc_log(BELTLINE_LOG_ERROR, "%s: cannot make the pollable fd: %s", s->name,
			strerror(-rc));
		return rc;
	}
	s->poll_fd = ep;
	l->sleeper = 1;
	/* A reader whose last look found the ring empty as a busy poller (beltline.h's own
	 * pattern asks for the fd at its first -EAGAIN) never told the appliance it waits:
	 * nothing would signal it, and a caller polling with no timeout slept for ever (a
	 * verdict client so held let every packet time out). Readable now, so the caller
	 * looks again: that empty look sets the wait and drains this. (idle_pause: not 0
	 * from a busy poller's empty look until it finds entries.) */
	if (l->self_fd >= 0 && !l->self_woken && l->idle_pause != 0) {
		uint64_t one = 1;

		if (write(l->self_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			l->self_woken = 1;
	}
	return 0;
}

const struct blc_src_ops blc_live_ops = {
	.peek = live_peek,
	.release = live_release,
	.close = live_close,
	.check = live_check,
	.read = live_read,
	.stats = live_stats,
	.info = live_info,
	.fd_asked = live_fd_asked,
};
