/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep — named endpoints between clients (docs/control.md, "Endpoints"): the
 * appliance's side. A client registers beltline://INSTANCE/ep/NAME with an
 * owner, group and mode (ep_listen; its control connection is the lease), another
 * connects (ep_connect): the appliance checks the connecting peer's credentials
 * (SO_PEERCRED), makes the ring pair's four regions and a socket pair, hands each
 * side its own two regions and socket end (the connector in the reply, the
 * listener in an ep_accept record), keeps nothing and leaves the data path
 * (bl_ep_abi.h). Main lcore only.
 */
#ifndef BL_EP_H
#define BL_EP_H

#include <cjson/cJSON.h>

#include "bl_stream.h"

struct bl_ep;

/* What ctl.c sends back: status 0 with j (the reply, its to free) and fds (its to
 * close after sending), or status < 0 with err. */
struct bl_ep_reply {
	int status;
	char err[256];
	cJSON *j;
	int fd[3];
	unsigned int n_fds;
};

/* ep_listen from a connection (conn_fd: where ep_accept records go). On success
 * *lease is the endpoint, unregistered by bl_ep_unlisten when the connection ends. */
void bl_ep_listen(int conn_fd, const struct bl_stream_cred *who, const cJSON *req,
		  struct bl_ep **lease, struct bl_ep_reply *r);
/* ep_connect: permission, regions, the listener's ep_accept record, the reply. */
void bl_ep_connect(const struct bl_stream_cred *who, const cJSON *req, struct bl_ep_reply *r);
/* The listener's connection closed: the name is free again. */
void bl_ep_unlisten(struct bl_ep *ep);
/* The endpoint's name, for messages. */
const char *bl_ep_name(const struct bl_ep *ep);

/* ls: the endpoints who may connect to (root: all). stats: all, with counters. */
cJSON *bl_ep_list_json(const struct bl_stream_cred *who);
cJSON *bl_ep_stats_json(void);

#endif /* BL_EP_H */
