/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands of the appliance (docs/metrics.md):
 *
 *   /beltline/stats[,SECTION]   instance, uptime, ports, mbufs, control; with SECTION
 *                               (ports, filters, edges, streams, injects, mbufs, control)
 *                               that section, one dict per row
 *   /beltline/streams[,NAME]    every stream with its readers' sums; with NAME, that
 *                               stream and each of its readers
 *
 * e.g. `printf '/beltline/stats\n' | dpdk-telemetry.py -f bl_INSTANCE`.
 *
 * The callbacks run on EAL's telemetry threads, but what they show belongs to the
 * main lcore (the stream table changes under it). So a callback asks and waits
 * (at most TEL_WAIT_MS): the main lcore's control tick builds the same JSON
 * `beltline stats` gets and hands it over; the callback turns it into telemetry
 * data on its own thread. One request at a time; a mutex and a condition
 * variable between the two threads, never on a worker lcore.
 */
#ifndef BL_TELEMETRY_H
#define BL_TELEMETRY_H

struct cJSON;

/* What builds the stats (main lcore): the control server's, with its argument. */
typedef struct cJSON *(*bl_tel_build_fn)(void *arg);

/* Register the commands (once a process; after EAL is up) and start answering. 0 or -errno. */
int bl_tel_start(bl_tel_build_fn build, void *arg);

/* Main lcore, each control tick: answer a request that waits. Never blocks for long. */
void bl_tel_serve(void);

/* Stop answering: callbacks say the appliance is stopping. */
void bl_tel_stop(void);

#endif /* BL_TELEMETRY_H */
