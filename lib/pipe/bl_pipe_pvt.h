/* SPDX-License-Identifier: BSD-3-Clause */
/* bl_pipe internals shared by the parser, the printer and the JSON reader. */
#ifndef BL_PIPE_PVT_H
#define BL_PIPE_PVT_H

#include <stdbool.h>
#include <stddef.h>

#include "bl_err.h"

#include "bl_gdesc.h"
#include "bl_pipe.h"

#define BL_PIPE_WHY_MAX 400

/* NAME: [A-Za-z_][A-Za-z0-9_-]*, shorter than BL_GDESC_NAME_MAX. */
bool bl_pipe__is_name(const char *s, size_t len);
/* KEY: like NAME, "." allowed too, any length. */
bool bl_pipe__is_key(const char *s, size_t len);

/* Parse a label (len bytes); on error `why` holds the sentence (no column). */
int bl_pipe__label(const char *s, size_t len, struct bl_label *l, char *why, size_t whysz);

/* Is `filter` known (opts)? If not, `why` says so, with "did you mean". */
int bl_pipe__check_filter(const struct bl_pipe_opts *opts, const char *filter,
			  char *why, size_t whysz);

/* May a later use (filter, args, negate) refer to node n? If not, `why` says why. */
int bl_pipe__share(const struct bl_gdesc_node *n, const char *filter,
		   const struct bl_args *args, bool negate, char *why, size_t whysz);

/* The parser's cursor over the text (bl_pipe.c, bl_pipe_lex.c). */
struct bl_pipe_ps {
	const char *t;
	size_t pos;
	int depth;                  /* parentheses open: newlines are blanks inside */
	unsigned int *mark;         /* per node index: the stamp of the last set it joined */
	unsigned int stamp;
	const struct bl_pipe_opts *opts;
	struct bl_gdesc *g;
	struct bl_err *err;
};

/* "col N: ..." at byte `pos`; returns -EINVAL. */
int bl_pipe__fail(struct bl_pipe_ps *ps, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), cold));
int bl_pipe__nomem(struct bl_pipe_ps *ps);
/* "col N: expected WHAT, got ..." at the cursor. */
int bl_pipe__expected(struct bl_pipe_ps *ps, const char *what);
const char *bl_pipe__got(const struct bl_pipe_ps *ps, size_t pos, char *buf, size_t size);

bool bl_pipe__is_blank(char c);
/* Ends a bare word or a label: blanks, newline, end, and | ( ) ; + " */
bool bl_pipe__is_delim(char c);
void bl_pipe__skip_blanks(struct bl_pipe_ps *ps, bool newlines);
void bl_pipe__skip_ws(struct bl_pipe_ps *ps);
size_t bl_pipe__word_len(const struct bl_pipe_ps *ps, size_t pos);

/* A call's arguments up to an operator, ")" or the end of the statement. */
int bl_pipe__args(struct bl_pipe_ps *ps, struct bl_args *args, char name[BL_GDESC_NAME_MAX],
		  size_t *name_pos);

#endif /* BL_PIPE_PVT_H */
