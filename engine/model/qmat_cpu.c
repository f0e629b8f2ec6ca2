/* qmat_cpu.c - choosing the SIMD path at run time and the product dispatch of qmat.h: f32 weights
 * go to OpenBLAS, W8A8 weights quantise their activation rows and take the integer kernels,
 * W8A16 weights take the dequantise-in-registers kernels (few rows) or widen a panel of rows at a
 * time into scratch for OpenBLAS (many rows, when the scheme is W8A16 throughout). */
#include <cblas.h>
#undef I /* OpenBLAS's cblas.h pulls in complex.h, whose I would shadow the input width below */
#include <stdlib.h>
#include <string.h>

#include "model/ops.h"
#include "model/qmat.h"

uzw_cpu_isa uzw_cpu_isa_detect(void) {
    uzw_cpu_isa best = UZW_ISA_SCALAR;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = UZW_ISA_AVX2;
    if (best == UZW_ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        best = UZW_ISA_AVX512;
#endif
    const char *e = getenv("UZW_CPU_ISA");
    if (e) {
        uzw_cpu_isa want = !strcmp(e, "scalar") ? UZW_ISA_SCALAR : !strcmp(e, "avx2") ? UZW_ISA_AVX2 : best;
        if (want < best) best = want;
    }
    return best;
}

const char *uzw_cpu_isa_name(uzw_cpu_isa isa) {
    return isa == UZW_ISA_AVX512 ? "avx512-vnni" : isa == UZW_ISA_AVX2 ? "avx2" : "scalar";
}

/* ---------------------------------------------------------------- scalar paths */

static void w8a16_scalar(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int I,
                         int O) {
#pragma omp parallel for schedule(static) if ((size_t)N * O * I > 262144)
    for (int o = 0; o < O; o++)
        for (int n = 0; n < N; n++) {
            const float *xr = x + (size_t)n * I;
            const int8_t *qr = q + (size_t)o * I;
            float acc = 0;
            for (int i = 0; i < I; i++) acc += xr[i] * (float)qr[i];
            y[(size_t)n * O + o] = acc * scale[o] + (b ? b[o] : 0.0f);
        }
}

/* The panel layout read back element by element: an independent check of the packing. */
static void w8a8_scalar(const uint8_t *qx, int ldx, const float *sx, const int8_t *pack, const float *scale,
                        const float *b, float *y, int N, int I, int O) {
    int K4 = (I + 3) / 4;
#pragma omp parallel for schedule(static) if ((size_t)N * O * I > 262144)
    for (int o = 0; o < O; o++) {
        const int8_t *panel = pack + (size_t)(o / UZW_QPANEL) * K4 * UZW_QPANEL * 4;
        for (int n = 0; n < N; n++) {
            const int8_t *xr = (const int8_t *)(qx + (size_t)n * ldx);
            int32_t acc = 0;
            for (int i = 0; i < I; i++) acc += xr[i] * panel[((size_t)(i / 4) * UZW_QPANEL + o % UZW_QPANEL) * 4 + i % 4];
            y[(size_t)n * O + o] = (float)acc * (sx[n] * scale[o]) + (b ? b[o] : 0.0f);
        }
    }
}

void uzw_w8a16_rows(uzw_cpu_isa isa, const float *x, const int8_t *q, const float *scale, const float *b, float *y,
                    int N, int I, int O) {
    if (isa == UZW_ISA_AVX512) uzw_w8a16_avx512(x, q, scale, b, y, N, I, O);
    else if (isa == UZW_ISA_AVX2) uzw_w8a16_avx2(x, q, scale, b, y, N, I, O);
    else w8a16_scalar(x, q, scale, b, y, N, I, O);
}

void uzw_w8a8_rows(uzw_cpu_isa isa, const uint8_t *qx, int ldx, const float *sx, const int8_t *pack,
                   const int32_t *qsum, const float *scale, const float *b, float *y, int N, int I, int O) {
    if (isa == UZW_ISA_AVX512) uzw_w8a8_avx512(qx, ldx, sx, pack, qsum, scale, b, y, N, I, O);
    else if (isa == UZW_ISA_AVX2) uzw_w8a8_avx2(qx, ldx, sx, pack, scale, b, y, N, I, O);
    else w8a8_scalar(qx, ldx, sx, pack, scale, b, y, N, I, O);
}

void uzw_quantize_rows(uzw_cpu_isa isa, const float *x, int N, int I, uint8_t *qx, int ldx, float *sx, int offset) {
    if (isa == UZW_ISA_AVX512) { uzw_quantize_rows_avx512(x, N, I, qx, ldx, sx, offset); return; }
    if (isa == UZW_ISA_AVX2) { uzw_quantize_rows_avx2(x, N, I, qx, ldx, sx, offset); return; }
#pragma omp parallel for schedule(static) if ((size_t)N * I > 65536)
    for (int n = 0; n < N; n++) {
        uint8_t *r = qx + (size_t)n * ldx;
        sx[n] = uzw_quantize_row(x + (size_t)n * I, I, r, offset);
        memset(r + I, offset, (size_t)(ldx - I));
    }
}

/* ---------------------------------------------------------------- dispatch */

#define QROW_ALIGN 64
#define PANEL_ROWS 256 /* rows of W widened per OpenBLAS call on the many-rows W8A16 path */
#define FEW_ROWS 8     /* up to this many rows, W8A16 dequantises in registers */

static size_t qx_stride(int I) { return ((size_t)I + QROW_ALIGN - 1) / QROW_ALIGN * QROW_ALIGN; }

size_t uzw_matmul_scratch_bytes(int N, int I) {
    size_t a8 = (size_t)N * qx_stride(I) + sizeof(float) * (size_t)N + QROW_ALIGN;
    size_t panel = sizeof(float) * (size_t)PANEL_ROWS * (size_t)I;
    return a8 > panel ? a8 : panel;
}

static void w8a16_panels(const uzw_wmat *W, const float *x, const float *b, float *y, int N, float *panel) {
    int O = W->rows, I = W->cols;
    if (b)
        for (int n = 0; n < N; n++) memcpy(y + (size_t)n * O, b, sizeof(float) * (size_t)O);
    for (int o0 = 0; o0 < O; o0 += PANEL_ROWS) {
        int P = O - o0 < PANEL_ROWS ? O - o0 : PANEL_ROWS;
#pragma omp parallel for schedule(static)
        for (int r = 0; r < P; r++) uzw_wmat_row(W, o0 + r, panel + (size_t)r * I);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, P, I, 1.0f, x, I, panel, I, b ? 1.0f : 0.0f, y + o0, O);
    }
}

void uzw_matmul(const uzw_wmat *W, const float *x, const float *b, float *y, int N, void *scratch, size_t scratch_bytes) {
    int O = W->rows, I = W->cols;
    if (W->f) { uzw_linear(x, W->f, b, y, N, I, O); return; }
    size_t ldx = qx_stride(I);
    if (W->a8 && W->pack && scratch && scratch_bytes >= (size_t)N * ldx + sizeof(float) * (size_t)N + QROW_ALIGN) {
        uint8_t *qx = scratch;
        float *sx = (float *)(qx + (size_t)N * ldx); /* ldx is a multiple of 64: aligned */
        int offset = W->isa == UZW_ISA_AVX512 ? 128 : 0;
        uzw_quantize_rows(W->isa, x, N, I, qx, (int)ldx, sx, offset);
        uzw_w8a8_rows(W->isa, qx, (int)ldx, sx, W->pack, W->qsum, W->scale, b, y, N, I, O);
        return;
    }
    if (N > FEW_ROWS && scratch && scratch_bytes >= sizeof(float) * (size_t)PANEL_ROWS * I) {
        w8a16_panels(W, x, b, y, N, scratch);
        return;
    }
    uzw_w8a16_rows(W->isa, x, W->q, W->scale, b, y, N, I, O);
}
