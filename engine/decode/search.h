/*
 * search.h - choosing tokens for one encoded 30 s window: the logit filters, greedy decoding,
 * sampling with best-of at temperature > 0, and OAI's beam search with patience, every candidate
 * decoded as one batch over the shared cross-attention K/V.
 */
#ifndef UZW_SEARCH_H
#define UZW_SEARCH_H

#include <stdint.h>

#include "model/forward.h"

typedef struct {
    int suppress_blank;
    int timestamps;                  /* apply the timestamp rules */
    int max_initial_timestamp_index; /* -1: no limit */
} uzw_filter_opts;

/* Apply the filters to lg [V] given the n tokens sampled so far (seq, prompt excluded). */
void uzw_apply_filters(const uzw_model *m, const uzw_filter_opts *o, const int32_t *seq, int n, float *lg);
/* log(sum_j exp(lg[j] - max)) with the max in *out_max; -inf entries are excluded. */
double uzw_logsumexp(const float *lg, int V, float *out_max);
/* log_softmax(lg)[j]; -inf entries are excluded from the sum. */
double uzw_log_softmax_at(const float *lg, int V, int j, float *out_max);

typedef struct {
    uzw_filter_opts filters;
    int max_sample;        /* tokens sampled at most (OAI sample_len, 224) */
    float temperature;     /* 0: greedy or beam; > 0: sampling */
    int beam_size;         /* at temperature 0; 1 = greedy */
    float patience;        /* beam search: finished candidates wanted = round(beam_size * patience) */
    int best_of;           /* at temperature > 0 */
    float length_penalty;  /* rank by sum logprob / length^length_penalty (0: sum logprob) */
    uint64_t *rng;         /* sampling state (xorshift64*) */
} uzw_search_opts;

typedef struct {
    int32_t *tokens;       /* [max] sampled tokens of the best candidate, EOT excluded */
    int n_tokens;
    double sum_logprob;
    float avg_logprob;     /* sum_logprob / (n_tokens + 1) */
    float no_speech_prob;  /* -1 when the prompt has no SOT */
    int n_steps;           /* decoder steps run */
    double t_prompt_ms;    /* uzw_now_ms() when the prompt's logits (the first token's) were ready */
} uzw_search_result;

/* Decode the window encoded in st (uzw_decoder_begin done by this call) after the prompt.
 * out->tokens must hold n_text_ctx ids. Needs st->n_seq_max >= max(beam_size, best_of).
 * Returns 0 or -1 (context overflow, bad options). */
int uzw_search_window(const uzw_model *m, uzw_fwd_state *st, const int32_t *prompt, int n_prompt,
                      const uzw_search_opts *o, uzw_search_result *out);

#endif
