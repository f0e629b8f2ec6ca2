/*
 * registry.h - every CUDA kernel the engine uses, listed once with the shapes and launch
 * configurations it is checked and timed at. tests/gpu/test_kernels.c runs every entry's check on
 * every shape and variant against the CPU reference; bench/bench_kernels.c times the same
 * entries; the engine calls the same launch functions (variant 0 unless docs/kernels.md says
 * otherwise).
 */
#ifndef UZWK_REGISTRY_H
#define UZWK_REGISTRY_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int pass;            /* 1: every element within tolerance, guards intact, nothing unwritten */
    double rel_err;      /* ||out - ref||_2 / ||ref||_2 */
    double max_abs;      /* worst |out - ref| */
    double tol;          /* the rel_err bound of this dtype (docs/kernels.md) */
    long n_bad;          /* elements outside atol + rtol*|ref| (non-finite counts: poison = unwritten) */
    long guard_bad;      /* guard bytes changed around the outputs */
    char detail[200];    /* first failure, human-readable */
} uzwk_check_result;

typedef struct {
    double ms;           /* median time of one launch (CUDA events, L2 flushed between reps) */
    double bytes;        /* the fewest bytes the op must move (inputs read once, outputs once) */
    double flops;        /* floating-point operations (2 per multiply-add) */
    double peer_ms;      /* the baseline's median on the same inputs (cuBLAS...), 0 if none */
    char peer[32];       /* its name */
} uzwk_bench_result;

typedef struct {
    const char *name;                  /* "layernorm" */
    const char *family;                /* the file it lives in: kernels/cuda/<family>.cu */
    const char *dtype;                 /* "f32 in, f16 out" */
    int n_shapes;
    const char *const *shapes;         /* "N=1500 D=1280" (odd sizes included) */
    int n_variants;
    const char *const *variants;       /* launch configurations; variant 0 is the engine's */
    /* Fresh random inputs from seed, the CPU reference, poisoned guarded outputs; 0 if it ran
     * (pass or fail in r), -1 on a CUDA error (message in uzwk_error). */
    int (*check)(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r);
    /* Median of reps launches at this shape; NULL if the op has no benchmark. */
    int (*bench)(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r);
} uzwk_op;

int uzwk_registry_count(void);
const uzwk_op *uzwk_registry_at(int i);            /* 0 <= i < count, family order */
const uzwk_op *uzwk_registry_find(const char *name);

/* Each family's entries (defined in kernels/cuda/check_<family>.cu). */
extern const uzwk_op uzwk_ops_mel[];    extern const int uzwk_n_ops_mel;
extern const uzwk_op uzwk_ops_elem[];   extern const int uzwk_n_ops_elem;
extern const uzwk_op uzwk_ops_gemm[];   extern const int uzwk_n_ops_gemm;
extern const uzwk_op uzwk_ops_attn[];   extern const int uzwk_n_ops_attn;
extern const uzwk_op uzwk_ops_select[]; extern const int uzwk_n_ops_select;
extern const uzwk_op uzwk_ops_qgemm[];  extern const int uzwk_n_ops_qgemm;

#ifdef __cplusplus
}
#endif
#endif
