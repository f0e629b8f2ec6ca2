/* word_timing.c - the alignment pass over one window and faster-whisper's add_word_timestamps
 * (word_timing.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "decode/word_timing.h"
#include "model/ops.h"

#define MEDIAN_WIDTH 7
static const char PREPEND[] = "\"'\u201c\u00bf([{-";
static const char APPEND[] = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";
static const char SENTENCE_END[] = ".\u3002!\uff01?\uff1f";

void uzw_words_free(uzw_word *w, int n) {
    if (!w) return;
    for (int i = 0; i < n; i++) free(w[i].text);
    free(w);
}

/* Python's round(x, 2): the nearest double to x correctly rounded to 2 decimals. */
static double round2(double x) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f", x);
    return strtod(buf, NULL);
}

/* Probability of each next token: probs[k] = softmax(logits at row first + k over ids < eot)
 * [tokens[first + k + 1]], from the residual stream st->x after the teacher-forced step. */
static int token_probs(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int first, int n, double *probs) {
    int D = m->dims.n_text_state, V = m->dims.n_vocab, eot = m->sp.eot, chunk = 16;
    float *ln = malloc(sizeof(float) * (size_t)chunk * D), *lg = malloc(sizeof(float) * (size_t)chunk * V);
    if (!ln || !lg) { free(ln); free(lg); return -1; }
    for (int c0 = 0; c0 < n; c0 += chunk) {
        int c = n - c0 < chunk ? n - c0 : chunk;
        uzw_layernorm(st->x + (size_t)(first + c0) * D, m->dec_ln_w, m->dec_ln_b, ln, c, D);
        uzw_matmul(&m->tok_emb, ln, NULL, lg, c, NULL, 0); /* [c, V] */
        for (int r = 0; r < c; r++) {
            const float *l = lg + (size_t)r * V;
            float mx = -INFINITY;
            for (int v = 0; v < eot; v++) mx = l[v] > mx ? l[v] : mx;
            double sum = 0;
            for (int v = 0; v < eot; v++) sum += exp((double)l[v] - mx);
            int target = tokens[first + c0 + r + 1];
            probs[c0 + r] = target < eot ? exp((double)l[target] - mx) / sum : 0.0;
        }
    }
    free(ln);
    free(lg);
    return 0;
}

/* find_alignment: words with times relative to the window and probabilities. Returns the number of
 * words (EOT excluded; 0 if none) or -1. */
static int find_alignment(const uzw_model *m, uzw_fwd_state *st, const uzw_wt_window *win, const int32_t *text, int n_text,
                          uzw_wtiming **out, char *err, size_t es) {
    *out = NULL;
    int A = m->dims.n_audio_ctx, H = m->n_align_heads, n_tok = win->n_sot + n_text + 2;
    int F = win->num_frames / 2 < A ? win->num_frames / 2 : A;
    if (n_tok > m->dims.n_text_ctx) return uzw_errf(err, es, "word timestamps: %d tokens exceed the text context", n_tok);
    if (H <= 0) return uzw_errf(err, es, "word timestamps need alignment heads, and this model file has none");
    int32_t *seq = malloc(sizeof(int32_t) * (size_t)n_tok);
    float *qk = malloc(sizeof(float) * (size_t)H * n_tok * A), *w = NULL; /* [H, n_tok, A] */
    double *probs = malloc(sizeof(double) * (size_t)(n_text + 1)), *jumps = malloc(sizeof(double) * (size_t)(n_text + 1));
    uzw_wtiming *words = NULL;
    int nw = -1, n_split = 0, n_rows = n_text + 1, n_jumps = 0, rc = -1, at = 0, nospace = 0;
    static const char *const nospace_langs[] = {"zh", "ja", "th", "lo", "my", "yue"};
    if (!seq || !qk || !probs || !jumps) { uzw_errf(err, es, "out of memory for word timestamps"); goto done; }
    memcpy(seq, win->sot_seq, sizeof(int32_t) * (size_t)win->n_sot);
    seq[win->n_sot] = m->sp.no_timestamps;
    memcpy(seq + win->n_sot + 1, text, sizeof(int32_t) * (size_t)n_text);
    seq[n_tok - 1] = m->sp.eot;

    /* the teacher-forced pass, capturing the alignment heads */
    uzw_decoder_reset(st);
    st->xqk = qk;
    st->xqk_rows = n_tok;
    rc = uzw_decoder_step(m, st, seq, n_tok);
    st->xqk = NULL;
    st->xqk_rows = 0;
    if (rc != 0) { uzw_errf(err, es, "word timestamps: the alignment pass failed"); goto done; }
    if (token_probs(m, st, seq, win->n_sot, n_text, probs) != 0) { uzw_errf(err, es, "out of memory for word timestamps"); goto done; }
    uzw_decoder_reset(st);

    /* jumps of the rows <|notimestamps|> .. last text token */
    if (F > 0) {
        w = malloc(sizeof(float) * (size_t)n_tok * F); /* [n_tok, F] */
        if (!w || uzw_alignment_weights(qk, H, n_tok, n_tok, A, F, MEDIAN_WIDTH, w) != 0 ||
            (n_jumps = uzw_jump_times(w + (size_t)win->n_sot * F, n_rows, F, jumps)) < 0) {
            uzw_errf(err, es, "out of memory for word timestamps");
            goto done;
        }
    }
    for (size_t i = 0; i < sizeof nospace_langs / sizeof nospace_langs[0]; i++)
        nospace |= win->language && !strcmp(win->language, nospace_langs[i]);
    n_split = uzw_split_words(m->tok, seq + win->n_sot + 1, n_text + 1, m->sp.eot, nospace, &words);
    if (n_split < 0) { n_split = 0; uzw_errf(err, es, "out of memory for word timestamps"); goto done; }
    nw = 0;
    if (n_split <= 1 || F <= 0) goto done; /* EOT only; or no frames (CTranslate2 returns no alignment) */
    for (int k = 0; k < n_split - 1; k++) {
        int a = at, b = at + words[k].n_tokens;
        if (b >= n_jumps) { nw = uzw_errf(err, es, "word timestamps: the alignment path misses token %d", b); goto done; }
        words[k].start = jumps[a];
        words[k].end = jumps[b];
        double s = 0;
        for (int t = a; t < b; t++) s += probs[t];
        words[k].prob = s / (b - a);
        at = b;
    }
    nw = n_split - 1;
    free(words[nw].text); /* the EOT "word" */
    words[nw].text = NULL;
    *out = words;
    words = NULL;
done:
    uzw_wtimings_free(words, n_split);
    free(seq); free(qk); free(w); free(probs); free(jumps);
    return nw;
}

static double median_of(double *v, int n) {
    for (int i = 1; i < n; i++) {
        double x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j--; }
        v[j + 1] = x;
    }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int copy_word(uzw_word *dst, const uzw_wtiming *src, double offset) {
    size_t len = strlen(src->text);
    dst->text = malloc(len + 1);
    if (!dst->text) return -1;
    memcpy(dst->text, src->text, len + 1);
    dst->start = round2(offset + src->start);
    dst->end = round2(offset + src->end);
    dst->prob = (float)src->prob;
    dst->lang[0] = 0;
    dst->lang_prob = 0;
    return 0;
}

/* The words of one segment and the pause / boundary heuristics of add_word_timestamps. */
static void adjust_segment(uzw_wt_segment *sg, uzw_word *w, int n, double median_d, double max_d, double *last_speech) {
    if (n <= 0) return;
    /* the first and second word after a pause are at most twice the median duration */
    if (w[0].end - *last_speech > median_d * 4 &&
        (w[0].end - w[0].start > max_d || (n > 1 && w[1].end - w[0].start > max_d * 2))) {
        if (n > 1 && w[1].end - w[1].start > max_d) {
            double boundary = fmax(w[1].end / 2, w[1].end - max_d);
            w[0].end = w[1].start = boundary;
        }
        w[0].start = fmax(0, w[0].end - max_d);
    }
    /* prefer the segment's own start / end when the first / last word is too long */
    if (sg->start < w[0].end && sg->start - 0.5 > w[0].start)
        w[0].start = fmax(0, fmin(w[0].end - median_d, sg->start));
    else
        sg->start = w[0].start;
    if (sg->end > w[n - 1].start && sg->end + 0.5 < w[n - 1].end)
        w[n - 1].end = fmax(w[n - 1].start + median_d, sg->end);
    else
        sg->end = w[n - 1].end;
    *last_speech = sg->end;
}

int uzw_add_word_timestamps(const uzw_model *m, uzw_fwd_state *st, const uzw_wt_window *win, uzw_wt_segment *segs,
                            int n_segs, double *last_speech, char *err, size_t es) {
    for (int s = 0; s < n_segs; s++) { segs[s].words = NULL; segs[s].n_words = 0; }
    if (n_segs <= 0) return 0;
    int eot = m->sp.eot, n_text = 0;
    for (int s = 0; s < n_segs; s++)
        for (int i = 0; i < segs[s].n_tokens; i++) n_text += segs[s].tokens[i] < eot;
    int32_t *text = malloc(sizeof(int32_t) * (size_t)(n_text ? n_text : 1));
    int *seg_text = malloc(sizeof(int) * (size_t)n_segs);
    double *dur = NULL;
    uzw_wtiming *al = NULL;
    int na = 0, rc = -1;
    if (!text || !seg_text) { uzw_errf(err, es, "out of memory for word timestamps"); goto done; }
    n_text = 0;
    for (int s = 0; s < n_segs; s++) {
        seg_text[s] = 0;
        for (int i = 0; i < segs[s].n_tokens; i++)
            if (segs[s].tokens[i] < eot) { text[n_text++] = segs[s].tokens[i]; seg_text[s]++; }
    }
    if (n_text > 0 && (na = find_alignment(m, st, win, text, n_text, &al, err, es)) < 0) { na = 0; goto done; }

    /* median word duration (at most 0.7 s); long words at sentence boundaries are cut to twice it */
    double median_d = 0, max_d = 0;
    dur = malloc(sizeof(double) * (size_t)(na ? na : 1));
    if (!dur) { uzw_errf(err, es, "out of memory for word timestamps"); goto done; }
    int nd = 0;
    for (int k = 0; k < na; k++)
        if (al[k].end - al[k].start != 0) dur[nd++] = al[k].end - al[k].start;
    if (nd > 0) median_d = median_of(dur, nd);
    median_d = fmin(0.7, median_d);
    max_d = median_d * 2;
    if (nd > 0)
        for (int k = 1; k < na; k++)
            if (al[k].end - al[k].start > max_d) {
                if (uzw_str_in(al[k].text, SENTENCE_END)) al[k].end = al[k].start + max_d;
                else if (uzw_str_in(al[k - 1].text, SENTENCE_END)) al[k].start = al[k].end - max_d;
            }
    if (uzw_merge_punctuations(al, na, PREPEND, APPEND) != 0) { uzw_errf(err, es, "out of memory for word timestamps"); goto done; }

    /* hand the words out to the segments by their token counts */
    double offset = (double)win->seek / 100.0;
    int wi = 0;
    for (int s = 0; s < n_segs; s++) {
        int saved = 0, n = 0;
        uzw_word *words = calloc((size_t)(na ? na : 1), sizeof *words);
        if (!words) { uzw_errf(err, es, "out of memory for word timestamps"); goto done; }
        segs[s].words = words;
        while (wi < na && saved < seg_text[s]) {
            if (al[wi].text[0]) {
                if (copy_word(&words[n], &al[wi], offset) != 0) { uzw_errf(err, es, "out of memory for word timestamps"); goto done; }
                segs[s].n_words = ++n;
            }
            saved += al[wi].n_tokens;
            wi++;
        }
        adjust_segment(&segs[s], words, n, median_d, max_d, last_speech);
    }
    rc = 0;
done:
    if (rc != 0)
        for (int s = 0; s < n_segs; s++) { uzw_words_free(segs[s].words, segs[s].n_words); segs[s].words = NULL; segs[s].n_words = 0; }
    uzw_wtimings_free(al, na);
    free(text); free(seg_text); free(dur);
    return rc;
}
