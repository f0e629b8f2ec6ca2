/* bench_markdown.c - the Markdown tables of `uzwhisper bench`: accuracy per set, the product
 * targets (value, goal, met / NOT met, "n/a" when the set has nothing to measure), speed, phase
 * times and, with --compare, uzwhisper next to faster-whisper with the ratios. One row per set
 * and an "all" row. */
#include <math.h>
#include <string.h>

#include "bench.h"

typedef struct {
    const char *name;
    const bench_summary *s, *fw;
} row;

static const char *pct(char *b, size_t n, double v) {
    if (!isfinite(v)) snprintf(b, n, "n/a");
    else snprintf(b, n, "%.1f%%", 100.0 * v);
    return b;
}

static const char *fix(char *b, size_t n, double v, int digits) {
    if (!isfinite(v)) snprintf(b, n, "n/a");
    else snprintf(b, n, "%.*f", digits, v);
    return b;
}

static double ratio(double a, double b) { return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN; }

static void accuracy(FILE *f, const row *rows, int n, const bench_summary *all) {
    char b[12][32];
    fprintf(f, "## Accuracy\n\n| set | utterances | failed | audio (s) | WER | CER |");
    for (int l = 0; l < all->n_by_utt; l++) fprintf(f, " WER %s |", all->by_utt[l].lang);
    fprintf(f, " PIER | LID (utterance) | LID (word) | switch P / R / F1 (tp/fp/fn) |\n|---|---:|---:|---:|---:|---:|");
    for (int l = 0; l < all->n_by_utt; l++) fprintf(f, "---:|");
    fprintf(f, "---:|---:|---:|---|\n");
    for (int r = 0; r < n; r++) {
        const bench_summary *s = rows[r].s;
        fprintf(f, "| %s | %d | %d | %s | %s | %s |", rows[r].name, s->n, s->n_failed, fix(b[0], 32, s->audio_s, 1),
                pct(b[1], 32, bench_rate(&s->wer)), pct(b[2], 32, bench_rate(&s->cer)));
        for (int l = 0; l < all->n_by_utt; l++) fprintf(f, " %s |", pct(b[3], 32, bench_wer_of_utt_lang(s, all->by_utt[l].lang)));
        double p, rc, f1;
        bench_switch_prf(s, &p, &rc, &f1);
        fprintf(f, " %s | %s (%ld) | %s (%ld) | %s / %s / %s (%ld/%ld/%ld) |\n", pct(b[4], 32, bench_pier(s)),
                pct(b[5], 32, bench_lid_utt(s)), s->lid_utt_n, pct(b[6], 32, bench_lid_word(s)), s->lid_word_n,
                pct(b[7], 32, p), pct(b[8], 32, rc), pct(b[9], 32, f1), s->sw.tp, s->sw.fp, s->sw.fn);
    }
    fprintf(f, "\nWER and CER after normalisation (docs/metrics.md); n/a: nothing of that kind in the set. LID counts "
               "in brackets.\n\n");
}

static void targets(FILE *f, const bench_config *cfg, const row *rows, int n) {
    char b[2][32];
    fprintf(f, "## Targets\n\n| target | goal |");
    for (int r = 0; r < n; r++) fprintf(f, " %s |", rows[r].name);
    fprintf(f, "\n|---|---|");
    for (int r = 0; r < n; r++) fprintf(f, "---|");
    fprintf(f, "\n");
    for (int i = 0; i < BENCH_N_TARGETS; i++) {
        const bench_target *t = &cfg->targets.t[i];
        if (!t->active) continue;
        int is_rate = strcmp(t->name, "rtf") != 0;
        fprintf(f, "| %s (`%s`) | %s %s |", t->what, t->name, t->higher_is_better ? ">" : "<",
                is_rate ? pct(b[0], 32, t->target) : fix(b[0], 32, t->target, 2));
        for (int r = 0; r < n; r++) {
            double v = bench_target_value(t, rows[r].s);
            int met = bench_target_met(t, v);
            if (met < 0) fprintf(f, " n/a (no data) |");
            else fprintf(f, " %s %s |", is_rate ? pct(b[1], 32, v) : fix(b[1], 32, v, 3), met ? "met" : "**NOT met**");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

static void speed(FILE *f, const row *rows, int n) {
    char b[10][32];
    fprintf(f, "## Speed\n\n| set | RTF | TTFT p50 / p90 (ms) | latency p50 / p90 (ms) | decoder ms/token | peak RSS (MB) |\n"
               "|---|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < n; r++) {
        const bench_summary *s = rows[r].s;
        fprintf(f, "| %s | %s | %s / %s | %s / %s | %s | %s |\n", rows[r].name, fix(b[0], 32, bench_rtf(s), 3),
                fix(b[1], 32, bench_percentile(s->ttft, s->n_times, 0.5), 0),
                fix(b[2], 32, bench_percentile(s->ttft, s->n_times, 0.9), 0),
                fix(b[3], 32, bench_percentile(s->latency, s->n_times, 0.5), 0),
                fix(b[4], 32, bench_percentile(s->latency, s->n_times, 0.9), 0), fix(b[5], 32, bench_dec_ms_per_token(s), 2),
                fix(b[6], 32, s->n_ok ? s->peak_rss_mb : NAN, 0));
    }
    fprintf(f, "\n| set | audio decode | mel | encoder | language detection | decoder | detokenize | code-switch |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < n; r++) {
        const bench_summary *s = rows[r].s;
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", rows[r].name, fix(b[0], 32, s->ph_audio, 0),
                fix(b[1], 32, s->ph_mel, 0), fix(b[2], 32, s->ph_encoder, 0), fix(b[3], 32, s->ph_language, 0),
                fix(b[4], 32, s->ph_decoder, 0), fix(b[5], 32, s->ph_detok, 0), fix(b[6], 32, s->ph_codeswitch, 0));
    }
    fprintf(f, "\nRTF: processing time / audio time (below 1: faster than real time). TTFT: audio decode + time to the "
               "first text token. Phases: milliseconds summed over the set.\n\n");
}

static void compare(FILE *f, const bench_config *cfg, const row *rows, int n) {
    char b[10][32];
    fprintf(f, "## uzwhisper vs faster-whisper %s\n\n", cfg->fw_version);
    if (cfg->fw_error[0]) {
        fprintf(f, "The comparison did not run: %s\n\n", cfg->fw_error);
        return;
    }
    fprintf(f, "| set | system | WER | CER | LID (utterance) | RTF | TTFT p50 (ms) | TTFT p90 (ms) | latency p50 (ms) | peak RSS (MB) |\n"
               "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < n; r++) {
        const bench_summary *sys[2] = {rows[r].s, rows[r].fw};
        static const char *const names[2] = {"uzwhisper", "faster-whisper"};
        for (int k = 0; k < 2; k++) {
            const bench_summary *s = sys[k];
            fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rows[r].name, names[k],
                    pct(b[0], 32, bench_rate(&s->wer)), pct(b[1], 32, bench_rate(&s->cer)), pct(b[2], 32, bench_lid_utt(s)),
                    fix(b[3], 32, bench_rtf(s), 3), fix(b[4], 32, bench_percentile(s->ttft, s->n_times, 0.5), 0),
                    fix(b[5], 32, bench_percentile(s->ttft, s->n_times, 0.9), 0),
                    fix(b[6], 32, bench_percentile(s->latency, s->n_times, 0.5), 0),
                    fix(b[7], 32, s->n_ok ? s->peak_rss_mb : NAN, 0));
        }
        const bench_summary *o = sys[0], *t = sys[1];
        fprintf(f, "| %s | **ratio** | %s | %s | | %s | %s | %s | %s | %s |\n", rows[r].name,
                fix(b[0], 32, ratio(bench_rate(&o->wer), bench_rate(&t->wer)), 2),
                fix(b[1], 32, ratio(bench_rate(&o->cer), bench_rate(&t->cer)), 2), fix(b[2], 32, ratio(bench_rtf(o), bench_rtf(t)), 2),
                fix(b[3], 32, ratio(bench_percentile(o->ttft, o->n_times, 0.5), bench_percentile(t->ttft, t->n_times, 0.5)), 2),
                fix(b[4], 32, ratio(bench_percentile(o->ttft, o->n_times, 0.9), bench_percentile(t->ttft, t->n_times, 0.9)), 2),
                fix(b[5], 32, ratio(bench_percentile(o->latency, o->n_times, 0.5), bench_percentile(t->latency, t->n_times, 0.5)), 2),
                fix(b[6], 32, ratio(o->n_ok ? o->peak_rss_mb : NAN, t->n_ok ? t->peak_rss_mb : NAN), 2));
    }
    fprintf(f, "\nRatios are uzwhisper / faster-whisper: **below 1 means uzwhisper is faster** (times), smaller (memory) "
               "or makes fewer errors (WER, CER). Same files, weights, options and thread count (%d), one after the other "
               "in this run. Their TTFT is the time to the first segment (their API yields segments, not tokens); peak RSS "
               "is each process's whole peak.\n\n", cfg->threads);
}

int bench_write_markdown(FILE *f, const bench_config *cfg, const bench_set *sets, int n_sets, const bench_summary *all,
                         const bench_summary *fw_all) {
    row rows[65];
    int n = 0;
    for (int k = 0; k < n_sets && n < 64; k++) rows[n++] = (row){sets[k].name, &sets[k].sum, sets[k].fw ? &sets[k].fw_sum : NULL};
    if (n_sets != 1) rows[n++] = (row){"**all**", all, fw_all};
    const uzw_params *p = &cfg->params;
    fprintf(f, "# uzwhisper bench\n\nmodel `%s`%s%s%s, %d threads, language %s, allowed languages %s, code-switching %s, "
               "Uzbek script %s, beam %d, switch tolerance %.2f s\n\n",
            cfg->model_path, cfg->adapters[0] ? " with adapters `" : "", cfg->adapters, cfg->adapters[0] ? "`" : "",
            cfg->threads, p->language ? p->language : "auto", p->languages ? p->languages : "any",
            p->code_switch ? "on" : "off",
            p->uz_script == UZW_UZ_SCRIPT_LATIN ? "latin" : p->uz_script == UZW_UZ_SCRIPT_CYRILLIC ? "cyrillic" : "as decoded",
            p->beam_size, cfg->switch_tol);
    accuracy(f, rows, n, all);
    targets(f, cfg, rows, n);
    speed(f, rows, n);
    if (cfg->compare) compare(f, cfg, rows, fw_all ? n : 0);
    fflush(f);
    return ferror(f) ? -1 : 0;
}
