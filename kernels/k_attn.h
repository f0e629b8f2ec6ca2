/*
 * k_attn.h - attention kernels (kernels/cuda/attention.cu, decode_attention.cu, kv_cache.cu).
 * Head width Dh = 64 (every Whisper model); head h of a row owns columns [h*64, h*64 + 64).
 * fp16 Q/K/V/out, fp32 scores, softmax and accumulation. CPU reference: uzw_attention_ref.
 */
#ifndef UZWK_ATTN_H
#define UZWK_ATTN_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UZWK_DH 64

/* FlashAttention-style tiled attention with online softmax on tensor cores, for many queries:
 * the encoder's self-attention (Nq = Nk = 1500), the decoder's cross-attention over a prompt, and
 * the causal self-attention of a prompt over its cache. For batch b < Bt and head h < H:
 *   out_b[i, h] = softmax_j(scale * q_b[i, h] . k_b[j, h]) v_b[j, h],  j < Nk, and with causal = 1
 *   only j <= q_offset + i.
 * q_b = q + b*q_bstride (rows of ldq), k_b/v_b = k/v + b*kv_bstride (rows of ldk; kv_bstride 0:
 * every batch shares K/V), out_b = out + b*o_bstride (rows of ldo). Strides in elements; pointers
 * 16-byte aligned and every ld/stride a multiple of 8 (else -1 with a message). */
int uzwk_flash_attention(uzwk_ctx *c, const uzwk_f16 *q, int ldq, long q_bstride, const uzwk_f16 *k,
                         const uzwk_f16 *v, int ldk, long kv_bstride, uzwk_f16 *out, int ldo, long o_bstride,
                         int Bt, int Nq, int Nk, int H, int causal, int q_offset, float scale, int variant);

/* Attention for one new query per sequence over a KV cache (decode steps), for a batch of
 * sequences of different lengths. Sequence b < B: its keys are rows 0 .. len[b]-1 of
 * K_b = k + kv_index[b] * kv_stride (rows of ldk), likewise V_b; out[b] (row of ldo) =
 * softmax(scale * q[b] . K_b^T) V_b per head. len and kv_index are dev int32 [B], read at run time
 * (graph-safe); max_len >= every len[b] sizes the grid. The keys are split into chunks of
 * `chunk` rows (0: chosen from max_len and the SM count) processed by separate blocks whose fp32
 * partial (max, sum, output) are combined by a second pass; partials live in the context's
 * scratch. len[b] == 0 gives a zero row; a len[b] above max_len is clamped to max_len. Used for
 * the self-attention cache and, with len = A, for cross-attention at decode steps. Pointers
 * 16-byte aligned, ldq/ldk/ldo and kv_stride multiples of 8 (else -1 with a message). */
int uzwk_decode_attention(uzwk_ctx *c, const uzwk_f16 *q, int ldq, const uzwk_f16 *k, const uzwk_f16 *v, int ldk,
                          long kv_stride, const int32_t *kv_index, const int32_t *len, int max_len, uzwk_f16 *out,
                          int ldo, int B, int H, float scale, int chunk, int variant);

/* Append rows to the self-attention cache: for r < R, row r of k_new/v_new ([R, ldn] f16, width D)
 * goes to row pos[r] of slot slot[r]: kc + slot[r]*slot_stride + pos[r]*D (likewise vc).
 * slot, pos: dev int32 [R]; a row with a negative slot or position is skipped. */
int uzwk_kv_append(uzwk_ctx *c, const uzwk_f16 *k_new, const uzwk_f16 *v_new, int ldn, uzwk_f16 *kc, uzwk_f16 *vc,
                   long slot_stride, const int32_t *slot, const int32_t *pos, int R, int D);

#ifdef __cplusplus
}
#endif
#endif
