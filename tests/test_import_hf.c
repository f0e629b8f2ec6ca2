/* test_import_hf.c - the HF importer and uzw_import_write(): convert the tiny-random HF fixture,
 * reopen the .uzw and check dimensions, special ids, suppress lists, mel filters and tensors; the
 * special-id derivation on synthetic vocabularies; the GPT-2 byte decoding; the error messages.
 * UZW_TEST_HF_DIR overrides the fixture folder (e.g. to convert a real checkpoint). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "import_internal.h"
#include "safetensors.h"
#include "testutil.h"
#include "wformat.h"

static const char *fixture_dir(void) {
    const char *env = getenv("UZW_TEST_HF_DIR");
    return env && *env ? env : tu_src("tests/fixtures/tiny-random/hf");
}

static void need_fixture(void) {
    char p[1100];
    snprintf(p, sizeof p, "%s/config.json", fixture_dir());
    if (!tu_exists(p)) cr_skip_test("HF fixture %s absent (made by the fixture script); skipping", fixture_dir());
}

static const char *tmp_out(const char *name) {
    static char path[2][128];
    static int slot;
    char *p = path[slot++ & 1];
    snprintf(p, sizeof path[0], "/tmp/uzw_hf_test_%d_%s", (int)getpid(), name);
    return p;
}

/* OAI default suppress set for v1/v2 multilingual (whisper-facts §4.4): 82 non-speech + 6 specials */
static const int32_t oai_suppress_multi[88] = {
    1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63, 90, 91, 92, 93, 359, 503, 522, 542, 873,
    893, 902, 918, 922, 931, 1350, 1853, 1982, 2460, 2627, 3246, 3253, 3268, 3536, 3846, 3961, 4183, 4667, 6585,
    6647, 7273, 9061, 9383, 10428, 10929, 11938, 12033, 12331, 12562, 13793, 14157, 14635, 15265, 15618, 16553,
    16604, 18362, 18956, 20075, 21675, 22520, 26130, 26161, 26435, 28279, 29464, 31650, 32302, 32470, 36865, 42863,
    47425, 49870, 50254, 50258, 50358, 50359, 50360, 50361, 50362};

static int32_t meta_i32(const uzw_wfile *wf, const char *key) {
    int32_t v = -1;
    char err[256];
    cr_assert_eq(uzw_meta_get_i32(wf, key, &v, err, sizeof err), 0, "%s", err);
    return v;
}

/* ---------------------------------------------------------------- GPT-2 byte decoding */
Test(import_hf, gpt2_unicode_to_bytes) {
    uint8_t out[32];
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc4\xa0hello", out), 6); /* "Ġhello" */
    cr_assert(memcmp(out, " hello", 6) == 0);
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc4\x8a", out), 1); /* "Ċ" = U+010A -> '\n' */
    cr_assert_eq(out[0], '\n');
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc4\x80", out), 1); /* U+0100 -> 0x00 */
    cr_assert_eq(out[0], 0x00);
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc5\x83", out), 1); /* U+0143, the last shifted one -> 0xAD */
    cr_assert_eq(out[0], 0xad);
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc3\xa9", out), 1); /* "é" stands for itself */
    cr_assert_eq(out[0], 0xe9);
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("", out), 0);
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("a b", out), -1);         /* a literal space is not in the map */
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc5\x84", out), -1);    /* U+0144: past the map */
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xe4\xb8\xad", out), -1); /* 3-byte UTF-8 */
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc4", out), -1);        /* truncated UTF-8 */
    cr_assert_eq(uzw_gpt2_unicode_to_bytes("\xc1\x81", out), -1);    /* overlong */
}

/* ---------------------------------------------------------------- special ids */
/* n_bpe dummy BPE tokens, then the given specials (literal), n_vocab in dims. */
static void synth_vocab(uzw_import *im, int n_bpe, int32_t n_vocab, const char *const *specials, int n_specials) {
    uzw_import_init(im);
    im->dims.n_vocab = n_vocab;
    for (int i = 0; i < n_bpe; i++) {
        uint8_t b[4] = {(uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), 'x'};
        cr_assert_eq(uzw_import_add_token(im, b, i < 256 ? 1 : 4), 0);
    }
    for (int i = 0; i < n_specials; i++)
        cr_assert_eq(uzw_import_add_token(im, (const uint8_t *)specials[i], (uint32_t)strlen(specials[i])), 0);
}

Test(import_hf, specials_derived) {
    char err[512] = "";
    uzw_import im;
    uzw_specials sp;
    /* multilingual v2: 50257 BPE, no specials listed */
    synth_vocab(&im, 50257, 51865, NULL, 0);
    cr_assert_eq(uzw_import_specials(&im, &sp, err, sizeof err), 0, "%s", err);
    cr_assert(sp.eot == 50257 && sp.sot == 50258 && sp.first_lang == 50259 && sp.n_lang == 99);
    cr_assert(sp.translate == 50358 && sp.transcribe == 50359 && sp.sot_lm == 50360 && sp.sot_prev == 50361);
    cr_assert(sp.no_speech == 50362 && sp.no_timestamps == 50363 && sp.ts_begin == 50364);
    uzw_import_free(&im);
    /* large-v3: 100 languages */
    const char *const v3[] = {"<|endoftext|>", "<|startoftranscript|>", "<|en|>"};
    synth_vocab(&im, 50257, 51866, v3, 3);
    cr_assert_eq(uzw_import_specials(&im, &sp, err, sizeof err), 0, "%s", err);
    cr_assert(sp.n_lang == 100 && sp.translate == 50359 && sp.transcribe == 50360 && sp.no_timestamps == 50364 &&
              sp.ts_begin == 50365);
    uzw_import_free(&im);
    /* English-only */
    synth_vocab(&im, 50256, 51864, NULL, 0);
    cr_assert_eq(uzw_import_specials(&im, &sp, err, sizeof err), 0, "%s", err);
    cr_assert(sp.eot == 50256 && sp.sot == 50257 && sp.first_lang == 50258 && sp.transcribe == 50358 &&
              sp.ts_begin == 50363);
    uzw_import_free(&im);
    /* keras-hub style swap: translate and transcribe exchanged -> refused */
    const char *swapped[104];
    swapped[0] = "<|endoftext|>";
    swapped[1] = "<|startoftranscript|>";
    static char langs[99][8];
    for (int i = 0; i < 99; i++) {
        snprintf(langs[i], sizeof langs[i], "<|%s|>", uzw_import_lang_code(i));
        swapped[2 + i] = langs[i];
    }
    swapped[101] = "<|transcribe|>";
    swapped[102] = "<|translate|>";
    synth_vocab(&im, 50257, 51865, swapped, 103);
    cr_assert_eq(uzw_import_specials(&im, &sp, err, sizeof err), -1);
    cr_assert(strstr(err, "token 50358 should be \"<|translate|>\"") != NULL, "%s", err);
    uzw_import_free(&im);
    /* vocabulary and n_vocab disagree */
    synth_vocab(&im, 50000, 51865, NULL, 0);
    cr_assert_eq(uzw_import_specials(&im, &sp, err, sizeof err), -1);
    cr_assert(strstr(err, "disagree") != NULL, "%s", err);
    uzw_import_free(&im);
}

Test(import_hf, model_type_guess) {
    char buf[32];
    uzw_dims d = {80, 1500, 384, 6, 4, 448, 384, 6, 4, 51865};
    cr_assert_str_eq(uzw_import_model_type(&d, buf, sizeof buf), "tiny");
    d.n_vocab = 51864;
    cr_assert_str_eq(uzw_import_model_type(&d, buf, sizeof buf), "tiny.en");
    uzw_dims t = {128, 1500, 1280, 20, 32, 448, 1280, 20, 4, 51866};
    cr_assert_str_eq(uzw_import_model_type(&t, buf, sizeof buf), "large-v3-turbo");
    t.n_text_layer = 32;
    cr_assert_str_eq(uzw_import_model_type(&t, buf, sizeof buf), "large-v3");
    t.n_audio_state = t.n_text_state = 64;
    cr_assert_str_eq(uzw_import_model_type(&t, buf, sizeof buf), "custom");
}

/* ---------------------------------------------------------------- the fixture */
static json_t *load_config(void) {
    char p[1100];
    snprintf(p, sizeof p, "%s/config.json", fixture_dir());
    json_t *c = json_load_file(p, 0, NULL);
    cr_assert_not_null(c);
    return c;
}

static void check_tensor_eq(const uzw_wfile *wf, const uzw_st_set *s, const char *hf, const char *canon) {
    char err[512];
    const uzw_st_file *f = NULL;
    const uzw_st_entry *e = uzw_st_set_find(s, hf, &f);
    cr_assert_not_null(e, "source lacks %s", hf);
    const uzw_tensor *t = uzw_wfile_tensor(wf, canon);
    cr_assert_not_null(t, "output lacks %s", canon);
    cr_assert_eq(t->dtype, UZW_DT_F32);
    cr_assert_eq(t->n_dims, e->n_dims, "%s rank", canon);
    for (int i = 0; i < e->n_dims; i++) cr_assert_eq(t->dims[i], e->shape[i], "%s dim %d", canon, i);
    float *v = NULL;
    cr_assert_eq(uzw_st_read_f32(f, e, &v, err, sizeof err), 0, "%s", err);
    cr_assert_eq(memcmp(v, t->data, e->numel * sizeof(float)), 0, "%s differs from %s", canon, hf);
    free(v);
}

Test(import_hf, convert_fixture_f32) {
    need_fixture();
    char err[1024] = "";
    uzw_import im;
    uzw_import_init(&im);
    cr_assert_eq(uzw_import_hf(fixture_dir(), &im, err, sizeof err), 0, "%s", err);
    const char *out = tmp_out("f32.uzw");
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F32, err, sizeof err), 0, "%s", err);
    uzw_import_free(&im);

    uzw_wfile wf;
    cr_assert_eq(uzw_wfile_open(out, &wf, err, sizeof err), 0, "%s", err);
    /* dims as config.json gives them */
    json_t *cfg = load_config();
    cr_assert_eq(meta_i32(&wf, uzw_dims_keys[0]), json_integer_value(json_object_get(cfg, "num_mel_bins")));
    cr_assert_eq(meta_i32(&wf, uzw_dims_keys[2]), json_integer_value(json_object_get(cfg, "d_model")));
    cr_assert_eq(meta_i32(&wf, uzw_dims_keys[4]), json_integer_value(json_object_get(cfg, "encoder_layers")));
    cr_assert_eq(meta_i32(&wf, uzw_dims_keys[8]), json_integer_value(json_object_get(cfg, "decoder_layers")));
    cr_assert_eq(meta_i32(&wf, uzw_dims_keys[9]), json_integer_value(json_object_get(cfg, "vocab_size")));
    int32_t n_mels = meta_i32(&wf, uzw_dims_keys[0]);
    json_decref(cfg);
    cr_assert_eq(meta_i32(&wf, uzw_dims_keys[9]), 51865, "the fixture should use the multilingual v2 vocabulary");
    /* special ids */
    cr_assert_eq(meta_i32(&wf, UZW_K_TOK_EOT), 50257);
    cr_assert_eq(meta_i32(&wf, UZW_K_TOK_SOT), 50258);
    cr_assert_eq(meta_i32(&wf, UZW_K_TOK_FIRST_LANG), 50259);
    cr_assert_eq(meta_i32(&wf, UZW_K_TOK_TRANSLATE), 50358);
    cr_assert_eq(meta_i32(&wf, UZW_K_TOK_TRANSCRIBE), 50359);
    cr_assert_eq(meta_i32(&wf, UZW_K_TOK_NO_TIMESTAMPS), 50363);
    cr_assert_eq(meta_i32(&wf, UZW_K_TOK_TS_BEGIN), 50364);
    const uzw_meta *lc = uzw_wfile_meta(&wf, UZW_K_LANG_CODES);
    cr_assert_not_null(lc);
    cr_assert_eq(lc->count, 99);
    cr_assert(memcmp(lc->value, "\x02\0\0\0en", 6) == 0);
    /* vocabulary: 50257 BPE tokens, 220 is " " */
    const uzw_meta *voc = uzw_wfile_meta(&wf, UZW_K_VOCAB);
    cr_assert_not_null(voc);
    cr_assert_eq(voc->count, 50257);
    const uzw_meta *mg = uzw_wfile_meta(&wf, UZW_K_MERGES);
    cr_assert_not_null(mg);
    cr_assert_eq(mg->count, 2 * 50000);
    /* suppress: OAI's 88 ids */
    const uzw_meta *sup = uzw_wfile_meta(&wf, UZW_K_SUPPRESS);
    cr_assert_not_null(sup);
    cr_assert_eq(sup->count, 88);
    for (uint32_t i = 0; i < 88; i++)
        cr_assert_eq(uzw_meta_i32_at(sup, i), oai_suppress_multi[i], "suppress[%u]", i);
    const uzw_meta *sb = uzw_wfile_meta(&wf, UZW_K_SUPPRESS_BEGIN);
    cr_assert(sb && sb->count >= 1 && uzw_meta_i32_at(sb, 0) == 220);
    const uzw_meta *ah = uzw_wfile_meta(&wf, UZW_K_ALIGN_HEADS);
    cr_assert(ah && ah->count >= 2 && ah->count % 2 == 0);
    /* mel filters: [M, 201], every row carries weight */
    const uzw_meta *mf = uzw_wfile_meta(&wf, UZW_K_MEL_FILTERS);
    cr_assert_not_null(mf);
    cr_assert_eq(mf->count, (uint32_t)n_mels * 201);
    for (int m = 0; m < n_mels; m++) {
        double sum = 0;
        for (int k = 0; k < 201; k++) sum += uzw_meta_f32_at(mf, (uint32_t)(m * 201 + k));
        cr_assert_gt(sum, 0.0, "mel filter row %d sums to %g", m, sum);
    }
    const char *s;
    uint32_t len;
    cr_assert_eq(uzw_meta_get_str(&wf, UZW_K_SRC_FORMAT, &s, &len, err, sizeof err), 0, "%s", err);
    cr_assert(len == 14 && memcmp(s, "hf-safetensors", 14) == 0);
    cr_assert_eq(uzw_meta_get_str(&wf, UZW_K_SRC_SHA256, &s, &len, err, sizeof err), 0, "%s", err);
    cr_assert_eq(len, 64);
    /* tensors: all canonical ones, equal to the source values */
    uzw_dims d;
    for (int i = 0; i < 10; i++) *uzw_dims_field(&d, i) = meta_i32(&wf, uzw_dims_keys[i]);
    cr_assert_eq((int)wf.hdr.n_tensors, uzw_schema_count(&d));
    uzw_st_set st;
    cr_assert_eq(uzw_st_set_open_dir(fixture_dir(), &st, err, sizeof err), 0, "%s", err);
    check_tensor_eq(&wf, &st, "model.encoder.conv1.weight", "enc.conv1.weight");
    check_tensor_eq(&wf, &st, "model.encoder.embed_positions.weight", "enc.pos");
    check_tensor_eq(&wf, &st, "model.encoder.layers.0.self_attn.q_proj.weight", "enc.0.attn.q.weight");
    check_tensor_eq(&wf, &st, "model.encoder.layers.0.self_attn.k_proj.weight", "enc.0.attn.k.weight");
    check_tensor_eq(&wf, &st, "model.encoder.layers.0.self_attn.out_proj.bias", "enc.0.attn.o.bias");
    check_tensor_eq(&wf, &st, "model.encoder.layers.0.final_layer_norm.weight", "enc.0.mlp_ln.weight");
    check_tensor_eq(&wf, &st, "model.encoder.layers.0.fc2.weight", "enc.0.fc2.weight");
    check_tensor_eq(&wf, &st, "model.encoder.layer_norm.bias", "enc.ln_post.bias");
    check_tensor_eq(&wf, &st, "model.decoder.embed_tokens.weight", "dec.tok_emb");
    check_tensor_eq(&wf, &st, "model.decoder.embed_positions.weight", "dec.pos");
    check_tensor_eq(&wf, &st, "model.decoder.layers.0.encoder_attn.v_proj.weight", "dec.0.xattn.v.weight");
    check_tensor_eq(&wf, &st, "model.decoder.layers.0.encoder_attn_layer_norm.bias", "dec.0.xattn_ln.bias");
    check_tensor_eq(&wf, &st, "model.decoder.layers.0.self_attn_layer_norm.weight", "dec.0.attn_ln.weight");
    check_tensor_eq(&wf, &st, "model.decoder.layer_norm.weight", "dec.ln.weight");
    uzw_st_set_close(&st);
    cr_assert_null(uzw_wfile_tensor(&wf, "enc.0.attn.k.bias"));
    uzw_wfile_close(&wf);
    unlink(out);
}

Test(import_hf, convert_fixture_f16_keeps_vectors_f32) {
    need_fixture();
    char err[1024] = "";
    uzw_import im;
    uzw_import_init(&im);
    cr_assert_eq(uzw_import_hf(fixture_dir(), &im, err, sizeof err), 0, "%s", err);
    const char *out = tmp_out("f16.uzw");
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F16, err, sizeof err), 0, "%s", err);
    uzw_import_free(&im);
    uzw_wfile wf;
    cr_assert_eq(uzw_wfile_open(out, &wf, err, sizeof err), 0, "%s", err);
    cr_assert_eq(uzw_wfile_tensor(&wf, "enc.0.attn.q.weight")->dtype, UZW_DT_F16);
    cr_assert_eq(uzw_wfile_tensor(&wf, "dec.tok_emb")->dtype, UZW_DT_F16);
    cr_assert_eq(uzw_wfile_tensor(&wf, "enc.0.attn.q.bias")->dtype, UZW_DT_F32);
    cr_assert_eq(uzw_wfile_tensor(&wf, "enc.pos")->dtype, UZW_DT_F32);
    cr_assert_eq(uzw_wfile_tensor(&wf, "dec.pos")->dtype, UZW_DT_F32);
    const char *s;
    uint32_t len;
    cr_assert_eq(uzw_meta_get_str(&wf, UZW_K_DTYPE, &s, &len, err, sizeof err), 0, "%s", err);
    cr_assert(len == 3 && memcmp(s, "f16", 3) == 0);
    uzw_wfile_close(&wf);
    unlink(out);
}

Test(import_hf, write_errors_name_the_tensor) {
    need_fixture();
    char err[1024] = "";
    uzw_import im;
    uzw_import_init(&im);
    cr_assert_eq(uzw_import_hf(fixture_dir(), &im, err, sizeof err), 0, "%s", err);
    const char *out = tmp_out("bad.uzw");
    /* a wrong shape */
    uzw_import_tensor *t = uzw_import_find(&im, "dec.0.fc1.weight");
    cr_assert_not_null(t);
    int64_t d0 = t->dims[0];
    t->dims[0] = d0 / 2;
    t->dims[1] *= 2;
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F32, err, sizeof err), -1);
    cr_assert(strstr(err, "dec.0.fc1.weight: expected shape [") != NULL, "%s", err);
    t->dims[0] = d0;
    t->dims[1] /= 2;
    /* a name outside the schema, then the same tensor given twice */
    uzw_import_tensor *b = uzw_import_find(&im, "enc.ln_post.bias");
    snprintf(b->name, sizeof b->name, "enc.ln_post.biasZ");
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F32, err, sizeof err), -1);
    cr_assert(strstr(err, "'enc.ln_post.biasZ' is not a canonical") != NULL, "%s", err);
    snprintf(b->name, sizeof b->name, "enc.ln_post.bias");
    int64_t dd[1] = {b->dims[0]};
    cr_assert_eq(uzw_import_add(&im, "enc.ln_post.bias", 1, dd, calloc((size_t)dd[0], sizeof(float)), err, sizeof err), -1);
    cr_assert(strstr(err, "twice") != NULL, "%s", err);
    /* a missing tensor: drop dec.0.attn.v.bias */
    uzw_import_tensor *v = uzw_import_find(&im, "dec.0.attn.v.bias");
    cr_assert_not_null(v);
    free(v->data);
    *v = im.t[--im.n_t];
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F32, err, sizeof err), -1);
    cr_assert(strstr(err, "missing tensor dec.0.attn.v.bias [") != NULL, "%s", err);
    /* an int8 output is not the converter's job */
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_I8, err, sizeof err), -1);
    cr_assert(strstr(err, "not supported") != NULL, "%s", err);
    uzw_import_free(&im);
    cr_assert(access(out, F_OK) != 0, "no output may be left behind");
}
