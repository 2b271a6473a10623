/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * beltline mount's tree (mount_tree.c): what a path of the mount names, from the
 * appliance's stats reply (fetched again when older than a second) and the names
 * mkdir gave. mount.c is the filesystem on top (FUSE's calls). Every call but
 * mount_tree_init and mount_tree_instance wants the tree's lock held.
 */
#ifndef BL_CLI_MOUNT_TREE_H
#define BL_CLI_MOUNT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

/* What a path names. */
struct mount_node {
	int kind;                   /* 0 none, 1 the root, 2 a filter, 3 its all, 4 its stats */
	const cJSON *f;             /* the filter's stats entry */
	const char *graph;          /* its graph ("graphs[0].0") */
	const char *filter;         /* its name */
	const char *parent;         /* the filter before it on the path (NULL: a source) */
	char label[64];             /* the label written after the last component's name */
};

void mount_tree_init(const char *instance);
const char *mount_tree_instance(void);
void mount_tree_lock(void);
void mount_tree_unlock(void);

/* The stats reply: fetched now (waiting timeout_ms at most), or at most a second old; NULL
 * when the instance has not answered for long enough (mount_tree.c says how long). */
cJSON *mount_stats_fetch(int timeout_ms);
cJSON *mount_stats_now(void);
void mount_stats_invalidate(void);
struct timespec mount_stats_time(void);   /* when that reply came (wall clock) */

struct mount_node mount_resolve(const cJSON *st, const char *path);
void mount_alias_add(const char *graph, const char *parent, const char *text, const char *name);
void mount_alias_drop(const char *graph, const char *name);

/* Reading the stats reply: an item's string (or ""), whether it is replica 0's, whether
 * an edge of graph leads from `from` (NULL: any) to `to`, the graph's length without its
 * replica, whether another graph's source has this source's name. */
const char *mount_str_of(const cJSON *item, const char *key);
bool mount_first_replica(const cJSON *item);
bool mount_has_edge(const cJSON *st, const char *graph, const char *from, const char *to);
size_t mount_graph_len(const char *g);
bool mount_source_twice(const cJSON *st, const cJSON *src);

#endif /* BL_CLI_MOUNT_TREE_H */
