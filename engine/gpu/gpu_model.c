/* gpu_model.c - the weights on the device: one allocation, laid out by one walk over the tensors
 * that runs twice (once to size the arena, once to fill it), from a loaded model or at random.
 * Weight matrices are fp16, or for INT8 models int8 + one f32 scale per row (copied as they are
 * from the mapped file: no widening), in the same stacked layouts. */
#ifdef UZW_HAVE_CUDA

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "mel/mel.h"

/* Where the walk's tensors come from: a loaded model, or random values at a shape. */
typedef struct {
    uzwk_ctx *c;
    char *base;            /* dev arena, NULL while sizing */
    size_t off;
    const uzw_model *m;    /* source, or NULL for random */
    int quant;             /* random models: UZW_QUANT_* of the matrices to make */
    int any_a8;            /* set by the walk: some matrix is W8A8 */
    uint64_t seed;
    uzwk_f16 *stage16;     /* host staging, sized to the largest tensor */
    float *stage32;
    size_t stage_cap;      /* elements */
    int failed;
} walk;

static void *take(walk *w, size_t bytes) { return uzw_gpu_carve(w->base, &w->off, bytes); }

/* An fp16 matrix made of `n_parts` row blocks [rows_i, cols] (NULL part: zeros; random: scale);
 * int8 sources are widened through their scales. */
static const uzwk_f16 *mat(walk *w, int n_parts, const uzw_wmat *const *parts, const int *rows, int cols, float scale) {
    size_t total = 0;
    for (int i = 0; i < n_parts; i++) total += (size_t)rows[i] * cols;
    uzwk_f16 *dst = take(w, total * sizeof(uzwk_f16));
    if (!dst || w->failed) return dst;
    if (!w->m) {
        if (uzwk_fill_uniform_f16(w->c, dst, total, w->seed++, scale)) w->failed = 1;
        return dst;
    }
    size_t at = 0;
    for (int i = 0; i < n_parts; i++) {
        size_t n = (size_t)rows[i] * cols;
        for (int r = 0; r < rows[i]; r++) {
            float *row = w->stage32 + (size_t)r * cols;
            if (parts[i]) uzw_wmat_row(parts[i], r, row);
            else memset(row, 0, sizeof(float) * (size_t)cols);
        }
        for (size_t j = 0; j < n; j++) w->stage16[j] = uzwk_f32_to_f16_host(w->stage32[j]);
        if (uzwk_h2d(w->c, dst + at, w->stage16, n * sizeof(uzwk_f16))) w->failed = 1;
        at += n;
    }
    return dst;
}

/* An fp32 vector of n_parts pieces of n_i values (NULL piece: zeros; random: offset +- scale). */
static const float *vec(walk *w, int n_parts, const float *const *parts, const int *n, float scale, float offset) {
    size_t total = 0;
    for (int i = 0; i < n_parts; i++) total += (size_t)n[i];
    float *dst = take(w, total * sizeof(float));
    if (!dst || w->failed) return dst;
    if (!w->m) {
        if (uzwk_fill_uniform_f32(w->c, dst, total, w->seed++, scale, offset)) w->failed = 1;
        return dst;
    }
    size_t at = 0;
    for (int i = 0; i < n_parts; i++) {
        for (int j = 0; j < n[i]; j++) w->stage32[j] = parts[i] ? parts[i][j] : 0.0f;
        if (uzwk_h2d(w->c, dst + at, w->stage32, (size_t)n[i] * sizeof(float))) w->failed = 1;
        at += (size_t)n[i];
    }
    return dst;
}

/* A weight matrix of n_parts row blocks [rows_i, cols] (one, or the stacked q|k|v and cross k|v;
 * NULL parts: random). It stays INT8 on the device when every part is INT8 (a loaded model) or the
 * random model is quantised, and cols % 16 == 0 (the INT8 kernels' rule; every Whisper width
 * keeps it); otherwise fp16 through mat() (INT8 parts widened, as for a part kept in f16 by
 * `quantize --keep`). W8A8 (a8) when every part is marked a8 by the loader, or for random models
 * when the scheme is W8A8 and a8_rule says model_load.c would mark this matrix. Random INT8:
 * q uniform in [-127, 127] and scales in (0.75, 1.25) * scale / 127, so q * s spans about +-scale
 * as the fp16 random matrices do. */
static uzw_gpu_mat wmat(walk *w, int n_parts, const uzw_wmat *const *parts, const int *rows, int cols, float scale,
                        int a8_rule) {
    uzw_gpu_mat g = {.cols = cols};
    int int8 = cols % 16 == 0, a8 = 1;
    for (int i = 0; i < n_parts; i++) g.rows += rows[i];
    if (w->m) {
        for (int i = 0; i < n_parts; i++) {
            int8 &= parts[i] && parts[i]->q && parts[i]->scale;
            a8 &= parts[i] && parts[i]->a8;
        }
    } else {
        int8 &= w->quant != UZW_QUANT_NONE;
        a8 = w->quant == UZW_QUANT_W8A8 && a8_rule;
    }
    if (!int8) {
        g.h = mat(w, n_parts, parts, rows, cols, scale);
        return g;
    }
    g.a8 = a8;
    w->any_a8 |= a8;
    size_t total = (size_t)g.rows * cols;
    int8_t *q = take(w, total);                            /* [O, I] */
    float *sc = take(w, (size_t)g.rows * sizeof(float));   /* [O] */
    g.q = q;
    g.s = sc;
    if (!q || w->failed) return g;
    if (!w->m) {
        float base = scale / 127.0f;
        if (uzwk_fill_uniform_i8(w->c, q, total, w->seed++) ||
            uzwk_fill_uniform_f32(w->c, sc, (size_t)g.rows, w->seed++, 0.25f * base, base))
            w->failed = 1;
        return g;
    }
    size_t at = 0; /* rows done */
    for (int i = 0; i < n_parts; i++) {
        if (uzwk_h2d(w->c, q + at * (size_t)cols, parts[i]->q, (size_t)rows[i] * cols) ||
            uzwk_h2d(w->c, sc + at, parts[i]->scale, (size_t)rows[i] * sizeof(float)))
            w->failed = 1;
        at += (size_t)rows[i];
    }
    return g;
}

static uzw_gpu_mat wmat1(walk *w, const uzw_wmat *src, int rows, int cols, int a8_rule) {
    return wmat(w, 1, &src, &rows, cols, 1.0f / sqrtf((float)cols), a8_rule);
}

static const float *vec1(walk *w, const float *src, int n, float scale, float offset) {
    return vec(w, 1, &src, &n, scale, offset);
}
/* A float tensor of the model (conv kernels, positions) viewed as [rows, cols]; NULL: random. */
static const uzwk_f16 *matf(walk *w, const float *src, int rows, int cols, float scale) {
    uzw_wmat v = {.f = src, .rows = rows, .cols = cols};
    const uzw_wmat *p = src ? &v : NULL;
    return mat(w, 1, &p, &rows, cols, scale);
}

static const int32_t *ids(walk *w, const int32_t *src, int n) {
    int32_t *dst = take(w, (size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (dst && !w->failed && n > 0 && uzwk_h2d(w->c, dst, src, (size_t)n * sizeof(int32_t))) w->failed = 1;
    return dst;
}

/* One block; cross: a decoder block. The a8 rule of random W8A8 models (model_load.c's takes_a8):
 * every matrix of an encoder block, and the decoder's cross K/V. */
static void layer(walk *w, const uzw_layer *L, uzw_gpu_layer *G, int D, int cross) {
    static const uzw_layer none; /* random weights: every source pointer NULL */
    int src = L != NULL, enc = !cross;
    if (!L) L = &none;
    const float one = 1.0f, bias = 0.02f;
    int F = 4 * D, d3[3] = {D, D, D}, d2[2] = {D, D};
    G->attn_ln_w = vec1(w, L->attn_ln_w, D, 0.1f, one);
    G->attn_ln_b = vec1(w, L->attn_ln_b, D, bias, 0);
    const uzw_wmat *qkv[3] = {src ? &L->q_w : NULL, src ? &L->k_w : NULL, src ? &L->v_w : NULL};
    const float *qkv_b[3] = {L->q_b, NULL, L->v_b};
    G->qkv_w = wmat(w, 3, qkv, d3, D, 1.0f / sqrtf((float)D), enc);
    G->qkv_b = vec(w, 3, qkv_b, d3, bias, 0);
    G->o_w = wmat1(w, src ? &L->o_w : NULL, D, D, enc);
    G->o_b = vec1(w, L->o_b, D, bias, 0);
    if (cross) {
        G->xattn_ln_w = vec1(w, L->xattn_ln_w, D, 0.1f, one);
        G->xattn_ln_b = vec1(w, L->xattn_ln_b, D, bias, 0);
        G->xq_w = wmat1(w, src ? &L->xq_w : NULL, D, D, 0);
        G->xq_b = vec1(w, L->xq_b, D, bias, 0);
        const uzw_wmat *xkv[2] = {src ? &L->xk_w : NULL, src ? &L->xv_w : NULL};
        const float *xkv_b[2] = {NULL, L->xv_b};
        G->xkv_w = wmat(w, 2, xkv, d2, D, 1.0f / sqrtf((float)D), 1);
        G->xkv_b = vec(w, 2, xkv_b, d2, bias, 0);
        G->xo_w = wmat1(w, src ? &L->xo_w : NULL, D, D, 0);
        G->xo_b = vec1(w, L->xo_b, D, bias, 0);
    }
    G->mlp_ln_w = vec1(w, L->mlp_ln_w, D, 0.1f, one);
    G->mlp_ln_b = vec1(w, L->mlp_ln_b, D, bias, 0);
    G->fc1_w = wmat1(w, src ? &L->fc1_w : NULL, F, D, enc);
    G->fc1_b = vec1(w, L->fc1_b, F, bias, 0);
    G->fc2_w = wmat1(w, src ? &L->fc2_w : NULL, D, F, enc);
    G->fc2_b = vec1(w, L->fc2_b, D, bias, 0);
}

/* Sinusoid table of the encoder (OAI sinusoids(length, channels)), for random models. */
static void sinusoids(float *out, int A, int D) {
    int half = D / 2;
    double inc = log(10000.0) / (half - 1);
    for (int t = 0; t < A; t++)
        for (int i = 0; i < half; i++) {
            double a = t * exp(-inc * i);
            out[(size_t)t * D + i] = (float)sin(a);
            out[(size_t)t * D + half + i] = (float)cos(a);
        }
}

/* The whole walk; the same order both times. */
static void walk_model(walk *w, const uzw_dims *d, uzw_gpu_model *g) {
    const uzw_model *m = w->m;
    int M = d->n_mels, D = d->n_audio_state, A = d->n_audio_ctx, V = d->n_vocab, T = d->n_text_ctx;
    g->conv1_w = matf(w, m ? m->conv1_w : NULL, D, M * 3, 1.0f / sqrtf(M * 3.0f));
    g->conv1_b = vec1(w, m ? m->conv1_b : NULL, D, 0.02f, 0);
    g->conv2_w = matf(w, m ? m->conv2_w : NULL, D, D * 3, 1.0f / sqrtf(D * 3.0f));
    g->conv2_b = vec1(w, m ? m->conv2_b : NULL, D, 0.02f, 0);
    {   /* the sinusoid table is data, not a random weight: build it for random models too */
        float *pos = take(w, (size_t)A * D * sizeof(float));
        g->enc_pos = pos;
        if (pos && !w->failed) {
            const float *src = m ? m->enc_pos : NULL;
            if (!src) {
                sinusoids(w->stage32, A, D);
                src = w->stage32;
            }
            if (uzwk_h2d(w->c, pos, src, (size_t)A * D * sizeof(float))) w->failed = 1;
        }
    }
    for (int l = 0; l < d->n_audio_layer; l++) layer(w, m ? &m->enc[l] : NULL, &g->enc[l], D, 0);
    g->ln_post_w = vec1(w, m ? m->ln_post_w : NULL, D, 0.1f, 1.0f);
    g->ln_post_b = vec1(w, m ? m->ln_post_b : NULL, D, 0.02f, 0);
    g->tok_emb = wmat(w, 1, (const uzw_wmat *const[]){m ? &m->tok_emb : NULL}, &V, D, 0.05f, 0);
    g->dec_pos = matf(w, m ? m->dec_pos : NULL, T, D, 0.05f);
    for (int l = 0; l < d->n_text_layer; l++) layer(w, m ? &m->dec[l] : NULL, &g->dec[l], D, 1);
    g->dec_ln_w = vec1(w, m ? m->dec_ln_w : NULL, D, 0.1f, 1.0f);
    g->dec_ln_b = vec1(w, m ? m->dec_ln_b : NULL, D, 0.02f, 0);
    if (m) {
        int nf = M * 201;
        g->mel_filters = vec1(w, m->mel_filters, nf, 0, 0);
        g->suppress = ids(w, m->suppress, m->n_suppress);
        g->n_suppress = m->n_suppress;
        g->suppress_begin = ids(w, m->suppress_begin, m->n_suppress_begin);
        g->n_suppress_begin = m->n_suppress_begin;
    } else {
        /* random models still get real mel filters so the end-to-end benchmark runs the mel */
        float *f = take(w, (size_t)M * 201 * sizeof(float));
        g->mel_filters = f;
        if (f && !w->failed) {
            uzw_mel_filters_slaney(M, w->stage32);
            if (uzwk_h2d(w->c, f, w->stage32, (size_t)M * 201 * sizeof(float))) w->failed = 1;
        }
        g->suppress = g->suppress_begin = NULL;
        g->n_suppress = g->n_suppress_begin = 0;
    }
}

static size_t largest_tensor(const uzw_dims *d) {
    size_t D = (size_t)d->n_audio_state, cands[] = {(size_t)d->n_vocab * D, 3 * D * D, 4 * D * D,
                                                    (size_t)d->n_audio_ctx * D, (size_t)d->n_text_ctx * D,
                                                    (size_t)d->n_mels * 201, 3 * D * (size_t)d->n_mels};
    size_t mx = 0;
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) mx = cands[i] > mx ? cands[i] : mx;
    return mx;
}

static int build(uzwk_ctx *c, const uzw_model *m, const uzw_dims *d, int quant, uint64_t seed, uzw_gpu_model *g,
                 char *err, size_t err_size) {
    memset(g, 0, sizeof *g);
    g->dims = *d;
    g->quant = m ? m->quant : quant;
    g->enc = calloc((size_t)d->n_audio_layer, sizeof *g->enc);
    g->dec = calloc((size_t)d->n_text_layer, sizeof *g->dec);
    walk w = {.c = c, .m = m, .quant = quant, .seed = seed};
    w.stage_cap = largest_tensor(d);
    w.stage16 = malloc(w.stage_cap * sizeof(uzwk_f16));
    w.stage32 = malloc(w.stage_cap * sizeof(float));
    if (!g->enc || !g->dec || !w.stage16 || !w.stage32) {
        snprintf(err, err_size, "gpu model: out of host memory");
        goto fail;
    }
    walk_model(&w, d, g); /* sizing pass: base NULL, only offsets move */
    g->arena_bytes = w.off;
    g->arena = uzwk_malloc(c, g->arena_bytes);
    if (!g->arena) {
        snprintf(err, err_size, "gpu model: %.1f MiB of weights: %s", g->arena_bytes / 1048576.0, uzwk_error(c));
        goto fail;
    }
    w.base = g->arena;
    w.off = 0;
    w.any_a8 = 0;
    walk_model(&w, d, g);
    g->any_a8 = w.any_a8;
    if (w.failed || uzwk_sync(c)) {
        snprintf(err, err_size, "gpu model: upload failed: %s", uzwk_error(c));
        goto fail;
    }
    free(w.stage16);
    free(w.stage32);
    return 0;
fail:
    free(w.stage16);
    free(w.stage32);
    uzw_gpu_model_free(g);
    return -1;
}

int uzw_gpu_model_upload(uzwk_ctx *c, const uzw_model *m, uzw_gpu_model *g, char *err, size_t err_size) {
    /* head width 64 (every Whisper model) takes the tensor-core attention; any other width up to
     * 256 the plain kernel (gpu_attn.c), as the test fixtures need */
    const uzw_dims *d = &m->dims;
    int dha = d->n_audio_head > 0 ? d->n_audio_state / d->n_audio_head : 0;
    int dht = d->n_text_head > 0 ? d->n_text_state / d->n_text_head : 0;
    if (dha < 1 || dha > 256 || dha * d->n_audio_head != d->n_audio_state || dht < 1 || dht > 256 ||
        dht * d->n_text_head != d->n_text_state) {
        snprintf(err, err_size, "gpu model: head widths %d / %d: the CUDA attention takes 1..256 (%d on tensor cores)",
                 dha, dht, UZWK_DH);
        return -1;
    }
    return build(c, m, &m->dims, m->quant, 0, g, err, err_size);
}

int uzw_gpu_model_random(uzwk_ctx *c, const uzw_dims *d, int quant, uint64_t seed, uzw_gpu_model *g, char *err,
                         size_t err_size) {
    if (quant != UZW_QUANT_NONE && quant != UZW_QUANT_W8A16 && quant != UZW_QUANT_W8A8) {
        snprintf(err, err_size, "gpu model: unknown quantisation %d", quant);
        return -1;
    }
    return build(c, NULL, d, quant, seed, g, err, err_size);
}

size_t uzw_gpu_model_bytes(const uzw_dims *d, int quant) {
    uzw_gpu_model g;
    memset(&g, 0, sizeof g);
    g.enc = calloc((size_t)d->n_audio_layer, sizeof *g.enc);
    g.dec = calloc((size_t)d->n_text_layer, sizeof *g.dec);
    walk w = {.quant = quant};
    w.failed = 1; /* sizing only: nothing is written */
    size_t bytes = 0;
    if (g.enc && g.dec) {
        walk_model(&w, d, &g);
        bytes = w.off;
    }
    free(g.enc);
    free(g.dec);
    return bytes;
}

void uzw_gpu_model_free(uzw_gpu_model *g) {
    uzwk_free(g->arena);
    free(g->enc);
    free(g->dec);
    memset(g, 0, sizeof *g);
}

#endif /* UZW_HAVE_CUDA */
