/* word_align.c - from the alignment heads' cross-attention scores to token start times: softmax over
 * frames, z-normalisation over tokens, median filter, mean over heads, DTW (word_timing.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/word_timing.h"

static void sort_small(float *v, int n) {
    for (int i = 1; i < n; i++) {
        float x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j--; }
        v[j + 1] = x;
    }
}

void uzw_median_filter(const float *x, float *y, int rows, int n, int width) {
    int rank = width / 2;
    if (n <= rank || width < 1 || width > 63) {
        if (y != x) memcpy(y, x, sizeof(float) * (size_t)rows * (size_t)n);
        return;
    }
    float win[64];
    for (int r = 0; r < rows; r++) {
        const float *in = x + (size_t)r * n;
        float *out = y + (size_t)r * n;
        for (int j = 0; j < n; j++) {
            for (int k = -rank; k <= rank; k++) {
                int at = abs(j + k);          /* reflect at the left edge ... */
                if (at >= n) at = 2 * n - at - 2; /* ... and at the right edge (no repeat of the edge) */
                win[k + rank] = in[at];
            }
            sort_small(win, width);
            out[j] = win[rank];
        }
    }
}

int uzw_negative_dtw(const float *x, int n, int m, int32_t *pi, int32_t *pj) {
    size_t W = (size_t)m + 1;
    float *cost = malloc(sizeof(float) * ((size_t)n + 1) * W);       /* [n+1, m+1] */
    signed char *trace = malloc(((size_t)n + 1) * W);                  /* [n+1, m+1] */
    if (!cost || !trace) { free(cost); free(trace); return -1; }
    for (size_t k = 0; k < ((size_t)n + 1) * W; k++) { cost[k] = INFINITY; trace[k] = -1; }
    cost[0] = 0;
    for (int j = 1; j <= m; j++)
        for (int i = 1; i <= n; i++) {
            float c0 = cost[(size_t)(i - 1) * W + j - 1], c1 = cost[(size_t)(i - 1) * W + j], c2 = cost[(size_t)i * W + j - 1];
            float c;
            int t;
            if (c0 < c1 && c0 < c2) { c = c0; t = 0; }
            else if (c1 < c0 && c1 < c2) { c = c1; t = 1; }
            else { c = c2; t = 2; }
            cost[(size_t)i * W + j] = -x[(size_t)(i - 1) * m + (j - 1)] + c;
            trace[(size_t)i * W + j] = (signed char)t;
        }
    /* the borders lead back to the origin */
    for (int k = 0; k <= m; k++) trace[k] = 2;
    for (int k = 0; k <= n; k++) trace[(size_t)k * W] = 1;
    int len = 0, i = n, j = m;
    while (i > 0 || j > 0) {
        pi[len] = i - 1;
        pj[len] = j - 1;
        len++;
        int t = trace[(size_t)i * W + j];
        if (t == 0) { i--; j--; }
        else if (t == 1) i--;
        else j--;
    }
    for (int a = 0, b = len - 1; a < b; a++, b--) {
        int32_t ti = pi[a], tj = pj[a];
        pi[a] = pi[b]; pj[a] = pj[b];
        pi[b] = ti; pj[b] = tj;
    }
    free(cost);
    free(trace);
    return len;
}

int uzw_alignment_weights(const float *qk, int n_heads, int ld_rows, int n_tok, int A, int F, int width, float *w) {
    size_t plane = (size_t)n_tok * F;
    float *p = malloc(sizeof(float) * plane), *med = malloc(sizeof(float) * plane); /* [n_tok, F] each */
    if (!p || !med) { free(p); free(med); return -1; }
    memset(w, 0, sizeof(float) * plane);
    for (int h = 0; h < n_heads; h++) {
        /* softmax over the first F frames */
        for (int r = 0; r < n_tok; r++) {
            const float *s = qk + ((size_t)h * ld_rows + r) * A;
            float *o = p + (size_t)r * F, mx = -INFINITY, sum = 0;
            for (int f = 0; f < F; f++) mx = s[f] > mx ? s[f] : mx;
            for (int f = 0; f < F; f++) { o[f] = expf(s[f] - mx); sum += o[f]; }
            for (int f = 0; f < F; f++) o[f] /= sum;
        }
        /* z-normalise each frame over the tokens (population std, no epsilon) */
        for (int f = 0; f < F; f++) {
            double mean = 0, var = 0;
            for (int r = 0; r < n_tok; r++) mean += p[(size_t)r * F + f];
            mean /= n_tok;
            for (int r = 0; r < n_tok; r++) { double d = p[(size_t)r * F + f] - mean; var += d * d; }
            float mu = (float)mean, sd = (float)sqrt(var / n_tok);
            for (int r = 0; r < n_tok; r++) p[(size_t)r * F + f] = (p[(size_t)r * F + f] - mu) / sd;
        }
        uzw_median_filter(p, med, n_tok, F, width);
        for (size_t k = 0; k < plane; k++) w[k] += med[k];
    }
    for (size_t k = 0; k < plane; k++) w[k] /= (float)n_heads;
    free(p);
    free(med);
    return 0;
}

int uzw_jump_times(const float *w, int n, int m, double *jump_times) {
    int32_t *pi = malloc(sizeof(int32_t) * ((size_t)n + m)), *pj = malloc(sizeof(int32_t) * ((size_t)n + m));
    int len = pi && pj ? uzw_negative_dtw(w, n, m, pi, pj) : -1;
    int nj = 0;
    for (int k = 0; k < len; k++)
        if ((k == 0 || pi[k] != pi[k - 1]) && nj < n) jump_times[nj++] = pj[k] / 50.0;
    free(pi);
    free(pj);
    return len < 0 ? -1 : nj;
}
