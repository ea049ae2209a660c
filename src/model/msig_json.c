/* SPDX-License-Identifier: ISC */
/*
 * msig_json.c: JSON, strictly, for the bundle and the statement.  Each
 * check takes an object, a key and the path to it ("where"), refuses a
 * wrong type, a NUL inside a string, an unknown key where the format has
 * a closed set, or base64 that is not canonical, and says so in a
 * message that names the file and the field (struct jctx).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/ag_err.h"
#include "msig_impl.h"

int
msig_jc_err(const struct jctx *jc, int r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ag_errf(jc->j_err, jc->j_errlen, r, "%s: %s%s", jc->j_file,
	    jc->j_pre, msg);
}

/* "where.key", or "key" at the top. */
static const char *
jc_path(char *buf, size_t len, const char *where, const char *key)
{
	snprintf(buf, len, "%s%s%s", where, *where ? "." : "", key);
	return buf;
}

static const char *
j_type_name(int t)
{
	switch (t) {
	case JSON_OBJECT:	return "an object";
	case JSON_ARRAY:	return "an array";
	case JSON_STRING:	return "a string";
	case JSON_INTEGER:	return "an integer";
	case JSON_TRUE:		return "a boolean";
	default:		return "a number";
	}
}

/*
 * o[key] of JSON type t (JSON_TRUE stands for either boolean), named
 * where.key in messages; *out NULL when absent and not required.
 */
int
msig_jc_get(const struct jctx *jc, json_t *o, const char *where,
    const char *key, int t, int required, json_t **out)
{
	char p[160];
	json_t *v;
	int ok;

	*out = NULL;
	if ((v = json_object_get(o, key)) == NULL) {
		if (!required)
			return 0;
		return msig_jc_err(jc, AG_ERR_MISSING, "%s: missing",
		    jc_path(p, sizeof(p), where, key));
	}
	ok = t == JSON_TRUE ? json_is_boolean(v) : (int)json_typeof(v) == t;
	if (!ok)
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s: expected %s",
		    jc_path(p, sizeof(p), where, key), j_type_name(t));
	/* jansson refuses \u0000 by default; a string is one C string. */
	if (t == JSON_STRING && strlen(json_string_value(v)) !=
	    json_string_length(v))
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s: a NUL in the string",
		    jc_path(p, sizeof(p), where, key));
	*out = v;
	return 0;
}

/* o[key] as a string; *s NULL when absent and not required. */
int
msig_jc_str(const struct jctx *jc, json_t *o, const char *where,
    const char *key, int required, const char **s)
{
	json_t *v;
	int r;

	*s = NULL;
	if ((r = msig_jc_get(jc, o, where, key, JSON_STRING, required,
	    &v)) != 0)
		return r;
	if (v != NULL)
		*s = json_string_value(v);
	return 0;
}

/* o[key] must be the string want. */
int
msig_jc_str_is(const struct jctx *jc, json_t *o, const char *where,
    const char *key, const char *want, int code)
{
	char p[160], b[64];
	const char *s;
	int r;

	if ((r = msig_jc_str(jc, o, where, key, 1, &s)) != 0)
		return r;
	if (strcmp(s, want) != 0)
		return msig_jc_err(jc, code, "%s: \"%s\", expected \"%s\"",
		    jc_path(p, sizeof(p), where, key), msig_safe_str(s, b,
		    sizeof(b)), want);
	return 0;
}

/* Refuses any key of o not in allowed[] (NULL-terminated). */
int
msig_jc_keys(const struct jctx *jc, json_t *o, const char *where,
    const char *const *allowed)
{
	const char *k;
	char b[64];
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return msig_jc_err(jc, AG_ERR_UNEXPECTED, "%s%sunknown "
			    "key \"%s\"", where, *where ? ": " : "",
			    msig_safe_str(k, b, sizeof(b)));
	}
	return 0;
}

/* o[key]: a base64 string, decoded into a new buffer. */
int
msig_jc_b64(const struct jctx *jc, json_t *o, const char *where,
    const char *key, uint8_t **out, size_t *outlen)
{
	const char *s;
	char p[160];
	int r;

	if ((r = msig_jc_str(jc, o, where, key, 1, &s)) != 0)
		return r;
	if (msig_b64_decode(s, strlen(s), out, outlen) != 0)
		return msig_jc_err(jc, AG_ERR_FORMAT, "%s: not canonical "
		    "base64", jc_path(p, sizeof(p), where, key));
	return 0;
}
