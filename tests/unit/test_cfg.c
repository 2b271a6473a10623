/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the JSON config reader (lib/cfg): bl_cfg_parse, bl_cfg_load,
 * bl_cfg_validate. No DPDK, no EAL.
 *
 * This file: good configs, bl_cfg_validate, bl_cfg_load and regressions.
 * Bad configs are in test_cfg_bad.c; the helpers both use in cfg_test.h.
 *
 * Suite cfg_regress holds inputs the parser once accepted but should not
 * (each failed with "BUG (file function): ..." before lib/cfg was fixed).
 */
#include "cfg_test.h"
#include "bl_test_util.h"

/* ---- good configs ------------------------------------------------------- */

Test(cfg_good, minimal_config_gets_the_defaults)
{
	struct result *r = parse("{" GOOD "}");
	const struct bl_cfg *c = &r->cfg;

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	cr_assert(eq(u32, r->diag.n, 0));
	cr_assert(r->diag.text == NULL);
	cr_assert(eq(str, (char *)c->instance, "default"));
	cr_assert(eq(u32, c->main_lcore, 0));
	cr_assert(eq(int, c->hugepages, BL_CFG_HUGE_AUTO));
	cr_assert(eq(u32, c->mem_mb, 0));
	cr_assert(eq(u32, c->mbufs, 0));
	cr_assert(eq(u32, c->mbuf_cache, 256));
	cr_assert(eq(u32, c->mbuf_data_room, 2176));
	cr_assert(eq(u32, c->burst, 32));
	cr_assert(eq(u32, c->n_ports, 1));
	cr_assert(eq(str, (char *)c->ports[0].name, "a"));
	cr_assert(eq(str, (char *)c->ports[0].vdev, "net_null0"));
	cr_assert(eq(str, (char *)c->ports[0].pci, ""));
	cr_assert(eq(u16, c->ports[0].rx_queues, 1));
	cr_assert(eq(u16, c->ports[0].tx_queues, 1));
	cr_assert(eq(u16, c->ports[0].rx_desc, 1024));
	cr_assert(eq(u16, c->ports[0].tx_desc, 1024));
	cr_assert(eq(u32, c->n_workers, 1));
	cr_assert(eq(u32, c->workers[0].lcore, 1));
	cr_assert(eq(u32, c->workers[0].n_polls, 1));
	cr_assert(eq(u16, c->workers[0].polls[0].port, 0));
	cr_assert(eq(u16, c->workers[0].polls[0].queue, 0));
	cr_assert(eq(u16, c->workers[0].polls[0].tx_port, 0));
	result_free(r);
}

Test(cfg_good, defaults_match_bl_cfg_defaults)
{
	struct bl_cfg *d = calloc(1, sizeof(*d));

	bl_cfg_defaults(d);
	cr_assert(eq(str, d->instance, "default"));
	cr_assert(eq(u32, d->n_ports, 0));
	cr_assert(eq(u32, d->n_workers, 0));
	cr_assert(eq(u32, d->mbuf_cache, 256));
	cr_assert(eq(u32, d->mbuf_data_room, 2176));
	cr_assert(eq(u32, d->burst, 32));
	cr_assert(eq(int, d->hugepages, BL_CFG_HUGE_AUTO));
	cr_assert(eq(u32, d->ctl_mode, 0666));
	cr_assert(eq(long, d->ctl_gid, -1));
	cr_assert(eq(u32, d->pkt_mode, 0640));   /* = export's default mode: zero copy */
	free(d);
}

Test(cfg_good, poll_queue_defaults_to_0)
{
	struct result *r = parse(ONE_POLL("{'port':'b','tx':'a'}"));

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	cr_assert(eq(u16, r->cfg.workers[0].polls[0].port, 1));
	cr_assert(eq(u16, r->cfg.workers[0].polls[0].queue, 0));
	cr_assert(eq(u16, r->cfg.workers[0].polls[0].tx_port, 0));
	result_free(r);
}

Test(cfg_good, every_key_is_read)
{
	struct result *r = parse(
		"{ 'instance': 'edge-1_b', 'main_lcore': 2, 'burst': 64,\n"
		"  'memory': { 'hugepages': 'no', 'size_mb': 512, 'packet_mode': '0600' },\n"
		"  'control': { 'mode': '0660', 'group': 'root', 'idle_ms': 2500 },\n"
		"  'mbufs': { 'count': 32767, 'cache': 128, 'data_room': 9216 },\n"
		"  'ports': [ { 'name': 'up', 'vdev': 'net_null0', 'rx_queues': 2, 'tx_queues': 2,\n"
		"               'rx_desc': 512, 'tx_desc': 2048 },\n"
		"             { 'name': 'down', 'pci': '0000:03:00.1', 'tx_queues': 2 } ],\n"
		"  'workers': [ { 'lcore': 3, 'poll': [ { 'port': 'up', 'queue': 0, 'tx': 'down' } ] },\n"
		"               { 'lcore': 5, 'poll': [ { 'port': 'up', 'queue': 1, 'tx': 'down' },\n"
		"                                       { 'port': 'down', 'queue': 0, 'tx': 'up' } ] } ] }");
	const struct bl_cfg *c = &r->cfg;

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	cr_assert(eq(str, (char *)c->instance, "edge-1_b"));
	cr_assert(eq(u32, c->main_lcore, 2));
	cr_assert(eq(u32, c->burst, 64));
	cr_assert(eq(int, c->hugepages, BL_CFG_HUGE_NO));
	cr_assert(eq(u32, c->mem_mb, 512));
	cr_assert(eq(u32, c->pkt_mode, 0600));
	cr_assert(eq(u32, c->ctl_mode, 0660));
	cr_assert(eq(u32, c->ctl_idle_ms, 2500));
	cr_assert(eq(u32, c->ctl_slow_ms, BL_CFG_CTL_SLOW_MS));
	cr_assert(eq(long, c->ctl_gid, 0));
	cr_assert(eq(u32, c->mbufs, 32767));
	cr_assert(eq(u32, c->mbuf_cache, 128));
	cr_assert(eq(u32, c->mbuf_data_room, 9216));
	cr_assert(eq(u32, c->n_ports, 2));
	cr_assert(eq(u16, c->ports[0].rx_queues, 2));
	cr_assert(eq(u16, c->ports[0].tx_queues, 2));
	cr_assert(eq(u16, c->ports[0].rx_desc, 512));
	cr_assert(eq(u16, c->ports[0].tx_desc, 2048));
	cr_assert(eq(str, (char *)c->ports[1].name, "down"));
	cr_assert(eq(str, (char *)c->ports[1].pci, "0000:03:00.1"));
	cr_assert(eq(str, (char *)c->ports[1].vdev, ""));
	cr_assert(eq(u32, c->n_workers, 2));
	cr_assert(eq(u32, c->workers[1].lcore, 5));
	cr_assert(eq(u32, c->workers[1].n_polls, 2));
	cr_assert(eq(u16, c->workers[1].polls[0].queue, 1));
	cr_assert(eq(u16, c->workers[1].polls[0].tx_port, 1));
	cr_assert(eq(u16, c->workers[1].polls[1].port, 1));
	cr_assert(eq(u16, c->workers[1].polls[1].tx_port, 0));
	result_free(r);
}

Test(cfg_good, hugepages_words)
{
	static const char *const words[] = { "auto", "yes", "no" };
	static const enum bl_cfg_huge want[] = { BL_CFG_HUGE_AUTO, BL_CFG_HUGE_YES, BL_CFG_HUGE_NO };
	char json[512];

	for (int i = 0; i < 3; i++) {
		snprintf(json, sizeof(json), "{'memory':{'hugepages':'%s'}," GOOD "}", words[i]);
		struct result *r = parse(json);
		cr_assert(eq(int, r->rc, 0), "[%s] diag:\n%s", words[i], r->text);
		cr_assert(eq(int, r->cfg.hugepages, want[i]), "[%s]", words[i]);
		result_free(r);
	}
}

Test(cfg_good, range_edges_are_accepted)
{
	struct result *r = parse(
		"{ 'instance': 'abcdefghijklmnopqrstuvwxyz01234', 'main_lcore': 127, 'burst': 256,\n"
		"  'mbufs': { 'cache': 0, 'data_room': 65535 },\n"
		"  'ports': [ { 'name': 'abcdefghijklmnopqrstuvwxyz01234', 'vdev': 'net_null0',\n"
		"               'rx_queues': 64, 'tx_queues': 64, 'rx_desc': 32, 'tx_desc': 16384 } ],\n"
		"  'workers': [ { 'lcore': 0, 'poll': [\n"
		"      { 'port': 'abcdefghijklmnopqrstuvwxyz01234', 'queue': 63.0,\n"
		"        'tx': 'abcdefghijklmnopqrstuvwxyz01234' } ] } ] }");

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	cr_assert(eq(sz, strlen(r->cfg.instance), 31));
	cr_assert(eq(u32, r->cfg.main_lcore, 127));
	cr_assert(eq(u32, r->cfg.burst, 256));
	cr_assert(eq(u32, r->cfg.mbuf_cache, 0));
	cr_assert(eq(u32, r->cfg.mbuf_data_room, 65535));
	cr_assert(eq(u16, r->cfg.ports[0].rx_queues, 64));
	cr_assert(eq(u16, r->cfg.ports[0].tx_desc, 16384));
	cr_assert(eq(u16, r->cfg.workers[0].polls[0].queue, 63));
	result_free(r);
}

Test(cfg_good, pci_ports_parse)
{
	struct result *r = parse(
		"{'ports':[{'name':'a','pci':'0000:03:00.0'},{'name':'b','pci':'af:1f.7'},"
		"{'name':'c','pci':'0000:AF:00.1'}]," WORKERS_A "}");
	char dev[64];

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	cr_assert(eq(str, (char *)r->cfg.ports[0].pci, "0000:03:00.0"));
	cr_assert(eq(str, (char *)r->cfg.ports[0].vdev, ""));
	/* Stored in one spelling: long form, lower case. */
	cr_assert(eq(str, (char *)r->cfg.ports[1].pci, "0000:af:1f.7"));
	cr_assert(eq(str, (char *)r->cfg.ports[2].pci, "0000:af:00.1"));
	bl_cfg_port_devname(&r->cfg.ports[0], dev, sizeof(dev));
	cr_assert(eq(str, dev, "0000:03:00.0"));
	result_free(r);
}

Test(cfg_good, relative_pcap_paths_resolve_against_dir)
{
	struct result *r = parse_in(
		"{'ports':[{'name':'in','vdev':'net_pcap0,rx_pcap=caps/in.pcap,tx_pcap=/abs/out.pcap,"
		"infinite_rx=1'},{'name':'out','vdev':'net_pcap1,iface=lo,tx_pcap=out.pcap'},"
		"{'name':'z','vdev':'net_null0,size=64,xrx_pcap=keep.pcap'}],"
		"'workers':[{'lcore':1,'poll':[{'port':'in','tx':'out'}]}]}", "/etc/beltline");

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	cr_assert(eq(str, (char *)r->cfg.ports[0].vdev,
		     "net_pcap0,rx_pcap=/etc/beltline/caps/in.pcap,tx_pcap=/abs/out.pcap,infinite_rx=1"));
	cr_assert(eq(str, (char *)r->cfg.ports[1].vdev,
		     "net_pcap1,iface=lo,tx_pcap=/etc/beltline/out.pcap"));
	cr_assert(eq(str, (char *)r->cfg.ports[2].vdev, "net_null0,size=64,xrx_pcap=keep.pcap"));
	result_free(r);
}

Test(cfg_good, without_dir_relative_paths_stay)
{
	static const char *const dirs[] = { NULL, "" };

	for (int i = 0; i < 2; i++) {
		struct result *r = parse_in("{'ports':[{'name':'a','vdev':'net_pcap0,rx_pcap=in.pcap'}],"
					    WORKERS_A "}", dirs[i]);
		cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
		cr_assert(eq(str, (char *)r->cfg.ports[0].vdev, "net_pcap0,rx_pcap=in.pcap"));
		result_free(r);
	}
}

Test(cfg_good, mbufs_needed_counts_rings_caches_and_bursts)
{
	struct result *r = parse(
		"{'burst':64,'mbufs':{'cache':100},"
		"'ports':[{'name':'a','vdev':'net_null0','rx_queues':2,'rx_desc':512,'tx_desc':256},"
		PORT_B "],'workers':[" WORKER_A ",{'lcore':2,'poll':[{'port':'a','queue':1,'tx':'b'}]}]}");

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	/* rings: a: 2*512 rx + 2*256 tx, b: 1024 rx + 2*1024 tx (tx queues default to one
	 * per worker lcore: 2); lcores: 3 * (150 + 64) */
	cr_assert(eq(u32, bl_cfg_mbufs_needed(&r->cfg),
		     2 * 512 + 2 * 256 + 1024 + 2 * 1024 + 3 * (150 + 64)));
	result_free(r);
}

/* Graph lcores are worker lcores too: each holds a cache and a burst (workers[] alone were
 * counted: a graphs config got the main lcore's share only). */
Test(cfg_good, mbufs_needed_counts_the_lcores_of_graphs)
{
	struct result *r = parse(
		"{'burst':64,'mbufs':{'cache':100},'ports':[{'name':'a','vdev':'net_null0'}],"
		"'graphs':[{'lcores':[1,2],'pipeline':'rx port=a | drop'},"
		"{'lcores':[2,3],'pipeline':'gen | drop'}]}");
	unsigned int rings = 0;

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	for (unsigned int i = 0; i < r->cfg.n_ports; i++)
		rings += r->cfg.ports[i].rx_queues * r->cfg.ports[i].rx_desc +
			 r->cfg.ports[i].tx_queues * r->cfg.ports[i].tx_desc;
	/* lcores: main, 1, 2, 3 */
	cr_assert(eq(u32, bl_cfg_mbufs_needed(&r->cfg), rings + 4 * (150 + 64)));
	result_free(r);
}

Test(cfg_good, mbufs_count_at_the_floor)
{
	struct result *r = parse("{'mbufs':{'count':2880},'memory':{'size_mb':70}," GOOD "}");

	cr_assert(eq(int, r->rc, 0), "diag:\n%s", r->text);
	result_free(r);
}

/* ---- bl_cfg_validate on configs built by hand ---------------------------- */

static struct bl_cfg *
hand_built(void)
{
	struct bl_cfg *c = calloc(1, sizeof(*c));

	cr_assert(c != NULL);
	bl_cfg_defaults(c);
	c->n_ports = 1;
	strcpy(c->ports[0].name, "a");
	strcpy(c->ports[0].vdev, "net_null0");
	c->ports[0].rx_queues = c->ports[0].tx_queues = 1;
	c->ports[0].rx_desc = c->ports[0].tx_desc = 1024;
	c->n_workers = 1;
	c->workers[0].lcore = 1;
	c->workers[0].n_polls = 1;
	return c;
}

Test(cfg_validate, hand_built_config_passes)
{
	struct bl_cfg *c = hand_built();
	struct bl_diag d = { 0 };

	cr_assert(eq(int, bl_cfg_validate(c, &d), 0), "%s", d.text ? d.text : "");
	cr_assert(eq(u32, d.n, 0));
	free(c);
}

Test(cfg_validate, empty_config_needs_ports_and_workers)
{
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };

	bl_cfg_defaults(c);
	cr_assert(eq(int, bl_cfg_validate(c, &d), -EINVAL));
	cr_assert(eq(u32, d.n, 2), "%s", d.text);
	cr_assert(has_line(d.text, "ports: at least one port is needed"), "%s", d.text);
	cr_assert(has_line(d.text, "workers, graphs: at least one worker or graph is needed"), "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

Test(cfg_validate, cross_rules_apply_to_hand_built_configs)
{
	struct bl_cfg *c = hand_built();
	struct bl_diag d = { 0 };

	c->workers[0].lcore = 0;
	c->workers[0].polls[0].queue = 3;
	cr_assert(eq(int, bl_cfg_validate(c, &d), -EINVAL));
	cr_assert(has_line(d.text, "workers[0].lcore: 0 is the main lcore"), "%s", d.text);
	cr_assert(has_line(d.text, "workers[0].poll[0].queue: port \"a\" has 1 rx queue"), "%s", d.text);
	cr_assert(eq(u32, d.n, 2), "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

/*
 * From JSON, mbufs.count >= 1024 and mbufs.cache <= 512, so the two-thirds
 * rule can only be broken by a config built by hand (or from flags).
 */
Test(cfg_validate, cache_above_two_thirds_of_count)
{
	struct bl_cfg *c = hand_built();
	struct bl_diag d = { 0 };

	c->mbufs = 600;
	c->mbuf_cache = 512;
	cr_assert(eq(int, bl_cfg_validate(c, &d), -EINVAL));
	cr_assert(has_line(d.text, "mbufs.cache: must be at most two thirds of mbufs.count (400), got 512"),
		  "%s", d.text);
	cr_assert(has_line(d.text, "mbufs.count: the port rings, caches and bursts can hold"), "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

/*
 * bl_cfg.h: validate cross-checks "also one built from command-line flags":
 * "references". A poll naming a port index past n_ports must be a problem,
 * not an out-of-bounds read of cfg->ports or a write past senders[].
 */
Test(cfg_regress, validate_checks_port_indexes)
{
	struct bl_cfg *c = hand_built();
	struct bl_diag d = { 0 };

	c->workers[0].polls[0].tx_port = 5;    /* only ports[0] exists */
	cr_assert(eq(int, bl_cfg_validate(c, &d), -EINVAL),
		  "BUG (lib/cfg/bl_cfg_check.c check_workers): a poll's tx_port past n_ports is "
		  "not checked by bl_cfg_validate");
	cr_assert(strstr(d.text, "workers[0].poll[0]") != NULL, "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

/* ---- bl_cfg_load ------------------------------------------------------- */

static char tmpdir[PATH_MAX];
static void make_tmpdir(void)   { bl_test_mkdtemp(tmpdir, "bl_cfg_test"); }
static void remove_tmpdir(void) { bl_test_rmtree(tmpdir); }

TestSuite(cfg_load, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 10);

static void
write_file(const char *path, const char *sq_json)
{
	char *json = dq(sq_json);
	FILE *f = fopen(path, "w");

	cr_assert(f != NULL, "cannot create %s", path);
	cr_assert(fputs(json, f) >= 0);
	cr_assert(fclose(f) == 0);
	free(json);
}

Test(cfg_load, relative_paths_resolve_against_the_files_folder)
{
	char sub[PATH_MAX], path[PATH_MAX], want[BL_CFG_DEV_MAX], real[PATH_MAX];
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };

	snprintf(sub, sizeof(sub), "%s/etc", tmpdir);
	cr_assert(mkdir(sub, 0700) == 0);
	snprintf(path, sizeof(path), "%s/cfg.json", sub);
	write_file(path, "{'ports':[{'name':'a','vdev':'net_pcap0,rx_pcap=in.pcap,tx_pcap=/o.pcap'}],"
		   WORKERS_A "}");
	cr_assert(realpath(sub, real) != NULL);
	snprintf(want, sizeof(want), "net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=/o.pcap", real);

	/* Load it through a relative path from another folder. */
	cr_assert(chdir(tmpdir) == 0);
	cr_assert(eq(int, bl_cfg_load("etc/../etc/cfg.json", c, &d), 0), "%s", d.text ? d.text : "");
	cr_assert(eq(str, c->ports[0].vdev, want));
	free(c);
}

Test(cfg_load, missing_file)
{
	char path[PATH_MAX];
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };

	snprintf(path, sizeof(path), "%s/nonexistent.json", tmpdir);
	cr_assert(eq(int, bl_cfg_load(path, c, &d), -ENOENT));
	cr_assert(eq(u32, d.n, 1));
	cr_assert(has_line(d.text, path), "%s", d.text);
	cr_assert(strstr(d.text, ": cannot open: No such file or directory") != NULL, "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

Test(cfg_load, directory)
{
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };

	cr_assert(eq(int, bl_cfg_load(tmpdir, c, &d), -EINVAL));
	cr_assert(eq(u32, d.n, 1));
	cr_assert(has_line(d.text, tmpdir), "%s", d.text);
	cr_assert(strstr(d.text, "not a regular file") != NULL, "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

Test(cfg_load, empty_file)
{
	char path[PATH_MAX];
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };

	snprintf(path, sizeof(path), "%s/empty.json", tmpdir);
	write_file(path, "");
	cr_assert(eq(int, bl_cfg_load(path, c, &d), -EINVAL));
	cr_assert(has_line(d.text, "$: not valid JSON (line 1, col 1)"), "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

Test(cfg_load, bad_file_reports_paths)
{
	char path[PATH_MAX];
	struct bl_cfg *c = calloc(1, sizeof(*c));
	struct bl_diag d = { 0 };

	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	write_file(path, "{'ports':[{'name':'a','vdev':'net_null0','rx_queues':0}]," WORKERS_A "}");
	cr_assert(eq(int, bl_cfg_load(path, c, &d), -EINVAL));
	cr_assert(has_line(d.text, "ports[0].rx_queues: must be 1..64, got 0"), "%s", d.text);
	bl_diag_free(&d);
	free(c);
}

/* Every config shipped in config/ parses without a problem. */
Test(cfg_load, shipped_configs_parse)
{
	glob_t g;

	cr_assert(eq(int, glob(BL_SOURCE_ROOT "/config/*.json", 0, NULL, &g), 0),
		  "no config/*.json under %s", BL_SOURCE_ROOT);
	cr_assert(g.gl_pathc >= 1);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t len = strlen(g.gl_pathv[i]);
		if (len > 12 && strcmp(g.gl_pathv[i] + len - 12, ".schema.json") == 0)
			continue;   /* config/beltline.schema.json describes configs; it is none */
		struct bl_cfg *c = calloc(1, sizeof(*c));
		struct bl_diag d = { 0 };
		int rc = bl_cfg_load(g.gl_pathv[i], c, &d);
		cr_assert(eq(int, rc, 0), "%s:\n%s", g.gl_pathv[i], d.text ? d.text : "");
		cr_assert(eq(u32, d.n, 0), "%s", g.gl_pathv[i]);
		cr_assert(c->n_ports >= 1 && c->n_workers + c->n_graphs >= 1, "%s", g.gl_pathv[i]);
		free(c);
	}
	globfree(&g);
}

/* ---- inputs the parser accepts but should not (bugs to fix in lib/cfg) ---- */

/*
 * cJSON_ParseWithLengthOpts(..., require_null_terminated = false) stops after
 * the first JSON value, so anything after the closing brace is ignored.
 */
Test(cfg_regress, trailing_text_after_the_object_is_rejected)
{
	static const char *const tails[] = { " }", " garbage", ", {'burst': 0}", "{}" };
	char accepted[256] = "";

	for (int i = 0; i < 4; i++) {
		char json[512];
		snprintf(json, sizeof(json), "{" GOOD "}%s", tails[i]);
		struct result *r = parse(json);
		if (r->rc == 0 || !has_line(r->text, "$: not valid JSON"))
			cat(accepted, sizeof(accepted), " [...}%s]", tails[i]);
		result_free(r);
	}
	cr_assert(eq(str, accepted, ""),
		  "BUG (lib/cfg/bl_cfg_load.c bl_cfg_parse): text after the JSON object is ignored; "
		  "accepted:%s", accepted);
}

/*
 * pci_ok() uses sscanf("%4x:%2x:%2x.%1x"), and %x skips white space and takes
 * a sign or an 0x prefix, so these pass the length check as well.
 */
Test(cfg_regress, pci_address_with_sign_space_or_0x_is_rejected)
{
	static const char *const addrs[] = { "+000:03:00.0", " 000:03:00.0", "0x00:03:00.0",
					     "-3:00.0", " 3:00.0", "0000:+3:00.0", "00:-1.0" };
	char accepted[256] = "";

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		char json[512];
		snprintf(json, sizeof(json), "{'ports':[{'name':'a','pci':'%s'}]," WORKERS_A "}", addrs[i]);
		struct result *r = parse(json);
		if (r->rc == 0 || !has_line(r->text, "ports[0].pci: must be a PCI address"))
			cat(accepted, sizeof(accepted), " \"%s\"", addrs[i]);
		result_free(r);
	}
	cr_assert(eq(str, accepted, ""),
		  "BUG (lib/cfg/bl_cfg_value.c bl_cfg__pci_ok): these PCI addresses are accepted:%s", accepted);
}

/* One device given in its long and its short form is still one device. */
Test(cfg_regress, same_pci_device_in_two_spellings_is_rejected)
{
	struct result *r = parse(
		"{'ports':[{'name':'a','pci':'0000:03:00.0'},{'name':'b','pci':'03:00.0'}]," WORKERS_A "}");

	cr_assert(eq(int, r->rc, -EINVAL),
		  "BUG (lib/cfg/bl_cfg_check.c check_ports): 0000:03:00.0 and 03:00.0 are the same "
		  "device but both are accepted");
	cr_assert(has_line(r->text, "ports[1].pci: device"), "%s", r->text);
	result_free(r);
}

/*
 * vdev_resolve() checks the length only after an argument is appended, so a
 * device name longer than BL_CFG_DEV_MAX with no ',' is silently truncated.
 */
Test(cfg_regress, overlong_vdev_without_arguments_is_rejected)
{
	static char json[4096];
	size_t n;

	json[0] = '\0';
	cat(json, sizeof(json), "{'ports':[{'name':'a','vdev':'net_");
	for (int i = 0; i < 1100; i++)
		cat(json, sizeof(json), "a");
	cat(json, sizeof(json), "'}]," WORKERS_A "}");
	struct result *r = parse(json);
	n = strlen(r->cfg.ports[0].vdev);
	cr_assert(eq(int, r->rc, -EINVAL),
		  "BUG (lib/cfg/bl_cfg_value.c bl_cfg__vdev_resolve): a 1104-character vdev is accepted and "
		  "truncated to %zu characters", n);
	cr_assert(has_line(r->text, "ports[0].vdev: "), "%s", r->text);
	result_free(r);
}

/*
 * A port whose name was rejected keeps an empty name, and port_ref() then
 * offers it as the suggestion: "no port named "a" (did you mean ""?)".
 */
Test(cfg_regress, no_empty_suggestion_after_a_bad_port_name)
{
	struct result *r = parse("{'ports':[{'name':'a b','vdev':'net_null0'}],"
				 "'workers':[{'lcore':1,'poll':[{'port':'a','tx':'a'}]}]}");

	cr_assert(eq(int, r->rc, -EINVAL));
	cr_assert(has_line(r->text, "ports[0].name: must be 1..31 characters"), "%s", r->text);
	cr_assert(strstr(r->text, "(did you mean \"\"?)") == NULL,
		  "BUG (lib/cfg/bl_cfg.c port_ref): suggests the empty name of a rejected port:\n%s",
		  r->text);
	result_free(r);
}
