/* SPDX-License-Identifier: ISC */
/*
 * resnet.h: the ResNet family (18, 34, 50), float32, inference only.
 *
 * The network is data: an architecture is a block type and a count of
 * blocks per stage, and everything else (layer shapes, parameter names,
 * buffer sizes) is derived from it.  Parameters carry torchvision's
 * state_dict names (conv1.weight, bn1.running_mean, layer1.0.conv1.weight,
 * ..., fc.bias), so a converted torchvision checkpoint loads unchanged.
 *
 * At build time each BatchNorm is folded into its convolution's weights and
 * bias, the weights are laid out for the kernels, and the weight memory is
 * made read-only.  Activations live in a workspace allocated once for a
 * (max batch, height, width); a forward pass allocates nothing.
 *
 * The engine does no I/O and never logs: it returns AG_ERR_* codes with a
 * message.  It generates no code at run time (no JIT), so it runs under
 * PR_SET_MDWE.
 */
#ifndef AG_RESNET_H
#define AG_RESNET_H

#include <stddef.h>
#include <stdint.h>

#define RESNET_MIN_SIDE		32
#define RESNET_MAX_SIDE		4096
#define RESNET_MAX_BATCH	256
#define RESNET_MAX_CLASSES	100000
#define RESNET_BN_EPS		1e-5

enum resnet_block_type {
	RESNET_BASIC,		/* two 3x3 convs, expansion 1 */
	RESNET_BOTTLENECK,	/* 1x1, 3x3 (strided), 1x1; expansion 4 */
};

struct resnet_arch {
	const char		*ra_name;
	enum resnet_block_type	 ra_block;
	int			 ra_blocks[4];	/* blocks per stage */
};

/* The architecture called name ("resnet18", ...), or NULL. */
const struct resnet_arch *resnet_arch_find(const char *name);
/* Comma-separated names of the known architectures (static). */
const char *resnet_arch_names(void);

enum resnet_param_kind {
	RESNET_PARAM_FLOAT,	/* a float tensor the network needs */
	RESNET_PARAM_COUNTER,	/* BatchNorm num_batches_tracked: int64
				   scalar that may be present, never used */
};

struct resnet_param {
	char			 rp_name[64];
	enum resnet_param_kind	 rp_kind;
	int			 rp_ndim;
	int64_t			 rp_shape[4];
};

/*
 * Lists the parameters of arch with num_classes outputs, in torchvision's
 * state_dict order.  *out is a new array (caller frees) of *n entries.
 */
int	resnet_params(const struct resnet_arch *arch, int num_classes,
	    struct resnet_param **out, size_t *n);

/*
 * Fills dst[0..count) with the float32 values of the parameter called name
 * (count is the product of its shape).  Returns 0 or an AG_ERR_* code with
 * a message in err.  resnet_new() calls it from all the engine's threads
 * at once (pool.h), for different names: it must not change shared state
 * without synchronisation.
 */
typedef int (*resnet_fetch_fn)(void *ctx, const char *name, float *dst,
	    size_t count, char *err, size_t errlen);

struct resnet;

/*
 * Builds the network: fetches every float parameter through fetch, folds
 * each BatchNorm into its convolution, and seals the weights read-only.
 * Refuses non-finite values and running_var + eps <= 0 (AG_ERR_NUMERIC,
 * naming the tensor); on several failures, the error is the first in
 * the network's order.  The work is spread over the engine's threads (the
 * caller must not run anything else on them meanwhile).  *out is new; free
 * with resnet_free().
 */
int	resnet_new(const struct resnet_arch *arch, int num_classes,
	    resnet_fetch_fn fetch, void *ctx, struct resnet **out, char *err,
	    size_t errlen);
void	resnet_free(struct resnet *net);

int	resnet_num_classes(const struct resnet *net);
const struct resnet_arch *resnet_get_arch(const struct resnet *net);

/*
 * Activation memory for up to max_batch images of h x w pixels, and scratch
 * for as many engine threads as are set now.
 */
struct resnet_ws;

int	resnet_ws_new(const struct resnet *net, int max_batch, int h, int w,
	    struct resnet_ws **out, char *err, size_t errlen);
void	resnet_ws_free(struct resnet_ws *ws);
/* Bytes the workspace holds. */
size_t	resnet_ws_bytes(const struct resnet_ws *ws);

/*
 * logits (n, num_classes) = net(in (n, 3, h, w)), with h, w those of ws and
 * 1 <= n <= the workspace's max_batch.  Allocates nothing.  The engine must
 * not have more threads (resnet_set_threads()) than when ws was made.
 */
int	resnet_forward(const struct resnet *net, struct resnet_ws *ws,
	    const float *in, int n, float *logits);

/*
 * Low-memory mode for the networks built from now on (default off): every
 * Winograd conv keeps its folded 3x3 weights and transforms them during
 * each pass, instead of keeping the transformed copy, which is up to 4x
 * larger.  ResNet-18's third and last stages do so anyway: the mode
 * extends it to the first two, whose weights take 7 MB instead of 2, for a
 * pass about 3-4 % slower, and keeps the stride-2 convs direct (their
 * scheme, WINO_S2, needs its transformed copy: 2.6 MB more).
 * AG_WINOGRAD_FLY in the environment still overrides.
 */
void	resnet_set_low_memory(int on);

/* Threads for the engine's matrix work; returns the number in effect. */
int	resnet_set_threads(int n);
/* Names the matrix backend ("OpenBLAS SkylakeX", "ref"). */
const char *resnet_backend(void);

#endif /* AG_RESNET_H */
