/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Linked into every Criterion test binary (meson.build's criterion_dep).
 *
 * Under LeakSanitizer, the runner process's own allocations are not ours to
 * check: Criterion's runner (BoxFort, inside libcriterion) now and then leaves
 * a 48-byte timeout record of a finished test behind at exit, and LSan then
 * failed a test binary whose every test passed (seen once in some fifty
 * sanitizer runs). Each test runs in a worker process of its own, started by
 * exec ("boxfort-worker"), where LSan checks everything as before: PRE_ALL
 * hooks run in the runner only, and __lsan_disable stops the checks of the
 * calling thread's later allocations, the runner's main thread's here.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	__lsan_disable();
}
#endif
