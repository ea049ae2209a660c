/* SPDX-License-Identifier: ISC */
/*
 * daemon.h: aiguardd's three process roles.
 *
 *   parent   main.c    supervises: starts the front and the worker, restarts
 *                      them with backoff, forwards SIGHUP (reload) to the
 *                      worker, orders the shutdown on SIGTERM
 *   front    front.c   the listening socket, HTTP, JSON, image decoding;
 *                      never opens model files, never maps the weights
 *   worker   worker.c  the model and the engine, dynamic batching; never
 *                      holds a network socket
 */
#ifndef AG_DAEMON_H
#define AG_DAEMON_H

struct ag_config;

/* Exit status of a worker whose model failed to load. */
#define WORKER_EXIT_MODEL	3
/* Exit status of a front that could not listen. */
#define FRONT_EXIT_LISTEN	4

/* The worker: serves requests from sock until EOF or SIGTERM. */
int	worker_main(const struct ag_config *cf, int sock);

/*
 * The front: ctl is its link to the parent, which sends each new worker's
 * socket over it.  Returns the exit status.
 */
int	front_main(const struct ag_config *cf, int ctl);

#endif /* AG_DAEMON_H */
