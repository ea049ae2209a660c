/* SPDX-License-Identifier: ISC */
/*
 * metrics.c: counters, gauges and histograms of the front process, and their
 * rendering in the Prometheus text exposition format 0.0.4.
 *
 * The state is one plain struct with fixed-size tables, guarded by one
 * mutex.  Recording takes the mutex for a handful of stores.  Rendering
 * copies the struct under the mutex (a few kilobytes, and up to some
 * 300 KB with a full token table: only the names in use are copied) and
 * formats the copy without holding it, so a slow scrape never stalls a
 * request thread.
 *
 * Token names live in a fixed table, found through an open-addressing hash
 * index twice its size that is not part of the rendered state: a lookup
 * costs one hash and a probe or two, not a scan of 1024 names.
 *
 * Models live in two smaller tables: (name, version) pairs, with their
 * gauges and histograms, and names, with the counters labelled model
 * only.  METRICS_MODELS_MAX entries each, looked up by a scan that
 * compares a stored hash before the strings; a table stays dense (a slot
 * is reused in place, never emptied), so rendering copies its used prefix.
 *
 * Numbers: counters are printed as integers; durations are stored as
 * integer nanoseconds and printed as seconds with up to nine decimals by
 * our own code, so neither LC_NUMERIC nor printf's float rounding can
 * change the text.  Bucket bounds are constant strings.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ag_err.h"
#include "common/util.h"
#include "http/metrics.h"

#define MT_NS_PER_S		1000000000ULL
/* Longest duration we record: keeps the double-to-integer cast defined. */
#define MT_DUR_CAP_S		1000000ULL
#define MT_BUCKETS_MAX		14	/* bounds + the +Inf bucket */
#define MT_RENDER_INITIAL	8192
/* Slots of the token name index: a power of two, at least twice the table. */
#define MT_TOKEN_SLOTS		2048
#define MT_TOKEN_OTHER		"(other)"
#define MT_MODEL_OTHER		"(other)"

/* ==== Tables ==== */

struct mt_bound {
	uint64_t	 b_le;		/* inclusive upper bound, in units */
	const char	*b_text;	/* the le="..." label value */
};

/* 1 ms .. 10 s, in nanoseconds. */
static const struct mt_bound dur_bounds[] = {
	{ 1000000ULL, "0.001" },
	{ 2500000ULL, "0.0025" },
	{ 5000000ULL, "0.005" },
	{ 10000000ULL, "0.01" },
	{ 25000000ULL, "0.025" },
	{ 50000000ULL, "0.05" },
	{ 100000000ULL, "0.1" },
	{ 250000000ULL, "0.25" },
	{ 500000000ULL, "0.5" },
	{ 1000000000ULL, "1" },
	{ 2500000000ULL, "2.5" },
	{ 5000000000ULL, "5" },
	{ 10000000000ULL, "10" },
};
#define MT_NDUR	(sizeof(dur_bounds) / sizeof(dur_bounds[0]))

/* Images per batch. */
static const struct mt_bound batch_bounds[] = {
	{ 1, "1" }, { 2, "2" }, { 4, "4" }, { 8, "8" },
	{ 16, "16" }, { 32, "32" }, { 64, "64" },
};
#define MT_NBATCH	(sizeof(batch_bounds) / sizeof(batch_bounds[0]))

_Static_assert(MT_NDUR + 1 <= MT_BUCKETS_MAX, "duration buckets");
_Static_assert(MT_NBATCH + 1 <= MT_BUCKETS_MAX, "batch buckets");
_Static_assert((MT_TOKEN_SLOTS & (MT_TOKEN_SLOTS - 1)) == 0 &&
    MT_TOKEN_SLOTS >= 2 * METRICS_TOKENS_MAX &&
    METRICS_TOKENS_MAX < UINT16_MAX, "token index");

static const char *const ep_names[METRICS_EP__COUNT] = {
	[METRICS_EP_LIVE] = "health_live",
	[METRICS_EP_READY] = "health_ready",
	[METRICS_EP_SERVER] = "server_metadata",
	[METRICS_EP_MODEL] = "model_metadata",
	[METRICS_EP_MODEL_READY] = "model_ready",
	[METRICS_EP_INFER] = "infer",
	[METRICS_EP_CLASSIFY] = "classify",
	[METRICS_EP_METRICS] = "metrics",
	[METRICS_EP_OTHER] = "other",
};

static const char *const auth_names[METRICS_AUTH__COUNT] = {
	[METRICS_AUTH_MISSING] = "missing",
	[METRICS_AUTH_INVALID] = "invalid",
	[METRICS_AUTH_CERTIFICATE] = "certificate",
	[METRICS_AUTH_FORBIDDEN] = "forbidden",
};

static const char *const limit_names[METRICS_LIMIT__COUNT] = {
	[METRICS_LIMIT_REQUESTS] = "requests",
	[METRICS_LIMIT_IMAGES] = "images",
	[METRICS_LIMIT_INFLIGHT] = "inflight",
};

/* ==== State ==== */

struct mt_hist {
	uint64_t	h_n[MT_BUCKETS_MAX];	/* per bucket, not cumulative */
	uint64_t	h_sum;			/* ns, or images for batches */
};

struct mt_code {
	int		c_code;			/* 100..599 */
	uint64_t	c_n;
};

struct mt_endpoint {
	struct mt_code	e_codes[METRICS_CODES_MAX];	/* sorted by code */
	int		e_ncodes;
	uint64_t	e_other;		/* code="other" */
	uint64_t	e_total;		/* all requests seen */
	struct mt_hist	e_dur;
};

struct mt_layer {
	char		l_role[METRICS_LAYER_NAME_MAX];
	char		l_layer[METRICS_LAYER_NAME_MAX];
	int		l_active;
};

struct mt_token {
	char		t_name[METRICS_TOKEN_NAME_MAX];	/* cleaned, cut */
	struct mt_code	t_codes[METRICS_TOKEN_CODES_MAX]; /* sorted by code */
	int		t_ncodes;
	uint64_t	t_other;			/* code="other" */
	uint64_t	t_limited[METRICS_LIMIT__COUNT];
};

/* One (model, version) pair. */
struct mt_pair {
	char		p_name[METRICS_LABEL_MAX];	/* cleaned, cut */
	char		p_version[METRICS_LABEL_MAX];
	uint32_t	p_hash;			/* of name and version */
	int		p_model;		/* model gauges shown */
	char		p_digest[METRICS_LABEL_MAX];
	int		p_loaded, p_verified;
	int		p_up_known, p_up;	/* worker_up shown, value */
	struct mt_hist	p_queue, p_infer, p_batch;
};

/* One model name: the counters labelled model="..." only. */
struct mt_name {
	char		n_name[METRICS_LABEL_MAX];
	uint32_t	n_hash;
	uint64_t	n_reload_ok, n_reload_failed;
	uint64_t	n_verify_failures;
	uint64_t	n_load_failures;
	uint64_t	n_restarts;
};

/*
 * Everything rendered: plain data, copied by metrics_render() up to the
 * pair table and then the entries in use of each of the three tables.
 */
struct mt_state {
	char		st_version[METRICS_LABEL_MAX];
	uint64_t	st_start_ns;		/* Unix time, ns */
	struct mt_endpoint st_ep[METRICS_EP__COUNT];
	long long	st_inflight;
	uint64_t	st_rejected[METRICS_REJ__COUNT];
	long long	st_body_bytes;
	struct mt_layer	st_layers[METRICS_LAYERS_MAX];
	int		st_nlayers;
	uint64_t	st_auth[METRICS_AUTH__COUNT];
	uint64_t	st_limited_addr[METRICS_LIMIT__COUNT];
	uint64_t	st_limited_token[METRICS_LIMIT__COUNT];
	struct mt_token	st_tok_other;		/* token="(other)" */
	int		st_ntokens;
	struct mt_pair	st_pair_other;		/* "(other)", version "" */
	int		st_pair_other_used;	/* it counted something */
	int		st_npairs;
	struct mt_name	st_name_other;		/* model="(other)" */
	int		st_name_other_used;
	int		st_nnames;
	/* The tables, in this order, must stay last. */
	struct mt_pair	st_pairs[METRICS_MODELS_MAX];
	struct mt_name	st_names[METRICS_MODELS_MAX];
	struct mt_token	st_tokens[METRICS_TOKENS_MAX];
};
#define MT_SIZEOF(t, f)	sizeof(((t *)0)->f)
_Static_assert(offsetof(struct mt_state, st_names) ==
    offsetof(struct mt_state, st_pairs) +
    MT_SIZEOF(struct mt_state, st_pairs) &&
    offsetof(struct mt_state, st_tokens) ==
    offsetof(struct mt_state, st_names) +
    MT_SIZEOF(struct mt_state, st_names) &&
    offsetof(struct mt_state, st_tokens) +
    MT_SIZEOF(struct mt_state, st_tokens) == sizeof(struct mt_state),
    "metrics_render() copies the three tables as the tail of the state");

struct metrics {
	pthread_mutex_t	m_mtx;
	/* Slot -> index + 1 into m_st.st_tokens; 0 is an empty slot. */
	uint16_t	m_tokslot[MT_TOKEN_SLOTS];
	struct mt_state	m_st;
};

static void
mt_lock(struct metrics *m)
{
	/* Fails only on a broken mutex: an invariant, not an input. */
	AG_ASSERT(pthread_mutex_lock(&m->m_mtx) == 0);
}

static void
mt_unlock(struct metrics *m)
{
	AG_ASSERT(pthread_mutex_unlock(&m->m_mtx) == 0);
}

/* ==== Label values ==== */

/*
 * Length of the valid UTF-8 sequence at s, or 0 if it is not one (overlong
 * forms, surrogates and code points past U+10FFFF are invalid).  s is
 * NUL-terminated and a NUL is never a continuation byte, so the checks
 * below stop at the terminator and never read past it.
 */
static size_t
mt_utf8_len(const unsigned char *s)
{
#define CONT(c)	((c) >= 0x80 && (c) <= 0xbf)
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return CONT(s[1]) ? 2 : 0;
	if (c == 0xe0)
		return s[1] >= 0xa0 && s[1] <= 0xbf && CONT(s[2]) ? 3 : 0;
	if (c == 0xed)	/* U+D800..DFFF are surrogates */
		return s[1] >= 0x80 && s[1] <= 0x9f && CONT(s[2]) ? 3 : 0;
	if (c >= 0xe1 && c <= 0xef)
		return CONT(s[1]) && CONT(s[2]) ? 3 : 0;
	if (c == 0xf0)
		return s[1] >= 0x90 && s[1] <= 0xbf && CONT(s[2]) &&
		    CONT(s[3]) ? 4 : 0;
	if (c >= 0xf1 && c <= 0xf3)
		return CONT(s[1]) && CONT(s[2]) && CONT(s[3]) ? 4 : 0;
	if (c == 0xf4)
		return s[1] >= 0x80 && s[1] <= 0x8f && CONT(s[2]) &&
		    CONT(s[3]) ? 4 : 0;
	return 0;
#undef CONT
}

/*
 * Copies src (NULL reads as "") into dst[dstsz] as valid UTF-8: each byte
 * that does not start a valid sequence becomes U+FFFD, because Prometheus
 * rejects a scrape whose label values are not UTF-8.  Stops before a
 * character that would not fit, so the cut never splits one.
 */
static void
mt_copy_label(char *dst, size_t dstsz, const char *src)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	const void *put;
	size_t o = 0, n, putlen;

	AG_ASSERT(dstsz > 0);
	while (*s != '\0') {
		if ((n = mt_utf8_len(s)) == 0) {
			put = repl;
			putlen = sizeof(repl) - 1;
			n = 1;
		} else {
			put = s;
			putlen = n;
		}
		if (putlen >= dstsz - o)
			break;
		memcpy(dst + o, put, putlen);
		o += putlen;
		s += n;
	}
	dst[o] = '\0';
}

/* ==== Recording ==== */

/* Seconds to nanoseconds: NaN and negatives read as 0, capped above. */
static uint64_t
mt_ns(double s)
{
	if (!(s > 0.0))
		return 0;
	if (s >= (double)MT_DUR_CAP_S)
		return MT_DUR_CAP_S * MT_NS_PER_S;
	return (uint64_t)(s * 1e9 + 0.5);
}

static void
mt_observe(struct mt_hist *h, const struct mt_bound *b, size_t nb,
    uint64_t v)
{
	size_t i;

	for (i = 0; i < nb && v > b[i].b_le; i++)
		;
	h->h_n[i]++;
	h->h_sum += v;
}

/*
 * Counts status in the sorted table codes[*ncodes] of at most max entries,
 * or in *other for a status outside 100..599 or past a full table.
 */
static void
mt_codes_add(struct mt_code *codes, int *ncodes, int max, uint64_t *other,
    int status)
{
	int i, n = *ncodes;

	if (status < 100 || status > 599) {
		(*other)++;
		return;
	}
	for (i = 0; i < n && codes[i].c_code < status; i++)
		;
	if (i < n && codes[i].c_code == status) {
		codes[i].c_n++;
		return;
	}
	/* A full table: the label set stays bounded whatever is sent. */
	if (n == max) {
		(*other)++;
		return;
	}
	memmove(&codes[i + 1], &codes[i], (size_t)(n - i) * sizeof(codes[0]));
	codes[i].c_code = status;
	codes[i].c_n = 1;
	*ncodes = n + 1;
}

static void
mt_count_code(struct mt_endpoint *e, int status)
{
	e->e_total++;
	mt_codes_add(e->e_codes, &e->e_ncodes, METRICS_CODES_MAX,
	    &e->e_other, status);
}

/* FNV-1a, 32 bits: names come from our own token file, not from clients. */
static uint32_t
mt_hash(const char *s)
{
	uint32_t h = 2166136261U;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619U;
	}
	return h;
}

/*
 * The entry of the token named key (a name through mt_copy_label() into
 * METRICS_TOKEN_NAME_MAX bytes), added when new; the "(other)" entry for
 * an empty name, for "(other)" itself and once the table is full.  Called
 * with the mutex held.
 */
static struct mt_token *
mt_token(struct metrics *m, const char key[METRICS_TOKEN_NAME_MAX])
{
	struct mt_state *st = &m->m_st;
	struct mt_token *t;
	uint32_t h;

	if (key[0] == '\0' || strcmp(key, MT_TOKEN_OTHER) == 0)
		return &st->st_tok_other;
	/* At most half the slots are used: the probe finds an empty one. */
	for (h = mt_hash(key) & (MT_TOKEN_SLOTS - 1); m->m_tokslot[h] != 0;
	    h = (h + 1) & (MT_TOKEN_SLOTS - 1)) {
		t = &st->st_tokens[m->m_tokslot[h] - 1];
		if (strcmp(t->t_name, key) == 0)
			return t;
	}
	if (st->st_ntokens == METRICS_TOKENS_MAX)
		return &st->st_tok_other;
	t = &st->st_tokens[st->st_ntokens++];
	memcpy(t->t_name, key, sizeof(t->t_name));
	m->m_tokslot[h] = (uint16_t)st->st_ntokens;
	return t;
}

struct metrics *
metrics_new(const char *version)
{
	struct metrics *m;
	struct timespec ts;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (pthread_mutex_init(&m->m_mtx, NULL) != 0) {
		free(m);
		return NULL;
	}
	mt_copy_label(m->m_st.st_version, sizeof(m->m_st.st_version),
	    version);
	memcpy(m->m_st.st_tok_other.t_name, MT_TOKEN_OTHER,
	    sizeof(MT_TOKEN_OTHER));
	memcpy(m->m_st.st_pair_other.p_name, MT_MODEL_OTHER,
	    sizeof(MT_MODEL_OTHER));
	memcpy(m->m_st.st_name_other.n_name, MT_MODEL_OTHER,
	    sizeof(MT_MODEL_OTHER));
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec >= 0)
		m->m_st.st_start_ns = (uint64_t)ts.tv_sec * MT_NS_PER_S +
		    (uint64_t)ts.tv_nsec;
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->m_mtx);
	free(m);
}

void
metrics_request(struct metrics *m, enum metrics_endpoint ep, int status,
    double total_s)
{
	struct mt_endpoint *e;
	uint64_t ns = mt_ns(total_s);

	if (m == NULL)
		return;
	/* The enum's range is not enforced by C: check it. */
	if ((int)ep < 0 || (int)ep >= METRICS_EP__COUNT)
		ep = METRICS_EP_OTHER;
	mt_lock(m);
	e = &m->m_st.st_ep[ep];
	mt_count_code(e, status);
	mt_observe(&e->e_dur, dur_bounds, MT_NDUR, ns);
	mt_unlock(m);
}

void
metrics_inflight(struct metrics *m, int delta)
{
	if (m == NULL)
		return;
	mt_lock(m);
	m->m_st.st_inflight += delta;
	mt_unlock(m);
}

void
metrics_http_rejected(struct metrics *m, enum metrics_reject why)
{
	if (m == NULL || (unsigned)why >= METRICS_REJ__COUNT)
		return;
	mt_lock(m);
	m->m_st.st_rejected[why]++;
	mt_unlock(m);
}

void
metrics_auth_failure(struct metrics *m, enum metrics_auth why)
{
	if (m == NULL || (unsigned)why >= METRICS_AUTH__COUNT)
		return;
	mt_lock(m);
	m->m_st.st_auth[why]++;
	mt_unlock(m);
}

void
metrics_rate_limited(struct metrics *m, const char *token,
    enum metrics_limit what)
{
	char key[METRICS_TOKEN_NAME_MAX];

	if (m == NULL || (unsigned)what >= METRICS_LIMIT__COUNT)
		return;
	/* Clean the name before the lock, as metrics_layer() does. */
	if (token != NULL)
		mt_copy_label(key, sizeof(key), token);
	mt_lock(m);
	if (token == NULL)
		m->m_st.st_limited_addr[what]++;
	else {
		m->m_st.st_limited_token[what]++;
		mt_token(m, key)->t_limited[what]++;
	}
	mt_unlock(m);
}

void
metrics_token_request(struct metrics *m, const char *token, int status)
{
	char key[METRICS_TOKEN_NAME_MAX];
	struct mt_token *t;

	if (m == NULL || token == NULL)
		return;
	mt_copy_label(key, sizeof(key), token);
	mt_lock(m);
	t = mt_token(m, key);
	mt_codes_add(t->t_codes, &t->t_ncodes, METRICS_TOKEN_CODES_MAX,
	    &t->t_other, status);
	mt_unlock(m);
}

void
metrics_http_body_bytes(struct metrics *m, long long delta)
{
	if (m == NULL)
		return;
	mt_lock(m);
	m->m_st.st_body_bytes += delta;
	mt_unlock(m);
}

void
metrics_layer(struct metrics *m, const char *role, const char *layer,
    int active)
{
	char r[METRICS_LAYER_NAME_MAX], l[METRICS_LAYER_NAME_MAX];
	struct mt_layer *ly;
	struct mt_state *st;
	int i;

	if (m == NULL)
		return;
	/* Compare in the stored (cleaned, cut) form so updates match. */
	mt_copy_label(r, sizeof(r), role);
	mt_copy_label(l, sizeof(l), layer);
	mt_lock(m);
	st = &m->m_st;
	for (i = 0; i < st->st_nlayers; i++) {
		ly = &st->st_layers[i];
		if (strcmp(ly->l_role, r) == 0 && strcmp(ly->l_layer, l) == 0)
			break;
	}
	if (i == st->st_nlayers) {
		if (st->st_nlayers == METRICS_LAYERS_MAX)
			goto out;
		ly = &st->st_layers[st->st_nlayers++];
		memcpy(ly->l_role, r, sizeof(r));
		memcpy(ly->l_layer, l, sizeof(l));
	}
	st->st_layers[i].l_active = active != 0;
 out:
	mt_unlock(m);
}

/* ==== Models ==== */

/* A (name, version) key, cleaned and cut as stored, with its hash. */
struct mt_key {
	char		k_name[METRICS_LABEL_MAX];
	char		k_version[METRICS_LABEL_MAX];
	uint32_t	k_hash;
};

/*
 * Cleans name and version into k outside the lock (NULL reads as "").
 * The hash covers the name, a NUL and the version, so ("a", "bc") and
 * ("ab", "c") differ.
 */
static void
mt_key(struct mt_key *k, const char *name, const char *version)
{
	uint32_t h;
	const char *s;

	mt_copy_label(k->k_name, sizeof(k->k_name), name);
	mt_copy_label(k->k_version, sizeof(k->k_version), version);
	h = mt_hash(k->k_name);
	h *= 16777619U;		/* the separating NUL */
	for (s = k->k_version; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619U;
	}
	k->k_hash = h;
}

/* Whether a pair shows gauges: such a slot is never taken over. */
static int
mt_pair_declared(const struct mt_pair *p)
{
	return p->p_model || p->p_up_known;
}

/*
 * The pair's entry: found, or made in a free slot, or in the slot of an
 * undeclared pair once the table is full (its series go), else the
 * "(other)" entry.  create 0 finds only (NULL when not there).  Called
 * with the mutex held.
 */
static struct mt_pair *
mt_pair(struct metrics *m, const struct mt_key *k, int create)
{
	struct mt_state *st = &m->m_st;
	struct mt_pair *p;
	int i;

	if (strcmp(k->k_name, MT_MODEL_OTHER) == 0)
		return create ? &st->st_pair_other : NULL;
	for (i = 0; i < st->st_npairs; i++) {
		p = &st->st_pairs[i];
		if (p->p_hash == k->k_hash &&
		    strcmp(p->p_name, k->k_name) == 0 &&
		    strcmp(p->p_version, k->k_version) == 0)
			return p;
	}
	if (!create)
		return NULL;
	if (st->st_npairs < METRICS_MODELS_MAX)
		p = &st->st_pairs[st->st_npairs++];
	else {
		for (i = 0; i < st->st_npairs; i++)
			if (!mt_pair_declared(&st->st_pairs[i]))
				break;
		if (i == st->st_npairs)
			return &st->st_pair_other;
		p = &st->st_pairs[i];
	}
	memset(p, 0, sizeof(*p));
	memcpy(p->p_name, k->k_name, sizeof(p->p_name));
	memcpy(p->p_version, k->k_version, sizeof(p->p_version));
	p->p_hash = k->k_hash;
	return p;
}

/* Whether some pair of the name shows gauges.  Mutex held. */
static int
mt_name_declared(const struct mt_state *st, const struct mt_name *n)
{
	int i;

	for (i = 0; i < st->st_npairs; i++)
		if (mt_pair_declared(&st->st_pairs[i]) &&
		    strcmp(st->st_pairs[i].p_name, n->n_name) == 0)
			return 1;
	return 0;
}

/*
 * The name's entry (k's version unused): found, or made as mt_pair()
 * makes pairs, a full table giving up the slot of a name none of whose
 * pairs is declared.  Never NULL.  Called with the mutex held.
 */
static struct mt_name *
mt_name(struct metrics *m, const struct mt_key *k)
{
	struct mt_state *st = &m->m_st;
	struct mt_name *n;
	uint32_t h = mt_hash(k->k_name);
	int i;

	if (strcmp(k->k_name, MT_MODEL_OTHER) == 0)
		goto other;
	for (i = 0; i < st->st_nnames; i++) {
		n = &st->st_names[i];
		if (n->n_hash == h && strcmp(n->n_name, k->k_name) == 0)
			return n;
	}
	if (st->st_nnames < METRICS_MODELS_MAX)
		n = &st->st_names[st->st_nnames++];
	else {
		/* Only when full: 64 x 64 comparisons at most. */
		for (i = 0; i < st->st_nnames; i++)
			if (!mt_name_declared(st, &st->st_names[i]))
				break;
		if (i == st->st_nnames)
			goto other;
		n = &st->st_names[i];
	}
	memset(n, 0, sizeof(*n));
	memcpy(n->n_name, k->k_name, sizeof(n->n_name));
	n->n_hash = h;
	return n;
 other:
	st->st_name_other_used = 1;
	return &st->st_name_other;
}

void
metrics_model(struct metrics *m, const char *name, const char *version,
    int loaded, int verified, const char *digest)
{
	struct mt_key k;
	char d[METRICS_LABEL_MAX];
	struct mt_pair *p;

	if (m == NULL)
		return;
	mt_key(&k, name, version);
	mt_copy_label(d, sizeof(d), digest);
	mt_lock(m);
	p = mt_pair(m, &k, 1);
	/* No gauges for "(other)": it stands for many pairs. */
	if (p != &m->m_st.st_pair_other) {
		p->p_model = 1;
		memcpy(p->p_digest, d, sizeof(p->p_digest));
		p->p_loaded = loaded != 0;
		p->p_verified = verified != 0;
	}
	/* The name's counters, at 0 from now on: rate() sees the first. */
	(void)mt_name(m, &k);
	mt_unlock(m);
}

void
metrics_model_forget(struct metrics *m, const char *name,
    const char *version)
{
	struct mt_key k;
	struct mt_pair *p;

	if (m == NULL)
		return;
	mt_key(&k, name, version);
	mt_lock(m);
	if ((p = mt_pair(m, &k, 0)) != NULL) {
		p->p_model = 0;
		p->p_up_known = 0;
	}
	mt_unlock(m);
}

void
metrics_worker_up(struct metrics *m, const char *name, const char *version,
    int up)
{
	struct mt_key k;
	struct mt_pair *p;

	if (m == NULL)
		return;
	mt_key(&k, name, version);
	mt_lock(m);
	p = mt_pair(m, &k, 1);
	if (p != &m->m_st.st_pair_other) {
		p->p_up_known = 1;
		p->p_up = up != 0;
	}
	mt_unlock(m);
}

void
metrics_request_worker(struct metrics *m, const char *name,
    const char *version, double queue_s, double infer_s)
{
	uint64_t q = mt_ns(queue_s), i = mt_ns(infer_s);
	struct mt_key k;
	struct mt_pair *p;

	if (m == NULL)
		return;
	mt_key(&k, name, version);
	mt_lock(m);
	p = mt_pair(m, &k, 1);
	if (p == &m->m_st.st_pair_other)
		m->m_st.st_pair_other_used = 1;
	mt_observe(&p->p_queue, dur_bounds, MT_NDUR, q);
	mt_observe(&p->p_infer, dur_bounds, MT_NDUR, i);
	mt_unlock(m);
}

void
metrics_batch(struct metrics *m, const char *name, const char *version,
    int n)
{
	struct mt_key k;
	struct mt_pair *p;

	if (m == NULL || n < 1)
		return;
	mt_key(&k, name, version);
	mt_lock(m);
	p = mt_pair(m, &k, 1);
	if (p == &m->m_st.st_pair_other)
		m->m_st.st_pair_other_used = 1;
	mt_observe(&p->p_batch, batch_bounds, MT_NBATCH, (uint64_t)n);
	mt_unlock(m);
}

/* The counters labelled model only. */
enum mt_name_counter {
	MT_RELOAD_OK, MT_RELOAD_FAILED, MT_VERIFY_FAILURE, MT_LOAD_FAILURE,
	MT_RESTART
};

static void
mt_name_count(struct metrics *m, const char *name, enum mt_name_counter c)
{
	struct mt_key k;
	struct mt_name *n;

	if (m == NULL)
		return;
	/* Only the name: cleaned here, the version left empty. */
	mt_key(&k, name, NULL);
	mt_lock(m);
	n = mt_name(m, &k);
	switch (c) {
	case MT_RELOAD_OK:
		n->n_reload_ok++;
		break;
	case MT_RELOAD_FAILED:
		n->n_reload_failed++;
		break;
	case MT_VERIFY_FAILURE:
		n->n_verify_failures++;
		break;
	case MT_LOAD_FAILURE:
		n->n_load_failures++;
		break;
	case MT_RESTART:
		n->n_restarts++;
		break;
	}
	mt_unlock(m);
}

void
metrics_reload(struct metrics *m, const char *name, int ok)
{
	mt_name_count(m, name, ok ? MT_RELOAD_OK : MT_RELOAD_FAILED);
}

void
metrics_verify_failure(struct metrics *m, const char *name)
{
	mt_name_count(m, name, MT_VERIFY_FAILURE);
}

void
metrics_model_load_failure(struct metrics *m, const char *name)
{
	mt_name_count(m, name, MT_LOAD_FAILURE);
}

void
metrics_worker_restart(struct metrics *m, const char *name)
{
	mt_name_count(m, name, MT_RESTART);
}

/* ==== Rendering ==== */

struct mt_buf {
	char	*b_data;
	size_t	 b_len, b_cap;
	int	 b_err;			/* sticky AG_ERR_* */
};

static void
mb_reserve(struct mt_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->b_err != 0)
		return;
	if (ag_add_size(b->b_len, n + 1, &need) != 0) {
		b->b_err = AG_ERR_TOO_LARGE;
		return;
	}
	if (need <= b->b_cap)
		return;
	for (cap = b->b_cap ? b->b_cap : MT_RENDER_INITIAL; cap < need;) {
		if (ag_mul_size(cap, 2, &cap) != 0) {
			b->b_err = AG_ERR_TOO_LARGE;
			return;
		}
	}
	if ((p = realloc(b->b_data, cap)) == NULL) {
		b->b_err = AG_ERR_ALLOC;
		return;
	}
	b->b_data = p;
	b->b_cap = cap;
}

static void
mb_putn(struct mt_buf *b, const char *s, size_t n)
{
	mb_reserve(b, n);
	if (b->b_err != 0)
		return;
	memcpy(b->b_data + b->b_len, s, n);
	b->b_len += n;
	b->b_data[b->b_len] = '\0';
}

static void
mb_puts(struct mt_buf *b, const char *s)
{
	mb_putn(b, s, strlen(s));
}

/* Only integer and string conversions are used: none is locale-bound. */
static void __attribute__((format(printf, 2, 3)))
mb_printf(struct mt_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Every caller formats a short line; a longer one is a bug. */
	AG_ASSERT(n >= 0 && (size_t)n < sizeof(tmp));
	mb_putn(b, tmp, (size_t)n);
}

/* A label value, escaped as the exposition format asks: \\ \" \n. */
static void
mb_escape(struct mt_buf *b, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *esc;

		switch (*s) {
		case '\\':
			esc = "\\\\";
			break;
		case '"':
			esc = "\\\"";
			break;
		case '\n':
			esc = "\\n";
			break;
		default:
			continue;
		}
		mb_putn(b, run, (size_t)(s - run));
		mb_puts(b, esc);
		run = s + 1;
	}
	mb_putn(b, run, (size_t)(s - run));
}

/* name="value" with the value escaped; sep is "" or ",". */
static void
mb_label(struct mt_buf *b, const char *sep, const char *name,
    const char *value)
{
	mb_printf(b, "%s%s=\"", sep, name);
	mb_escape(b, value);
	mb_puts(b, "\"");
}

/* v nanoseconds as decimal seconds: "0", "1.5", "0.000000001". */
static void
mb_seconds(struct mt_buf *b, uint64_t ns)
{
	char frac[16];
	size_t n;

	mb_printf(b, "%llu", (unsigned long long)(ns / MT_NS_PER_S));
	if (ns % MT_NS_PER_S == 0)
		return;
	snprintf(frac, sizeof(frac), "%09llu",
	    (unsigned long long)(ns % MT_NS_PER_S));
	for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
		;
	mb_puts(b, ".");
	mb_putn(b, frac, n);
}

static void
mb_family(struct mt_buf *b, const char *name, const char *type,
    const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
mb_u64(struct mt_buf *b, const char *name, uint64_t v)
{
	mb_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* A label name and its value (unescaped). */
struct mt_lab {
	const char	*l_name;
	const char	*l_value;
};

/*
 * A sample's name and label set: name{a="..",b="..",last="..."}, where
 * last (NULL for none) follows labs[n]; name alone when there is no label.
 */
static void
mb_sample(struct mt_buf *b, const char *name, const char *suffix,
    const struct mt_lab *labs, size_t n, const struct mt_lab *last)
{
	size_t i;

	mb_puts(b, name);
	mb_puts(b, suffix);
	for (i = 0; i < n; i++)
		mb_label(b, i == 0 ? "{" : ",", labs[i].l_name,
		    labs[i].l_value);
	if (last != NULL)
		mb_label(b, n == 0 ? "{" : ",", last->l_name, last->l_value);
	if (n > 0 || last != NULL)
		mb_puts(b, "}");
}

/*
 * One histogram's samples (the family lines are the caller's): cumulative
 * _bucket lines, _sum and _count, labelled labs[n] (le last on buckets).
 * ns says whether the values are nanoseconds (printed as seconds).
 */
static void
mb_hist(struct mt_buf *b, const char *name, const struct mt_lab *labs,
    size_t n, const struct mt_hist *h, const struct mt_bound *bd, size_t nb,
    int ns)
{
	struct mt_lab le = { "le", NULL };
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= nb; i++) {
		cum += h->h_n[i];
		le.l_value = i < nb ? bd[i].b_text : "+Inf";
		mb_sample(b, name, "_bucket", labs, n, &le);
		mb_printf(b, " %llu\n", (unsigned long long)cum);
	}
	mb_sample(b, name, "_sum", labs, n, NULL);
	mb_puts(b, " ");
	if (ns)
		mb_seconds(b, h->h_sum);
	else
		mb_printf(b, "%llu", (unsigned long long)h->h_sum);
	mb_puts(b, "\n");
	mb_sample(b, name, "_count", labs, n, NULL);
	mb_printf(b, " %llu\n", (unsigned long long)cum);
}

/*
 * The series of one code table: name{lname="lval",code="..."} n, one per
 * code seen, then code="other" when it counted any.
 */
static void
mb_codes(struct mt_buf *b, const char *name, const char *lname,
    const char *lval, const struct mt_code *codes, int ncodes,
    uint64_t other)
{
	char code[8];
	uint64_t n;
	int j;

	for (j = 0; j <= ncodes; j++) {
		if (j < ncodes) {
			snprintf(code, sizeof(code), "%d", codes[j].c_code);
			n = codes[j].c_n;
		} else {
			if (other == 0)
				continue;
			snprintf(code, sizeof(code), "other");
			n = other;
		}
		mb_printf(b, "%s", name);
		mb_label(b, "{", lname, lval);
		mb_label(b, ",", "code", code);
		mb_printf(b, "} %llu\n", (unsigned long long)n);
	}
}

/* A token's aiguard_token_rate_limited_total series: all or none. */
static void
mb_token_limited(struct mt_buf *b, const struct mt_token *t)
{
	int k;

	for (k = 0; k < METRICS_LIMIT__COUNT; k++)
		if (t->t_limited[k] != 0)
			break;
	if (k == METRICS_LIMIT__COUNT)
		return;
	for (k = 0; k < METRICS_LIMIT__COUNT; k++) {
		mb_label(b, "aiguard_token_rate_limited_total{", "token",
		    t->t_name);
		mb_label(b, ",", "limit", limit_names[k]);
		mb_printf(b, "} %llu\n", (unsigned long long)t->t_limited[k]);
	}
}

/* The model="...",version="..." labels of a pair. */
static void
mt_pair_labels(const struct mt_pair *p, struct mt_lab labs[2])
{
	labs[0].l_name = "model";
	labs[0].l_value = p->p_name;
	labs[1].l_name = "version";
	labs[1].l_value = p->p_version;
}

/*
 * The pairs in table order, then "(other)" when it counted something:
 * the i-th for i from 0 while it returns non-NULL.
 */
static const struct mt_pair *
mt_pair_at(const struct mt_state *st, int i)
{
	if (i < st->st_npairs)
		return &st->st_pairs[i];
	if (i == st->st_npairs && st->st_pair_other_used)
		return &st->st_pair_other;
	return NULL;
}

/* The same for the names. */
static const struct mt_name *
mt_name_at(const struct mt_state *st, int i)
{
	if (i < st->st_nnames)
		return &st->st_names[i];
	if (i == st->st_nnames && st->st_name_other_used)
		return &st->st_name_other;
	return NULL;
}

/* A gauge of each pair that shows model gauges; which: 0 loaded, 1 verified. */
static void
mb_pair_gauge(struct mt_buf *b, const struct mt_state *st, const char *name,
    int which)
{
	struct mt_lab labs[2];
	int i;

	for (i = 0; i < st->st_npairs; i++) {
		const struct mt_pair *p = &st->st_pairs[i];

		if (!p->p_model)
			continue;
		mt_pair_labels(p, labs);
		mb_sample(b, name, "", labs, 2, NULL);
		mb_printf(b, " %d\n", which == 0 ? p->p_loaded :
		    p->p_verified);
	}
}

static uint64_t
mt_name_value(const struct mt_name *n, enum mt_name_counter c)
{
	switch (c) {
	case MT_RELOAD_OK:
		return n->n_reload_ok;
	case MT_RELOAD_FAILED:
		return n->n_reload_failed;
	case MT_VERIFY_FAILURE:
		return n->n_verify_failures;
	case MT_LOAD_FAILURE:
		return n->n_load_failures;
	case MT_RESTART:
		return n->n_restarts;
	}
	return 0;
}

/* Counter c of each name: name{model="NAME"[,last="..."]} value. */
static void
mb_name_counter(struct mt_buf *b, const struct mt_state *st,
    const char *name, enum mt_name_counter c, const struct mt_lab *last)
{
	const struct mt_name *n;
	struct mt_lab lab = { "model", NULL };
	int i;

	for (i = 0; (n = mt_name_at(st, i)) != NULL; i++) {
		lab.l_value = n->n_name;
		mb_sample(b, name, "", &lab, 1, last);
		mb_printf(b, " %llu\n",
		    (unsigned long long)mt_name_value(n, c));
	}
}

static void
mt_render_state(struct mt_buf *b, const struct mt_state *st)
{
	static const struct mt_lab res_ok = { "result", "ok" };
	static const struct mt_lab res_failed = { "result", "failed" };
	struct mt_lab lab = { "endpoint", NULL }, labs[2];
	const struct mt_endpoint *e;
	const struct mt_layer *ly;
	const struct mt_pair *p;
	int i, k;

	mb_family(b, "aiguard_build_info", "gauge",
	    "Build information; the value is always 1.");
	mb_label(b, "aiguard_build_info{", "version", st->st_version);
	mb_puts(b, "} 1\n");

	mb_family(b, "aiguard_start_time_seconds", "gauge",
	    "Start time of the front process since the Unix epoch "
	    "in seconds.");
	mb_puts(b, "aiguard_start_time_seconds ");
	mb_seconds(b, st->st_start_ns);
	mb_puts(b, "\n");

	mb_family(b, "aiguard_http_requests_total", "counter",
	    "HTTP requests answered, by endpoint and status code.");
	for (i = 0; i < METRICS_EP__COUNT; i++) {
		e = &st->st_ep[i];
		mb_codes(b, "aiguard_http_requests_total", "endpoint",
		    ep_names[i], e->e_codes, e->e_ncodes, e->e_other);
	}

	mb_family(b, "aiguard_request_duration_seconds", "histogram",
	    "Time spent on a request from arrival to response, by endpoint.");
	for (i = 0; i < METRICS_EP__COUNT; i++) {
		e = &st->st_ep[i];
		if (e->e_total == 0)
			continue;
		lab.l_value = ep_names[i];
		mb_hist(b, "aiguard_request_duration_seconds", &lab, 1,
		    &e->e_dur, dur_bounds, MT_NDUR, 1);
	}

	mb_family(b, "aiguard_queue_duration_seconds", "histogram",
	    "Time a request waited in the worker's queue.");
	for (i = 0; (p = mt_pair_at(st, i)) != NULL; i++) {
		mt_pair_labels(p, labs);
		mb_hist(b, "aiguard_queue_duration_seconds", labs, 2,
		    &p->p_queue, dur_bounds, MT_NDUR, 1);
	}

	mb_family(b, "aiguard_inference_duration_seconds", "histogram",
	    "Time a request spent in the inference engine.");
	for (i = 0; (p = mt_pair_at(st, i)) != NULL; i++) {
		mt_pair_labels(p, labs);
		mb_hist(b, "aiguard_inference_duration_seconds", labs, 2,
		    &p->p_infer, dur_bounds, MT_NDUR, 1);
	}

	mb_family(b, "aiguard_batch_size", "histogram",
	    "Images per engine batch.");
	for (i = 0; (p = mt_pair_at(st, i)) != NULL; i++) {
		mt_pair_labels(p, labs);
		mb_hist(b, "aiguard_batch_size", labs, 2, &p->p_batch,
		    batch_bounds, MT_NBATCH, 0);
	}

	mb_family(b, "aiguard_inflight_requests", "gauge",
	    "Requests being served now.");
	mb_printf(b, "aiguard_inflight_requests %lld\n", st->st_inflight);

	mb_family(b, "aiguard_model_loaded", "gauge",
	    "Whether the model is loaded (1) or not (0).");
	mb_pair_gauge(b, st, "aiguard_model_loaded", 0);
	mb_family(b, "aiguard_model_verified", "gauge",
	    "Whether the model's signature was verified (1) or it was loaded unsigned (0).");
	mb_pair_gauge(b, st, "aiguard_model_verified", 1);
	mb_family(b, "aiguard_model_info", "gauge",
	    "Model identity; the value is always 1.");
	for (i = 0; i < st->st_npairs; i++) {
		struct mt_lab dg = { "digest", NULL };

		p = &st->st_pairs[i];
		if (!p->p_model)
			continue;
		mt_pair_labels(p, labs);
		dg.l_value = p->p_digest;
		mb_sample(b, "aiguard_model_info", "", labs, 2, &dg);
		mb_puts(b, " 1\n");
	}

	mb_family(b, "aiguard_http_rejected_total", "counter",
	    "Connections and requests refused with 503 before any work, by "
	    "reason (a limit reached).");
	mb_u64(b, "aiguard_http_rejected_total{reason=\"connections\"}",
	    st->st_rejected[METRICS_REJ_CONNECTIONS]);
	mb_u64(b, "aiguard_http_rejected_total{reason=\"connections_per_ip\"}",
	    st->st_rejected[METRICS_REJ_CONNECTIONS_IP]);
	mb_u64(b, "aiguard_http_rejected_total{reason=\"body_budget\"}",
	    st->st_rejected[METRICS_REJ_BODY_BUDGET]);

	mb_family(b, "aiguard_auth_failures_total", "counter",
	    "Requests refused for want of credentials (401) or of a scope "
	    "(403), by reason.");
	for (k = 0; k < METRICS_AUTH__COUNT; k++) {
		mb_label(b, "aiguard_auth_failures_total{", "reason",
		    auth_names[k]);
		mb_printf(b, "} %llu\n", (unsigned long long)st->st_auth[k]);
	}
	mb_family(b, "aiguard_rate_limited_total", "counter",
	    "Requests refused with 429 by a rate limit of a client address "
	    "or of a token, by limit.");
	for (i = 0; i < 2; i++) {
		for (k = 0; k < METRICS_LIMIT__COUNT; k++) {
			mb_label(b, "aiguard_rate_limited_total{", "by",
			    i == 0 ? "address" : "token");
			mb_label(b, ",", "limit", limit_names[k]);
			mb_printf(b, "} %llu\n", (unsigned long long)(i == 0 ?
			    st->st_limited_addr[k] : st->st_limited_token[k]));
		}
	}
	mb_family(b, "aiguard_token_requests_total", "counter",
	    "Requests answered that were made with a token, by token name "
	    "and status code.");
	for (i = 0; i <= st->st_ntokens; i++) {
		const struct mt_token *t = i < st->st_ntokens ?
		    &st->st_tokens[i] : &st->st_tok_other;

		mb_codes(b, "aiguard_token_requests_total", "token",
		    t->t_name, t->t_codes, t->t_ncodes, t->t_other);
	}
	mb_family(b, "aiguard_token_rate_limited_total", "counter",
	    "Requests refused with 429 by a token's own limit, by token name "
	    "and limit.");
	for (i = 0; i < st->st_ntokens; i++)
		mb_token_limited(b, &st->st_tokens[i]);
	mb_token_limited(b, &st->st_tok_other);

	mb_family(b, "aiguard_http_body_bytes", "gauge",
	    "Bytes of request bodies held now, all requests together "
	    "(bounded by server.max_body_inflight).");
	mb_printf(b, "aiguard_http_body_bytes %lld\n", st->st_body_bytes);

	mb_family(b, "aiguard_model_reloads_total", "counter",
	    "Model reloads on SIGHUP, by result.");
	mb_name_counter(b, st, "aiguard_model_reloads_total", MT_RELOAD_OK,
	    &res_ok);
	mb_name_counter(b, st, "aiguard_model_reloads_total",
	    MT_RELOAD_FAILED, &res_failed);
	mb_family(b, "aiguard_model_load_failures_total", "counter",
	    "Model loads that failed.");
	mb_name_counter(b, st, "aiguard_model_load_failures_total",
	    MT_LOAD_FAILURE, NULL);
	mb_family(b, "aiguard_model_verification_failures_total", "counter",
	    "Reloads refused because the model's signature did not verify.");
	mb_name_counter(b, st, "aiguard_model_verification_failures_total",
	    MT_VERIFY_FAILURE, NULL);

	mb_family(b, "aiguard_worker_up", "gauge",
	    "Whether the worker process is up (1) or not (0).");
	for (i = 0; i < st->st_npairs; i++) {
		p = &st->st_pairs[i];
		if (!p->p_up_known)
			continue;
		mt_pair_labels(p, labs);
		mb_sample(b, "aiguard_worker_up", "", labs, 2, NULL);
		mb_printf(b, " %d\n", p->p_up);
	}
	mb_family(b, "aiguard_worker_restarts_total", "counter",
	    "Worker process restarts.");
	mb_name_counter(b, st, "aiguard_worker_restarts_total", MT_RESTART,
	    NULL);

	mb_family(b, "aiguard_sandbox_layer_active", "gauge",
	    "Whether a confinement layer is active (1) or not (0), "
	    "by process role and layer.");
	for (i = 0; i < st->st_nlayers; i++) {
		ly = &st->st_layers[i];
		mb_label(b, "aiguard_sandbox_layer_active{", "role",
		    ly->l_role);
		mb_label(b, ",", "layer", ly->l_layer);
		mb_printf(b, "} %d\n", ly->l_active);
	}
}

int
metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct mt_buf b = { NULL, 0, 0, 0 };
	struct mt_state *snap;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (m == NULL || out == NULL || len == NULL)
		return AG_ERR_INVALID_ARG;
	if ((snap = malloc(sizeof(*snap))) == NULL)
		return AG_ERR_ALLOC;
	mt_lock(m);
	/* The fixed part, then only the table entries in use. */
	memcpy(snap, &m->m_st, offsetof(struct mt_state, st_pairs));
	memcpy(snap->st_pairs, m->m_st.st_pairs,
	    (size_t)snap->st_npairs * sizeof(snap->st_pairs[0]));
	memcpy(snap->st_names, m->m_st.st_names,
	    (size_t)snap->st_nnames * sizeof(snap->st_names[0]));
	memcpy(snap->st_tokens, m->m_st.st_tokens,
	    (size_t)snap->st_ntokens * sizeof(snap->st_tokens[0]));
	mt_unlock(m);

	mb_reserve(&b, 0);
	mt_render_state(&b, snap);
	free(snap);
	if (b.b_err != 0) {
		free(b.b_data);
		return b.b_err;
	}
	*out = b.b_data;
	*len = b.b_len;
	return 0;
}
