/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion's new assertions, as every test here includes them (not
 * <criterion/new/assert.h> directly: unit-criterion-include refuses that).
 *
 * Criterion 2.4.1 (Debian 12) defines gt() in C as "not less than", so
 * cr_assert(gt(u32, 0, 0)) passed: every gt() was a ge(). It is made strict
 * here, as its name says; unit-criterion checks both it and ge().
 */
#ifndef BL_TEST_ASSERT_H
#define BL_TEST_ASSERT_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#ifndef __cplusplus
#undef CRI_BINOP_T_GT
#define CRI_BINOP_T_GT(Tag, Actual, Ref) \
	(CRI_BINOP_LT_TAG(Tag, !, Actual, Ref) && CRI_BINOP_EQ_TAG(Tag, !, Actual, Ref))
#endif

#endif /* BL_TEST_ASSERT_H */
