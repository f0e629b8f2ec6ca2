/* test_codeswitch.c - the code-switch pieces that need no real speech: the allowed-language set
 * and its folding of related languages, switch points from word labels, the Uzbek script rewrite,
 * and how labels and switches reach the JSON and the marked text output. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/codeswitch.h"
#include "decode/context.h"
#include "testutil.h"
#include "uzwhisper.h"
#include "output.h"

static char g_dir[256], g_model_path[512];
static uzw_model *g_model;

static void setup(void) {
    if (tu_tmp_with_tiny_model("uzw-cs", g_dir, sizeof g_dir, g_model_path, sizeof g_model_path) != 0)
        cr_skip_test("the tiny random model fixture is missing");
    char err[512];
    cr_assert_eq(uzw_model_load(g_model_path, NULL, &g_model, err, sizeof err), UZW_OK, "%s", err);
}
static void teardown(void) {
    uzw_model_free(g_model);
    g_model = NULL;
    tu_rmtree(g_dir);
}
TestSuite(codeswitch, .init = setup, .fini = teardown);

static int idx(const char *code) { return uzw_model_language_index(g_model, code); }

Test(codeswitch, allowed_set_parses_and_rejects) {
    uzw_langset s;
    char err[256];
    cr_assert_eq(uzw_langset_parse(g_model, "uz,ru", &s, err, sizeof err), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.idx[0], idx("uz"));
    cr_assert_eq(s.idx[1], idx("ru"));
    cr_assert_eq(uzw_langset_parse(g_model, " UZ , ru,uz ", &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.n, 2, "duplicates and case are folded");
    cr_assert_eq(uzw_langset_parse(g_model, NULL, &s, err, sizeof err), 0);
    cr_assert_eq(s.n, 0);
    cr_assert_eq(uzw_langset_parse(g_model, "uz,xx", &s, err, sizeof err), -1);
    cr_assert(strstr(err, "'xx'"), "%s", err);
    cr_assert_eq(uzw_langset_parse(g_model, ",,", &s, err, sizeof err), -1);
    cr_assert(strstr(err, "names no language"), "%s", err);
}

Test(codeswitch, related_languages_fold_onto_the_allowed_one) {
    uzw_langset s;
    char err[256];
    cr_assert_eq(uzw_langset_parse(g_model, "uz,ru", &s, err, sizeof err), 0);
    int nl = g_model->sp.n_languages;
    float full[UZW_MAX_LANGUAGES] = {0}, out[UZW_MAX_LANGUAGES];
    full[idx("tr")] = 0.40f; /* Turkic: goes to uz */
    full[idx("az")] = 0.10f;
    full[idx("uz")] = 0.05f;
    full[idx("ru")] = 0.25f;
    full[idx("uk")] = 0.05f; /* Cyrillic Slavic: goes to ru */
    full[idx("en")] = 0.15f; /* no allowed relative: dropped */
    int best = uzw_langset_restrict(&s, nl, full, out);
    cr_assert_eq(best, 0, "uz wins once its relatives are counted");
    cr_assert_float_eq(out[0], 0.55f / 0.85f, 1e-6);
    cr_assert_float_eq(out[1], 0.30f / 0.85f, 1e-6);
    /* with kk allowed too, Turkic relatives have two owners and are dropped */
    cr_assert_eq(uzw_langset_parse(g_model, "uz,kk,ru", &s, err, sizeof err), 0);
    best = uzw_langset_restrict(&s, nl, full, out);
    cr_assert_eq(best, 2, "ru (0.30) beats uz (0.05) and kk (0)");
    cr_assert_float_eq(out[0], 0.05f / 0.35f, 1e-6);
}

/* A context holding hand-made segments and words, as the decoder leaves them. */
typedef struct {
    const char *text, *lang;
    double t0, t1;
} fake_word;

static void add_seg(uzw_context *ctx, const char *lang, float p, const fake_word *w, int nw) {
    if (ctx->n_seg == ctx->cap_seg) {
        ctx->cap_seg = ctx->cap_seg ? 2 * ctx->cap_seg : 8;
        ctx->seg = realloc(ctx->seg, sizeof *ctx->seg * (size_t)ctx->cap_seg);
        cr_assert(ctx->seg);
    }
    uzw_segment *s = &ctx->seg[ctx->n_seg++];
    memset(s, 0, sizeof *s);
    size_t len = 1;
    for (int k = 0; k < nw; k++) len += strlen(w[k].text);
    s->text = calloc(1, len);
    for (int k = 0; k < nw; k++) strcat(s->text, w[k].text);
    s->t0 = nw ? w[0].t0 : 0;
    s->t1 = nw ? w[nw - 1].t1 : 0;
    snprintf(s->lang, sizeof s->lang, "%s", lang);
    s->lang_prob = p;
    s->words = calloc((size_t)(nw ? nw : 1), sizeof *s->words);
    s->n_words = nw;
    for (int k = 0; k < nw; k++) {
        s->words[k].text = strdup(w[k].text);
        s->words[k].start = w[k].t0;
        s->words[k].end = w[k].t1;
        s->words[k].prob = 0.9f;
        snprintf(s->words[k].lang, sizeof s->words[k].lang, "%s", w[k].lang ? w[k].lang : lang);
        s->words[k].lang_prob = p;
    }
}

static uzw_context *three_segment_ctx(void) {
    uzw_context *ctx;
    cr_assert_eq(uzw_context_create(g_model, &ctx), UZW_OK);
    snprintf(ctx->language, sizeof ctx->language, "uz");
    fake_word a[] = {{" shu", NULL, 0.0, 0.4}, {" o'rinda", NULL, 0.4, 0.9}, {" odam", NULL, 0.9, 1.3}};
    fake_word b[] = {{" на", NULL, 2.0, 2.2}, {" его", NULL, 2.2, 2.5}, {" месте", NULL, 2.5, 3.0}, {" ва", "uz", 3.1, 3.3}};
    fake_word c[] = {{" yana", NULL, 4.0, 4.4}, {" qaytaylik.", NULL, 4.4, 5.0}};
    add_seg(ctx, "uz", 0.9f, a, 3);
    add_seg(ctx, "ru", 0.8f, b, 4);
    add_seg(ctx, "uz", 0.7f, c, 2);
    return ctx;
}

Test(codeswitch, switch_points_follow_word_labels) {
    uzw_context *ctx = three_segment_ctx();
    cr_assert_eq(uzw_cs_find_switches(ctx), UZW_OK);
    /* uz | ru ru ru | uz(word "ва") | uz uz: two changes into ru and back, at word starts */
    cr_assert_eq(uzw_n_switches(ctx), 2);
    cr_assert_float_eq(uzw_switch_time(ctx, 0), 2.0, 1e-9);
    cr_assert_str_eq(uzw_switch_from(ctx, 0), "uz");
    cr_assert_str_eq(uzw_switch_to(ctx, 0), "ru");
    cr_assert_float_eq(uzw_switch_time(ctx, 1), 3.1, 1e-9, "the switch back is at the Uzbek word inside the Russian segment");
    cr_assert_str_eq(uzw_switch_from(ctx, 1), "ru");
    cr_assert_str_eq(uzw_switch_to(ctx, 1), "uz");
    cr_assert_eq(uzw_switch_time(ctx, 2), -1, "out of range");
    cr_assert_null(uzw_switch_from(ctx, -1));
    cr_assert_str_eq(uzw_word_language(ctx, 1, 3), "uz");
    cr_assert_str_eq(uzw_word_language(ctx, 1, 0), "ru");
    cr_assert_float_eq(uzw_segment_language_prob(ctx, 1), 0.8f, 1e-6);
    uzw_context_free(ctx);
}

Test(codeswitch, segments_without_words_switch_at_their_start) {
    uzw_context *ctx = three_segment_ctx();
    for (int i = 0; i < ctx->n_seg; i++) { /* drop the words */
        uzw_words_free(ctx->seg[i].words, ctx->seg[i].n_words);
        ctx->seg[i].words = NULL;
        ctx->seg[i].n_words = 0;
    }
    cr_assert_eq(uzw_cs_find_switches(ctx), UZW_OK);
    cr_assert_eq(uzw_n_switches(ctx), 2);
    cr_assert_float_eq(uzw_switch_time(ctx, 0), 2.0, 1e-9);
    cr_assert_float_eq(uzw_switch_time(ctx, 1), 4.0, 1e-9);
    uzw_context_free(ctx);
}

Test(codeswitch, uzbek_script_rewrites_uzbek_words_only) {
    uzw_context *ctx;
    cr_assert_eq(uzw_context_create(g_model, &ctx), UZW_OK);
    snprintf(ctx->language, sizeof ctx->language, "ru");
    fake_word w[] = {{" Бу", "uz", 0.0, 0.3}, {" шаҳар", "uz", 0.3, 0.8}, {" очень", "ru", 0.8, 1.2}, {" яхши.", "uz", 1.2, 1.6}};
    add_seg(ctx, "ru", 0.6f, w, 4);
    cr_assert_eq(uzw_apply_uz_script(ctx, UZW_UZ_SCRIPT_LATIN), UZW_OK);
    cr_assert_str_eq(ctx->seg[0].words[0].text, " Bu");
    cr_assert_str_eq(ctx->seg[0].words[1].text, " shahar");
    cr_assert_str_eq(ctx->seg[0].words[2].text, " очень", "Russian stays Cyrillic");
    cr_assert_str_eq(ctx->seg[0].words[3].text, " yaxshi.");
    cr_assert_str_eq(ctx->seg[0].text, " Bu shahar очень yaxshi.", "the segment text follows its words");
    cr_assert_eq(uzw_apply_uz_script(ctx, UZW_UZ_SCRIPT_CYRILLIC), UZW_OK);
    cr_assert_str_eq(ctx->seg[0].text, " Бу шаҳар очень яхши.");
    uzw_context_free(ctx);
}

Test(codeswitch, labels_and_switches_reach_json_and_marked_text) {
    uzw_context *ctx = three_segment_ctx();
    cr_assert_eq(uzw_cs_find_switches(ctx), UZW_OK);
    out_result r;
    cr_assert_eq(out_result_from_ctx(&r, ctx, "a.wav", NULL, NULL), 0);
    json_t *j = out_json(&r);
    cr_assert(j);
    json_t *sw = json_object_get(j, "switches");
    cr_assert(json_is_array(sw));
    cr_assert_eq(json_array_size(sw), 2);
    cr_assert_float_eq(json_real_value(json_object_get(json_array_get(sw, 0), "time")), 2.0, 1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(sw, 0), "from")), "uz");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(sw, 1), "to")), "uz");
    json_t *seg1 = json_array_get(json_object_get(j, "segments"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(seg1, "language")), "ru");
    json_t *w3 = json_array_get(json_object_get(seg1, "words"), 3);
    cr_assert_str_eq(json_string_value(json_object_get(w3, "language")), "uz");
    cr_assert(json_is_real(json_object_get(w3, "language_prob")));
    json_decref(j);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    r.mark_switches = 1;
    cr_assert_eq(out_write_txt(f, &r), 0);
    fclose(f);
    cr_assert_str_eq(buf, "[uz] shu o'rinda odam\n[ru] на его месте [uz] ва\nyana qaytaylik.\n");
    free(buf);
    out_result_free(&r);
    uzw_context_free(ctx);
}
