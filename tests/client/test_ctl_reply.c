/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The client's side of a control reply (client/ctl.c, docs/control.md): a reply
 * of several records joined whole; records that do not belong refused; a notice
 * (the server shutting the client out) returned with its reason, also when the
 * request could not even be sent. The server is a thread on the other end of a
 * SOCK_SEQPACKET socketpair that reads the request and sends what a case says.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beltline.h"
#include "beltline_priv.h"
#include "bl_stream_proto.h"

#define ROOM (BL_CTL_MSG_MAX - sizeof(struct bl_ctl_hdr))

struct script {
	int fd;
	const char *body;        /* the reply, cut into records of ROOM bytes */
	int status;
	int bad_record;          /* 1-based record to spoil, 0: none */
	enum { SPOIL_ID, SPOIL_STATUS, SPOIL_OP, SPOIL_NOTICE } spoil;
};

/* Whether it went: after a spoilt record the client hangs up, and the rest cannot. */
static int
send_record(int fd, struct bl_ctl_hdr h, const char *p, size_t n)
{
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, n } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	h.len = (uint32_t)n;
	return sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)(sizeof(h) + n);
}

static void *
serve(void *arg)
{
	struct script *s = arg;
	struct bl_ctl_hdr h;
	char req[BL_CTL_MSG_MAX];
	size_t len = strlen(s->body), off = 0;

	if (recv(s->fd, req, sizeof(req), 0) < (ssize_t)sizeof(h))
		return NULL;
	memcpy(&h, req, sizeof(h));
	h.status = s->status;
	for (int i = 1; off < len || i == 1; i++) {
		struct bl_ctl_hdr r = h;
		size_t n = len - off < ROOM ? len - off : ROOM;

		if (off + n < len)
			r.op |= BL_CTL_OP_MORE;
		if (i == s->bad_record && s->spoil == SPOIL_ID)
			r.id++;
		if (i == s->bad_record && s->spoil == SPOIL_STATUS)
			r.status = -EIO;
		if (i == s->bad_record && s->spoil == SPOIL_OP)
			r.op = (uint16_t)((r.op & BL_CTL_OP_MORE) | BL_CTL_LIST);
		if (i == s->bad_record && s->spoil == SPOIL_NOTICE) {   /* only ever first, alone */
			r.op = (uint16_t)((r.op & BL_CTL_OP_MORE) | BL_CTL_NOTICE);
			r.id = 0;
			r.status = -EBUSY;
		}
		if (!send_record(s->fd, r, s->body + off, n))
			break;
		off += n;
	}
	return NULL;
}

/* A JSON object of about `size` bytes: {"pad":"xxx...x","end":1}. */
static char *
big_json(size_t size)
{
	char *b = malloc(size + 32);

	cr_assert(b != NULL);
	strcpy(b, "{\"pad\":\"");
	memset(b + 8, 'x', size);
	strcpy(b + 8 + size, "\",\"end\":1}");
	return b;
}

static int
call(struct script *s, char **reply)
{
	int sv[2];
	pthread_t t;
	int rc;

	cr_assert(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	s->fd = sv[1];
	cr_assert(pthread_create(&t, NULL, serve, s) == 0);
	rc = blc_ctl_call_fd(sv[0], 5000, BL_CTL_STATS, NULL, reply, NULL, 0, NULL);
	close(sv[0]);      /* a spoilt reply leaves the server blocked on a full socket */
	pthread_join(t, NULL);
	close(sv[1]);
	return rc;
}

Test(ctl_reply, one_record_as_before)
{
	struct script s = { .body = "{\"instance\":\"t\"}" };
	char *r = NULL;

	cr_assert(eq(int, call(&s, &r), 0));
	cr_assert(eq(str, r, "{\"instance\":\"t\"}"));
	free(r);
}

Test(ctl_reply, several_records_are_joined_whole)
{
	static const size_t sizes[] = { ROOM - 18, ROOM - 17, 3 * ROOM, 5 * ROOM + 12345, 1u << 20 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *body = big_json(sizes[i]), *r = NULL;
		struct script s = { .body = body };

		cr_assert(eq(int, call(&s, &r), 0), "%zu bytes", sizes[i]);
		cr_assert(r != NULL && strcmp(r, body) == 0, "%zu bytes: the reply differs",
			  sizes[i]);
		free(r);
		free(body);
	}
}

Test(ctl_reply, an_error_reply_of_several_records_keeps_its_status)
{
	char *body = big_json(2 * ROOM), *r = NULL;
	struct script s = { .body = body, .status = -EACCES };

	cr_assert(eq(int, call(&s, &r), -EACCES));
	cr_assert(r != NULL && strcmp(r, body) == 0);
	free(r);
	free(body);
}

Test(ctl_reply, a_record_that_does_not_belong_is_refused)
{
	static const struct { int rec; int spoil; } cases[] = {
		{ 2, SPOIL_ID }, { 3, SPOIL_ID }, { 2, SPOIL_STATUS }, { 3, SPOIL_OP }, { 1, SPOIL_OP },
		{ 2, SPOIL_NOTICE }, { 1, SPOIL_NOTICE },
	};
	char *body = big_json(2 * ROOM + 100);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script s = { .body = body, .bad_record = cases[i].rec, .spoil = cases[i].spoil };
		char *r = NULL;

		cr_assert(eq(int, call(&s, &r), -EPROTO), "case %zu", i);
		cr_assert(r == NULL, "case %zu", i);
	}
	free(body);
}

/* The server's notice: op 0, id 0, a negative status, and why. */
static void
send_notice(int fd, int status, const char *why)
{
	struct bl_ctl_hdr h = { .magic = BL_CTL_MAGIC, .version = BL_CTL_VERSION,
		.op = BL_CTL_NOTICE, .status = status };

	cr_assert(send_record(fd, h, why, strlen(why)));
}

Test(ctl_reply, a_notice_in_place_of_the_reply)
{
	int sv[2];
	char *r = NULL;

	cr_assert(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	send_notice(sv[1], -EUSERS, "{\"error\":\"too many connections from uid 1 (limit 32)\"}");
	cr_assert(eq(int, blc_ctl_call_fd(sv[0], 5000, BL_CTL_LIST, NULL, &r, NULL, 0, NULL),
		     -EUSERS));
	cr_assert(r != NULL && strstr(r, "too many connections") != NULL, "%s", r ? r : "(null)");
	free(r);
	close(sv[0]);
	close(sv[1]);
}

/* Shut out before it sent: the send fails with EPIPE, the notice is still read. */
Test(ctl_reply, a_notice_after_the_send_failed)
{
	int sv[2];
	char *r = NULL;
	char b[64];

	cr_assert(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	send_notice(sv[1], -EBUSY, "{\"error\":\"the control socket is full\"}");
	shutdown(sv[1], SHUT_RD);
	while (recv(sv[1], b, sizeof(b), MSG_DONTWAIT) > 0)
		;
	close(sv[1]);
	cr_assert(eq(int, blc_ctl_call_fd(sv[0], 5000, BL_CTL_LIST, NULL, &r, NULL, 0, NULL),
		     -EBUSY));
	cr_assert(r != NULL && strstr(r, "full") != NULL, "%s", r ? r : "(null)");
	free(r);
	close(sv[0]);
}
