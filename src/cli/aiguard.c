/* SPDX-License-Identifier: ISC */
/*
 * aiguard.c: the aiguard command: a table of subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/log.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*summary;
} commands[] = {
	{ "classify", cmd_classify,
	    "classify JPEG/PNG images with a model (top-k labels)" },
	{ "probe", cmd_probe, "attack experiment inside aiguardd's sandbox" },
	{ "keygen", cmd_keygen, "make an ECDSA key pair for signing models" },
	{ "sign", cmd_sign, "sign a model directory (OpenSSF Model Signing)" },
	{ "verify", cmd_verify, "verify a model directory's model.sig" },
	{ "deploy", cmd_deploy, "verify a model and make it a store's current "
	    "version" },
	{ "rollback", cmd_rollback, "switch a store back to the version before" },
	{ "models", cmd_models, "list a model store's versions" },
	{ "doctor", cmd_doctor, "check this host's deployment (PASS, WARN, "
	    "FAIL)" },
	{ "token", cmd_token, "add, list or revoke aiguardd's API tokens" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: aiguard COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(fp, "\n'aiguard COMMAND --help' describes a command.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("aiguard", LOG_LVL_INFO);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("aiguard %s\n", AIGUARD_VERSION);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	log_warnx("unknown command: %s", argv[1]);
	usage(stderr);
	return 2;
}
