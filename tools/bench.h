/* bench.h - the pieces of `uzwhisper bench` (docs/bench.md): run a system over the utterances of
 * one or more manifests (bench_run.c: ours; bench_fw.c: faster-whisper through bench/fw_bench.py),
 * score each output against its reference with the metrics of tools/eval (bench_score.c), sum a
 * set up (bench_summary.c), check the product targets (bench_targets.c) and write the JSON
 * report, the Markdown tables (bench_report.c, bench_markdown.c) and the plots (bench_plots.c).
 * A system's output is plain data (bench_hyp), so both systems are scored by the same code. */
#ifndef UZW_BENCH_H
#define UZW_BENCH_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "manifest.h"
#include "metrics.h"
#include "uzwhisper.h"

#define BENCH_LANG 8 /* a language code and its NUL ("uz", "ru", "haw", "mixed") */

/* ---------------------------------------------------------------- one system's output for one utterance */
typedef struct {
    char *text;            /* a word as output (leading space kept), or a whole segment's text */
    char lang[BENCH_LANG]; /* its language ("" when the system gives none) */
} bench_unit;

typedef struct {
    int ok;                /* 0: the utterance failed; error says why */
    char *error;
    char *text;            /* the full transcript */
    char language[BENCH_LANG];  /* the language the system reports for the file */
    bench_unit *units;     /* words when the system gave words, else one unit per segment */
    int n_units;
    uze_switch *switches;  /* predicted switch points (ours with code-switching) */
    int n_switches;
    double duration_s;     /* audio seconds */
    double total_ms;       /* wall time: audio decode + transcription */
    double ttft_ms;        /* ours: audio decode + first_token_ms; faster-whisper: to the first segment */
    uzw_timings t;         /* ours: the engine's phase times (zero for faster-whisper) */
    double peak_rss_mb;    /* the process's peak resident memory after this utterance */
    int has_words;         /* the system gave word timings (units are words) */
} bench_hyp;

void bench_hyp_free(bench_hyp *h);

/* ---------------------------------------------------------------- scoring one utterance (bench_score.c) */
typedef struct {
    char *ref_norm, *hyp_norm;    /* normalised texts; words are split on ' ' */
    char **ref_w, **hyp_w;        /* the words (pointers into *_buf) */
    char *ref_buf, *hyp_buf;
    char (*ref_lang)[BENCH_LANG]; /* language of each reference word */
    char (*hyp_lang)[BENCH_LANG]; /* language of each hypothesis word ("" unknown) */
    int nr, nh;
    int hyp_lang_known;           /* every hypothesis word has a language */
    uze_counts wer, cer;
    uze_lang_breakdown langs;     /* per word-language errors, PIER, per-word LID */
    int lid_scored;               /* the utterance counts for per-utterance LID */
    int lid_correct;
    char lid_ref[40], lid_hyp[40];  /* "uz"; for mixed utterances the language sets, "uz+ru" */
    uze_switch *ref_sw;           /* reference switches: the manifest's, else from its segments */
    int n_ref_sw;
    int *ref_match;               /* [n_ref_sw]: matched hypothesis switch or -1 */
    uze_switch_counts sw;
} bench_score;

/* Score h against u (h->ok must be 1). tol: switch-point tolerance in seconds. 0, or -1 when out
 * of memory. */
int bench_score_utt(const uze_utterance *u, const bench_hyp *h, double tol, bench_score *s);
void bench_score_free(bench_score *s);
/* The text normalisation of an utterance whose reference language is lang ("mixed": the Uzbek and
 * the Russian rules both); malloc'ed, NULL when out of memory. */
char *bench_normalize(const char *text, const char *lang);

/* ---------------------------------------------------------------- a set's summary (bench_summary.c) */
typedef struct {
    char lang[BENCH_LANG];
    uze_counts c;
    int n_utt;
} bench_lang_counts;

#define BENCH_MAX_LANGS 16
typedef struct {
    int n, n_ok, n_failed;
    double audio_s;                /* audio of the utterances that ran */
    double proc_ms;                /* their total processing time */
    uze_counts wer, cer;
    bench_lang_counts by_utt[BENCH_MAX_LANGS];  /* WER by the utterance's reference language */
    int n_by_utt;
    bench_lang_counts by_word[BENCH_MAX_LANGS]; /* WER by the reference word's language */
    int n_by_word;
    uze_counts switched_in;        /* PIER */
    long lid_utt_n, lid_utt_ok, lid_word_n, lid_word_ok;
    uze_switch_counts sw;
    long n_ref_switches;
    double ph_audio, ph_mel, ph_encoder, ph_language, ph_decoder, ph_detok, ph_codeswitch; /* ms totals */
    long dec_steps;
    double *ttft;                  /* per utterance that ran, sorted */
    double *latency;               /* total ms per utterance that ran, sorted */
    int n_times;
    double peak_rss_mb;
} bench_summary;

/* Add one utterance (s NULL when h failed). 0, -1 when out of memory. */
int bench_summary_add(bench_summary *sum, const uze_utterance *u, const bench_hyp *h, const bench_score *s);
/* Sort the time lists (call once after the last add). */
void bench_summary_finish(bench_summary *sum);
void bench_summary_free(bench_summary *sum);

/* Derived numbers; NAN when there is nothing to measure. */
double bench_rate(const uze_counts *c);
double bench_wer_of_utt_lang(const bench_summary *s, const char *lang);
double bench_pier(const bench_summary *s);
double bench_lid_utt(const bench_summary *s);
double bench_lid_word(const bench_summary *s);
void bench_switch_prf(const bench_summary *s, double *p, double *r, double *f1); /* NAN without reference switches */
double bench_rtf(const bench_summary *s);
double bench_percentile(const double *sorted, int n, double q); /* linear interpolation, q in [0,1] */
double bench_dec_ms_per_token(const bench_summary *s);

/* ---------------------------------------------------------------- targets (bench_targets.c) */
typedef struct {
    const char *name;      /* wer_uz, wer_mixed, cer, lid, switch_f1, ... */
    const char *what;      /* human description */
    int higher_is_better;  /* 0: value < target is met; 1: value > target */
    double target;
    int active;
} bench_target;

#define BENCH_N_TARGETS 10
typedef struct {
    bench_target t[BENCH_N_TARGETS];
} bench_targets;

void bench_targets_default(bench_targets *t);
/* "NAME=VALUE" (VALUE: a fraction such as 0.25, a percentage such as 25%, or "off"). 0, or -1 with a
 * message in err. */
int bench_target_parse(bench_targets *t, const char *arg, char *err, size_t err_size);
/* The value of target k on a summary (NAN when the set has no data for it). */
double bench_target_value(const bench_target *t, const bench_summary *s);
/* 1 met, 0 not met, -1 no data. */
int bench_target_met(const bench_target *t, double value);

/* ---------------------------------------------------------------- the run */
typedef struct {
    char *name;              /* set name (the manifest's file name without .jsonl) */
    char *path;              /* the manifest */
    uze_manifest m;          /* m.n: the utterances benched (--limit) */
    int n_loaded;            /* the utterances the manifest holds */
    bench_hyp *ours;         /* [m.n] */
    bench_score *ours_s;     /* [m.n] (valid where ours[i].ok) */
    bench_hyp *fw;           /* [m.n] when compared, else NULL */
    bench_score *fw_s;
    bench_summary sum, fw_sum;
} bench_set;

typedef struct {
    const char *model_path;
    char adapters[512];      /* adapters the model was scored with, comma-separated ("" none) */
    const char *fw_model;    /* faster-whisper's CTranslate2 folder */
    const char *fw_script;   /* bench/fw_bench.py */
    uzw_params params;
    int threads;
    const char *device;      /* --device: "cpu" (or NULL/""), "cuda", "cuda:N" */
    double switch_tol;
    int compare;             /* --compare faster-whisper */
    int warmup;              /* one untimed run of the first utterance before timing */
    int quiet, verbose;
    bench_targets targets;
    /* filled by the run */
    char fw_version[64];
    char fw_error[1024];     /* why the comparison is missing (when compare and it failed) */
    double fw_load_ms, fw_peak_rss_mb;
} bench_config;

/* bench_run.c: transcribe every utterance of every set with ours. A failing utterance is recorded
 * and the run goes on; an error that would fail every utterance (an unknown language code, out of
 * memory) stops it: -1 with a message in err. 0 otherwise. */
int bench_run_ours(bench_config *cfg, const uzw_model *model, bench_set *sets, int n_sets, char *err, size_t err_size);

/* bench_fw.c: the same utterances through faster-whisper (python3 bench/fw_bench.py). 0, or -1
 * with the reason in err (nothing filled then). */
int bench_run_fw(bench_config *cfg, bench_set *sets, int n_sets, const char *work_dir, char *err, size_t err_size);

/* bench_report.c: the JSON report (new reference; NULL when out of memory). */
json_t *bench_report_json(const bench_config *cfg, const bench_set *sets, int n_sets, const bench_summary *all,
                          const bench_summary *fw_all);
/* The decoding options as a JSON object (the report's "options"; also what fw_bench.py is given). A
 * failure sets *bad. */
json_t *bench_options_json(const bench_config *cfg, int *bad);
/* bench_markdown.c: the Markdown tables. 0, -1 on a write error. */
int bench_write_markdown(FILE *f, const bench_config *cfg, const bench_set *sets, int n_sets, const bench_summary *all,
                         const bench_summary *fw_all);

/* bench_plots.c: PNG plots into dir with gnuplot. 0 written; 1 gnuplot is missing (a warning was
 * printed, nothing written); -1 failure with a message in err. */
int bench_write_plots(const char *dir, const bench_config *cfg, const bench_set *sets, int n_sets,
                      const bench_summary *all, const bench_summary *fw_all, char *err, size_t err_size);

/* Milliseconds on the monotonic clock. */
double bench_now_ms(void);
/* Peak resident memory of this process in MB (getrusage). */
double bench_peak_rss_mb(void);

#endif
