/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The order a graph's filters run in (bl_graph__order, bl_graph_pvt.h): its strongly
 * connected components, whether it has a cycle, its sources and its tickers.
 */
#include "bl_graph_pvt.h"

/* Tarjan's strongly connected components, for bl_graph__order. */
struct scc {
	struct bl_graph *g;
	int index[BL_GRAPH_MAX_NODES], low[BL_GRAPH_MAX_NODES], comp[BL_GRAPH_MAX_NODES];
	uint8_t stack[BL_GRAPH_MAX_NODES];
	bool on[BL_GRAPH_MAX_NODES];
	int next, sp, n_comp;
};

static void
scc_visit(struct scc *c, unsigned int v)
{
	const struct bl_filter *f = c->g->filters[v];

	c->index[v] = c->low[v] = c->next++;
	c->stack[c->sp++] = (uint8_t)v;
	c->on[v] = true;
	for (unsigned int k = 0; k < f->n_out; k++) {
		unsigned int w = f->out[k].to->idx;
		if (c->index[w] < 0) {
			scc_visit(c, w);    /* depth at most BL_GRAPH_MAX_NODES */
			c->low[v] = RTE_MIN(c->low[v], c->low[w]);
		} else if (c->on[w]) {
			c->low[v] = RTE_MIN(c->low[v], c->index[w]);
		}
	}
	if (c->low[v] == c->index[v]) {
		unsigned int w;
		do {
			w = c->stack[--c->sp];
			c->on[w] = false;
			c->comp[w] = c->n_comp;
		} while (w != v);
		c->n_comp++;
	}
}

/* Whether f's tick runs each pass of g. One whose tick has work only in a graph with a
 * cycle (BL_FILTER_F_TICK_CYCLIC: a join) runs in an acyclic graph only when it takes the
 * state of one that ran in a cyclic graph: what that one held goes at the first pass. */
static bool
ticks(const struct bl_graph *g, const struct bl_filter *f)
{
	if (f->ops->tick == NULL)
		return false;
	if (!(f->ops->flags & BL_FILTER_F_TICK_CYCLIC) || g->has_cycle)
		return true;
	return f->from != NULL && f->from->cyclic;
}

/*
 * The order filters run in: Kahn's, over the graph's strongly connected components
 * (Tarjan's) instead of its nodes: sweeps in index order place each component whose
 * inputs are all placed, its members in index order. An acyclic graph is ordered as
 * before (each node its own component); in a cyclic one, whatever lies downstream of a
 * cycle runs after it in every round, so what leaves the cycle in the last round is
 * still processed, and the round limit drops (cycle_limit) only what still circles.
 * Before, nodes on or below a cycle followed in index order, and a filter written before
 * its upstream saw the cycle's last output dropped as cycle_limit.
 */
void
bl_graph__order(struct bl_graph *g)
{
	struct scc c = { .g = g };
	uint16_t indeg[BL_GRAPH_MAX_NODES] = { 0 };    /* per component, from others */
	bool placed[BL_GRAPH_MAX_NODES] = { false };    /* per component */
	unsigned int n = 0;

	for (unsigned int i = 0; i < g->n_filters; i++)
		c.index[i] = -1;
	for (unsigned int i = 0; i < g->n_filters; i++)
		if (c.index[i] < 0)
			scc_visit(&c, i);
	g->has_cycle = false;
	for (unsigned int i = 0; i < g->n_filters; i++) {
		const struct bl_filter *f = g->filters[i];
		for (unsigned int k = 0; k < f->n_out; k++) {
			int to = c.comp[f->out[k].to->idx];
			if (to == c.comp[i])
				g->has_cycle = true;    /* a cycle, or a loop onto itself */
			else
				indeg[to]++;
		}
	}
	for (bool progress = true; progress;) {
		progress = false;
		for (unsigned int i = 0; i < g->n_filters; i++) {
			int comp = c.comp[i];
			if (placed[comp] || indeg[comp] != 0)
				continue;
			placed[comp] = progress = true;
			for (unsigned int j = 0; j < g->n_filters; j++) {   /* members below i too */
				const struct bl_filter *f = g->filters[j];
				if (c.comp[j] != comp)
					continue;
				g->order[n++] = g->filters[j];
				for (unsigned int k = 0; k < f->n_out; k++)
					if (c.comp[f->out[k].to->idx] != comp)
						indeg[c.comp[f->out[k].to->idx]]--;
			}
		}
	}
	RTE_VERIFY(n == g->n_filters);   /* every component is placed once its inputs are */
	g->n_sources = g->n_tickers = 0;
	for (unsigned int i = 0; i < g->n_filters; i++) {
		g->filters[i]->cyclic = g->has_cycle;
		if (g->filters[i]->ops->poll != NULL)
			g->sources[g->n_sources++] = g->filters[i];
		if (ticks(g, g->filters[i]))
			g->tickers[g->n_tickers++] = g->filters[i];
	}
}
