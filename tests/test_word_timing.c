/*
 * Word-timing building blocks on small hand-made inputs with known answers (checked against
 * openai-whisper's timing.median_filter / dtw_cpu and faster-whisper's merge_punctuations):
 * median filter with reflect padding, DTW path and tie-breaking, jump times, lossy UTF-8,
 * word splitting (spaces/punctuation and Unicode modes) on a tiny hand-built tokenizer, and
 * punctuation merging with faster-whisper's default sets.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/word_timing.h"

/* ---------------------------------------------------------------- median filter */

Test(word_timing, median_filter_width3_reflect) {
    float x[] = {3, 1, 2, 5, 4}, y[5], want[] = {1, 2, 2, 4, 5}; /* torch: median_filter(x, 3) */
    uzw_median_filter(x, y, 1, 5, 3);
    for (int i = 0; i < 5; i++) cr_expect_eq(y[i], want[i], "y[%d] = %g, want %g", i, y[i], want[i]);
}

Test(word_timing, median_filter_width7_reflects_twice) {
    /* two rows; the window (7) is wider than the row (4), so reflection reaches both edges */
    float x[] = {4, 1, 3, 2, /* row 1 */ 0, 0, 9, 0}, y[8], want[] = {2, 3, 2, 3, 0, 0, 0, 0};
    uzw_median_filter(x, y, 2, 4, 7);
    for (int i = 0; i < 8; i++) cr_expect_eq(y[i], want[i], "y[%d] = %g, want %g", i, y[i], want[i]);
}

Test(word_timing, median_filter_short_row_is_copied) {
    float x[] = {5, -1, 7}, y[3];
    uzw_median_filter(x, y, 1, 3, 7); /* 3 <= 7/2: passed through, as CTranslate2 and OAI do */
    for (int i = 0; i < 3; i++) cr_expect_eq(y[i], x[i]);
}

/* ---------------------------------------------------------------- DTW */

Test(word_timing, dtw_follows_the_high_scores) {
    /* row 0 is strong on frames 0-2, row 1 on frame 3: OAI dtw_cpu gives [[0 0 0 1 1],[0 1 2 2 3]]
     * (at (1,2) going up, left or diagonal all cost -15: the tie takes the left step) */
    float x[] = {5, 5, 5, 0, 0, 0, 0, 5};
    int32_t pi[6], pj[6], wi[] = {0, 0, 0, 1, 1}, wj[] = {0, 1, 2, 2, 3};
    int n = uzw_negative_dtw(x, 2, 4, pi, pj);
    cr_assert_eq(n, 5);
    for (int k = 0; k < 5; k++) cr_expect(pi[k] == wi[k] && pj[k] == wj[k], "step %d: (%d,%d)", k, pi[k], pj[k]);
    double jt[2];
    cr_assert_eq(uzw_jump_times(x, 2, 4, jt), 2);
    cr_expect_eq(jt[0], 0.0);
    cr_expect_eq(jt[1], 2 / 50.0);
}

Test(word_timing, dtw_ties_go_left_then_up) {
    /* all-equal costs: OAI dtw_cpu(-zeros(2,2)) is [[0 1 1],[0 0 1]] (a tie prefers the left step) */
    float x[] = {0, 0, 0, 0};
    int32_t pi[4], pj[4], wi[] = {0, 1, 1}, wj[] = {0, 0, 1};
    int n = uzw_negative_dtw(x, 2, 2, pi, pj);
    cr_assert_eq(n, 3);
    for (int k = 0; k < 3; k++) cr_expect(pi[k] == wi[k] && pj[k] == wj[k], "step %d: (%d,%d)", k, pi[k], pj[k]);
}

Test(word_timing, dtw_identity_ties) {
    /* OAI dtw_cpu(-eye(3)) = [[0 1 1 2 2],[0 0 1 1 2]]: equal costs at (2,2) and (3,3) step left */
    float x[] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    int32_t pi[6], pj[6], wi[] = {0, 1, 1, 2, 2}, wj[] = {0, 0, 1, 1, 2};
    int n = uzw_negative_dtw(x, 3, 3, pi, pj);
    cr_assert_eq(n, 5);
    for (int k = 0; k < 5; k++) cr_expect(pi[k] == wi[k] && pj[k] == wj[k], "step %d: (%d,%d)", k, pi[k], pj[k]);
}

Test(word_timing, alignment_weights_znorm_and_mean) {
    /* one head, 2 tokens, 2 frames (A = 3, the third frame cropped away): after the softmax each
     * frame has values {p, 1-p} over the tokens, which z-normalise to exactly -1 and +1 */
    float qk[] = {0, 1, 50, /* token 1 */ 1, 0, -50};
    float w[4];
    cr_assert_eq(uzw_alignment_weights(qk, 1, 2, 2, 3, 2, 7, w), 0);
    float want[] = {-1, 1, 1, -1};
    for (int i = 0; i < 4; i++) cr_expect(fabsf(w[i] - want[i]) < 1e-5f, "w[%d] = %g, want %g", i, w[i], want[i]);
}

/* ---------------------------------------------------------------- lossy UTF-8 */

Test(word_timing, utf8_lossy_maximal_subparts) {
    size_t nc;
    /* "a", E4 BD (truncated 3-byte), "b", FF, F0 9F (truncated), ED A0 80 (surrogate: 3 parts) */
    const uint8_t in[] = {'a', 0xE4, 0xBD, 'b', 0xFF, 0xF0, 0x9F, 0xED, 0xA0, 0x80, 0xE4, 0xBD, 0xA0};
    char *s = uzw_utf8_lossy(in, sizeof in, &nc);
    cr_assert(s);
    const char *want = "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xE4\xBD\xA0";
    cr_expect_str_eq(s, want); /* b"...".decode("utf-8", "replace") */
    cr_expect_eq(nc, 9);
    free(s);
}

/* ---------------------------------------------------------------- word splitting */

/* A tokenizer of the 256 bytes plus a few words: ids 256.. as below; EOT = N_BPE. */
static const char *const EXTRA[] = {" And", " so", " don", "'t", " (", "hello", "\xE4\xBD", " \"", " Hi"};
#define N_EXTRA (int)(sizeof EXTRA / sizeof EXTRA[0])
#define N_BPE (256 + N_EXTRA)
enum { T_AND = 256, T_SO, T_DON, T_T, T_PAREN, T_HELLO, T_NI1, T_QUOTE, T_HI, T_EOT = N_BPE };

static uzw_tokenizer *tok;
static uint8_t bytes[256];
static const uint8_t *toks[N_BPE];
static uint32_t lens[N_BPE];
static const int32_t no_merges[1] = {0};

static void make_tok(void) {
    for (int b = 0; b < 256; b++) { bytes[b] = (uint8_t)b; toks[b] = &bytes[b]; lens[b] = 1; }
    for (int i = 0; i < N_EXTRA; i++) { toks[256 + i] = (const uint8_t *)EXTRA[i]; lens[256 + i] = (uint32_t)strlen(EXTRA[i]); }
    char err[256];
    cr_assert_eq(uzw_tokenizer_new(N_BPE, toks, lens, no_merges, 0, &tok, err, sizeof err), 0, "%s", err);
}
static void free_tok(void) { uzw_tokenizer_free(tok); }

static void expect_words(const uzw_wtiming *w, int n, const char *const *text, const int *ntok, int want_n) {
    cr_assert_eq(n, want_n, "%d words, want %d", n, want_n);
    for (int i = 0; i < n; i++) {
        cr_expect_str_eq(w[i].text, text[i], "word %d", i);
        cr_expect_eq(w[i].n_tokens, ntok[i], "word %d '%s': %d tokens, want %d", i, w[i].text, w[i].n_tokens, ntok[i]);
    }
}

Test(word_timing, split_on_spaces_and_punctuation, .init = make_tok, .fini = free_tok) {
    int32_t t[] = {T_AND, T_SO, ',', T_DON, T_T, T_PAREN, T_HELLO, ')', T_EOT};
    uzw_wtiming *w;
    int n = uzw_split_words(tok, t, 9, T_EOT, 0, &w);
    const char *want[] = {" And", " so", ",", " don't", " (hello", ")", ""};
    const int nt[] = {1, 1, 1, 2, 2, 1, 1};
    expect_words(w, n, want, nt, 7);
    /* faster-whisper's merge_punctuations on the words (EOT left out, as find_alignment does) */
    cr_assert_eq(uzw_merge_punctuations(w, 6, "\"'\u201c\u00bf([{-", "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001"), 0);
    const char *merged[] = {" And", " so,", "", " don't", " (hello)", ""};
    const int mt[] = {1, 2, 0, 2, 3, 0};
    expect_words(w, 6, merged, mt, 6);
    uzw_wtimings_free(w, n);
}

Test(word_timing, merge_prepended_quote, .init = make_tok, .fini = free_tok) {
    int32_t t[] = {T_AND, T_QUOTE, T_HI, '"', T_EOT};
    uzw_wtiming *w;
    int n = uzw_split_words(tok, t, 5, T_EOT, 0, &w);
    const char *want[] = {" And", " \"", " Hi", "\"", ""};
    const int nt[] = {1, 1, 1, 1, 1};
    expect_words(w, n, want, nt, 5);
    cr_assert_eq(uzw_merge_punctuations(w, 4, "\"'\u201c\u00bf([{-", "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001"), 0);
    const char *merged[] = {" And", "", " \" Hi\"", ""}; /* faster-whisper: ' " Hi"' */
    const int mt[] = {1, 0, 3, 0};
    expect_words(w, 4, merged, mt, 4);
    uzw_wtimings_free(w, n);
}

Test(word_timing, split_on_unicode_waits_for_whole_characters, .init = make_tok, .fini = free_tok) {
    /* 你 = E4 BD A0 split over two tokens; a lone FF stays a word of its own (U+FFFD in the full text too) */
    int32_t t[] = {T_NI1, 0xA0, 0xFF, T_SO, T_EOT};
    uzw_wtiming *w;
    int n = uzw_split_words(tok, t, 5, T_EOT, 1, &w);
    const char *want[] = {"\xE4\xBD\xA0", "\xEF\xBF\xBD", " so", ""};
    const int nt[] = {2, 1, 1, 1};
    expect_words(w, n, want, nt, 4);
    uzw_wtimings_free(w, n);
}

Test(word_timing, python_in_semantics) {
    cr_expect(uzw_str_in("", ".!?"));     /* "" in s is True */
    cr_expect(uzw_str_in("!?", ".!?"));   /* a substring, not only one character */
    cr_expect(!uzw_str_in(" .", ".!?"));
}
