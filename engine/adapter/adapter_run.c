/*
 * adapter_run.c - unmerged adapters in the CPU forward pass: the request's LoRA updates on each
 * linear layer and its bottleneck adapters on each residual connection.
 *
 * A LoRA on a float weight over many rows (the encoder, cross-attention K/V: N (in + out) > in out)
 * is cheaper merged for the call: W' = W + s B A, then one product; over few rows (decoder steps)
 * or an int8 weight it runs beside the product: y += s (x A^T) B^T.
 *
 * Scratch, all inside the forward state (nothing allocated per step):
 *   LoRA        W' [out, in] in st->cols (the conv front-end's im2col, free inside the blocks:
 *               3 max(M, D) 2A >= 4 D^2 for every Whisper size), x A^T [N, r] in st->scores (free
 *               outside attention; r <= A is checked before a request runs)
 *   bottleneck  h, res, tmp [N, D] in st->q, st->k, st->v (free once a sub-layer's output is in
 *               st->h) and the bottleneck [N, dim] in st->ff (dim <= F is checked at load)
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "adapter/adapter.h"
#include "model/forward.h"
#include "model/ops.h"

/* The LoRA of adapter k at this site, or NULL. */
static const uzw_lora_site *site_of(const uzw_fwd_state *st, int k, int layer, int site) {
    const uzw_adapter *a = st->adapters[k];
    return a->kind == UZW_ADAPTER_LORA ? &a->lora[layer * UZW_N_SITES + site] : NULL;
}

/* W' = W + sum of s B A over the site's LoRAs into st->cols; NULL when not worth it or impossible. */
static const float *merged_for_call(uzw_fwd_state *st, const uzw_wmat *w, int N, int layer, int site) {
    size_t in = (size_t)w->cols, out = (size_t)w->rows;
    int any = 0;
    for (int k = 0; k < st->n_adapters; k++) {
        const uzw_lora_site *s = site_of(st, k, layer, site);
        any |= s && s->rank;
    }
    if (!any || !w->f || (size_t)N * (in + out) <= in * out || in * out > st->cols_floats) return NULL;
    float *wm = st->cols; /* [out, in] */
    memcpy(wm, w->f, sizeof(float) * in * out);
    for (int k = 0; k < st->n_adapters; k++) {
        const uzw_lora_site *s = site_of(st, k, layer, site);
        if (s && s->rank)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)out, (int)in, s->rank, s->scale, s->b, s->rank, s->a,
                        (int)in, 1.0f, wm, (int)in);
    }
    return wm;
}

static float dot(const float *a, const float *b, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* y [N, out] += s (x A^T) B^T with t [N, r] as scratch. Decoder steps (a few rows) take plain
 * loops: two tiny sgemm calls cost more in library overhead than their arithmetic. */
static void lora_beside(const uzw_lora_site *s, const float *x, float *y, int N, int in, int out, float *t) {
    int r = s->rank;
    if (N > 8) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, r, in, s->scale, x, in, s->a, in, 0.0f, t, r);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, r, 1.0f, t, r, s->b, r, 1.0f, y, out);
        return;
    }
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * in;
        float *tr = t + (size_t)n * r, *yr = y + (size_t)n * out;
        for (int j = 0; j < r; j++) tr[j] = s->scale * dot(xr, s->a + (size_t)j * in, in);
        for (int o = 0; o < out; o++) yr[o] += dot(tr, s->b + (size_t)o * r, r);
    }
}

void uzw_proj(uzw_fwd_state *st, const uzw_wmat *w, const float *x, const float *b, float *y, int N, int layer, int site) {
    int in = w->cols, out = w->rows;
    const float *wm = st->n_adapters ? merged_for_call(st, w, N, layer, site) : NULL;
    if (wm) uzw_linear(x, wm, b, y, N, in, out);
    else uzw_matmul(w, x, b, y, N, st->qscratch, st->qscratch_bytes);
    for (int k = 0; k < st->n_adapters; k++) {
        const uzw_lora_site *s = site_of(st, k, layer, site);
        if (!s) continue;
        if (s->rank && !wm) lora_beside(s, x, y, N, in, out, st->scores);
        if (s->bias_delta)
            for (int n = 0; n < N; n++) uzw_add(y + (size_t)n * out, s->bias_delta, (size_t)out);
    }
}

static float act(int kind, float v) {
    switch (kind) {
    case UZW_ACT_RELU: return v > 0 ? v : 0.0f;
    case UZW_ACT_LEAKY_RELU: return v > 0 ? v : 0.01f * v;
    case UZW_ACT_SILU: return v / (1.0f + expf(-v));
    case UZW_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case UZW_ACT_TANH: return tanhf(v);
    case UZW_ACT_GELU_TANH: return 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    default: return v;
    }
}

/* One bottleneck module on rows h [N, D]: out (may be h) = up(act(down(LN?(h)))) * scaling (+ res
 * before or after ln_after). */
static void bn_module(const uzw_bn_module *b, uzw_fwd_state *st, const float *h, const float *res, float *out, int N, int D) {
    const float *in = h;
    float *tmp = st->v, *down = st->ff;
    if (b->ln_before_w) {
        uzw_layernorm(h, b->ln_before_w, b->ln_before_b, tmp, N, D);
        in = tmp;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, b->dim, D, 1.0f, in, D, b->down_w, D, 0.0f, down, b->dim);
    for (int n = 0; n < N; n++) {
        float *r = down + (size_t)n * b->dim;
        for (int j = 0; j < b->dim; j++) r[j] += b->down_b[j];
    }
    if (b->act == UZW_ACT_GELU) uzw_gelu(down, (size_t)N * b->dim);
    else
        for (size_t i = 0; i < (size_t)N * b->dim; i++) down[i] = act(b->act, down[i]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, D, b->dim, 1.0f, down, b->dim, b->up_w, b->dim, 0.0f, tmp, D);
    for (int n = 0; n < N; n++) {
        float *t = tmp + (size_t)n * D, *o = out + (size_t)n * D;
        const float *rr = res + (size_t)n * D;
        for (int c = 0; c < D; c++) {
            float u = (t[c] + b->up_b[c]) * b->scaling;
            o[c] = b->adapter_residual_before_ln ? u + rr[c] : u;
        }
    }
    if (b->ln_after_w) uzw_layernorm(out, b->ln_after_w, b->ln_after_b, out, N, D);
    if (!b->adapter_residual_before_ln) uzw_add(out, res, (size_t)N * D);
}

void uzw_residual(uzw_fwd_state *st, float *x, const float *s, int N, int D, int layer, int place) {
    const uzw_bn_module *last = NULL;
    size_t nd = (size_t)N * D;
    float *h = st->q, *res = st->k; /* h: the stream through the stack; res: the module's residual */
    for (int k = 0; k < st->n_adapters; k++) {
        const uzw_adapter *a = st->adapters[k];
        if (a->kind != UZW_ADAPTER_BOTTLENECK) continue;
        const uzw_bn_module *b = &a->bn[layer * UZW_N_BN_PLACES + place];
        if (!b->dim) continue;
        if (!last) memcpy(h, s, sizeof(float) * nd);
        /* AdapterHub pre_forward with the host's layer norm absent */
        if (b->residual_before_ln) memcpy(res, h, sizeof(float) * nd);
        if (b->original_ln_before) uzw_add(h, x, nd);
        if (!b->residual_before_ln) memcpy(res, h, sizeof(float) * nd);
        bn_module(b, st, h, res, h, N, D);
        last = b;
    }
    if (!last) {
        uzw_add(x, s, nd);
        return;
    }
    /* post_forward of the last module: the sub-layer's residual again, or not */
    if (last->original_ln_after) uzw_add(x, h, nd);
    else memcpy(x, h, sizeof(float) * nd);
}
