/*
 * logit_filters.c - the rules applied to the logits before a token is chosen, in OAI's order
 * (decoding.py): SuppressBlank at the first sampled position, SuppressTokens at every step, then
 * ApplyTimestampRules when timestamps are on (facts sheet §5.4).
 */
#include <math.h>

#include "decode/search.h"

void uzw_apply_filters(const uzw_model *m, const uzw_filter_opts *o, const int32_t *seq, int n, float *lg) {
    const int TB = m->sp.timestamp_begin, V = m->dims.n_vocab, EOT = m->sp.eot;
    if (n == 0 && o->suppress_blank)
        for (int j = 0; j < m->n_suppress_begin; j++) lg[m->suppress_begin[j]] = -INFINITY;
    for (int j = 0; j < m->n_suppress; j++) lg[m->suppress[j]] = -INFINITY;
    if (!o->timestamps) return;

    lg[m->sp.no_timestamps] = -INFINITY;
    /* timestamps come in pairs, except directly before EOT */
    int last_ts = n >= 1 && seq[n - 1] >= TB;
    int penult_ts = n < 2 || seq[n - 2] >= TB;
    if (last_ts) {
        if (penult_ts)
            for (int j = TB; j < V; j++) lg[j] = -INFINITY; /* after a pair: text (or EOT) */
        else
            for (int j = 0; j < EOT; j++) lg[j] = -INFINITY; /* after text+timestamp: a timestamp or EOT */
    }
    /* timestamps never decrease, and a segment has a non-zero length */
    int last = -1;
    for (int i = n - 1; i >= 0; i--)
        if (seq[i] >= TB) { last = seq[i]; break; }
    if (last >= 0) {
        int upto = (last_ts && !penult_ts) ? last : last + 1;
        for (int j = TB; j < upto && j < V; j++) lg[j] = -INFINITY;
    }
    /* the first sampled token is a timestamp, at most max_initial_timestamp_index */
    if (n == 0) {
        for (int j = 0; j < TB; j++) lg[j] = -INFINITY;
        if (o->max_initial_timestamp_index >= 0)
            for (int j = TB + o->max_initial_timestamp_index + 1; j < V; j++) lg[j] = -INFINITY;
    }
    /* if the timestamps together are more probable than any single text token, take a timestamp */
    float mx = -INFINITY;
    for (int j = 0; j < V; j++) mx = lg[j] > mx ? lg[j] : mx;
    if (mx == -INFINITY) return;
    double sum_all = 0, sum_ts = 0;
    float max_text = -INFINITY;
    for (int j = 0; j < V; j++) {
        if (lg[j] == -INFINITY) continue;
        double e = exp((double)lg[j] - mx);
        sum_all += e;
        if (j >= TB) sum_ts += e;
        else if (lg[j] > max_text) max_text = lg[j];
    }
    /* log P(any timestamp) > max log P(text token)  <=>  sum_ts > exp(max_text - mx) */
    if (sum_ts > 0 && (max_text == -INFINITY || log(sum_ts) > (double)max_text - mx))
        for (int j = 0; j < TB; j++) lg[j] = -INFINITY;
    (void)sum_all;
}

double uzw_logsumexp(const float *lg, int V, float *out_max) {
    float mx = -INFINITY;
    for (int i = 0; i < V; i++) mx = lg[i] > mx ? lg[i] : mx;
    double sum = 0;
    for (int i = 0; i < V; i++)
        if (lg[i] != -INFINITY) sum += exp((double)lg[i] - mx);
    if (out_max) *out_max = mx;
    return log(sum);
}

double uzw_log_softmax_at(const float *lg, int V, int j, float *out_max) {
    float mx;
    double lse = uzw_logsumexp(lg, V, &mx);
    if (out_max) *out_max = mx;
    return (double)lg[j] - mx - lse;
}
