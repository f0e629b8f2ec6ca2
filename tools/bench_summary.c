/* bench_summary.c - a set's numbers: edit counts summed over its utterances (so WER is the corpus
 * WER, sum of errors over sum of reference words, not a mean of per-utterance rates), by
 * utterance language and by word language, PIER, LID, switch counts, times and memory. Failed
 * utterances are counted (n_failed) but add nothing else. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/util.h" /* uzw_sort_f64 */

static bench_lang_counts *lang_slot(bench_lang_counts *v, int *n, const char *lang) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(v[i].lang, lang)) return &v[i];
    if (*n == BENCH_MAX_LANGS) return NULL; /* more languages than any manifest has: not broken down */
    bench_lang_counts *c = &v[(*n)++];
    memset(c, 0, sizeof *c);
    snprintf(c->lang, BENCH_LANG, "%s", lang);
    return c;
}

static int push(double **v, int n, double x) {
    double *p = realloc(*v, sizeof **v * (size_t)(n + 1));
    if (!p) return -1;
    p[n] = x;
    *v = p;
    return 0;
}

int bench_summary_add(bench_summary *sum, const uze_utterance *u, const bench_hyp *h, const bench_score *s) {
    sum->n++;
    if (!h || !h->ok || !s) {
        sum->n_failed++;
        return 0;
    }
    sum->n_ok++;
    sum->audio_s += h->duration_s;
    sum->proc_ms += h->total_ms;
    uze_counts_add(&sum->wer, &s->wer);
    uze_counts_add(&sum->cer, &s->cer);
    bench_lang_counts *c = lang_slot(sum->by_utt, &sum->n_by_utt, u->language);
    if (c) {
        uze_counts_add(&c->c, &s->wer);
        c->n_utt++;
    }
    for (int i = 0; i < s->langs.n_langs; i++) {
        c = lang_slot(sum->by_word, &sum->n_by_word, s->langs.per_lang[i].lang);
        if (c) {
            uze_counts_add(&c->c, &s->langs.per_lang[i].c);
            c->n_utt++;
        }
    }
    uze_counts_add(&sum->switched_in, &s->langs.switched_in);
    if (s->lid_scored) {
        sum->lid_utt_n++;
        sum->lid_utt_ok += s->lid_correct;
    }
    sum->lid_word_n += s->langs.lid_words;
    sum->lid_word_ok += s->langs.lid_words_correct;
    sum->sw.tp += s->sw.tp;
    sum->sw.fp += s->sw.fp;
    sum->sw.fn += s->sw.fn;
    sum->n_ref_switches += s->n_ref_sw;
    sum->ph_audio += h->t.audio_ms;
    sum->ph_mel += h->t.mel_ms;
    sum->ph_encoder += h->t.encoder_ms;
    sum->ph_language += h->t.language_ms;
    sum->ph_decoder += h->t.decoder_ms;
    sum->ph_detok += h->t.detok_ms;
    sum->ph_codeswitch += h->t.codeswitch_ms;
    sum->dec_steps += h->t.n_decoder_steps;
    if (push(&sum->ttft, sum->n_times, h->ttft_ms) != 0 || push(&sum->latency, sum->n_times, h->total_ms) != 0) return -1;
    sum->n_times++;
    if (h->peak_rss_mb > sum->peak_rss_mb) sum->peak_rss_mb = h->peak_rss_mb;
    return 0;
}

void bench_summary_finish(bench_summary *sum) {
    if (sum->n_times > 1) {
        uzw_sort_f64(sum->ttft, (size_t)sum->n_times);
        uzw_sort_f64(sum->latency, (size_t)sum->n_times);
    }
}

void bench_summary_free(bench_summary *sum) {
    free(sum->ttft);
    free(sum->latency);
    memset(sum, 0, sizeof *sum);
}

double bench_rate(const uze_counts *c) { return c->hits + c->subs + c->dels + c->ins > 0 ? uze_error_rate(c) : NAN; }

double bench_wer_of_utt_lang(const bench_summary *s, const char *lang) {
    for (int i = 0; i < s->n_by_utt; i++)
        if (!strcmp(s->by_utt[i].lang, lang)) return bench_rate(&s->by_utt[i].c);
    return NAN;
}

double bench_pier(const bench_summary *s) {
    const uze_counts *c = &s->switched_in;
    long words = c->hits + c->subs + c->dels;
    return words > 0 ? uze_error_rate(c) : NAN;
}

double bench_lid_utt(const bench_summary *s) { return s->lid_utt_n ? (double)s->lid_utt_ok / (double)s->lid_utt_n : NAN; }
double bench_lid_word(const bench_summary *s) { return s->lid_word_n ? (double)s->lid_word_ok / (double)s->lid_word_n : NAN; }

void bench_switch_prf(const bench_summary *s, double *p, double *r, double *f1) {
    if (s->n_ref_switches == 0) {
        *p = *r = *f1 = NAN;
        return;
    }
    uze_switch_prf(&s->sw, p, r, f1);
}

double bench_rtf(const bench_summary *s) { return s->audio_s > 0 ? s->proc_ms / 1e3 / s->audio_s : NAN; }

double bench_percentile(const double *v, int n, double q) {
    if (n <= 0) return NAN;
    double pos = q * (n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1) return v[n - 1];
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

double bench_dec_ms_per_token(const bench_summary *s) { return s->dec_steps ? s->ph_decoder / (double)s->dec_steps : NAN; }
