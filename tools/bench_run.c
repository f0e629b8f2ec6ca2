/* bench_run.c - uzwhisper over every utterance of the bench: load the audio, transcribe it with the
 * bench's parameters and keep the result as plain data (bench_hyp): text, words with their
 * languages, switch points, the engine's phase times, the wall time of load + transcribe and the
 * process's peak memory. A failing utterance is recorded and the run goes on. Progress goes to
 * stderr, one line an utterance, unless quiet. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bench_peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

void bench_hyp_free(bench_hyp *h) {
    if (!h) return;
    for (int i = 0; i < h->n_units; i++) free(h->units[i].text);
    free(h->units);
    free(h->switches);
    free(h->text);
    free(h->error);
    memset(h, 0, sizeof *h);
}

static char *dup_str(const char *s) { return strdup(s ? s : ""); }

static void set_lang(char dst[BENCH_LANG], const char *src) { snprintf(dst, BENCH_LANG, "%s", src ? src : ""); }

static char *fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_alloc(const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* The context's transcript as a bench_hyp: words where the engine gave them, else segments. */
static int collect(bench_hyp *h, const uzw_context *ctx) {
    h->text = dup_str(uzw_full_text(ctx));
    if (!h->text) return -1;
    set_lang(h->language, uzw_language(ctx));
    int ns = uzw_n_segments(ctx), n = 0;
    for (int i = 0; i < ns; i++) {
        int nw = uzw_segment_n_words(ctx, i);
        n += nw > 0 ? nw : 1;
    }
    h->units = n ? calloc((size_t)n, sizeof *h->units) : NULL;
    if (n && !h->units) return -1;
    for (int i = 0; i < ns; i++) {
        int nw = uzw_segment_n_words(ctx, i);
        const char *seg_lang = uzw_segment_language(ctx, i);
        if (nw <= 0) {
            bench_unit *un = &h->units[h->n_units++];
            if (!(un->text = dup_str(uzw_segment_text(ctx, i)))) return -1;
            set_lang(un->lang, seg_lang);
            continue;
        }
        h->has_words = 1;
        for (int w = 0; w < nw; w++) {
            bench_unit *un = &h->units[h->n_units++];
            if (!(un->text = dup_str(uzw_word_text(ctx, i, w)))) return -1;
            const char *wl = uzw_word_language(ctx, i, w);
            set_lang(un->lang, wl && *wl ? wl : seg_lang);
        }
    }
    int nsw = uzw_n_switches(ctx);
    h->switches = nsw > 0 ? calloc((size_t)nsw, sizeof *h->switches) : NULL;
    if (nsw > 0 && !h->switches) return -1;
    for (int k = 0; k < nsw; k++) {
        h->switches[k].time = uzw_switch_time(ctx, k);
        set_lang(h->switches[k].from, uzw_switch_from(ctx, k));
        set_lang(h->switches[k].to, uzw_switch_to(ctx, k));
    }
    h->n_switches = nsw > 0 ? nsw : 0;
    return 0;
}

/* Errors that would fail every utterance the same way: stop the run instead. */
static int fatal_status(uzw_status st) {
    return st == UZW_ERR_LANGUAGE || st == UZW_ERR_NO_MEMORY || st == UZW_ERR_INVALID_ARG || st == UZW_ERR_UNSUPPORTED;
}

static void progress(const bench_config *cfg, const bench_set *set, int i, int done, int total) {
    if (cfg->quiet) return;
    const uze_utterance *u = &set->m.utt[i];
    const bench_hyp *h = &set->ours[i];
    if (!h->ok) {
        fprintf(stderr, "bench: [%d/%d] %s/%s: FAILED: %s\n", done, total, set->name, u->id, h->error ? h->error : "?");
        return;
    }
    const bench_score *s = &set->ours_s[i];
    fprintf(stderr, "bench: [%d/%d] %s/%s: %.1f s audio, WER %.1f%%, CER %.1f%%, language %s -> %s, RTF %.3f, TTFT %.0f ms\n",
            done, total, set->name, u->id, h->duration_s, 100.0 * uze_error_rate(&s->wer), 100.0 * uze_error_rate(&s->cer),
            s->lid_ref[0] ? s->lid_ref : u->language, s->lid_hyp[0] ? s->lid_hyp : "-", h->duration_s > 0 ? h->total_ms / 1e3 / h->duration_s : 0.0,
            h->ttft_ms);
}

/* One utterance: 0 (recorded, ok or failed), or -1 when the run must stop (err says why). */
static int run_one(bench_config *cfg, uzw_context *ctx, const uze_utterance *u, bench_hyp *h, bench_score *s,
                   char *err, size_t err_size) {
    memset(h, 0, sizeof *h);
    memset(s, 0, sizeof *s);
    double t0 = bench_now_ms();
    uzw_status st = uzw_load_audio_file(ctx, u->audio);
    if (st == UZW_OK) st = uzw_transcribe_loaded(ctx, &cfg->params);
    double t1 = bench_now_ms();
    h->peak_rss_mb = bench_peak_rss_mb();
    if (st != UZW_OK) {
        if (fatal_status(st)) {
            snprintf(err, err_size, "%s: %s (%s)", u->audio, uzw_last_error(ctx), uzw_status_string(st));
            return -1;
        }
        h->error = fmt_alloc("%s (%s)", uzw_last_error(ctx), uzw_status_string(st));
        return 0;
    }
    h->duration_s = uzw_audio_duration(ctx);
    h->total_ms = t1 - t0;
    h->t = uzw_get_timings(ctx);
    /* no text token at all (silence): the first answer is the whole (empty) result */
    h->ttft_ms = h->t.first_token_ms > 0 ? h->t.audio_ms + h->t.first_token_ms : h->total_ms;
    if (collect(h, ctx) != 0 || bench_score_utt(u, h, cfg->switch_tol, s) != 0) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    h->ok = 1;
    return 0;
}

int bench_run_ours(bench_config *cfg, const uzw_model *model, bench_set *sets, int n_sets, char *err, size_t err_size) {
    uzw_context *ctx = NULL;
    uzw_status st = uzw_context_create(model, &ctx);
    if (st != UZW_OK) {
        snprintf(err, err_size, "cannot create a decoding context: %s", uzw_status_string(st));
        return -1;
    }
    if (cfg->device && *cfg->device && uzw_context_set_device(ctx, cfg->device) != UZW_OK) {
        snprintf(err, err_size, "%s", uzw_last_error(ctx));
        uzw_context_free(ctx);
        return -1;
    }
    int total = 0, done = 0;
    for (int k = 0; k < n_sets; k++) total += sets[k].m.n;
    if (cfg->warmup && total > 0) {
        /* one untimed run: pages the mmapped weights in and warms the caches, as the peer's model load does */
        const uze_utterance *u = NULL;
        for (int k = 0; k < n_sets && !u; k++)
            if (sets[k].m.n) u = &sets[k].m.utt[0];
        if (!cfg->quiet) fprintf(stderr, "bench: warm-up run on %s (not timed)\n", u->id);
        st = uzw_transcribe_file(ctx, u->audio, &cfg->params);
        if (fatal_status(st)) {
            snprintf(err, err_size, "%s: %s (%s)", u->audio, uzw_last_error(ctx), uzw_status_string(st));
            uzw_context_free(ctx);
            return -1;
        }
    }
    for (int k = 0; k < n_sets; k++) {
        bench_set *set = &sets[k];
        int n = set->m.n;
        set->ours = calloc(n ? (size_t)n : 1, sizeof *set->ours);
        set->ours_s = calloc(n ? (size_t)n : 1, sizeof *set->ours_s);
        if (!set->ours || !set->ours_s) {
            snprintf(err, err_size, "out of memory");
            uzw_context_free(ctx);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (run_one(cfg, ctx, &set->m.utt[i], &set->ours[i], &set->ours_s[i], err, err_size) != 0) {
                uzw_context_free(ctx);
                return -1;
            }
            progress(cfg, set, i, ++done, total);
        }
    }
    uzw_context_free(ctx);
    return 0;
}
