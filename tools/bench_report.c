/* bench_report.c - the JSON report of `uzwhisper bench` (fields: docs/bench.md):
 *   {tool, version, created, model, threads, options {...}, targets {...},
 *    sets [{name, manifest, summary {...}, targets [...], compare {...}?, utterances [...]}],
 *    all {name, summary, targets, compare?}, compare {system, version, model, ...}?}
 * Rates are fractions (0.25 = 25%); a number that cannot be measured (no utterance of that kind,
 * no reference switches) is null, never 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "output.h"

/* json_object_set_new / json_array_append_new remembering a failure (NULL value: out of memory) */
static void put(json_t *o, const char *key, json_t *v, int *bad) {
    if (!o) json_decref(v); /* the *_new calls take v even when they fail */
    if (!o || !v || json_object_set_new(o, key, v) != 0) *bad = 1;
}
static void append(json_t *a, json_t *v, int *bad) {
    if (!a) json_decref(v);
    if (!a || !v || json_array_append_new(a, v) != 0) *bad = 1;
}

/* a number to 6 significant digits; null when not finite */
static json_t *num(double v) {
    if (!isfinite(v)) return json_null();
    char b[32];
    snprintf(b, sizeof b, "%.6g", v);
    return json_real(strtod(b, NULL));
}
static json_t *str(const char *s) { return out_json_string(s); }

static json_t *counts_json(const uze_counts *c, int *bad) {
    json_t *o = json_object();
    put(o, "hits", json_integer(c->hits), bad);
    put(o, "subs", json_integer(c->subs), bad);
    put(o, "dels", json_integer(c->dels), bad);
    put(o, "ins", json_integer(c->ins), bad);
    put(o, "rate", num(bench_rate(c)), bad);
    return o;
}

static json_t *switch_json(const uze_switch *s, int *bad) {
    json_t *o = json_object();
    put(o, "time", num(s->time), bad);
    put(o, "from", str(s->from), bad);
    put(o, "to", str(s->to), bad);
    return o;
}

json_t *bench_options_json(const bench_config *cfg, int *bad) {
    const uzw_params *p = &cfg->params;
    json_t *o = json_object(), *temps = json_array();
    static const float def_temps[] = {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};
    const float *t = p->temperatures ? p->temperatures : def_temps;
    int nt = p->temperatures ? p->n_temperatures : 6;
    for (int i = 0; i < nt; i++) append(temps, num(t[i]), bad);
    static const char *const scripts[] = {"as-decoded", "latin", "cyrillic"};
    put(o, "language", str(p->language ? p->language : "auto"), bad);
    put(o, "languages", p->languages ? str(p->languages) : json_null(), bad);
    put(o, "code_switch", json_boolean(p->code_switch), bad);
    put(o, "uz_script", str(p->uz_script >= 0 && p->uz_script <= 2 ? scripts[p->uz_script] : "?"), bad);
    put(o, "task", str(p->task == UZW_TASK_TRANSLATE ? "translate" : "transcribe"), bad);
    put(o, "beam_size", json_integer(p->beam_size), bad);
    put(o, "best_of", json_integer(p->best_of), bad);
    put(o, "patience", num(p->patience), bad);
    put(o, "length_penalty", num(p->length_penalty), bad);
    put(o, "temperatures", temps, bad);
    put(o, "compression_ratio_threshold", num(p->compression_ratio_threshold), bad);
    put(o, "logprob_threshold", num(p->logprob_threshold), bad);
    put(o, "no_speech_threshold", num(p->no_speech_threshold), bad);
    put(o, "condition_on_previous_text", json_boolean(p->condition_on_previous_text), bad);
    put(o, "prompt_reset_on_temperature", num(p->prompt_reset_on_temperature), bad);
    put(o, "initial_prompt", p->initial_prompt ? str(p->initial_prompt) : json_null(), bad);
    put(o, "without_timestamps", json_boolean(p->without_timestamps), bad);
    put(o, "max_initial_timestamp", num(p->max_initial_timestamp), bad);
    put(o, "word_timestamps", json_boolean(p->word_timestamps), bad);
    put(o, "suppress_blank", json_boolean(p->suppress_blank), bad);
    put(o, "max_tokens_per_window", json_integer(p->max_tokens_per_window), bad);
    put(o, "vad_filter", json_boolean(p->vad_filter), bad);
    put(o, "cut_repetitions", json_boolean(p->cut_repetitions), bad);
    put(o, "seed", json_integer((json_int_t)p->seed), bad);
    put(o, "switch_tolerance", num(cfg->switch_tol), bad);
    put(o, "warmup", json_boolean(cfg->warmup), bad);
    return o;
}

static json_t *targets_json(const bench_targets *t, const bench_summary *s, int *bad) {
    json_t *a = json_array();
    for (int i = 0; i < BENCH_N_TARGETS; i++) {
        const bench_target *k = &t->t[i];
        if (!k->active) continue;
        double v = bench_target_value(k, s);
        int met = bench_target_met(k, v);
        json_t *o = json_object();
        put(o, "name", str(k->name), bad);
        put(o, "what", str(k->what), bad);
        put(o, "value", num(v), bad);
        put(o, "target", num(k->target), bad);
        put(o, "op", str(k->higher_is_better ? ">" : "<"), bad);
        put(o, "met", met < 0 ? json_null() : json_boolean(met), bad);
        append(a, o, bad);
    }
    return a;
}

/* with_phases: the engine's phase times (ours only) */
static json_t *summary_json(const bench_summary *s, int with_phases, int *bad) {
    json_t *o = json_object(), *byu = json_object(), *byw = json_object(), *sw = json_object(), *ttft = json_object(),
           *lat = json_object();
    put(o, "n", json_integer(s->n), bad);
    put(o, "n_ok", json_integer(s->n_ok), bad);
    put(o, "n_failed", json_integer(s->n_failed), bad);
    put(o, "audio_seconds", num(s->audio_s), bad);
    put(o, "processing_seconds", num(s->proc_ms / 1e3), bad);
    put(o, "wer", num(bench_rate(&s->wer)), bad);
    put(o, "cer", num(bench_rate(&s->cer)), bad);
    put(o, "wer_counts", counts_json(&s->wer, bad), bad);
    put(o, "cer_counts", counts_json(&s->cer, bad), bad);
    for (int i = 0; i < s->n_by_utt; i++) {
        json_t *e = json_object();
        put(e, "wer", num(bench_rate(&s->by_utt[i].c)), bad);
        put(e, "utterances", json_integer(s->by_utt[i].n_utt), bad);
        put(e, "ref_words", json_integer(s->by_utt[i].c.hits + s->by_utt[i].c.subs + s->by_utt[i].c.dels), bad);
        put(byu, s->by_utt[i].lang, e, bad);
    }
    put(o, "wer_by_utterance_language", byu, bad);
    for (int i = 0; i < s->n_by_word; i++) {
        json_t *e = json_object();
        put(e, "wer", num(bench_rate(&s->by_word[i].c)), bad);
        put(e, "ref_words", json_integer(s->by_word[i].c.hits + s->by_word[i].c.subs + s->by_word[i].c.dels), bad);
        put(byw, s->by_word[i].lang, e, bad);
    }
    put(o, "wer_by_word_language", byw, bad);
    put(o, "pier", num(bench_pier(s)), bad);
    put(o, "switched_in_words", json_integer(s->switched_in.hits + s->switched_in.subs + s->switched_in.dels), bad);
    put(o, "lid_utterance", num(bench_lid_utt(s)), bad);
    put(o, "lid_utterances", json_integer(s->lid_utt_n), bad);
    put(o, "lid_word", num(bench_lid_word(s)), bad);
    put(o, "lid_words", json_integer(s->lid_word_n), bad);
    double p, r, f1;
    bench_switch_prf(s, &p, &r, &f1);
    put(sw, "precision", num(p), bad);
    put(sw, "recall", num(r), bad);
    put(sw, "f1", num(f1), bad);
    put(sw, "tp", json_integer(s->sw.tp), bad);
    put(sw, "fp", json_integer(s->sw.fp), bad);
    put(sw, "fn", json_integer(s->sw.fn), bad);
    put(sw, "ref_switches", json_integer(s->n_ref_switches), bad);
    put(o, "switch", sw, bad);
    put(o, "rtf", num(bench_rtf(s)), bad);
    put(ttft, "p50", num(bench_percentile(s->ttft, s->n_times, 0.5)), bad);
    put(ttft, "p90", num(bench_percentile(s->ttft, s->n_times, 0.9)), bad);
    put(o, "ttft_ms", ttft, bad);
    put(lat, "p50", num(bench_percentile(s->latency, s->n_times, 0.5)), bad);
    put(lat, "p90", num(bench_percentile(s->latency, s->n_times, 0.9)), bad);
    put(lat, "max", num(s->n_times ? s->latency[s->n_times - 1] : NAN), bad);
    put(o, "latency_ms", lat, bad);
    if (with_phases) {
        json_t *ph = json_object();
        put(ph, "audio_decode", num(s->ph_audio), bad);
        put(ph, "mel", num(s->ph_mel), bad);
        put(ph, "encoder", num(s->ph_encoder), bad);
        put(ph, "language_detection", num(s->ph_language), bad);
        put(ph, "decoder", num(s->ph_decoder), bad);
        put(ph, "detokenize", num(s->ph_detok), bad);
        put(ph, "code_switch", num(s->ph_codeswitch), bad);
        put(o, "phases_ms", ph, bad);
        put(o, "decoder_steps", json_integer(s->dec_steps), bad);
        put(o, "decoder_ms_per_token", num(bench_dec_ms_per_token(s)), bad);
    } else {
        put(o, "phases_ms", json_null(), bad);
        put(o, "decoder_ms_per_token", json_null(), bad);
    }
    put(o, "peak_rss_mb", num(s->n_ok ? s->peak_rss_mb : NAN), bad);
    return o;
}

static double ratio(double ours, double theirs) { return isfinite(ours) && isfinite(theirs) && theirs > 0 ? ours / theirs : NAN; }

static json_t *compare_json(const bench_config *cfg, const bench_summary *ours, const bench_summary *fw, int *bad) {
    json_t *o = json_object(), *r = json_object();
    put(o, "faster_whisper", summary_json(fw, 0, bad), bad);
    put(r, "rtf", num(ratio(bench_rtf(ours), bench_rtf(fw))), bad);
    put(r, "ttft_p50", num(ratio(bench_percentile(ours->ttft, ours->n_times, 0.5), bench_percentile(fw->ttft, fw->n_times, 0.5))), bad);
    put(r, "ttft_p90", num(ratio(bench_percentile(ours->ttft, ours->n_times, 0.9), bench_percentile(fw->ttft, fw->n_times, 0.9))), bad);
    put(r, "latency_p50",
        num(ratio(bench_percentile(ours->latency, ours->n_times, 0.5), bench_percentile(fw->latency, fw->n_times, 0.5))), bad);
    put(r, "peak_rss", num(ratio(ours->n_ok ? ours->peak_rss_mb : NAN, fw->n_ok ? fw->peak_rss_mb : NAN)), bad);
    put(r, "wer", num(ratio(bench_rate(&ours->wer), bench_rate(&fw->wer))), bad);
    put(r, "cer", num(ratio(bench_rate(&ours->cer), bench_rate(&fw->cer))), bad);
    put(o, "ratios", r, bad);
    put(o, "note", str("ratios are uzwhisper / faster-whisper: for times and memory below 1 means uzwhisper is faster "
                       "(smaller); for WER and CER below 1 means uzwhisper makes fewer errors"), bad);
    (void)cfg;
    return o;
}

static json_t *lid_json(const bench_score *s, int *bad) {
    json_t *o = json_object();
    put(o, "ref", s->lid_ref[0] ? str(s->lid_ref) : json_null(), bad);
    put(o, "predicted", s->lid_hyp[0] ? str(s->lid_hyp) : json_null(), bad);
    put(o, "correct", s->lid_scored ? json_boolean(s->lid_correct) : json_null(), bad);
    return o;
}

/* The scored output of one system on one utterance (the fields that both systems have). */
static void put_hyp(json_t *o, const bench_hyp *h, const bench_score *s, int *bad) {
    put(o, "ok", json_boolean(h->ok), bad);
    put(o, "error", h->ok ? json_null() : str(h->error ? h->error : "failed"), bad);
    if (!h->ok) return;
    put(o, "hyp", str(h->text), bad);
    put(o, "hyp_norm", str(s->hyp_norm), bad);
    put(o, "wer", counts_json(&s->wer, bad), bad);
    put(o, "cer", counts_json(&s->cer, bad), bad);
    put(o, "language", lid_json(s, bad), bad);
    put(o, "decoding_language", h->language[0] ? str(h->language) : json_null(), bad);
    put(o, "total_ms", num(h->total_ms), bad);
    put(o, "ttft_ms", num(h->ttft_ms), bad);
    put(o, "rtf", num(h->duration_s > 0 ? h->total_ms / 1e3 / h->duration_s : NAN), bad);
    put(o, "peak_rss_mb", num(h->peak_rss_mb), bad);
}

static json_t *utterance_json(const uze_utterance *u, const bench_hyp *h, const bench_score *s, const bench_hyp *fh,
                              const bench_score *fs, int *bad) {
    json_t *o = json_object();
    put(o, "id", str(u->id), bad);
    put(o, "audio", str(u->audio), bad);
    put(o, "line", json_integer(u->line), bad);
    put(o, "duration", num(h->ok ? h->duration_s : NAN), bad);
    put(o, "ref", str(u->text), bad);
    put_hyp(o, h, s, bad);
    if (h->ok) {
        put(o, "ref_norm", str(s->ref_norm), bad);
        json_t *wl = json_object(), *rl = json_array(), *hl = json_array();
        for (int i = 0; i < s->nr; i++) append(rl, str(s->ref_lang[i]), bad);
        for (int j = 0; j < s->nh; j++) append(hl, s->hyp_lang[j][0] ? str(s->hyp_lang[j]) : json_null(), bad);
        put(wl, "ref", rl, bad);
        put(wl, "hyp", hl, bad);
        put(o, "word_languages", wl, bad);
        json_t *lw = json_object();
        put(lw, "n", json_integer(s->langs.lid_words), bad);
        put(lw, "correct", json_integer(s->langs.lid_words_correct), bad);
        put(o, "lid_words", lw, bad);
        json_t *sw = json_object(), *ra = json_array(), *ha = json_array(), *ma = json_array();
        for (int i = 0; i < s->n_ref_sw; i++) append(ra, switch_json(&s->ref_sw[i], bad), bad);
        for (int j = 0; j < h->n_switches; j++) append(ha, switch_json(&h->switches[j], bad), bad);
        for (int i = 0; i < s->n_ref_sw; i++) {
            if (s->ref_match[i] < 0) continue;
            json_t *pair = json_array();
            append(pair, json_integer(i), bad);
            append(pair, json_integer(s->ref_match[i]), bad);
            append(ma, pair, bad);
        }
        put(sw, "ref", ra, bad);
        put(sw, "hyp", ha, bad);
        put(sw, "matched", ma, bad);
        put(sw, "tp", json_integer(s->sw.tp), bad);
        put(sw, "fp", json_integer(s->sw.fp), bad);
        put(sw, "fn", json_integer(s->sw.fn), bad);
        put(o, "switches", sw, bad);
        json_t *tm = json_object();
        const uzw_timings *t = &h->t;
        put(tm, "audio_decode", num(t->audio_ms), bad);
        put(tm, "mel", num(t->mel_ms), bad);
        put(tm, "encoder", num(t->encoder_ms), bad);
        put(tm, "language_detection", num(t->language_ms), bad);
        put(tm, "decoder", num(t->decoder_ms), bad);
        put(tm, "detokenize", num(t->detok_ms), bad);
        put(tm, "code_switch", num(t->codeswitch_ms), bad);
        put(tm, "first_token", num(t->first_token_ms), bad);
        put(tm, "decoder_per_token", num(t->n_decoder_steps ? t->decoder_ms / t->n_decoder_steps : NAN), bad);
        put(o, "timings_ms", tm, bad);
        put(o, "decoder_steps", json_integer(t->n_decoder_steps), bad);
        put(o, "windows", json_integer(t->n_windows), bad);
    }
    if (fh) {
        json_t *f = json_object();
        put_hyp(f, fh, fs, bad);
        if (fh->ok) put(f, "duration", num(fh->duration_s), bad);
        put(o, "faster_whisper", f, bad);
    }
    return o;
}

static json_t *set_json(const bench_config *cfg, const char *name, const char *manifest, const bench_summary *sum,
                        const bench_summary *fw_sum, int *bad) {
    json_t *o = json_object();
    put(o, "name", str(name), bad);
    if (manifest) put(o, "manifest", str(manifest), bad);
    put(o, "summary", summary_json(sum, 1, bad), bad);
    put(o, "targets", targets_json(&cfg->targets, sum, bad), bad);
    if (fw_sum) put(o, "compare", compare_json(cfg, sum, fw_sum, bad), bad);
    return o;
}

json_t *bench_report_json(const bench_config *cfg, const bench_set *sets, int n_sets, const bench_summary *all,
                          const bench_summary *fw_all) {
    int bad = 0;
    json_t *o = json_object(), *tg = json_object(), *sa = json_array();
    char created[32];
    time_t now = time(NULL);
    struct tm tmv;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    put(o, "tool", str("uzwhisper bench"), &bad);
    put(o, "version", str(uzw_version()), &bad);
    put(o, "created", str(created), &bad);
    put(o, "model", str(cfg->model_path), &bad);
    if (cfg->adapters[0]) put(o, "adapters", str(cfg->adapters), &bad);
    put(o, "threads", json_integer(cfg->threads), &bad);
    put(o, "options", bench_options_json(cfg, &bad), &bad);
    for (int i = 0; i < BENCH_N_TARGETS; i++) {
        const bench_target *k = &cfg->targets.t[i];
        if (!k->active) continue;
        json_t *e = json_object();
        put(e, "target", num(k->target), &bad);
        put(e, "op", str(k->higher_is_better ? ">" : "<"), &bad);
        put(e, "what", str(k->what), &bad);
        put(tg, k->name, e, &bad);
    }
    put(o, "targets", tg, &bad);
    for (int k = 0; k < n_sets; k++) {
        const bench_set *s = &sets[k];
        json_t *so = set_json(cfg, s->name, s->path, &s->sum, s->fw ? &s->fw_sum : NULL, &bad), *ua = json_array();
        for (int i = 0; i < s->m.n; i++)
            append(ua,
                   utterance_json(&s->m.utt[i], &s->ours[i], &s->ours_s[i], s->fw ? &s->fw[i] : NULL,
                                  s->fw ? &s->fw_s[i] : NULL, &bad),
                   &bad);
        put(so, "utterances", ua, &bad);
        append(sa, so, &bad);
    }
    put(o, "sets", sa, &bad);
    put(o, "all", set_json(cfg, "all", NULL, all, fw_all, &bad), &bad);
    if (cfg->compare) {
        json_t *c = json_object();
        put(c, "system", str("faster-whisper"), &bad);
        put(c, "version", cfg->fw_version[0] ? str(cfg->fw_version) : json_null(), &bad);
        put(c, "model", str(cfg->fw_model), &bad);
        put(c, "threads", json_integer(cfg->threads), &bad);
        put(c, "load_ms", fw_all ? num(cfg->fw_load_ms) : json_null(), &bad);
        put(c, "error", cfg->fw_error[0] ? str(cfg->fw_error) : json_null(), &bad);
        put(o, "compare", c, &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
