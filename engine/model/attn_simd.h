/* attn_simd.h - SIMD versions of ops.h's attention for decode steps (attn_avx512.c). Same
 * arguments and result as uzw_attention with Nq <= UZW_ATTN_FEW_QUERIES. */
#ifndef UZW_ATTN_SIMD_H
#define UZW_ATTN_SIMD_H

void uzw_attn_few_avx512(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq, int Nk,
                         int H, int Dh, int causal, int q_offset, float *scores);
/* 1 if this build has the AVX-512 version and it handles head size Dh (1..128). */
int uzw_attn_few_avx512_supports(int Dh);

#endif
