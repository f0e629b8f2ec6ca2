/* `uzwhisper bench` as a script sees it (docs/bench.md): the JSON report's keys and numbers (WER and
 * CER recomputed here, with an edit distance of this file's own, from the report's normalised
 * texts), the Markdown target rows, reference languages and switch points taken from segments,
 * several sets and --limit, bad manifests, --target parsing, the plots (when gnuplot is there) and,
 * only where faster-whisper and the real models are installed, one --compare run on a short clip.
 * The tiny random fixture model writes garbage text, but a complete, valid run. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char tmpdir[256];
static char model[512];

#define UZ_CLIP "data/uz/usc/1131474547_2_29207_1"
#define RU_CLIP "data/ru/deepspeech_ru"

static void setup(void) { tu_tmp_with_tiny_model("uzw-bench", tmpdir, sizeof tmpdir, model, sizeof model); }
static void teardown(void) { tu_rmtree(tmpdir); }
static void need_model(void) {
    if (!model[0]) cr_skip_test("tests/fixtures/tiny-random/hf is missing (run tests/reference/make_golden.py)");
}

TestSuite(bench_cli, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- helpers */

static const char *tmp(const char *rel) {
    static char bufs[8][600];
    static int slot;
    char *b = bufs[slot++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, rel);
    return b;
}

static void copy_file(const char *from, const char *to) {
    size_t n;
    uint8_t *b = tu_read_file(from, &n);
    cr_assert(b, "cannot read %s", from);
    cr_assert_eq(tu_write_file(to, b, n), 0, "cannot write %s", to);
    free(b);
}

/* The reference transcript beside a shared clip, trailing white space removed (malloc'ed). */
static char *reference(const char *clip) {
    char p[300];
    snprintf(p, sizeof p, "%s.txt", clip);
    char *t = (char *)tu_read_file(tu_shared(p), NULL);
    cr_assert(t, "missing %s", p);
    size_t n = strlen(t);
    while (n && (t[n - 1] == '\n' || t[n - 1] == ' ' || t[n - 1] == '\r')) t[--n] = 0;
    return t;
}

/* clips/uz.wav and clips/ru.wav in the temp folder (paths relative to manifests there) */
static void copy_clips(void) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp("clips"));
    cr_assert_eq(system(cmd), 0);
    copy_file(tu_shared(UZ_CLIP ".wav"), tmp("clips/uz.wav"));
    copy_file(tu_shared(RU_CLIP ".wav"), tmp("clips/ru.wav"));
}

static void write_text(const char *path, const char *text) { cr_assert_eq(tu_write_file(path, text, strlen(text)), 0); }

/* the two-clip manifest: {"id", "audio", "text", "language"} a line */
static void write_two_clip_manifest(const char *path) {
    char *uz = reference(UZ_CLIP), *ru = reference(RU_CLIP);
    json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "id", "uz1", "audio", "clips/uz.wav", "text", uz, "language", "uz");
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "id", "ru1", "audio", "clips/ru.wav", "text", ru, "language", "ru");
    char *la = json_dumps(a, JSON_COMPACT), *lb = json_dumps(b, JSON_COMPACT);
    char buf[8192];
    snprintf(buf, sizeof buf, "%s\n\n%s\n", la, lb); /* a blank line is allowed */
    write_text(path, buf);
    free(la);
    free(lb);
    json_decref(a);
    json_decref(b);
    free(uz);
    free(ru);
}

static int run_bench(const char *args, char *out, size_t cap) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s bench -m '%s' -t 1 --max-tokens 8 %s", tmpdir, tu_build("uzwhisper"), model, args);
    return tu_run(cmd, out, cap);
}

static json_t *load_json(const char *path) {
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert(j, "%s is not valid JSON: %s (line %d)", path, e.text, e.line);
    return j;
}

static json_t *need(const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    cr_assert(v, "key \"%s\" is missing", key);
    return v;
}

static double need_num(const json_t *o, const char *key) {
    json_t *v = need(o, key);
    cr_assert(json_is_number(v), "\"%s\" is not a number", key);
    return json_number_value(v);
}

/* ---------------------------------------------------------------- an edit distance of our own */

/* Levenshtein distance between token sequences a[na] and b[nb] (unit costs). */
static long edit_distance(char **a, int na, char **b, int nb) {
    long *prev = calloc((size_t)nb + 1, sizeof *prev), *cur = calloc((size_t)nb + 1, sizeof *cur);
    cr_assert(prev && cur);
    for (int j = 0; j <= nb; j++) prev[j] = j;
    for (int i = 1; i <= na; i++) {
        cur[0] = i;
        for (int j = 1; j <= nb; j++) {
            long sub = prev[j - 1] + (strcmp(a[i - 1], b[j - 1]) != 0);
            long del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        long *t = prev;
        prev = cur;
        cur = t;
    }
    long d = prev[nb];
    free(prev);
    free(cur);
    return d;
}

/* split on ' ' into tokens (strdup'ed) */
static int words(const char *s, char ***out) {
    int n = 0, cap = 16;
    char **v = malloc(sizeof *v * (size_t)cap);
    const char *p = s;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if (n == cap) v = realloc(v, sizeof *v * (size_t)(cap *= 2));
        v[n++] = strndup(p, (size_t)(e - p));
        p = e;
    }
    *out = v;
    return n;
}

/* UTF-8 code points as one-character tokens */
static int chars(const char *s, char ***out) {
    int n = 0;
    size_t len = strlen(s);
    char **v = malloc(sizeof *v * (len + 1));
    for (size_t i = 0; i < len;) {
        size_t k = 1;
        while (i + k < len && ((unsigned char)s[i + k] & 0xc0) == 0x80) k++;
        v[n++] = strndup(s + i, k);
        i += k;
    }
    *out = v;
    return n;
}

static void free_tokens(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* errors (S+D+I) and reference length of ref/hyp, by words or by characters */
static void recount(const char *ref, const char *hyp, int by_chars, long *errors, long *ref_len) {
    char **r, **h;
    int nr = by_chars ? chars(ref, &r) : words(ref, &r);
    int nh = by_chars ? chars(hyp, &h) : words(hyp, &h);
    *errors = edit_distance(r, nr, h, nh);
    *ref_len = nr;
    free_tokens(r, nr);
    free_tokens(h, nh);
}

static long counts_errors(const json_t *c) {
    return (long)json_integer_value(need(c, "subs")) + (long)json_integer_value(need(c, "dels")) +
           (long)json_integer_value(need(c, "ins"));
}
static long counts_ref(const json_t *c) {
    return (long)json_integer_value(need(c, "hits")) + (long)json_integer_value(need(c, "subs")) +
           (long)json_integer_value(need(c, "dels"));
}

/* ---------------------------------------------------------------- tests */

Test(bench_cli, two_clips_write_a_report_whose_numbers_add_up) {
    need_model();
    copy_clips();
    write_two_clip_manifest(tmp("set.jsonl"));
    char out[65536];
    int rc = run_bench("set.jsonl --json r.json --md r.md", out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    /* the Markdown is printed unless --quiet */
    cr_expect(strstr(out, "## Targets") != NULL, "%s", out);

    json_t *r = load_json(tmp("r.json"));
    const char *top[] = {"tool", "version", "created", "model", "threads", "options", "targets", "sets", "all"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) need(r, top[i]);
    json_t *opts = need(r, "options");
    cr_expect_str_eq(json_string_value(need(opts, "uz_script")), "latin");
    cr_expect(json_is_true(need(opts, "code_switch")));
    cr_expect_str_eq(json_string_value(need(opts, "languages")), "uz,ru");
    json_t *targets = need(r, "targets");
    cr_expect_float_eq(need_num(need(targets, "wer_uz"), "target"), 0.25, 1e-9);
    cr_expect_float_eq(need_num(need(targets, "switch_f1"), "target"), 0.80, 1e-9);

    json_t *sets = need(r, "sets");
    cr_assert_eq(json_array_size(sets), 1);
    json_t *set = json_array_get(sets, 0);
    cr_expect_str_eq(json_string_value(need(set, "name")), "set");
    json_t *utts = need(set, "utterances");
    cr_assert_eq(json_array_size(utts), 2);
    long werr = 0, wref = 0, cerr = 0, cref = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *u = json_array_get(utts, i);
        const char *keys[] = {"id", "audio", "duration", "ref", "hyp", "ref_norm", "hyp_norm", "wer", "cer", "language",
                              "word_languages", "lid_words", "switches", "timings_ms", "rtf", "ttft_ms", "total_ms"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) need(u, keys[k]);
        cr_assert(json_is_true(need(u, "ok")), "utterance %zu failed", i);
        const char *rn = json_string_value(need(u, "ref_norm")), *hn = json_string_value(need(u, "hyp_norm"));
        cr_assert(rn && hn);
        long e, n;
        recount(rn, hn, 0, &e, &n);
        json_t *wc = need(u, "wer");
        cr_expect_eq(counts_errors(wc), e, "utterance %zu: WER errors %ld, recomputed %ld", i, counts_errors(wc), e);
        cr_expect_eq(counts_ref(wc), n, "utterance %zu: reference words", i);
        cr_expect_float_eq(need_num(wc, "rate"), (double)e / (double)n, 1e-5);
        werr += e;
        wref += n;
        recount(rn, hn, 1, &e, &n);
        json_t *cc = need(u, "cer");
        cr_expect_eq(counts_errors(cc), e, "utterance %zu: CER errors %ld, recomputed %ld", i, counts_errors(cc), e);
        cr_expect_eq(counts_ref(cc), n);
        cerr += e;
        cref += n;
        /* the reference is normalised: lower case, no punctuation; the Uzbek one is Latin */
        cr_expect(strchr(rn, ',') == NULL && strchr(rn, '.') == NULL, "%s", rn);
        json_t *lang = need(u, "language");
        cr_expect_str_eq(json_string_value(need(lang, "ref")), i == 0 ? "uz" : "ru");
        cr_expect(json_is_boolean(need(lang, "correct")));
        double d = need_num(u, "duration"), t = need_num(u, "total_ms");
        cr_expect(d > 4 && d < 10, "duration %g", d);
        cr_expect_float_eq(need_num(u, "rtf"), t / 1e3 / d, 1e-3 * t / 1e3 / d + 1e-6);
        json_t *tm = need(u, "timings_ms");
        cr_expect_float_eq(need_num(u, "ttft_ms"), need_num(tm, "audio_decode") + need_num(tm, "first_token"),
                           1e-2 + 1e-4 * need_num(u, "ttft_ms"));
    }
    json_t *sum = need(set, "summary");
    const char *skeys[] = {"n", "n_failed", "audio_seconds", "wer", "cer", "wer_by_utterance_language",
                           "wer_by_word_language", "pier", "lid_utterance", "lid_word", "switch", "rtf", "ttft_ms",
                           "phases_ms", "decoder_ms_per_token", "peak_rss_mb"};
    for (size_t k = 0; k < sizeof skeys / sizeof *skeys; k++) need(sum, skeys[k]);
    cr_expect_eq(json_integer_value(need(sum, "n")), 2);
    cr_expect_eq(json_integer_value(need(sum, "n_failed")), 0);
    double wer = need_num(sum, "wer"), cer = need_num(sum, "cer");
    cr_expect(isfinite(wer) && isfinite(cer));
    cr_expect_float_eq(wer, (double)werr / (double)wref, 1e-5, "set WER %g, recomputed %g", wer, (double)werr / wref);
    cr_expect_float_eq(cer, (double)cerr / (double)cref, 1e-5, "set CER %g, recomputed %g", cer, (double)cerr / cref);
    cr_expect(json_is_number(need(need(need(sum, "wer_by_utterance_language"), "uz"), "wer")));
    cr_expect(json_is_null(need(sum, "pier")), "no switched-in words: PIER is null");
    cr_expect(json_is_null(need(need(sum, "switch"), "f1")), "no reference switches: F1 is null");
    cr_expect(need_num(sum, "peak_rss_mb") > 1);
    json_t *ttft = need(sum, "ttft_ms");
    cr_expect(need_num(ttft, "p50") > 0 && need_num(ttft, "p90") >= need_num(ttft, "p50"));
    /* targets: each default one with value, goal and met (null when the set has no data for it) */
    json_t *tl = need(set, "targets");
    cr_expect_eq(json_array_size(tl), 5);
    for (size_t i = 0; i < json_array_size(tl); i++) {
        json_t *t = json_array_get(tl, i);
        const char *name = json_string_value(need(t, "name"));
        need(t, "value");
        need(t, "target");
        json_t *met = need(t, "met");
        if (!strcmp(name, "wer_mixed") || !strcmp(name, "switch_f1")) cr_expect(json_is_null(met), "%s", name);
        if (!strcmp(name, "cer")) cr_expect(json_is_boolean(met) && json_is_true(met) == (cer < 0.15));
    }
    /* one set: "all" is the same numbers */
    cr_expect_float_eq(need_num(need(need(r, "all"), "summary"), "wer"), wer, 1e-9);
    json_decref(r);

    char *md = (char *)tu_read_file(tmp("r.md"), NULL);
    cr_assert(md);
    const char *rows[] = {"`wer_uz`", "`wer_mixed`", "`cer`", "`lid`", "`switch_f1`"};
    for (size_t i = 0; i < 5; i++) {
        const char *row = strstr(md, rows[i]);
        cr_expect(row != NULL, "no %s row in:\n%s", rows[i], md);
        const char *eol = row ? strchr(row, '\n') : NULL;
        char line[512] = "";
        if (row && eol) snprintf(line, sizeof line, "%.*s", (int)(eol - row), row);
        cr_expect(strstr(line, "met") || strstr(line, "n/a"), "%s", line);
    }
    cr_expect(strstr(md, "NOT met") != NULL, "a random model cannot meet the WER target:\n%s", md);
    free(md);
}

Test(bench_cli, segments_give_word_languages_and_switch_points) {
    need_model();
    copy_clips();
    /* a made-up code-switched reference over a real clip: the plumbing, not the model, is tested */
    write_text(tmp("mix.jsonl"),
               "{\"id\": \"m1\", \"audio\": \"clips/uz.wav\", \"language\": \"mixed\", "
               "\"text\": \"Salom dunyo. Привет, мир!\", "
               "\"segments\": [{\"language\": \"uz\", \"start\": 0.0, \"end\": 2.5, \"text\": \"Salom dunyo.\"}, "
               "{\"language\": \"ru\", \"start\": 2.5, \"end\": 5.0, \"text\": \"Привет, мир!\"}]}\n"
               /* the segments miss a word of the text; the switch is given explicitly */
               "{\"id\": \"m2\", \"audio\": \"clips/uz.wav\", \"language\": \"mixed\", "
               "\"text\": \"Salom dunyo va Привет мир\", "
               "\"segments\": [{\"language\": \"uz\", \"start\": 0.0, \"end\": 2.5, \"text\": \"Salom dunyo\"}, "
               "{\"language\": \"ru\", \"start\": 2.5, \"end\": 5.0, \"text\": \"Привет мир\"}], "
               "\"switches\": [{\"time\": 2.0, \"from\": \"uz\", \"to\": \"ru\"}]}\n");
    char out[65536];
    int rc = run_bench("mix.jsonl --json r.json -q --switch-tolerance 0.25", out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    json_t *r = load_json(tmp("r.json"));
    cr_expect_str_eq(json_string_value(need(need(r, "options"), "languages")), "uz,ru");
    cr_expect_float_eq(need_num(need(r, "options"), "switch_tolerance"), 0.25, 1e-9);
    json_t *u = json_array_get(need(json_array_get(need(r, "sets"), 0), "utterances"), 0);
    cr_assert(u);
    cr_expect_str_eq(json_string_value(need(u, "ref_norm")), "salom dunyo привет мир");
    json_t *rl = need(need(u, "word_languages"), "ref");
    cr_assert_eq(json_array_size(rl), 4);
    const char *want[] = {"uz", "uz", "ru", "ru"};
    for (size_t i = 0; i < 4; i++) cr_expect_str_eq(json_string_value(json_array_get(rl, i)), want[i]);
    /* no "switches" in the manifest: one taken from the segments, uz -> ru at 2.5 s */
    json_t *sw = need(u, "switches"), *ref = need(sw, "ref");
    cr_assert_eq(json_array_size(ref), 1);
    json_t *s0 = json_array_get(ref, 0);
    cr_expect_float_eq(need_num(s0, "time"), 2.5, 1e-9);
    cr_expect_str_eq(json_string_value(need(s0, "from")), "uz");
    cr_expect_str_eq(json_string_value(need(s0, "to")), "ru");
    long tp = (long)json_integer_value(need(sw, "tp")), fn = (long)json_integer_value(need(sw, "fn"));
    long fp = (long)json_integer_value(need(sw, "fp"));
    cr_expect_eq(tp + fn, 1);
    cr_expect_eq(tp + fp, (long)json_array_size(need(sw, "hyp")));
    json_t *sum = need(json_array_get(need(r, "sets"), 0), "summary");
    json_t *ssw = need(sum, "switch");
    cr_expect_eq(json_integer_value(need(ssw, "ref_switches")), 2);
    cr_expect(json_is_number(need(ssw, "f1")), "a reference switch exists: F1 is a number");
    cr_expect(json_is_number(need(need(need(sum, "wer_by_utterance_language"), "mixed"), "wer")));
    json_t *byw = need(sum, "wer_by_word_language");
    cr_expect_eq(json_integer_value(need(need(byw, "uz"), "ref_words")), 5);
    cr_expect_eq(json_integer_value(need(need(byw, "ru"), "ref_words")), 4);
    /* m2: the word the segments lack takes the language of the aligned word before it */
    json_t *u2 = json_array_get(need(json_array_get(need(r, "sets"), 0), "utterances"), 1);
    cr_assert(u2);
    json_t *rl2 = need(need(u2, "word_languages"), "ref");
    cr_assert_eq(json_array_size(rl2), 5);
    const char *want2[] = {"uz", "uz", "uz", "ru", "ru"};
    for (size_t i = 0; i < 5; i++) cr_expect_str_eq(json_string_value(json_array_get(rl2, i)), want2[i], "word %zu", i);
    json_t *ref2 = need(need(u2, "switches"), "ref");
    cr_assert_eq(json_array_size(ref2), 1);
    cr_expect_float_eq(need_num(json_array_get(ref2, 0), "time"), 2.0, 1e-9, "the manifest's switches come first");
    json_decref(r);
}

Test(bench_cli, several_sets_and_limit) {
    need_model();
    copy_clips();
    write_two_clip_manifest(tmp("a.jsonl"));
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s'", tmp("b"), tmp("a.jsonl"), tmp("b/a.jsonl"));
    cr_assert_eq(system(cmd), 0);
    /* b/a.jsonl refers to b/clips/: link them */
    snprintf(cmd, sizeof cmd, "ln -s '%s' '%s'", tmp("clips"), tmp("b/clips"));
    cr_assert_eq(system(cmd), 0);
    char out[65536];
    int rc = run_bench("a.jsonl b/a.jsonl --limit 1 --json r.json --md r.md -q", out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    json_t *r = load_json(tmp("r.json"));
    json_t *sets = need(r, "sets");
    cr_assert_eq(json_array_size(sets), 2);
    cr_expect_str_eq(json_string_value(need(json_array_get(sets, 0), "name")), "a");
    cr_expect_str_eq(json_string_value(need(json_array_get(sets, 1), "name")), "a-2", "names are made unique");
    for (size_t k = 0; k < 2; k++) cr_expect_eq(json_array_size(need(json_array_get(sets, k), "utterances")), 1);
    cr_expect_eq(json_integer_value(need(need(need(r, "all"), "summary"), "n")), 2);
    json_decref(r);
    char *md = (char *)tu_read_file(tmp("r.md"), NULL);
    cr_assert(md);
    cr_expect(strstr(md, "| **all** |") != NULL, "%s", md);
    free(md);
}

Test(bench_cli, bad_manifests_are_clear_errors) {
    need_model();
    copy_clips();
    struct {
        const char *text, *needle;
        int line;
    } cases[] = {
        {"{\"audio\": \"clips/uz.wav\", \"text\": \"a\", \"language\": \"uz\"}\nthis is not json\n", "JSON", 2},
        {"{\"audio\": \"clips/uz.wav\", \"language\": \"uz\"}\n", "\"text\"", 1},
        {"{\"audio\": \"clips/uz.wav\", \"text\": \"a\", \"language\": 5}\n", "\"language\"", 1},
        {"{\"audio\": \"clips/uz.wav\", \"text\": \"a\", \"language\": \"uz\", \"segments\": {}}\n", "\"segments\"", 1},
        {"{\"audio\": \"clips/uz.wav\", \"text\": \"a\", \"language\": \"uz\", \"switches\": [{\"time\": \"x\", "
         "\"from\": \"uz\", \"to\": \"ru\"}]}\n",
         "\"time\"", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(tmp("bad.jsonl"), cases[i].text);
        char out[8192], want[64];
        int rc = run_bench("bad.jsonl --json r.json -q", out, sizeof out);
        cr_expect_eq(rc, 3, "case %zu: exit %d: %s", i, rc, out);
        snprintf(want, sizeof want, "bench: bad.jsonl:%d:", cases[i].line);
        cr_expect(strstr(out, want) != NULL, "case %zu: no '%s' in: %s", i, want, out);
        cr_expect(strstr(out, cases[i].needle) != NULL, "case %zu: no '%s' in: %s", i, cases[i].needle, out);
        cr_expect(!tu_exists(tmp("r.json")), "case %zu: no report for a manifest that does not parse", i);
    }
    /* a missing audio file: counted as a failure, the run goes on, exit 3 */
    write_text(tmp("miss.jsonl"), "{\"id\": \"gone\", \"audio\": \"clips/nope.wav\", \"text\": \"a b\", \"language\": \"uz\"}\n"
                                  "{\"id\": \"here\", \"audio\": \"clips/ru.wav\", \"text\": \"a b\", \"language\": \"ru\"}\n");
    char out[65536];
    int rc = run_bench("miss.jsonl --json r.json -q", out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "1 of 2 utterances failed") != NULL, "%s", out);
    json_t *r = load_json(tmp("r.json"));
    json_t *set = json_array_get(need(r, "sets"), 0);
    json_t *sum = need(set, "summary");
    cr_expect_eq(json_integer_value(need(sum, "n_failed")), 1);
    cr_expect_eq(json_integer_value(need(sum, "n_ok")), 1);
    json_t *u0 = json_array_get(need(set, "utterances"), 0);
    cr_expect(json_is_false(need(u0, "ok")));
    cr_expect(json_is_string(need(u0, "error")), "the reason is kept");
    cr_expect(json_is_true(need(json_array_get(need(set, "utterances"), 1), "ok")));
    json_decref(r);
}

Test(bench_cli, command_line_errors) {
    need_model();
    copy_clips();
    write_two_clip_manifest(tmp("set.jsonl"));
    struct {
        const char *args, *needle;
    } cases[] = {
        {"set.jsonl --target foo=0.1", "bad --target 'foo=0.1'"},
        {"set.jsonl --target wer_uz", "bad --target"},
        {"set.jsonl --target wer_uz=abc", "bad --target 'wer_uz=abc'"},
        {"set.jsonl --target wer_uz=150%", "bad --target"},
        {"set.jsonl --target cer=-0.1", "bad --target"},
        {"set.jsonl --compare whisper.cpp", "--compare knows only faster-whisper"},
        {"set.jsonl --switch-tolerance soon", "bad --switch-tolerance"},
        {"set.jsonl --limit 0", "bad --limit"},
        {"set.jsonl --beam-size 0", "bad --beam-size"},
        {"--json r.json", "no manifest"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[16384];
        int rc = run_bench(cases[i].args, out, sizeof out);
        cr_expect_eq(rc, 1, "'%s': exit %d: %s", cases[i].args, rc, out);
        cr_expect(strstr(out, cases[i].needle) != NULL, "'%s': no '%s' in: %s", cases[i].args, cases[i].needle, out);
    }
    /* good --target values change the goals; "off" drops one */
    char out[65536];
    int rc = run_bench("set.jsonl -q --json r.json --target wer_uz=20% --target cer=0.5 --target lid=off --target wer=0.9",
                       out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    json_t *r = load_json(tmp("r.json"));
    json_t *t = need(r, "targets");
    cr_expect_float_eq(need_num(need(t, "wer_uz"), "target"), 0.20, 1e-9);
    cr_expect_float_eq(need_num(need(t, "cer"), "target"), 0.50, 1e-9);
    cr_expect_float_eq(need_num(need(t, "wer"), "target"), 0.90, 1e-9);
    cr_expect(json_object_get(t, "lid") == NULL, "lid=off removes the target");
    cr_expect_eq(json_array_size(need(json_array_get(need(r, "sets"), 0), "targets")), 5);
    json_decref(r);
}

Test(bench_cli, plots_are_drawn_when_gnuplot_exists) {
    need_model();
    copy_clips();
    write_two_clip_manifest(tmp("set.jsonl"));
    char out[65536];
    /* without gnuplot: a warning, no plots, still exit 0 */
    char args[1024];
    snprintf(args, sizeof args, "set.jsonl -q --plots p0");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && UZWHISPER_GNUPLOT=/nonexistent/gnuplot %s bench -m '%s' -t 1 --max-tokens 8 %s",
             tmpdir, tu_build("uzwhisper"), model, args);
    int rc = tu_run(cmd, out, sizeof out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "gnuplot not found") != NULL, "%s", out);
    cr_expect(!tu_exists(tmp("p0/wer_by_language.png")));

    if (system("gnuplot --version >/dev/null 2>&1") != 0)
        cr_skip_test("gnuplot is not installed (apt-get install gnuplot-nox): the PNG check is skipped");
    rc = run_bench("set.jsonl -q --plots plots", out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    const char *pngs[] = {"plots/wer_by_language.png", "plots/latency_cdf.png", "plots/rtf_vs_length.png", "plots/phases.png"};
    for (size_t i = 0; i < 4; i++) {
        size_t n = 0;
        uint8_t *b = tu_read_file(tmp(pngs[i]), &n);
        cr_expect(b != NULL, "%s missing", pngs[i]);
        if (!b) continue;
        cr_expect(n > 2000 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8), "%s is not a PNG (%zu bytes)", pngs[i], n);
        free(b);
    }
    cr_expect(tu_exists(tmp("plots/bench_plots.gp")), "the gnuplot script is kept");
}

/* The one test that runs faster-whisper: slow, so only where it and the real models are installed. */
Test(bench_cli, compare_with_faster_whisper_on_one_clip, .timeout = 600) {
    const char *real = tu_src("models/default.uzw"), *fw = tu_src("models/faster-whisper-base/model.bin");
    if (!tu_exists(real) || !tu_exists(fw))
        cr_skip_test("models/default.uzw or models/faster-whisper-base is missing (tools/setup-default-model.sh)");
    if (system("python3 -c 'import faster_whisper' >/dev/null 2>&1") != 0)
        cr_skip_test("faster-whisper is not installed for python3 (pip install faster-whisper)");
    copy_clips();
    char *ru = reference(RU_CLIP);
    json_t *a = json_pack("{s:s, s:s, s:s}", "audio", "clips/ru.wav", "text", ru, "language", "ru");
    char *line = json_dumps(a, JSON_COMPACT);
    write_text(tmp("one.jsonl"), line);
    free(line);
    json_decref(a);
    free(ru);
    char cmd[2048], out[65536];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s bench -m '%s' -t 2 --no-warmup -q --compare faster-whisper --json r.json one.jsonl",
             tmpdir, tu_build("uzwhisper"), real);
    int rc = tu_run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    json_t *r = load_json(tmp("r.json"));
    json_t *c = need(r, "compare");
    cr_expect(json_is_null(need(c, "error")), "%s", json_string_value(json_object_get(c, "error")));
    cr_expect(json_is_string(need(c, "version")));
    json_t *cmp = need(need(r, "all"), "compare");
    json_t *ratios = need(cmp, "ratios");
    const char *keys[] = {"rtf", "ttft_p50", "ttft_p90", "latency_p50", "peak_rss"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        double v = need_num(ratios, keys[i]);
        cr_expect(isfinite(v) && v > 0, "ratio %s = %g", keys[i], v);
    }
    json_t *theirs = need(cmp, "faster_whisper");
    cr_expect(isfinite(need_num(theirs, "wer")) && isfinite(need_num(theirs, "rtf")));
    cr_expect_eq(json_integer_value(need(theirs, "n_ok")), 1);
    json_t *u = json_array_get(need(json_array_get(need(r, "sets"), 0), "utterances"), 0);
    json_t *fu = need(u, "faster_whisper");
    cr_expect(json_is_true(need(fu, "ok")));
    cr_expect(json_string_length(need(fu, "hyp")) > 0, "faster-whisper wrote text for a Russian sentence");
    json_decref(r);
}
