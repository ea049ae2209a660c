/* SPDX-License-Identifier: ISC */
/*
 * limits.h: the HTTP server's admission arithmetic, kept pure so that the
 * unit tests reach it: the in-flight body budget, how a request body grows,
 * whether a new connection is within server.max_connections and
 * server.max_connections_per_ip, and the backstop limits handed to
 * libmicrohttpd (which, at its own limits, closes accepted sockets without
 * a word: the client sees a reset).
 */
#ifndef AG_HTTP_LIMITS_H
#define AG_HTTP_LIMITS_H

#include <stddef.h>

/* The first allocation of a body, unless the body announced less. */
#define LIMITS_BODY_FIRST	(16 * 1024)

/*
 * Bytes of request bodies held by the front, all requests together
 * (server.max_body_inflight).  lb_used moves only through the functions
 * below, which are safe from any thread.
 */
struct limits_budget {
	size_t	lb_limit;
	size_t	lb_used;	/* atomic */
};

void	limits_budget_init(struct limits_budget *b, size_t limit);
/* Charges n bytes: 0, or AG_ERR_BUSY (nothing charged) over the limit. */
int	limits_budget_charge(struct limits_budget *b, size_t n);
/* Gives back n bytes charged before. */
void	limits_budget_release(struct limits_budget *b, size_t n);
size_t	limits_budget_used(struct limits_budget *b);
/* Whether n more bytes would fit now (a hint: others may charge first). */
int	limits_budget_fits(struct limits_budget *b, size_t n);

/*
 * The capacity a body buffer of capacity cap grows to so that it holds
 * need bytes: doubling from LIMITS_BODY_FIRST, never above announced (the
 * Content-Length, 0 when the body is chunked) nor max.  0 when need is
 * over what the body may hold (announced or max).
 */
size_t	limits_body_grow(size_t cap, size_t need, size_t announced,
	    size_t max);

enum limits_admit {
	LIMITS_ADMIT_OK,
	LIMITS_ADMIT_TOTAL,	/* server.max_connections reached */
	LIMITS_ADMIT_PER_IP,	/* server.max_connections_per_ip reached */
};

/*
 * Whether one more connection may be served, given the connections served
 * now (live clients only) in total and from its address.
 */
enum limits_admit limits_admit(int total, int from_ip, int max_total,
	    int max_per_ip);

/*
 * libmicrohttpd's own limits: high enough above ours that our answer (503
 * and Retry-After) comes first, with room for the connections refused that
 * wait for their answer and for those whose client has gone and whose
 * request is still being answered.  libmicrohttpd splits its total among
 * its threads, so each thread's share covers ours whole.
 */
unsigned int limits_mhd_total(int max_total, int threads);
unsigned int limits_mhd_per_ip(int max_per_ip);
/* File descriptors the front needs: every connection and 64 more. */
unsigned long limits_front_files(int max_total, int threads);

#endif /* AG_HTTP_LIMITS_H */
