// check_mel.cu - the registry entry of the log-mel kernel (kernels/cuda/mel.cu): its check against
// the double-accumulated direct-DFT reference uzw_mel_compute_ref (engine/mel/mel_ref.c) and its
// benchmark.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "k_elem.h" // uzwk_fill_uniform_f32 for the bench input
#include "k_mel.h"
extern "C" {
#include "mel/mel.h" // a C header without its own extern "C" guard
}

namespace {

// Tolerance. The kernel accumulates the 400-point DFT in fp32 (199 folded terms per bin) with fp32
// twiddles; the reference accumulates in double. The absolute error of a bin, ~eps * sqrt(199) *
// (the frame's partial sums), is tiny next to loud bins but log10 turns it into
// |X|-relative error: a mel band just above the clamp (10^-8 of the loudest band) sees a relative
// power error of up to ~1e-3, i.e. ~4e-4 in log10 and ~1e-4 after the final /4. Clamped values are
// exact (max - 8, itself off by the tiny error of the maximum), loud ones are ~1e-7 off. Values are
// O(1) after the normalisation (range ~[-0.6, 1.5], rms ~0.6), so 2e-4 gives an element bound of
// 8 * 2e-4 * rms ~ 1e-3 absolute (+ 1.6e-3 relative): about 5x the worst case estimated above,
// while any indexing, window, padding or clamp mistake moves values by 1e-2 or more. A host
// emulation of the kernel's fp32 arithmetic on this test signal measured max |err| 1.0e-4 and
// rel_err ~2e-6 (M = 80 and 128, 30 s + 30 s pad), i.e. the estimate above with ~8x headroom.
// Note: the CPU reference costs ~1.6 s per 6000 frames, so the 10-minute shape takes ~15 s a check.
constexpr double MEL_TOL = 2e-4;

struct mel_shape {
    int M;
    size_t n, pad;
};
const char *const shape_names[] = {
    "M=80 n=480000 pad=480000",  // the engine's 30 s window: 6000 frames
    "M=128 n=480000 pad=480000", // large-v3's 128 bins
    "M=80 n=201 pad=0",          // the shortest input: one frame, reflected at both ends
    "M=128 n=12345 pad=0",       // n not a multiple of 160: 77 frames, the tail reflected
    "M=80 n=1 pad=400",          // one real sample, the rest logical zeros: 2 frames
    "M=80 n=3217 pad=163",       // odd sizes on both sides: 21 frames
    "M=80 n=9600037 pad=480000", // 10 minutes + 37 samples, 30 s of padding: 63000 frames
};
const mel_shape shapes[] = {
    {80, 480000, 480000}, {128, 480000, 480000}, {80, 201, 0}, {128, 12345, 0},
    {80, 1, 400},         {80, 3217, 163},       {80, 9600037, 480000},
};
constexpr int N_SHAPES = (int)(sizeof shapes / sizeof shapes[0]);
static_assert(sizeof shape_names / sizeof shape_names[0] == sizeof shapes / sizeof shapes[0], "shape lists");

const char *const variant_names[] = {
    "8 frames per 256-thread block",
    "4 frames per 256-thread block",
    "16 frames per 256-thread block",
    "1 frame per 256-thread block",
};
constexpr int N_VARIANTS = (int)(sizeof variant_names / sizeof variant_names[0]);

// A test signal with a wide dynamic range, in 0.15 s segments: a loud tone over a noise floor,
// loud noise, quiet noise, two off-bin tones with nothing else (only window leakage far from
// them, down into the clamp), and near-silence (1e-6, below the clamp: exact values).
void make_signal(float *x /* [n] */, size_t n, uint64_t *st) {
    const double two_pi = 6.283185307179586;
    for (size_t i = 0; i < n; i++) {
        const double u = uzwk_rand_uniform(st, -1.0, 1.0), t = (double)i / 16000.0;
        double v;
        switch ((i / 2400) % 5) {
        case 0: v = 0.5 * sin(two_pi * 440.0 * t) + 0.01 * u; break;
        case 1: v = 0.3 * u; break;
        case 2: v = 1e-3 * u; break;
        case 3: v = 0.2 * sin(two_pi * 3137.5 * t) + 0.25 * sin(two_pi * 97.0 * t); break;
        default: v = 1e-6 * u; break;
        }
        x[i] = (float)v;
    }
}

int check_logmel(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    memset(r, 0, sizeof *r);
    if (shape < 0 || shape >= N_SHAPES || variant < 0 || variant >= N_VARIANTS)
        return uzwk_fail(c, "logmel check: no shape %d / variant %d", shape, variant);
    const mel_shape sh = shapes[shape];
    const size_t frames = (sh.n + sh.pad) / 160, count = (size_t)sh.M * frames;
    float *pcm = (float *)malloc(sh.n * sizeof(float));                   /* [n] */
    float *filt = (float *)malloc((size_t)sh.M * 201 * sizeof(float));    /* [M, 201] */
    float *ref_f = (float *)malloc(count * sizeof(float));                /* [M, frames] */
    float *out = (float *)malloc(count * sizeof(float));                  /* [M, frames] */
    double *ref = (double *)malloc(count * sizeof(double));               /* [M, frames] */
    float *d_pcm = NULL, *d_filt = NULL;
    uzwk_guarded g_out;
    memset(&g_out, 0, sizeof g_out);
    uint64_t st = seed;
    int rc = -1;
    do {
        if (!pcm || !filt || !ref_f || !out || !ref) {
            uzwk_fail(c, "logmel check: out of host memory");
            break;
        }
        make_signal(pcm, sh.n, &st);
        uzw_mel_filters_slaney(sh.M, filt);
        if (uzw_mel_compute_ref(sh.M, filt, pcm, sh.n, sh.pad, ref_f) != 0) {
            uzwk_fail(c, "logmel check: the CPU reference failed");
            break;
        }
        for (size_t i = 0; i < count; i++) ref[i] = ref_f[i];
        d_pcm = (float *)uzwk_malloc(c, sh.n * sizeof(float));
        d_filt = (float *)uzwk_malloc(c, (size_t)sh.M * 201 * sizeof(float));
        if (!d_pcm || !d_filt) break;
        if (uzwk_h2d(c, d_pcm, pcm, sh.n * sizeof(float)) ||
            uzwk_h2d(c, d_filt, filt, (size_t)sh.M * 201 * sizeof(float)))
            break;
        if (uzwk_guarded_new(c, &g_out, count * sizeof(float))) break;
        if (uzwk_logmel(c, d_pcm, sh.n, sh.pad, d_filt, sh.M, (float *)g_out.p, variant)) break;
        long guard_bad = 0;
        if (uzwk_guarded_fetch(c, &g_out, out, &guard_bad)) break;
        r->guard_bad = guard_bad;
        uzwk_compare(out, ref, count, MEL_TOL, "log-mel", r);
        rc = 0;
    } while (0);
    uzwk_guarded_free(&g_out);
    uzwk_free(d_pcm);
    uzwk_free(d_filt);
    free(pcm);
    free(filt);
    free(ref_f);
    free(out);
    free(ref);
    return rc;
}

struct mel_bench_arg {
    const float *pcm;     /* dev [n] */
    const float *filters; /* dev [M, 201] */
    float *out;           /* dev [M, frames] */
    size_t n, pad;
    int M, variant;
};

int run_logmel(uzwk_ctx *c, void *p) {
    const mel_bench_arg *a = (const mel_bench_arg *)p;
    return uzwk_logmel(c, a->pcm, a->n, a->pad, a->filters, a->M, a->out, a->variant);
}

int bench_logmel(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    memset(r, 0, sizeof *r);
    if (shape < 0 || shape >= N_SHAPES || variant < 0 || variant >= N_VARIANTS)
        return uzwk_fail(c, "logmel bench: no shape %d / variant %d", shape, variant);
    const mel_shape sh = shapes[shape];
    const size_t frames = (sh.n + sh.pad) / 160;
    float *filt = (float *)malloc((size_t)sh.M * 201 * sizeof(float)); /* [M, 201] */
    mel_bench_arg a;
    memset(&a, 0, sizeof a);
    int rc = -1;
    do {
        if (!filt) {
            uzwk_fail(c, "logmel bench: out of host memory");
            break;
        }
        uzw_mel_filters_slaney(sh.M, filt);
        size_t nnz = 0;
        for (size_t i = 0; i < (size_t)sh.M * 201; i++) nnz += filt[i] != 0.0f;
        float *pcm = (float *)uzwk_malloc(c, sh.n * sizeof(float));
        float *fd = (float *)uzwk_malloc(c, (size_t)sh.M * 201 * sizeof(float));
        float *out = (float *)uzwk_malloc(c, (size_t)sh.M * frames * sizeof(float));
        a.pcm = pcm, a.filters = fd, a.out = out;
        if (!pcm || !fd || !out) break;
        a.n = sh.n, a.pad = sh.pad, a.M = sh.M, a.variant = variant;
        if (uzwk_fill_uniform_f32(c, pcm, sh.n, 0x6d656cull, 0.5f, 0.0f) ||
            uzwk_h2d(c, fd, filt, (size_t)sh.M * 201 * sizeof(float)))
            break;
        if (uzwk_time_median(c, run_logmel, &a, reps, &r->ms)) break;
        r->bytes = (double)sh.n * 4.0 + (double)sh.M * (double)frames * 4.0;
        // the folded DFT (201 bins x 199 pairs x 2 multiply-adds) and the sparse mel projection
        r->flops = (double)frames * (201.0 * 199.0 * 4.0 + 2.0 * (double)nnz);
        r->peer_ms = 0.0; // no peer (a cuFFT version would need its own windowing and projection kernels)
        rc = 0;
    } while (0);
    uzwk_free((void *)a.pcm);
    uzwk_free((void *)a.filters);
    uzwk_free(a.out);
    free(filt);
    return rc;
}

} // namespace

extern "C" const uzwk_op uzwk_ops_mel[] = {
    {"logmel", "mel", "f32 in, f32 out", N_SHAPES, shape_names, N_VARIANTS, variant_names, check_logmel,
     bench_logmel},
};
extern "C" const int uzwk_n_ops_mel = (int)(sizeof uzwk_ops_mel / sizeof uzwk_ops_mel[0]);
