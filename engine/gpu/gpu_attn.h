/* gpu_attn.h - the forward pass's two attention shapes, each routed to the tensor-core kernel when
 * the head width is 64 (every Whisper model) and to the plain kernel otherwise (test fixtures). */
#ifndef UZW_GPU_ATTN_H
#define UZW_GPU_ATTN_H
#ifdef UZW_HAVE_CUDA

#include "gpu/gpu.h"

/* Many queries of one sequence: out[Nq, D] (rows of D) over Nk keys. */
int uzw_gpu_attn_many(uzwk_ctx *c, const uzwk_f16 *q, int ldq, const uzwk_f16 *k, const uzwk_f16 *v, int ldk,
                      uzwk_f16 *out, int Nq, int Nk, int H, int Dh, int causal, int q_offset);
/* One query per sequence b < B: q [B, ldq], keys of K + kv_index[b]*kv_stride, len[b] of them
 * (dev int32), max_len bounding every len; out [B, D]. */
int uzw_gpu_attn_decode(uzwk_ctx *c, const uzwk_f16 *q, int ldq, const uzwk_f16 *k, const uzwk_f16 *v, int ldk,
                        long kv_stride, const int32_t *kv_index, const int32_t *len, int max_len, uzwk_f16 *out, int B,
                        int H, int Dh);

#endif
#endif
