/* SPDX-License-Identifier: ISC */
/*
 * test_config.c: aiguardd's configuration: defaults, config_set() on good
 * and bad values, the INI loader's errors (with file and line), the
 * cross-field checks, and the dump / reload round trip, including the
 * shipped etc/aiguardd.conf; the model repository's keys, version
 * policies and [model.NAME] sections.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "test_helper.h"

/* Compares every field, so a failure names the one that differs. */
static void
assert_config_eq(const struct ag_config *a, const struct ag_config *b)
{
	ASSERT_STRING_EQ(a->cf_listen_addr, b->cf_listen_addr);
	ASSERT_INT_EQ(a->cf_listen_port, b->cf_listen_port);
	ASSERT_INT_EQ(a->cf_http_threads, b->cf_http_threads);
	ASSERT_INT_EQ(a->cf_max_connections, b->cf_max_connections);
	ASSERT_INT_EQ(a->cf_max_connections_per_ip,
	    b->cf_max_connections_per_ip);
	ASSERT_INT_EQ(a->cf_max_header_bytes, b->cf_max_header_bytes);
	ASSERT_INT_EQ(a->cf_max_body_bytes, b->cf_max_body_bytes);
	ASSERT_INT_EQ(a->cf_max_body_inflight, b->cf_max_body_inflight);
	ASSERT_INT_EQ(a->cf_connection_timeout, b->cf_connection_timeout);
	ASSERT_INT_EQ(a->cf_request_timeout, b->cf_request_timeout);
	ASSERT_STRING_EQ(a->cf_model_dir, b->cf_model_dir);
	ASSERT_STRING_EQ(a->cf_model_name, b->cf_model_name);
	ASSERT_INT_EQ(a->cf_max_batch, b->cf_max_batch);
	ASSERT_INT_EQ(a->cf_max_delay_us, b->cf_max_delay_us);
	ASSERT_INT_EQ(a->cf_return_wait_us, b->cf_return_wait_us);
	ASSERT_INT_EQ(a->cf_threads, b->cf_threads);
	ASSERT_INT_EQ(a->cf_low_memory, b->cf_low_memory);
	ASSERT_INT_EQ(a->cf_queue_slots, b->cf_queue_slots);
	ASSERT_INT_EQ(a->cf_max_request_batch, b->cf_max_request_batch);
	ASSERT_INT_EQ(a->cf_image_max_side, b->cf_image_max_side);
	ASSERT_INT_EQ(a->cf_image_max_pixels, b->cf_image_max_pixels);
	ASSERT_INT_EQ(a->cf_log_level, b->cf_log_level);
	ASSERT_INT_EQ(a->cf_access_log, b->cf_access_log);
	ASSERT_INT_EQ(a->cf_restart_min_ms, b->cf_restart_min_ms);
	ASSERT_INT_EQ(a->cf_restart_max_ms, b->cf_restart_max_ms);
	/* config_defaults() zeroes string tails, so whole structs match. */
	ASSERT_MEM_EQ(a, b, sizeof(*a));
}

/* Writes text to a new file in the scratch directory; returns its path. */
static const char *
write_file(const char *name, const char *text, size_t len)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", test_tmpdir(), name);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(99);
	}
	if (fwrite(text, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
	return path;
}

/* Loads text over a default config; cf keeps the result. */
static int
load_text(const char *text, struct ag_config *cf, char *err, size_t errlen)
{
	const char *path = write_file("t.conf", text, strlen(text));

	config_defaults(cf);
	err[0] = '\0';
	return config_load_file(cf, path, err, errlen);
}

static int
dump_and_load(const struct ag_config *src, struct ag_config *dst,
    char *err, size_t errlen)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/dump.conf", test_tmpdir());
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(99);
	}
	config_dump(src, fp);
	if (ferror(fp) || fclose(fp) != 0) {
		perror(path);
		exit(99);
	}
	return config_load_file(dst, path, err, errlen);
}

static void
test_defaults(void)
{
	struct ag_config cf, cf2;
	char err[512];

	TEST_START("defaults: values and validation");
	config_defaults(&cf);
	ASSERT_STRING_EQ(cf.cf_listen_addr, "127.0.0.1");
	ASSERT_INT_EQ(cf.cf_listen_port, 8500);
	ASSERT_INT_EQ(cf.cf_max_body_bytes, 32 * 1024 * 1024);
	ASSERT_INT_EQ(cf.cf_max_body_inflight, 128 * 1024 * 1024);
	ASSERT_INT_EQ(cf.cf_max_header_bytes, 16384);
	ASSERT_STRING_EQ(cf.cf_model_dir, "");
	ASSERT_STRING_EQ(cf.cf_model_name, "");
	ASSERT_INT_EQ(cf.cf_image_max_pixels, 40000000);
	ASSERT_INT_EQ(cf.cf_log_level, LOG_LVL_INFO);
	ASSERT_INT_EQ(cf.cf_access_log, 1);
	ASSERT_INT_EQ(cf.cf_return_wait_us, 10000);
	ASSERT_INT_EQ(cf.cf_cert_validity, 0);	/* MSIG_VALID_NOW */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	TEST_DONE();

	TEST_START("defaults: dump and reload");
	config_defaults(&cf2);
	cf2.cf_threads = 77;	/* the dump must overwrite it */
	ASSERT_INT_EQ(dump_and_load(&cf, &cf2, err, sizeof(err)), 0);
	assert_config_eq(&cf, &cf2);
	TEST_DONE();
}

static const struct {
	const char *key, *value;
} every_key[] = {
	{ "server.listen", "[2001:db8::1]:0" },
	{ "server.allow_insecure", "yes" },
	{ "server.http_threads", "64" },
	{ "server.max_connections", "65536" },
	{ "server.max_connections_per_ip", "1" },
	{ "server.max_header_bytes", "1025" },
	{ "server.max_body_bytes", "1g" },
	{ "server.max_body_inflight", "2g" },
	{ "server.connection_timeout", "3600" },
	{ "server.request_timeout", "1" },
	{ "server.tls_cert", "/etc/aiguard/tls/server.crt" },
	{ "server.tls_key", "/etc/aiguard/tls/server.key" },
	{ "server.tls_client_ca", "/etc/aiguard/tls/client-ca.crt" },
	{ "server.tokens", "/etc/aiguard/auth/tokens" },
	{ "server.open", "admin, metrics,health" },
	{ "limits.ip_rate", "1000000" },
	{ "limits.ip_burst", "7" },
	{ "limits.ip_image_rate", "3" },
	{ "limits.ip_image_burst", "0" },
	{ "limits.token_rate", "10" },
	{ "limits.token_burst", "20" },
	{ "limits.token_image_rate", "40" },
	{ "limits.token_image_burst", "80" },
	{ "limits.token_max_inflight", "65536" },
	{ "model.dir", "/var/lib/aiguard/models/my model;v=1 #x" },
	{ "model.name", "resnet18-v1.2_b" },
	{ "model.max_batch", "256" },
	{ "model.max_delay_us", "0" },
	{ "model.return_wait_us", "1000000" },
	{ "model.threads", "256" },
	{ "model.low_memory", "yes" },
	{ "model.queue_slots", "4096" },
	{ "model.max_request_batch", "256" },
	{ "model.cert_validity", "Signing-Time" },
	{ "image.max_side", "65535" },
	{ "image.max_pixels", "1000000000" },
	{ "log.level", "DEBUG" },
	{ "log.access_log", "off" },
	{ "worker.restart_backoff_min_ms", "3600000" },
	{ "worker.restart_backoff_max_ms", "3600000" },
	{ "worker.max_start_failures", "1000" },
};

static void
test_round_trip(void)
{
	struct ag_config cf, cf2;
	char err[512];
	size_t i;

	TEST_START("every key set, dumped and reloaded");
	config_defaults(&cf);
	for (i = 0; i < sizeof(every_key) / sizeof(every_key[0]); i++) {
		err[0] = '\0';
		if (config_set(&cf, every_key[i].key, every_key[i].value, err,
		    sizeof(err)) != 0)
			fprintf(stderr, "%s\n", err);
		ASSERT_STRING_EQ(err, "");
	}
	ASSERT_STRING_EQ(cf.cf_listen_addr, "2001:db8::1");
	ASSERT_INT_EQ(cf.cf_listen_port, 0);
	ASSERT_INT_EQ(cf.cf_max_header_bytes, 1025);
	ASSERT_INT_EQ(cf.cf_max_body_bytes, 1024LL * 1024 * 1024);
	ASSERT_INT_EQ(cf.cf_max_body_inflight, 2048LL * 1024 * 1024);
	ASSERT_INT_EQ(cf.cf_log_level, LOG_LVL_DEBUG);
	ASSERT_INT_EQ(cf.cf_access_log, 0);
	ASSERT_INT_EQ(cf.cf_low_memory, 1);
	ASSERT_INT_EQ(cf.cf_cert_validity, 1);	/* MSIG_VALID_SIGNING_TIME */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	config_defaults(&cf2);
	ASSERT_INT_EQ(dump_and_load(&cf, &cf2, err, sizeof(err)), 0);
	assert_config_eq(&cf, &cf2);
	TEST_DONE();

	TEST_START("listen forms round trip");
	{
		static const char *const forms[][3] = {
			{ "0.0.0.0:0", "0.0.0.0", "0" },
			{ "*:8080", "*", "8080" },
			{ "localhost:65535", "localhost", "65535" },
			{ "[::]:80", "::", "80" },
			{ "[::ffff:1.2.3.4]:1", "::ffff:1.2.3.4", "1" },
		};

		for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
			config_defaults(&cf);
			ASSERT_INT_EQ(config_set(&cf, "server.listen",
			    forms[i][0], err, sizeof(err)), 0);
			ASSERT_STRING_EQ(cf.cf_listen_addr, forms[i][1]);
			ASSERT_INT_EQ(cf.cf_listen_port, atoi(forms[i][2]));
			config_defaults(&cf2);
			ASSERT_INT_EQ(dump_and_load(&cf, &cf2, err,
			    sizeof(err)), 0);
			assert_config_eq(&cf, &cf2);
		}
	}
	TEST_DONE();

	TEST_START("sizes: suffixes and exact dumps");
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "server.max_body_bytes", "1536k", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_max_body_bytes, 1536 * 1024);
	ASSERT_INT_EQ(config_set(&cf, "server.max_header_bytes", "1M", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_max_header_bytes, 1024 * 1024);
	ASSERT_INT_EQ(config_set(&cf, "server.max_body_bytes", "1025", err,
	    sizeof(err)), 0);
	config_defaults(&cf2);
	ASSERT_INT_EQ(dump_and_load(&cf, &cf2, err, sizeof(err)), 0);
	assert_config_eq(&cf, &cf2);
	TEST_DONE();

	TEST_START("booleans and levels");
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "log.access_log", "No", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_access_log, 0);
	ASSERT_INT_EQ(config_set(&cf, "log.access_log", "TRUE", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_access_log, 1);
	ASSERT_INT_EQ(config_set(&cf, "log.access_log", "0", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_access_log, 0);
	ASSERT_INT_EQ(config_set(&cf, "log.level", "warn", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_log_level, LOG_LVL_WARN);
	ASSERT_INT_EQ(config_set(&cf, "log.level", "fatal", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_log_level, LOG_LVL_FATAL);
	ASSERT_INT_EQ(config_set(&cf, "model.dir", "", err, sizeof(err)), 0);
	ASSERT_INT_EQ(config_set(&cf, "model.name", "", err, sizeof(err)), 0);
	TEST_DONE();
}

static void
test_bad_values(void)
{
	static const struct {
		const char *key, *value;
	} bad[] = {
		{ "server.http_threads", "0" },
		{ "server.http_threads", "65" },
		{ "server.http_threads", "" },
		{ "server.http_threads", "2x" },
		{ "server.http_threads", "+2" },
		{ "server.http_threads", "0x10" },
		{ "server.http_threads", "-1" },
		{ "server.http_threads", "99999999999999999999" },
		{ "server.http_threads", "2 " },
		{ "server.max_connections", "65537" },
		{ "server.max_connections_per_ip", "0" },
		{ "server.max_header_bytes", "1023" },
		{ "server.max_header_bytes", "2m" },
		{ "server.max_body_bytes", "-1" },
		{ "server.max_body_bytes", "-1k" },
		{ "server.max_body_bytes", "2g" },
		{ "server.max_body_bytes", "1t" },
		{ "server.max_body_bytes", "1kk" },
		{ "server.max_body_bytes", "k" },
		{ "server.max_body_bytes", "9223372036854775807k" },
		{ "server.max_body_bytes", "99999999999999999999" },
		{ "server.max_body_bytes", "999999999999999999999999999999g" },
		{ "server.connection_timeout", "0" },
		{ "server.request_timeout", "3601" },
		{ "model.max_batch", "257" },
		{ "model.max_delay_us", "1000001" },
		{ "model.return_wait_us", "1000001" },
		{ "model.return_wait_us", "-1" },
		{ "model.threads", "0" },
		{ "model.queue_slots", "4097" },
		{ "model.max_request_batch", "0" },
		{ "model.name", "a/b" },
		{ "model.name", ".hidden" },
		{ "model.name", "with space" },
		{ "model.name", "0123456789012345678901234567890123456789"
		    "012345678901234567890123" },
		{ "model.dir", "/a\tb" },
		{ "model.dir", "/a ;comment" },
		{ "model.dir", " /lead" },
		{ "model.dir", "/trail " },
		{ "model.dir", "/a\nb" },
		{ "image.max_side", "0" },
		{ "image.max_side", "65536" },
		{ "image.max_pixels", "40m" },
		{ "image.max_pixels", "1000000001" },
		{ "image.max_pixels", "-5" },
		{ "log.level", "verbose" },
		{ "log.level", "" },
		{ "model.cert_validity", "later" },
		{ "model.cert_validity", "" },
		{ "log.access_log", "maybe" },
		{ "log.access_log", "" },
		{ "worker.restart_backoff_min_ms", "0" },
		{ "worker.restart_backoff_max_ms", "3600001" },
		{ "worker.max_start_failures", "0" },
		{ "worker.max_start_failures", "1001" },
		{ "server.listen", "1.2.3:80" },
		{ "server.listen", "1.2.3.4:99999" },
		{ "server.listen", "1.2.3.4:65536" },
		{ "server.listen", "1.2.3.4:-1" },
		{ "server.listen", "1.2.3.4:+80" },
		{ "server.listen", "1.2.3.4:80x" },
		{ "server.listen", "1.2.3.4" },
		{ "server.listen", "1.2.3.4:" },
		{ "server.listen", "01.2.3.4:80" },
		{ "server.listen", "256.1.1.1:80" },
		{ "server.listen", "[::1" },
		{ "server.listen", "[::1]" },
		{ "server.listen", "[::1]80" },
		{ "server.listen", "[]:80" },
		{ "server.listen", "[1.2.3.4]:80" },
		{ "server.listen", "[::1]:" },
		{ "server.listen", "::1:80" },
		{ "server.listen", "host:" },
		{ "server.listen", "host:80" },
		{ "server.listen", ":80" },
		{ "server.listen", "" },
		{ "server.listen", "localhost:80 " },
	};
	struct ag_config cf, orig;
	char err[512], longdir[CONFIG_MODEL_DIR_MAX + 2];
	size_t i;
	int r;

	TEST_START("bad values are refused, naming the key");
	config_defaults(&orig);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf = orig;
		err[0] = '\0';
		r = config_set(&cf, bad[i].key, bad[i].value, err,
		    sizeof(err));
		if (r != AG_ERR_CONFIG)
			fprintf(stderr, "accepted %s = \"%s\"\n", bad[i].key,
			    bad[i].value);
		ASSERT_INT_EQ(r, AG_ERR_CONFIG);
		ASSERT_STRING_CONTAINS(err, bad[i].key);
		ASSERT_MEM_EQ(&cf, &orig, sizeof(cf));
	}
	TEST_DONE();

	TEST_START("messages: range, sanitised and capped echo");
	ASSERT_INT_EQ(config_set(&cf, "server.http_threads", "65", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "\"65\"");
	ASSERT_STRING_CONTAINS(err, "1..64");
	ASSERT_INT_EQ(config_set(&cf, "server.max_body_bytes", "-1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "negative");
	ASSERT_INT_EQ(config_set(&cf, "model.dir", "/a\033[2Jb", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_TRUE(strchr(err, '\033') == NULL);
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[sizeof(longdir) - 1] = '\0';
	ASSERT_INT_EQ(config_set(&cf, "model.dir", longdir, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "too long");
	ASSERT_STRING_CONTAINS(err, "...");
	ASSERT_TRUE(strlen(err) < 200);
	longdir[sizeof(longdir) - 2] = '\0';	/* CONFIG_MODEL_DIR_MAX */
	ASSERT_INT_EQ(config_set(&cf, "model.dir", longdir, err,
	    sizeof(err)), 0);
	TEST_DONE();

	TEST_START("unknown keys");
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "server.nope", "1", err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.nope");
	ASSERT_INT_EQ(config_set(&cf, "listen", "1.2.3.4:1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "unknown key");
	ASSERT_INT_EQ(config_set(&cf, "nope.listen", "1.2.3.4:1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "server.", "1", err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, ".listen", "1.2.3.4:1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "server.listen.x", "1.2.3.4:1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, NULL, "1", err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "server.listen", NULL, err,
	    sizeof(err)), AG_ERR_CONFIG);
	TEST_DONE();
}

/*
 * A listen address other than loopback needs server.allow_insecure:
 * aiguardd has no TLS and no authentication.
 */
static void
test_validate_exposure(void)
{
	static const char *const loopback[] = {
		"127.0.0.1:0", "127.1.2.3:8500", "localhost:0", "[::1]:0",
	};
	static const char *const exposed[] = {
		"*:0", "0.0.0.0:0", "[::]:0", "192.0.2.1:8500",
		"[2001:db8::1]:0", "128.0.0.1:0", "[::ffff:127.0.0.1]:0",
	};
	struct ag_config cf;
	char err[512];
	size_t i;

	TEST_START("validate: an exposed listen address needs allow_insecure");
	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		config_defaults(&cf);
		ASSERT_INT_EQ(config_set(&cf, "server.listen", loopback[i],
		    err, sizeof(err)), 0);
		ASSERT_INT_EQ(config_listen_loopback(&cf), 1);
		ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	}
	for (i = 0; i < sizeof(exposed) / sizeof(exposed[0]); i++) {
		config_defaults(&cf);
		ASSERT_INT_EQ(config_set(&cf, "server.listen", exposed[i],
		    err, sizeof(err)), 0);
		ASSERT_INT_EQ(config_listen_loopback(&cf), 0);
		ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)),
		    AG_ERR_CONFIG);
		ASSERT_STRING_CONTAINS(err, "server.allow_insecure = yes");
		ASSERT_STRING_CONTAINS(err, "not a loopback address");
		ASSERT_INT_EQ(config_set(&cf, "server.allow_insecure", "yes",
		    err, sizeof(err)), 0);
		ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	}
	TEST_DONE();
}

/*
 * The front door: server.open's lists, TLS's pair, and the exposure rule
 * that TLS, a token file and health alone satisfy.
 */
static void
test_frontdoor(void)
{
	static const char *const bad_open[] = {
		"", "nothing", "health,", ",health", "health,,infer",
		"health infer", "HEALTH", "infer,infer", "none,health",
		"health;infer", "infer:a", "all", "health,health",
	};
	struct ag_config cf;
	char err[512], buf[80];
	size_t i;

	TEST_START("server.open: lists, none, and refusals");
	config_defaults(&cf);
	ASSERT_INT_EQ(cf.cf_open, CONFIG_OPEN_HEALTH);
	ASSERT_INT_EQ(config_open_categories(&cf), CONFIG_OPEN_ALL);
	ASSERT_INT_EQ(config_set(&cf, "server.open", "none", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_open, 0);
	ASSERT_INT_EQ(config_set(&cf, "server.open", "admin,metrics,infer",
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_open, CONFIG_OPEN_ADMIN | CONFIG_OPEN_METRICS |
	    CONFIG_OPEN_INFER);
	ASSERT_INT_EQ(config_set(&cf, "server.open", " infer , metadata ",
	    err, sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_open, CONFIG_OPEN_INFER | CONFIG_OPEN_METADATA);
	config_open_format(cf.cf_open, buf, sizeof(buf));
	ASSERT_STRING_EQ(buf, "metadata,infer");
	config_open_format(0, buf, sizeof(buf));
	ASSERT_STRING_EQ(buf, "none");
	for (i = 0; i < sizeof(bad_open) / sizeof(bad_open[0]); i++) {
		ASSERT_INT_EQ(config_set(&cf, "server.open", bad_open[i],
		    err, sizeof(err)), AG_ERR_CONFIG);
		ASSERT_STRING_CONTAINS(err, "server.open");
	}
	ASSERT_INT_EQ(cf.cf_open, CONFIG_OPEN_INFER | CONFIG_OPEN_METADATA);
	/* With a token file, open is what it says; without, everything. */
	ASSERT_INT_EQ(config_open_categories(&cf), CONFIG_OPEN_ALL);
	ASSERT_INT_EQ(config_set(&cf, "server.tokens", "/t", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_open_categories(&cf),
	    CONFIG_OPEN_INFER | CONFIG_OPEN_METADATA);
	TEST_DONE();

	TEST_START("validate: TLS certificate and key go together");
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "server.tls_cert", "/c", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.tls_key");
	ASSERT_INT_EQ(config_set(&cf, "server.tls_key", "/k", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "server.tls_client_ca", "/ca", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.tls_client_ca needs");
	TEST_DONE();

	TEST_START("validate: exposed only behind TLS, tokens, health alone");
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "server.listen", "0.0.0.0:8443", err,
	    sizeof(err)), 0);
	ASSERT_STRING_CONTAINS(config_exposure(&cf), "clear text");
	ASSERT_INT_EQ(config_set(&cf, "server.tls_cert", "/c", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_set(&cf, "server.tls_key", "/k", err,
	    sizeof(err)), 0);
	ASSERT_STRING_CONTAINS(config_exposure(&cf), "every endpoint");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "server.tokens", "/t", err,
	    sizeof(err)), 0);
	ASSERT_PTR_EQ(config_exposure(&cf), NULL);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(config_set(&cf, "server.open", "none", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(config_set(&cf, "server.open", "health,metrics", err,
	    sizeof(err)), 0);
	ASSERT_STRING_CONTAINS(config_exposure(&cf), "more than health");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.allow_insecure = yes");
	ASSERT_INT_EQ(config_set(&cf, "server.allow_insecure", "yes", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	/* Loopback: never exposed, whatever the rest. */
	ASSERT_INT_EQ(config_set(&cf, "server.listen", "127.0.0.1:0", err,
	    sizeof(err)), 0);
	ASSERT_PTR_EQ(config_exposure(&cf), NULL);
	TEST_DONE();
}

static void
test_validate(void)
{
	struct ag_config cf;
	char err[512];

	TEST_START("validate: cross-field rules");
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "server.max_connections_per_ip", "300",
	    err, sizeof(err)), 0);	/* alone it is in range */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.max_connections_per_ip");
	ASSERT_STRING_CONTAINS(err, "server.max_connections ");
	cf.cf_max_connections_per_ip = 256;	/* equal is fine */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);

	cf.cf_restart_min_ms = 5001;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "worker.restart_backoff_min_ms");
	cf.cf_restart_min_ms = 5000;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);

	cf.cf_max_request_batch = 65;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.max_request_batch");
	cf.cf_max_request_batch = 8;

	/* Room for one body of the largest size, at least. */
	ASSERT_INT_EQ(config_set(&cf, "server.max_body_inflight", "16m", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.max_body_inflight");
	ASSERT_STRING_CONTAINS(err, "server.max_body_bytes");
	cf.cf_max_body_inflight = cf.cf_max_body_bytes;	/* equal is fine */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	TEST_DONE();

	test_validate_exposure();

	TEST_START("validate: fields set directly are range-checked");
	config_defaults(&cf);
	cf.cf_threads = 0;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.threads");
	config_defaults(&cf);
	cf.cf_max_body_bytes = 0;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.max_body_bytes");
	config_defaults(&cf);
	cf.cf_listen_port = 65536;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.listen");
	config_defaults(&cf);
	snprintf(cf.cf_listen_addr, sizeof(cf.cf_listen_addr), "example.com");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "server.listen");
	config_defaults(&cf);
	memset(cf.cf_model_name, 'a', sizeof(cf.cf_model_name));
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.name");
	config_defaults(&cf);
	cf.cf_log_level = 4;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "log.level");
	config_defaults(&cf);
	cf.cf_access_log = 2;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "log.access_log");
	TEST_DONE();
}

static void
test_file_syntax(void)
{
	struct ag_config cf, want;
	char err[512];

	TEST_START("file: comments, blanks, indentation, inline comments");
	ASSERT_INT_EQ(load_text(
	    "\xef\xbb\xbf# comment\r\n"
	    "; another\n"
	    "\n"
	    "[server]\n"
	    "   listen = 10.0.0.1:99   ; inline comment\n"
	    "\thttp_threads=4\r\n"
	    "max_connections : 100\n"
	    "[model]\n"
	    "  name = abc\n"
	    "[server]\n"
	    "max_body_bytes = 1m", &cf, err, sizeof(err)), 0);
	config_defaults(&want);
	snprintf(want.cf_listen_addr, sizeof(want.cf_listen_addr),
	    "10.0.0.1");
	want.cf_listen_port = 99;
	want.cf_http_threads = 4;
	want.cf_max_connections = 100;
	want.cf_max_body_bytes = 1024 * 1024;
	snprintf(want.cf_model_name, sizeof(want.cf_model_name), "abc");
	assert_config_eq(&cf, &want);
	TEST_DONE();

	TEST_START("file: an empty file changes nothing");
	ASSERT_INT_EQ(load_text("", &cf, err, sizeof(err)), 0);
	config_defaults(&want);
	assert_config_eq(&cf, &want);
	TEST_DONE();

	TEST_START("file: unknown section, unknown key, key outside");
	ASSERT_INT_EQ(load_text("[server]\nlisten = 1.2.3.4:5\n[nope]\n"
	    "x = 1\n", &cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:4: ");
	ASSERT_STRING_CONTAINS(err, "unknown section [nope]");
	ASSERT_INT_EQ(load_text("[server]\n\nlistn = 1.2.3.4:5\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:3: ");
	ASSERT_STRING_CONTAINS(err, "unknown key \"listn\" in [server]");
	ASSERT_INT_EQ(load_text("Listen = 1.2.3.4:5\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:1: ");
	ASSERT_STRING_CONTAINS(err, "outside any [section]");
	ASSERT_INT_EQ(load_text("[Server]\nlisten = 1.2.3.4:5\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "unknown section");
	TEST_DONE();

	TEST_START("file: duplicate key, even across sections blocks");
	ASSERT_INT_EQ(load_text("[model]\nthreads = 2\n[server]\n[model]\n"
	    "threads = 2\n", &cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:5: ");
	ASSERT_STRING_CONTAINS(err, "duplicate key model.threads");
	TEST_DONE();

	TEST_START("file: bad values name file, line, key and value");
	ASSERT_INT_EQ(load_text("[server]\nhttp_threads = 2\n"
	    "max_body_bytes = -5m\n", &cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:3: server.max_body_bytes");
	ASSERT_STRING_CONTAINS(err, "-5m");
	ASSERT_INT_EQ(load_text("[server]\nlisten = host:\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: server.listen");
	ASSERT_INT_EQ(load_text("[model]\nthreads = 99999999999999999999\n",
	    &cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: model.threads");
	/* Quotes are not stripped: they are part of the value. */
	ASSERT_INT_EQ(load_text("[model]\nthreads = \"2\"\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.threads");
	TEST_DONE();

	TEST_START("file: lines inih cannot parse");
	ASSERT_INT_EQ(load_text("[server]\nlisten\n", &cf, err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: syntax error");
	ASSERT_INT_EQ(load_text("# x\n[server\nlisten = 1.2.3.4:1\n", &cf,
	    err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: syntax error");
	/* The first error wins, whichever kind it is. */
	ASSERT_INT_EQ(load_text("[server]\njunk\nhttp_threads = 0\n", &cf,
	    err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: syntax error");
	ASSERT_INT_EQ(load_text("[server]\nhttp_threads = 0\njunk\n", &cf,
	    err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: server.http_threads");
	TEST_DONE();

	TEST_START("file: long lines and NUL bytes");
	{
		char text[CONFIG_LINE_MAX + 64], *p;
		const char *path;
		size_t n;

		/* Exactly CONFIG_LINE_MAX: accepted (a comment). */
		memset(text, 0, sizeof(text));
		text[0] = '#';
		memset(text + 1, 'x', CONFIG_LINE_MAX - 1);
		strcat(text, "\n[log]\nlevel = warn\n");
		ASSERT_INT_EQ(load_text(text, &cf, err, sizeof(err)), 0);
		ASSERT_INT_EQ(cf.cf_log_level, LOG_LVL_WARN);
		/* One more byte: refused, not split. */
		memset(text, 0, sizeof(text));
		memcpy(text, "[log]\n#", 7);
		memset(text + 7, 'x', CONFIG_LINE_MAX);
		strcat(text, "\nlevel = warn\n");
		ASSERT_INT_EQ(load_text(text, &cf, err, sizeof(err)),
		    AG_ERR_CONFIG);
		ASSERT_STRING_CONTAINS(err, "t.conf:2: line too long");
		/* A NUL byte inside a line. */
		memcpy(text, "[log]\nlevel = warn\0debug\n", 25);
		path = write_file("nul.conf", text, 25);
		config_defaults(&cf);
		ASSERT_INT_EQ(config_load_file(&cf, path, err, sizeof(err)),
		    AG_ERR_CONFIG);
		ASSERT_STRING_CONTAINS(err, "nul.conf:2: NUL byte");
		/* The longest model.dir fits in a line and round-trips. */
		config_defaults(&want);
		p = want.cf_model_dir;
		*p++ = '/';
		for (n = 1; n < CONFIG_MODEL_DIR_MAX; n++)
			*p++ = 'd';
		ASSERT_INT_EQ(config_validate(&want, err, sizeof(err)), 0);
		config_defaults(&cf);
		ASSERT_INT_EQ(dump_and_load(&want, &cf, err, sizeof(err)), 0);
		assert_config_eq(&cf, &want);
	}
	TEST_DONE();

	TEST_START("file: all or nothing");
	config_defaults(&cf);
	cf.cf_threads = 7;
	want = cf;
	ASSERT_INT_EQ(config_load_file(&cf, write_file("half.conf",
	    "[model]\nthreads = 3\nmax_batch = 0\n", 34), err, sizeof(err)),
	    AG_ERR_CONFIG);
	assert_config_eq(&cf, &want);
	TEST_DONE();

	TEST_START("file: load over earlier values, keys not named kept");
	config_defaults(&cf);
	ASSERT_INT_EQ(config_set(&cf, "model.threads", "9", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_load_file(&cf, write_file("part.conf",
	    "[model]\nmax_batch = 3\n", 22), err, sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_threads, 9);
	ASSERT_INT_EQ(cf.cf_max_batch, 3);
	TEST_DONE();
}

static void
test_file_kinds(void)
{
	struct ag_config cf, orig;
	char path[512], err[512], *big;
	size_t i;

	config_defaults(&orig);

	TEST_START("file: missing");
	snprintf(path, sizeof(path), "%s/missing.conf", test_tmpdir());
	cf = orig;
	ASSERT_INT_EQ(config_load_file(&cf, path, err, sizeof(err)),
	    AG_ERR_NOT_FOUND);
	ASSERT_STRING_CONTAINS(err, "missing.conf");
	TEST_DONE();

	TEST_START("file: a directory is refused");
	ASSERT_INT_EQ(config_load_file(&cf, test_tmpdir(), err, sizeof(err)),
	    AG_ERR_FORMAT);
	ASSERT_STRING_CONTAINS(err, "not a regular file");
	TEST_DONE();

	TEST_START("file: a FIFO is refused without blocking");
	snprintf(path, sizeof(path), "%s/fifo.conf", test_tmpdir());
	ASSERT_INT_EQ(mkfifo(path, 0600), 0);
	alarm(10);	/* a blocked open would kill the test: a failure */
	ASSERT_INT_EQ(config_load_file(&cf, path, err, sizeof(err)),
	    AG_ERR_FORMAT);
	alarm(0);
	ASSERT_STRING_CONTAINS(err, "not a regular file");
	assert_config_eq(&cf, &orig);
	TEST_DONE();

	TEST_START("file: too large");
	big = test_xmalloc(CONFIG_FILE_MAX + 1);
	for (i = 0; i < CONFIG_FILE_MAX + 1; i++)
		big[i] = (i % 64 == 63) ? '\n' : '#';
	ASSERT_INT_EQ(config_load_file(&cf, write_file("big.conf", big,
	    CONFIG_FILE_MAX + 1), err, sizeof(err)), AG_ERR_TOO_LARGE);
	ASSERT_STRING_CONTAINS(err, "big.conf");
	/* At the cap exactly: fine. */
	ASSERT_INT_EQ(config_load_file(&cf, write_file("cap.conf", big,
	    CONFIG_FILE_MAX), err, sizeof(err)), 0);
	free(big);
	assert_config_eq(&cf, &orig);
	TEST_DONE();
}

static void
test_shipped_example(void)
{
	struct ag_config cf, def;
	char path[PATH_MAX], err[512];
	const char *top = getenv("AG_TOP");

	TEST_START("etc/aiguardd.conf loads to the defaults");
	snprintf(path, sizeof(path), "%s/etc/aiguardd.conf",
	    top != NULL && *top != '\0' ? top : ".");
	config_defaults(&def);
	config_defaults(&cf);
	cf.cf_threads = 99;
	cf.cf_low_memory = 1;
	cf.cf_model_name[0] = 'x';
	ASSERT_INT_EQ(config_set(&cf, "model.repository", "/r", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_set(&cf, "model.names", "a,b", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_set(&cf, "model.control", "explicit", err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(config_set(&cf, "model.versions", "latest:5", err,
	    sizeof(err)), 0);
	/* The example names every key: anything not reset shows here. */
	err[0] = '\0';
	ASSERT_INT_EQ(config_load_file(&cf, path, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(err, "");
	assert_config_eq(&cf, &def);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	TEST_DONE();
}

/* ==== The model repository ==== */

/* Sets key = value on cf, which must work (a set-up step of a case). */
static void
set_ok(struct ag_config *cf, const char *key, const char *value)
{
	char err[512];

	err[0] = '\0';
	if (config_set(cf, key, value, err, sizeof(err)) != 0)
		fprintf(stderr, "%s = \"%s\": %s\n", key, value, err);
	ASSERT_STRING_EQ(err, "");
}

/* A name of exactly n bytes: c repeated, then digits. */
static void
make_name(char *buf, size_t n, char c)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = i < 2 ? c : (char)('0' + i % 10);
	buf[n] = '\0';
}

static void
test_repository_keys(void)
{
	static const struct {
		const char *key, *value;
	} bad[] = {
		{ "model.names", " " },
		{ "model.names", "a," },
		{ "model.names", ",a" },
		{ "model.names", "a,,b" },
		{ "model.names", "a b" },
		{ "model.names", "a;b" },
		{ "model.names", "a,a" },
		{ "model.names", ".hidden" },
		{ "model.names", "_x" },
		{ "model.names", "-x" },
		{ "model.names", "a/b" },
		{ "model.names", ".." },
		{ "model.names", "a\tb,c" },
		{ "model.names", "caf\xc3\xa9" },
		{ "model.names", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q" },
		{ "model.control", "" },
		{ "model.control", "manual" },
		{ "model.control", "none " },
		{ "model.versions", "" },
		{ "model.versions", " " },
		{ "model.versions", "latest:0" },
		{ "model.versions", "latest:17" },
		{ "model.versions", "latest:" },
		{ "model.versions", "latest:-1" },
		{ "model.versions", "latest:x" },
		{ "model.versions", "latest: 2" },
		{ "model.versions", "Latest" },
		{ "model.versions", "latest,1" },
		{ "model.versions", "0" },
		{ "model.versions", "01" },
		{ "model.versions", "1,01" },
		{ "model.versions", "-1" },
		{ "model.versions", "+1" },
		{ "model.versions", "1,1" },
		{ "model.versions", "3,1,3" },
		{ "model.versions", "1,,2" },
		{ "model.versions", "1," },
		{ "model.versions", "1 2" },
		{ "model.versions", "1;2" },
		{ "model.versions", "0x10" },
		{ "model.versions", "1000000000" },
		{ "model.versions", "4294967297" },
		{ "model.versions",
		    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" },
		{ "model.repository", "/a\nb" },
		{ "model.repository", " /lead" },
	};
	struct ag_config cf, orig;
	char err[512], name[80], list[400];
	size_t i;
	int r;

	TEST_START("repository keys: defaults and good values");
	config_defaults(&cf);
	ASSERT_STRING_EQ(cf.cf_repository, "");
	ASSERT_INT_EQ(cf.cf_nmodel_names, 0);
	ASSERT_INT_EQ(cf.cf_model_control, CONFIG_CONTROL_NONE);
	ASSERT_INT_EQ(cf.cf_versions.vp_kind, CONFIG_VP_LATEST);
	ASSERT_INT_EQ(cf.cf_versions.vp_latest, 1);
	ASSERT_INT_EQ(cf.cf_versions.vp_nversions, 0);
	ASSERT_INT_EQ(cf.cf_nmodels, 0);
	set_ok(&cf, "model.repository", "/var/lib/aiguard/models");
	ASSERT_STRING_EQ(cf.cf_repository, "/var/lib/aiguard/models");
	set_ok(&cf, "model.names", " resnet18, b.c-d_e ,9");
	ASSERT_INT_EQ(cf.cf_nmodel_names, 3);
	ASSERT_STRING_EQ(cf.cf_model_names[0], "resnet18");
	ASSERT_STRING_EQ(cf.cf_model_names[1], "b.c-d_e");
	ASSERT_STRING_EQ(cf.cf_model_names[2], "9");
	set_ok(&cf, "model.names", "a");
	ASSERT_INT_EQ(cf.cf_nmodel_names, 1);
	ASSERT_STRING_EQ(cf.cf_model_names[1], "");	/* tail zeroed */
	set_ok(&cf, "model.names", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p");
	ASSERT_INT_EQ(cf.cf_nmodel_names, CONFIG_MODELS_MAX);
	ASSERT_STRING_EQ(cf.cf_model_names[15], "p");
	make_name(name, CONFIG_MODEL_NAME_MAX, 'n');
	set_ok(&cf, "model.names", name);
	ASSERT_STRING_EQ(cf.cf_model_names[0], name);
	set_ok(&cf, "model.names", "");
	ASSERT_INT_EQ(cf.cf_nmodel_names, 0);
	set_ok(&cf, "model.control", "explicit");
	ASSERT_INT_EQ(cf.cf_model_control, CONFIG_CONTROL_EXPLICIT);
	set_ok(&cf, "model.control", "NONE");
	ASSERT_INT_EQ(cf.cf_model_control, CONFIG_CONTROL_NONE);
	TEST_DONE();

	TEST_START("model.versions: latest, latest:N, specific versions");
	config_defaults(&cf);
	set_ok(&cf, "model.versions", "latest:3");
	ASSERT_INT_EQ(cf.cf_versions.vp_kind, CONFIG_VP_LATEST);
	ASSERT_INT_EQ(cf.cf_versions.vp_latest, 3);
	set_ok(&cf, "model.versions", "latest:16");
	ASSERT_INT_EQ(cf.cf_versions.vp_latest, 16);
	set_ok(&cf, "model.versions", "3,1");
	ASSERT_INT_EQ(cf.cf_versions.vp_kind, CONFIG_VP_SPECIFIC);
	ASSERT_INT_EQ(cf.cf_versions.vp_latest, 0);
	ASSERT_INT_EQ(cf.cf_versions.vp_nversions, 2);
	ASSERT_INT_EQ(cf.cf_versions.vp_versions[0], 1);
	ASSERT_INT_EQ(cf.cf_versions.vp_versions[1], 3);
	set_ok(&cf, "model.versions", " 7 , 999999999,2 ");
	ASSERT_INT_EQ(cf.cf_versions.vp_nversions, 3);
	ASSERT_INT_EQ(cf.cf_versions.vp_versions[0], 2);
	ASSERT_INT_EQ(cf.cf_versions.vp_versions[1], 7);
	ASSERT_INT_EQ(cf.cf_versions.vp_versions[2], 999999999);
	ASSERT_INT_EQ(cf.cf_versions.vp_versions[3], 0);
	set_ok(&cf, "model.versions", "16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1");
	ASSERT_INT_EQ(cf.cf_versions.vp_nversions, 16);
	for (i = 0; i < 16; i++)
		ASSERT_INT_EQ(cf.cf_versions.vp_versions[i], i + 1);
	set_ok(&cf, "model.versions", "latest");
	config_defaults(&orig);
	ASSERT_MEM_EQ(&cf.cf_versions, &orig.cf_versions,
	    sizeof(cf.cf_versions));
	set_ok(&cf, "model.versions", "latest:1");
	ASSERT_MEM_EQ(&cf.cf_versions, &orig.cf_versions,
	    sizeof(cf.cf_versions));
	TEST_DONE();

	TEST_START("config_versions_format");
	config_defaults(&cf);
	config_versions_format(&cf.cf_versions, name, sizeof(name));
	ASSERT_STRING_EQ(name, "latest");
	set_ok(&cf, "model.versions", "latest:3");
	config_versions_format(&cf.cf_versions, name, sizeof(name));
	ASSERT_STRING_EQ(name, "latest:3");
	set_ok(&cf, "model.versions", "7,4,1");
	config_versions_format(&cf.cf_versions, name, sizeof(name));
	ASSERT_STRING_EQ(name, "1,4,7");
	config_versions_format(&cf.cf_versions, name, 4);
	ASSERT_TRUE(strlen(name) < 4);
	set_ok(&cf, "model.versions", "999999991,999999992,999999993,"
	    "999999994,999999995,999999996,999999997,999999998,999999999,"
	    "999999990,999999989,999999988,999999987,999999986,999999985,"
	    "999999984");
	config_versions_format(&cf.cf_versions, list, 160);
	ASSERT_INT_EQ(strlen(list), 159);
	TEST_DONE();

	TEST_START("repository keys: bad values refused, naming the key");
	config_defaults(&orig);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf = orig;
		err[0] = '\0';
		r = config_set(&cf, bad[i].key, bad[i].value, err,
		    sizeof(err));
		if (r != AG_ERR_CONFIG)
			fprintf(stderr, "accepted %s = \"%s\"\n", bad[i].key,
			    bad[i].value);
		ASSERT_INT_EQ(r, AG_ERR_CONFIG);
		ASSERT_STRING_CONTAINS(err, bad[i].key);
		ASSERT_MEM_EQ(&cf, &orig, sizeof(cf));
	}
	/* 65 bytes: one too many. */
	make_name(name, CONFIG_MODEL_NAME_MAX + 1, 'n');
	ASSERT_INT_EQ(config_set(&cf, "model.names", name, err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "at most 64 bytes");
	/* Four names of 60 bytes: a line of the dump could not hold them. */
	make_name(name, 60, 'a');
	snprintf(list, sizeof(list), "%s,%s", name, name);
	list[61] = 'b';
	snprintf(list + strlen(list), sizeof(list) - strlen(list), ",%s",
	    name);
	list[122] = 'c';
	snprintf(list + strlen(list), sizeof(list) - strlen(list), ",%s",
	    name);
	list[183] = 'd';
	ASSERT_INT_EQ(config_set(&cf, "model.names", list, err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "one line");
	list[183 - 1] = '\0';	/* three of them fit */
	set_ok(&cf, "model.names", list);
	ASSERT_INT_EQ(cf.cf_nmodel_names, 3);
	ASSERT_INT_EQ(config_set(&cf, "model.names", "a,b,a", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "twice");
	ASSERT_INT_EQ(config_set(&cf, "model.versions", "2,1,2", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "twice");
	ASSERT_INT_EQ(config_set(&cf, "model.versions", "latest:17", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "1 to 16");
	TEST_DONE();
}

static void
test_model_sections(void)
{
	struct config_model_settings ms;
	struct ag_config cf, orig;
	char err[512], key[160], name[80], text[512];
	int i;

	TEST_START("[model.NAME]: set, override, defaults");
	ASSERT_INT_EQ(load_text("[model]\n"
	    "repository = /srv/models\n"
	    "threads = 3\n"
	    "max_batch = 6\n"
	    "versions = latest:2\n"
	    "[model.resnet50]\n"
	    "threads = 8\n"
	    "queue_slots = 128\n"
	    "versions = 2, 1\n"
	    "[model.r18.v1]\n"
	    "max_delay_us = 500\n"
	    "max_batch = 1\n"
	    "[limits]\n"
	    "[model.resnet50]\n"
	    "max_batch = 16\n", &cf, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(err, "");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_nmodels, 2);
	ASSERT_STRING_EQ(cf.cf_models[0].cm_name, "resnet50");
	ASSERT_INT_EQ(cf.cf_models[0].cm_set, CONFIG_CM_THREADS |
	    CONFIG_CM_QUEUE_SLOTS | CONFIG_CM_VERSIONS | CONFIG_CM_MAX_BATCH);
	ASSERT_STRING_EQ(cf.cf_models[1].cm_name, "r18.v1");
	ASSERT_INT_EQ(cf.cf_models[1].cm_set, CONFIG_CM_MAX_DELAY |
	    CONFIG_CM_MAX_BATCH);
	ASSERT_INT_EQ(cf.cf_models[1].cm_threads, 0);	/* not set: zero */
	config_model_settings(&cf, "resnet50", &ms);
	ASSERT_INT_EQ(ms.ms_max_batch, 16);
	ASSERT_INT_EQ(ms.ms_threads, 8);
	ASSERT_INT_EQ(ms.ms_queue_slots, 128);
	ASSERT_INT_EQ(ms.ms_max_delay_us, 0);		/* [model]'s */
	ASSERT_INT_EQ(ms.ms_versions.vp_kind, CONFIG_VP_SPECIFIC);
	ASSERT_INT_EQ(ms.ms_versions.vp_nversions, 2);
	ASSERT_INT_EQ(ms.ms_versions.vp_versions[0], 1);
	ASSERT_INT_EQ(ms.ms_versions.vp_versions[1], 2);
	config_model_settings(&cf, "r18.v1", &ms);
	ASSERT_INT_EQ(ms.ms_max_batch, 1);
	ASSERT_INT_EQ(ms.ms_threads, 3);
	ASSERT_INT_EQ(ms.ms_queue_slots, 64);
	ASSERT_INT_EQ(ms.ms_max_delay_us, 500);
	ASSERT_INT_EQ(ms.ms_versions.vp_kind, CONFIG_VP_LATEST);
	ASSERT_INT_EQ(ms.ms_versions.vp_latest, 2);
	/* No section (and a prefix of one): all of [model]'s. */
	config_model_settings(&cf, "r18", &ms);
	ASSERT_INT_EQ(ms.ms_max_batch, 6);
	ASSERT_INT_EQ(ms.ms_threads, 3);
	ASSERT_INT_EQ(ms.ms_queue_slots, 64);
	ASSERT_INT_EQ(ms.ms_max_delay_us, 0);
	ASSERT_INT_EQ(ms.ms_versions.vp_latest, 2);
	TEST_DONE();

	TEST_START("[model.NAME]: --set model.NAME.KEY");
	config_defaults(&cf);
	set_ok(&cf, "model.repository", "/srv/models");
	set_ok(&cf, "model.a.b.threads", "5");
	set_ok(&cf, "model.a.b.versions", "latest:4");
	set_ok(&cf, "model.x.max_delay_us", "1000000");
	ASSERT_INT_EQ(cf.cf_nmodels, 2);
	ASSERT_STRING_EQ(cf.cf_models[0].cm_name, "a.b");
	ASSERT_INT_EQ(cf.cf_models[0].cm_threads, 5);
	ASSERT_INT_EQ(cf.cf_models[0].cm_versions.vp_latest, 4);
	config_model_settings(&cf, "x", &ms);
	ASSERT_INT_EQ(ms.ms_max_delay_us, 1000000);
	ASSERT_INT_EQ(ms.ms_threads, 2);
	/* The longest name, as a key of a --set. */
	make_name(name, CONFIG_MODEL_NAME_MAX, 'L');
	snprintf(key, sizeof(key), "model.%s.queue_slots", name);
	set_ok(&cf, key, "9");
	config_model_settings(&cf, name, &ms);
	ASSERT_INT_EQ(ms.ms_queue_slots, 9);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	orig = cf;
	/* Refusals leave cf as it was, and name the key. */
	ASSERT_INT_EQ(config_set(&cf, "model.a.threads", "0", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.a.threads: invalid value \"0\"");
	ASSERT_STRING_CONTAINS(err, "1..256");
	ASSERT_INT_EQ(config_set(&cf, "model.a.max_batch", "257", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "model.a.queue_slots", "4097", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "model.a.max_delay_us", "-1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "model.a.versions", "01", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.a.versions");
	ASSERT_INT_EQ(config_set(&cf, "model.a.nope", "1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "unknown key \"model.a.nope\"");
	ASSERT_INT_EQ(config_set(&cf, "model.a.dir", "/x", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "unknown key");
	ASSERT_INT_EQ(config_set(&cf, "model.a.", "1", err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_INT_EQ(config_set(&cf, "model..threads", "1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "bad model name");
	ASSERT_INT_EQ(config_set(&cf, "model.a/b.threads", "1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "bad model name");
	ASSERT_INT_EQ(config_set(&cf, "model..hidden.threads", "1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "bad model name");
	make_name(name, CONFIG_MODEL_NAME_MAX + 1, 'L');
	snprintf(key, sizeof(key), "model.%s.threads", name);
	ASSERT_INT_EQ(config_set(&cf, key, "1", err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "at most 64 bytes");
	ASSERT_MEM_EQ(&cf, &orig, sizeof(cf));
	TEST_DONE();

	TEST_START("[model.NAME]: at most 16 sections");
	config_defaults(&cf);
	for (i = 0; i < CONFIG_MODELS_MAX; i++) {
		snprintf(key, sizeof(key), "model.m%d.threads", i);
		set_ok(&cf, key, "1");
	}
	set_ok(&cf, "model.m3.max_batch", "2");	/* an existing one: fine */
	orig = cf;
	ASSERT_INT_EQ(config_set(&cf, "model.m16.threads", "1", err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "[model.m16]");
	ASSERT_STRING_CONTAINS(err, "more than 16");
	ASSERT_MEM_EQ(&cf, &orig, sizeof(cf));
	/* The same from a file, with its line. */
	text[0] = '\0';
	for (i = 0; i <= CONFIG_MODELS_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "[model.m%d]\nthreads = 1\n", i);
	ASSERT_INT_EQ(load_text(text, &cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:34: [model.m16]: more than 16");
	TEST_DONE();

	TEST_START("file: [model.NAME] errors, and a 64-byte NAME");
	ASSERT_INT_EQ(load_text("[model.a]\nthreads = 2\ndir = /x\n", &cf,
	    err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:3: unknown key \"dir\" in "
	    "[model.a]");
	ASSERT_INT_EQ(load_text("[model.a]\nthreads = 2\n[model.b]\n"
	    "threads = 2\n[model.a]\nthreads = 3\n", &cf, err, sizeof(err)),
	    AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:6: duplicate key "
	    "model.a.threads");
	ASSERT_INT_EQ(load_text("[model.a]\nthreads = 0\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: model.a.threads: invalid");
	ASSERT_INT_EQ(load_text("[model.a b]\nthreads = 2\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: [model.a b]: bad model name");
	ASSERT_INT_EQ(load_text("[model.]\nthreads = 2\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "bad model name");
	ASSERT_INT_EQ(load_text("[models]\nthreads = 2\n", &cf, err,
	    sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "unknown section [models]");
	/* inih keeps 49 bytes of a section name; ours is whole. */
	make_name(name, CONFIG_MODEL_NAME_MAX, 'L');
	snprintf(text, sizeof(text), "[model]\nrepository = /r\n"
	    "[model.%s]\nthreads = 7\n", name);
	ASSERT_INT_EQ(load_text(text, &cf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_nmodels, 1);
	ASSERT_STRING_EQ(cf.cf_models[0].cm_name, name);
	/* Two names alike in their first 42 bytes are two sections. */
	snprintf(text, sizeof(text), "[model.%s]\nthreads = 7\n"
	    "[model.%.60sXXXX]\nthreads = 7\n", name, name);
	ASSERT_INT_EQ(load_text(text, &cf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_nmodels, 2);
	make_name(name, CONFIG_MODEL_NAME_MAX + 1, 'L');
	snprintf(text, sizeof(text), "[model.%s]\nthreads = 7\n", name);
	ASSERT_INT_EQ(load_text(text, &cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "t.conf:2: ");
	ASSERT_STRING_CONTAINS(err, "at most 64 bytes");
	/* A section with no key adds nothing. */
	ASSERT_INT_EQ(load_text("[model.a]\n", &cf, err, sizeof(err)), 0);
	ASSERT_INT_EQ(cf.cf_nmodels, 0);
	TEST_DONE();
}

static void
test_validate_repository(void)
{
	struct ag_config cf, repo;
	char err[512];

	config_defaults(&repo);
	set_ok(&repo, "model.repository", "/srv/models");
	set_ok(&repo, "model.names", "a,b");
	set_ok(&repo, "model.control", "explicit");
	set_ok(&repo, "model.a.threads", "4");

	TEST_START("validate: repository rules");
	cf = repo;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	set_ok(&cf, "model.dir", "/m");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.dir and model.repository: set one "
	    "of them");
	cf = repo;
	set_ok(&cf, "model.name", "x");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.name: names come from the "
	    "repository");
	/* Without a repository: no names, no explicit, no sections. */
	config_defaults(&cf);
	set_ok(&cf, "model.names", "a");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.names");
	ASSERT_STRING_CONTAINS(err, "model.repository");
	config_defaults(&cf);
	set_ok(&cf, "model.control", "explicit");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.control");
	ASSERT_STRING_CONTAINS(err, "model.repository");
	config_defaults(&cf);
	set_ok(&cf, "model.control", "none");
	set_ok(&cf, "model.versions", "3,4");	/* a policy alone is fine */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	set_ok(&cf, "model.a.threads", "1");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "[model.a] needs model.repository");
	/* With names, a section names one of them. */
	cf = repo;
	set_ok(&cf, "model.c.threads", "1");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "[model.c]: c is not in model.names");
	set_ok(&cf, "model.names", "");	/* every model: any section */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	/* Each model's queue holds one request. */
	cf = repo;
	set_ok(&cf, "model.b.queue_slots", "7");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.max_request_batch (8) is larger "
	    "than model.b.queue_slots (7)");
	set_ok(&cf, "model.b.queue_slots", "8");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	set_ok(&cf, "model.max_request_batch", "9");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.b.queue_slots");
	TEST_DONE();

	TEST_START("validate: repository fields set directly");
	cf = repo;
	cf.cf_versions.vp_latest = 0;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.versions");
	cf = repo;
	cf.cf_versions.vp_kind = CONFIG_VP_SPECIFIC;
	cf.cf_versions.vp_nversions = 2;
	cf.cf_versions.vp_versions[0] = 2;
	cf.cf_versions.vp_versions[1] = 2;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.versions");
	cf.cf_versions.vp_versions[1] = 1000000000;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	cf.cf_versions.vp_versions[1] = 3;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	cf.cf_versions.vp_kind = 2;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	cf = repo;
	cf.cf_model_control = 2;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.control");
	cf = repo;
	cf.cf_nmodel_names = CONFIG_MODELS_MAX + 1;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.names");
	cf = repo;
	snprintf(cf.cf_model_names[1], sizeof(cf.cf_model_names[1]), "a");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.names");
	cf = repo;
	cf.cf_models[0].cm_threads = 0;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.a.threads: 0 is out of range");
	cf = repo;
	cf.cf_models[0].cm_set |= CONFIG_CM_VERSIONS;	/* all zero: bad */
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "model.a.versions");
	cf = repo;
	cf.cf_models[0].cm_name[0] = '.';
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "bad model name");
	cf = repo;
	cf.cf_nmodels = CONFIG_MODELS_MAX + 1;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "[model.NAME]");
	cf = repo;
	cf.cf_models[1] = cf.cf_models[0];
	cf.cf_nmodels = 2;
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), AG_ERR_CONFIG);
	ASSERT_STRING_CONTAINS(err, "twice");
	TEST_DONE();
}

static void
test_repository_round_trip(void)
{
	struct ag_config cf, cf2;
	char err[512], name[80], key[160];

	TEST_START("repository: dump and reload, two [model.NAME] sections");
	config_defaults(&cf);
	set_ok(&cf, "model.repository", "/var/lib/aiguard/models");
	make_name(name, CONFIG_MODEL_NAME_MAX, 'z');
	snprintf(key, sizeof(key), "resnet18,r.50,%s", name);
	set_ok(&cf, "model.names", key);
	set_ok(&cf, "model.control", "explicit");
	set_ok(&cf, "model.versions", "latest:3");
	set_ok(&cf, "model.r.50.versions", "9,2,5");
	set_ok(&cf, "model.r.50.max_batch", "32");
	set_ok(&cf, "model.r.50.threads", "6");
	set_ok(&cf, "model.r.50.queue_slots", "4096");
	set_ok(&cf, "model.r.50.max_delay_us", "250");
	snprintf(key, sizeof(key), "model.%s.threads", name);
	set_ok(&cf, key, "1");
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	config_defaults(&cf2);
	err[0] = '\0';
	ASSERT_INT_EQ(dump_and_load(&cf, &cf2, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(err, "");
	ASSERT_INT_EQ(cf2.cf_nmodels, 2);
	ASSERT_INT_EQ(cf2.cf_models[1].cm_set, CONFIG_CM_THREADS);
	assert_config_eq(&cf, &cf2);
	/* Sixteen names and specific versions at their widest. */
	config_defaults(&cf);
	set_ok(&cf, "model.repository", "/r");
	set_ok(&cf, "model.names", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p");
	set_ok(&cf, "model.versions", "999999991,999999992,999999993,"
	    "999999994,999999995,999999996,999999997,999999998,999999999,"
	    "999999990,999999989,999999988,999999987,999999986,999999985,"
	    "999999984");
	set_ok(&cf, "model.p.versions", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,"
	    "15,16");
	config_defaults(&cf2);
	ASSERT_INT_EQ(dump_and_load(&cf, &cf2, err, sizeof(err)), 0);
	assert_config_eq(&cf, &cf2);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(40);
	test_defaults();
	test_round_trip();
	test_bad_values();
	test_validate();
	test_frontdoor();
	test_file_syntax();
	test_file_kinds();
	test_shipped_example();
	test_repository_keys();
	test_model_sections();
	test_validate_repository();
	test_repository_round_trip();
}
