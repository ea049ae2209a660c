/* SPDX-License-Identifier: ISC */
/*
 * cli.h: the aiguard command's subcommands, one file each.
 */
#ifndef AG_CLI_H
#define AG_CLI_H

#include "common/version.h"

/* Each takes the arguments after the subcommand name (argv[0] is it). */
int	cmd_classify(int argc, char **argv);
int	cmd_probe(int argc, char **argv);
int	cmd_keygen(int argc, char **argv);
int	cmd_sign(int argc, char **argv);
int	cmd_verify(int argc, char **argv);
int	cmd_deploy(int argc, char **argv);
int	cmd_rollback(int argc, char **argv);
int	cmd_models(int argc, char **argv);
int	cmd_doctor(int argc, char **argv);
int	cmd_token(int argc, char **argv);

#endif /* AG_CLI_H */
