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
    uzw_special_ids sp;
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

/* ---------------------------------------------------------------- variants of the fixture */
typedef struct {
    char name[128];
    int nd;
    int64_t shape[UZW_MAX_DIMS];
    float *v; /* owned */
    uint64_t n;
} var_tensor;

typedef struct {
    var_tensor t[512];
    int n;
} var_set;

static void var_load(var_set *vs) {
    char err[512];
    uzw_st_set s;
    cr_assert_eq(uzw_st_set_open_dir(fixture_dir(), &s, err, sizeof err), 0, "%s", err);
    vs->n = 0;
    for (int f = 0; f < s.n_files; f++)
        for (int i = 0; i < s.files[f].h.n; i++) {
            const uzw_st_entry *e = &s.files[f].h.e[i];
            cr_assert_lt(vs->n, 512);
            var_tensor *t = &vs->t[vs->n++];
            snprintf(t->name, sizeof t->name, "%s", e->name);
            t->nd = e->n_dims;
            for (int k = 0; k < e->n_dims; k++) t->shape[k] = e->shape[k];
            t->n = e->numel;
            cr_assert_eq(uzw_st_read_f32(&s.files[f], e, &t->v, err, sizeof err), 0, "%s", err);
        }
    uzw_st_set_close(&s);
}

static void var_free(var_set *vs) {
    for (int i = 0; i < vs->n; i++) free(vs->t[i].v);
    vs->n = 0;
}

static var_tensor *var_find(var_set *vs, const char *name) {
    for (int i = 0; i < vs->n; i++)
        if (strcmp(vs->t[i].name, name) == 0) return &vs->t[i];
    return NULL;
}

static void var_add(var_set *vs, const char *name, const var_tensor *like, float fill) {
    var_tensor *t = &vs->t[vs->n++];
    *t = *like;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->v = malloc(t->n * sizeof(float));
    cr_assert_not_null(t->v);
    for (uint64_t i = 0; i < t->n; i++) t->v[i] = fill;
}

/* Tensors [from, to) of vs as an F32 safetensors file. */
static void var_write_st(const char *path, const var_set *vs, int from, int to) {
    json_t *h = json_object();
    uint64_t off = 0;
    for (int i = from; i < to; i++) {
        json_t *shape = json_array();
        for (int k = 0; k < vs->t[i].nd; k++) json_array_append_new(shape, json_integer(vs->t[i].shape[k]));
        uint64_t bytes = vs->t[i].n * 4;
        json_object_set_new(h, vs->t[i].name, json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", shape,
                                                         "data_offsets", (json_int_t)off, (json_int_t)(off + bytes)));
        off += bytes;
    }
    char *js = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    size_t jl = strlen(js), padded = (jl + 7) / 8 * 8;
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(js, 1, jl, f);
    for (size_t i = jl; i < padded; i++) fputc(' ', f);
    for (int i = from; i < to; i++) fwrite(vs->t[i].v, 4, vs->t[i].n, f);
    cr_assert_eq(fclose(f), 0);
    free(js);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name) {
    char a[1100], b[1100];
    snprintf(a, sizeof a, "%s/%s", from_dir, name);
    snprintf(b, sizeof b, "%s/%s", to_dir, name);
    size_t n;
    uint8_t *buf = tu_read_file(a, &n);
    if (!buf) return; /* optional file */
    cr_assert_eq(tu_write_file(b, buf, n), 0);
    free(buf);
}

/* A new folder holding the fixture's JSON and tokenizer files and vs as model.safetensors (or as
 * two shards with an index when sharded). */
static const char *var_dir(const var_set *vs, int sharded) {
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/uzw_hfvar_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    const char *files[] = {"config.json", "generation_config.json", "vocab.json", "merges.txt", "added_tokens.json",
                           "tokenizer.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) copy_file(fixture_dir(), dir, files[i]);
    char p[128];
    if (!sharded) {
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        var_write_st(p, vs, 0, vs->n);
        return dir;
    }
    int half = vs->n / 2;
    const char *shard[2] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    json_t *wm = json_object();
    for (int s = 0; s < 2; s++) {
        snprintf(p, sizeof p, "%s/%s", dir, shard[s]);
        var_write_st(p, vs, s ? half : 0, s ? vs->n : half);
        for (int i = s ? half : 0; i < (s ? vs->n : half); i++)
            json_object_set_new(wm, vs->t[i].name, json_string(shard[s]));
    }
    json_t *idx = json_pack("{s:{s:i}, s:o}", "metadata", "total_size", 0, "weight_map", wm);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    cr_assert_eq(json_dump_file(idx, p, 0), 0);
    json_decref(idx);
    return dir;
}

static void rm_dir(const char *dir) {
    const char *files[] = {"config.json", "generation_config.json", "vocab.json", "merges.txt", "added_tokens.json",
                           "tokenizer.json", "model.safetensors", "model-00001-of-00002.safetensors",
                           "model-00002-of-00002.safetensors", "model.safetensors.index.json"};
    char p[1100];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Import dir; 0, or -1 with the message in err. */
static int import_dir(const char *dir, uzw_import *im, char *err, size_t n) {
    uzw_import_init(im);
    return uzw_import_hf(dir, im, err, n);
}

Test(import_hf, tied_proj_out_and_key_bias) {
    need_fixture();
    char err[1024] = "";
    var_set *vs = calloc(1, sizeof *vs);
    var_load(vs);
    var_tensor *emb = var_find(vs, "model.decoder.embed_tokens.weight");
    var_tensor *bias = var_find(vs, "model.encoder.layers.0.self_attn.q_proj.bias");
    cr_assert(emb && bias);
    var_add(vs, "proj_out.weight", emb, 0.0f);
    memcpy(vs->t[vs->n - 1].v, emb->v, emb->n * sizeof(float));
    var_add(vs, "model.encoder.layers.0.self_attn.k_proj.bias", bias, 0.0f);
    var_add(vs, "model.decoder.layers.0.encoder_attn.k_proj.bias", bias, 0.0f);
    var_add(vs, "some.unknown.tensor", bias, 1.0f);
    uzw_import im;
    const char *dir = var_dir(vs, 0);
    cr_assert_eq(import_dir(dir, &im, err, sizeof err), 0, "%s", err);
    cr_assert_null(uzw_import_find(&im, "enc.0.attn.k.bias"));
    cr_assert_not_null(uzw_import_find(&im, "dec.tok_emb"));
    uzw_import_free(&im);
    rm_dir(dir);
    /* an untied projection */
    var_find(vs, "proj_out.weight")->v[5] += 1.0f;
    dir = var_dir(vs, 0);
    cr_assert_eq(import_dir(dir, &im, err, sizeof err), -1);
    cr_assert(strstr(err, "untied output projection unsupported") != NULL, "%s", err);
    uzw_import_free(&im);
    rm_dir(dir);
    var_find(vs, "proj_out.weight")->v[5] = emb->v[5];
    /* a key bias that is not zero */
    var_find(vs, "model.decoder.layers.0.encoder_attn.k_proj.bias")->v[3] = 0.25f;
    dir = var_dir(vs, 0);
    cr_assert_eq(import_dir(dir, &im, err, sizeof err), -1);
    cr_assert(strstr(err, "encoder_attn.k_proj.bias' is non-zero (element 3") != NULL, "%s", err);
    uzw_import_free(&im);
    rm_dir(dir);
    var_free(vs);
    free(vs);
}

Test(import_hf, sharded_checkpoint_matches_single_file) {
    need_fixture();
    char err[1024] = "";
    var_set *vs = calloc(1, sizeof *vs);
    var_load(vs);
    uzw_import a, b;
    const char *dir = var_dir(vs, 1);
    cr_assert_eq(import_dir(dir, &b, err, sizeof err), 0, "%s", err);
    rm_dir(dir);
    cr_assert(strstr(b.source_files, "model-00001-of-00002.safetensors,model-00002-of-00002.safetensors") != NULL,
              "%s", b.source_files);
    cr_assert_eq(import_dir(fixture_dir(), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.n_t, b.n_t);
    for (int i = 0; i < a.n_t; i++) {
        uzw_import_tensor *tb = uzw_import_find(&b, a.t[i].name);
        cr_assert_not_null(tb, "%s", a.t[i].name);
        uint64_t n = 1;
        for (int k = 0; k < a.t[i].n_dims; k++) n *= (uint64_t)a.t[i].dims[k];
        cr_assert_eq(memcmp(a.t[i].data, tb->data, n * sizeof(float)), 0, "%s", a.t[i].name);
    }
    uzw_import_free(&a);
    uzw_import_free(&b);
    var_free(vs);
    free(vs);
}

Test(import_hf, generation_config_and_config_errors) {
    need_fixture();
    char err[1024] = "";
    var_set *vs = calloc(1, sizeof *vs);
    var_load(vs);
    const char *dir = var_dir(vs, 0);
    char p[1100];
    snprintf(p, sizeof p, "%s/generation_config.json", dir);
    const char *gen = "{\"suppress_tokens\": [1, 2, 50258], \"begin_suppress_tokens\": [220, 50257],"
                      " \"alignment_heads\": [[1, 0], [0, 1]]}";
    cr_assert_eq(tu_write_file(p, gen, strlen(gen)), 0);
    uzw_import im;
    cr_assert_eq(import_dir(dir, &im, err, sizeof err), 0, "%s", err);
    const char *out = tmp_out("gen.uzw");
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F32, err, sizeof err), 0, "%s", err);
    uzw_import_free(&im);
    uzw_wfile wf;
    cr_assert_eq(uzw_wfile_open(out, &wf, err, sizeof err), 0, "%s", err);
    const uzw_meta *m = uzw_wfile_meta(&wf, UZW_K_SUPPRESS);
    cr_assert(m && m->count == 3 && uzw_meta_i32_at(m, 2) == 50258);
    m = uzw_wfile_meta(&wf, UZW_K_SUPPRESS_BEGIN);
    cr_assert(m && m->count == 2 && uzw_meta_i32_at(m, 1) == 50257);
    m = uzw_wfile_meta(&wf, UZW_K_ALIGN_HEADS);
    cr_assert(m && m->count == 4 && uzw_meta_i32_at(m, 0) == 1 && uzw_meta_i32_at(m, 3) == 1);
    uzw_wfile_close(&wf);
    unlink(out);
    /* an alignment head outside the model */
    const char *gen_bad = "{\"alignment_heads\": [[99, 0]]}";
    cr_assert_eq(tu_write_file(p, gen_bad, strlen(gen_bad)), 0);
    cr_assert_eq(import_dir(dir, &im, err, sizeof err), 0, "%s", err);
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F32, err, sizeof err), -1);
    cr_assert(strstr(err, "alignment head (99, 0)") != NULL, "%s", err);
    uzw_import_free(&im);
    /* config.json without d_model */
    snprintf(p, sizeof p, "%s/config.json", dir);
    json_t *cfg = json_load_file(p, 0, NULL);
    cr_assert_not_null(cfg);
    json_object_del(cfg, "d_model");
    cr_assert_eq(json_dump_file(cfg, p, 0), 0);
    json_decref(cfg);
    cr_assert_eq(import_dir(dir, &im, err, sizeof err), -1);
    cr_assert(strstr(err, "'d_model' missing") != NULL, "%s", err);
    uzw_import_free(&im);
    rm_dir(dir);
    var_free(vs);
    free(vs);
}
