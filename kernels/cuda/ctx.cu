// ctx.cu - the backend's context (device, stream, cuBLAS handle, scratch, error buffer), device
// memory and copies, host fp16 conversion, event timers, L2 flush and graph capture (uzwk.h).
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_check.cuh"
#include "uzwk.h"

struct uzwk_ctx {
    int device;
    cudaStream_t stream;
    cublasHandle_t cublas;
    void *scratch;          /* dev [scratch_bytes] */
    size_t scratch_bytes;
    void *l2_flush;         /* dev [l2_bytes], written to evict the L2 between timed runs */
    size_t l2_bytes;
    int sm_count, cc;
    char err[512];
};

struct uzwk_timer {
    cudaEvent_t a, b;
};

struct uzwk_graph {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
};

extern "C" int uzwk_fail(uzwk_ctx *c, const char *fmt, ...) {
    if (!c) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

extern "C" const char *uzwk_error(const uzwk_ctx *c) { return c ? c->err : "no context"; }
extern "C" uzwk_stream uzwk_ctx_stream(const uzwk_ctx *c) { return (uzwk_stream)c->stream; }
extern "C" void *uzwk_ctx_cublas(const uzwk_ctx *c) { return (void *)c->cublas; }
extern "C" int uzwk_ctx_sm_count(const uzwk_ctx *c) { return c->sm_count; }
extern "C" int uzwk_ctx_cc(const uzwk_ctx *c) { return c->cc; }
extern "C" void *uzwk_ctx_scratch(const uzwk_ctx *c, size_t *bytes) {
    if (bytes) *bytes = c->scratch_bytes;
    return c->scratch;
}

extern "C" void uzwk_ctx_free(uzwk_ctx *c) {
    if (!c) return;
    cudaSetDevice(c->device);
    if (c->stream) cudaStreamSynchronize(c->stream);
    if (c->cublas) cublasDestroy(c->cublas);
    cudaFree(c->scratch);
    cudaFree(c->l2_flush);
    if (c->stream) cudaStreamDestroy(c->stream);
    cudaGetLastError();
    free(c);
}

extern "C" uzwk_ctx *uzwk_ctx_new(int device, size_t scratch_bytes, char *err, size_t err_size) {
    uzwk_ctx *c = (uzwk_ctx *)calloc(1, sizeof *c);
    cudaDeviceProp p;
    cudaError_t e;
    const char *what = "";
    if (!c) {
        if (err && err_size) snprintf(err, err_size, "uzwk_ctx_new: out of host memory");
        return NULL;
    }
    c->device = device;
    /* Not UZWK_CUDA_TRY: there is no context to report into yet, so a failure goes to err through
     * the clean-up at fail (which frees the half-built context). */
#define NEW_TRY(call)                                                                                        \
    do {                                                                                                     \
        e = (call);                                                                                          \
        if (e != cudaSuccess) {                                                                              \
            what = #call;                                                                                    \
            goto fail;                                                                                       \
        }                                                                                                    \
    } while (0)
    NEW_TRY(cudaSetDevice(device));
    NEW_TRY(cudaGetDeviceProperties(&p, device));
    c->sm_count = p.multiProcessorCount;
    c->cc = p.major * 10 + p.minor;
    c->l2_bytes = p.l2CacheSize > 0 ? (size_t)p.l2CacheSize * 2 : (size_t)64 << 20;
    NEW_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    if (scratch_bytes) NEW_TRY(cudaMalloc(&c->scratch, scratch_bytes));
    c->scratch_bytes = scratch_bytes;
    NEW_TRY(cudaMalloc(&c->l2_flush, c->l2_bytes));
#undef NEW_TRY
    if (cublasCreate(&c->cublas) != CUBLAS_STATUS_SUCCESS) {
        if (err && err_size) snprintf(err, err_size, "cublasCreate failed on device %d", device);
        uzwk_ctx_free(c);
        return NULL;
    }
    if (cublasSetStream(c->cublas, c->stream) != CUBLAS_STATUS_SUCCESS) {
        if (err && err_size) snprintf(err, err_size, "cublasSetStream failed");
        uzwk_ctx_free(c);
        return NULL;
    }
    return c;
fail:
    if (err && err_size) snprintf(err, err_size, "%s: %s", what, cudaGetErrorString(e));
    cudaGetLastError();
    uzwk_ctx_free(c);
    return NULL;
}

extern "C" void *uzwk_malloc(uzwk_ctx *c, size_t bytes) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        cudaGetLastError();
        uzwk_fail(c, "cudaMalloc(%zu bytes): %s", bytes, cudaGetErrorString(e));
        return NULL;
    }
    return p;
}

extern "C" void uzwk_free(void *p) {
    if (p) cudaFree(p);
}

extern "C" int uzwk_h2d(uzwk_ctx *c, void *dst, const void *src, size_t bytes) {
    UZWK_CUDA_TRY(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    UZWK_CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    return 0;
}

extern "C" int uzwk_d2h(uzwk_ctx *c, void *dst, const void *src, size_t bytes) {
    UZWK_CUDA_TRY(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
    UZWK_CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    return 0;
}

extern "C" int uzwk_d2d(uzwk_ctx *c, void *dst, const void *src, size_t bytes) {
    UZWK_CUDA_TRY(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, c->stream));
    return 0;
}

extern "C" int uzwk_memset(uzwk_ctx *c, void *dst, int byte, size_t bytes) {
    UZWK_CUDA_TRY(c, cudaMemsetAsync(dst, byte, bytes, c->stream));
    return 0;
}

extern "C" int uzwk_sync(uzwk_ctx *c) {
    UZWK_CUDA_TRY(c, cudaStreamSynchronize(c->stream));
    UZWK_CUDA_TRY(c, cudaGetLastError());
    return 0;
}

extern "C" int uzwk_mem_used(uzwk_ctx *c, size_t *used, size_t *total) {
    size_t f = 0, t = 0;
    UZWK_CUDA_TRY(c, cudaMemGetInfo(&f, &t));
    if (used) *used = t - f;
    if (total) *total = t;
    return 0;
}

extern "C" uzwk_f16 uzwk_f32_to_f16_host(float x) {
    __half_raw r = __half_raw(__float2half_rn(x));
    return r.x;
}

extern "C" float uzwk_f16_to_f32_host(uzwk_f16 bits) {
    __half_raw r;
    r.x = bits;
    return __half2float(__half(r));
}

extern "C" uzwk_timer *uzwk_timer_new(uzwk_ctx *c) {
    uzwk_timer *t = (uzwk_timer *)calloc(1, sizeof *t);
    if (!t) {
        uzwk_fail(c, "uzwk_timer_new: out of host memory");
        return NULL;
    }
    if (cudaEventCreate(&t->a) != cudaSuccess || cudaEventCreate(&t->b) != cudaSuccess) {
        cudaGetLastError();
        uzwk_fail(c, "cudaEventCreate failed");
        free(t);
        return NULL;
    }
    return t;
}

extern "C" void uzwk_timer_free(uzwk_timer *t) {
    if (!t) return;
    cudaEventDestroy(t->a);
    cudaEventDestroy(t->b);
    free(t);
}

extern "C" int uzwk_timer_start(uzwk_ctx *c, uzwk_timer *t) {
    UZWK_CUDA_TRY(c, cudaEventRecord(t->a, c->stream));
    return 0;
}

extern "C" int uzwk_timer_stop(uzwk_ctx *c, uzwk_timer *t, float *ms) {
    UZWK_CUDA_TRY(c, cudaEventRecord(t->b, c->stream));
    UZWK_CUDA_TRY(c, cudaEventSynchronize(t->b));
    UZWK_CUDA_TRY(c, cudaEventElapsedTime(ms, t->a, t->b));
    return 0;
}

extern "C" int uzwk_flush_l2(uzwk_ctx *c) {
    /* a write of twice the L2 size evicts whatever the timed kernel would have found there */
    UZWK_CUDA_TRY(c, cudaMemsetAsync(c->l2_flush, 0x5a, c->l2_bytes, c->stream));
    return 0;
}

extern "C" int uzwk_graph_begin(uzwk_ctx *c) {
    UZWK_CUDA_TRY(c, cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
    return 0;
}

extern "C" uzwk_graph *uzwk_graph_end(uzwk_ctx *c) {
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(c->stream, &g);
    if (e != cudaSuccess) {
        cudaGetLastError();
        uzwk_fail(c, "cudaStreamEndCapture: %s (a launch inside the capture failed or synchronised)",
                  cudaGetErrorString(e));
        if (g) cudaGraphDestroy(g);
        return NULL;
    }
    uzwk_graph *out = (uzwk_graph *)calloc(1, sizeof *out);
    if (!out) {
        cudaGraphDestroy(g);
        uzwk_fail(c, "uzwk_graph_end: out of host memory");
        return NULL;
    }
    out->graph = g;
    e = cudaGraphInstantiate(&out->exec, g, 0);
    if (e != cudaSuccess) {
        cudaGetLastError();
        uzwk_fail(c, "cudaGraphInstantiate: %s", cudaGetErrorString(e));
        cudaGraphDestroy(g);
        free(out);
        return NULL;
    }
    return out;
}

extern "C" int uzwk_graph_launch(uzwk_ctx *c, uzwk_graph *g) {
    UZWK_CUDA_TRY(c, cudaGraphLaunch(g->exec, c->stream));
    return 0;
}

extern "C" void uzwk_graph_free(uzwk_graph *g) {
    if (!g) return;
    if (g->exec) cudaGraphExecDestroy(g->exec);
    if (g->graph) cudaGraphDestroy(g->graph);
    free(g);
}
