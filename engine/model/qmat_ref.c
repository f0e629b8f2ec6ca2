/* qmat_ref.c - INT8 quantisation rules, validation, W8A8 panel packing and the plain-loop
 * references of both products (qmat.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/qmat.h"

/* Round to nearest, ties to even, clamped to [-127, 127]. */
static inline int q8(float v) {
    float r = nearbyintf(v);
    return r > 127.0f ? 127 : r < -127.0f ? -127 : (int)r;
}

void uzw_quantize_matrix(const float *w, int O, int I, int8_t *q, float *scale) {
    for (int o = 0; o < O; o++) {
        const float *wr = w + (size_t)o * I;
        float amax = 0;
        for (int i = 0; i < I; i++) amax = fabsf(wr[i]) > amax ? fabsf(wr[i]) : amax;
        float inv = amax > 0 ? 127.0f / amax : 0.0f;
        for (int i = 0; i < I; i++) q[(size_t)o * I + i] = (int8_t)q8(wr[i] * inv);
        scale[o] = amax / 127.0f;
    }
}

float uzw_quantize_row(const float *x, int I, uint8_t *qx, int offset) {
    float amax = 0;
    for (int i = 0; i < I; i++) amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
    float inv = amax > 0 ? 127.0f / amax : 0.0f;
    for (int i = 0; i < I; i++) qx[i] = (uint8_t)(q8(x[i] * inv) + offset);
    return amax / 127.0f;
}

int uzw_qmat_validate(const int8_t *q, const float *scale, int O, int I, const char *name, char *err, size_t es) {
    for (int o = 0; o < O; o++)
        if (!isfinite(scale[o]) || scale[o] < 0)
            return uzw_errf(err, es, "tensor '%s.scale'[%d] = %g: int8 scales must be finite and >= 0", name, o,
                            (double)scale[o]);
    size_t n = (size_t)O * I;
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad |= q[i] == -128;
    if (bad) {
        size_t i = 0;
        while (q[i] != -128) i++;
        return uzw_errf(err, es, "tensor '%s'[%zu, %zu] = -128: int8 weights must lie in [-127, 127] (symmetric)", name,
                        i / (size_t)I, i % (size_t)I);
    }
    return 0;
}

void uzw_qmat_pack(const int8_t *q, int O, int I, int8_t *pack, int32_t *qsum) {
    int K4 = (I + 3) / 4;
    memset(pack, 0, uzw_qpack_bytes(O, I));
    for (int o = 0; o < O; o++) {
        const int8_t *qr = q + (size_t)o * I;
        int32_t s = 0;
        int8_t *panel = pack + (size_t)(o / UZW_QPANEL) * K4 * UZW_QPANEL * 4;
        for (int i = 0; i < I; i++) {
            panel[((size_t)(i / 4) * UZW_QPANEL + o % UZW_QPANEL) * 4 + i % 4] = qr[i];
            s += qr[i];
        }
        qsum[o] = s;
    }
}

void uzw_matmul_w8a16_ref(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int I,
                          int O) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double acc = 0;
            for (int i = 0; i < I; i++) acc += (double)x[(size_t)n * I + i] * q[(size_t)o * I + i];
            y[(size_t)n * O + o] = (float)(acc * scale[o] + (b ? b[o] : 0.0));
        }
}

void uzw_matmul_w8a8_ref(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int I,
                         int O) {
    uint8_t *qx = malloc((size_t)I);
    if (!qx) return; /* references run in tests only; a failed allocation leaves y untouched */
    for (int n = 0; n < N; n++) {
        float sx = uzw_quantize_row(x + (size_t)n * I, I, qx, 0);
        for (int o = 0; o < O; o++) {
            int64_t acc = 0;
            for (int i = 0; i < I; i++) acc += (int64_t)(int8_t)qx[i] * q[(size_t)o * I + i];
            y[(size_t)n * O + o] = (float)((double)acc * sx * scale[o] + (b ? b[o] : 0.0));
        }
    }
    free(qx);
}

void uzw_wmat_row(const uzw_wmat *W, int r, float *out) {
    if (W->f) {
        memcpy(out, W->f + (size_t)r * W->cols, sizeof(float) * (size_t)W->cols);
        return;
    }
    const int8_t *qr = W->q + (size_t)r * W->cols;
    float s = W->scale[r];
    for (int i = 0; i < W->cols; i++) out[i] = qr[i] * s;
}
