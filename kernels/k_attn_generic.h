/*
 * k_attn_generic.h - plain attention for any head width (kernels/cuda/attention_generic.cu):
 * one warp per (sequence, query row, head), fp32 dot products and an online softmax over the
 * keys, no tensor cores. The engine uses it where the tensor-core kernels (Dh = 64) do not apply,
 * such as the test fixtures' small models; the benchmarks use it as the unfused baseline.
 */
#ifndef UZWK_ATTN_GENERIC_H
#define UZWK_ATTN_GENERIC_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* For b < Bt, query row i < Nq, head h < H (head width Dh <= 256):
 *   n_b = len ? len[b] : Nk keys of K_b = k + (kv_index ? kv_index[b] : b) * kv_stride (rows of ldk),
 *   key j allowed iff j < n_b and (causal == 0 or j <= q_offset + i);
 *   out[b*o_bstride + i*ldo + h*Dh ...] = softmax(scale * q . K_b^T) V_b.
 * q row i of batch b at q + b*q_bstride + i*ldq. len and kv_index are dev int32 [Bt] or NULL.
 * A row with no allowed key gets zeros. */
int uzwk_attention_generic(uzwk_ctx *c, const uzwk_f16 *q, int ldq, long q_bstride, const uzwk_f16 *k,
                           const uzwk_f16 *v, int ldk, long kv_stride, const int32_t *kv_index, const int32_t *len,
                           uzwk_f16 *out, int ldo, long o_bstride, int Bt, int Nq, int Nk, int H, int Dh, int causal,
                           int q_offset, float scale);

#ifdef __cplusplus
}
#endif
#endif
