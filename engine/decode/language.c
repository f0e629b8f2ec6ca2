/* language.c - language identification: one decoder pass over [SOT] on the encoded window, a
 * softmax restricted to the model's language tokens (OAI detect_language), optionally folded onto
 * an allowed set (langset.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/context.h"

static int by_prob_desc(const void *a, const void *b) {
    float pa = ((const uzw_lang_prob *)a)->p, pb = ((const uzw_lang_prob *)b)->p;
    return (pa < pb) - (pa > pb);
}

int uzw_language_probs(uzw_context *ctx, float *p) {
    const uzw_model *m = ctx->m;
    int32_t sot = m->sp.sot;
    if (uzw_decoder_begin(m, &ctx->st) != 0) return -1;
    if (uzw_decoder_step(m, &ctx->st, &sot, 1) != 0) return -1;
    const float *lg = ctx->st.logits + m->sp.first_lang; /* [n_languages] */
    int n = m->sp.n_languages, best = 0;
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (lg[i] > mx) { mx = lg[i]; best = i; }
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)lg[i] - mx);
    for (int i = 0; i < n; i++) p[i] = (float)(exp((double)lg[i] - mx) / sum);
    return best;
}

int uzw_detect_language_in(uzw_context *ctx, const uzw_langset *set) {
    const uzw_model *m = ctx->m;
    float full[UZW_MAX_LANGUAGES], sub[UZW_MAX_LANGUAGES];
    int best = uzw_language_probs(ctx, full);
    if (best < 0) return -1;
    int n = m->sp.n_languages;
    if (set && set->n > 0) {
        int k = uzw_langset_restrict(set, n, full, sub);
        for (int j = 0; j < set->n; j++) {
            memcpy(ctx->lang_probs[j].code, m->lang_codes[set->idx[j]], sizeof ctx->lang_probs[j].code);
            ctx->lang_probs[j].p = sub[j];
        }
        n = set->n;
        best = set->idx[k];
    } else {
        for (int i = 0; i < n; i++) {
            memcpy(ctx->lang_probs[i].code, m->lang_codes[i], sizeof ctx->lang_probs[i].code);
            ctx->lang_probs[i].p = full[i];
        }
    }
    ctx->n_lang_probs = n;
    qsort(ctx->lang_probs, (size_t)n, sizeof ctx->lang_probs[0], by_prob_desc);
    return best;
}

int uzw_detect_language(uzw_context *ctx) { return uzw_detect_language_in(ctx, NULL); }
