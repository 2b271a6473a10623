/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline inject NAME FILE [-r PPS] [-l LOOPS] [-w MS]: replay a pcap/pcapng file into the
 * graph's `inject name=NAME` stream, frame by frame, in order.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "beltline.h"
#include "bl_stream_proto.h"
#include "bl_time.h"
#include "cli_pvt.h"

/* What a pass met in the file that it did not send as it was. */
struct inject_odd {
	uint64_t empty;   /* records of 0 bytes: skipped (there is no empty frame to send) */
	uint64_t cut;     /* records shorter than their frame (a snap length): sent as cut */
};

/* When frame k may leave: k / pps seconds after t0 (split, so k * 10^9 never overflows). */
static uint64_t
due_ns(uint64_t t0, uint64_t k, unsigned long long pps)
{
	return t0 + k / pps * 1000000000ull + k % pps * 1000000000ull / pps;
}

/* Sleep until CLOCK_MONOTONIC reads due_ns (a signal ends it sooner: the caller looks at
 * its stop flag). A slow pace must not wake every 50 us: 10 frames a second took 14% of
 * a CPU that way. */
static void
sleep_until(uint64_t due)
{
	struct timespec ts = { .tv_sec = (time_t)(due / 1000000000ull),
			       .tv_nsec = (long)(due % 1000000000ull) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Every buffer is committed: sleep until half come back (the appliance signals the
 * writer's fd), 100 ms at most so a stop is seen; spin a little if there is no fd. */
static void
wait_for_room(struct beltline_writer *w)
{
	struct pollfd p = { .fd = beltline_write_fd(w), .events = POLLIN };

	if (p.fd < 0 || poll(&p, 1, 100) < 0)
		usleep(20);
}

/* One pass over the file f (opened from path; closed here) into w. Returns 0, or 1 (an
 * error, said). */
static int
inject_file(struct beltline_writer *w, struct beltline_stream *f, const char *path,
	    unsigned long long pps, uint64_t *sent, uint64_t t0, struct inject_odd *odd)
{
	struct beltline_pkt v;
	int rc = 0;   /* stopped before the first peek: nothing to say */

	while (!bl_cli_stop && (rc = beltline_peek(f, &v, 1)) == 1) {
		void *buf;
		uint32_t room;

		if (v.caplen == 0) {
			odd->empty++;
			beltline_release(f, 1);
			continue;
		}
		odd->cut += v.caplen < v.len;
		if (pps != 0)   /* frame k leaves no earlier than k / pps after the start */
			while (!bl_cli_stop && bl_mono_ns() < due_ns(t0, *sent, pps))
				sleep_until(due_ns(t0, *sent, pps));
		if (bl_cli_stop)       /* stopped while pacing: no buffer got, nothing to commit */
			break;
		while ((rc = beltline_getwritebuf(w, &buf, &room)) == -EAGAIN && !bl_cli_stop)
			wait_for_room(w);
		if (rc < 0) {
			if (!bl_cli_stop)
				fprintf(stderr, "beltline: inject: %s\n", rc == -EPIPE ?
					"the stream is gone (the appliance stopped, or a reload removed the stream)" :
					strerror(-rc));
			beltline_close(f);
			return !bl_cli_stop;
		}
		if (v.caplen > room) {   /* the buffer got stays uncommitted: we stop here */
			char fix[160] = "Raise the inject filter's max_frame (and mbufs.data_room, "
					"if the frame is longer than that)";

			if (v.caplen > BL_INJECT_MAX_FRAME)
				snprintf(fix, sizeof(fix), "No inject stream takes it: max_frame is "
					 "at most %u (cut the capture's frames first: editcap -s %u)",
					 BL_INJECT_MAX_FRAME, BL_INJECT_MAX_FRAME);
			fprintf(stderr, "beltline: inject: %s: frame %llu, of %u bytes, does not fit "
				"the stream's max_frame (%u); the %llu before it went in. %s\n", path,
				(unsigned long long)*sent + 1, v.caplen, room, (unsigned long long)*sent,
				fix);
			beltline_close(f);
			return 1;
		}
		memcpy(buf, v.data, v.caplen);
		rc = beltline_commit(w, buf, v.caplen);
		beltline_release(f, 1);
		if (rc < 0) {
			beltline_close(f);
			return 1;
		}
		(*sent)++;
	}
	beltline_close(f);
	if (rc < 0 && !bl_cli_stop) {
		if (rc != -EPROTO)   /* -EPROTO: a record it cannot read, said by the library */
			fprintf(stderr, "beltline: inject: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	return 0;
}

int
bl_cli_inject(int argc, char **argv, const char *instance)
{
	struct beltline_write_stats st = { .sz = sizeof(st) };
	struct beltline_writer *w;
	struct beltline_stream *f;
	struct stat sb;
	struct inject_odd odd = { 0 };
	unsigned long long pps = 0, loops = 1, wait_ms = 10000;
	uint64_t sent = 0, t0;
	char uri[512];
	int c, rc, status = 0;

	optind = 0;
	while ((c = getopt(argc, argv, "r:l:w:h")) != -1) {
		unsigned long long *v = c == 'r' ? &pps : c == 'l' ? &loops : &wait_ms;

		switch (c) {
		case 'r':
		case 'l':
		case 'w':
			if (bl_cli_number(optarg, c == 'l', c == 'w' ? 3600000 : ULLONG_MAX, v) < 0) {
				fprintf(stderr, "beltline: inject: -%c wants a number%s, got '%s'\n", c,
					c == 'l' ? " >= 1" : c == 'w' ? " of ms, 0..3600000" : "",
					optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(bl_cli_usage, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 2) {
		fprintf(stderr, "beltline: inject wants NAME FILE\n" BL_CLI_SEE_HELP);
		return 2;
	}
	if (strstr(argv[optind], "://") != NULL)
		rc = snprintf(uri, sizeof(uri), "%s", argv[optind]);
	else
		rc = snprintf(uri, sizeof(uri), "beltline://%s/%s", instance, argv[optind]);
	if (rc < 0 || (size_t)rc >= sizeof(uri)) {
		fprintf(stderr, "beltline: inject: stream name too long\n");
		return 2;
	}
	/* A pipe (tcpdump -w - | beltline inject r /dev/stdin, or <(...)) is read once: the
	 * file opened for the check below is the one the first pass reads (opened twice, the
	 * second open found the pipe drained: "not a pcap file"); it cannot be played again. */
	if (loops > 1 && stat(argv[optind + 1], &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "beltline: inject: %s: -l %llu plays the file again, and this is no "
			"regular file (a pipe is read once): copy it into a file first\n",
			argv[optind + 1], loops);
		return 2;
	}
	{       /* the file first: a file it cannot read takes no writer's place on the stream */
		struct beltline_info info = { .sz = sizeof(info) };

		if (beltline_open(argv[optind + 1], NULL, &f) < 0)
			return 1;    /* the library said why */
		beltline_info(f, &info);
		if (info.linktype != 1) {   /* LINKTYPE_ETHERNET: what a graph's filters parse */
			fprintf(stderr, "beltline: inject: %s: link type %d, not Ethernet (1): an "
				"inject stream carries Ethernet frames\n", argv[optind + 1],
				info.linktype);
			beltline_close(f);
			return 1;
		}
	}
	rc = beltline_open_write(uri, NULL, &w);
	if (rc < 0) {
		beltline_close(f);
		if (rc == -ENOENT && strncmp(uri, "beltline://", 11) == 0)
			bl_cli_hint_instances(instance);
		return 1;    /* the library said why */
	}
	t0 = bl_mono_ns();
	for (unsigned long long l = 0; l < loops && !bl_cli_stop && status == 0; l++) {
		if (l > 0 && beltline_open(argv[optind + 1], NULL, &f) < 0) {
			status = 1;    /* the library said why */
			break;
		}
		status = inject_file(w, f, argv[optind + 1], pps, &sent, t0, &odd);
		f = NULL;
	}
	if (f != NULL)   /* stopped before the first pass */
		beltline_close(f);
	if (odd.empty != 0)
		fprintf(stderr, "beltline: inject: %s: %llu records of 0 bytes skipped\n",
			argv[optind + 1], (unsigned long long)odd.empty);
	if (odd.cut != 0)
		fprintf(stderr, "beltline: inject: %s: %llu frames shorter in the file than on the "
			"wire (a snap length): sent as the file has them\n", argv[optind + 1],
			(unsigned long long)odd.cut);
	rc = beltline_write_flush(w, (int)wait_ms);
	if (rc < 0 && status == 0) {
		fprintf(stderr, "beltline: inject: %s: the appliance did not take the last frames: "
			"%s\n", uri, strerror(-rc));
		status = 1;
	}
	beltline_write_stats(w, &st);
	if (st.refused != 0 && status == 0) {
		fprintf(stderr, "beltline: inject: %s: the appliance refused %llu frames\n", uri,
			(unsigned long long)st.refused);
		status = 1;
	}
	if (status == 0 && !bl_cli_verbose && !bl_cli_stop)
		fprintf(stderr, "beltline: inject: %llu frames into %s\n",
			(unsigned long long)st.committed, uri);
	if (bl_cli_verbose)
		fprintf(stderr, "beltline: inject: %llu frames committed, %llu read, %llu refused, "
			"%llu waits for a buffer\n", (unsigned long long)st.committed,
			(unsigned long long)st.consumed, (unsigned long long)st.refused,
			(unsigned long long)st.full);
	beltline_write_close(w);
	return status;
}
