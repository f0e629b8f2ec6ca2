/* ops_cpu.c - the fast CPU path: OpenBLAS sgemm/sgemv for every matmul; the element-wise loops
 * (softmax, GELU, LayerNorm, im2col) split over the same threads with OpenMP. */
#include <cblas.h>
#include <omp.h>
#include <math.h>
#include <string.h>

#include "core/util.h"
#include "model/ops.h"
#include "model/attn_simd.h"
#include "model/vmath.h"

/* Both thread pools are process-wide (OpenBLAS and OpenMP keep them so); every context sets the
 * same count before it runs, so concurrent contexts agree. */
void uzw_ops_set_threads(int n) {
    int t = n > 0 ? n : uzw_n_cpus();
    openblas_set_num_threads(t);
    omp_set_num_threads(t);
}

void uzw_linear(const float *x, const float *W, const float *b, float *y, int N, int In, int Out) {
    if (b)
        for (int n = 0; n < N; n++) memcpy(y + (size_t)n * Out, b, sizeof(float) * (size_t)Out);
    if (N == 1) /* a matrix-vector product: gemv reads W once, row by row */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Out, In, 1.0f, W, In, x, 1, b ? 1.0f : 0.0f, y, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, Out, In, 1.0f, x, In, W, In, b ? 1.0f : 0.0f, y, Out);
}

void uzw_layernorm(const float *x, const float *w, const float *b, float *y, int N, int D) {
#pragma omp parallel for if (N > 16) schedule(static)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * D;
        float *yr = y + (size_t)n * D;
        double mean = 0, var = 0;
        for (int i = 0; i < D; i++) mean += xr[i];
        mean /= D;
        for (int i = 0; i < D; i++) { double d = xr[i] - mean; var += d * d; }
        var /= D;
        float inv = (float)(1.0 / sqrt(var + 1e-5));
        float m = (float)mean;
        for (int i = 0; i < D; i++) yr[i] = (xr[i] - m) * inv * w[i] + b[i];
    }
}

void uzw_gelu(float *x, size_t n) { uzw_gelu_array(uzw_cpu_isa_detect(), x, n); }

void uzw_add(float *x, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

void uzw_conv1d_k3(const float *x, const float *W, const float *b, float *y, int Ci, int Ti, int Co, int stride,
                   float *cols) {
    int To = uzw_conv1d_k3_out(Ti, stride);
    /* cols[(ci*3 + k), t] = x[ci, t*stride + k - 1] (0 outside): then y = W[Co, Ci*3] . cols */
#pragma omp parallel for collapse(2) if ((size_t)Ci * To > 65536) schedule(static)
    for (int ci = 0; ci < Ci; ci++)
        for (int k = 0; k < 3; k++) {
            float *c = cols + ((size_t)ci * 3 + k) * To;
            const float *xr = x + (size_t)ci * Ti;
            for (int t = 0; t < To; t++) {
                int ti = t * stride + k - 1;
                c[t] = (ti >= 0 && ti < Ti) ? xr[ti] : 0.0f;
            }
        }
    for (int co = 0; co < Co; co++)
        for (int t = 0; t < To; t++) y[(size_t)co * To + t] = b ? b[co] : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Co, To, Ci * 3, 1.0f, W, Ci * 3, cols, To, 1.0f, y, To);
}

/* Decode steps (a few queries): one thread per head, dot products in registers; many tiny sgemm
 * calls would cost more in thread hand-offs than in arithmetic. */
static void attention_few_queries(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq,
                                  int Nk, int H, int Dh, int causal, int q_offset, float *scores) {
    float scale = 1.0f / sqrtf((float)Dh);
    uzw_cpu_isa isa = uzw_cpu_isa_detect();
#pragma omp parallel for if ((size_t)H * Nk * Dh > 32768) schedule(static)
    for (int h = 0; h < H; h++)
        for (int i = 0; i < Nq; i++) {
            float *s = scores + ((size_t)h * Nq + i) * Nk;
            const float *qi = q + (size_t)i * ldq + h * Dh;
            int nk = causal ? (q_offset + i + 1 < Nk ? q_offset + i + 1 : Nk) : Nk;
            float mx = -INFINITY;
            for (int j = 0; j < nk; j++) {
                const float *kj = k + (size_t)j * ldk + h * Dh;
                float acc = 0;
#pragma omp simd reduction(+ : acc)
                for (int d = 0; d < Dh; d++) acc += qi[d] * kj[d];
                s[j] = acc * scale;
                mx = s[j] > mx ? s[j] : mx;
            }
            float inv = 1.0f / uzw_exp_shift_sum(isa, s, nk, mx);
            float *o = out + (size_t)i * H * Dh + h * Dh;
            for (int d = 0; d < Dh; d++) o[d] = 0;
            for (int j = 0; j < nk; j++) {
                const float *vj = v + (size_t)j * ldk + h * Dh;
                float p = s[j] * inv;
#pragma omp simd
                for (int d = 0; d < Dh; d++) o[d] += p * vj[d];
            }
        }
}

void uzw_attention(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq, int Nk,
                   int H, int Dh, int causal, int q_offset, float *scores) {
    if (Nq <= UZW_ATTN_FEW_QUERIES) {
        if (uzw_cpu_isa_detect() == UZW_ISA_AVX512 && uzw_attn_few_avx512_supports(Dh)) {
            uzw_attn_few_avx512(q, ldq, k, v, ldk, out, Nq, Nk, H, Dh, causal, q_offset, scores);
            return;
        }
        attention_few_queries(q, ldq, k, v, ldk, out, Nq, Nk, H, Dh, causal, q_offset, scores);
        return;
    }
    float scale = 1.0f / sqrtf((float)Dh);
    int ldo = H * Dh;
    uzw_cpu_isa isa = uzw_cpu_isa_detect();
    for (int h = 0; h < H; h++) {
        /* scores[Nq, Nk] = q_h . k_h^T * scale */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Nq, Nk, Dh, scale, q + h * Dh, ldq, k + h * Dh, ldk, 0.0f,
                    scores, Nk);
#pragma omp parallel for if ((size_t)Nq * Nk > 65536) schedule(static)
        for (int i = 0; i < Nq; i++) {
            float *s = scores + (size_t)i * Nk;
            int nk = causal ? (q_offset + i + 1 < Nk ? q_offset + i + 1 : Nk) : Nk;
            float mx = -INFINITY;
            for (int j = 0; j < nk; j++) mx = s[j] > mx ? s[j] : mx;
            float inv = 1.0f / uzw_exp_shift_sum(isa, s, nk, mx);
            for (int j = 0; j < nk; j++) s[j] *= inv;
            for (int j = nk; j < Nk; j++) s[j] = 0.0f;
        }
        /* out_h[Nq, Dh] = scores . v_h */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Nq, Dh, Nk, 1.0f, scores, Nk, v + h * Dh, ldk, 0.0f,
                    out + h * Dh, ldo);
    }
}
