/*
 * k_elem.h - LayerNorm and element-wise kernels (kernels/cuda/elem.cu). The residual stream is
 * fp32 [N, D]; everything a matmul reads is fp16. CPU references: engine/model/ops_ref.c and the
 * plain loops in kernels/cuda/check_elem.cu.
 */
#ifndef UZWK_ELEM_H
#define UZWK_ELEM_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y[N,D] f16 = LayerNorm(x[N,D] f32) * w[D] + b[D]; eps 1e-5, fp32 statistics (mean first, then
 * the centred variance). All dev. */
int uzwk_layernorm(uzwk_ctx *c, const float *x, const float *w, const float *b, uzwk_f16 *y, int N, int D,
                   int variant);
/* x[N,D] f32 += r[N,D] f16 (+ bias[D] f32 if not NULL); then, if y is not NULL, y[N,D] f16 =
 * LayerNorm(x) * w + b. The fused residual add of the cuBLAS path (whose matmul writes r). */
int uzwk_add_layernorm(uzwk_ctx *c, float *x, const uzwk_f16 *r, const float *bias, const float *w,
                       const float *b, uzwk_f16 *y, int N, int D, int variant);
/* y[N,F] f16 = GELU(y + bias[F]) in place, exact erf form (bias may be NULL). */
int uzwk_bias_gelu(uzwk_ctx *c, uzwk_f16 *y, const float *bias, int N, int F, int variant);
/* Conversions, n elements, dev to dev. */
int uzwk_f32_to_f16(uzwk_ctx *c, const float *x, uzwk_f16 *y, size_t n);
int uzwk_f16_to_f32(uzwk_ctx *c, const uzwk_f16 *x, float *y, size_t n);
/* x[n,D] f32 = tok_emb[tokens[i], :] + pos_emb[positions[i], :] (tables f16 [V,D] and [T,D];
 * tokens, positions dev int32 [n], read at run time so a captured graph can change them). */
int uzwk_embed(uzwk_ctx *c, const int32_t *tokens, const int32_t *positions, const uzwk_f16 *tok_emb,
               const uzwk_f16 *pos_emb, float *x, int n, int D);
/* The same with an INT8 token table (docs/quantization.md): tok_q int8 [V,D] row-major, tok_scale
 * f32 [V]; x[i,:] = f32(tok_q[t,:] * tok_scale[t]) + pos_emb[p,:] with t = tokens[i], p = positions[i],
 * the product rounded to f32 and then the sum (the CPU's uzw_wmat_row and its add, bit for bit on
 * the same f16 positions). All dev. */
int uzwk_embed_i8(uzwk_ctx *c, const int32_t *tokens, const int32_t *positions, const int8_t *tok_q,
                  const float *tok_scale, const uzwk_f16 *pos_emb, float *x, int n, int D);
/* x[N,D] f32 = h[N,D] f16 + pos[N,D] f32 (the encoder's sinusoid table). */
int uzwk_add_pos(uzwk_ctx *c, const uzwk_f16 *h, const float *pos, float *x, int N, int D);
/* Deterministic uniform values in [-scale, scale] from (seed, index) (random weights for the
 * shape benchmarks; the same seed gives the same values on any launch configuration). */
int uzwk_fill_uniform_f16(uzwk_ctx *c, uzwk_f16 *x, size_t n, uint64_t seed, float scale);
int uzwk_fill_uniform_f32(uzwk_ctx *c, float *x, size_t n, uint64_t seed, float scale, float offset);
/* int8 values round(127 * u) in [-127, 127] from the same (seed, index) stream (random INT8 weights). */
int uzwk_fill_uniform_i8(uzwk_ctx *c, int8_t *x, size_t n, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
