// ceilings.cu - the two hardware ceilings every benchmark is stated against, measured in the same
// run: device-memory bandwidth (large device-to-device copies) and the fp16 tensor-core rate
// (large cuBLAS products on random data; zeros would run faster than real data).
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdlib.h>

#include "k_elem.h"
#include "uzwk.h"

static int cmp_f(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

#define REPS 15

/* Median of REPS timings of launch(c, a, b, n) after 3 warm-ups. */
static int median_ms(uzwk_ctx *c, int (*launch)(uzwk_ctx *, void *, void *, size_t), void *a, void *b, size_t n,
                     float *ms) {
    float t[REPS];
    uzwk_timer *tm = uzwk_timer_new(c);
    if (!tm) return -1;
    for (int i = 0; i < 3; i++)
        if (launch(c, a, b, n)) goto fail;
    for (int i = 0; i < REPS; i++)
        if (uzwk_timer_start(c, tm) || launch(c, a, b, n) || uzwk_timer_stop(c, tm, &t[i])) goto fail;
    qsort(t, REPS, sizeof(float), cmp_f);
    *ms = t[REPS / 2];
    uzwk_timer_free(tm);
    return 0;
fail:
    uzwk_timer_free(tm);
    return -1;
}

static int copy_launch(uzwk_ctx *c, void *dst, void *src, size_t bytes) { return uzwk_d2d(c, dst, src, bytes); }

extern "C" int uzwk_measure_bandwidth(uzwk_ctx *c, size_t bytes, double *gb_per_s) {
    void *a = uzwk_malloc(c, bytes), *b = a ? uzwk_malloc(c, bytes) : NULL;
    float ms = 0;
    int rc = -1;
    if (!a || !b) goto done;
    if (uzwk_fill_uniform_f16(c, (uzwk_f16 *)a, bytes / 2, 1, 1.0f)) goto done;
    if (median_ms(c, copy_launch, b, a, bytes, &ms)) goto done;
    *gb_per_s = 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
    rc = 0;
done:
    uzwk_free(a);
    uzwk_free(b);
    return rc;
}

static int gemm_launch(uzwk_ctx *c, void *ab, void *cc, size_t n) {
    const __half *A = (const __half *)ab, *B = A + n * n;
    float one = 1.0f, zero = 0.0f;
    cublasStatus_t s = cublasGemmEx((cublasHandle_t)uzwk_ctx_cublas(c), CUBLAS_OP_T, CUBLAS_OP_N, (int)n, (int)n, (int)n,
                                    &one, A, CUDA_R_16F, (int)n, B, CUDA_R_16F, (int)n, &zero, cc, CUDA_R_16F, (int)n,
                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS) return uzwk_fail(c, "cublasGemmEx: status %d (%s:%d)", (int)s, __FILE__, __LINE__);
    return 0;
}

extern "C" int uzwk_measure_tflops(uzwk_ctx *c, int n, double *tflops) {
    size_t nn = (size_t)n * n;
    uzwk_f16 *ab = (uzwk_f16 *)uzwk_malloc(c, 2 * nn * sizeof(uzwk_f16));
    uzwk_f16 *out = ab ? (uzwk_f16 *)uzwk_malloc(c, nn * sizeof(uzwk_f16)) : NULL;
    float ms = 0;
    int rc = -1;
    if (!ab || !out) goto done;
    if (uzwk_fill_uniform_f16(c, ab, 2 * nn, 7, 1.0f)) goto done;
    if (median_ms(c, gemm_launch, ab, out, (size_t)n, &ms)) goto done;
    *tflops = 2.0 * (double)n * n * n / (ms * 1e-3) / 1e12;
    rc = 0;
done:
    uzwk_free(ab);
    uzwk_free(out);
    return rc;
}
