/* The txt, json, srt and vtt writers of `uzwhisper transcribe`: millisecond rounding, hours beyond
 * 99, trimming, empty segments, escaping, invalid UTF-8, and - through the binary on real clips -
 * that every file it writes parses: SRT/VTT by a strict timing-syntax checker written here, JSON by
 * Jansson. The writers live in tools/ (built into the command, not the library), so their sources
 * are compiled into this test directly. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

#include "output.h"

/* ---------------------------------------------------------------- a strict SRT / VTT checker */

/* "HH:MM:SS<sep>mmm" with >= 2 hour digits, minutes and seconds < 60; returns chars read or 0. */
static int parse_ts(const char *s, char sep, long long *ms) {
    int i = 0;
    long long h = 0;
    while (isdigit((unsigned char)s[i])) h = h * 10 + (s[i++] - '0');
    if (i < 2 || s[i] != ':') return 0;
    int p = i + 1;
    if (!isdigit((unsigned char)s[p]) || !isdigit((unsigned char)s[p + 1]) || s[p + 2] != ':') return 0;
    int m = (s[p] - '0') * 10 + (s[p + 1] - '0');
    p += 3;
    if (!isdigit((unsigned char)s[p]) || !isdigit((unsigned char)s[p + 1]) || s[p + 2] != sep) return 0;
    int sec = (s[p] - '0') * 10 + (s[p + 1] - '0');
    p += 3;
    for (int k = 0; k < 3; k++)
        if (!isdigit((unsigned char)s[p + k])) return 0;
    int f = (s[p] - '0') * 100 + (s[p + 1] - '0') * 10 + (s[p + 2] - '0');
    if (m > 59 || sec > 59) return 0;
    *ms = ((h * 60 + m) * 60 + sec) * 1000 + f;
    return p + 3;
}

typedef struct {
    int n_cues;
    long long start[64], end[64];
    char text[64][256];
} cues;

/* Check a whole SRT (vtt = 0) or WebVTT (vtt = 1) document; returns NULL or what is wrong. */
static const char *check_subs(const char *doc, int vtt, cues *out) {
    static char why[256];
    memset(out, 0, sizeof *out);
    const char *p = doc;
    if (vtt) {
        if (strncmp(p, "WEBVTT\n\n", 8)) return "no 'WEBVTT' header line followed by a blank line";
        p += 8;
    }
    long long prev = -1;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) return "a line without its newline";
        if (!vtt) { /* the cue number */
            char *end;
            long k = strtol(p, &end, 10);
            if (end != nl || k != out->n_cues + 1) { snprintf(why, sizeof why, "cue %d: bad number line '%.*s'", out->n_cues + 1, (int)(nl - p), p); return why; }
            p = nl + 1;
            if (!(nl = strchr(p, '\n'))) return "missing timing line";
        }
        long long a, b;
        int n = parse_ts(p, vtt ? '.' : ',', &a);
        if (!n || strncmp(p + n, " --> ", 5)) { snprintf(why, sizeof why, "bad timing line '%.*s'", (int)(nl - p), p); return why; }
        int m = parse_ts(p + n + 5, vtt ? '.' : ',', &b);
        if (!m || p + n + 5 + m != nl) { snprintf(why, sizeof why, "bad timing line '%.*s'", (int)(nl - p), p); return why; }
        if (b < a) return "a cue ends before it starts";
        if (a < prev) return "cues out of order";
        prev = a;
        p = nl + 1;
        nl = strchr(p, '\n');
        if (!nl || nl == p) return "a cue without text";
        if (isspace((unsigned char)*p) || isspace((unsigned char)nl[-1])) return "cue text not trimmed";
        if (out->n_cues < 64) {
            out->start[out->n_cues] = a;
            out->end[out->n_cues] = b;
            snprintf(out->text[out->n_cues], sizeof out->text[0], "%.*s", (int)(nl - p), p);
        }
        out->n_cues++;
        p = nl + 1;
        if (*p != '\n') return "a cue not followed by a blank line";
        p++;
    }
    return NULL;
}

static char *render(int (*fn)(FILE *, const out_result *), const out_result *r) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    cr_assert_eq(fn(f, r), 0);
    cr_assert_eq(fclose(f), 0);
    return buf;
}

/* ---------------------------------------------------------------- a hand-made transcript */
static const int toks_a[] = {50364, 2425, 1002};
static const out_word words_a[] = {{" Hello", 0.0, 0.5, 0.9f, "en", 0.99f}, {" world.", 0.5, 1.25, 0.8f, "en", 0.99f}};
static out_segment segs[] = {
    {0.0, 1.2346, " Hello world. ", toks_a, 3, -0.25f, 0.01f, "en", 0.99f, words_a, 2},
    {1.2346, 2.0, "   ", NULL, 0, -0.5f, 0.02f, "en", 0.99f, NULL, 0}, /* empty: no cue */
    {59.9996, 3599.99951, "\nsecond\tline <b> & x --> y\n", NULL, 0, -0.1f, 0.0f, "en", 0.99f, NULL, 0},
    {362439.123, 362441.0, " after a hundred hours", NULL, 0, -0.1f, 0.0f, "en", 0.99f, NULL, 0},
};
static const out_lang_prob langs[] = {{"en", 0.9f}, {"uz", 0.05f}};

static out_result sample(void) {
    out_result r = {0};
    r.file = "/data/a.wav";
    r.id = "a";
    r.duration = 362441.0;
    r.language = "en";
    r.language_detected = 1;
    r.langs = langs;
    r.n_langs = 2;
    r.text = " Hello world.";
    r.segs = segs;
    r.n_segs = 4;
    r.timings.encoder_ms = 12.3456789;
    r.timings.n_decoder_steps = 3;
    r.timings.decoder_ms = 9.0;
    return r;
}

Test(output, time_format_rounds_and_grows_hours) {
    char b[64];
    struct { double s; const char *want; } cases[] = {
        {0.0, "00:00:00,000"},        {1.2346, "00:00:01,235"},      {1.2344, "00:00:01,234"},
        {59.9996, "00:01:00,000"},    {3599.99951, "01:00:00,000"},  {0.0004, "00:00:00,000"},
        {-3.0, "00:00:00,000"},       {NAN, "00:00:00,000"},         {INFINITY, "00:00:00,000"},
        {359999.999, "99:59:59,999"}, {360000.0, "100:00:00,000"},   {362439.123, "100:40:39,123"},
        {3723.4, "01:02:03,400"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out_format_time(b, sizeof b, cases[i].s, ',');
        cr_expect_str_eq(b, cases[i].want, "%.6f s", cases[i].s);
    }
    out_format_time(b, sizeof b, 3723.4, '.');
    cr_expect_str_eq(b, "01:02:03.400");
}

Test(output, srt_cues_are_numbered_trimmed_and_valid) {
    out_result r = sample();
    char *s = render(out_write_srt, &r);
    cues c;
    const char *why = check_subs(s, 0, &c);
    cr_assert(why == NULL, "%s in:\n%s", why, s);
    cr_assert_eq(c.n_cues, 3, "%s", s); /* the blank segment is left out */
    cr_expect_str_eq(c.text[0], "Hello world.");
    cr_expect_eq(c.start[0], 0);
    cr_expect_eq(c.end[0], 1235);
    cr_expect_str_eq(c.text[1], "second line <b> & x --> y");
    cr_expect_eq(c.start[1], 60000);
    cr_expect_eq(c.end[1], 3600000);
    cr_expect_eq(c.start[2], 362439123);
    cr_expect(strstr(s, "3\n100:40:39,123 --> 100:40:41,000\nafter a hundred hours\n\n") != NULL, "%s", s);
    cr_expect(strncmp(s, "1\n00:00:00,000 --> 00:00:01,235\nHello world.\n\n2\n", 48) == 0, "%s", s);
    free(s);
}

Test(output, vtt_has_header_dots_and_escapes) {
    out_result r = sample();
    char *s = render(out_write_vtt, &r);
    cues c;
    const char *why = check_subs(s, 1, &c);
    cr_assert(why == NULL, "%s in:\n%s", why, s);
    cr_assert_eq(c.n_cues, 3);
    cr_expect_str_eq(c.text[1], "second line &lt;b&gt; &amp; x --&gt; y");
    cr_expect(strstr(s, "00:01:00.000 --> 01:00:00.000\n") != NULL, "%s", s);
    cr_expect(strstr(s, "100:40:39.123 --> 100:40:41.000\n") != NULL, "%s", s);
    free(s);
}

Test(output, checker_rejects_bad_timing) {
    cues c;
    cr_expect(check_subs("1\n00:00:01.000 --> 00:00:02,000\nx\n\n", 0, &c) != NULL); /* VTT dot in SRT */
    cr_expect(check_subs("1\n00:00:61,000 --> 00:01:02,000\nx\n\n", 0, &c) != NULL); /* 61 s */
    cr_expect(check_subs("1\n00:00:03,000 --> 00:00:02,000\nx\n\n", 0, &c) != NULL); /* backwards */
    cr_expect(check_subs("2\n00:00:01,000 --> 00:00:02,000\nx\n\n", 0, &c) != NULL); /* numbering */
    cr_expect(check_subs("00:00:01.000 --> 00:00:02.000\nx\n\n", 1, &c) != NULL);    /* no header */
    cr_expect(check_subs("WEBVTT\n\n0:00:01.000 --> 00:00:02.000\nx\n\n", 1, &c) != NULL);
    cr_expect(check_subs("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nx\n\n", 1, &c) == NULL);
}

Test(output, txt_is_one_trimmed_line_per_segment) {
    out_result r = sample();
    char *s = render(out_write_txt, &r);
    cr_expect_str_eq(s, "Hello world.\nsecond line <b> & x --> y\nafter a hundred hours\n");
    free(s);
    out_result empty = sample();
    empty.n_segs = 0;
    s = render(out_write_txt, &empty);
    cr_expect_str_eq(s, "");
    free(s);
    s = render(out_write_srt, &empty);
    cr_expect_str_eq(s, "");
    free(s);
}

Test(output, json_has_every_field_and_parses) {
    out_result r = sample();
    static const out_segment bad_utf8 = {1.0, 2.0, " caf\xc3 \xff", NULL, 0, NAN, 0.5f, "en", 1.0f, NULL, 0};
    out_segment more[5];
    memcpy(more, segs, sizeof segs);
    more[4] = bad_utf8;
    r.segs = more;
    r.n_segs = 5;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    cr_assert_eq(out_write_json(f, &r, 0), 0);
    fclose(f);
    json_error_t je;
    json_t *o = json_loads(buf, 0, &je);
    cr_assert(o, "does not parse: %s\n%s", je.text, buf);
    cr_expect_str_eq(json_string_value(json_object_get(o, "file")), "/data/a.wav");
    cr_expect_str_eq(json_string_value(json_object_get(o, "language")), "en");
    cr_expect(json_is_true(json_object_get(o, "language_detected")));
    cr_expect_float_eq(json_real_value(json_object_get(json_object_get(o, "language_probs"), "uz")), 0.05, 1e-9);
    cr_expect_float_eq(json_real_value(json_object_get(o, "duration")), 362441.0, 1e-9);
    cr_expect_float_eq(json_real_value(json_object_get(json_object_get(o, "timings_ms"), "encoder")), 12.346, 1e-9);
    json_t *sg = json_object_get(o, "segments");
    cr_assert_eq(json_array_size(sg), 5);
    json_t *s0 = json_array_get(sg, 0);
    const char *keys[] = {"id", "start", "end", "text", "tokens", "avg_logprob", "no_speech_prob", "language", "language_prob", "words"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) cr_expect(json_object_get(s0, keys[k]) != NULL, "segment lacks %s", keys[k]);
    cr_expect_float_eq(json_real_value(json_object_get(s0, "end")), 1.235, 1e-12);
    cr_expect_float_eq(json_real_value(json_object_get(s0, "avg_logprob")), -0.25, 1e-12);
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(s0, "tokens"), 2)), 1002);
    json_t *w1 = json_array_get(json_object_get(s0, "words"), 1);
    cr_expect_str_eq(json_string_value(json_object_get(w1, "word")), " world.");
    cr_expect_float_eq(json_real_value(json_object_get(w1, "end")), 1.25, 1e-12);
    cr_expect_float_eq(json_real_value(json_object_get(w1, "probability")), 0.8, 1e-12);
    json_t *s4 = json_array_get(sg, 4);
    cr_expect_eq(json_integer_value(json_object_get(s4, "id")), 4);
    cr_expect_str_eq(json_string_value(json_object_get(s4, "text")), " caf\xef\xbf\xbd \xef\xbf\xbd"); /* U+FFFD per bad byte */
    cr_expect(json_is_null(json_object_get(s4, "avg_logprob")));
    json_decref(o);
    free(buf);
}

Test(output, format_lists) {
    char err[256];
    cr_expect_eq(out_parse_formats("srt, VTT,json", err, sizeof err), OUT_FMT_SRT | OUT_FMT_VTT | OUT_FMT_JSON);
    cr_expect_eq(out_parse_formats("txt", err, sizeof err), OUT_FMT_TXT);
    cr_expect_eq(out_parse_formats("txt,doc", err, sizeof err), 0u);
    cr_expect(strstr(err, "'doc'") != NULL, "%s", err);
    cr_expect_eq(out_parse_formats("", err, sizeof err), 0u);
    cr_expect_eq(out_parse_formats("srt,,vtt", err, sizeof err), 0u);
}

/* ---------------------------------------------------------------- the files the command writes */
static int run(const char *cmd, char *out, size_t cap) {
    char full[8192];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    cr_assert(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

Test(output, command_writes_valid_files_for_real_clips) {
    const char *hf = tu_src("tests/fixtures/tiny-random/hf");
    if (!tu_exists(hf)) cr_skip_test("tests/fixtures/tiny-random/hf is missing (run tests/reference/make_golden.py)");
    char dir[] = "/tmp/uzw-outfmt-XXXXXX", cmd[8192], out[16384], p[1024];
    cr_assert(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "%s convert --from hf %s %s/tiny.uzw", tu_build("uzwhisper"), hf, dir);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s/tiny.uzw -l en --max-tokens 6 -o %s/out -f txt,json,srt,vtt %s %s",
             tu_build("uzwhisper"), dir, dir, tu_shared("data/en/jfk.flac"), tu_shared("data/multi/en_de.mp3"));
    int rc = run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    const char *names[] = {"jfk", "en_de"};
    const double durations[] = {11.0, 59.9};
    for (int k = 0; k < 2; k++) {
        cues c;
        for (int vtt = 0; vtt < 2; vtt++) {
            snprintf(p, sizeof p, "%s/out/%s.%s", dir, names[k], vtt ? "vtt" : "srt");
            char *s = (char *)tu_read_file(p, NULL);
            cr_assert(s, "missing %s", p);
            const char *why = check_subs(s, vtt, &c);
            cr_expect(why == NULL, "%s: %s\n%s", p, why, s);
            cr_expect(c.n_cues == 0 || c.end[c.n_cues - 1] <= (long long)(durations[k] * 1000 + 1000), "%s", s);
            free(s);
        }
        snprintf(p, sizeof p, "%s/out/%s.json", dir, names[k]);
        json_error_t je;
        json_t *o = json_load_file(p, 0, &je);
        cr_assert(o, "%s: %s", p, je.text);
        cr_expect_float_eq(json_real_value(json_object_get(o, "duration")), durations[k], 0.15);
        cr_expect_str_eq(json_string_value(json_object_get(o, "language")), "en");
        json_t *sg = json_object_get(o, "segments");
        cr_expect(json_is_array(sg) && json_array_size(sg) >= 1);
        size_t n_text_segs = 0;
        for (size_t i = 0; i < json_array_size(sg); i++) {
            json_t *s = json_array_get(sg, i);
            double a = json_number_value(json_object_get(s, "start")), b = json_number_value(json_object_get(s, "end"));
            cr_expect(a >= 0 && b >= a && b <= durations[k] + 30, "segment %zu: %f..%f", i, a, b);
            cr_expect(json_is_array(json_object_get(s, "tokens")) && json_is_array(json_object_get(s, "words")));
            char *t = out_clean_text(json_string_value(json_object_get(s, "text")));
            if (t && *t) n_text_segs++;
            free(t);
        }
        cr_expect_eq((size_t)c.n_cues, n_text_segs, "vtt cues vs non-empty json segments");
        json_decref(o);
        snprintf(p, sizeof p, "%s/out/%s.txt", dir, names[k]);
        cr_expect(tu_exists(p));
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}
