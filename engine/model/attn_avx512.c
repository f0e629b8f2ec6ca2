/* attn_avx512.c - attention for decode steps (a few queries against up to 1500 keys, ops.h's
 * few-queries path) with AVX-512: per head and query, 16-wide dot products with each key, the
 * vector exp of vmath.h, and the weighted sum of the values in registers. Built with AVX-512
 * enabled; ops_cpu.c calls it when uzw_cpu_isa_detect says AVX-512 and Dh <= 128. */
#include <math.h>

#include "model/attn_simd.h"
#include "model/vmath.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#define MAX_CHUNKS 8 /* Dh <= 128 */

void uzw_attn_few_avx512(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq, int Nk,
                         int H, int Dh, int causal, int q_offset, float *scores) {
    float scale = 1.0f / sqrtf((float)Dh);
    int nc = (Dh + 15) / 16;
    __mmask16 mask[MAX_CHUNKS];
    for (int c = 0; c < nc; c++) mask[c] = Dh - 16 * c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (Dh - 16 * c)) - 1);
#pragma omp parallel for schedule(static) if ((size_t)H * Nk * Dh > 32768)
    for (int h = 0; h < H; h++)
        for (int i = 0; i < Nq; i++) {
            float *s = scores + ((size_t)h * Nq + i) * Nk;                 /* [nk] */
            const float *qi = q + (size_t)i * ldq + (size_t)h * Dh;        /* [Dh] */
            int nk = causal ? (q_offset + i + 1 < Nk ? q_offset + i + 1 : Nk) : Nk;
            __m512 qv[MAX_CHUNKS];
            for (int c = 0; c < nc; c++) qv[c] = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask[c], qi + 16 * c), _mm512_set1_ps(scale));
            float mx = -INFINITY;
            for (int j = 0; j < nk; j++) {
                const float *kj = k + (size_t)j * ldk + (size_t)h * Dh;
                __m512 acc = _mm512_mul_ps(qv[0], _mm512_maskz_loadu_ps(mask[0], kj));
                for (int c = 1; c < nc; c++) acc = _mm512_fmadd_ps(qv[c], _mm512_maskz_loadu_ps(mask[c], kj + 16 * c), acc);
                float sj = _mm512_reduce_add_ps(acc);
                s[j] = sj;
                mx = sj > mx ? sj : mx;
            }
            float inv = 1.0f / uzw_exp_shift_sum_avx512(s, nk, mx);
            __m512 ov[MAX_CHUNKS];
            for (int c = 0; c < nc; c++) ov[c] = _mm512_setzero_ps();
            for (int j = 0; j < nk; j++) {
                const float *vj = v + (size_t)j * ldk + (size_t)h * Dh;
                __m512 p = _mm512_set1_ps(s[j]);
                for (int c = 0; c < nc; c++) ov[c] = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(mask[c], vj + 16 * c), ov[c]);
            }
            float *o = out + (size_t)i * H * Dh + (size_t)h * Dh;
            for (int c = 0; c < nc; c++) _mm512_mask_storeu_ps(o + 16 * c, mask[c], _mm512_mul_ps(ov[c], _mm512_set1_ps(inv)));
        }
}

int uzw_attn_few_avx512_supports(int Dh) { return Dh >= 1 && Dh <= 16 * MAX_CHUNKS; }

#else

void uzw_attn_few_avx512(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq, int Nk,
                         int H, int Dh, int causal, int q_offset, float *scores) {
    (void)q; (void)ldq; (void)k; (void)v; (void)ldk; (void)out; (void)Nq; (void)Nk; (void)H; (void)Dh; (void)causal;
    (void)q_offset; (void)scores;
}
int uzw_attn_few_avx512_supports(int Dh) { (void)Dh; return 0; }

#endif
