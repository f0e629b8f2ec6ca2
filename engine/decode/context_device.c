/* context_device.c - choosing the device a context's forward pass runs on (uzw_context_set_device):
 * the CPU reference, or the CUDA backend with the weights uploaded once and the activations and
 * KV cache rebuilt whenever the number of decoding sequences grows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/context.h"
#ifdef UZW_HAVE_CUDA
#include "cuda_api.h"
#include "gpu/gpu.h"
#endif

/* Scratch of the CUDA context: split-K partials of decode attention and cuBLAS temporaries. */
#define UZW_GPU_SCRATCH_BYTES ((size_t)64 << 20)

static void release_gpu(uzw_context *ctx) {
#ifdef UZW_HAVE_CUDA
    ctx->st.gpu = NULL;
    if (ctx->gstate) uzw_gpu_state_free(ctx->gstate);
    free(ctx->gstate);
    if (ctx->gmodel) uzw_gpu_model_free(ctx->gmodel);
    free(ctx->gmodel);
    uzwk_ctx_free(ctx->kctx);
#endif
    ctx->gstate = NULL;
    ctx->gmodel = NULL;
    ctx->kctx = NULL;
}

uzw_status uzw_ctx_attach_gpu_state(uzw_context *ctx) {
    ctx->st.gpu = NULL;
    ctx->st.gpu_failed = 0;
    ctx->st.gpu_err[0] = 0;
    if (!ctx->kctx) return UZW_OK;
#ifdef UZW_HAVE_CUDA
    if (ctx->gstate) uzw_gpu_state_free(ctx->gstate);
    else if (!(ctx->gstate = calloc(1, sizeof *ctx->gstate))) return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    char err[256];
    if (uzw_gpu_state_init(ctx->gstate, ctx->kctx, ctx->gmodel, ctx->st.n_seq_max, err, sizeof err) != 0) {
        free(ctx->gstate);
        ctx->gstate = NULL;
        return uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "%s", err);
    }
    ctx->st.gpu = ctx->gstate;
#endif
    return UZW_OK;
}

uzw_status uzw_context_device_memory(uzw_context *ctx, size_t *used, size_t *total) {
    if (!ctx || !used || !total) return UZW_ERR_INVALID_ARG;
    *used = *total = 0;
#ifdef UZW_HAVE_CUDA
    if (ctx->kctx && uzwk_mem_used(ctx->kctx, used, total) == 0) return UZW_OK;
#endif
    return UZW_ERR_DEVICE;
}

const char *uzw_context_device(const uzw_context *ctx) {
    if (!ctx) return "";
    return ctx->device[0] ? ctx->device : "cpu";
}

uzw_status uzw_context_set_device(uzw_context *ctx, const char *device) {
    if (!ctx || !device) return UZW_ERR_INVALID_ARG;
    int index = 0;
    if (!strcmp(device, "cpu")) {
        release_gpu(ctx);
        snprintf(ctx->device, sizeof ctx->device, "cpu");
        ctx->st.gpu_failed = 0;
        return UZW_OK;
    }
    if (strcmp(device, "cuda") != 0) {
        char tail;
        if (sscanf(device, "cuda:%d%c", &index, &tail) != 1 || index < 0)
            return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "unknown device '%s' (cpu, cuda or cuda:N)", device);
    }
#ifndef UZW_HAVE_CUDA
    return uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "device '%s': this build has no CUDA backend (nvcc was not found when it was configured)",
                        device);
#else
    char err[256] = "";
    int n = uzw_cuda_device_count(err, sizeof err);
    if (index >= n)
        return uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "device '%s': %d CUDA device%s found%s%s", device, n, n == 1 ? "" : "s",
                            err[0] ? ": " : "", err);
    release_gpu(ctx);
    ctx->kctx = uzwk_ctx_new(index, UZW_GPU_SCRATCH_BYTES, err, sizeof err);
    if (!ctx->kctx) return uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "device '%s': %s", device, err);
    ctx->gmodel = calloc(1, sizeof *ctx->gmodel);
    if (!ctx->gmodel) {
        release_gpu(ctx);
        return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    }
    if (uzw_gpu_model_upload(ctx->kctx, ctx->m, ctx->gmodel, err, sizeof err) != 0) {
        free(ctx->gmodel);
        ctx->gmodel = NULL;
        release_gpu(ctx);
        return uzw_ctx_fail(ctx, UZW_ERR_DEVICE, "device '%s': %s", device, err);
    }
    uzw_status st = uzw_ctx_attach_gpu_state(ctx);
    if (st != UZW_OK) {
        release_gpu(ctx);
        return st;
    }
    snprintf(ctx->device, sizeof ctx->device, "cuda:%d", index);
    return UZW_OK;
#endif
}
