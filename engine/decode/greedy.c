/* greedy.c - greedy decoding of one encoded window (temperature 0) with OAI's logit filters:
 * SuppressBlank at the first sampled position, SuppressTokens at every step; the no-speech
 * probability from the SOT position of the prompt pass. At most min(max_sample, T + 1 - n_prompt)
 * tokens are sampled (OAI and CTranslate2 stop once the sequence exceeds the text context). */
#include <math.h>

#include "decode/context.h"

int uzw_greedy_window(uzw_context *ctx, const int32_t *prompt, int n_prompt, int max_sample, int suppress_blank,
                      int32_t *out, uzw_window_stats *stats) {
    const uzw_model *m = ctx->m;
    int V = m->dims.n_vocab, T = m->dims.n_text_ctx;
    uzw_decoder_begin(m, &ctx->st);
    if (uzw_decoder_step(m, &ctx->st, prompt, n_prompt) != 0) return -1;
    float no_speech = -1.0f;
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] == m->sp.sot) {
            float *l2 = ctx->st.logits2;
            uzw_decoder_logits_at(m, &ctx->st, i, l2);
            float mx = l2[0];
            for (int j = 1; j < V; j++) mx = l2[j] > mx ? l2[j] : mx;
            double sum = 0;
            for (int j = 0; j < V; j++) sum += exp((double)l2[j] - mx);
            no_speech = (float)(exp((double)l2[m->sp.no_speech] - mx) / sum);
            break;
        }
    int n = 0;
    double sum_logprob = 0;
    for (int i = 0; i < max_sample; i++) {
        float *lg = ctx->st.logits; /* [V] */
        if (i == 0 && suppress_blank)
            for (int j = 0; j < m->n_suppress_begin; j++) lg[m->suppress_begin[j]] = -INFINITY;
        for (int j = 0; j < m->n_suppress; j++) lg[m->suppress[j]] = -INFINITY;
        int best = 0;
        for (int j = 1; j < V; j++)
            if (lg[j] > lg[best]) best = j;
        double lse = 0;
        for (int j = 0; j < V; j++)
            if (lg[j] > -INFINITY) lse += exp((double)lg[j] - lg[best]);
        sum_logprob += -log(lse); /* log_softmax at the argmax */
        ctx->tm.n_decoder_steps++;
        if (best == m->sp.eot) break;
        out[n++] = best;
        /* OAI stops once the sequence exceeds the text context; the last token is kept unfed */
        if (n_prompt + n > T) break;
        if (uzw_decoder_step(m, &ctx->st, &out[n - 1], 1) != 0) return -1;
    }
    if (stats) {
        stats->avg_logprob = (float)(sum_logprob / (n + 1));
        stats->no_speech_prob = no_speech;
    }
    return n;
}
