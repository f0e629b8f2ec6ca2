/* ops_ref.c - plain-loop reference versions of the ops (double accumulation): the oracle. */
#include <math.h>
#include <stdlib.h>

#include "model/ops.h"

void uzw_linear_ref(const float *x, const float *W, const float *b, float *y, int N, int In, int Out) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < Out; o++) {
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < In; i++) acc += (double)x[(size_t)n * In + i] * W[(size_t)o * In + i];
            y[(size_t)n * Out + o] = (float)acc;
        }
}

void uzw_conv1d_k3_ref(const float *x, const float *W, const float *b, float *y, int Ci, int Ti, int Co, int stride) {
    int To = uzw_conv1d_k3_out(Ti, stride);
    for (int co = 0; co < Co; co++)
        for (int t = 0; t < To; t++) {
            double acc = b ? b[co] : 0.0;
            for (int ci = 0; ci < Ci; ci++)
                for (int k = 0; k < 3; k++) {
                    int ti = t * stride + k - 1;
                    if (ti < 0 || ti >= Ti) continue;
                    acc += (double)W[((size_t)co * Ci + ci) * 3 + k] * x[(size_t)ci * Ti + ti];
                }
            y[(size_t)co * To + t] = (float)acc;
        }
}

void uzw_attention_ref(const float *q, int ldq, const float *k, const float *v, int ldk, float *out, int Nq, int Nk,
                       int H, int Dh, int causal, int q_offset) {
    double *p = malloc(sizeof(double) * (size_t)(Nk > 0 ? Nk : 1));
    if (!p) return;
    double scale = 1.0 / sqrt((double)Dh);
    for (int h = 0; h < H; h++)
        for (int i = 0; i < Nq; i++) {
            int nk = causal ? (q_offset + i + 1 < Nk ? q_offset + i + 1 : Nk) : Nk;
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j < nk; j++) {
                double s = 0;
                for (int d = 0; d < Dh; d++) s += (double)q[(size_t)i * ldq + h * Dh + d] * k[(size_t)j * ldk + h * Dh + d];
                p[j] = s * scale;
                if (p[j] > mx) mx = p[j];
            }
            for (int j = 0; j < nk; j++) { p[j] = exp(p[j] - mx); sum += p[j]; }
            for (int d = 0; d < Dh; d++) {
                double acc = 0;
                for (int j = 0; j < nk; j++) acc += p[j] * v[(size_t)j * ldk + h * Dh + d];
                out[(size_t)i * H * Dh + h * Dh + d] = (float)(acc / sum);
            }
        }
    free(p);
}
