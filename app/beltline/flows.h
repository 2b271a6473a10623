/* SPDX-License-Identifier: BSD-3-Clause */
/* beltline cat --flows: one flow record (lib/flow/bl_flow_rec.h) as a line of text or JSON. */
#ifndef BELTLINE_FLOWS_H
#define BELTLINE_FLOWS_H

#include <stddef.h>
#include <stdio.h>

/* Print the entry (len bytes) as one line: 0, or -1 if it is not a flow record
 * of the version this CLI knows (nothing printed). */
int flows_print(FILE *out, const void *entry, size_t len, int json);

/* Whether the entry (len bytes) is a flow record of the version this CLI knows. */
int flows_is_rec(const void *entry, size_t len);

#endif /* BELTLINE_FLOWS_H */
