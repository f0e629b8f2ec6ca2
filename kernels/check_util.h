/*
 * check_util.h - what every kernel check and benchmark in kernels/cuda/check_*.cu shares:
 * seeded random inputs, guarded and poisoned device outputs, comparison against the CPU
 * reference with the dtype's tolerance, and the timing loop (events, L2 flush, median).
 */
#ifndef UZWK_CHECK_UTIL_H
#define UZWK_CHECK_UTIL_H

#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tolerances on ||out - ref|| / ||ref|| (docs/kernels.md "Tolerances"): fp32 outputs; fp16
 * outputs of fp32-accumulated work (output rounding is 2^-11 relative); fp16 with an fp16
 * intermediate (attention probabilities rounded before P.V). Element bounds: atol = 8 * tol *
 * rms(ref), rtol = 8 * tol. */
#define UZWK_TOL_F32 1e-5
#define UZWK_TOL_F16 2e-3
#define UZWK_TOL_F16_MIXED 4e-3

/* splitmix64 stream: uniform in [lo, hi). */
double uzwk_rand_uniform(uint64_t *state, double lo, double hi);
void uzwk_rand_f32(float *x, size_t n, uint64_t *state, float lo, float hi);
/* Random values that fp16 represents exactly: x (f32, for the reference) and h (the same bits). */
void uzwk_rand_f16(float *x, uzwk_f16 *h, size_t n, uint64_t *state, float lo, float hi);
void uzwk_f16_array_to_f32(const uzwk_f16 *h, float *x, size_t n);

/* A device buffer with UZWK_GUARD_BYTES of a known pattern on both sides and its inside poisoned
 * with 0xFF bytes (NaN in f32 and f16), so an unwritten element or a stray write shows. */
#define UZWK_GUARD_BYTES 256
typedef struct {
    unsigned char *base; /* dev, GUARD + bytes + GUARD */
    void *p;             /* dev, the usable inside */
    size_t bytes;
} uzwk_guarded;
int uzwk_guarded_new(uzwk_ctx *c, uzwk_guarded *g, size_t bytes);
/* Copy host data in (for in/out buffers such as the residual stream). */
int uzwk_guarded_upload(uzwk_ctx *c, uzwk_guarded *g, const void *src, size_t bytes);
/* Copy the inside out to host; count changed guard bytes into *guard_bad. */
int uzwk_guarded_fetch(uzwk_ctx *c, const uzwk_guarded *g, void *dst, long *guard_bad);
void uzwk_guarded_free(uzwk_guarded *g);

/* Compare out[n] with ref[n] (ref in double) and fill r (pass, rel_err, max_abs, n_bad, detail;
 * r->guard_bad is kept and makes pass 0 when non-zero). what names the output in the detail. */
void uzwk_compare(const float *out, const double *ref, size_t n, double tol, const char *what, uzwk_check_result *r);

/* Time fn(arg) with events: warm-up launches, then reps timed launches each after an L2 flush;
 * median milliseconds into *ms. fn returns 0 or -1. */
int uzwk_time_median(uzwk_ctx *c, int (*fn)(uzwk_ctx *, void *), void *arg, int reps, double *ms);

#ifdef __cplusplus
}
#endif
#endif
