/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config in: JSON text (where a syntax error is, by line and column), a file
 * (regular, at most 4 MiB, paths in it relative to its folder), and the ports and
 * graphs of command-line flags. The sections: bl_cfg.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bl_cfg_pvt.h"
#include "bl_json.h"

#define CFG_FILE_MAX (4u << 20)

static void
where(const char *text, const char *at, unsigned int *line, unsigned int *col)
{
	*line = 1;
	*col = 1;
	for (const char *c = text; c < at; c++) {
		if (*c == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* A comma after a value and right before a closing } or ] (outside strings): JSON
 * allows none, and cJSON's error position for it lands past the bracket. NULL if there
 * is none. */
static const char *
trailing_comma(const char *text, size_t len)
{
	bool in_str = false;
	char last = '\0';   /* the last character outside strings and blanks ('"': a string) */

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '"') {
			in_str = true;
		} else if (c == ',' && last != '\0' && strchr(",{[:", last) == NULL) {
			size_t j = i + 1;
			while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' ||
					   text[j] == '\r'))
				j++;
			if (j < len && (text[j] == '}' || text[j] == ']'))
				return text + i;
		}
		last = c;
	}
	return NULL;
}

/* How deep in arrays and objects text[0..at) is (outside strings): cJSON refuses past
 * CJSON_NESTING_LIMIT, at a place that is otherwise good JSON. */
static unsigned long
depth_at(const char *text, const char *at)
{
	unsigned long d = 0;
	bool in_str = false;

	for (const char *c = text; c < at; c++) {
		if (in_str) {
			if (*c == '\\' && c + 1 < at)
				c++;
			else if (*c == '"')
				in_str = false;
		} else if (*c == '"') {
			in_str = true;
		} else if (*c == '[' || *c == '{') {
			d++;
		} else if ((*c == ']' || *c == '}') && d > 0) {
			d--;
		}
	}
	return d;
}

int
bl_cfg_parse(const char *text, size_t len, const char *dir, struct bl_cfg *cfg,
	     struct bl_diag *diag)
{
	struct bl_cfg_rd r = { .diag = diag, .dir = dir };
	unsigned int before = diag->n;
	const char *end = NULL;
	cJSON *root;

	bl_cfg_defaults(cfg);
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root == NULL) {
		unsigned int line, col;
		const char *at = end != NULL ? end : text, *comma = trailing_comma(text, len);
		bool early = true;

		if (comma != NULL) {
			where(text, comma, &line, &col);
			bl_diag_add(diag, "$: not valid JSON (line %u, col %u): a comma after the last "
				    "member of an object or array (JSON allows none)", line, col);
			return -EINVAL;
		}
		where(text, at, &line, &col);
		if (depth_at(text, at) >= CJSON_NESTING_LIMIT) {
			bl_diag_add(diag, "$: not valid JSON (line %u, col %u): arrays and objects "
				    "nested more than %d deep", line, col, CJSON_NESTING_LIMIT);
			return -EINVAL;
		}
		for (const char *c = at + (at < text + len); c < text + len; c++)
			early &= *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r';
		bl_diag_add(diag, "$: not valid JSON (line %u, col %u)%s", line, col,
			    early ? ": the text ends before the JSON does" : "");
		return -EINVAL;
	}
	/* Up to len, NUL bytes included: "{...}\0junk" is not one JSON object either. */
	for (const char *c = end; c != NULL && c < text + len; c++)
		if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r') {
			unsigned int line, col;
			where(text, c, &line, &col);
			bl_diag_add(diag, "$: not valid JSON (line %u, col %u): text follows the end of the object",
				    line, col);
			cJSON_Delete(root);
			return -EINVAL;
		}
	if (!cJSON_IsObject(root)) {
		bl_diag_add(diag, "$: must be an object, got %s", bl_json_type(root));
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* config/beltline.schema.json beside the configs (a loop over config/ checks it too): one
	 * line saying what it is, not ten unknown keys. */
	const cJSON *sch = cJSON_GetObjectItemCaseSensitive(root, "$schema");
	if (cJSON_IsString(sch) && strstr(sch->valuestring, "json-schema.org") != NULL) {
		bl_diag_add(diag, "$: a JSON Schema (it describes configs for editors; it is not "
			    "one): give a config, e.g. config/default.json");
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* cJSON cuts a string at a NUL: "rel\u0000x" would be read as "rel". Refused whole. */
	char np[PATH_LEN];
	int is_key;
	if (bl_json_find_nul(text, (size_t)(end - text), root, np, sizeof(np), &is_key)) {
		bl_diag_add(diag, "%s: %s a NUL character (\\u0000); no name, key or string of a "
			    "config may", np, is_key ? "a key contains" : "contains");
		cJSON_Delete(root);
		return -EINVAL;
	}
	/* cJSON skips every byte up to 32 as white space: a NUL is not JSON anywhere, and a
	 * reader of C strings stops at it. */
	const char *z = memchr(text, '\0', (size_t)(end - text));
	if (z != NULL) {
		unsigned int line, col;
		where(text, z, &line, &col);
		bl_diag_add(diag, "$: not valid JSON (line %u, col %u): a NUL byte; JSON has no such white space",
			    line, col);
		cJSON_Delete(root);
		return -EINVAL;
	}
	unsigned int keys = diag->n_keys;
	bl_cfg__read_top(&r, root, cfg);
	cJSON_Delete(root);
	if (diag->n == before)
		return bl_cfg_validate(cfg, diag);
	/* Only keys it does not know (or given twice): the rest was read as if they were not
	 * there, so it is checked all the same. When that passes, every problem is a key
	 * (diag->n == diag->n_keys), and a caller may go on to check what needs a whole
	 * config (the graphs): one run says every problem. */
	if (diag->n - before == diag->n_keys - keys)
		(void)bl_cfg_validate(cfg, diag);
	return -EINVAL;
}

int
bl_cfg_load(const char *path, struct bl_cfg *cfg, struct bl_diag *diag)
{
	char dir[PATH_MAX], real[PATH_MAX];
	struct stat st;
	char *text;
	ssize_t got;
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; the check below
	 * refuses it (and for a regular file the flag changes nothing). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		bl_diag_add(diag, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		bl_diag_add(diag, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		bl_diag_add(diag, "%s: not a regular file (%s)", path,
			    S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO" :
			    S_ISSOCK(st.st_mode) ? "a socket" : "a device");
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > CFG_FILE_MAX) {
		bl_diag_add(diag, "%s: %lld bytes: a config holds at most %u (4 MiB)", path,
			    (long long)st.st_size, CFG_FILE_MAX);
		close(fd);
		return -EFBIG;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		close(fd);
		return -ENOMEM;
	}
	got = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		bl_diag_add(diag, "%s: short read", path);
		free(text);
		return -EIO;
	}
	text[got] = '\0';
	if (realpath(path, real) == NULL)
		snprintf(real, sizeof(real), "%s", path);
	snprintf(dir, sizeof(dir), "%s", real);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	rc = bl_cfg_parse(text, (size_t)got, dir, cfg, diag);
	free(text);
	return rc;
}

int
bl_cfg_add_port(struct bl_cfg *cfg, const char *arg, struct bl_diag *diag)
{
	struct bl_cfg_rd r = { .diag = diag, .dir = NULL };
	const char *eq = strchr(arg, '=');
	unsigned int before = diag->n;
	struct bl_cfg_port *p;
	char path[PATH_LEN];

	snprintf(path, sizeof(path), "--port %.60s", arg);
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= BL_CFG_NAME_MAX) {
		bl_diag_add(diag, "%s: must be NAME=DEVICE, e.g. in=net_pcap0,rx_pcap=FILE", path);
		return -EINVAL;
	}
	if (cfg->n_ports >= BL_CFG_MAX_PORTS) {
		bl_diag_add(diag, "%s: at most %d ports", path, BL_CFG_MAX_PORTS);
		return -EINVAL;
	}
	p = &cfg->ports[cfg->n_ports];
	bl_cfg__port_defaults(p);
	snprintf(p->name, sizeof(p->name), "%.*s", (int)(eq - arg), arg);
	if (!bl_cfg__name_ok(p->name, BL_CFG_NAME_MAX))
		bl_diag_add(diag, "%s: the name must be letters, digits, '_' or '-'", path);
	if (strncmp(eq + 1, "net_", 4) == 0)
		bl_cfg__vdev_resolve(&r, path, eq + 1, p->vdev, sizeof(p->vdev));
	else if (!bl_cfg__pci_ok(eq + 1, p->pci))
		bl_diag_add(diag, "%s: the device must be a virtual device (net_...) or a PCI address", path);
	if (diag->n != before)
		return -EINVAL;
	cfg->n_ports++;
	return 0;
}

int
bl_cfg_add_graph(struct bl_cfg *cfg, const char *text, const unsigned int *lcores, unsigned int n,
		 struct bl_diag *diag)
{
	struct bl_cfg_graph *g;

	if (cfg->n_graphs >= BL_CFG_MAX_GRAPHS) {
		bl_diag_add(diag, "--pipeline: at most %d graphs", BL_CFG_MAX_GRAPHS);
		return -EINVAL;
	}
	if (strlen(text) >= BL_CFG_PIPE_MAX || n == 0 || n > BL_CFG_MAX_WORKERS) {
		bl_diag_add(diag, "--pipeline: longer than %d characters, or no worker lcore to run it",
			    BL_CFG_PIPE_MAX - 1);
		return -EINVAL;
	}
	g = &cfg->graphs[cfg->n_graphs++];
	memset(g, 0, sizeof(*g));
	strcpy(g->text, text);
	g->n_lcores = n;
	memcpy(g->lcores, lcores, n * sizeof(*lcores));
	return 0;
}
