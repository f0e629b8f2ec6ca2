/*
 * test_metrics.c - the bench harness's accuracy metrics (tools/eval/metrics.h):
 *   - WER/CER counts against jiwer 4.0 on every pair of tests/fixtures/metrics/jiwer_pairs.json
 *     (hits, substitutions, deletions and insertions each, words and code points), the corpus
 *     WER/CER to 1e-12, and the word alignment maps checked for consistency;
 *   - per-language errors, PIER and LID on hand-made utterances worked out in the comments;
 *   - switch-point matching and precision/recall/F1 edge cases.
 * The golden file comes from tests/reference/make_metrics_golden.py.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* ---------------------------------------------------------------- helpers */

static void expect_counts(const uze_counts *c, long h, long s, long d, long i, const char *what) {
    cr_expect(c->hits == h && c->subs == s && c->dels == d && c->ins == i,
              "%s: got H=%ld S=%ld D=%ld I=%ld, expected H=%ld S=%ld D=%ld I=%ld", what, c->hits, c->subs, c->dels,
              c->ins, h, s, d, i);
}

static int split(char *s, const char **w) {
    int n = 0;
    for (char *tok = strtok(s, " "); tok; tok = strtok(NULL, " ")) w[n++] = tok;
    return n;
}

static const uze_counts *find_lang(const uze_lang_breakdown *b, const char *lang) {
    for (int k = 0; k < b->n_langs; k++)
        if (strcmp(b->per_lang[k].lang, lang) == 0) return &b->per_lang[k].c;
    cr_assert_fail("language %s not in the breakdown", lang);
    return NULL;
}

/* ---------------------------------------------------------------- jiwer goldens */

static void json_counts(json_t *a, uze_counts *c) {
    cr_assert(json_is_array(a) && json_array_size(a) == 4);
    c->hits = (long)json_integer_value(json_array_get(a, 0));
    c->subs = (long)json_integer_value(json_array_get(a, 1));
    c->dels = (long)json_integer_value(json_array_get(a, 2));
    c->ins = (long)json_integer_value(json_array_get(a, 3));
}

/* The alignment maps agree with each other and with the counts. */
static void check_maps(const char *ref, const char *hyp, const uze_counts *c) {
    char *rb = strdup(ref), *hb = strdup(hyp);
    const char **rw = malloc((strlen(ref) + 2) * sizeof *rw), **hw = malloc((strlen(hyp) + 2) * sizeof *hw);
    int nr = split(rb, rw), nh = split(hb, hw);
    int *r2h = malloc((size_t)(nr + 1) * sizeof(int)), *h2r = malloc((size_t)(nh + 1) * sizeof(int));
    uze_counts c2;
    cr_assert_eq(uze_align_words(rw, nr, hw, nh, &c2, r2h, h2r), 0);
    expect_counts(&c2, c->hits, c->subs, c->dels, c->ins, "uze_align_words");
    long hits = 0, subs = 0, dels = 0, ins = 0, last = -1;
    for (int i = 0; i < nr; i++) {
        if (r2h[i] < 0) {
            dels++;
            continue;
        }
        cr_assert(r2h[i] < nh && h2r[r2h[i]] == i, "ref %d -> hyp %d does not map back", i, r2h[i]);
        cr_assert(r2h[i] > last, "alignment not monotonic at ref %d", i);
        last = r2h[i];
        if (strcmp(rw[i], hw[r2h[i]]) == 0)
            hits++;
        else
            subs++;
    }
    for (int j = 0; j < nh; j++) {
        if (h2r[j] < 0)
            ins++;
        else
            cr_assert(h2r[j] < nr && r2h[h2r[j]] == j);
    }
    expect_counts(c, hits, subs, dels, ins, "maps");
    /* the per-language counts add up to the totals (Cyrillic words tagged ru, the rest uz) */
    const char **rl = malloc((size_t)(nr + 1) * sizeof *rl);
    for (int i = 0; i < nr; i++) rl[i] = (unsigned char)rw[i][0] >= 0xC0 ? "ru" : "uz";
    uze_lang_breakdown b;
    cr_assert_eq(uze_lang_errors(rw, rl, nr, hw, NULL, nh, &b), 0);
    uze_counts sum = {0};
    for (int k = 0; k < b.n_langs; k++) uze_counts_add(&sum, &b.per_lang[k].c);
    expect_counts(&sum, c->hits, c->subs, c->dels, c->ins, "sum over languages");
    free(rl);
    free(rb), free(hb), free(rw), free(hw), free(r2h), free(h2r);
}

Test(metrics, jiwer_pairs) {
    json_error_t jerr;
    json_t *doc = json_load_file(UZW_SOURCE_DIR "/tests/fixtures/metrics/jiwer_pairs.json", 0, &jerr);
    cr_assert_not_null(doc, "cannot read jiwer_pairs.json: %s (run tests/reference/make_metrics_golden.py)",
                       jerr.text);
    json_t *pairs = json_object_get(doc, "pairs");
    cr_assert(json_is_array(pairs) && json_array_size(pairs) >= 400, "expected >= 400 pairs");
    uze_counts wsum = {0}, csum = {0};
    size_t k;
    json_t *p;
    json_array_foreach(pairs, k, p) {
        const char *ref = json_string_value(json_object_get(p, "ref"));
        const char *hyp = json_string_value(json_object_get(p, "hyp"));
        cr_assert(ref && hyp);
        uze_counts ew, ec, w, c;
        json_counts(json_object_get(p, "words"), &ew);
        json_counts(json_object_get(p, "chars"), &ec);
        cr_assert_eq(uze_wer_counts(ref, hyp, &w), 0);
        cr_assert_eq(uze_cer_counts(ref, hyp, &c), 0);
        char what[64];
        snprintf(what, sizeof what, "pair %zu (%s) words", k, json_string_value(json_object_get(p, "kind")));
        expect_counts(&w, ew.hits, ew.subs, ew.dels, ew.ins, what);
        snprintf(what, sizeof what, "pair %zu (%s) chars", k, json_string_value(json_object_get(p, "kind")));
        expect_counts(&c, ec.hits, ec.subs, ec.dels, ec.ins, what);
        if (k % 7 == 0 || strlen(ref) > 2000) check_maps(ref, hyp, &w);
        uze_counts_add(&wsum, &w);
        uze_counts_add(&csum, &c);
    }
    double wer = json_real_value(json_object_get(doc, "corpus_wer"));
    double cer = json_real_value(json_object_get(doc, "corpus_cer"));
    cr_expect(fabs(uze_error_rate(&wsum) - wer) <= 1e-12, "corpus WER %.17g, jiwer %.17g", uze_error_rate(&wsum), wer);
    cr_expect(fabs(uze_error_rate(&csum) - cer) <= 1e-12, "corpus CER %.17g, jiwer %.17g", uze_error_rate(&csum), cer);
    json_decref(doc);
}

/* ---------------------------------------------------------------- small cases */

Test(metrics, error_rate_edges) {
    uze_counts none = {0}, ins_only = {0, 0, 0, 3}, c = {6, 2, 1, 1};
    cr_expect_eq(uze_error_rate(&none), 0.0);
    cr_expect_eq(uze_error_rate(&ins_only), 3.0); /* jiwer: insertions when the reference is empty */
    cr_expect(fabs(uze_error_rate(&c) - 4.0 / 9.0) < 1e-15);
}

Test(metrics, word_split_and_code_points) {
    uze_counts c;
    /* runs of spaces and outer spaces do not make words */
    cr_assert_eq(uze_wer_counts("  salom   dunyo ", "salom dunyo", &c), 0);
    expect_counts(&c, 2, 0, 0, 0, "spaces");
    /* "o'zbek" vs "оʻzbek": Cyrillic о (2 bytes) and U+02BB (2 bytes) for o and ': 6 code points
     * each, 2 substituted, 4 hits (a byte-level count would see 8 hyp bytes) */
    cr_assert_eq(uze_cer_counts("o'zbek", "\xd0\xbe\xca\xbbzbek", &c), 0);
    expect_counts(&c, 4, 2, 0, 0, "code points");
    /* "да нет" vs "данет": the space is a character: 5 hits, 1 deletion */
    cr_assert_eq(uze_cer_counts("да нет", "данет", &c), 0);
    expect_counts(&c, 5, 0, 1, 0, "space kept");
    /* invalid UTF-8 bytes are single symbols: 0xff vs 0xfe is one substitution */
    cr_assert_eq(uze_cer_counts("a\xff", "a\xfe", &c), 0);
    expect_counts(&c, 1, 1, 0, 0, "bad bytes");
    cr_assert_eq(uze_cer_counts("", "ab", &c), 0);
    expect_counts(&c, 0, 0, 0, 2, "empty ref");
}

/* ---------------------------------------------------------------- languages */

Test(metrics, lang_breakdown_sub_and_trailing_insertion) {
    /* ref: men bugun магазин ga bordim (uz uz ru uz uz); hyp: men bugun magazin ga bordim ku.
     * The only cost-2 alignment: магазин -> magazin (substitution) and "ku" inserted after
     * "bordim", so charged to bordim's language. uz: H=4, I=1 -> WER 1/4; ru: S=1 -> 1/1.
     * Matrix language uz (4 of 5 words); switched-in words: магазин only -> PIER = 1/1.
     * Hypothesis words all tagged uz: 5 aligned pairs, 4 with the right language. */
    const char *ref[] = {"men", "bugun", "магазин", "ga", "bordim"};
    const char *rl[] = {"uz", "uz", "ru", "uz", "uz"};
    const char *hyp[] = {"men", "bugun", "magazin", "ga", "bordim", "ku"};
    const char *hl[] = {"uz", "uz", "uz", "uz", "uz", "uz"};
    uze_lang_breakdown b;
    cr_assert_eq(uze_lang_errors(ref, rl, 5, hyp, hl, 6, &b), 0);
    cr_assert_eq(b.n_langs, 2);
    expect_counts(find_lang(&b, "uz"), 4, 0, 0, 1, "uz");
    expect_counts(find_lang(&b, "ru"), 0, 1, 0, 0, "ru");
    expect_counts(&b.switched_in, 0, 1, 0, 0, "switched-in");
    cr_expect_eq(uze_error_rate(&b.switched_in), 1.0);
    cr_expect_eq(uze_error_rate(find_lang(&b, "uz")), 0.25);
    cr_expect_eq(b.lid_words, 5);
    cr_expect_eq(b.lid_words_correct, 4);
}

Test(metrics, lang_breakdown_leading_and_inner_insertions) {
    /* ref: да men keldim (ru uz uz); hyp: xo да men keldim. "xo" comes before every reference
     * word, so it is charged to the first one (да, ru): ru H=1 I=1, uz H=2. Matrix uz; PIER =
     * (0 + 1 insertion) / 1 switched-in word = 1. No hypothesis languages: LID words not counted. */
    const char *ref[] = {"да", "men", "keldim"};
    const char *rl[] = {"ru", "uz", "uz"};
    const char *hyp[] = {"xo", "да", "men", "keldim"};
    uze_lang_breakdown b;
    cr_assert_eq(uze_lang_errors(ref, rl, 3, hyp, NULL, 4, &b), 0);
    expect_counts(find_lang(&b, "ru"), 1, 0, 0, 1, "ru");
    expect_counts(find_lang(&b, "uz"), 2, 0, 0, 0, "uz");
    expect_counts(&b.switched_in, 1, 0, 0, 1, "switched-in");
    cr_expect_eq(b.lid_words, 0);

    /* ref: men вчера пришёл keldim (uz ru ru uz); hyp: men вчера и пришёл keldim. "и" sits after
     * вчера (reference position 2), so it is charged to вчера: ru H=2 I=1 -> PIER 1/2. The matrix
     * is a tie (2 uz, 2 ru): the first language, uz, wins, so the ru words are switched in. */
    const char *ref2[] = {"men", "вчера", "пришёл", "keldim"};
    const char *rl2[] = {"uz", "ru", "ru", "uz"};
    const char *hyp2[] = {"men", "вчера", "и", "пришёл", "keldim"};
    cr_assert_eq(uze_lang_errors(ref2, rl2, 4, hyp2, NULL, 5, &b), 0);
    expect_counts(find_lang(&b, "ru"), 2, 0, 0, 1, "ru");
    expect_counts(find_lang(&b, "uz"), 2, 0, 0, 0, "uz");
    expect_counts(&b.switched_in, 2, 0, 0, 1, "switched-in");
    cr_expect_eq(uze_error_rate(&b.switched_in), 0.5);
}

Test(metrics, lang_breakdown_deletion_and_matrix_only) {
    /* ref: bu kitob очень yaxshi (uz uz ru uz); hyp: bu kitob yaxshi. очень deleted: ru D=1,
     * PIER 1/1; uz H=3. Hypothesis languages uz uz ru: the pairs are bu/uz, kitob/uz, yaxshi/ru
     * -> 3 LID words, 2 correct. */
    const char *ref[] = {"bu", "kitob", "очень", "yaxshi"};
    const char *rl[] = {"uz", "uz", "ru", "uz"};
    const char *hyp[] = {"bu", "kitob", "yaxshi"};
    const char *hl[] = {"uz", "uz", "ru"};
    uze_lang_breakdown b;
    cr_assert_eq(uze_lang_errors(ref, rl, 4, hyp, hl, 3, &b), 0);
    expect_counts(find_lang(&b, "ru"), 0, 0, 1, 0, "ru");
    expect_counts(find_lang(&b, "uz"), 3, 0, 0, 0, "uz");
    expect_counts(&b.switched_in, 0, 0, 1, 0, "switched-in");
    cr_expect_eq(b.lid_words, 3);
    cr_expect_eq(b.lid_words_correct, 2);

    /* one language only: nothing is switched in, PIER's counts stay zero */
    const char *rl1[] = {"uz", "uz", "uz", "uz"};
    cr_assert_eq(uze_lang_errors(ref, rl1, 4, hyp, NULL, 3, &b), 0);
    cr_expect_eq(b.n_langs, 1);
    expect_counts(&b.switched_in, 0, 0, 0, 0, "switched-in");
    expect_counts(find_lang(&b, "uz"), 3, 0, 1, 0, "uz");
}

Test(metrics, lang_breakdown_empty_reference_and_bad_input) {
    const char *hyp[] = {"salom", "привет"};
    const char *hl[] = {"uz", "ru"};
    uze_lang_breakdown b;
    cr_assert_eq(uze_lang_errors(NULL, NULL, 0, hyp, hl, 2, &b), 0);
    expect_counts(find_lang(&b, "uz"), 0, 0, 0, 1, "uz");
    expect_counts(find_lang(&b, "ru"), 0, 0, 0, 1, "ru");
    cr_assert_eq(uze_lang_errors(NULL, NULL, 0, hyp, NULL, 2, &b), 0);
    expect_counts(find_lang(&b, "und"), 0, 0, 0, 2, "und");
    /* nine languages do not fit; a NULL language is refused */
    const char *w[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    const char *l9[9] = {"aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh", "ii"};
    cr_expect_eq(uze_lang_errors(w, l9, 9, w, NULL, 9, &b), -2);
    const char *lnull[2] = {"uz", NULL};
    cr_expect_eq(uze_lang_errors(w, lnull, 2, w, NULL, 2, &b), -2);
}

Test(metrics, utterance_lid) {
    const char *uzru[] = {"uz", "ru", "uz"}, *ru2[] = {"ru", "ru"}, *uz1[] = {"uz"}, *tie[] = {"ru", "uz"};
    cr_expect_str_eq(uze_majority_language(uzru, 3), "uz");
    cr_expect_str_eq(uze_majority_language(tie, 2), "ru"); /* tie: first occurrence */
    cr_expect_null(uze_majority_language(NULL, 0));
    /* more distinct languages than the internal table (128): 200 distinct codes, "hh" twice */
    static char codes[201][4];
    const char *many[201];
    for (int i = 0; i < 200; i++) {
        snprintf(codes[i], sizeof codes[i], "%c%c", 'a' + i / 26, 'a' + i % 26);
        many[i] = codes[i];
    }
    many[200] = "hh"; /* i = 189 is "hh" too */
    cr_expect_str_eq(uze_majority_language(many, 201), "hh");
    cr_expect_eq(uze_utterance_lid_correct("uz", NULL, 0, uzru, 3), 1);
    cr_expect_eq(uze_utterance_lid_correct("ru", NULL, 0, uzru, 3), 0);
    cr_expect_eq(uze_utterance_lid_correct("uz", NULL, 0, NULL, 0), 0); /* nothing predicted */
    /* mixed: the sets {uz, ru} must be equal */
    cr_expect_eq(uze_utterance_lid_correct("mixed", uzru, 3, tie, 2), 1);
    cr_expect_eq(uze_utterance_lid_correct("mixed", uzru, 3, ru2, 2), 0);
    cr_expect_eq(uze_utterance_lid_correct("mixed", uz1, 1, uzru, 3), 0);
    cr_expect_eq(uze_utterance_lid_correct("mixed", NULL, 0, NULL, 0), 0);
}

/* ---------------------------------------------------------------- switch points */

#define SW(t, f, to) ((uze_switch_point){t, f, to})

Test(switches, same_direction_only) {
    uze_switch_point r[] = {SW(1.0, "uz", "ru")}, h[] = {SW(1.0, "ru", "uz")};
    uze_switch_counts c;
    int m[1];
    cr_assert_eq(uze_match_switches(r, 1, h, 1, 0.5, &c, m), 0);
    cr_expect(c.tp == 0 && c.fp == 1 && c.fn == 1);
    cr_expect_eq(m[0], -1);
}

Test(switches, tolerance_inclusive) {
    uze_switch_point r[] = {SW(1.0, "uz", "ru"), SW(0.1, "ru", "uz")};
    uze_switch_point h[] = {SW(1.5, "uz", "ru"), SW(0.6, "ru", "uz")}; /* 0.6 - 0.1 is not exactly 0.5 */
    uze_switch_counts c;
    cr_assert_eq(uze_match_switches(r, 2, h, 2, 0.5, &c, NULL), 0);
    cr_expect_eq(c.tp, 2);
    uze_switch_point late[] = {SW(1.5001, "uz", "ru")}, early[] = {SW(0.4999, "uz", "ru")};
    cr_assert_eq(uze_match_switches(r, 1, late, 1, 0.5, &c, NULL), 0);
    cr_expect(c.tp == 0 && c.fp == 1 && c.fn == 1);
    cr_assert_eq(uze_match_switches(r, 1, early, 1, 0.5, &c, NULL), 0);
    cr_expect(c.tp == 0 && c.fp == 1 && c.fn == 1);
}

Test(switches, one_to_one_closest_first) {
    uze_switch_counts c;
    int m[2];
    /* one prediction between two references at equal distance 0.25: the earlier reference gets it,
     * the other is missed (a prediction cannot match two references) */
    uze_switch_point r[] = {SW(1.0, "uz", "ru"), SW(1.5, "uz", "ru")}, h[] = {SW(1.25, "uz", "ru")};
    cr_assert_eq(uze_match_switches(r, 2, h, 1, 0.5, &c, m), 0);
    cr_expect(c.tp == 1 && c.fp == 0 && c.fn == 1);
    cr_expect(m[0] == 0 && m[1] == -1);
    /* two predictions near one reference: the closer one (1.125) matches, the other is a false alarm */
    uze_switch_point r1[] = {SW(1.0, "uz", "ru")}, h2[] = {SW(0.75, "uz", "ru"), SW(1.125, "uz", "ru")};
    cr_assert_eq(uze_match_switches(r1, 1, h2, 2, 0.5, &c, m), 0);
    cr_expect(c.tp == 1 && c.fp == 1 && c.fn == 0);
    cr_expect_eq(m[0], 1);
    /* closest first is greedy: refs A=0, B=0.625, predictions X=0.5, Y=1.0. X-B (0.125) is taken
     * first, then Y's only partner B and A's only partner X are used: 1 match, not the possible 2 */
    uze_switch_point ra[] = {SW(0.0, "uz", "ru"), SW(0.625, "uz", "ru")};
    uze_switch_point hx[] = {SW(0.5, "uz", "ru"), SW(1.0, "uz", "ru")};
    cr_assert_eq(uze_match_switches(ra, 2, hx, 2, 0.5, &c, m), 0);
    cr_expect(c.tp == 1 && c.fp == 1 && c.fn == 1);
    cr_expect(m[0] == -1 && m[1] == 0);
}

Test(switches, empty_lists_and_prf) {
    uze_switch_point one[] = {SW(2.0, "ru", "uz"), SW(4.0, "uz", "ru")};
    uze_switch_counts c;
    double p, r, f;
    cr_assert_eq(uze_match_switches(NULL, 0, NULL, 0, 0.5, &c, NULL), 0);
    cr_expect(c.tp == 0 && c.fp == 0 && c.fn == 0);
    uze_switch_prf(&c, &p, &r, &f);
    cr_expect(p == 1.0 && r == 1.0 && f == 1.0, "nothing to find, nothing found: %g %g %g", p, r, f);
    cr_assert_eq(uze_match_switches(NULL, 0, one, 2, 0.5, &c, NULL), 0);
    cr_expect(c.tp == 0 && c.fp == 2 && c.fn == 0);
    uze_switch_prf(&c, &p, &r, &f);
    cr_expect(p == 0.0 && r == 0.0 && f == 0.0);
    cr_assert_eq(uze_match_switches(one, 2, NULL, 0, 0.5, &c, NULL), 0);
    cr_expect(c.tp == 0 && c.fp == 0 && c.fn == 2);
    uze_switch_prf(&c, &p, &r, &f);
    cr_expect(p == 0.0 && r == 0.0 && f == 0.0);
    /* tp 3, fp 1, fn 2: P = 3/4, R = 3/5, F1 = 2PR/(P+R) = 0.9/1.35 = 2/3 */
    uze_switch_counts k = {3, 1, 2};
    uze_switch_prf(&k, &p, &r, &f);
    cr_expect(fabs(p - 0.75) < 1e-15 && fabs(r - 0.6) < 1e-15 && fabs(f - 2.0 / 3.0) < 1e-15, "%g %g %g", p, r, f);
    uze_switch_counts z = {0, 3, 4};
    uze_switch_prf(&z, &p, &r, &f);
    cr_expect(p == 0.0 && r == 0.0 && f == 0.0);
}
