// check_attn.cu - registry entries of the attention family (registry.h): "flash_attention"
// (attention.cu), "decode_attention" (decode_attention.cu) and "kv_append" (kv_cache.cu), each with
// its check against a CPU reference and its benchmark.
//
// References are plain double loops over the fp16-exact inputs widened to f32 (softmax with max
// subtraction), in the header's own terms (strides, batches, kv_index, len), so they also check
// the indexing. Tolerances:
//   flash_attention   UZWK_TOL_F16_MIXED: P is rounded to f16 before P.V on the tensor cores.
//                     The largest shapes are checked on every 3rd query row (rows i % 3 == 0 and
//                     the last; 3 is prime to the 16-row warp tiles, so every fragment row of
//                     every warp is covered); every other row must still be finite, and the
//                     padding columns of a padded output (ldo > H*64) must keep their poison.
//   decode_attention  UZWK_TOL_F16: scores, P and the output accumulate in fp32, only the output
//                     is rounded. Cache rows at or past len[b] (and unused slots) hold NaN, so a
//                     read past the sequence shows up as a non-finite output.
//   kv_append         exact (tol 0): a copy; the whole cache is compared bit for bit, so a stray
//                     or missing row shows.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vector>

#include "check_util.h"
#include "k_attn.h"

namespace {

/* ---------------------------------------------------------------- shared helpers */

/* Device memory freed on scope exit. */
struct DevBuf {
    void *p = nullptr;
    DevBuf() = default;
    DevBuf(const DevBuf &) = delete;
    DevBuf &operator=(const DevBuf &) = delete;
    ~DevBuf() {
        if (p) uzwk_free(p);
    }
};
struct GuardBuf {
    uzwk_guarded g;
    bool live = false;
    GuardBuf() { memset(&g, 0, sizeof g); }
    GuardBuf(const GuardBuf &) = delete;
    GuardBuf &operator=(const GuardBuf &) = delete;
    ~GuardBuf() {
        if (live) uzwk_guarded_free(&g);
    }
};

int dev_upload(uzwk_ctx *c, DevBuf &d, const void *src, size_t bytes) {
    d.p = uzwk_malloc(c, bytes ? bytes : 16);
    if (!d.p) return -1;
    return bytes ? uzwk_h2d(c, d.p, src, bytes) : 0;
}
int guard_new(uzwk_ctx *c, GuardBuf &g, size_t bytes) {
    if (uzwk_guarded_new(c, &g.g, bytes)) return -1;
    g.live = true;
    return 0;
}

/* Clear r; -1 with "<what>: no shape N" or "<what>: no variant N" when out of range (n_variants 0:
 * the launch function checks the variant itself). */
template <class R>
int start(uzwk_ctx *c, R *r, const char *what, int shape, int n_shapes, int variant, int n_variants) {
    memset(r, 0, sizeof *r);
    if (shape < 0 || shape >= n_shapes) return uzwk_fail(c, "%s: no shape %d", what, shape);
    if (n_variants > 0 && (variant < 0 || variant >= n_variants))
        return uzwk_fail(c, "%s: no variant %d", what, variant);
    return 0;
}

/* Every op's launch: LAUNCH(c, setup, out, variant) with out the op's device output. */
template <class Setup>
using launch_fn = int (*)(uzwk_ctx *, const Setup &, void *, int);

/* Run LAUNCH into a fresh guarded output of n halves (holding init, or the poison when init is
 * NULL) and fetch it into ho; guard damage into r->guard_bad. */
template <class Setup, launch_fn<Setup> LAUNCH>
int run_guarded(uzwk_ctx *c, const Setup &f, int variant, size_t n, const uzwk_f16 *init, std::vector<uzwk_f16> &ho,
                uzwk_check_result *r) {
    GuardBuf g;
    if (guard_new(c, g, n * sizeof(uzwk_f16))) return -1;
    if (init && uzwk_guarded_upload(c, &g.g, init, n * sizeof(uzwk_f16))) return -1;
    if (LAUNCH(c, f, g.g.p, variant)) return -1;
    ho.resize(n);
    return uzwk_guarded_fetch(c, &g.g, ho.data(), &r->guard_bad);
}

/* Median milliseconds of reps LAUNCH(c, f, out, variant) into *ms (uzwk_time_median). */
template <class Setup, launch_fn<Setup> LAUNCH>
int time_launch(uzwk_ctx *c, const Setup &f, void *out, int variant, int reps, double *ms) {
    struct Arg {
        const Setup *f;
        void *out;
        int variant;
    } a = {&f, out, variant};
    int (*fn)(uzwk_ctx *, void *) = [](uzwk_ctx *cc, void *p) {
        const Arg *x = (const Arg *)p;
        return LAUNCH(cc, *x->f, x->out, x->variant);
    };
    return uzwk_time_median(c, fn, &a, reps, ms);
}

/* f16 bits -> f32 for every pattern (the host helper, tabulated once per check). */
struct F16Table {
    std::vector<float> t;
    F16Table() : t(65536) {
        for (uint32_t i = 0; i < 65536; ++i) t[i] = uzwk_f16_to_f32_host((uzwk_f16)i);
    }
    float operator()(uzwk_f16 h) const { return t[h]; }
};

int rand_int(uint64_t *st, int lo, int hi) { /* uniform in [lo, hi] */
    int x = lo + (int)floor(uzwk_rand_uniform(st, 0.0, (double)(hi - lo + 1)));
    return x > hi ? hi : x;
}

void shuffle(std::vector<int32_t> &a, uint64_t *st) {
    for (int i = (int)a.size() - 1; i > 0; --i) {
        int j = rand_int(st, 0, i);
        int32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Softmax attention of one query row over n keys, in double: out[64]. */
void attend_ref(const float *qrow, const float *K, const float *V, long ldk, int n, double scale, double *out,
                std::vector<double> &s) {
    for (int d = 0; d < UZWK_DH; ++d) out[d] = 0;
    if (n <= 0) return;
    s.resize((size_t)n);
    double mx = -INFINITY;
    for (int j = 0; j < n; ++j) {
        const float *kr = K + (long)j * ldk;
        double x = 0;
        for (int d = 0; d < UZWK_DH; ++d) x += (double)qrow[d] * kr[d];
        s[j] = x * scale;
        if (s[j] > mx) mx = s[j];
    }
    double sum = 0;
    for (int j = 0; j < n; ++j) {
        s[j] = exp(s[j] - mx);
        sum += s[j];
    }
    for (int j = 0; j < n; ++j) {
        const float *vr = V + (long)j * ldk;
        const double p = s[j] / sum;
        for (int d = 0; d < UZWK_DH; ++d) out[d] += p * vr[d];
    }
}

const float k_scale = 0.125f; /* Dh^-1/2, as Whisper */

/* ---------------------------------------------------------------- flash_attention */

enum { L_SEP, L_QKV, L_KV, L_PAD };
/* L_SEP: q [Bt, Nq, D]; k, v separate [Bkv, Nk, D].
 * L_QKV: one fused buffer [Bt, N, 3D] (q | k | v), ldq = ldk = 3D (the encoder's projection).
 * L_KV:  q [Bt, Nq, D]; fused kv [Bkv, Nk, 2D] (k | v), ldk = 2D (cross-attention's projection).
 * L_PAD: like L_SEP with ldq = D+8, ldk = D+16 and ldo = D+8 (padded rows).
 * Bkv = 1 with kv_shared (kv_bstride = 0), Bt otherwise. Out [Bt, Nq, ldo], ldo = D but in L_PAD. */
struct FlashShape {
    int Bt, Nq, Nk, H, causal, q_offset, kv_shared, layout;
};
const FlashShape k_flash_shapes[] = {
    {1, 1500, 1500, 6, 0, 0, 0, L_QKV}, {1, 1500, 1500, 20, 0, 0, 0, L_QKV}, {1, 37, 101, 3, 0, 0, 0, L_PAD},
    {1, 5, 9, 6, 1, 4, 0, L_SEP},       {1, 70, 70, 6, 1, 0, 0, L_QKV},      {1, 4, 1500, 20, 0, 0, 0, L_KV},
    {3, 37, 1500, 6, 0, 0, 1, L_KV},    {3, 70, 101, 6, 0, 0, 0, L_SEP},     {2, 19, 83, 6, 1, 64, 0, L_PAD},
};
const char *const k_flash_shape_names[] = {
    "Bt=1 Nq=Nk=1500 H=6 (encoder self-attention, fused qkv)",
    "Bt=1 Nq=Nk=1500 H=20 (encoder self-attention, fused qkv)",
    "Bt=1 Nq=37 Nk=101 H=3 (odd, padded ldq/ldk/ldo)",
    "Bt=1 Nq=5 Nk=9 H=6 causal q_offset=4 (prompt over its cache)",
    "Bt=1 Nq=Nk=70 H=6 causal q_offset=0 (fused qkv)",
    "Bt=1 Nq=4 Nk=1500 H=20 (cross-attention of a prompt, fused kv)",
    "Bt=3 Nq=37 Nk=1500 H=6 kv_bstride=0 (batched, shared K/V)",
    "Bt=3 Nq=70 Nk=101 H=6 (batched, own K/V)",
    "Bt=2 Nq=19 Nk=83 H=6 causal q_offset=64 (batched, padded)",
};
constexpr int N_FLASH_SHAPES = (int)(sizeof k_flash_shapes / sizeof k_flash_shapes[0]);
static_assert(sizeof k_flash_shape_names / sizeof k_flash_shape_names[0] == N_FLASH_SHAPES, "flash shape names");
const char *const k_flash_variants[] = {
    "64 query rows (4 warps) x 64-key tiles",
    "128 query rows (8 warps) x 64-key tiles",
    "64 query rows (4 warps) x 32-key tiles",
    "128 query rows (8 warps) x 32-key tiles",
};

/* Inputs of one flash shape on host and device. qb holds q (and k, v in L_QKV); kb holds k and v
 * otherwise. Offsets in elements. */
struct FlashSetup {
    FlashShape s;
    int D, Bkv, ldq, ldk, ldo;
    long qbs, kvbs, obs;
    long q_off, k_off, v_off;
    bool kv_in_qb;
    std::vector<uzwk_f16> hq, hk; /* f16 bits */
    std::vector<float> fq, fk;    /* the same values */
    DevBuf dq, dk;
};

int flash_setup(uzwk_ctx *c, FlashSetup &f, int shape, uint64_t seed) {
    const FlashShape &s = k_flash_shapes[shape];
    f.s = s;
    f.D = s.H * UZWK_DH;
    const int D = f.D;
    f.Bkv = s.kv_shared ? 1 : s.Bt;
    f.kv_in_qb = s.layout == L_QKV;
    f.ldo = s.layout == L_PAD ? D + 8 : D;
    f.obs = (long)s.Nq * f.ldo;
    size_t nq = 0, nk = 0;
    switch (s.layout) {
    case L_QKV:
        f.ldq = f.ldk = 3 * D;
        f.qbs = f.kvbs = (long)s.Nq * 3 * D;
        f.q_off = 0, f.k_off = D, f.v_off = 2 * D;
        nq = (size_t)s.Bt * f.qbs;
        break;
    case L_KV:
        f.ldq = D, f.ldk = 2 * D;
        f.qbs = (long)s.Nq * D;
        f.kvbs = s.kv_shared ? 0 : (long)s.Nk * 2 * D;
        f.q_off = 0, f.k_off = 0, f.v_off = D;
        nq = (size_t)s.Bt * f.qbs;
        nk = (size_t)f.Bkv * s.Nk * 2 * D;
        break;
    default: /* L_SEP, L_PAD: k region then v region of kb */
        f.ldq = s.layout == L_PAD ? D + 8 : D;
        f.ldk = s.layout == L_PAD ? D + 16 : D;
        f.qbs = (long)s.Nq * f.ldq;
        f.kvbs = s.kv_shared ? 0 : (long)s.Nk * f.ldk;
        f.q_off = 0, f.k_off = 0, f.v_off = (long)f.Bkv * s.Nk * f.ldk;
        nq = (size_t)s.Bt * f.qbs;
        nk = 2 * (size_t)f.Bkv * s.Nk * f.ldk;
        break;
    }
    uint64_t st = seed ^ 0xF1A5A77E17104ull;
    f.hq.resize(nq);
    f.fq.resize(nq);
    f.hk.resize(nk);
    f.fk.resize(nk);
    /* q and k in [-2, 2] (scaled scores of a few units: a softmax that is neither flat nor one-hot),
     * v in [-1, 1]; the L_QKV buffer takes [-2, 2] throughout. */
    uzwk_rand_f16(f.fq.data(), f.hq.data(), nq, &st, -2.f, 2.f);
    if (nk) {
        uzwk_rand_f16(f.fk.data(), f.hk.data(), nk, &st, -2.f, 2.f);
        for (size_t i = 0; i < nk; ++i) /* make the v part [-1, 1] (re-widened: halving a subnormal rounds) */
            if (s.layout == L_KV ? (i % (2 * D)) >= (size_t)D : i >= (size_t)f.v_off) {
                f.hk[i] = uzwk_f32_to_f16_host(f.fk[i] * 0.5f);
                f.fk[i] = uzwk_f16_to_f32_host(f.hk[i]);
            }
    }
    if (dev_upload(c, f.dq, f.hq.data(), nq * sizeof(uzwk_f16))) return -1;
    if (nk && dev_upload(c, f.dk, f.hk.data(), nk * sizeof(uzwk_f16))) return -1;
    return 0;
}

int flash_launch(uzwk_ctx *c, const FlashSetup &f, void *out, int variant) {
    const uzwk_f16 *qb = (const uzwk_f16 *)f.dq.p;
    const uzwk_f16 *kb = f.kv_in_qb ? qb : (const uzwk_f16 *)f.dk.p;
    return uzwk_flash_attention(c, qb + f.q_off, f.ldq, f.qbs, kb + f.k_off, kb + f.v_off, f.ldk, f.kvbs,
                                (uzwk_f16 *)out, f.ldo, f.obs, f.s.Bt, f.s.Nq, f.s.Nk, f.s.H, f.s.causal, f.s.q_offset,
                                k_scale, variant);
}

int check_flash(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    if (start(c, r, "check flash_attention", shape, N_FLASH_SHAPES, variant, 0)) return -1;
    FlashSetup f;
    if (flash_setup(c, f, shape, seed)) return -1;
    const FlashShape &s = f.s;
    const int D = f.D;
    std::vector<uzwk_f16> ho;
    if (run_guarded<FlashSetup, flash_launch>(c, f, variant, (size_t)s.Bt * f.obs, NULL, ho, r)) return -1;

    /* padding columns of the output rows must still hold the poison */
    for (int b = 0; b < s.Bt; ++b)
        for (int i = 0; i < s.Nq; ++i)
            for (int col = D; col < f.ldo; ++col)
                if (ho[(size_t)b * f.obs + (size_t)i * f.ldo + col] != 0xFFFFu) r->guard_bad += 2;

    /* rows with a reference */
    const double cost = (double)s.Bt * s.H * s.Nq * s.Nk;
    const int stride = cost > 1.6e7 ? (int)ceil(cost / 1.6e7) : 1;
    std::vector<int> rows;
    for (int i = 0; i < s.Nq; ++i)
        if (i % stride == 0 || i == s.Nq - 1) rows.push_back(i);

    const float *Q = f.fq.data();
    const float *KB = f.kv_in_qb ? f.fq.data() : f.fk.data();
    std::vector<double> ref(rows.size() * (size_t)s.Bt * D);
    std::vector<float> got(ref.size());
    std::vector<double> sc;
    size_t at = 0;
    for (int b = 0; b < s.Bt; ++b)
        for (int i : rows)
            for (int h = 0; h < s.H; ++h, at += UZWK_DH) {
                const float *qrow = Q + f.q_off + b * f.qbs + (long)i * f.ldq + h * UZWK_DH;
                const float *K = KB + f.k_off + b * f.kvbs + h * UZWK_DH;
                const float *V = KB + f.v_off + b * f.kvbs + h * UZWK_DH;
                int n = s.Nk;
                if (s.causal && s.q_offset + i + 1 < n) n = s.q_offset + i + 1;
                attend_ref(qrow, K, V, f.ldk, n, k_scale, &ref[at], sc);
                const uzwk_f16 *orow = &ho[(size_t)b * f.obs + (size_t)i * f.ldo + h * UZWK_DH];
                for (int d = 0; d < UZWK_DH; ++d) got[at + d] = uzwk_f16_to_f32_host(orow[d]);
            }
    uzwk_compare(got.data(), ref.data(), ref.size(), UZWK_TOL_F16_MIXED, "out", r);

    /* every row without a reference must still be written and finite */
    if (stride > 1) {
        long nonfinite = 0;
        for (int b = 0; b < s.Bt; ++b)
            for (int i = 0; i < s.Nq; ++i)
                for (int col = 0; col < D; ++col)
                    if (!isfinite(uzwk_f16_to_f32_host(ho[(size_t)b * f.obs + (size_t)i * f.ldo + col]))) ++nonfinite;
        if (nonfinite) {
            r->pass = 0;
            r->n_bad += nonfinite;
            snprintf(r->detail, sizeof r->detail, "out: %ld non-finite (unwritten?) elements", nonfinite);
        } else if (r->pass) {
            size_t len = strlen(r->detail);
            snprintf(r->detail + len, sizeof r->detail - len, " (every %d-th row; all rows finite)", stride);
        }
    }
    return 0;
}

int bench_flash(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    if (start(c, r, "bench flash_attention", shape, N_FLASH_SHAPES, variant, 0)) return -1;
    FlashSetup f;
    if (flash_setup(c, f, shape, 1)) return -1;
    const FlashShape &s = f.s;
    DevBuf out;
    out.p = uzwk_malloc(c, (size_t)s.Bt * f.obs * sizeof(uzwk_f16));
    if (!out.p) return -1;
    if (time_launch<FlashSetup, flash_launch>(c, f, out.p, variant, reps, &r->ms)) return -1;
    /* (query, key) pairs that take part: all, or the causal triangle */
    double pairs = 0;
    for (int i = 0; i < s.Nq; ++i) {
        int n = s.Nk;
        if (s.causal && s.q_offset + i + 1 < n) n = s.q_offset + i + 1;
        pairs += n;
    }
    r->flops = 4.0 * s.Bt * s.H * pairs * UZWK_DH;
    r->bytes = 2.0 * ((double)s.Bt * s.Nq * f.D * 2 /* q, out */ + (double)f.Bkv * s.Nk * f.D * 2 /* k, v */);
    return 0; /* no peer (r->peer_ms 0, r->peer "": cleared by start) */
}

/* ---------------------------------------------------------------- decode_attention */

/* Self-attention cache: S = B + 3 slots of T = 448 rows, K and V separate [S, T, D], kv_stride = T*D,
 * ldk = D, slots permuted (kv_index), lens random in 1..448 (sequence 1: len 1, sequence 2: 448,
 * sequence 3 of B = 32: len 0), max_len = 448. Cross: one fused kv [1500, 2D] (ldk = 2D),
 * kv_index all 0 and kv_stride 0, len 1500. q [B, 3D] (ldq = 3D, the fused projection), out [B, D]. */
struct DecShape {
    int B, H, cross;
};
const DecShape k_dec_shapes[] = {
    {1, 6, 0}, {8, 6, 0}, {8, 20, 0}, {32, 6, 0}, {32, 20, 0}, {1, 6, 1}, {8, 20, 1}, {32, 6, 1},
};
const char *const k_dec_shape_names[] = {
    "B=1 H=6 self cache, len random 1..448",
    "B=8 H=6 self cache, lens random 1..448 (one 1, one 448), slots permuted",
    "B=8 H=20 self cache, lens random 1..448 (one 1, one 448), slots permuted",
    "B=32 H=6 self cache, lens random 1..448 (one 1, one 448, one 0), slots permuted",
    "B=32 H=20 self cache, lens random 1..448 (one 1, one 448, one 0), slots permuted",
    "B=1 H=6 cross, len 1500, kv_index 0",
    "B=8 H=20 cross, len 1500, kv_index 0",
    "B=32 H=6 cross, len 1500, kv_index 0",
};
constexpr int N_DEC_SHAPES = (int)(sizeof k_dec_shapes / sizeof k_dec_shapes[0]);
static_assert(sizeof k_dec_shape_names / sizeof k_dec_shape_names[0] == N_DEC_SHAPES, "decode shape names");
const char *const k_dec_variants[] = {
    "4 warps, chunk auto", "2 warps, chunk auto", "4 warps, chunk 64",
    "4 warps, chunk 256",  "2 warps, chunk 64",   "4 warps, one chunk (single pass)",
};
constexpr int N_DEC_VARIANTS = (int)(sizeof k_dec_variants / sizeof k_dec_variants[0]);
const int k_dec_variant_warps[N_DEC_VARIANTS] = {0, 1, 0, 0, 1, 0}; /* the launch's variant */
const int k_dec_variant_chunk[N_DEC_VARIANTS] = {0, 0, 64, 256, 64, -1}; /* -1: max_len */

constexpr int DEC_T = 448, DEC_A = 1500;

struct DecSetup {
    DecShape s;
    int D, ldq, ldk, max_len;
    long kv_stride, v_off;
    std::vector<uzwk_f16> hq, hkv; /* q [B, 3D]; cache: K then V (self) or fused kv (cross) */
    std::vector<int32_t> kv_index, len;
    DevBuf dq, dkv, dindex, dlen;
};

int dec_setup(uzwk_ctx *c, DecSetup &f, int shape, uint64_t seed) {
    const DecShape &s = k_dec_shapes[shape];
    f.s = s;
    const int D = f.D = s.H * UZWK_DH;
    f.ldq = 3 * D;
    uint64_t st = seed ^ 0xDEC0DE5EED5ull;
    f.hq.resize((size_t)s.B * f.ldq);
    uzwk_rand_f16(NULL, f.hq.data(), f.hq.size(), &st, -2.f, 2.f);
    f.kv_index.assign((size_t)s.B, 0);
    f.len.assign((size_t)s.B, 0);
    if (s.cross) {
        f.ldk = 2 * D;
        f.kv_stride = 0; /* as the engine: every sequence reads the one cross K/V */
        f.v_off = D;
        f.max_len = DEC_A;
        f.hkv.resize((size_t)DEC_A * 2 * D);
        for (size_t r = 0; r < (size_t)DEC_A; ++r) {
            uzwk_rand_f16(NULL, &f.hkv[r * 2 * D], (size_t)D, &st, -2.f, 2.f);
            uzwk_rand_f16(NULL, &f.hkv[r * 2 * D + D], (size_t)D, &st, -1.f, 1.f);
        }
        for (int b = 0; b < s.B; ++b) f.len[b] = DEC_A;
    } else {
        const int S = s.B + 3;
        f.ldk = D;
        f.kv_stride = (long)DEC_T * D;
        f.v_off = (long)S * DEC_T * D;
        f.max_len = DEC_T;
        std::vector<int32_t> perm((size_t)S);
        for (int i = 0; i < S; ++i) perm[i] = i;
        shuffle(perm, &st);
        for (int b = 0; b < s.B; ++b) {
            f.kv_index[b] = perm[b];
            f.len[b] = rand_int(&st, 1, DEC_T);
        }
        if (s.B > 2) f.len[1] = 1, f.len[2] = DEC_T;
        if (s.B >= 32) f.len[3] = 0;
        /* NaN everywhere but the rows a sequence owns */
        f.hkv.assign(2 * (size_t)f.v_off, (uzwk_f16)0xFFFFu);
        for (int b = 0; b < s.B; ++b) {
            const size_t base = (size_t)f.kv_index[b] * f.kv_stride, n = (size_t)f.len[b] * D;
            uzwk_rand_f16(NULL, &f.hkv[base], n, &st, -2.f, 2.f);
            uzwk_rand_f16(NULL, &f.hkv[f.v_off + base], n, &st, -1.f, 1.f);
        }
    }
    if (dev_upload(c, f.dq, f.hq.data(), f.hq.size() * sizeof(uzwk_f16)) ||
        dev_upload(c, f.dkv, f.hkv.data(), f.hkv.size() * sizeof(uzwk_f16)) ||
        dev_upload(c, f.dindex, f.kv_index.data(), f.kv_index.size() * sizeof(int32_t)) ||
        dev_upload(c, f.dlen, f.len.data(), f.len.size() * sizeof(int32_t)))
        return -1;
    return 0;
}

int dec_launch(uzwk_ctx *c, const DecSetup &f, void *out, int variant) {
    const uzwk_f16 *kv = (const uzwk_f16 *)f.dkv.p;
    const int chunk = k_dec_variant_chunk[variant] < 0 ? f.max_len : k_dec_variant_chunk[variant];
    return uzwk_decode_attention(c, (const uzwk_f16 *)f.dq.p, f.ldq, kv, kv + f.v_off, f.ldk, f.kv_stride,
                                 (const int32_t *)f.dindex.p, (const int32_t *)f.dlen.p, f.max_len, (uzwk_f16 *)out,
                                 f.D, f.s.B, f.s.H, k_scale, chunk, k_dec_variant_warps[variant]);
}

int check_decode(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    if (start(c, r, "check decode_attention", shape, N_DEC_SHAPES, variant, N_DEC_VARIANTS)) return -1;
    DecSetup f;
    if (dec_setup(c, f, shape, seed)) return -1;
    const int B = f.s.B, H = f.s.H, D = f.D;
    std::vector<uzwk_f16> ho;
    if (run_guarded<DecSetup, dec_launch>(c, f, variant, (size_t)B * D, NULL, ho, r)) return -1;

    F16Table tab;
    std::vector<float> qf(UZWK_DH), kf, vf;
    std::vector<double> ref((size_t)B * D), sc;
    std::vector<float> got((size_t)B * D);
    for (int b = 0; b < B; ++b) {
        const int n = f.len[b];
        const size_t base = (size_t)f.kv_index[b] * f.kv_stride;
        for (int h = 0; h < H; ++h) {
            /* widen this (sequence, head)'s q row and key/value rows (columns h*64 .. +63) */
            for (int d = 0; d < UZWK_DH; ++d) qf[d] = tab(f.hq[(size_t)b * f.ldq + h * UZWK_DH + d]);
            kf.resize((size_t)n * UZWK_DH);
            vf.resize((size_t)n * UZWK_DH);
            for (int j = 0; j < n; ++j)
                for (int d = 0; d < UZWK_DH; ++d) {
                    const size_t e = base + (size_t)j * f.ldk + h * UZWK_DH + d;
                    kf[(size_t)j * UZWK_DH + d] = tab(f.hkv[e]);
                    vf[(size_t)j * UZWK_DH + d] = tab(f.hkv[f.v_off + e]);
                }
            attend_ref(qf.data(), kf.data(), vf.data(), UZWK_DH, n, k_scale, &ref[(size_t)b * D + h * UZWK_DH], sc);
        }
    }
    for (size_t i = 0; i < got.size(); ++i) got[i] = tab(ho[i]);
    uzwk_compare(got.data(), ref.data(), ref.size(), UZWK_TOL_F16, "out", r);
    return 0;
}

int bench_decode(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    if (start(c, r, "bench decode_attention", shape, N_DEC_SHAPES, variant, N_DEC_VARIANTS)) return -1;
    DecSetup f;
    if (dec_setup(c, f, shape, 1)) return -1;
    DevBuf out;
    out.p = uzwk_malloc(c, (size_t)f.s.B * f.D * sizeof(uzwk_f16));
    if (!out.p) return -1;
    if (time_launch<DecSetup, dec_launch>(c, f, out.p, variant, reps, &r->ms)) return -1;
    double keys = 0;
    for (int b = 0; b < f.s.B; ++b) keys += f.len[b];
    /* K and V rows read once per sequence (the bandwidth bound); q and out are negligible */
    r->bytes = keys * 2.0 * f.s.H * UZWK_DH * 2 + 2.0 * f.s.B * f.D * 2;
    r->flops = keys * 4.0 * f.s.H * UZWK_DH;
    return 0; /* no peer */
}

/* ---------------------------------------------------------------- kv_append */

/* Cache: S slots of T = 64 rows of D, K and V separate (slot_stride = T*D). New rows from the
 * fused projection [R, 3D] (k at column D, v at 2D, ldn = 3D), or separate [R, D+1] buffers
 * (ldn = D+1: unaligned rows, the scalar path). Decode steps: R distinct slots (permuted), one
 * random position each; prompt: R consecutive positions of one slot. */
struct KvShape {
    int R, D, prompt, unaligned;
};
const KvShape k_kv_shapes[] = {{1, 384, 0, 0}, {32, 1280, 0, 0}, {9, 512, 1, 0}, {5, 100, 0, 1}};
const char *const k_kv_shape_names[] = {
    "R=1 D=384 (one decode step)",
    "R=32 D=1280 (batched decode step, slots permuted)",
    "R=9 D=512 (prompt rows 7..15 of one slot)",
    "R=5 D=100 ldn=101 (unaligned rows: scalar copies)",
};
constexpr int N_KV_SHAPES = (int)(sizeof k_kv_shapes / sizeof k_kv_shapes[0]);
static_assert(sizeof k_kv_shape_names / sizeof k_kv_shape_names[0] == N_KV_SHAPES, "kv shape names");
const char *const k_kv_variants[] = {"128 threads per row, 16-byte copies when aligned"};
constexpr int KV_T = 64;

struct KvSetup {
    KvShape s;
    int S, ldn;
    long slot_stride, k_off, v_off; /* offsets of k_new, v_new in the new-rows buffer */
    std::vector<uzwk_f16> hnew, hcache; /* new rows; initial cache (K then V) */
    std::vector<int32_t> slot, pos;
    DevBuf dnew, dslot, dpos;
};

int kv_setup(uzwk_ctx *c, KvSetup &f, int shape, uint64_t seed) {
    const KvShape &s = k_kv_shapes[shape];
    f.s = s;
    const int R = s.R, D = s.D;
    uint64_t st = seed ^ 0x4B5CAC4EA99Eull;
    f.S = s.prompt ? 3 : R + 2;
    f.slot_stride = (long)KV_T * D;
    if (s.unaligned) {
        f.ldn = D + 1;
        f.k_off = 0;
        f.v_off = (long)R * f.ldn;
        f.hnew.resize(2 * (size_t)R * f.ldn);
    } else {
        f.ldn = 3 * D;
        f.k_off = D;
        f.v_off = 2 * D;
        f.hnew.resize((size_t)R * f.ldn);
    }
    uzwk_rand_f16(NULL, f.hnew.data(), f.hnew.size(), &st, -4.f, 4.f);
    f.hcache.resize(2 * (size_t)f.S * f.slot_stride);
    uzwk_rand_f16(NULL, f.hcache.data(), f.hcache.size(), &st, -1.f, 1.f);
    f.slot.resize((size_t)R);
    f.pos.resize((size_t)R);
    if (s.prompt) {
        for (int r = 0; r < R; ++r) f.slot[r] = 1, f.pos[r] = 7 + r;
    } else {
        std::vector<int32_t> perm((size_t)f.S);
        for (int i = 0; i < f.S; ++i) perm[i] = i;
        shuffle(perm, &st);
        for (int r = 0; r < R; ++r) f.slot[r] = perm[r], f.pos[r] = rand_int(&st, 0, KV_T - 1);
    }
    if (dev_upload(c, f.dnew, f.hnew.data(), f.hnew.size() * sizeof(uzwk_f16)) ||
        dev_upload(c, f.dslot, f.slot.data(), f.slot.size() * sizeof(int32_t)) ||
        dev_upload(c, f.dpos, f.pos.data(), f.pos.size() * sizeof(int32_t)))
        return -1;
    return 0;
}

int kv_launch(uzwk_ctx *c, const KvSetup &f, void *cache, int /* variant: one launch configuration */) {
    const uzwk_f16 *nb = (const uzwk_f16 *)f.dnew.p;
    uzwk_f16 *kc = (uzwk_f16 *)cache, *vc = kc + (size_t)f.S * f.slot_stride;
    return uzwk_kv_append(c, nb + f.k_off, nb + f.v_off, f.ldn, kc, vc, f.slot_stride, (const int32_t *)f.dslot.p,
                          (const int32_t *)f.dpos.p, f.s.R, f.s.D);
}

int check_kv(uzwk_ctx *c, int shape, int variant, uint64_t seed, uzwk_check_result *r) {
    if (start(c, r, "check kv_append", shape, N_KV_SHAPES, variant, 1)) return -1;
    KvSetup f;
    if (kv_setup(c, f, shape, seed)) return -1;
    const size_t n = f.hcache.size(), half_n = n / 2;
    std::vector<uzwk_f16> ho;
    if (run_guarded<KvSetup, kv_launch>(c, f, variant, n, f.hcache.data(), ho, r)) return -1;
    /* expected: the initial cache with the new rows in place */
    std::vector<uzwk_f16> want(f.hcache);
    for (int rr = 0; rr < f.s.R; ++rr) {
        const size_t dst = (size_t)f.slot[rr] * f.slot_stride + (size_t)f.pos[rr] * f.s.D;
        for (int d = 0; d < f.s.D; ++d) {
            want[dst + d] = f.hnew[f.k_off + (size_t)rr * f.ldn + d];
            want[half_n + dst + d] = f.hnew[f.v_off + (size_t)rr * f.ldn + d];
        }
    }
    F16Table tab;
    std::vector<float> got(n);
    std::vector<double> ref(n);
    long differ = 0;
    size_t first = 0;
    for (size_t i = 0; i < n; ++i) {
        got[i] = tab(ho[i]);
        ref[i] = tab(want[i]);
        if (ho[i] != want[i] && differ++ == 0) first = i;
    }
    uzwk_compare(got.data(), ref.data(), n, 0.0, "cache", r);
    if (differ) { /* bitwise, whatever the float comparison said */
        r->pass = 0;
        if (r->n_bad < differ) r->n_bad = differ;
        snprintf(r->detail, sizeof r->detail, "cache: %ld of %zu halves differ, first [%zu] %s = 0x%04x, want 0x%04x",
                 differ, n, first % half_n, first < half_n ? "K" : "V", (unsigned)ho[first], (unsigned)want[first]);
    }
    return 0;
}

int bench_kv(uzwk_ctx *c, int shape, int variant, int reps, uzwk_bench_result *r) {
    if (start(c, r, "bench kv_append", shape, N_KV_SHAPES, variant, 1)) return -1;
    KvSetup f;
    if (kv_setup(c, f, shape, 1)) return -1;
    DevBuf cache;
    if (dev_upload(c, cache, f.hcache.data(), f.hcache.size() * sizeof(uzwk_f16))) return -1;
    if (time_launch<KvSetup, kv_launch>(c, f, cache.p, variant, reps, &r->ms)) return -1;
    r->bytes = 8.0 * f.s.R * f.s.D; /* K and V rows: read once, written once, 2 bytes each */
    return 0; /* no flops, no peer */
}

} // namespace

/* ---------------------------------------------------------------- the family's entries */

extern "C" const uzwk_op uzwk_ops_attn[] = {
    {"flash_attention", "attention", "f16 q/k/v/out, fp32 scores and softmax, P f16 for P.V", N_FLASH_SHAPES,
     k_flash_shape_names, (int)(sizeof k_flash_variants / sizeof k_flash_variants[0]), k_flash_variants, check_flash,
     bench_flash},
    {"decode_attention", "decode_attention", "f16 q/k/v/out, fp32 scores, softmax, P and partials", N_DEC_SHAPES,
     k_dec_shape_names, N_DEC_VARIANTS, k_dec_variants, check_decode, bench_decode},
    {"kv_append", "kv_cache", "f16 rows copied into the f16 cache", N_KV_SHAPES, k_kv_shape_names,
     (int)(sizeof k_kv_variants / sizeof k_kv_variants[0]), k_kv_variants, check_kv, bench_kv},
};
extern "C" const int uzwk_n_ops_attn = (int)(sizeof uzwk_ops_attn / sizeof uzwk_ops_attn[0]);
