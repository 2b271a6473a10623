/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bl_mbuf_check — the chain walk and the safe free (see bl_mbuf_check.h).
 */
#include "bl_mbuf_check.h"

enum bl_mbuf_fault
bl_mbuf_check_chain(const struct rte_mbuf *m)
{
	const struct rte_mbuf *s = m;
	uint64_t sum = 0;
	uint16_t k;

	/* At most nb_segs steps: a chain that loops or runs on is caught after them. */
	for (k = 0; k < m->nb_segs; k++) {
		if (s == NULL)
			return BL_MBUF_BAD_SEGS;          /* C1: the chain ends early */
		if ((uint32_t)s->data_off + s->data_len > s->buf_len)
			return BL_MBUF_BAD_BOUNDS;        /* C3 */
		sum += s->data_len;
		s = s->next;
	}
	if (k == 0 || s != NULL)
		return BL_MBUF_BAD_SEGS;                  /* C1: nb_segs 0, or the chain runs on */
	if (sum != m->pkt_len)
		return BL_MBUF_BAD_LEN;                   /* C2 */
	return BL_MBUF_OK;
}

void
bl_mbuf_free_bad(struct rte_mbuf *m)
{
	struct rte_mbuf *slow = m, *fast = m;

	/*
	 * rte_pktmbuf_free follows next until NULL; in a loop it would free a
	 * segment twice. Find a loop (Floyd: the fast walker meets the slow one
	 * inside it), then its first segment (as far from the head as the
	 * meeting point is from it, round the loop), and cut the link that
	 * closes it.
	 */
	while (fast != NULL && fast->next != NULL) {
		slow = slow->next;
		fast = fast->next->next;
		if (slow == fast) {
			struct rte_mbuf *start = m, *last;

			while (start != slow) {
				start = start->next;
				slow = slow->next;
			}
			for (last = start; last->next != start; last = last->next)
				;
			last->next = NULL;
			break;
		}
	}
	rte_pktmbuf_free(m);
}
