/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The protocol header both sides include (lib/stream/bl_stream_proto.h): it
 * builds with nothing but libc and the ABI header (this test links no DPDK and
 * no library of ours), and its rules say what docs/control.md says.
 */
#include <criterion/criterion.h>
#include "bl_test_assert.h"
#include <string.h>

#include "bl_stream_proto.h"

TestSuite(stream_proto, .timeout = 10);

static int
name(const char *s)
{
	return bl_stream_name_ok(s, strlen(s));
}

Test(stream_proto, stream_names)
{
	char long_ok[48], too_long[49];

	memset(long_ok, 'a', 47);
	long_ok[47] = '\0';
	memset(too_long, 'a', 48);
	too_long[48] = '\0';
	cr_assert(name("web") && name("a.b-c_D9") && name(long_ok) && name("...") && name(".x"));
	cr_assert(name("") == 0 && !name(".") && !name("..") && !name(too_long));
	cr_assert(name("a/b") == 0 && !name("a b") && !name("é") && !name("a\n"));
	cr_assert(bl_stream_name_ok(NULL, 3) == 0);
	/* A NUL inside the length is not a name character. */
	cr_assert(bl_stream_name_ok("ab\0c", 4) == 0);
	cr_assert(bl_stream_name_ok("web/x", 3), "a prefix is checked by its length");
}

Test(stream_proto, tap_prefix)
{
	cr_assert(bl_stream_name_tap("tap.1", 5) && bl_stream_name_tap("tap.", 4));
	cr_assert(bl_stream_name_tap("tap", 3) == 0 && bl_stream_name_tap("taps", 4) == 0 &&
		  bl_stream_name_tap("mytap.1", 7) == 0 && bl_stream_name_tap("Tap.1", 5) == 0);
	cr_assert(bl_stream_name_tap("tap.1", 3) == 0, "checked by its length");
	cr_assert(bl_stream_name_tap(NULL, 4) == 0);
}

Test(stream_proto, instance_names)
{
	cr_assert(bl_instance_name_ok("default", 7) && bl_instance_name_ok("a-b_9", 5));
	cr_assert(bl_instance_name_ok("a.b", 3) == 0, "an instance names a directory: no dot");
	cr_assert(bl_instance_name_ok("", 0) == 0 && !bl_instance_name_ok("..", 2));
	cr_assert(bl_instance_name_ok("0123456789012345678901234567890", 31));
	cr_assert(bl_instance_name_ok("01234567890123456789012345678901", 32) == 0);
}

Test(stream_proto, policy_names_round_trip)
{
	for (uint32_t p = BL_IBUF_SRP; p <= BL_IBUF_BLOCK; p++)
		cr_assert(eq(u32, bl_stream_policy_parse(bl_stream_policy_name(p)), p));
	cr_assert(eq(str, (char *)bl_stream_policy_name(BL_IBUF_MRP), "mrp"));
	cr_assert(eq(str, (char *)bl_stream_policy_name(0), "?"));
	cr_assert(eq(str, (char *)bl_stream_policy_name(99), "?"));
	cr_assert(eq(u32, bl_stream_policy_parse("frp"), BL_IBUF_FRP));
	cr_assert(eq(u32, bl_stream_policy_parse("FRP"), 0));
	cr_assert(eq(u32, bl_stream_policy_parse(""), 0));
	cr_assert(eq(u32, bl_stream_policy_parse("?"), 0));
	cr_assert(eq(u32, bl_stream_policy_parse(NULL), 0));
	cr_assert(bl_stream_policy_readable(BL_IBUF_FRP) && !bl_stream_policy_readable(BL_IBUF_BLOCK));
	cr_assert(bl_stream_policy_readable(0) == 0);
}
