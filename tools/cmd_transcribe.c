/* cmd_transcribe.c - `uzwhisper transcribe`: the command line. Files, folders and manifests go to
 * batch_inputs.c, the run to batch_run.c; this file parses options, loads the model once and
 * prepares the output folder. Without --output-dir the results go to stdout as before (text, or
 * JSON lines with --json). Exit codes: 0 ok, 1 usage, 2 model, 3 some inputs failed, 4 internal or
 * write error, 130 interrupted (docs/batch.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "cli_adapters.h"
#include "cli.h"
#include "output.h"
#include "decode_options.h"
#include "uzwhisper.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: uzwhisper transcribe [options] FILE|FOLDER... [--manifest LIST.jsonl]\n"
            "  -m, --model PATH        weight file (default: $UZWHISPER_MODEL or the installed default model)\n"
            "  -l, --language CODE     auto (default), uz, ru, en, ... (any Whisper language)\n"
            "      --task NAME         transcribe (default) or translate (to English)\n"
            "  -t, --threads N         CPU threads per worker (default: cores / workers)\n"
            "      --initial-prompt T  text that primes the first window (names, terms)\n"
            "      --no-condition      do not condition each window on the previous text\n"
            "      --max-tokens N      tokens sampled per 30 s window (default 224)\n"
            "      --json              print JSON (one object per file, one per line); with -o: --format json\n"
            "  -v, --verbose\n"
            "batch (docs/batch.md):\n"
            "  -o, --output-dir DIR    write one file per input and format under DIR (folders mirrored)\n"
            "  -f, --format LIST       comma-separated: txt,json,srt,vtt (default txt)\n"
            "      --manifest FILE     JSONL: {\"audio\": PATH, \"id\": NAME, \"language\": CODE} per line\n"
            "  -w, --workers N         files transcribed in parallel (default: cores, or 1 for one file)\n"
            "      --shard K/N         only inputs K, K+N, K+2N, ... of the whole ordered list (0 <= K < N), for\n"
            "                          one worker machine of N (a Kubernetes Indexed Job: deploy/README.md)\n"
            "      --resume            skip inputs whose outputs all exist (default)\n"
            "      --no-resume, --overwrite  transcribe everything again\n"
            "      --failures FILE     where failed inputs are listed (default DIR/failures.jsonl)\n"
            "      --keep-ext          name outputs after the whole file name (a.wav -> a.wav.srt)\n"
            "      --no-progress       log lines instead of the live progress line on a terminal\n"
            "      --mark-switches     txt: write [uz] / [ru] where the language changes\n"
            "adapters (docs/adapters.md):\n"
            "      --adapter DIR       a PEFT LoRA (merged into the weights) or AdapterHub bottleneck adapter (run\n"
            "                          with every input); repeat to stack\n"
            "      --adapter NAME=DIR  load an adapter unmerged under NAME (repeatable); inputs choose one with\n"
            "                          --use-adapter NAME or a manifest line's \"adapter\": NAME\n"
            "      --use-adapter NAME  the named adapter every input runs with (default: none)\n"
            "  -h, --help\n");
    decode_options_help(f);
}


enum { O_TASK = 256, O_PROMPT, O_NOCOND, O_MAXTOK, O_JSON, O_MANIFEST, O_RESUME, O_NORESUME, O_FAILURES, O_KEEPEXT, O_NOPROGRESS, O_MARK, O_ADAPTER, O_USE_ADAPTER, O_SHARD };

int cmd_transcribe(int argc, char **argv) {
    static const struct option base_opts[] = {
        {"model", required_argument, 0, 'm'}, {"language", required_argument, 0, 'l'},
        {"task", required_argument, 0, O_TASK}, {"threads", required_argument, 0, 't'},
        {"initial-prompt", required_argument, 0, O_PROMPT}, {"no-condition", no_argument, 0, O_NOCOND},
        {"max-tokens", required_argument, 0, O_MAXTOK}, {"json", no_argument, 0, O_JSON},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},
        {"output-dir", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},
        {"manifest", required_argument, 0, O_MANIFEST}, {"workers", required_argument, 0, 'w'},
        {"resume", no_argument, 0, O_RESUME}, {"no-resume", no_argument, 0, O_NORESUME},
        {"overwrite", no_argument, 0, O_NORESUME}, {"failures", required_argument, 0, O_FAILURES},
        {"keep-ext", no_argument, 0, O_KEEPEXT}, {"no-progress", no_argument, 0, O_NOPROGRESS},
        {"mark-switches", no_argument, 0, O_MARK}, {"adapter", required_argument, 0, O_ADAPTER},
        {"use-adapter", required_argument, 0, O_USE_ADAPTER}, {"shard", required_argument, 0, O_SHARD}};
    struct option opts[sizeof base_opts / sizeof base_opts[0] + DECODE_OPT_COUNT + 1];
    memcpy(opts, base_opts, sizeof base_opts);
    memcpy(opts + sizeof base_opts / sizeof base_opts[0], decode_options, sizeof decode_options);
    memset(&opts[sizeof base_opts / sizeof base_opts[0] + DECODE_OPT_COUNT], 0, sizeof opts[0]);
    decode_store store;
    memset(&store, 0, sizeof store);
    batch_config cfg = {.params = uzw_default_params(), .resume = 1};
    decode_product_defaults(&cfg.params);
    const char *model_arg = NULL, *format_arg = NULL, *manifests[64];
    int n_manifests = 0, keep_ext = 0, no_progress = 0, c, shard_k = 0, shard_n = 1;
    char err[4096];
    cli_adapters ads;
    memset(&ads, 0, sizeof ads);
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:l:t:o:f:w:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_arg = optarg; break;
        case 'l': cfg.params.language = optarg; break;
        case O_TASK:
            if (!strcmp(optarg, "transcribe")) cfg.params.task = UZW_TASK_TRANSCRIBE;
            else if (!strcmp(optarg, "translate")) cfg.params.task = UZW_TASK_TRANSLATE;
            else { cli_error("--task must be transcribe or translate, not '%s'", optarg); return UZW_EXIT_USAGE; }
            break;
        case 't': if (cli_parse_int(optarg, 0, 1024, &cfg.threads)) { cli_error("bad --threads '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_PROMPT: cfg.params.initial_prompt = optarg; break;
        case O_NOCOND: cfg.params.condition_on_previous_text = 0; break;
        case O_MAXTOK:
            if (cli_parse_int(optarg, 1, 100000, &cfg.params.max_tokens_per_window)) { cli_error("bad --max-tokens '%s'", optarg); return UZW_EXIT_USAGE; }
            break;
        case O_JSON: cfg.as_json = 1; break;
        case 'v': cfg.verbose = 1; break;
        case 'o': cfg.output_dir = optarg; break;
        case 'f': format_arg = optarg; break;
        case O_MANIFEST:
            if (n_manifests == 64) { cli_error("at most 64 --manifest files"); return UZW_EXIT_USAGE; }
            manifests[n_manifests++] = optarg;
            break;
        case 'w': if (cli_parse_int(optarg, 1, 1024, &cfg.workers)) { cli_error("bad --workers '%s' (1 to 1024)", optarg); return UZW_EXIT_USAGE; } break;
        case O_RESUME: cfg.resume = 1; break;
        case O_NORESUME: cfg.resume = 0; break;
        case O_FAILURES: cfg.failures_path = optarg; break;
        case O_KEEPEXT: keep_ext = 1; break;
        case O_NOPROGRESS: no_progress = 1; break;
        case O_MARK: cfg.mark_switches = 1; break;
        case O_ADAPTER:
            if (cli_adapters_arg(&ads, optarg, err, sizeof err) != 0) { cli_error("%s", err); return UZW_EXIT_USAGE; }
            break;
        case O_USE_ADAPTER: ads.use = optarg; break;
        case O_SHARD: {
            const char *slash = strchr(optarg, '/');
            char kbuf[16];
            if (!slash || (size_t)(slash - optarg) >= sizeof kbuf) { cli_error("--shard must be K/N, not '%s'", optarg); return UZW_EXIT_USAGE; }
            snprintf(kbuf, sizeof kbuf, "%.*s", (int)(slash - optarg), optarg);
            if (cli_parse_int(slash + 1, 1, 1000000, &shard_n) || cli_parse_int(kbuf, 0, shard_n - 1, &shard_k)) {
                cli_error("--shard K/N needs 0 <= K < N (N at most 1000000), not '%s'", optarg);
                return UZW_EXIT_USAGE;
            }
            break;
        }
        case 'h': help(stdout); return UZW_EXIT_OK;
        default: {
            int r = decode_option(c, optarg, &cfg.params, &store);
            if (r < 0) return UZW_EXIT_USAGE;
            if (r == 0) { help(stderr); return UZW_EXIT_USAGE; }
        }
        }
    }
    if (optind >= argc && !n_manifests) { cli_error("no input files"); help(stderr); return UZW_EXIT_USAGE; }
    if (format_arg && !cfg.output_dir) { cli_error("--format needs --output-dir DIR"); return UZW_EXIT_USAGE; }
    if (cfg.output_dir) {
        cfg.formats = format_arg ? out_parse_formats(format_arg, err, sizeof err) : (cfg.as_json ? OUT_FMT_JSON : OUT_FMT_TXT);
        if (!cfg.formats) { cli_error("%s", err); return UZW_EXIT_USAGE; }
        if (format_arg && cfg.as_json) cfg.formats |= OUT_FMT_JSON;
    }

    /* the inputs, all of them, before any work: a bad manifest line or a name clash costs nothing */
    batch_list items = {0};
    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) rc = batch_add_path(&items, argv[i], keep_ext, err, sizeof err);
    for (int i = 0; i < n_manifests && rc == 0; i++) rc = batch_add_manifest(&items, manifests[i], keep_ext, err, sizeof err);
    if (rc == 0 && items.n == 0) { snprintf(err, sizeof err, "no audio files found in the inputs given"); rc = -1; }
    if (rc == 0 && cfg.output_dir) rc = batch_check_names(&items, err, sizeof err);
    if (rc == 0 && shard_n > 1) batch_keep_shard(&items, shard_k, shard_n); /* after the name check over everything */
    if (rc != 0) { cli_error("%s", err); batch_list_free(&items); return UZW_EXIT_USAGE; }

    char failures[4096];
    int lock_fd = -1;
    if (cfg.output_dir) {
        if (batch_mkdirs(cfg.output_dir, err, sizeof err) != 0) { cli_error("%s", err); batch_list_free(&items); return UZW_EXIT_INTERNAL; }
        if ((lock_fd = batch_lock_dir(cfg.output_dir, err, sizeof err)) < 0) { cli_error("%s", err); batch_list_free(&items); return UZW_EXIT_USAGE; }
        long stale = batch_remove_stale_tmp(cfg.output_dir);
        if (stale) fprintf(stderr, "uzwhisper: removed %ld unfinished output files left by an earlier run\n", stale);
        if (!cfg.failures_path) {
            snprintf(failures, sizeof failures, "%s/failures.jsonl", cfg.output_dir);
            cfg.failures_path = failures;
        }
        cfg.live_progress = !no_progress && isatty(STDERR_FILENO);
    }

    char model_path[4096];
    if (model_arg) snprintf(model_path, sizeof model_path, "%s", model_arg);
    else if (!cli_default_model(model_path, sizeof model_path)) {
        cli_error("no model given and the default model is missing (looked for %s); run tools/setup-default-model.sh "
                  "or pass -m MODEL.uzw / set UZWHISPER_MODEL", model_path);
        batch_list_free(&items);
        if (lock_fd >= 0) close(lock_fd);
        return UZW_EXIT_MODEL;
    }
    cfg.model_path = model_path;
    uzw_model_params mp = uzw_model_default_params();
    mp.log = cfg.params.log = cli_log_to_stderr;
    mp.log_user = cfg.params.log_user = &cfg.verbose;
    uzw_model *model = NULL;
    uzw_status st = uzw_model_load(model_path, &mp, &model, err, sizeof err);
    if (st != UZW_OK) {
        cli_error("cannot load model: %s (%s)", err, uzw_status_string(st));
        batch_list_free(&items);
        if (lock_fd >= 0) close(lock_fd);
        return st == UZW_ERR_NO_MEMORY ? UZW_EXIT_INTERNAL : UZW_EXIT_MODEL;
    }
    st = cli_adapters_load(&ads, model, cfg.verbose, err, sizeof err);
    for (size_t i = 0; st == UZW_OK && i < items.n; i++) { /* every manifest adapter name known before any work */
        const uzw_adapter *list[2 * CLI_MAX_ADAPTERS];
        int n;
        if (items.v[i].adapter && cli_adapters_for(&ads, items.v[i].adapter, list, &n, err, sizeof err) != 0) st = UZW_ERR_INVALID_ARG;
    }
    if (st != UZW_OK) {
        cli_error("%s (%s)", err, uzw_status_string(st));
        cli_adapters_free(&ads);
        uzw_model_free(model);
        batch_list_free(&items);
        if (lock_fd >= 0) close(lock_fd);
        return st == UZW_ERR_INVALID_ARG ? UZW_EXIT_USAGE : st == UZW_ERR_NO_MEMORY ? UZW_EXIT_INTERNAL : UZW_EXIT_MODEL;
    }
    batch_summary sum;
    cfg.device = store.device;
    cfg.adapters = &ads;
    int code = batch_run(&cfg, model, &items, &sum);
    cli_adapters_free(&ads);
    uzw_model_free(model);
    batch_list_free(&items);
    if (lock_fd >= 0) close(lock_fd);
    return code;
}
