/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Edge labels at run time: `dport |80 x`, `|!80`, `|22:23`, `|ssh:telnet`,
 * `|80,443`, `|all` (class 0 too), class names resolved from the filter, and
 * what no label carries (unrouted) or class 0 (dropped).
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include "bl_test_assert.h"

#include "harness.h"

static struct harness *h;

static void
teardown(void)
{
	harness_free(h);
	h = NULL;
	cr_expect(eq(uint, harness_pool_free(), HARNESS_POOL_SIZE), "mbufs leaked");
	cr_expect(eq(long, bl_graph_test_live_allocs(), 0));
}

TestSuite(labels, .init = harness_eal, .fini = teardown, .timeout = 30);

static void
push_ports(void)
{
	static const uint16_t ports[] = { 80, 80, 80, 22, 22, 23, 443, 443, 443, 443 };
	const struct pkt_spec arp = { .etype = 0x0806 };

	for (unsigned int i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		const struct pkt_spec s = { .proto = 6, .dport = ports[i] };
		harness_push(h, harness_pkt(&s));
	}
	harness_push(h, harness_pkt(&arp));   /* dport: class 0 */
	harness_push(h, harness_pkt(&arp));
}

Test(labels, every_kind_of_label)
{
	h = harness_new("feed | dport --name=d |80 collect --name=web\n"
			"dport --name=d |!80 collect --name=notweb\n"
			"dport --name=d |22:23 collect --name=range\n"
			"dport --name=d |ssh:telnet collect --name=named\n"
			"dport --name=d |80,443 collect --name=set\n"
			"dport --name=d |all collect --name=all\n"
			"dport --name=d | collect --name=plain");
	cr_assert(h != NULL);
	push_ports();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, "web"), 3));
	cr_assert(eq(uint, harness_n_cls(h, "web", 80), 3), "the class is the port");
	cr_assert(eq(uint, harness_n(h, "notweb"), 7), "|!80: every class but 0 and 80");
	cr_assert(eq(uint, harness_n_cls(h, "notweb", 0), 0));
	cr_assert(eq(uint, harness_n(h, "range"), 3));
	cr_assert(eq(uint, harness_n(h, "named"), 3));
	cr_assert(eq(uint, harness_n_cls(h, "named", 22), 2));
	cr_assert(eq(uint, harness_n_cls(h, "named", 23), 1));
	cr_assert(eq(uint, harness_n(h, "set"), 7));
	cr_assert(eq(uint, harness_n(h, "all"), 12), "|all carries class 0 too");
	cr_assert(eq(uint, harness_n_cls(h, "all", 0), 2));
	cr_assert(eq(uint, harness_n(h, "plain"), 10), "plain |: every class but 0");
	cr_assert(eq(u64, harness_edge_pkts(h, "d", "web"), 3));
	cr_assert(eq(u64, harness_edge_pkts(h, "d", "all"), 12));
	cr_assert(eq(u64, harness_stats(h, "d")->out, 12));
	cr_assert(eq(u64, harness_stats(h, "d")->dropped, 0), "class 0 went down |all");
	cr_assert(eq(u64, harness_stats(h, "d")->unrouted, 0));
	cr_assert(eq(u64, harness_cls_count(h, "d", 80), 3));
	cr_assert(eq(u64, harness_cls_count(h, "d", 443), 4));
	cr_assert(eq(u64, harness_cls_count(h, "d", 0), 2));
	/* a packet on several edges is one mbuf, shared */
	cr_assert(eq(ptr, harness_got(h, "web", 0), harness_got(h, "all", 0)));
}

Test(labels, edges_count_per_class)
{
	h = harness_new("feed | dport --name=d |!80 collect --name=notweb\n"
			"dport --name=d |all collect --name=all\n"
			"dport --name=d |22:23 collect --name=range");
	cr_assert(h != NULL);
	push_ports();
	harness_run(h);
	cr_assert(eq(u64, harness_edge_cls(h, "d", "notweb", 22), 2));
	cr_assert(eq(u64, harness_edge_cls(h, "d", "notweb", 23), 1));
	cr_assert(eq(u64, harness_edge_cls(h, "d", "notweb", 443), 4));
	cr_assert(eq(u64, harness_edge_cls(h, "d", "notweb", 80), 0), "|!80 never carries 80");
	cr_assert(eq(u64, harness_edge_cls(h, "d", "all", 80), 3));
	cr_assert(eq(u64, harness_edge_cls(h, "d", "all", 0), 2), "|all carries class 0");
	cr_assert(eq(u64, harness_edge_cls(h, "d", "range", 22), 2));
	cr_assert(eq(u64, harness_edge_cls(h, "d", "range", 443), 0));
	/* the next filter's edge counts the classes it passed on */
	cr_assert(eq(u64, harness_edge_cls(h, "feed", "d", 1), 12), "feed gives class 1");
}

Test(labels, straight_edge_counts_per_class)
{
	h = harness_new("feed | count | collect");
	cr_assert(h != NULL);
	for (uint32_t c = 1; c <= 10; c++)
		harness_push_cls(h, harness_pkt(&(struct pkt_spec){ 0 }), c % 3 + 1);
	harness_push_cls(h, harness_pkt(&(struct pkt_spec){ 0 }), 0);
	harness_run(h);
	/* classes 2,3,1,2,3,1,2,3,1,2 then 0 (dropped at feed) */
	cr_assert(eq(u64, harness_edge_cls(h, "count", "collect", 1), 3));
	cr_assert(eq(u64, harness_edge_cls(h, "count", "collect", 2), 4));
	cr_assert(eq(u64, harness_edge_cls(h, "count", "collect", 3), 3));
	cr_assert(eq(u64, harness_edge_cls(h, "feed", "count", 0), 0), "a drop is on no edge");
	cr_assert(eq(u64, harness_edge_pkts(h, "count", "collect"), 10));
}

Test(labels, unrouted_and_dropped)
{
	h = harness_new("feed | dport --name=d |http collect --name=web; dport --name=d |22 collect --name=ssh");
	cr_assert(h != NULL);
	push_ports();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, "web"), 3));
	cr_assert(eq(uint, harness_n(h, "ssh"), 2));
	cr_assert(eq(u64, harness_stats(h, "d")->in, 12));
	cr_assert(eq(u64, harness_stats(h, "d")->out, 5));
	cr_assert(eq(u64, harness_stats(h, "d")->unrouted, 5), "23 and 443: no label carries them");
	cr_assert(eq(u64, harness_stats(h, "d")->dropped, 2));
}

Test(labels, ipproto_names)
{
	const struct pkt_spec tcp = { .proto = 6 }, udp = { .proto = 17 }, icmp = { .proto = 1 };

	h = harness_new("feed | ipproto --name=p |tcp collect --name=t; ipproto --name=p |udp,icmp collect --name=u");
	cr_assert(h != NULL);
	harness_push(h, harness_pkt(&tcp));
	harness_push(h, harness_pkt(&udp));
	harness_push(h, harness_pkt(&icmp));
	harness_run(h);
	cr_assert(eq(uint, harness_n_cls(h, "t", 6), 1));
	cr_assert(eq(uint, harness_n_cls(h, "u", 17), 1));
	cr_assert(eq(uint, harness_n_cls(h, "u", 1), 1));
}

Test(labels, edge_names_are_classes)
{
	h = harness_new("feed | tee --name=t |copy collect --name=c; tee --name=t |out collect --name=o");
	cr_assert(h != NULL);
	harness_push_n(h, 5);
	cr_assert(eq(uint, harness_n_cls(h, "c", 2), 5));
	cr_assert(eq(uint, harness_n_cls(h, "o", 1), 5));
}

Test(labels, unknown_class_name_is_an_error)
{
	struct bl_err err;

	cr_assert(eq(int, harness_try("feed | dport |sshh collect", &err), -EINVAL));
	cr_assert(strstr(err.msg, "sshh") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "col 14") != NULL, "the column of the |: %s", err.msg);
	/* the names it has, the closest first (it said only that sshh is none of them) */
	cr_assert(strstr(err.msg, "(did you mean \"ssh\"?)") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "its names: ftp, ssh, telnet,") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_try("feed | dport |23:22 collect", &err), -EINVAL));
	cr_assert(strstr(err.msg, "23:22") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_try("feed | dport |telnet:ssh collect", &err), -EINVAL));
	cr_assert(strstr(err.msg, "backwards") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_try("feed | sample every=2 |http collect", &err), -EINVAL),
		  "sample has no class named http");
	cr_assert(strstr(err.msg, "(its names: out, rest; or give the class's number)") != NULL,
		  "%s", err.msg);
}

/* A class name after a filter that hands packets on with their class (count, union,
 * flow) means what the filters feeding it call that class. */
Test(labels, class_names_resolve_through_pass_through_filters)
{
	struct bl_err err;

	h = harness_new("feed | dport | count | count |ssh collect --name=c");
	cr_assert(h != NULL);
	push_ports();
	harness_run(h);
	cr_assert(eq(uint, harness_n(h, "c"), 2), "the two ssh packets, through two counts");
	cr_assert(eq(uint, harness_n_cls(h, "c", 22), 2));
	harness_free(h);
	h = NULL;
	cr_assert(eq(int, harness_try("feed | (sport ++ dport) | union |ssh collect", &err), 0),
		  "two feeders that agree: %s", err.msg);
	cr_assert(eq(int, harness_try("feed | (dport ++ renamer) | union |ssh collect", &err), -EINVAL));
	cr_assert(strstr(err.msg, "is 22 to \"dport\" (dport) but 99 to \"renamer\" (renamer)") != NULL,
		  "names both feeders: %s", err.msg);
	cr_assert(eq(int, harness_try("feed | sample every=2 | count |http collect", &err), -EINVAL));
	cr_assert(strstr(err.msg, "nor has any filter that feeds it") != NULL, "%s", err.msg);
	cr_assert(eq(int, harness_try("feed | dport | sample every=2 |ssh collect", &err), -EINVAL),
		  "sample gives classes of its own: names are its own");
}
