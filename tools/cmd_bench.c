/* cmd_bench.c - `uzwhisper bench`: accuracy and speed on reference manifests (docs/bench.md).
 * Parses the command line (the decoding options are transcribe's, from decode_options.c), loads
 * the manifests (each one a set) and the model, runs ours (bench_run.c) and, with --compare
 * faster-whisper, the peer (bench_fw.c), then writes the JSON report, the Markdown tables and the
 * plots. Exit codes (tools/cli.h): 0 ok; 1 bad command line; 2 model missing or bad (ours, or
 * faster-whisper's folder with --compare); 3 bad input: a manifest that does not parse (nothing is
 * run), an unknown language code, or some utterance failed (the report is still written, the
 * failures in it); 4 internal: out of memory, a report that cannot be written, gnuplot failing on
 * the script, or the faster-whisper run failing as a whole. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "bench_device.h"
#include "cli.h"
#include "cli_adapters.h"
#include "decode_options.h"
#include "uzwhisper.h"

#ifndef UZW_SOURCE_DIR
#define UZW_SOURCE_DIR "."
#endif

static void help(FILE *f) {
    fprintf(f,
            "usage: uzwhisper bench [options] MANIFEST.jsonl... (docs/bench.md)\n"
            "  each manifest is a set: JSONL, one utterance a line: {\"audio\": PATH (relative to the manifest),\n"
            "  \"text\": reference, \"language\": uz|ru|...|mixed, \"segments\"?: [...], \"switches\"?: [...], \"id\"?}\n"
            "      --json FILE         write the JSON report\n"
            "      --md FILE           write the Markdown tables (also printed to stdout unless --quiet)\n"
            "      --plots DIR         draw PNG plots with gnuplot into DIR\n"
            "  -m, --model PATH        weight file (default: $UZWHISPER_MODEL or the installed default model)\n"
            "  -t, --threads N         CPU threads, for both systems (default: all cores)\n"
            "      --limit N           only the first N utterances of each manifest\n"
            "      --compare faster-whisper  also run faster-whisper (pip) on the same weights, files and options\n"
            "      --fw-model DIR      its CTranslate2 folder (default " UZW_SOURCE_DIR "/models/faster-whisper-base)\n"
            "      --target NAME=V     a goal, e.g. wer_uz=0.25, cer=15%%, lid=off (names: wer_uz wer_mixed cer lid\n"
            "                          switch_f1, and off by default: wer wer_ru pier lid_word rtf)\n"
            "      --switch-tolerance S  seconds a predicted switch point may be off (default 0.5)\n"
            "      --no-warmup         do not run the first utterance once, untimed, before measuring\n"
            "  -q, --quiet             no progress and no tables on stdout\n"
            "  -l, --language CODE     auto (default: detected, among --languages), uz, ru, ...\n"
            "      --task NAME         transcribe (default) or translate\n"
            "      --initial-prompt T  text that primes the first window\n"
            "      --no-condition      do not condition each window on the previous text\n"
            "      --max-tokens N      tokens sampled per 30 s window (default 224)\n"
            "      --adapter DIR       score the model with this adapter (a LoRA merged, a bottleneck adapter run\n"
            "                          unmerged); repeat to stack (docs/adapters.md)\n"
            "  -v, --verbose\n"
            "  -h, --help\n"
            "defaults: --languages uz,ru plus every language in the manifests, code-switching on, --uz-script latin\n"
            "  (--device cuda runs the model on the GPU; --device cuda --shapes LIST benchmarks the CUDA backend at\n"
            "   the real Whisper shapes: `uzwhisper bench --device cuda --shapes all --help`)\n");
    decode_options_help(f);
}


static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}
static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* "uz,ru" plus every utterance and segment language of the manifests ("mixed" is not one). */
static int default_languages(char *out, size_t n, const bench_set *sets, int n_sets) {
    snprintf(out, n, "%s", DECODE_DEFAULT_LANGUAGES);
    for (int k = 0; k < n_sets; k++)
        for (int i = 0; i < sets[k].m.n; i++) {
            const uze_utterance *u = &sets[k].m.utt[i];
            for (int j = -1; j < u->n_segs; j++) {
                const char *l = j < 0 ? u->language : u->segs[j].language;
                if (!strcmp(l, "mixed") || !*l) continue;
                char list[600];
                snprintf(list, sizeof list, ",%s,", out);
                char key[16];
                snprintf(key, sizeof key, ",%s,", l);
                if (strstr(list, key)) continue;
                if (strlen(out) + strlen(l) + 2 > n) return -1;
                strcat(out, ",");
                strcat(out, l);
            }
        }
    return 0;
}

/* set names: the manifest's file name without .jsonl / .json (its folder's name when the file is
 * called manifest.jsonl, as bench/sets/make_eval_sets.py writes them), made unique */
static char *set_name(const char *path, const bench_set *sets, int k) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char name[256];
    snprintf(name, sizeof name, "%s", b);
    if ((!strcmp(b, "manifest.jsonl") || !strcmp(b, "manifest.json")) && b > path + 1) {
        const char *d = b - 1; /* the '/' before the file name */
        const char *d0 = d;
        while (d0 > path && d0[-1] != '/') d0--;
        if (d > d0) snprintf(name, sizeof name, "%.*s", (int)(d - d0), d0);
    }
    size_t len = strlen(name);
    if (len > 6 && !strcmp(name + len - 6, ".jsonl")) name[len - 6] = 0;
    else if (len > 5 && !strcmp(name + len - 5, ".json")) name[len - 5] = 0;
    char uniq[300];
    snprintf(uniq, sizeof uniq, "%s", name);
    for (int dup = 2;; dup++) {
        int clash = !strcmp(uniq, "all");
        for (int j = 0; j < k && !clash; j++) clash = !strcmp(sets[j].name, uniq);
        if (!clash) break;
        snprintf(uniq, sizeof uniq, "%s-%d", name, dup);
    }
    return strdup(uniq);
}

static void free_sets(bench_set *sets, int n_sets) {
    for (int k = 0; k < n_sets; k++) {
        bench_set *s = &sets[k];
        for (int i = 0; i < s->m.n; i++) {
            if (s->ours) bench_hyp_free(&s->ours[i]);
            if (s->ours_s) bench_score_free(&s->ours_s[i]);
            if (s->fw) bench_hyp_free(&s->fw[i]);
            if (s->fw_s) bench_score_free(&s->fw_s[i]);
        }
        free(s->ours);
        free(s->ours_s);
        free(s->fw);
        free(s->fw_s);
        bench_summary_free(&s->sum);
        bench_summary_free(&s->fw_sum);
        if (s->n_loaded > s->m.n) s->m.n = s->n_loaded;
        uze_manifest_free(&s->m);
        free(s->name);
    }
    free(sets);
}

static void drop_fw(bench_set *sets, int n_sets) {
    for (int k = 0; k < n_sets; k++) {
        bench_set *s = &sets[k];
        for (int i = 0; i < s->m.n; i++) {
            if (s->fw) bench_hyp_free(&s->fw[i]);
            if (s->fw_s) bench_score_free(&s->fw_s[i]);
        }
        free(s->fw);
        free(s->fw_s);
        s->fw = NULL;
        s->fw_s = NULL;
    }
}

/* Sum every set and the union of all sets. theirs: faster-whisper's results. */
static int summarise(bench_set *sets, int n_sets, bench_summary *all, int theirs) {
    for (int k = 0; k < n_sets; k++) {
        bench_set *s = &sets[k];
        bench_summary *sum = theirs ? &s->fw_sum : &s->sum;
        const bench_hyp *h = theirs ? s->fw : s->ours;
        const bench_score *sc = theirs ? s->fw_s : s->ours_s;
        for (int i = 0; i < s->m.n; i++) {
            const bench_score *si = h[i].ok ? &sc[i] : NULL;
            if (bench_summary_add(sum, &s->m.utt[i], &h[i], si) != 0 || bench_summary_add(all, &s->m.utt[i], &h[i], si) != 0)
                return -1;
        }
        bench_summary_finish(sum);
    }
    bench_summary_finish(all);
    return 0;
}

enum { O_JSON = 256, O_MD, O_PLOTS, O_LIMIT, O_COMPARE, O_FWMODEL, O_TARGET, O_SWTOL, O_NOWARM, O_TASK, O_PROMPT,
       O_NOCOND, O_MAXTOK, O_ADAPTER };

/* `--device cuda` together with `--shapes`: the shape benchmark of the CUDA backend. */
static int wants_shape_bench(int argc, char **argv) {
    int shapes = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--shapes") || !strncmp(argv[i], "--shapes=", 9)) shapes = 1;
    return shapes;
}

int cmd_bench(int argc, char **argv) {
    if (wants_shape_bench(argc, argv)) return bench_device_main(argc, argv);
    static const struct option base_opts[] = {
        {"json", required_argument, 0, O_JSON}, {"md", required_argument, 0, O_MD},
        {"plots", required_argument, 0, O_PLOTS}, {"model", required_argument, 0, 'm'},
        {"threads", required_argument, 0, 't'}, {"limit", required_argument, 0, O_LIMIT},
        {"compare", required_argument, 0, O_COMPARE}, {"fw-model", required_argument, 0, O_FWMODEL},
        {"target", required_argument, 0, O_TARGET}, {"switch-tolerance", required_argument, 0, O_SWTOL},
        {"no-warmup", no_argument, 0, O_NOWARM}, {"quiet", no_argument, 0, 'q'},
        {"language", required_argument, 0, 'l'}, {"task", required_argument, 0, O_TASK},
        {"initial-prompt", required_argument, 0, O_PROMPT}, {"no-condition", no_argument, 0, O_NOCOND},
        {"max-tokens", required_argument, 0, O_MAXTOK}, {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'}, {"adapter", required_argument, 0, O_ADAPTER}};
    enum { N_BASE = sizeof base_opts / sizeof base_opts[0] };
    struct option opts[N_BASE + DECODE_OPT_COUNT + 1];
    memcpy(opts, base_opts, sizeof base_opts);
    memcpy(opts + N_BASE, decode_options, sizeof decode_options);
    memset(&opts[N_BASE + DECODE_OPT_COUNT], 0, sizeof opts[0]);

    bench_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.params = uzw_default_params();
    decode_product_defaults(&cfg.params);
    cfg.params.uz_script = UZW_UZ_SCRIPT_LATIN;
    const char *product_languages = cfg.params.languages;
    cfg.switch_tol = 0.5;
    cfg.warmup = 1;
    cfg.fw_model = UZW_SOURCE_DIR "/models/faster-whisper-base";
    bench_targets_default(&cfg.targets);
    decode_store store;
    memset(&store, 0, sizeof store);
    const char *json_path = NULL, *md_path = NULL, *plots_dir = NULL, *model_arg = NULL;
    int limit = 0, c;
    char err[4096];
    cli_adapters ads;
    memset(&ads, 0, sizeof ads);
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:t:l:qvh", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON: json_path = optarg; break;
        case O_MD: md_path = optarg; break;
        case O_PLOTS: plots_dir = optarg; break;
        case 'm': model_arg = optarg; break;
        case 't':
            if (cli_parse_int(optarg, 1, 1024, &cfg.threads)) { cli_error("bad --threads '%s' (1 to 1024)", optarg); return UZW_EXIT_USAGE; }
            break;
        case O_LIMIT:
            if (cli_parse_int(optarg, 1, INT_MAX, &limit)) { cli_error("bad --limit '%s' (a positive count)", optarg); return UZW_EXIT_USAGE; }
            break;
        case O_COMPARE:
            if (strcmp(optarg, "faster-whisper") != 0) {
                cli_error("--compare knows only faster-whisper, not '%s'", optarg);
                return UZW_EXIT_USAGE;
            }
            cfg.compare = 1;
            break;
        case O_FWMODEL: cfg.fw_model = optarg; break;
        case O_TARGET:
            if (bench_target_parse(&cfg.targets, optarg, err, sizeof err) != 0) { cli_error("%s", err); return UZW_EXIT_USAGE; }
            break;
        case O_SWTOL:
            if (cli_parse_double(optarg, 0, 60, &cfg.switch_tol)) {
                cli_error("bad --switch-tolerance '%s' (seconds, 0 to 60)", optarg);
                return UZW_EXIT_USAGE;
            }
            break;
        case O_NOWARM: cfg.warmup = 0; break;
        case O_ADAPTER:
            if (strchr(optarg, '=') && !strchr(optarg, '/')) {
                cli_error("bench takes --adapter DIR (the set is scored with it); NAME=DIR is for transcribe");
                return UZW_EXIT_USAGE;
            }
            if (cli_adapters_arg(&ads, optarg, err, sizeof err) != 0) { cli_error("%s", err); return UZW_EXIT_USAGE; }
            break;
        case 'q': cfg.quiet = 1; break;
        case 'l': cfg.params.language = optarg; break;
        case O_TASK:
            if (!strcmp(optarg, "transcribe")) cfg.params.task = UZW_TASK_TRANSCRIBE;
            else if (!strcmp(optarg, "translate")) cfg.params.task = UZW_TASK_TRANSLATE;
            else { cli_error("--task must be transcribe or translate, not '%s'", optarg); return UZW_EXIT_USAGE; }
            break;
        case O_PROMPT: cfg.params.initial_prompt = optarg; break;
        case O_NOCOND: cfg.params.condition_on_previous_text = 0; break;
        case O_MAXTOK:
            if (cli_parse_int(optarg, 1, 100000, &cfg.params.max_tokens_per_window)) {
                cli_error("bad --max-tokens '%s'", optarg);
                return UZW_EXIT_USAGE;
            }
            break;
        case 'v': cfg.verbose = 1; break;
        case 'h': help(stdout); return UZW_EXIT_OK;
        default: {
            int r = decode_option(c, optarg, &cfg.params, &store);
            if (r < 0) return UZW_EXIT_USAGE;
            if (r == 0) { help(stderr); return UZW_EXIT_USAGE; }
        }
        }
    }
    if (optind >= argc) { cli_error("bench: no manifest given"); help(stderr); return UZW_EXIT_USAGE; }
    int n_sets = argc - optind;
    if (cfg.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg.threads = n > 0 && n < 1024 ? (int)n : 1;
    }
    cfg.params.n_threads = cfg.threads;

    /* the manifests, all of them, before any work */
    bench_set *sets = calloc((size_t)n_sets, sizeof *sets);
    if (!sets) { cli_error("out of memory"); return UZW_EXIT_INTERNAL; }
    for (int k = 0; k < n_sets; k++) {
        bench_set *s = &sets[k];
        s->path = argv[optind + k];
        if (uze_manifest_load(s->path, &s->m, err, sizeof err) != 0) {
            cli_error("bench: %s", err);
            free_sets(sets, k + 1);
            return UZW_EXIT_INPUT;
        }
        s->n_loaded = s->m.n;
        if (limit && s->m.n > limit) s->m.n = limit; /* the rest stays loaded until free_sets */
        if (!(s->name = set_name(s->path, sets, k))) { cli_error("out of memory"); free_sets(sets, k + 1); return UZW_EXIT_INTERNAL; }
    }
    char languages[512];
    if (cfg.params.languages == product_languages) {
        if (default_languages(languages, sizeof languages, sets, n_sets) != 0) {
            cli_error("bench: too many languages in the manifests (pass --languages)");
            free_sets(sets, n_sets);
            return UZW_EXIT_INPUT;
        }
        cfg.params.languages = languages;
    }
    /* the peer's pieces, before a long run of ours */
    char fw_script[PATH_MAX];
    if (cfg.compare) {
        const char *env = getenv("UZWHISPER_FW_BENCH");
        snprintf(fw_script, sizeof fw_script, "%s", env && *env ? env : UZW_SOURCE_DIR "/bench/fw_bench.py");
        cfg.fw_script = fw_script;
        if (!is_file(fw_script)) {
            cli_error("bench: %s is missing (set UZWHISPER_FW_BENCH to bench/fw_bench.py)", fw_script);
            free_sets(sets, n_sets);
            return UZW_EXIT_INTERNAL;
        }
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/model.bin", cfg.fw_model);
        if (!is_dir(cfg.fw_model) || !is_file(probe)) {
            cli_error("bench: faster-whisper's model folder %s is missing or has no model.bin (run "
                      "tools/setup-default-model.sh, or pass --fw-model DIR)", cfg.fw_model);
            free_sets(sets, n_sets);
            return UZW_EXIT_MODEL;
        }
    }

    char model_path[4096];
    if (model_arg) snprintf(model_path, sizeof model_path, "%s", model_arg);
    else if (!cli_default_model(model_path, sizeof model_path)) {
        cli_error("no model given and the default model is missing (looked for %s); run tools/setup-default-model.sh "
                  "or pass -m MODEL.uzw / set UZWHISPER_MODEL", model_path);
        free_sets(sets, n_sets);
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
        free_sets(sets, n_sets);
        return st == UZW_ERR_NO_MEMORY ? UZW_EXIT_INTERNAL : UZW_EXIT_MODEL;
    }

    const uzw_adapter *active[2 * CLI_MAX_ADAPTERS];
    if ((st = cli_adapters_load(&ads, model, cfg.verbose, err, sizeof err)) != UZW_OK ||
        cli_adapters_for(&ads, NULL, active, &cfg.params.n_adapters, err, sizeof err) != 0) {
        cli_error("%s", err);
        cli_adapters_free(&ads);
        uzw_model_free(model);
        free_sets(sets, n_sets);
        return st == UZW_ERR_NO_MEMORY ? UZW_EXIT_INTERNAL : UZW_EXIT_MODEL;
    }
    cfg.params.adapters = active;
    size_t an = (size_t)snprintf(cfg.adapters, sizeof cfg.adapters, "%s", uzw_model_get_str(model, "adapters_merged"));
    for (int k = 0; k < cfg.params.n_adapters && an < sizeof cfg.adapters; k++)
        an += (size_t)snprintf(cfg.adapters + an, sizeof cfg.adapters - an, "%s%s", an ? "," : "", cli_adapter_label(&ads, active[k]));
    if (ads.n_merged && cfg.compare)
        fprintf(stderr, "uzwhisper: warning: --compare runs faster-whisper without the adapters (it cannot load them)\n");

    int code = UZW_EXIT_OK;
    bench_summary all, fw_all;
    memset(&all, 0, sizeof all);
    memset(&fw_all, 0, sizeof fw_all);
    cfg.device = store.device;
    int rc = bench_run_ours(&cfg, model, sets, n_sets, err, sizeof err);
    cli_adapters_free(&ads);
    uzw_model_free(model);
    if (rc != 0) {
        cli_error("bench: %s", err);
        free_sets(sets, n_sets);
        return strstr(err, "out of memory") ? UZW_EXIT_INTERNAL : UZW_EXIT_INPUT;
    }
    if (summarise(sets, n_sets, &all, 0) != 0) goto oom;
    int have_fw = 0;
    if (cfg.compare) {
        char work[] = "/tmp/uzw-bench-XXXXXX";
        if (!mkdtemp(work)) {
            snprintf(cfg.fw_error, sizeof cfg.fw_error, "cannot make a temporary folder");
        } else {
            if (bench_run_fw(&cfg, sets, n_sets, work, cfg.fw_error, sizeof cfg.fw_error) == 0) have_fw = 1;
            char p[sizeof work + 32];
            snprintf(p, sizeof p, "%s/fw_request.json", work);
            unlink(p);
            snprintf(p, sizeof p, "%s/fw_result.json", work);
            unlink(p);
            rmdir(work);
        }
        if (!have_fw) {
            drop_fw(sets, n_sets);
            cli_error("bench: the faster-whisper comparison failed: %s", cfg.fw_error);
            code = UZW_EXIT_INTERNAL;
        } else if (summarise(sets, n_sets, &fw_all, 1) != 0) {
            goto oom;
        }
    }

    const bench_summary *fwp = have_fw ? &fw_all : NULL;
    if (json_path) {
        json_t *doc = bench_report_json(&cfg, sets, n_sets, &all, fwp);
        if (!doc) goto oom;
        if (json_dump_file(doc, json_path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
            cli_error("bench: cannot write %s", json_path);
            code = UZW_EXIT_INTERNAL;
        }
        json_decref(doc);
    }
    if (md_path) {
        FILE *f = fopen(md_path, "w");
        int bad = !f || bench_write_markdown(f, &cfg, sets, n_sets, &all, fwp) != 0;
        if (f && fclose(f) != 0) bad = 1;
        if (bad) {
            cli_error("bench: cannot write %s", md_path);
            code = UZW_EXIT_INTERNAL;
        }
    }
    if (plots_dir) {
        void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* gnuplot quitting early must not kill us */
        rc = bench_write_plots(plots_dir, &cfg, sets, n_sets, &all, fwp, err, sizeof err);
        signal(SIGPIPE, old);
        if (rc < 0) {
            cli_error("bench: %s", err);
            code = UZW_EXIT_INTERNAL;
        } else if (rc == 0 && !cfg.quiet) {
            fprintf(stderr, "bench: plots in %s\n", plots_dir);
        }
    }
    if (!cfg.quiet && bench_write_markdown(stdout, &cfg, sets, n_sets, &all, fwp) != 0) code = UZW_EXIT_INTERNAL;
    if (all.n_failed) {
        fprintf(stderr, "uzwhisper: bench: %d of %d utterances failed (listed in the report)\n", all.n_failed, all.n);
        if (code == UZW_EXIT_OK) code = UZW_EXIT_INPUT;
    }
    bench_summary_free(&all);
    bench_summary_free(&fw_all);
    free_sets(sets, n_sets);
    return code;
oom:
    cli_error("out of memory");
    bench_summary_free(&all);
    bench_summary_free(&fw_all);
    free_sets(sets, n_sets);
    return UZW_EXIT_INTERNAL;
}
