/* gpu_attn.c - routing of the forward pass's attention calls (gpu_attn.h). */
#ifdef UZW_HAVE_CUDA

#include <math.h>

#include "gpu/gpu_attn.h"
#include "k_attn_generic.h"

int uzw_gpu_attn_many(uzwk_ctx *c, const uzwk_f16 *q, int ldq, const uzwk_f16 *k, const uzwk_f16 *v, int ldk,
                      uzwk_f16 *out, int Nq, int Nk, int H, int Dh, int causal, int q_offset) {
    float scale = 1.0f / sqrtf((float)Dh);
    int D = H * Dh;
    if (Dh == UZWK_DH)
        return uzwk_flash_attention(c, q, ldq, 0, k, v, ldk, 0, out, D, 0, 1, Nq, Nk, H, causal, q_offset, scale, 0);
    return uzwk_attention_generic(c, q, ldq, 0, k, v, ldk, 0, NULL, NULL, out, D, 0, 1, Nq, Nk, H, Dh, causal,
                                  q_offset, scale);
}

int uzw_gpu_attn_decode(uzwk_ctx *c, const uzwk_f16 *q, int ldq, const uzwk_f16 *k, const uzwk_f16 *v, int ldk,
                        long kv_stride, const int32_t *kv_index, const int32_t *len, int max_len, uzwk_f16 *out, int B,
                        int H, int Dh) {
    float scale = 1.0f / sqrtf((float)Dh);
    int D = H * Dh;
    if (Dh == UZWK_DH)
        return uzwk_decode_attention(c, q, ldq, k, v, ldk, kv_stride, kv_index, len, max_len, out, D, B, H, scale, 0, 0);
    return uzwk_attention_generic(c, q, ldq, ldq, k, v, ldk, kv_stride, kv_index, len, out, D, D, B, 1, max_len, H, Dh,
                                  0, 0, scale);
}

#endif /* UZW_HAVE_CUDA */
