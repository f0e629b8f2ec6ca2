/* cmd_transcribe.c - `uzwhisper transcribe`: text or JSON for each input file, the model loaded once.
 * A file that fails is reported on stderr and the rest go on; the exit code says whether all worked. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "uzwhisper.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: uzwhisper transcribe [options] FILE...\n"
            "  -m, --model PATH        weight file (default: $UZWHISPER_MODEL or the installed default model)\n"
            "  -l, --language CODE     auto (default), uz, ru, en, ... (any Whisper language)\n"
            "      --task NAME         transcribe (default) or translate (to English)\n"
            "  -t, --threads N         CPU threads (default: all cores)\n"
            "      --initial-prompt T  text that primes the first window (names, terms)\n"
            "      --no-condition      do not condition each window on the previous text\n"
            "      --max-tokens N      tokens sampled per 30 s window (default 224)\n"
            "      --json              print JSON (one object per file, one per line)\n"
            "  -h, --help\n");
}

static json_t *result_json(const uzw_context *ctx, const char *path, const char *model_path) {
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "model", json_string(model_path));
    json_object_set_new(o, "language", json_string(uzw_language(ctx)));
    json_object_set_new(o, "language_detected", json_boolean(uzw_language_detected(ctx)));
    json_t *probs = json_object();
    for (int i = 0; i < uzw_n_language_probs(ctx) && i < 10; i++)
        json_object_set_new(probs, uzw_language_prob_code(ctx, i), json_real(uzw_language_prob(ctx, i)));
    json_object_set_new(o, "language_probs", probs);
    json_object_set_new(o, "duration", json_real(uzw_audio_duration(ctx)));
    json_object_set_new(o, "text", json_string(uzw_full_text(ctx)));
    json_t *segs = json_array();
    for (int i = 0; i < uzw_n_segments(ctx); i++) {
        json_t *s = json_object();
        json_object_set_new(s, "start", json_real(uzw_segment_start(ctx, i)));
        json_object_set_new(s, "end", json_real(uzw_segment_end(ctx, i)));
        json_object_set_new(s, "text", json_string(uzw_segment_text(ctx, i)));
        json_object_set_new(s, "avg_logprob", json_real(uzw_segment_avg_logprob(ctx, i)));
        json_object_set_new(s, "no_speech_prob", json_real(uzw_segment_no_speech_prob(ctx, i)));
        json_t *toks = json_array();
        for (int j = 0; j < uzw_segment_n_tokens(ctx, i); j++) json_array_append_new(toks, json_integer(uzw_segment_token(ctx, i, j)));
        json_object_set_new(s, "tokens", toks);
        json_array_append_new(segs, s);
    }
    json_object_set_new(o, "segments", segs);
    uzw_timings t = uzw_get_timings(ctx);
    json_t *tm = json_object();
    json_object_set_new(tm, "audio_decode", json_real(t.audio_ms));
    json_object_set_new(tm, "mel", json_real(t.mel_ms));
    json_object_set_new(tm, "encoder", json_real(t.encoder_ms));
    json_object_set_new(tm, "language_detection", json_real(t.language_ms));
    json_object_set_new(tm, "decoder", json_real(t.decoder_ms));
    json_object_set_new(tm, "detokenize", json_real(t.detok_ms));
    json_object_set_new(tm, "decoder_per_token", json_real(t.n_decoder_steps ? t.decoder_ms / t.n_decoder_steps : 0));
    json_object_set_new(o, "timings_ms", tm);
    json_object_set_new(o, "windows", json_integer(t.n_windows));
    json_object_set_new(o, "decoder_steps", json_integer(t.n_decoder_steps));
    return o;
}

static void log_to_stderr(uzw_log_level level, const char *msg, void *user) {
    int verbose = *(int *)user;
    if (level <= UZW_LOG_WARN || verbose) fprintf(stderr, "uzwhisper: %s\n", msg);
}

int cmd_transcribe(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"language", required_argument, 0, 'l'},
        {"task", required_argument, 0, 'T'}, {"threads", required_argument, 0, 't'},
        {"initial-prompt", required_argument, 0, 'p'}, {"no-condition", no_argument, 0, 'C'},
        {"max-tokens", required_argument, 0, 'x'}, {"json", no_argument, 0, 'j'},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    uzw_params p = uzw_default_params();
    const char *model_arg = NULL;
    int as_json = 0, verbose = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:l:t:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_arg = optarg; break;
        case 'l': p.language = optarg; break;
        case 'T':
            if (!strcmp(optarg, "transcribe")) p.task = UZW_TASK_TRANSCRIBE;
            else if (!strcmp(optarg, "translate")) p.task = UZW_TASK_TRANSLATE;
            else { cli_error("--task must be transcribe or translate, not '%s'", optarg); return UZW_EXIT_USAGE; }
            break;
        case 't': p.n_threads = atoi(optarg); if (p.n_threads < 0 || p.n_threads > 1024) { cli_error("bad --threads '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case 'p': p.initial_prompt = optarg; break;
        case 'C': p.condition_on_previous_text = 0; break;
        case 'x': p.max_tokens_per_window = atoi(optarg); if (p.max_tokens_per_window <= 0) { cli_error("bad --max-tokens '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case 'j': as_json = 1; break;
        case 'v': verbose = 1; break;
        case 'h': help(stdout); return UZW_EXIT_OK;
        default: help(stderr); return UZW_EXIT_USAGE;
        }
    }
    if (optind >= argc) { cli_error("no input files"); help(stderr); return UZW_EXIT_USAGE; }

    char model_path[4096];
    if (model_arg) snprintf(model_path, sizeof model_path, "%s", model_arg);
    else if (!cli_default_model(model_path, sizeof model_path)) {
        cli_error("no model given and the default model is missing (looked for %s); run tools/setup-default-model.sh "
                  "or pass -m MODEL.uzw / set UZWHISPER_MODEL", model_path);
        return UZW_EXIT_MODEL;
    }
    uzw_model_params mp = uzw_model_default_params();
    mp.log = log_to_stderr;
    mp.log_user = &verbose;
    p.log = log_to_stderr;
    p.log_user = &verbose;
    uzw_model *model = NULL;
    char err[1024];
    uzw_status st = uzw_model_load(model_path, &mp, &model, err, sizeof err);
    if (st != UZW_OK) {
        cli_error("cannot load model: %s (%s)", err, uzw_status_string(st));
        return st == UZW_ERR_NO_MEMORY ? UZW_EXIT_INTERNAL : UZW_EXIT_MODEL;
    }
    uzw_context *ctx = NULL;
    if ((st = uzw_context_create(model, &ctx)) != UZW_OK) {
        cli_error("cannot create a decoding context: %s", uzw_status_string(st));
        uzw_model_free(model);
        return UZW_EXIT_INTERNAL;
    }
    int n_files = argc - optind, n_failed = 0, internal = 0;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        st = uzw_transcribe_file(ctx, path, &p);
        if (st != UZW_OK) {
            cli_error("%s (%s)", uzw_last_error(ctx), uzw_status_string(st));
            n_failed++;
            if (st == UZW_ERR_NO_MEMORY || st == UZW_ERR_INTERNAL) internal = 1;
            if (st == UZW_ERR_LANGUAGE) break; /* the same for every file */
            continue;
        }
        if (as_json) {
            json_t *o = result_json(ctx, path, model_path);
            char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6) | JSON_ENSURE_ASCII * 0);
            if (s) { puts(s); free(s); }
            json_decref(o);
        } else {
            if (n_files > 1) printf("# %s\n", path);
            puts(uzw_full_text(ctx));
        }
        fflush(stdout);
    }
    uzw_context_free(ctx);
    uzw_model_free(model);
    if (n_failed) {
        if (n_files > 1) fprintf(stderr, "uzwhisper: %d of %d files failed\n", n_failed, n_files);
        return internal ? UZW_EXIT_INTERNAL : UZW_EXIT_INPUT;
    }
    return UZW_EXIT_OK;
}
