/* SPDX-License-Identifier: ISC */
/*
 * test_config.c: aiguardd's configuration: defaults, config_set() on good
 * and bad values, the INI loader's errors (with file and line), the
 * cross-field checks, and the dump / reload round trip, including the
 * shipped etc/aiguardd.conf.
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
	/* The example names every key: anything not reset shows here. */
	err[0] = '\0';
	ASSERT_INT_EQ(config_load_file(&cf, path, err, sizeof(err)), 0);
	ASSERT_STRING_EQ(err, "");
	assert_config_eq(&cf, &def);
	ASSERT_INT_EQ(config_validate(&cf, err, sizeof(err)), 0);
	TEST_DONE();
}

void
tests(void)
{
	test_plan(29);
	test_defaults();
	test_round_trip();
	test_bad_values();
	test_validate();
	test_frontdoor();
	test_file_syntax();
	test_file_kinds();
	test_shipped_example();
}
