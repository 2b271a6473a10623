/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stream — the public calls: URI parsing (late binding), then the same calls
 * on whichever source the URI named, through its table (struct blc_src_ops in
 * beltline_priv.h: src_file.c, src_live.c, src_net.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beltline_priv.h"
#include "bl_stream_proto.h"

int
beltline_open(const char *uri, const struct beltline_open_opts *opts, struct beltline_stream **out)
{
	struct beltline_stream *s;
	const char *path;
	int rc;

	BLC_REFUSE_IF(out == NULL, "out is NULL");
	*out = NULL;
	if (uri == NULL || uri[0] == '\0') {
		blc_log(BELTLINE_LOG_ERROR, "beltline_open: empty URI (want beltline://INSTANCE/STREAM, "
			"file:PATH or a pcap file path)");
		return -EINVAL;
	}
	if (blc_open_opts_check(uri, opts) < 0)
		return -EINVAL;
	if (strncmp(uri, "beltline://", 11) == 0) {
		const char *inst = uri + 11, *slash = strchr(inst, '/');
		if (slash == NULL || !bl_instance_name_ok(inst, (size_t)(slash - inst)) ||
		    !bl_stream_name_ok(slash + 1, strlen(slash + 1))) {
			blc_log(BELTLINE_LOG_ERROR, "%s: bad URI: want beltline://INSTANCE/STREAM, "
				"INSTANCE 1..%u characters of [A-Za-z0-9_-], STREAM 1..%u of "
				"[A-Za-z0-9_.-]", uri, BL_INSTANCE_NAME_MAX - 1, BL_STREAM_NAME_MAX - 1);
			return -EINVAL;
		}
		return beltline__open_uri_live(uri, inst, (size_t)(slash - inst), slash + 1, opts, out);
	}
	if (strncmp(uri, "tcp://", 6) == 0 || strncmp(uri, "tls://", 6) == 0 ||
	    strncmp(uri, "udp://", 6) == 0)
		return beltline__open_net(uri, opts, out);     /* src_net.c */
	if (strncmp(uri, "file:", 5) == 0) {
		path = uri + 5;
		if (strncmp(path, "//", 2) == 0)    /* file:///abs/path */
			path += 2;
	} else if (strstr(uri, "://") != NULL) {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad URI: unknown scheme (known: beltline://, file:, tcp://, udp://, tls://)", uri);
		return -EINVAL;
	} else {
		path = uri;
	}
	if (path[0] == '\0') {
		blc_log(BELTLINE_LOG_ERROR, "%s: bad URI: empty file path", uri);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->kind = BELTLINE_KIND_FILE;
	snprintf(s->content, sizeof(s->content), "packets");   /* a capture file holds packets */
	s->ops = &blc_file_ops;
	s->poll_fd = -1;
	snprintf(s->name, sizeof(s->name), "%s", path);
	rc = blc_file_open(s, path);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
beltline_close(struct beltline_stream *s)
{
	if (s != NULL)
		blc_stream_free(s);
}

int
beltline_peek(struct beltline_stream *s, struct beltline_pkt *views, unsigned n)
{
	BLC_REFUSE_IF(s == NULL, "s is NULL");
	BLC_REFUSE_IF(views == NULL, "views is NULL");
	BLC_REFUSE_IF(n == 0, "n is 0");
	if (n > BLC_MAX_BURST)
		n = BLC_MAX_BURST;
	int rc = s->ops->peek(s, views, n);

	s->peeked = rc > 0 ? (unsigned)rc : 0;
	return rc;
}

int
beltline_check(struct beltline_stream *s, uint64_t seq)
{
	BLC_REFUSE_IF(s == NULL, "s is NULL");
	return s->ops->check != NULL ? s->ops->check(s, seq) : 1;
}

int
beltline_release(struct beltline_stream *s, unsigned n)
{
	int rc;

	BLC_REFUSE_IF(s == NULL, "s is NULL");
	if (n > s->peeked) {
		blc_log(BELTLINE_LOG_ERROR, "%s: release of %u packets, but the last peek gave %u",
			s->name, n, s->peeked);
		return -EINVAL;
	}
	if (n == 0)
		return 0;
	rc = s->ops->release(s, n);
	if (rc == 0) {
		s->peeked -= n;
		s->st.received += n;
	}
	return rc;
}

static void
fill_info(struct beltline_pkt_info *info, const struct beltline_pkt *v, size_t size)
{
	info->caplen = v->caplen;
	info->len = v->len;
	info->copied = v->caplen < size ? v->caplen : (uint32_t)size;
	info->cls = v->cls;
	info->flags = v->flags;
	info->seq = v->seq;
	info->ts_ns = v->ts_ns;
}

int
beltline_read(struct beltline_stream *s, void *buf, size_t size, struct beltline_pkt_info *info)
{
	struct beltline_pkt_info tmp;
	struct beltline_pkt v;
	int rc;

	BLC_REFUSE_IF(s == NULL, "s is NULL");
	BLC_REFUSE_IF(buf == NULL && size > 0, "buf is NULL and size is not 0");
	if (info == NULL)
		info = &tmp;
	s->peeked = 0;          /* views of an earlier peek are given up */
	if (s->ops->read != NULL) {
		rc = s->ops->read(s, buf, size, info);
		if (rc == 1)
			s->st.received++;
		return rc;
	}
	rc = s->ops->peek(s, &v, 1);
	if (rc <= 0)
		return rc;
	fill_info(info, &v, size);
	if (info->copied != 0)      /* buf may be NULL when size is 0 */
		memcpy(buf, v.data, info->copied);
	s->peeked = 1;
	return beltline_release(s, 1) == 0 ? 1 : -EIO;
}

int
beltline_fd(const struct beltline_stream *s)
{
	int rc;

	BLC_REFUSE_IF(s == NULL, "s is NULL");
	/* Asking for the fd makes a live reader a sleeper, and makes the fd (beltline.h).
	 * Streams are always allocated writable (beltline_open), so this const cast is sound. */
	if (s->ops->fd_asked != NULL) {
		rc = s->ops->fd_asked((struct beltline_stream *)s);
		if (rc < 0)
			return rc;
	}
	return s->poll_fd;
}

int
beltline_stats(const struct beltline_stream *s, struct beltline_stats *st)
{
	struct beltline_stats full;
	size_t sz;

	BLC_REFUSE_IF(s == NULL, "s is NULL");
	BLC_REFUSE_IF(st == NULL, "st is NULL");
	BLC_REFUSE_IF(st->sz < sizeof(size_t), "st->sz is unset (set it to sizeof(struct beltline_stats))");
	sz = st->sz < sizeof(full) ? st->sz : sizeof(full);
	full = s->st;
	if (s->ops->stats != NULL)
		s->ops->stats(s, &full);
	full.sz = sz;
	memcpy(st, &full, sz);
	return 0;
}

int
beltline_info(const struct beltline_stream *s, struct beltline_info *info)
{
	struct beltline_info full;
	size_t sz;

	BLC_REFUSE_IF(s == NULL, "s is NULL");
	BLC_REFUSE_IF(info == NULL, "info is NULL");
	BLC_REFUSE_IF(info->sz < sizeof(size_t), "info->sz is unset (set it to sizeof(struct beltline_info))");
	sz = info->sz < sizeof(full) ? info->sz : sizeof(full);
	memset(&full, 0, sizeof(full));
	full.kind = s->kind;
	full.linktype = s->linktype;
	full.snaplen = s->snaplen;
	snprintf(full.name, sizeof(full.name), "%s", s->name);
	snprintf(full.content, sizeof(full.content), "%s", s->content);
	if (s->ops->info != NULL)
		s->ops->info(s, &full);
	full.sz = sz;
	memcpy(info, &full, sz);
	return 0;
}
