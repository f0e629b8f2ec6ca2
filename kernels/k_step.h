/*
 * k_step.h - small integer kernels of the decode loop (kernels/cuda/step.cu): they keep the
 * per-sequence bookkeeping (positions, lengths, slots) on the device so a captured step graph
 * reads it at run time.
 */
#ifndef UZWK_STEP_H
#define UZWK_STEP_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[i] = a[i] + add, i < n (dev int32; out may equal a). */
int uzwk_i32_add(uzwk_ctx *c, const int32_t *a, int32_t add, int32_t *out, int n);
/* out[i] = first + step * i, i < n (dev int32). */
int uzwk_i32_iota(uzwk_ctx *c, int32_t *out, int32_t first, int32_t step, int n);

#ifdef __cplusplus
}
#endif
#endif
