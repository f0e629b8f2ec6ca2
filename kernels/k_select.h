/*
 * k_select.h - token selection on the device (kernels/cuda/select.cu): the logit rules of OAI's
 * decoding.py in its order (SuppressBlank at the first sampled position, SuppressTokens, then
 * ApplyTimestampRules), log-softmax, and the k best tokens per sequence, so that a decode step
 * returns only a few bytes to the host. CPU reference: uzw_apply_filters + uzw_log_softmax_at
 * (engine/decode/logit_filters.c).
 */
#ifndef UZWK_SELECT_H
#define UZWK_SELECT_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int V, eot, no_timestamps, timestamp_begin;
    const int32_t *suppress; int n_suppress;             /* dev, applied at every step   */
    const int32_t *suppress_begin; int n_suppress_begin; /* dev, at the first step if suppress_blank */
    int suppress_blank;
    int timestamps;                   /* apply the timestamp rules                         */
    int max_initial_timestamp_index;  /* -1: no limit                                      */
} uzwk_select_rules;

/* For each sequence b < B: logits[b] (f32 [V], row of ldl) given its sampled tokens
 * hist[b, 0 .. n_hist[b]) (dev int32, rows of ldh; the prompt excluded). With apply_rules the
 * rules are applied to the logits in place (as uzw_apply_filters does). Then the k best tokens by
 * log-softmax (k <= 64), best first, ties to the lower id: top_id[b*k + i] (dev int32),
 * top_logprob[b*k + i] (dev f32, log_softmax of the filtered logits). A row whose logits are all
 * -inf gives id -1. Without apply_rules the logits are left as they are. */
int uzwk_select(uzwk_ctx *c, float *logits, int ldl, int B, const uzwk_select_rules *rules, int apply_rules,
                const int32_t *hist, int ldh, const int32_t *n_hist, int k, int32_t *top_id, float *top_logprob,
                int variant);

/* The greedy step's bookkeeping on the device, for b < B with done[b] == 0: take top_id[b] (k = 1)
 * as the next token: hist[b, n_hist[b]++] = id, sum_logprob[b] += top_logprob[b],
 * next_token[b] = id, next_pos[b] += 1; an id equal to eot (or -1, or n_hist reaching max_len)
 * sets done[b] = 1 and is not appended. Finished sequences keep next_token = eot. */
int uzwk_greedy_commit(uzwk_ctx *c, const int32_t *top_id, const float *top_logprob, int32_t *hist, int ldh,
                       int32_t *n_hist, int32_t *next_token, int32_t *next_pos, float *sum_logprob, int32_t *done,
                       int eot, int max_len, int B);

#ifdef __cplusplus
}
#endif
#endif
