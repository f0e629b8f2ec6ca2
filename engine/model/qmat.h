/*
 * qmat.h - weight matrices as the forward pass sees them: f32, or INT8 with one scale per output
 * row, and the CPU products with them (docs/quantization.md).
 *
 *   W8A16  INT8 weights, float activations: each weight is widened in registers and multiplied
 *          by the f32 activation; the memory-bound decoder products (few rows).
 *   W8A8   INT8 weights and INT8 activations with a dynamic scale per activation row (token):
 *          integer dot products (AVX-512 VNNI vpdpbusd, or AVX2 vpmaddubsw) accumulated in int32,
 *          scaled once at the end; the compute-bound encoder products (1500 rows).
 *
 * Quantisation is symmetric: w[o, i] = q[o, i] * scale[o] with q in [-127, 127] (never -128) and
 * scale[o] = max_i |w[o, i]| / 127; an activation row x[n, :] becomes qx[n, i] * sx[n] the same way.
 * Rounding is to nearest, ties to even, of x * (127 / amax).
 *
 * Each product exists as a plain-loop reference (uzw_*_ref, the oracle for the SIMD paths here
 * and for the CUDA kernels) and as SIMD paths chosen at run time (uzw_cpu_isa_detect).
 */
#ifndef UZW_QMAT_H
#define UZW_QMAT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    UZW_ISA_SCALAR = 0, /* plain C (any x86-64 or other CPU) */
    UZW_ISA_AVX2 = 1,   /* AVX2 + FMA */
    UZW_ISA_AVX512 = 2  /* AVX-512 F/BW/VL + VNNI */
} uzw_cpu_isa;

/* The best path this CPU runs; UZW_CPU_ISA=scalar|avx2|avx512 in the environment lowers it (never
 * raises it past what the CPU has). */
uzw_cpu_isa uzw_cpu_isa_detect(void);
const char *uzw_cpu_isa_name(uzw_cpu_isa isa);

/* Panels of the W8A8 SIMD kernels: 16 output rows by 4 inputs per 64-byte group,
 * pack[ob][kb][16][4] with element (o, i) at ((o/16 * K4 + i/4) * 16 + o%16) * 4 + i%4,
 * K4 = ceil(I/4); rows past O and inputs past I are zero. */
#define UZW_QPANEL 16
static inline size_t uzw_qpack_bytes(int Out, int In) {
    return (size_t)((Out + UZW_QPANEL - 1) / UZW_QPANEL) * UZW_QPANEL * (size_t)(((In + 3) / 4) * 4);
}

typedef struct {
    const float *f;       /* [O, I] f32 (a float model), or NULL                         */
    const int8_t *q;      /* [O, I] int8 row-major (in the mapped file), or NULL           */
    const float *scale;   /* [O]    w[o, i] = q[o, i] * scale[o]                          */
    const int8_t *pack;   /* W8A8 only: panels as above [uzw_qpack_bytes(O, I)]           */
    const int32_t *qsum;  /* W8A8 only: [O] sum_i q[o, i] (the VNNI offset correction)    */
    int rows, cols;       /* O outputs, I inputs                                           */
    int a8;               /* 1: products use int8 activations (W8A8)                       */
    uzw_cpu_isa isa;      /* the SIMD path the products take                               */
} uzw_wmat;

/* ---------------------------------------------------------------- quantisation */

/* q[O, I], scale[O] from w[O, I] (the quantiser's rule, above). A zero row gets scale 0. */
void uzw_quantize_matrix(const float *w, int Out, int In, int8_t *q, float *scale);

/* One activation row: qx[I] and its scale; returns the scale (0 for a zero row, all qx = 0).
 * offset 0 stores int8 q; offset 128 stores uint8 q + 128 (the VNNI operand). */
float uzw_quantize_row(const float *x, int In, uint8_t *qx, int offset);

/* Check an int8 tensor: every scale finite and >= 0, no q = -128. 0, or -1 with a message. */
int uzw_qmat_validate(const int8_t *q, const float *scale, int Out, int In, const char *name, char *err, size_t es);

/* Build pack[] and qsum[] for the W8A8 kernels. */
void uzw_qmat_pack(const int8_t *q, int Out, int In, int8_t *pack, int32_t *qsum);

/* ---------------------------------------------------------------- products */

/* y[N, O] = x[N, I] . W^T + b[O] (b may be NULL), with whatever W holds. scratch: bytes the fast
 * paths may use (uzw_matmul_scratch_bytes); with less, they take a slower path that needs none. */
void uzw_matmul(const uzw_wmat *W, const float *x, const float *b, float *y, int N, void *scratch, size_t scratch_bytes);
size_t uzw_matmul_scratch_bytes(int N, int In);

/* The references: plain loops, double accumulation. W8A16: y = sum_i x[n,i] * q[o,i] * scale[o] + b.
 * W8A8: each row of x quantised by uzw_quantize_row, y = sx[n] * scale[o] * sum_i qx[n,i] q[o,i] + b. */
void uzw_matmul_w8a16_ref(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int In,
                          int Out);
void uzw_matmul_w8a8_ref(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int In,
                         int Out);

/* The SIMD paths, exported so that tests can run each ISA on one machine. W8A16 on row-major q;
 * W8A8 on pack/qsum with activation rows already quantised (qx [N, ldx] with ldx >= 4*ceil(I/4),
 * offset 128 for AVX512, 0 for AVX2 and SCALAR; sx [N]). */
void uzw_w8a16_rows(uzw_cpu_isa isa, const float *x, const int8_t *q, const float *scale, const float *b, float *y,
                    int N, int In, int Out);
void uzw_w8a8_rows(uzw_cpu_isa isa, const uint8_t *qx, int ldx, const float *sx, const int8_t *pack,
                   const int32_t *qsum, const float *scale, const float *b, float *y, int N, int In, int Out);

/* Rows x[N, I] into qx [N, ldx] (bytes I..ldx-1 of each row set to offset) and sx [N], each row as
 * uzw_quantize_row does it, bit for bit, on every ISA. */
void uzw_quantize_rows(uzw_cpu_isa isa, const float *x, int N, int In, uint8_t *qx, int ldx, float *sx, int offset);

/* Per-ISA kernels (qmat_avx2.c, qmat_avx512.c); callers go through the functions above. */
void uzw_quantize_rows_avx2(const float *x, int N, int In, uint8_t *qx, int ldx, float *sx, int offset);
void uzw_quantize_rows_avx512(const float *x, int N, int In, uint8_t *qx, int ldx, float *sx, int offset);
void uzw_w8a16_avx2(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int In, int Out);
void uzw_w8a16_avx512(const float *x, const int8_t *q, const float *scale, const float *b, float *y, int N, int In,
                      int Out);
void uzw_w8a8_avx2(const uint8_t *qx, int ldx, const float *sx, const int8_t *pack, const float *scale,
                   const float *b, float *y, int N, int In, int Out);
void uzw_w8a8_avx512(const uint8_t *qx, int ldx, const float *sx, const int8_t *pack, const int32_t *qsum,
                     const float *scale, const float *b, float *y, int N, int In, int Out);

/* Row r of W widened to f32 (embedding lookups). */
void uzw_wmat_row(const uzw_wmat *W, int r, float *out);

#endif
