/* SPDX-License-Identifier: ISC */
/*
 * msig_stmt.c: the in-toto statement that the DSSE envelope carries,
 * parsed only once its signature has verified: the subject (the model's
 * name and digest), the predicate's serialization (method, hash, symbolic
 * links, ignore paths, shard size) and its resources, each a relative
 * name or "PATH:START:END" shard with a SHA-256 digest.  Recomputes the
 * subject digest over the resources and sorts them in the walk's order
 * (struct mstmt), refusing a name listed twice.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/ag_err.h"
#include "mfiles.h"
#include "msig.h"
#include "msig_impl.h"

#define MSIG_MAX_IGNORE		1024	/* signed ignore_paths */

/* Byte-wise order of a[0..an) and b[0..bn), a prefix first: strcmp's. */
int
msig_pathn_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c;

	if ((c = memcmp(a, b, an < bn ? an : bn)) != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

void
msig_stmt_cleanup(struct mstmt *st)
{
	free(st->s_ignore);
	free(st->s_sorted);
	free(st->s_res);
	json_decref(st->s_root);
	memset(st, 0, sizeof(*st));
}

/* A canonical decimal number (no sign, no leading zero) in s[0..n). */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * A shard's name: "PATH:START:END", as the reference writes it (exactly
 * two colons, so PATH has none), 0 <= START < END, at most one shard long.
 */
static int
shard_name_parse(struct mres *r, uint64_t shard_size)
{
	char path[MFILES_NAME_MAX];
	const char *c1, *c2;

	if ((c1 = strchr(r->r_name, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL || strchr(c2 + 1, ':') != NULL)
		return -1;
	r->r_plen = (size_t)(c1 - r->r_name);
	if (r->r_plen >= sizeof(path) ||
	    parse_u64(c1 + 1, (size_t)(c2 - c1 - 1), &r->r_start) != 0 ||
	    parse_u64(c2 + 1, strlen(c2 + 1), &r->r_end) != 0 ||
	    r->r_end <= r->r_start || r->r_end - r->r_start > shard_size)
		return -1;
	memcpy(path, r->r_name, r->r_plen);
	path[r->r_plen] = '\0';
	return mfiles_name_valid(path) ? 0 : -1;
}

static int
stmt_shard_size(const struct jctx *jc, json_t *ser, struct mstmt *st)
{
	const char *w = "predicate.serialization.shard_size";
	json_t *v = json_object_get(ser, "shard_size");
	double d;

	if (!st->s_shards) {
		if (v != NULL)
			return msig_jc_err(jc, AG_ERR_UNEXPECTED, "%s: only "
			    "for the \"shards\" method", w);
		return 0;
	}
	if (v == NULL)
		return msig_jc_err(jc, AG_ERR_MISSING, "%s: missing", w);
	/* The reference's statement may carry it as a double (8.0). */
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    (uint64_t)json_integer_value(v) <= MSIG_SHARD_MAX)
		st->s_shard_size = (uint64_t)json_integer_value(v);
	else if (json_is_real(v) && (d = json_real_value(v)) >= 1 &&
	    d <= (double)MSIG_SHARD_MAX && d == (double)(uint64_t)d)
		st->s_shard_size = (uint64_t)d;
	else
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s: expected a whole "
		    "number from 1 to 2^53", w);
	return 0;
}

static int
stmt_ignore(const struct jctx *jc, json_t *ser, struct mstmt *st)
{
	json_t *a, *v;
	char b[64];
	size_t i;
	int r;

	if ((r = msig_jc_get(jc, ser, "predicate.serialization", "ignore_paths",
	    JSON_ARRAY, 0, &a)) != 0 || a == NULL)
		return r;
	if (json_array_size(a) > MSIG_MAX_IGNORE)
		return msig_jc_err(jc, AG_ERR_TOO_LARGE,
		    "predicate.serialization.ignore_paths: more than %d "
		    "entries", MSIG_MAX_IGNORE);
	if ((st->s_ignore = calloc(json_array_size(a) + 1,
	    sizeof(*st->s_ignore))) == NULL)
		return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !mfiles_name_valid(
		    json_string_value(v)))
			return msig_jc_err(jc, AG_ERR_FORMAT, "predicate."
			    "serialization.ignore_paths[%zu]: not a relative "
			    "path%s%s", i, json_is_string(v) ? ": " : "",
			    json_is_string(v) ?
			    msig_safe_str(json_string_value(v), b, sizeof(b)) :
			    "");
		st->s_ignore[st->s_nignore++] = json_string_value(v);
	}
	return 0;
}

static int
stmt_serialization(const struct jctx *jc, json_t *pred, struct mstmt *st)
{
	static const char *const keys[] = { "method", "hash_type",
	    "allow_symlinks", "ignore_paths", "shard_size", NULL };
	const char *w = "predicate.serialization", *s;
	json_t *ser, *v;
	char b[64];
	int r;

	if ((r = msig_jc_get(jc, pred, "predicate", "serialization",
	    JSON_OBJECT, 1, &ser)) != 0 || (r = msig_jc_keys(jc, ser, w,
	    keys)) != 0 || (r = msig_jc_str(jc, ser, w, "method", 1, &s)) != 0)
		return r;
	if (strcmp(s, "shards") == 0)
		st->s_shards = 1;
	else if (strcmp(s, "files") != 0)
		return msig_jc_err(jc, AG_ERR_UNSUPPORTED, "%s.method: \"%s\" "
		    "is not supported (files, shards)", w, msig_safe_str(s, b,
		    sizeof(b)));
	if ((r = msig_jc_str(jc, ser, w, "hash_type", 1, &s)) != 0)
		return r;
	if (strcmp(s, "sha256") != 0)
		return msig_jc_err(jc, AG_ERR_UNSUPPORTED, "%s.hash_type: "
		    "\"%s\" is not supported (sha256)", w, msig_safe_str(s, b,
		    sizeof(b)));
	if ((r = msig_jc_get(jc, ser, w, "allow_symlinks", JSON_TRUE, 1,
	    &v)) != 0)
		return r;
	st->s_links = json_is_true(v);
	if ((r = stmt_shard_size(jc, ser, st)) != 0)
		return r;
	return stmt_ignore(jc, ser, st);
}

/* The digest name a resource must carry (the reference's names). */
static void
stmt_algorithm(const struct mstmt *st, char *buf, size_t len)
{
	if (st->s_shards)
		snprintf(buf, len, "sha256-sharded-%llu",
		    (unsigned long long)st->s_shard_size);
	else
		snprintf(buf, len, "sha256");
}

static int
stmt_resource(const struct jctx *jc, json_t *o, size_t i, const char *alg,
    struct mstmt *st)
{
	static const char *const keys[] = { "name", "algorithm", "digest",
	    NULL };
	struct mres *res = &st->s_res[i];
	const char *name, *a, *d;
	char w[64], b[64];
	int r;

	snprintf(w, sizeof(w), "predicate.resources[%zu]", i);
	if (!json_is_object(o))
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s: expected an object",
		    w);
	if ((r = msig_jc_keys(jc, o, w, keys)) != 0 ||
	    (r = msig_jc_str(jc, o, w, "name", 1, &name)) != 0 ||
	    (r = msig_jc_str(jc, o, w, "algorithm", 1, &a)) != 0 ||
	    (r = msig_jc_str(jc, o, w, "digest", 1, &d)) != 0)
		return r;
	if (strcmp(a, alg) != 0)
		return msig_jc_err(jc, AG_ERR_UNSUPPORTED, "%s.algorithm: "
		    "\"%s\", expected \"%s\"", w, msig_safe_str(a, b,
		    sizeof(b)), alg);
	if (msig_hex_decode32(d, strlen(d), res->r_digest) != 0)
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s.digest: not 64 hex "
		    "digits", w);
	res->r_name = (char *)name;
	if (st->s_shards) {
		if (shard_name_parse(res, st->s_shard_size) != 0)
			return msig_jc_err(jc, AG_ERR_FORMAT, "%s.name: \"%s\" "
			    "is not PATH:START:END within one shard", w,
			    msig_safe_str(name, b, sizeof(b)));
	} else {
		if (!mfiles_name_valid(name))
			return msig_jc_err(jc, AG_ERR_FORMAT, "%s.name: \"%s\" "
			    "is not a relative path", w, msig_safe_str(name, b,
			    sizeof(b)));
		res->r_plen = strlen(name);
	}
	return 0;
}

static int
stmt_resources(const struct jctx *jc, json_t *pred, struct mstmt *st)
{
	char alg[64];
	json_t *a, *v;
	size_t i, max;
	uint8_t d[32];
	EVP_MD_CTX *mc;
	int r;

	if ((r = msig_jc_get(jc, pred, "predicate", "resources", JSON_ARRAY, 1,
	    &a)) != 0)
		return r;
	/*
	 * The specification: a model has at least one file.  A signature
	 * over none would let any empty directory (or one whose every file
	 * is ignored) pass as a signed model.
	 */
	if (json_array_size(a) == 0)
		return msig_jc_err(jc, AG_ERR_SIGNATURE, "predicate.resources: "
		    "empty: the signature covers no file");
	max = st->s_shards ? MSIG_MAX_RESOURCES : MFILES_MAX_FILES;
	if (json_array_size(a) > max)
		return msig_jc_err(jc, AG_ERR_TOO_LARGE, "predicate.resources: "
		    "more than %zu entries", max);
	if ((st->s_res = calloc(json_array_size(a) + 1,
	    sizeof(*st->s_res))) == NULL)
		return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
	stmt_algorithm(st, alg, sizeof(alg));
	json_array_foreach(a, i, v) {
		if ((r = stmt_resource(jc, v, i, alg, st)) != 0)
			return r;
		st->s_nres++;
	}
	/* The subject digest: over the raw digests, in the listed order. */
	if ((mc = EVP_MD_CTX_new()) == NULL)
		return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
	r = EVP_DigestInit_ex(mc, msig_sha256, NULL) != 1;
	for (i = 0; r == 0 && i < st->s_nres; i++)
		r = EVP_DigestUpdate(mc, st->s_res[i].r_digest, 32) != 1;
	if (r == 0)
		r = EVP_DigestFinal_ex(mc, d, NULL) != 1;
	EVP_MD_CTX_free(mc);
	if (r != 0) {
		ERR_clear_error();
		return msig_jc_err(jc, AG_ERR_INTERNAL, "SHA-256 failed");
	}
	if (memcmp(d, st->s_digest, sizeof(d)) != 0)
		return msig_jc_err(jc, AG_ERR_SIGNATURE,
		    "subject[0].digest.sha256: does not match the resources' "
		    "digests");
	return 0;
}

static int
stmt_subject(const struct jctx *jc, json_t *root, struct mstmt *st)
{
	static const char *const skeys[] = { "name", "digest", NULL };
	static const char *const dkeys[] = { "sha256", NULL };
	const char *w = "subject[0]", *s;
	json_t *a, *o, *d;
	size_t i;
	int r;

	if ((r = msig_jc_get(jc, root, "", "subject", JSON_ARRAY, 1, &a)) != 0)
		return r;
	if (json_array_size(a) != 1)
		return msig_jc_err(jc, json_array_size(a) == 0 ?
		    AG_ERR_MISSING : AG_ERR_UNEXPECTED, "subject: %zu "
		    "subjects, expected one", json_array_size(a));
	if (!json_is_object(o = json_array_get(a, 0)))
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s: expected an object",
		    w);
	if ((r = msig_jc_keys(jc, o, w, skeys)) != 0 ||
	    (r = msig_jc_str(jc, o, w, "name", 1, &st->s_name)) != 0 ||
	    (r = msig_jc_get(jc, o, w, "digest", JSON_OBJECT, 1, &d)) != 0 ||
	    (r = msig_jc_keys(jc, d, "subject[0].digest", dkeys)) != 0 ||
	    (r = msig_jc_str(jc, d, "subject[0].digest", "sha256", 1, &s)) != 0)
		return r;
	if (strlen(st->s_name) > MSIG_MODEL_NAME_MAX)
		return msig_jc_err(jc, AG_ERR_TOO_LARGE, "%s.name: longer than "
		    "%d bytes", w, MSIG_MODEL_NAME_MAX);
	for (i = 0; st->s_name[i] != '\0'; i++)
		if ((unsigned char)st->s_name[i] < 0x20 ||
		    st->s_name[i] == 0x7f)
			return msig_jc_err(jc, AG_ERR_FORMAT, "%s.name: a "
			    "control character", w);
	if (msig_hex_decode32(s, strlen(s), st->s_digest) != 0)
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s.digest.sha256: not "
		    "64 hex digits", w);
	return 0;
}

/* The walk's order (mfiles_walk() sorts by strcmp), then shard offset. */
static int
mres_cmp_walk(const void *a, const void *b)
{
	const struct mres *x = *(const struct mres *const *)a;
	const struct mres *y = *(const struct mres *const *)b;
	int c;

	if ((c = msig_pathn_cmp(x->r_name, x->r_plen, y->r_name,
	    y->r_plen)) != 0)
		return c;
	return x->r_start < y->r_start ? -1 : x->r_start > y->r_start;
}

/* Sorts the resources for lookups; a name listed twice is refused. */
static int
stmt_sort(const struct jctx *jc, struct mstmt *st)
{
	struct mres *x, *y;
	char b[64];
	size_t i;

	if ((st->s_sorted = calloc(st->s_nres + 1,
	    sizeof(*st->s_sorted))) == NULL)
		return msig_jc_err(jc, AG_ERR_ALLOC, "out of memory");
	for (i = 0; i < st->s_nres; i++)
		st->s_sorted[i] = &st->s_res[i];
	qsort(st->s_sorted, st->s_nres, sizeof(*st->s_sorted),
	    mres_cmp_walk);
	for (i = 1; i < st->s_nres; i++) {
		x = st->s_sorted[i - 1];
		y = st->s_sorted[i];
		if (mres_cmp_walk(&x, &y) == 0)
			return msig_jc_err(jc, AG_ERR_DUPLICATE,
			    "predicate.resources[%zu].name: \"%s\" listed "
			    "twice",
			    (size_t)(x > y ? x - st->s_res : y - st->s_res),
			    msig_safe_str(y->r_name, b, sizeof(b)));
	}
	return 0;
}

/* Parses the (authenticated) statement payload[0..len) into *st. */
int
msig_stmt_parse(const struct jctx *jc, const uint8_t *payload, size_t len,
    struct mstmt *st)
{
	static const char *const keys[] = { "_type", "subject",
	    "predicateType", "predicate", NULL };
	json_error_t je;
	json_t *pred;
	char b[64];
	int r;

	memset(st, 0, sizeof(*st));
	if (len == 0)
		return msig_jc_err(jc, AG_ERR_FORMAT, "empty: no statement");
	if ((st->s_root = json_loadb((const char *)payload, len,
	    JSON_REJECT_DUPLICATES, &je)) == NULL)
		return msig_jc_err(jc, AG_ERR_JSON, "not JSON: %s (line %d)",
		    msig_safe_str(je.text, b, sizeof(b)), je.line);
	if (!json_is_object(st->s_root))
		return msig_jc_err(jc, AG_ERR_FORMAT, "expected a JSON object");
	if ((r = msig_jc_keys(jc, st->s_root, "", keys)) != 0 ||
	    (r = msig_jc_str_is(jc, st->s_root, "", "_type",
	    MSIG_STATEMENT_TYPE, AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = msig_jc_str_is(jc, st->s_root, "", "predicateType",
	    MSIG_PREDICATE_TYPE, AG_ERR_UNSUPPORTED)) != 0 ||
	    (r = stmt_subject(jc, st->s_root, st)) != 0 ||
	    (r = msig_jc_get(jc, st->s_root, "", "predicate", JSON_OBJECT, 1,
	    &pred)) != 0 ||
	    (r = stmt_serialization(jc, pred, st)) != 0 ||
	    (r = stmt_resources(jc, pred, st)) != 0)
		return r;
	return stmt_sort(jc, st);
}
