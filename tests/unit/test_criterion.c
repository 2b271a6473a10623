/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The assertions every test relies on (tests/include/bl_test_assert.h): gt()
 * is strict, ge() is not. Criterion 2.4.1's own gt() passed on equal values.
 */
#include "bl_test_assert.h"

TestSuite(criterion_ops, .timeout = 30);

Test(criterion_ops, gt_is_strict)
{
	unsigned u = 5;
	uint64_t w = 5;
	int i = -3;
	double d = 0.5;

	cr_assert(not(gt(u32, u, 5)));
	cr_assert(not(gt(u64, w, 5)));
	cr_assert(not(gt(int, i, -3)));
	cr_assert(not(gt(dbl, d, 0.5)));
	cr_assert(not(gt(u32, u, 6)));
	cr_assert(gt(u32, u, 4));
	cr_assert(gt(u64, w, 0));
	cr_assert(gt(int, i, -4));
}

Test(criterion_ops, ge_takes_equal)
{
	unsigned u = 5;

	cr_assert(ge(u32, u, 5));
	cr_assert(ge(u32, u, 4));
	cr_assert(not(ge(u32, u, 6)));
	cr_assert(le(u32, u, 5));
	cr_assert(not(lt(u32, u, 5)));
}
