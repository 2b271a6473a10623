/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An LD_PRELOAD shim for top.sh: the first message this process receives with recvmsg
 * (a `beltline` command's first reply from the control socket) is handed over
 * $SLOW_REPLY_MS ms after it arrived, as if the client had been kept off its CPU
 * between reading the reply and reading its clock.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	static int held;
	ssize_t r;

	if (real == NULL)
		real = (ssize_t (*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
	r = real(fd, m, flags);
	if (r > 0 && !held && getenv("SLOW_REPLY_MS") != NULL) {
		long ms = atol(getenv("SLOW_REPLY_MS"));
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		held = 1;
		nanosleep(&ts, NULL);
	}
	return r;
}
