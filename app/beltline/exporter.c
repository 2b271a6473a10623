/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline exporter — serve an instance's stats to Prometheus (docs/metrics.md).
 *
 *   beltline [-i INSTANCE] exporter [--listen ADDR:PORT]   (default 127.0.0.1:9482)
 *
 * HTTP is libmicrohttpd's, one internal thread: scrapes are answered one at a
 * time, each with a fresh `stats` request over the control socket (a new
 * connection each time: the server closes one idle for 10 s, and a scrape
 * interval is usually longer). GET /metrics: the exposition (prom.h); an
 * instance that does not answer gives beltline_up 0, not an HTTP error, so
 * Prometheus records the outage. GET /: a line pointing there. Anything else: 404
 * or 405. Runs until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "beltline.h"
#include "bl_time.h"
#include "exporter.h"
#include "ondemand.h"
#include "prom.h"

/* libmicrohttpd's calls, looked up when `exporter` runs (ondemand.h). */
static const char *const mhd_names[] = { "MHD_start_daemon", "MHD_stop_daemon",
	"MHD_create_response_from_buffer", "MHD_add_response_header", "MHD_queue_response",
	"MHD_destroy_response", "MHD_lookup_connection_value" };
static void *mhd_fn[sizeof(mhd_names) / sizeof(mhd_names[0])];
#define MHD_start_daemon ((__typeof__(&MHD_start_daemon))mhd_fn[0])
#define MHD_stop_daemon ((__typeof__(&MHD_stop_daemon))mhd_fn[1])
#define MHD_create_response_from_buffer \
	((__typeof__(&MHD_create_response_from_buffer))mhd_fn[2])
#define MHD_add_response_header ((__typeof__(&MHD_add_response_header))mhd_fn[3])
#define MHD_queue_response ((__typeof__(&MHD_queue_response))mhd_fn[4])
#define MHD_destroy_response ((__typeof__(&MHD_destroy_response))mhd_fn[5])
#define MHD_lookup_connection_value ((__typeof__(&MHD_lookup_connection_value))mhd_fn[6])

#define EXPORTER_DEFAULT_LISTEN "127.0.0.1:9482"
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct exporter {
	const char *instance;
	unsigned long long scrapes, failures;   /* MHD's one thread only */
};

/* The client library's last line (MHD's one thread calls it; the main thread only
 * before the daemon starts): said with the outage it explains, once, not at every
 * scrape of a stopped instance. */
static char lib_said[256];

static void
lib_log(enum beltline_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	snprintf(lib_said, sizeof(lib_said), "%s", msg);
}

/* How long a scrape may wait for the instance, ms: what Prometheus says it waits
 * (X-Prometheus-Scrape-Timeout-Seconds) less half a second, else FETCH_MS_DEF; within
 * FETCH_MS_MIN..FETCH_MS_MAX. The library's 10 s was Prometheus' whole default
 * scrape_timeout: a stopped instance gave failed scrapes, not the beltline_up 0 promised,
 * and scrapes are answered one at a time, so a second waited for the first too. */
#define FETCH_MS_DEF 3000
#define FETCH_MS_MIN 500
#define FETCH_MS_MAX 10000
#define FETCH_DOWN_MS 2000

static int
fetch_ms(struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "X-Prometheus-Scrape-Timeout-Seconds");
	char *end;
	double s;

	if (h == NULL)
		return FETCH_MS_DEF;
	s = strtod(h, &end);
	if (end == h || !(s > 0))
		return FETCH_MS_DEF;
	s = s * 1000 - 500;
	return s < FETCH_MS_MIN ? FETCH_MS_MIN : s > FETCH_MS_MAX ? FETCH_MS_MAX : (int)s;
}

/* The instance's stats as JSON, or NULL (said once per change of state on stderr). */
static cJSON *
fetch_stats(struct exporter *x, int timeout_ms)
{
	static int last_rc;
	struct beltline_open_opts o = { .sz = sizeof(o), .timeout_ms = timeout_ms };
	struct beltline_ctl *c;
	char *reply = NULL;
	cJSON *j = NULL;
	int rc;

	/* A fetch that failed is not tried again for FETCH_DOWN_MS: scrapes are answered one
	 * at a time, and two Prometheus servers scraping a stopped instance each waited
	 * behind the other's timeout (a failed scrape, not beltline_up 0). */
	static uint64_t down_at;
	if (down_at != 0 && bl_mono_ms() - down_at < FETCH_DOWN_MS)
		return NULL;
	lib_said[0] = '\0';
	rc = beltline_ctl_open(x->instance, &o, &c);
	if (rc == 0) {
		rc = beltline_ctl_call(c, BELTLINE_CTL_STATS, NULL, &reply);
		beltline_ctl_close(c);
	}
	if (rc == 0) {
		j = cJSON_Parse(reply);
		if (j == NULL)
			rc = -EPROTO;
	}
	free(reply);
	if (rc != last_rc && rc == 0)
		fprintf(stderr, "beltline: exporter: instance '%s' answers again\n", x->instance);
	else if (rc != last_rc)
		fprintf(stderr, "beltline: exporter: instance '%s': %s (serving beltline_up 0)%s%s\n",
			x->instance, strerror(-rc), lib_said[0] ? ": " : "", lib_said);
	last_rc = rc;
	down_at = rc == 0 ? 0 : bl_mono_ms();
	return j;
}

static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned int status, char *body, size_t len,
	const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
respond_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	char *b = strdup(text);

	return b == NULL ? MHD_NO : respond(conn, status, b, strlen(b), "text/plain; charset=utf-8");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct exporter *x = cls;
	size_t len = 0;
	char *body;
	cJSON *j;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {   /* the headers are in; answer once the (empty) body is */
		*con_cls = x;
		return MHD_YES;
	}
	if (*upload_size != 0) {  /* a body we do not want: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/") == 0)
		return respond_text(conn, MHD_HTTP_OK,
				    "beltline exporter: the metrics are at /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	x->scrapes++;
	j = fetch_stats(x, fetch_ms(conn));
	if (j != NULL) {
		const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "instance");
		body = bl_prom_render(j, cJSON_IsString(in) ? in->valuestring : x->instance, &len);
	} else {
		x->failures++;
		body = bl_prom_render_down(x->instance, &len);
	}
	cJSON_Delete(j);
	if (body == NULL)
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return respond(conn, MHD_HTTP_OK, body, len, PROM_CONTENT_TYPE);
}

/* ADDR:PORT, [ADDR6]:PORT or :PORT (every address) into *ss. 0, or -1 after saying why. */
static int
parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | AI_PASSIVE }, *res = NULL;
	char host[256];
	const char *colon, *port;
	size_t hl;
	int rc;

	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		hl = (size_t)(close - arg - 1);
		memcpy(host, arg + 1, hl < sizeof(host) ? hl : 0);
		colon = close + 1;
	} else {
		colon = strrchr(arg, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - arg);
		if (hl < sizeof(host))
			memcpy(host, arg, hl);
	}
	if (hl >= sizeof(host))
		goto bad;
	host[hl] = '\0';
	port = colon + 1;
	if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || atol(port) < 1 ||
	    atol(port) > 65535)
		goto bad;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "beltline: exporter: --listen %s: %s\n", arg, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	fprintf(stderr, "beltline: exporter: --listen wants ADDRESS:PORT ([ADDRESS]:PORT for "
		"IPv6, :PORT for every IPv4 address; port 1..65535), got '%s'\n", arg);
	return -1;
}

/* A listening TCP socket on ss, or -errno. */
static int
listen_on(const struct sockaddr_storage *ss, socklen_t sl)
{
	int one = 1, e;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)   /* [::]:PORT is IPv6 only, as MHD_USE_IPv6 made it */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, sl) != 0 || listen(fd, 64) != 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int
bl_cli_exporter(int argc, char **argv, const char *instance)
{
	const char *listen = EXPORTER_DEFAULT_LISTEN;
	struct exporter x = { .instance = instance };
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	sigset_t block, old;
	char shown[INET6_ADDRSTRLEN];
	socklen_t sl = 0;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int lfd;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strncmp(argv[i], "--listen=", 9) == 0) {
			listen = argv[i] + 9;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: beltline [-i INSTANCE] exporter [--listen ADDRESS:PORT]\n"
			       "  serves the instance's stats to Prometheus at http://ADDRESS:PORT/metrics\n"
			       "  (default %s)\n", EXPORTER_DEFAULT_LISTEN);
			return 0;
		} else if (strcmp(argv[i], "--listen") == 0) {
			fprintf(stderr, "beltline: exporter: --listen wants ADDRESS:PORT\n");
			return 2;
		} else {
			fprintf(stderr, "beltline: exporter: unknown argument '%s' (usage: beltline "
				"exporter [--listen ADDRESS:PORT])\n", argv[i]);
			return 2;
		}
	}
	if (parse_listen(listen, &ss, &sl) < 0)
		return 2;
	if (bl_cli_ondemand("exporter", BL_SONAME_MICROHTTPD, mhd_names, mhd_fn,
			    sizeof(mhd_fn) / sizeof(mhd_fn[0])) < 0)
		return 1;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The signals are taken by this thread alone (in sigsuspend below), not by MHD's. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	beltline_set_log(lib_log, NULL);   /* the library's lines go with our outage line */
	/* Bound here, not by MHD, so that a refusal says why: MHD given an address said
	 * "Failed to bind to port 0" whatever the port. */
	lfd = listen_on(&ss, sl);
	if (lfd < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		fprintf(stderr, "beltline: exporter: cannot listen on %s: %s%s\n", listen,
			strerror(-lfd), lfd == -EACCES ? " (a port below 1024 needs root or "
			"CAP_NET_BIND_SERVICE)" : lfd == -EADDRINUSE ? " (another program has it: "
			"give another with --listen)" : "");
		return 1;
	}
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &x,
			     MHD_OPTION_LISTEN_SOCKET, lfd,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
			     MHD_OPTION_CONNECTION_LIMIT, 64u,
			     MHD_OPTION_END);
	if (d == NULL) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		close(lfd);
		fprintf(stderr, "beltline: exporter: cannot serve on %s (libmicrohttpd refused "
			"to start)\n", listen);
		return 1;
	}
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, shown, sizeof(shown));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, shown, sizeof(shown));
	fprintf(stderr, "beltline: exporter: instance '%s' at http://%s%s%s:%u/metrics\n", instance,
		ss.ss_family == AF_INET6 ? "[" : "", shown, ss.ss_family == AF_INET6 ? "]" : "",
		(unsigned int)ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
				     ((struct sockaddr_in *)&ss)->sin_port));
	while (!bl_cli_stopping())
		sigsuspend(&old);
	MHD_stop_daemon(d);   /* closes lfd too */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	fprintf(stderr, "beltline: exporter: %llu scrapes, %llu with the instance not answering\n",
		x.scrapes, x.failures);
	return 0;
}
