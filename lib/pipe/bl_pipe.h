/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_pipe — the pipeline language (Streamline's, DESIGN.md "The pipeline
 * language"): text to a graph description, a graph description back to text,
 * and the JSON nodes-and-edges form to the same description. No DPDK.
 *
 *   text   := stmt { (";" | newline) stmt }           empty statements allowed
 *   stmt   := pipe
 *   pipe   := par { "|"LABEL par }                     LABEL attached to "|", may be empty
 *   par    := unary { ("+" | "++" | "+*") unary }      binds tighter than "|", left-assoc
 *   unary  := "!" call | call | "(" pipe ")"
 *   call   := NAME { arg }
 *   arg    := WORD | "quoted" | KEY=WORD | KEY="quoted" | --name=NAME
 *   LABEL  := "all" | ["!"] range { "," range }        at most 8 ranges
 *   range  := class [ ":" class ]
 *   class  := 1..4294967295 | NAME                     names resolved later
 *   NAME   := [A-Za-z_][A-Za-z0-9_-]*  (at most 31)    KEY also allows "."
 *   WORD   := bytes other than blanks and | ( ) ; + "  (not starting with ! or --)
 * In quotes, \" and \\ are the only escapes. A newline ends a statement only
 * where one could end; after an operator or inside parentheses it is a blank.
 * A run of the same operator is one n-ary node (`a ++ b ++ c`: one "union").
 */
#ifndef BL_PIPE_H
#define BL_PIPE_H

#include <stddef.h>

#include "bl_err.h"
#include "bl_gdesc.h"

struct cJSON;

struct bl_pipe_opts {
	/* Known filter names, NULL-terminated; NULL accepts any name. "union"
	 * and "intersect" are always accepted. */
	const char *const *filters;
};

/*
 * Append the graph of `text` to g. Nodes named --name=X are shared with what
 * g already holds; unnamed nodes get fresh names ("bpf", "bpf2", ...).
 * 0, or -EINVAL (err: "col N: ...", 1-based byte column) / -ENOMEM; on
 * failure g is left exactly as it was.
 */
int bl_pipe_parse(const char *text, const struct bl_pipe_opts *opts,
		  struct bl_gdesc *g, struct bl_err *err);

/*
 * Write g as pipeline text that bl_pipe_parse (into an empty gdesc) turns
 * back into an equal graph. Returns the length (without the NUL), -ENOSPC
 * when `size` is too small (buf may then be NULL), or -EINVAL when g holds
 * something the language cannot write (a bad name or an empty label set).
 */
int bl_pipe_print(const struct bl_gdesc *g, char *buf, size_t size);

/* The same into a fresh heap string (free() it); NULL on error. */
char *bl_pipe_print_dup(const struct bl_gdesc *g);

/*
 * Parse an edge label as written after "|" (without it): "80", "!80",
 * "22:23", "ssh:telnet", "80,443", "all"; "" is the default label.
 * 0 or -EINVAL (err: `bad edge label "..." (...)`, no column).
 */
int bl_label_parse(const char *text, struct bl_label *l, struct bl_err *err);

/* Write a label as after "|" ("" for the default). Length, -ENOSPC or -EINVAL. */
int bl_label_print(const struct bl_label *l, char *buf, size_t size);

/*
 * Append the graph of a JSON object
 *   {"nodes": [{"name": "r", "filter": "rx", "args": {"port": "in"},
 *               "positional": ["tcp port 80"], "negate": false}, ...],
 *    "edges": [{"from": "r", "to": "b", "label": "80"}, ...]}
 * to g. `path` names the object in errors ("graphs[0].graph"; NULL: "graph").
 * Argument values may be strings, numbers or booleans; "label" a string (as
 * after "|") or a number, absent for the default. A node whose name g already
 * holds is shared under the same rule as --name. 0, or -EINVAL (err:
 * `graph.edges[2].to: no node named "bpff" (did you mean "bpf"?)`) / -ENOMEM;
 * on failure g is left as it was.
 */
int bl_gdesc_from_json(const struct cJSON *graph, const char *path,
		       const struct bl_pipe_opts *opts, struct bl_gdesc *g,
		       struct bl_err *err);

#endif /* BL_PIPE_H */
