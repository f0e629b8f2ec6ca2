/* test_tokenizer.c - Whisper's byte-level BPE against OAI's tokenizer: golden ids from tiktoken
 * (tests/reference/make_tokenizer_golden.py), the non-speech lists of whisper-facts §4.4, merges
 * derived from the ranks (vs the golden hash and HF merges.txt when that fixture exists),
 * round trips, bad input, threads and speed. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "tokenizer/tiktoken_file.h"
#include "core/util.h" /* uzw_now_s */
#include "tokenizer/tokenizer.h"

typedef struct {
    uzw_tiktoken tk;
    uzw_tokenizer *t;
} vocab;

static vocab load_vocab(const char *name) {
    char path[256], err[256] = "";
    snprintf(path, sizeof path, "data/whisper-assets/%s.tiktoken", name);
    vocab v = {0};
    cr_assert_eq(uzw_tiktoken_load(tu_shared(path), &v.tk, err, sizeof err), 0, "%s", err);
    cr_assert_eq(uzw_tokenizer_new(v.tk.n, v.tk.tok, v.tk.len, NULL, 0, &v.t, err, sizeof err), 0, "%s", err);
    return v;
}

static void free_vocab(vocab *v) {
    uzw_tokenizer_free(v->t);
    uzw_tiktoken_free(&v->tk);
}

static int encode_str(const uzw_tokenizer *t, const char *s, int32_t *out, int max) {
    return uzw_tokenizer_encode(t, s, strlen(s), out, max);
}

static json_t *load_golden(void) {
    const char *path = tu_src("tests/fixtures/tokenizer_golden.json");
    json_error_t je;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &je);
    cr_assert_not_null(root, "%s: %s (run tests/reference/make_tokenizer_golden.py)", path, je.text);
    return root;
}

/* ---------------------------------------------------------------- basics */

Test(tokenizer, tiktoken_files_load) {
    vocab m = load_vocab("multilingual"), g = load_vocab("gpt2");
    cr_expect_eq(m.tk.n, 50257);
    cr_expect_eq(g.tk.n, 50256);
    cr_expect_eq(m.tk.len[50256], 0, "multilingual id 50256 is the empty token");
    uint32_t len;
    const uint8_t *b = uzw_tokenizer_bytes(m.t, 220, &len);
    cr_expect(b && len == 1 && b[0] == ' ', "token 220 is a single space");
    cr_expect_null(uzw_tokenizer_bytes(m.t, 50257, &len));
    cr_expect_null(uzw_tokenizer_bytes(m.t, -1, &len));
    cr_expect_eq(uzw_tokenizer_lookup(m.t, (const uint8_t *)" Hello", 6), 2425);
    cr_expect_eq(uzw_tokenizer_lookup(g.t, (const uint8_t *)" Hello", 6), 18435);
    cr_expect_eq(uzw_tokenizer_lookup(m.t, (const uint8_t *)" Hellox", 7), -1);
    cr_expect_eq(uzw_tokenizer_n_bpe(m.t), 50257);
    free_vocab(&m);
    free_vocab(&g);
}

Test(tokenizer, hello) {
    vocab m = load_vocab("multilingual"), g = load_vocab("gpt2");
    int32_t ids[8];
    cr_expect_eq(encode_str(m.t, " Hello", ids, 8), 1);
    cr_expect_eq(ids[0], 2425);
    cr_expect_eq(encode_str(g.t, " Hello", ids, 8), 1);
    cr_expect_eq(ids[0], 18435);
    free_vocab(&m);
    free_vocab(&g);
}

/* whisper-facts §4.4 */
static const int32_t NON_SPEECH_MULTI[82] = {
    1,     2,     7,     8,     9,     10,    14,    25,    26,    27,    28,    29,    31,    58,    59,    60,    61,
    62,    63,    90,    91,    92,    93,    359,   503,   522,   542,   873,   893,   902,   918,   922,   931,   1350,
    1853,  1982,  2460,  2627,  3246,  3253,  3268,  3536,  3846,  3961,  4183,  4667,  6585,  6647,  7273,  9061,  9383,
    10428, 10929, 11938, 12033, 12331, 12562, 13793, 14157, 14635, 15265, 15618, 16553, 16604, 18362, 18956, 20075, 21675,
    22520, 26130, 26161, 26435, 28279, 29464, 31650, 32302, 32470, 36865, 42863, 47425, 49870, 50254};
static const int32_t NON_SPEECH_GPT2[84] = {
    1,     2,     7,     8,     9,     10,    14,    25,    26,    27,    28,    29,    31,    58,    59,    60,    61,
    62,    63,    90,    91,    92,    93,    357,   366,   438,   532,   685,   705,   796,   930,   1058,  1220,  1267,
    1279,  1303,  1343,  1377,  1391,  1635,  1782,  1875,  2162,  2361,  2488,  3467,  4008,  4211,  4600,  4808,  5299,
    5855,  6329,  7203,  9609,  9959,  10563, 10786, 11420, 11709, 11907, 13163, 13697, 13700, 14808, 15306, 16410, 16791,
    17992, 19203, 19510, 20724, 22305, 22935, 27007, 30109, 30420, 33409, 34949, 40283, 40493, 40549, 47282, 49146};

static void check_non_speech(const char *name, const int32_t *want, int n_want) {
    vocab v = load_vocab(name);
    int32_t got[256];
    int n = uzw_tokenizer_non_speech(v.t, got, 256);
    cr_assert_eq(n, n_want, "%s: %d non-speech ids, want %d", name, n, n_want);
    for (int i = 0; i < n; i++) cr_expect_eq(got[i], want[i], "%s non-speech[%d] = %d, want %d", name, i, got[i], want[i]);
    cr_expect_eq(uzw_tokenizer_non_speech(v.t, got, n_want - 1), -1, "too small a buffer is an error");
    json_t *root = load_golden();
    json_t *gold = json_object_get(json_object_get(json_object_get(root, "vocabularies"), name), "non_speech");
    cr_assert_eq((int)json_array_size(gold), n_want, "golden %s non_speech size", name);
    for (int i = 0; i < n; i++) cr_expect_eq(got[i], json_integer_value(json_array_get(gold, i)));
    json_decref(root);
    free_vocab(&v);
}

Test(tokenizer, non_speech_multilingual) { check_non_speech("multilingual", NON_SPEECH_MULTI, 82); }
Test(tokenizer, non_speech_gpt2) { check_non_speech("gpt2", NON_SPEECH_GPT2, 84); }

/* ---------------------------------------------------------------- golden ids */

static void check_golden(const uzw_tokenizer *t, const char *name, const char *label) {
    json_t *root = load_golden();
    json_t *voc = json_object_get(json_object_get(root, "vocabularies"), name);
    json_t *vecs = json_object_get(voc, "vectors");
    cr_assert_geq(json_array_size(vecs), 40, "golden %s has %zu vectors", name, json_array_size(vecs));
    cr_expect_eq(json_integer_value(json_object_get(voc, "n_bpe")), uzw_tokenizer_n_bpe(t));
    size_t i;
    json_t *v;
    int32_t ids[2048];
    json_array_foreach(vecs, i, v) {
        const char *text = json_string_value(json_object_get(v, "text"));
        size_t len = json_string_length(json_object_get(v, "text"));
        json_t *want = json_object_get(v, "ids");
        int n = uzw_tokenizer_encode(t, text, len, ids, 2048);
        cr_assert_eq(n, (int)json_array_size(want), "%s/%s vector %zu: %d ids, want %zu", name, label, i, n,
                     json_array_size(want));
        for (int k = 0; k < n; k++)
            cr_expect_eq(ids[k], json_integer_value(json_array_get(want, k)), "%s/%s vector %zu id[%d]", name, label, i,
                         k);
        char *back = uzw_tokenizer_decode(t, ids, n);
        cr_assert_not_null(back);
        cr_expect(strlen(back) == len || memchr(text, 0, len), "decode length");
        cr_expect_eq(memcmp(back, text, len), 0, "%s vector %zu round trip", name, i);
        free(back);
    }
    json_decref(root);
}

Test(tokenizer, golden_multilingual_derived_merges) {
    vocab v = load_vocab("multilingual");
    check_golden(v.t, "multilingual", "derived");
    free_vocab(&v);
}

Test(tokenizer, golden_gpt2_derived_merges) {
    vocab v = load_vocab("gpt2");
    check_golden(v.t, "gpt2", "derived");
    free_vocab(&v);
}

/* ---------------------------------------------------------------- merges */

static void hex_of(const uint8_t *p, uint32_t n, char *out) {
    for (uint32_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", p[i]);
    out[2 * n] = 0;
}

static void check_derived(const char *name) {
    vocab v = load_vocab(name);
    int32_t *merges = NULL;
    int n = 0;
    char err[256] = "";
    double t0 = uzw_now_s();
    cr_assert_eq(uzw_tokenizer_derive_merges(v.tk.n, v.tk.tok, v.tk.len, &merges, &n, err, sizeof err), 0, "%s", err);
    double dt = uzw_now_s() - t0;
    cr_log_info("%s: derived %d merges in %.1f ms", name, n, dt * 1e3);
    cr_expect_lt(dt, 2.0, "derive merges took %.2f s", dt);
    json_t *root = load_golden();
    json_t *voc = json_object_get(json_object_get(root, "vocabularies"), name);
    cr_assert_eq(n, json_integer_value(json_object_get(voc, "merges_count")));
    /* hash of "lefthex righthex\n" over all merges, as the golden script writes it */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_assert_not_null(ctx);
    cr_assert_eq(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    json_t *head = json_object_get(voc, "merges_head");
    char line[1024], a[512], b[512];
    for (int r = 0; r < n; r++) {
        uint32_t la, lb;
        const uint8_t *pa = uzw_tokenizer_bytes(v.t, merges[2 * r], &la), *pb = uzw_tokenizer_bytes(v.t, merges[2 * r + 1], &lb);
        cr_assert(pa && pb && la < 200 && lb < 200);
        hex_of(pa, la, a);
        hex_of(pb, lb, b);
        int k = snprintf(line, sizeof line, "%s %s\n", a, b);
        EVP_DigestUpdate(ctx, line, (size_t)k);
        if ((size_t)r < json_array_size(head)) {
            json_t *pair = json_array_get(head, (size_t)r);
            cr_expect_str_eq(a, json_string_value(json_array_get(pair, 0)), "%s merge %d left", name, r);
            cr_expect_str_eq(b, json_string_value(json_array_get(pair, 1)), "%s merge %d right", name, r);
        }
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    cr_assert_eq(EVP_DigestFinal_ex(ctx, md, &mdlen), 1);
    EVP_MD_CTX_free(ctx);
    char hex[65];
    hex_of(md, 32, hex);
    cr_expect_str_eq(hex, json_string_value(json_object_get(voc, "merges_sha256")), "%s merge list hash", name);
    json_decref(root);
    free(merges);
    free_vocab(&v);
}

Test(tokenizer, derived_merges_multilingual) { check_derived("multilingual"); }
Test(tokenizer, derived_merges_gpt2) { check_derived("gpt2"); }

/* GPT-2 bytes_to_unicode, inverted: code point -> byte (or -1). */
static void unicode_to_byte(int map[324]) {
    for (int c = 0; c < 324; c++) map[c] = -1;
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        map[printable ? b : 256 + extra++] = b;
    }
}

/* One HF merges.txt symbol (UTF-8 of bytes_to_unicode chars) -> raw bytes; length or -1. */
static int hf_symbol_bytes(const char *s, size_t n, const int map[324], uint8_t *out) {
    int k = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = (unsigned char)s[i];
        unsigned cp;
        if (c < 0x80) cp = c, i += 1;
        else if ((c & 0xE0) == 0xC0 && i + 1 < n) cp = (c & 0x1F) << 6 | ((unsigned char)s[i + 1] & 0x3F), i += 2;
        else return -1;
        if (cp >= 324 || map[cp] < 0) return -1;
        out[k++] = (uint8_t)map[cp];
    }
    return k;
}

Test(tokenizer, derived_merges_match_hf_merges_txt) {
    /* UZW_TEST_HF_MERGES may name another merges.txt (e.g. a hub copy) */
    const char *path = getenv("UZW_TEST_HF_MERGES") ? getenv("UZW_TEST_HF_MERGES")
                                                    : tu_src("tests/fixtures/tiny-random/hf/merges.txt");
    if (!tu_exists(path)) cr_skip_test("%s not present yet (written by the golden helper)", path);
    size_t size;
    char *text = (char *)tu_read_file(path, &size);
    cr_assert_not_null(text);
    vocab v = load_vocab("multilingual");
    int32_t *merges = NULL;
    int n = 0;
    char err[256] = "";
    cr_assert_eq(uzw_tokenizer_derive_merges(v.tk.n, v.tk.tok, v.tk.len, &merges, &n, err, sizeof err), 0, "%s", err);
    int map[324];
    unicode_to_byte(map);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
    int32_t *hf = malloc(sizeof(int32_t) * 2 * lines);
    cr_assert_not_null(hf);
    int r = 0;
    char *save = NULL;
    for (char *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        if (strncmp(ln, "#version", 8) == 0) continue;
        char *sp = strchr(ln, ' ');
        cr_assert_not_null(sp, "merges.txt line %d has no space", r + 2);
        uint8_t a[256], b[256];
        int la = hf_symbol_bytes(ln, (size_t)(sp - ln), map, a), lb = hf_symbol_bytes(sp + 1, strlen(sp + 1), map, b);
        cr_assert(la > 0 && lb > 0 && la < 256 && lb < 256, "merges.txt line %d unreadable", r + 2);
        hf[2 * r] = uzw_tokenizer_lookup(v.t, a, (uint32_t)la);
        hf[2 * r + 1] = uzw_tokenizer_lookup(v.t, b, (uint32_t)lb);
        cr_assert(hf[2 * r] >= 0 && hf[2 * r + 1] >= 0, "merges.txt line %d: a part is not a token", r + 2);
        r++;
    }
    cr_assert_gt(r, 0);
    if (r == n) {
        /* the hub form (OAI convert_openai_to_hf.py): one merge per token, identical lists */
        for (int i = 0; i < 2000 && i < n; i++)
            cr_expect(hf[2 * i] == merges[2 * i] && hf[2 * i + 1] == merges[2 * i + 1],
                      "merge %d: HF (%d, %d), derived (%d, %d)", i, hf[2 * i], hf[2 * i + 1], merges[2 * i],
                      merges[2 * i + 1]);
    } else {
        /* transformers' TikTokenConverter lists every split of each token (98,783 for multilingual):
         * the derived list must then be a subsequence of it */
        cr_log_warn("merges.txt has %d merges, not the hub's %d: checking the derived list is a subsequence", r, n);
        int j = 0;
        for (int i = 0; i < r && j < n; i++)
            if (hf[2 * i] == merges[2 * j] && hf[2 * i + 1] == merges[2 * j + 1]) j++;
        cr_expect_eq(j, n, "derived merge %d (%d, %d) not found in order in merges.txt", j, j < n ? merges[2 * j] : -1,
                     j < n ? merges[2 * j + 1] : -1);
    }
    /* the merges.txt list must also drive the encoder to the golden ids */
    uzw_tokenizer *t2 = NULL;
    cr_assert_eq(uzw_tokenizer_new(v.tk.n, v.tk.tok, v.tk.len, hf, r, &t2, err, sizeof err), 0, "%s", err);
    check_golden(t2, "multilingual", "merges.txt");
    uzw_tokenizer_free(t2);
    free(hf);
    free(merges);
    free(text);
    free_vocab(&v);
}

/* ---------------------------------------------------------------- round trips and bad input */

static const char *const ROUND_TRIP[] = {
    "O\u2018zbekiston, o\u2018zbek, g'alaba, ma\u2019no, ma\u02bcno, o\u02bbzbek, o`zbek",
    "\u040e\u0437\u0431\u0435\u043a\u0438\u0441\u0442\u043e\u043d \u049b\u0438\u0448\u043b\u043e\u049b \u0493\u0430\u043b\u043b\u0430 \u04b3\u043e\u0441\u0438\u043b",
    "\u041c\u043e\u0441\u043a\u0432\u0430 \u2014 \u0441\u0442\u043e\u043b\u0438\u0446\u0430 \u0420\u043e\u0441\u0441\u0438\u0438.",
    "Ask not what your country can do for you.",
    "\U0001F600\U0001F389 \U0001F44D\U0001F3FD \U0001F1FA\U0001F1FF",
    " \t\n\r\n  \u00a0\u3000 mixed   whitespace\n\n\nand newlines \n",
    "0123456789 3.14 1,000,000 \u0663\u0664",
    "a\xCC\x81 \xE2\x99\xAA\xE2\x99\xAA \xE3\x80\x8C\xE3\x80\x8D",
};

Test(tokenizer, round_trip) {
    vocab vs[2] = {load_vocab("multilingual"), load_vocab("gpt2")};
    int32_t ids[512];
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof ROUND_TRIP / sizeof ROUND_TRIP[0]; i++) {
            const char *s = ROUND_TRIP[i];
            int n = encode_str(vs[k].t, s, ids, 512);
            cr_assert(n > 0 && n <= 512, "encode %zu: %d", i, n);
            char *back = uzw_tokenizer_decode(vs[k].t, ids, n);
            cr_assert_not_null(back);
            cr_expect_str_eq(back, s, "vocab %d string %zu", k, i);
            free(back);
        }
    free_vocab(&vs[0]);
    free_vocab(&vs[1]);
}

/* UTF-8 of code point cp into p; returns its length. */
static int put_utf8(uint32_t cp, char *p) {
    if (cp < 0x80) return p[0] = (char)cp, 1;
    if (cp < 0x800) return p[0] = (char)(0xC0 | cp >> 6), p[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return p[0] = (char)(0xE0 | cp >> 12), p[1] = (char)(0x80 | (cp >> 6 & 0x3F)), p[2] = (char)(0x80 | (cp & 0x3F)), 3;
    p[0] = (char)(0xF0 | cp >> 18), p[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    return p[2] = (char)(0x80 | (cp >> 6 & 0x3F)), p[3] = (char)(0x80 | (cp & 0x3F)), 4;
}

/* Random text from a fixed-seed generator: random code points from mixed ranges round-trip, and
 * random bytes either fail as invalid UTF-8 or round-trip. */
Test(tokenizer, random_round_trip) {
    vocab v = load_vocab("multilingual");
    static const uint32_t base[] = {0x20, 0x0, 0x400, 0x4E00, 0x1F300, 0x2000, 0x600, 0x80, 0x2640, 0x10FF00};
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    char text[1200];
    int32_t ids[1200];
    int n_valid = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0;
        int raw = iter % 3 == 2;
        int n_chars = 1 + (int)(iter % 200);
        for (int c = 0; c < n_chars; c++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t x = (uint32_t)(rng >> 33);
            if (raw) {
                text[len++] = (char)(x & 0xFF);
                continue;
            }
            uint32_t cp = base[x % 10] + (x >> 8) % 96;
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
            len += (size_t)put_utf8(cp, text + len);
        }
        int n = uzw_tokenizer_encode(v.t, text, len, ids, 1200);
        if (raw && n < 0) continue;
        cr_assert(n >= 0 && n <= (int)len, "iter %d: %d ids for %zu bytes", iter, n, len);
        char *back = uzw_tokenizer_decode(v.t, ids, n);
        cr_assert_not_null(back);
        cr_assert_eq(memcmp(back, text, len), 0, "iter %d round trip", iter);
        free(back);
        n_valid++;
    }
    cr_expect_gt(n_valid, 2000);
    free_vocab(&v);
}

Test(tokenizer, encode_limits_and_bad_input) {
    vocab v = load_vocab("multilingual");
    int32_t ids[64];
    const char *s = "Hello world, this is a test";
    int need = encode_str(v.t, s, ids, 64);
    cr_assert_gt(need, 3);
    int32_t few[3] = {-7, -7, -7};
    cr_expect_eq(encode_str(v.t, s, few, 2), need, "returns the count needed even when it does not fit");
    cr_expect(few[0] == ids[0] && few[1] == ids[1] && few[2] == -7, "writes only max ids");
    cr_expect_eq(encode_str(v.t, s, NULL, 0), need);
    cr_expect_eq(uzw_tokenizer_encode(v.t, "", 0, ids, 64), 0);
    const char *bad[] = {"abc\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok \xe2\x82", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(encode_str(v.t, bad[i], ids, 64), -1, "invalid UTF-8 %zu", i);
    cr_expect_eq(uzw_tokenizer_encode(NULL, s, strlen(s), ids, 64), -1);
    cr_expect_eq(uzw_tokenizer_encode(v.t, s, strlen(s), NULL, 4), -1);
    /* decode skips specials and negative ids; keeps a cut UTF-8 sequence as is */
    int32_t mixed[] = {50257, ids[0], -3, 51864, ids[1]};
    char *d = uzw_tokenizer_decode(v.t, mixed, 5);
    char *d2 = uzw_tokenizer_decode(v.t, ids, 2);
    cr_assert(d && d2);
    cr_expect_str_eq(d, d2);
    free(d);
    free(d2);
    int32_t o_id = uzw_tokenizer_lookup(v.t, (const uint8_t *)"\xe2", 1);
    d = uzw_tokenizer_decode(v.t, &o_id, 1);
    cr_assert_not_null(d);
    cr_expect(strcmp(d, "\xe2") == 0);
    free(d);
    d = uzw_tokenizer_decode(v.t, NULL, 0);
    cr_assert_not_null(d);
    cr_expect_str_eq(d, "");
    free(d);
    free_vocab(&v);
}

Test(tokenizer, rejects_corrupt_tables) {
    vocab v = load_vocab("multilingual");
    char err[256] = "";
    uzw_tokenizer *t = NULL;
    int32_t h = uzw_tokenizer_lookup(v.t, (const uint8_t *)"H", 1), e = uzw_tokenizer_lookup(v.t, (const uint8_t *)"e", 1);
    cr_assert(h >= 0 && e >= 0 && uzw_tokenizer_lookup(v.t, (const uint8_t *)"He", 2) >= 0);
    int32_t bad_merge[] = {h, e, 2425, 2425}; /* "He" is a token; " Hello Hello" is not */
    cr_expect_eq(uzw_tokenizer_new(v.tk.n, v.tk.tok, v.tk.len, bad_merge, 2, &t, err, sizeof err), -1);
    cr_expect_null(t);
    cr_expect(strstr(err, "merge 1") != NULL, "message: %s", err);
    int32_t out_of_range[] = {0, 60000};
    cr_expect_eq(uzw_tokenizer_new(v.tk.n, v.tk.tok, v.tk.len, out_of_range, 1, &t, err, sizeof err), -1);
    cr_expect_eq(uzw_tokenizer_new(100, v.tk.tok, v.tk.len, NULL, 0, &t, err, sizeof err), -1, "fewer than 256");
    /* tiktoken parser: bad rank order, bad base64, missing space */
    uzw_tiktoken tk;
    const char *texts[] = {"IQ== 0\nIg== 2\n", "I!== 0\n", "IQ==0\n", "IQ== 0\nIg== x\n"};
    for (size_t i = 0; i < 4; i++) {
        err[0] = 0;
        cr_expect_eq(uzw_tiktoken_parse(texts[i], strlen(texts[i]), &tk, err, sizeof err), -1, "text %zu", i);
        cr_expect(err[0] != 0);
    }
    const char *good = "IQ== 0\r\n= 1\nSGVsbG8= 2";
    cr_assert_eq(uzw_tiktoken_parse(good, strlen(good), &tk, err, sizeof err), 0, "%s", err);
    cr_expect(tk.n == 3 && tk.len[0] == 1 && tk.tok[0][0] == '!' && tk.len[1] == 0 && tk.len[2] == 5);
    cr_expect(memcmp(tk.tok[2], "Hello", 5) == 0);
    uzw_tiktoken_free(&tk);
    cr_expect_eq(uzw_tiktoken_load("/nonexistent/x.tiktoken", &tk, err, sizeof err), -1);
    free_vocab(&v);
}

/* ---------------------------------------------------------------- threads and speed */

typedef struct {
    const uzw_tokenizer *t;
    const char *text;
    size_t len;
    int32_t *ids;
    int n;
} job;

static void *encode_job(void *arg) {
    job *j = arg;
    for (int rep = 0; rep < 20; rep++) j->n = uzw_tokenizer_encode(j->t, j->text, j->len, j->ids, 8192);
    return NULL;
}

/* ~10 KB of mixed Uzbek, Russian and English prose. */
static char *sample_text(size_t *len) {
    const char *parts[] = {"O\u2018zbekiston Respublikasi \u2014 Markaziy Osiyodagi davlat. ",
                           "\u041f\u043e\u0433\u043e\u0434\u0430 \u0441\u0435\u0433\u043e\u0434\u043d\u044f "
                           "\u0445\u043e\u0440\u043e\u0448\u0430\u044f, 25\u00b0C. ",
                           "The quick brown fox jumps over 13 lazy dogs!\n", "  g'alaba, ma\u2019no;  "};
    char *s = malloc(10240 + 256);
    cr_assert_not_null(s);
    size_t n = 0;
    for (int i = 0; n < 10240; i++) {
        size_t k = strlen(parts[i % 4]);
        memcpy(s + n, parts[i % 4], k);
        n += k;
    }
    s[n] = 0;
    *len = n;
    return s;
}

Test(tokenizer, threads_agree) {
    vocab v = load_vocab("multilingual");
    size_t len;
    char *text = sample_text(&len);
    int32_t *want = malloc(sizeof(int32_t) * 8192);
    cr_assert_not_null(want);
    int n = uzw_tokenizer_encode(v.t, text, len, want, 8192);
    cr_assert(n > 100 && n <= 8192);
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){v.t, text, len, malloc(sizeof(int32_t) * 8192), 0};
        cr_assert_not_null(jobs[i].ids);
        cr_assert_eq(pthread_create(&th[i], NULL, encode_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(jobs[i].n, n);
        cr_expect_eq(memcmp(jobs[i].ids, want, sizeof(int32_t) * (size_t)n), 0, "thread %d ids", i);
        free(jobs[i].ids);
    }
    free(want);
    free(text);
    free_vocab(&v);
}

Test(tokenizer, speed) {
    double t0 = uzw_now_s();
    vocab v = load_vocab("multilingual");
    double t_build = uzw_now_s() - t0;
    size_t len;
    char *text = sample_text(&len);
    int32_t *ids = malloc(sizeof(int32_t) * 8192);
    cr_assert_not_null(ids);
    int n = 0;
    double best = 1e9;
    for (int rep = 0; rep < 20; rep++) {
        t0 = uzw_now_s();
        n = uzw_tokenizer_encode(v.t, text, len, ids, 8192);
        double dt = uzw_now_s() - t0;
        if (dt < best) best = dt;
    }
    /* one long piece without spaces: BPE must stay O(n log n) */
    char *word = malloc(20001);
    cr_assert_not_null(word);
    for (int i = 0; i < 20000; i++) word[i] = "abcdefgh"[(i * 7 + i / 3) % 8];
    t0 = uzw_now_s();
    int nw = uzw_tokenizer_encode(v.t, word, 20000, NULL, 0);
    double t_word = uzw_now_s() - t0;
    cr_log_info("build (load + derive + tables) %.1f ms; encode %zu bytes -> %d ids: best %.3f ms; 20 KB word: %.2f ms",
                t_build * 1e3, len, n, best * 1e3, t_word * 1e3);
    cr_expect_gt(nw, 1000);
    cr_expect_lt(best, 0.05, "10 KB took %.2f ms (target well under 10 ms unsanitised)", best * 1e3);
    cr_expect_lt(t_word, 0.5, "20 KB single piece took %.2f ms", t_word * 1e3);
    free(word);
    free(ids);
    free(text);
    free_vocab(&v);
}
