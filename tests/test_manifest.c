/*
 * test_manifest.c - the bench manifest reader (tools/eval/manifest.h): a manifest using every
 * optional field (plus comments, blank lines, CRLF, nulls and unknown keys) parsed field by field,
 * audio paths resolved against the manifest's folder, and one test per kind of bad input, each
 * checking that the whole manifest fails with "NAME:LINE: " and a message naming the problem.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

#define GOOD "{\"audio\": \"ok.wav\", \"text\": \"salom\", \"language\": \"uz\"}\n"

/* ---------------------------------------------------------------- helpers */

/* Parse text as "t.jsonl"; it must fail on line `line` (0: no line) with `needle` in the message. */
static void expect_fail(const char *text, int line, const char *needle) {
    uze_manifest m = {(uze_utterance *)1, 99};
    char err[512] = "";
    int rc = uze_manifest_parse(text, strlen(text), "/data", "t.jsonl", &m, err, sizeof err);
    cr_assert_eq(rc, -1, "accepted: %s", text);
    cr_expect(m.utt == NULL && m.n == 0, "a failed parse leaves an empty manifest");
    char prefix[64];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "t.jsonl:%d: ", line);
    else
        snprintf(prefix, sizeof prefix, "t.jsonl: ");
    cr_expect(strncmp(err, prefix, strlen(prefix)) == 0, "message \"%s\" should start with \"%s\"", err, prefix);
    cr_expect(strstr(err, needle) != NULL, "message \"%s\" should mention \"%s\"", err, needle);
}

/* ---------------------------------------------------------------- good input */

Test(manifest, all_fields) {
    const char *m_text =
        "# bench manifest\n"
        "\n"
        "{\"id\": \"u1\", \"audio\": \"clips/a.wav\", \"text\": \"men магазин ga bordim\", \"language\": \"mixed\","
        " \"segments\": [{\"language\": \"uz\", \"start\": 0, \"end\": 0.5, \"text\": \"men\"},"
        " {\"language\": \"ru\", \"start\": 0.5, \"end\": 1.25, \"text\": \"магазин\"},"
        " {\"language\": \"uz\", \"start\": 1.25, \"end\": 2, \"text\": \"ga bordim\"}],"
        " \"switches\": [{\"time\": 0.5, \"from\": \"uz\", \"to\": \"ru\"}, {\"time\": 1.25, \"from\": \"ru\", \"to\": \"uz\"}],"
        " \"speaker\": \"s7\"}\r\n"
        "   # an indented comment\n"
        "{\"audio\": \"/abs/b.flac\", \"text\": \"\", \"language\": \"ru\", \"segments\": null, \"switches\": [], \"id\": null}\n"
        "  \t \n"
        "{\"audio\": \"c.wav\", \"text\": \"bir\", \"language\": \"uzb\"}"; /* no final newline */
    uze_manifest m;
    char err[256] = "";
    cr_assert_eq(uze_manifest_parse(m_text, strlen(m_text), "/data/set", "m.jsonl", &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.n, 3);
    const uze_utterance *u = &m.utt[0];
    cr_expect_str_eq(u->id, "u1");
    cr_expect_str_eq(u->audio, "/data/set/clips/a.wav");
    cr_expect_str_eq(u->text, "men магазин ga bordim");
    cr_expect_str_eq(u->language, "mixed");
    cr_expect_eq(u->line, 3);
    cr_assert_eq(u->n_segs, 3);
    cr_expect_str_eq(u->segs[1].language, "ru");
    cr_expect(u->segs[1].start == 0.5 && u->segs[1].end == 1.25);
    cr_expect_str_eq(u->segs[1].text, "магазин");
    cr_expect(u->segs[2].start == 1.25 && u->segs[2].end == 2.0);
    cr_assert_eq(u->n_switches, 2);
    cr_expect(u->switches[0].time == 0.5);
    cr_expect_str_eq(u->switches[0].from, "uz");
    cr_expect_str_eq(u->switches[0].to, "ru");
    cr_expect_str_eq(u->switches[1].from, "ru");
    u = &m.utt[1];
    cr_expect_str_eq(u->id, "/abs/b.flac"); /* no id: the audio path as written */
    cr_expect_str_eq(u->audio, "/abs/b.flac"); /* absolute paths are kept */
    cr_expect_str_eq(u->text, "");
    cr_expect(u->n_segs == 0 && u->segs == NULL && u->n_switches == 0);
    cr_expect_eq(u->line, 5);
    u = &m.utt[2];
    cr_expect_str_eq(u->id, "c.wav");
    cr_expect_str_eq(u->audio, "/data/set/c.wav");
    cr_expect_str_eq(u->language, "uzb");
    cr_expect_eq(u->line, 7);
    uze_manifest_free(&m);
    cr_expect(m.n == 0 && m.utt == NULL);
}

Test(manifest, load_resolves_against_the_manifest_folder) {
    char dir[] = "/tmp/uze_manifest_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/list.jsonl", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"audio\": \"x/a.wav\", \"text\": \"salom\", \"language\": \"uz\"}\n", f);
    fclose(f);
    uze_manifest m;
    char err[256] = "";
    int rc = uze_manifest_load(path, &m, err, sizeof err);
    unlink(path);
    rmdir(dir);
    cr_assert_eq(rc, 0, "%s", err);
    char want[160];
    snprintf(want, sizeof want, "%s/x/a.wav", dir);
    cr_expect_str_eq(m.utt[0].audio, want);
    cr_expect_str_eq(m.utt[0].id, "x/a.wav");
    uze_manifest_free(&m);

    rc = uze_manifest_load("/nonexistent/dir/m.jsonl", &m, err, sizeof err);
    cr_expect_eq(rc, -1);
    cr_expect(strstr(err, "/nonexistent/dir/m.jsonl: cannot open") == err, "%s", err);
}

Test(manifest, no_base_dir_keeps_paths) {
    uze_manifest m;
    char err[256] = "";
    cr_assert_eq(uze_manifest_parse(GOOD, strlen(GOOD), NULL, NULL, &m, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(m.utt[0].audio, "ok.wav");
    uze_manifest_free(&m);
    cr_assert_eq(uze_manifest_parse(GOOD, strlen(GOOD), "/d/", "x", &m, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(m.utt[0].audio, "/d/ok.wav");
    uze_manifest_free(&m);
}

/* ---------------------------------------------------------------- bad lines */

Test(manifest_bad, invalid_json) {
    expect_fail(GOOD "{\"audio\": \"a.wav\", \"text\": \"x\"\n", 2, "invalid JSON");
    expect_fail(GOOD GOOD "{\"audio\": \"a.wav\"} trailing\n", 3, "invalid JSON");
    expect_fail("{\"audio\": \"a.wav\", \"audio\": \"b.wav\", \"text\": \"\", \"language\": \"uz\"}\n", 1,
                "duplicate object key");
}

Test(manifest_bad, not_an_object) {
    expect_fail(GOOD "[\"a.wav\", \"text\"]\n", 2, "expected a JSON object, not an array");
    expect_fail(GOOD "\n\"a.wav\"\n", 3, "expected a JSON object, not a string");
    expect_fail("42\n", 1, "expected a JSON object, not a number");
}

Test(manifest_bad, missing_fields) {
    expect_fail(GOOD "{\"text\": \"x\", \"language\": \"uz\"}\n", 2, "missing \"audio\"");
    expect_fail(GOOD "{\"audio\": \"a.wav\", \"language\": \"uz\"}\n", 2, "missing \"text\"");
    expect_fail(GOOD "{\"audio\": \"a.wav\", \"text\": \"x\"}\n", 2, "missing \"language\"");
}

Test(manifest_bad, mistyped_fields) {
    expect_fail(GOOD "{\"audio\": 3, \"text\": \"x\", \"language\": \"uz\"}\n", 2, "\"audio\" must be a string, not a number");
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": [\"x\"], \"language\": \"uz\"}\n", 2,
                "\"text\" must be a string, not an array");
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": \"x\", \"language\": null}\n", 2,
                "\"language\" must be a string, not null");
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"uz\", \"id\": 7}\n", 2,
                "\"id\" must be a string, not a number");
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"uz\", \"id\": \"\"}\n", 2, "\"id\" is empty");
}

Test(manifest_bad, empty_audio) {
    expect_fail(GOOD "{\"audio\": \"\", \"text\": \"x\", \"language\": \"uz\"}\n", 2, "\"audio\" is empty");
}

Test(manifest_bad, bad_language_code) {
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"UZ\"}\n", 2, "not a language code");
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"uzbek\"}\n", 2, "\"uzbek\", not a language code");
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"u\"}\n", 2, "not a language code");
    expect_fail(GOOD "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"\"}\n", 2, "not a language code");
}

#define SEGLINE(segs) "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"mixed\", \"segments\": " segs "}\n"

Test(manifest_bad, segments_not_an_array) {
    expect_fail(GOOD SEGLINE("{\"language\": \"uz\"}"), 2, "\"segments\" must be an array, not an object");
    expect_fail(GOOD SEGLINE("\"uz\""), 2, "\"segments\" must be an array, not a string");
}

Test(manifest_bad, bad_segment_entries) {
    expect_fail(GOOD SEGLINE("[1]"), 2, "segment 1: must be an object, not a number");
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": 0, \"end\": 1, \"text\": \"a\"}, {\"start\": 1, \"end\": 2, "
                             "\"text\": \"b\"}]"),
                2, "segment 2: missing \"language\"");
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": \"0\", \"end\": 1, \"text\": \"a\"}]"), 2,
                "segment 1: \"start\" must be a number, not a string");
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": 0, \"text\": \"a\"}]"), 2, "segment 1: missing \"end\"");
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": 0, \"end\": 1}]"), 2, "segment 1: missing \"text\"");
    expect_fail(GOOD SEGLINE("[{\"language\": \"mixed\", \"start\": 0, \"end\": 1, \"text\": \"a\"}]"), 2,
                "segment 1: \"language\" is \"mixed\", not a language code");
}

Test(manifest_bad, segment_start_after_end) {
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": 2, \"end\": 1, \"text\": \"a\"}]"), 2,
                "segment 1: start 2 s > end 1 s");
}

Test(manifest_bad, segment_negative_time) {
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": -0.5, \"end\": 1, \"text\": \"a\"}]"), 2,
                "segment 1: negative time");
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": -2, \"end\": -1, \"text\": \"a\"}]"), 2, "negative time");
}

Test(manifest_bad, segments_out_of_order) {
    expect_fail(GOOD SEGLINE("[{\"language\": \"uz\", \"start\": 1, \"end\": 2, \"text\": \"a\"}, {\"language\": \"ru\", "
                             "\"start\": 0.5, \"end\": 0.9, \"text\": \"b\"}]"),
                2, "segment 2: starts at 0.5 s, before segment 1 (1 s): segments out of time order");
}

#define SWLINE(sw) "{\"audio\": \"a\", \"text\": \"x\", \"language\": \"mixed\", \"switches\": " sw "}\n"

Test(manifest_bad, bad_switch_entries) {
    expect_fail(GOOD SWLINE("{}"), 2, "\"switches\" must be an array, not an object");
    expect_fail(GOOD SWLINE("[\"uz\"]"), 2, "switch 1: must be an object, not a string");
    expect_fail(GOOD SWLINE("[{\"time\": 1, \"to\": \"ru\"}]"), 2, "switch 1: missing \"from\"");
    expect_fail(GOOD SWLINE("[{\"time\": \"1\", \"from\": \"uz\", \"to\": \"ru\"}]"), 2,
                "switch 1: \"time\" must be a number, not a string");
    expect_fail(GOOD SWLINE("[{\"time\": 1, \"from\": \"uz\", \"to\": \"RU\"}]"), 2, "switch 1: \"to\" is \"RU\", not a language code");
    expect_fail(GOOD SWLINE("[{\"time\": -1, \"from\": \"uz\", \"to\": \"ru\"}]"), 2, "switch 1: negative time");
}

Test(manifest_bad, switch_from_equals_to) {
    expect_fail(GOOD SWLINE("[{\"time\": 1, \"from\": \"uz\", \"to\": \"ru\"}, {\"time\": 2, \"from\": \"uz\", \"to\": \"uz\"}]"),
                2, "switch 2: \"from\" and \"to\" are both \"uz\"");
}

Test(manifest_bad, switches_out_of_order) {
    expect_fail(GOOD SWLINE("[{\"time\": 2, \"from\": \"uz\", \"to\": \"ru\"}, {\"time\": 1.5, \"from\": \"ru\", \"to\": \"uz\"}]"),
                2, "switch 2: at 1.5 s, before switch 1 (2 s): switches out of time order");
}

Test(manifest_bad, duplicate_ids) {
    expect_fail("{\"id\": \"x\", \"audio\": \"a\", \"text\": \"\", \"language\": \"uz\"}\n" GOOD
                "{\"id\": \"x\", \"audio\": \"b\", \"text\": \"\", \"language\": \"uz\"}\n",
                3, "duplicate id \"x\" (first on line 1)");
    /* without ids the audio path is the id; the first repeat in file order is reported */
    expect_fail(GOOD "{\"audio\": \"z\", \"text\": \"\", \"language\": \"uz\"}\n"
                     "{\"audio\": \"z\", \"text\": \"\", \"language\": \"uz\"}\n" GOOD,
                3, "duplicate id \"z\" (first on line 2)");
}

Test(manifest_bad, empty_manifest) {
    expect_fail("", 0, "no utterances");
    expect_fail("# only a comment\n\n   \n", 0, "no utterances");
}

Test(manifest_bad, line_over_one_mib) {
    size_t n = (1u << 20) + 100;
    char *text = malloc(n + 200);
    cr_assert_not_null(text);
    strcpy(text, GOOD "{\"audio\": \"a\", \"language\": \"uz\", \"text\": \"");
    size_t k = strlen(text);
    memset(text + k, 'a', n);
    strcpy(text + k + n, "\"}\n");
    expect_fail(text, 2, "line longer than 1 MiB");
    free(text);
}

Test(manifest_bad, small_error_buffer) {
    /* a short buffer gets a truncated, terminated message */
    uze_manifest m;
    char err[8];
    cr_assert_eq(uze_manifest_parse("[]", 2, NULL, "name.jsonl", &m, err, sizeof err), -1);
    cr_expect_eq(strlen(err), 7);
    cr_assert_eq(uze_manifest_parse("[]", 2, NULL, "name.jsonl", &m, NULL, 0), -1);
}
