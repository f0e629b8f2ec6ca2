/*
 * search.c - token selection for one window: greedy (argmax at temperature 0), sampling of
 * softmax(logits / T) with best_of candidates ranked, and beam search. The beam search and the
 * ranking follow CTranslate2, which faster-whisper runs, so that our transcripts equal
 * faster-whisper's on the same weights; the logit filters are OAI's (identical in effect).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/search.h"
#include "core/util.h"

typedef struct {
    int src;       /* beam it extends */
    int32_t token;
    double score;  /* cumulative log-probability */
} cand;

typedef struct {
    int32_t *tokens; /* sampled tokens, EOT excluded */
    int n;
    double score;    /* sum of log-probabilities, EOT step included */
} finished_seq;

static double rng_uniform(uint64_t *s) {
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *s = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static int argmax(const float *lg, int V) {
    int best = 0;
    for (int j = 1; j < V; j++)
        if (lg[j] > lg[best]) best = j;
    return best;
}

static int sample(const float *lg, int V, float temperature, uint64_t *rng) {
    float mx = -INFINITY;
    for (int j = 0; j < V; j++) mx = lg[j] > mx ? lg[j] : mx;
    double sum = 0;
    for (int j = 0; j < V; j++)
        if (lg[j] != -INFINITY) sum += exp(((double)lg[j] - mx) / temperature);
    double u = rng_uniform(rng) * sum, acc = 0;
    int last = 0;
    for (int j = 0; j < V; j++) {
        if (lg[j] == -INFINITY) continue;
        acc += exp(((double)lg[j] - mx) / temperature);
        last = j;
        if (acc >= u) return j;
    }
    return last;
}

/* CTranslate2 / faster-whisper: score / length^length_penalty (1 = the mean log-probability). */
static double rank_score(double sum_logprob, int length, float length_penalty) {
    if (length_penalty == 0) return sum_logprob;
    double penalty = pow((double)length, length_penalty);
    return penalty > 0 ? sum_logprob / penalty : -INFINITY;
}

static float no_speech_of(const uzw_model *m, uzw_fwd_state *st, const int32_t *prompt, int n_prompt) {
    int V = m->dims.n_vocab;
    for (int i = 0; i < n_prompt; i++) {
        if (prompt[i] != m->sp.sot) continue;
        if (uzw_decoder_logits_at(m, st, i, st->logits2) != 0) return -1.0f;
        double lp = uzw_log_softmax_at(st->logits2, V, m->sp.no_speech, NULL);
        return (float)exp(lp);
    }
    return -1.0f;
}

/* Greedy (B = 1) or best-of sampling (B = best_of): B independent sequences. */
static int search_sampling(const uzw_model *m, uzw_fwd_state *st, int n_prompt, const uzw_search_opts *o, int B,
                           int32_t *seqs, double *sum_lp, int *len, int *n_steps) {
    int V = m->dims.n_vocab, T = m->dims.n_text_ctx, EOT = m->sp.eot;
    int done[UZW_MAX_SEQ] = {0};
    int32_t next[UZW_MAX_SEQ];
    int n = 0;
    for (int j = 0; j < B; j++) { sum_lp[j] = 0; len[j] = -1; }
    for (int step = 0; step < o->max_sample; step++) {
        int all_done = 1;
        for (int j = 0; j < B; j++) {
            float *lg = st->logits + (size_t)j * V;
            if (done[j]) { next[j] = EOT; continue; }
            uzw_apply_filters(m, &o->filters, seqs + (size_t)j * T, n, lg);
            next[j] = o->temperature > 0 ? sample(lg, V, o->temperature, o->rng) : argmax(lg, V);
            sum_lp[j] += uzw_log_softmax_at(lg, V, next[j], NULL);
            if (next[j] == EOT) { done[j] = 1; len[j] = n; }
            else all_done = 0;
        }
        for (int j = 0; j < B; j++) seqs[(size_t)j * T + n] = next[j];
        n++;
        if (all_done || n_prompt + n > T) break;
        if (uzw_decoder_step_batch(m, st, next, B) != 0) return -1;
    }
    for (int j = 0; j < B; j++)
        if (len[j] < 0) len[j] = n; /* ran out of steps: every sampled token is text or timestamp */
    *n_steps = n;
    return 0;
}

static int finished_add(finished_seq *f, int *nf, int cap, const int32_t *tokens, int n, double score, int T) {
    if (*nf >= cap) return 0;
    f[*nf].tokens = malloc(sizeof(int32_t) * (size_t)(T > 0 ? T : 1));
    if (!f[*nf].tokens) return -1;
    memcpy(f[*nf].tokens, tokens, sizeof(int32_t) * (size_t)n);
    f[*nf].n = n;
    f[*nf].score = score;
    (*nf)++;
    return 0;
}

/* The best K candidates over rows x V log-probabilities lp [rows, V] (already offset by the beams'
 * scores): a partial selection that keeps the K best seen so far, sorted. */
static int top_candidates(const float *lp, int rows, int V, int K, cand *out) {
    int n = 0;
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < V; v++) {
            float s = lp[(size_t)r * V + v];
            if (s == -INFINITY) continue;
            if (n == K && s <= out[K - 1].score) continue;
            int pos = n < K ? n++ : K - 1;
            while (pos > 0 && out[pos - 1].score < s) { out[pos] = out[pos - 1]; pos--; }
            out[pos].src = r;
            out[pos].token = v;
            out[pos].score = s;
        }
    return n;
}

/* CTranslate2's beam search (decoding.cc BeamSearch::search), which faster-whisper runs: every step
 * takes the best 2B candidates over all beams; a finished one (EOT, or any on the last step) becomes
 * a hypothesis and its beam is refilled from the next unfinished candidates; the search ends when
 * round(B * patience) hypotheses exist; hypotheses are ranked by score / length^length_penalty. */
static int search_beam(const uzw_model *m, uzw_fwd_state *st, int n_prompt, const uzw_search_opts *o,
                       uzw_search_result *out, int *n_steps) {
    int V = m->dims.n_vocab, T = m->dims.n_text_ctx, EOT = m->sp.eot, B = o->beam_size, K = 2 * B;
    int max_cand = (int)lroundf(B * (o->patience > 0 ? o->patience : 1.0f));
    if (max_cand < 1) max_cand = 1;
    int max_steps = o->max_sample < T + 1 - n_prompt ? o->max_sample : T + 1 - n_prompt;
    int32_t *seqs = malloc(sizeof(int32_t) * (size_t)B * T), *nseqs = malloc(sizeof(int32_t) * (size_t)B * T);
    float *lp = malloc(sizeof(float) * (size_t)B * V);
    cand *c = malloc(sizeof(cand) * (size_t)K);
    finished_seq *hyp = calloc((size_t)max_cand + K, sizeof *hyp);
    double score[UZW_MAX_SEQ] = {0};
    int rc = -1, nh = 0, step = 0;
    if (!seqs || !nseqs || !lp || !c || !hyp) goto done;
    for (step = 0; step < max_steps; step++) {
        int last = step + 1 == max_steps, rows = step == 0 ? 1 : B;
        for (int r = 0; r < rows; r++) {
            float *lg = st->logits + (size_t)r * V;
            uzw_apply_filters(m, &o->filters, seqs + (size_t)r * T, step, lg);
            float mx;
            double lse = uzw_logsumexp(lg, V, &mx);
            for (int v = 0; v < V; v++)
                lp[(size_t)r * V + v] = lg[v] == -INFINITY ? -INFINITY : (float)(score[r] + ((double)lg[v] - mx - lse));
        }
        int nc = top_candidates(lp, rows, V, K, c);
        if (nc == 0) break;
        int src[UZW_MAX_SEQ], next_beam[UZW_MAX_SEQ], sec = B;
        for (int k = 0; k < B; k++) {
            int pick = k < nc ? k : nc - 1;
            if (c[pick].token == EOT || last) {
                int n = step + (c[pick].token == EOT ? 0 : 1);
                int32_t *h = seqs + (size_t)c[pick].src * T;
                if (c[pick].token != EOT) h[step] = c[pick].token; /* the last step keeps its token */
                if (finished_add(hyp, &nh, max_cand + K, h, n, c[pick].score, T) != 0) goto done;
                for (int j = sec; j < nc; j++)
                    if (c[j].token != EOT) { pick = j; sec = j + 1; break; }
            }
            next_beam[k] = pick;
            src[k] = c[pick].src;
        }
        if (last || nh >= max_cand) { step++; break; }
        int32_t next[UZW_MAX_SEQ];
        for (int k = 0; k < B; k++) {
            const cand *cc = &c[next_beam[k]];
            memcpy(nseqs + (size_t)k * T, seqs + (size_t)cc->src * T, sizeof(int32_t) * (size_t)step);
            nseqs[(size_t)k * T + step] = cc->token;
            next[k] = cc->token;
            score[k] = cc->score;
        }
        int32_t *tmp = seqs;
        seqs = nseqs;
        nseqs = tmp;
        /* the first step expanded one beam only */
        if ((step == 0 ? uzw_decoder_fork(m, st, B) : uzw_decoder_reorder(m, st, src, B)) != 0) goto done;
        if (uzw_decoder_step_batch(m, st, next, B) != 0) goto done;
    }
    *n_steps = step;
    int best = -1;
    double best_score = -INFINITY;
    for (int h = 0; h < nh; h++) {
        double s = rank_score(hyp[h].score, hyp[h].n, o->length_penalty);
        if (best < 0 || s > best_score) { best = h; best_score = s; }
    }
    if (best < 0) goto done;
    memcpy(out->tokens, hyp[best].tokens, sizeof(int32_t) * (size_t)hyp[best].n);
    out->n_tokens = hyp[best].n;
    out->sum_logprob = hyp[best].score;
    rc = 0;
done:
    for (int h = 0; hyp && h < nh; h++) free(hyp[h].tokens);
    free(hyp); free(seqs); free(nseqs); free(lp); free(c);
    return rc;
}

int uzw_search_window(const uzw_model *m, uzw_fwd_state *st, const int32_t *prompt, int n_prompt,
                      const uzw_search_opts *o, uzw_search_result *out) {
    int V = m->dims.n_vocab, T = m->dims.n_text_ctx;
    int sampling = o->temperature > 0;
    int B = sampling ? (o->best_of > 0 ? o->best_of : 1) : (o->beam_size > 0 ? o->beam_size : 1);
    if (B > st->n_seq_max || o->max_sample < 0) return -1;
    if (uzw_decoder_begin(m, st) != 0 || uzw_decoder_step(m, st, prompt, n_prompt) != 0) return -1;
    out->t_prompt_ms = uzw_now_ms();
    out->no_speech_prob = no_speech_of(m, st, prompt, n_prompt);
    out->n_tokens = 0;
    out->sum_logprob = 0;
    if (B > 1 && sampling) { /* best-of samples all start from the prompt's logits */
        if (uzw_decoder_fork(m, st, B) != 0) return -1;
        for (int j = 1; j < B; j++) memcpy(st->logits + (size_t)j * V, st->logits, sizeof(float) * (size_t)V);
    }
    int n_steps = 0;
    if (!sampling && B > 1) {
        uzw_search_opts bo = *o;
        bo.beam_size = B;
        if (search_beam(m, st, n_prompt, &bo, out, &n_steps) != 0) return -1;
    } else {
        int32_t *seqs = malloc(sizeof(int32_t) * (size_t)B * T);
        double sum_lp[UZW_MAX_SEQ];
        int len[UZW_MAX_SEQ];
        if (!seqs) return -1;
        if (search_sampling(m, st, n_prompt, o, B, seqs, sum_lp, len, &n_steps) != 0) { free(seqs); return -1; }
        int best = 0;
        for (int j = 1; j < B; j++)
            if (rank_score(sum_lp[j], len[j], o->length_penalty) > rank_score(sum_lp[best], len[best], o->length_penalty)) best = j;
        memcpy(out->tokens, seqs + (size_t)best * T, sizeof(int32_t) * (size_t)len[best]);
        out->n_tokens = len[best];
        out->sum_logprob = sum_lp[best];
        free(seqs);
    }
    out->avg_logprob = (float)(out->sum_logprob / (out->n_tokens + 1));
    out->n_steps = n_steps;
    return 0;
}
