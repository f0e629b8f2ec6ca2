/*
 * adapter_run.c - unmerged adapters in the CPU forward pass: the request's LoRA updates on each
 * linear layer and its bottleneck adapters on each residual connection.
 *
 * Scratch, all inside the forward state (nothing allocated per step):
 *   LoRA        x A^T [N, r] in st->scores (free outside attention; r <= A is checked at load)
 *   bottleneck  h, res, tmp [N, D] in st->q, st->k, st->v (free once a sub-layer's output is in
 *               st->h) and the bottleneck [N, dim] in st->ff (dim <= F is checked at load)
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "adapter/adapter.h"
#include "model/forward.h"
#include "model/ops.h"

void uzw_proj(uzw_fwd_state *st, const uzw_wmat *w, const float *x, const float *b, float *y, int N, int layer, int site) {
    uzw_matmul(w, x, b, y, N, st->qscratch, st->qscratch_bytes);
    int in = w->cols, out = w->rows;
    for (int k = 0; k < st->n_adapters; k++) {
        const uzw_adapter *a = st->adapters[k];
        if (a->kind != UZW_ADAPTER_LORA) continue;
        const uzw_lora_site *s = &a->lora[layer * UZW_N_SITES + site];
        if (s->rank) {
            float *t = st->scores; /* [N, r] = scale * x A^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, s->rank, in, s->scale, x, in, s->a, in, 0.0f, t, s->rank);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, s->rank, 1.0f, t, s->rank, s->b, s->rank, 1.0f, y, out);
        }
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
