/*
 * test_import_ct2_ggml.c - the CTranslate2 and whisper.cpp ggml importers:
 *   (a) the real vocab-only ggml files parse (header, filters, 50257 tokens) and fail cleanly for
 *       lack of tensors;
 *   (b) small synthetic models built here in memory import with the right values (fused QKV / KV
 *       split, int8 dequantisation, conv-bias squeeze), and every truncation or corruption of them
 *       fails with a message;
 *   (c) the tiny-random fixture in its three formats (hf, ct2, ggml) converts to identical .uzw files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_formats.h"
#include "import_internal.h"
#include "schema.h"
#include "testutil.h"
#include "wformat.h"

/* ---------------------------------------------------------------- a growable byte buffer */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void b_put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void b_u8(buf *b, uint8_t v) { b_put(b, &v, 1); }
static void b_u16(buf *b, uint16_t v) { b_put(b, &v, 2); } /* the test hosts are little-endian */
static void b_u32(buf *b, uint32_t v) { b_put(b, &v, 4); }
static void b_i32(buf *b, int32_t v) { b_put(b, &v, 4); }
static void b_f32(buf *b, float v) { b_put(b, &v, 4); }

/* deterministic test values, exact in f16 */
static float val(int k, int64_t j) { return (float)((k * 131 + j) % 97 - 48) / 64.0f; }

enum { D = 4, F = 16, M = 80, A = 6, T = 5, V = 51865, NL = 1 };

static const uzw_dims tiny = {.n_mels = M, .n_audio_ctx = A, .n_audio_state = D, .n_audio_head = 2,
                              .n_audio_layer = NL, .n_text_ctx = T, .n_text_state = D, .n_text_head = 2,
                              .n_text_layer = NL, .n_vocab = V};

/* ---------------------------------------------------------------- synthetic ggml */
typedef struct {
    int f16, ttype_override, drop_last, extra_unknown;
} ggml_opts;

static int ggml_tensor(buf *b, const char *name, int n, const int64_t *dims, int k, const ggml_opts *o) {
    int f16 = o->f16 && n >= 2;
    int32_t ttype = o->ttype_override >= 0 ? o->ttype_override : f16;
    b_i32(b, n);
    b_i32(b, (int32_t)strlen(name));
    b_i32(b, ttype);
    int64_t count = 1;
    for (int i = 0; i < n; i++) b_i32(b, (int32_t)dims[n - 1 - i]), count *= dims[i];
    b_put(b, name, strlen(name));
    for (int64_t j = 0; j < count; j++) {
        if (f16) {
            uint16_t h = uzw_f32_to_f16(val(k, j));
            b_put(b, &h, 2);
        } else {
            b_f32(b, val(k, j));
        }
    }
    return k + 1;
}

static void build_ggml(buf *b, const ggml_opts *o, int n_tokens) {
    b_u32(b, 0x67676d6c);
    const int32_t hp[11] = {V, A, D, 2, NL, T, D, 2, NL, M, o->f16};
    for (int i = 0; i < 11; i++) b_i32(b, hp[i]);
    b_i32(b, M);
    b_i32(b, 201);
    for (int i = 0; i < M * 201; i++) b_f32(b, 0.0f);
    b_i32(b, n_tokens);
    for (int i = 0; i < n_tokens; i++) {
        char t[16];
        int len = snprintf(t, sizeof t, "t%d", i);
        b_i32(b, len);
        b_put(b, t, (size_t)len);
    }
    int k = 0;
    const int64_t d1[1] = {D}, db[2] = {D, 1}, f1[1] = {F}, dd[2] = {D, D}, fd[2] = {F, D}, df[2] = {D, F},
                  c1[3] = {D, M, 3}, c2[3] = {D, D, 3}, ad[2] = {A, D}, td[2] = {T, D}, vd[2] = {V, D};
    k = ggml_tensor(b, "encoder.conv1.weight", 3, c1, k, o);
    k = ggml_tensor(b, "encoder.conv1.bias", 2, db, k, o);
    k = ggml_tensor(b, "encoder.conv2.weight", 3, c2, k, o);
    k = ggml_tensor(b, "encoder.conv2.bias", 2, db, k, o);
    k = ggml_tensor(b, "encoder.positional_embedding", 2, ad, k, o);
    static const char *const blk[] = {"attn_ln.weight", "attn_ln.bias", "attn.query.weight", "attn.query.bias",
                                      "attn.key.weight", "attn.value.weight", "attn.value.bias", "attn.out.weight",
                                      "attn.out.bias", "mlp_ln.weight", "mlp_ln.bias", "mlp.0.weight", "mlp.0.bias",
                                      "mlp.2.weight", "mlp.2.bias", "cross_attn_ln.weight", "cross_attn_ln.bias",
                                      "cross_attn.query.weight", "cross_attn.query.bias", "cross_attn.key.weight",
                                      "cross_attn.value.weight", "cross_attn.value.bias", "cross_attn.out.weight",
                                      "cross_attn.out.bias"};
    for (int dec = 0; dec < 2; dec++) {
        for (int i = 0; i < (dec ? 24 : 15); i++) {
            char name[96];
            snprintf(name, sizeof name, "%s.blocks.0.%s", dec ? "decoder" : "encoder", blk[i]);
            const char *s = blk[i];
            int w = strstr(s, ".weight") && !strstr(s, "_ln");
            const int64_t *sh = !w ? (strstr(s, "mlp.0") ? f1 : d1)
                                   : strstr(s, "mlp.0") ? fd : strstr(s, "mlp.2") ? df : dd;
            k = ggml_tensor(b, name, w ? 2 : 1, sh, k, o);
        }
        if (!dec) {
            k = ggml_tensor(b, "encoder.ln_post.weight", 1, d1, k, o);
            k = ggml_tensor(b, "encoder.ln_post.bias", 1, d1, k, o);
        }
    }
    k = ggml_tensor(b, "decoder.token_embedding.weight", 2, vd, k, o);
    k = ggml_tensor(b, "decoder.positional_embedding", 2, td, k, o);
    k = ggml_tensor(b, "decoder.ln.weight", 1, d1, k, o);
    size_t before_last = b->n;
    k = ggml_tensor(b, "decoder.ln.bias", 1, d1, k, o);
    if (o->drop_last) b->n = before_last;
    if (o->extra_unknown) ggml_tensor(b, "decoder.mystery", 1, d1, k, o);
}

/* ---------------------------------------------------------------- synthetic CTranslate2 model.bin */
typedef struct {
    uint32_t version;
    const char *spec;
    int k_bias_nonzero, int8_fc1, no_num_heads;
} ct2_opts;

static void ct2_str(buf *b, const char *s) {
    b_u16(b, (uint16_t)(strlen(s) + 1));
    b_put(b, s, strlen(s) + 1);
}

/* a float32 (or int8 with a per-row scale) variable filled with val(k, .); zero_from..zero_to zeroed */
static int ct2_var(buf *b, uint32_t *nv, const char *name, int n, const int64_t *dims, int k, int64_t zero_from,
                   int64_t zero_to, int int8) {
    int64_t count = 1;
    ct2_str(b, name);
    b_u8(b, (uint8_t)n);
    for (int i = 0; i < n; i++) b_u32(b, (uint32_t)dims[i]), count *= dims[i];
    b_u8(b, int8 ? 1 : 0);
    b_u32(b, (uint32_t)(count * (int8 ? 1 : 4)));
    for (int64_t j = 0; j < count; j++) {
        if (int8) b_u8(b, (uint8_t)(int8_t)((j % 7) - 3));
        else b_f32(b, j >= zero_from && j < zero_to ? 0.0f : val(k, j));
    }
    (*nv)++;
    if (int8) { /* scale 2 + row: w = q / scale */
        char sn[128];
        snprintf(sn, sizeof sn, "%s_scale", name);
        ct2_str(b, sn);
        b_u8(b, 1);
        b_u32(b, (uint32_t)dims[0]);
        b_u8(b, 0);
        b_u32(b, (uint32_t)(dims[0] * 4));
        for (int64_t r = 0; r < dims[0]; r++) b_f32(b, 2.0f + (float)r);
        (*nv)++;
    }
    return k + 1;
}

static void ct2_heads(buf *b, uint32_t *nv, const char *name) {
    ct2_str(b, name);
    b_u8(b, 0);
    b_u8(b, 2); /* int16 */
    b_u32(b, 2);
    b_u16(b, 2);
    (*nv)++;
}

static void build_ct2(buf *b, const ct2_opts *o) {
    b_u32(b, o->version ? o->version : 6);
    ct2_str(b, o->spec ? o->spec : "WhisperSpec");
    b_u32(b, 3);
    size_t count_at = b->n;
    b_u32(b, 0); /* patched below */
    uint32_t nv = 0;
    int k = 100;
    const int64_t d1[1] = {D}, f1[1] = {F}, d3[1] = {3 * D}, d2[1] = {2 * D}, dd[2] = {D, D}, fd[2] = {F, D},
                  df[2] = {D, F}, qkv[2] = {3 * D, D}, kv[2] = {2 * D, D}, c1[3] = {D, M, 3}, c2[3] = {D, D, 3},
                  ad[2] = {A, D}, td[2] = {T, D}, vd[2] = {V, D};
    k = ct2_var(b, &nv, "decoder/embeddings/weight", 2, vd, k, 0, 0, 0);
    k = ct2_var(b, &nv, "decoder/position_encodings/encodings", 2, td, k, 0, 0, 0);
    k = ct2_var(b, &nv, "encoder/conv1/weight", 3, c1, k, 0, 0, 0);
    k = ct2_var(b, &nv, "encoder/conv1/bias", 1, d1, k, 0, 0, 0);
    k = ct2_var(b, &nv, "encoder/conv2/weight", 3, c2, k, 0, 0, 0);
    k = ct2_var(b, &nv, "encoder/conv2/bias", 1, d1, k, 0, 0, 0);
    k = ct2_var(b, &nv, "encoder/position_encodings/encodings", 2, ad, k, 0, 0, 0);
    if (!o->no_num_heads) ct2_heads(b, &nv, "encoder/num_heads");
    ct2_heads(b, &nv, "decoder/num_heads");
    for (int dec = 0; dec < 2; dec++) {
        const char *side = dec ? "decoder" : "encoder";
        char n[128];
#define V1(suffix, shape, zf, zt, q8) \
    (snprintf(n, sizeof n, "%s/layer_0/%s", side, suffix),                     \
     k = ct2_var(b, &nv, n, (int)(sizeof shape / 8), shape, k, zf, zt, q8))
        V1("self_attention/layer_norm/gamma", d1, 0, 0, 0);
        V1("self_attention/layer_norm/beta", d1, 0, 0, 0);
        V1("self_attention/linear_0/weight", qkv, 0, 0, 0);
        V1("self_attention/linear_0/bias", d3, D, o->k_bias_nonzero ? D : 2 * D, 0);
        V1("self_attention/linear_1/weight", dd, 0, 0, 0);
        V1("self_attention/linear_1/bias", d1, 0, 0, 0);
        V1("ffn/layer_norm/gamma", d1, 0, 0, 0);
        V1("ffn/layer_norm/beta", d1, 0, 0, 0);
        V1("ffn/linear_0/weight", fd, 0, 0, o->int8_fc1);
        V1("ffn/linear_0/bias", f1, 0, 0, 0);
        V1("ffn/linear_1/weight", df, 0, 0, 0);
        V1("ffn/linear_1/bias", d1, 0, 0, 0);
        if (dec) {
            V1("attention/layer_norm/gamma", d1, 0, 0, 0);
            V1("attention/layer_norm/beta", d1, 0, 0, 0);
            V1("attention/linear_0/weight", dd, 0, 0, 0);
            V1("attention/linear_0/bias", d1, 0, 0, 0);
            V1("attention/linear_1/weight", kv, 0, 0, 0);
            V1("attention/linear_1/bias", d2, 0, D, 0);
            V1("attention/linear_2/weight", dd, 0, 0, 0);
            V1("attention/linear_2/bias", d1, 0, 0, 0);
        }
#undef V1
        snprintf(n, sizeof n, "%s/layer_norm/gamma", side);
        k = ct2_var(b, &nv, n, 1, d1, k, 0, 0, 0);
        snprintf(n, sizeof n, "%s/layer_norm/beta", side);
        k = ct2_var(b, &nv, n, 1, d1, k, 0, 0, 0);
    }
    memcpy(b->p + count_at, &nv, 4);
    b_u32(b, 1);
    ct2_str(b, "decoder/projection/weight");
    ct2_str(b, "decoder/embeddings/weight");
}

/* ---------------------------------------------------------------- helpers */
static const float *tdata(uzw_import *im, const char *name, int n_dims, int64_t d0) {
    uzw_import_tensor *t = uzw_import_find(im, name);
    cr_assert_not_null(t, "tensor %s missing", name);
    cr_assert_eq(t->n_dims, n_dims, "%s has %d dims", name, t->n_dims);
    cr_assert_eq(t->dims[0], d0, "%s dims[0] = %lld", name, (long long)t->dims[0]);
    return t->data;
}

static int ggml_try(const buf *b, char *err, size_t n) {
    uzw_import im;
    uzw_import_init(&im);
    err[0] = '\0';
    int rc = uzw_import_ggml_mem(b->p, b->n, &im, err, n);
    uzw_import_free(&im);
    return rc;
}

static int ct2_try(const uint8_t *p, size_t n, char *err, size_t err_size) {
    uzw_import im;
    uzw_import_init(&im);
    err[0] = '\0';
    int rc = uzw_ct2_parse_model(p, n, &im, err, err_size);
    uzw_import_free(&im);
    return rc;
}

/* Every prefix shorter than the whole must fail with a message: all cuts in the first `dense` bytes,
 * then `sparse` evenly spaced ones. */
static void check_truncations(const buf *b, int is_ct2, size_t dense, int sparse) {
    char err[512];
    for (size_t cut = 0; cut < b->n; cut += cut < dense ? 1 : b->n / (size_t)sparse + 1) {
        int rc = is_ct2 ? ct2_try(b->p, cut, err, sizeof err) : ggml_try(&(buf){b->p, cut, 0}, err, sizeof err);
        cr_assert_eq(rc, -1, "%s truncated to %zu of %zu bytes was accepted", is_ct2 ? "ct2" : "ggml", cut, b->n);
        cr_assert(err[0] != '\0', "no message for a cut at %zu", cut);
    }
}

#define PATCH_I32(b, off, v) \
    do {                     \
        int32_t v_ = (v);    \
        memcpy((b)->p + (off), &v_, 4); \
    } while (0)

/* ================================================================ (a) real vocab-only ggml files */

Test(ggml, vocab_only_files_parse_then_fail_cleanly) {
    static const struct {
        const char *file;
        int32_t state, layers;
    } files[] = {{"data/ggml-vocab/for-tests-ggml-tiny.bin", 384, 4},
                 {"data/ggml-vocab/for-tests-ggml-base.bin", 512, 6}};
    for (int f = 0; f < 2; f++) {
        const char *path = tu_shared(files[f].file);
        size_t size;
        uint8_t *data = tu_read_file(path, &size);
        cr_assert_not_null(data, "cannot read %s", path);
        uzw_import im;
        uzw_import_init(&im);
        uzw_ggml_header h;
        char err[512] = "";
        cr_assert_eq(uzw_ggml_parse_header(data, size, &h, &im, err, sizeof err), 0, "%s: %s", path, err);
        cr_expect_eq(h.hparams[0], 51865, "n_vocab %d", h.hparams[0]);
        cr_expect_eq(h.hparams[2], files[f].state);
        cr_expect_eq(h.hparams[4], files[f].layers);
        cr_expect_eq(h.hparams[9], 80);
        cr_expect_eq(h.filt_n_mel, 80);
        cr_expect_eq(h.filt_n_bins, 201);
        cr_expect_eq(h.n_tokens, 50257);
        cr_expect_eq(im.n_tokens, 50257);
        cr_expect_eq(h.tensors_off, size, "vocab-only file: tensors start at the end");
        cr_expect(im.tok_len[0] == 1 && im.tok[0][0] == '!');
        cr_expect_eq(im.tok_len[50256], 0, "id 50256 is the empty token");
        uzw_import_free(&im);
        free(data);

        uzw_import_init(&im);
        err[0] = '\0';
        cr_expect_eq(uzw_import_ggml(path, &im, err, sizeof err), -1);
        cr_expect(strstr(err, "no weight tensors") != NULL, "message: %s", err);
        uzw_import_free(&im);
    }
}

/* ================================================================ (b) synthetic ggml */

static void check_ggml_ok(int f16) {
    buf b = {0};
    ggml_opts o = {.f16 = f16, .ttype_override = -1};
    build_ggml(&b, &o, 3);
    uzw_import im;
    uzw_import_init(&im);
    char err[512] = "";
    cr_assert_eq(uzw_import_ggml_mem(b.p, b.n, &im, err, sizeof err), 0, "%s", err);
    cr_expect_eq(im.n_tokens, 3);
    cr_expect_eq(im.have_dims, 1);
    cr_expect_eq(memcmp(&im.dims, &tiny, sizeof tiny), 0, "dims from the hparams");
    cr_expect_eq(im.n_t, uzw_schema_count(&tiny));
    cr_expect_str_eq(im.source_format, "ggml");
    const float *c1 = tdata(&im, "enc.conv1.weight", 3, D);
    for (int j = 0; j < D * M * 3; j++) cr_assert_eq(c1[j], val(0, j));
    const float *cb = tdata(&im, "enc.conv1.bias", 1, D); /* [D,1] squeezed */
    for (int j = 0; j < D; j++) cr_assert_eq(cb[j], val(1, j));
    const float *q = tdata(&im, "enc.0.attn.q.weight", 2, D); /* record 7 */
    for (int j = 0; j < D * D; j++) cr_assert_eq(q[j], val(7, j));
    tdata(&im, "dec.0.xattn.k.weight", 2, D);
    tdata(&im, "dec.0.fc1.weight", 2, F);
    tdata(&im, "dec.tok_emb", 2, V);
    uzw_import_free(&im);
    free(b.p);
}

Test(ggml, synthetic_f32) { check_ggml_ok(0); }
Test(ggml, synthetic_f16) { check_ggml_ok(1); }

static void expect_ggml_error(buf *b, const char *needle) {
    char err[512];
    cr_expect_eq(ggml_try(b, err, sizeof err), -1, "accepted; expected an error containing '%s'", needle);
    cr_expect(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
}

Test(ggml, corrupt_inputs_fail_with_messages) {
    buf b = {0};
    ggml_opts o = {.ttype_override = -1};
    build_ggml(&b, &o, 3);
    uzw_ggml_header h;
    char err[512];
    cr_assert_eq(uzw_ggml_parse_header(b.p, b.n, &h, NULL, err, sizeof err), 0, "%s", err);
    size_t t0 = h.tensors_off;
    uint8_t *orig = malloc(b.n);
    cr_assert_not_null(orig);
    memcpy(orig, b.p, b.n);
#define RESET() memcpy(b.p, orig, b.n)
    b.p[0] ^= 0xff;
    expect_ggml_error(&b, "magic");
    RESET();
    PATCH_I32(&b, 4 + 4 * 10, 2); /* ftype Q4_0 */
    expect_ggml_error(&b, "quantized");
    RESET();
    PATCH_I32(&b, 4 + 4 * 2, 5); /* n_audio_state 5 not divisible by 2 heads */
    expect_ggml_error(&b, "hyperparameters");
    RESET();
    PATCH_I32(&b, 48, 100000); /* mel filter rows */
    expect_ggml_error(&b, "mel filter");
    RESET();
    PATCH_I32(&b, 56 + M * 201 * 4, -5); /* vocabulary count */
    expect_ggml_error(&b, "vocabulary size");
    RESET();
    PATCH_I32(&b, 56 + M * 201 * 4 + 4, 1 << 30); /* first token length */
    expect_ggml_error(&b, "token 0");
    RESET();
    PATCH_I32(&b, t0, 1000); /* n_dims */
    expect_ggml_error(&b, "dimensions");
    RESET();
    PATCH_I32(&b, t0 + 4, 1 << 30); /* name_len */
    expect_ggml_error(&b, "name of");
    RESET();
    PATCH_I32(&b, t0 + 8, 99); /* ttype */
    expect_ggml_error(&b, "unknown ggml type 99");
    RESET();
    PATCH_I32(&b, t0 + 8, 2);
    expect_ggml_error(&b, "Q4_0");
    RESET();
    PATCH_I32(&b, t0 + 12, -3); /* ne[0] */
    expect_ggml_error(&b, "dimension 0");
    RESET();
    PATCH_I32(&b, t0 + 12, 0x7fffffff);
    expect_ggml_error(&b, "bytes");
    RESET();
    b.p[t0 + 12 + 12 + 3] = '\0'; /* NUL inside "encoder.conv1.weight" */
    expect_ggml_error(&b, "NUL");
    RESET();
    memcpy(b.p + t0 + 24, "xncoder", 7);
    expect_ggml_error(&b, "unknown tensor");
    RESET();
#undef RESET
    free(orig);
    check_truncations(&b, 0, t0 + 200, 300);
    free(b.p);

    buf m = {0};
    ggml_opts drop = {.drop_last = 1, .ttype_override = -1};
    build_ggml(&m, &drop, 3);
    expect_ggml_error(&m, "missing weight tensor dec.ln.bias");
    free(m.p);
    buf x = {0};
    ggml_opts extra = {.extra_unknown = 1, .ttype_override = -1};
    build_ggml(&x, &extra, 3);
    expect_ggml_error(&x, "decoder.mystery");
    free(x.p);
    buf z = {0};
    b_u32(&z, 0x67676d6c);
    expect_ggml_error(&z, "hyperparameters");
    free(z.p);
}

/* ================================================================ (b) synthetic CTranslate2 */

static void expect_ct2_error(const buf *b, const char *needle) {
    char err[512];
    cr_expect_eq(ct2_try(b->p, b->n, err, sizeof err), -1, "accepted; expected an error containing '%s'", needle);
    cr_expect(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
}

Test(ct2, synthetic_model_maps_and_splits) {
    buf b = {0};
    ct2_opts o = {.int8_fc1 = 1};
    build_ct2(&b, &o);
    uzw_import im;
    uzw_import_init(&im);
    char err[512] = "";
    cr_assert_eq(uzw_ct2_parse_model(b.p, b.n, &im, err, sizeof err), 0, "%s", err);
    cr_expect_eq(memcmp(&im.dims, &tiny, sizeof tiny), 0, "dims from shapes and num_heads");
    cr_expect_eq(im.n_t, uzw_schema_count(&tiny));
    cr_expect_str_eq(im.source_format, "ct2");
    /* var k numbering in build_ct2: 100 emb, 101 dpos, 102 conv1.w, ..., 106 epos, 107.. encoder layer 0 */
    const float *c1 = tdata(&im, "enc.conv1.weight", 3, D);
    for (int j = 0; j < D * M * 3; j++) cr_assert_eq(c1[j], val(102, j));
    /* encoder self-attention: gamma 107, beta 108, fused weight 109, fused bias 110 */
    const float *q = tdata(&im, "enc.0.attn.q.weight", 2, D), *kw = tdata(&im, "enc.0.attn.k.weight", 2, D),
                *v = tdata(&im, "enc.0.attn.v.weight", 2, D);
    const float *qb = tdata(&im, "enc.0.attn.q.bias", 1, D), *vb = tdata(&im, "enc.0.attn.v.bias", 1, D);
    for (int j = 0; j < D * D; j++) {
        cr_assert_eq(q[j], val(109, j));
        cr_assert_eq(kw[j], val(109, D * D + j));
        cr_assert_eq(v[j], val(109, 2 * D * D + j));
    }
    for (int j = 0; j < D; j++) {
        cr_assert_eq(qb[j], val(110, j));
        cr_assert_eq(vb[j], val(110, 2 * D + j));
    }
    cr_expect_null(uzw_import_find(&im, "enc.0.attn.k.bias"));
    cr_expect_eq(tdata(&im, "enc.0.attn_ln.weight", 1, D)[1], val(107, 1));
    /* fc1 is int8 q = (j%7)-3 with scale 2+row: w = q / scale */
    const float *fc1 = tdata(&im, "enc.0.fc1.weight", 2, F);
    for (int j = 0; j < F * D; j++) cr_assert_float_eq(fc1[j], (float)((j % 7) - 3) / (2.0f + (float)(j / D)), 1e-7f);
    /* decoder cross-attention: fused KV, K bias zero, V bias kept */
    const float *xk = tdata(&im, "dec.0.xattn.k.weight", 2, D), *xv = tdata(&im, "dec.0.xattn.v.weight", 2, D);
    cr_expect_neq(xk[0], xv[0] + 100.0f);
    tdata(&im, "dec.0.xattn.v.bias", 1, D);
    cr_expect_null(uzw_import_find(&im, "dec.0.xattn.k.bias"));
    tdata(&im, "dec.tok_emb", 2, V);
    uzw_import_free(&im);
    free(b.p);
}

Test(ct2, corrupt_inputs_fail_with_messages) {
    buf b = {0};
    ct2_opts o = {0};
    build_ct2(&b, &o);
    char err[512];
    cr_assert_eq(ct2_try(b.p, b.n, err, sizeof err), 0, "%s", err);
    uint8_t *orig = malloc(b.n);
    cr_assert_not_null(orig);
    memcpy(orig, b.p, b.n);
#define RESET() memcpy(b.p, orig, b.n)
    PATCH_I32(&b, 0, 7);
    expect_ct2_error(&b, "binary version 7");
    RESET();
    PATCH_I32(&b, 0, 3);
    expect_ct2_error(&b, "binary version 3");
    RESET();
    b.p[4] = 0, b.p[5] = 0; /* spec name length 0 */
    expect_ct2_error(&b, "malformed string");
    RESET();
    b.p[4] = 0xff, b.p[5] = 0xff; /* spec name runs far past its NUL */
    expect_ct2_error(&b, "spec name");
    RESET();
    b.p[6] = 'X'; /* "XhisperSpec" */
    expect_ct2_error(&b, "not WhisperSpec");
    RESET();
    /* first variable: name string at 26 ("decoder/embeddings/weight" + NUL = 26 bytes), rank at 54 */
    b.p[54] = 200;
    expect_ct2_error(&b, "rank 200");
    RESET();
    b.p[63] = 9; /* dtype */
    expect_ct2_error(&b, "unknown dtype id 9");
    RESET();
    b.p[64] ^= 0x10; /* byte count */
    expect_ct2_error(&b, "bytes");
    RESET();
    b.p[50] = 'Q'; /* the embedding's name -> not found */
    expect_ct2_error(&b, "decoder/embeddings/weight");
    RESET();
    PATCH_I32(&b, 22, 0x7fffffff); /* variable count */
    expect_ct2_error(&b, "variables");
    RESET();
#undef RESET
    free(orig);
    check_truncations(&b, 1, 400, 300);
    b_u8(&b, 0);
    expect_ct2_error(&b, "unexpected bytes");
    free(b.p);

    buf k = {0};
    ct2_opts ko = {.k_bias_nonzero = 1};
    build_ct2(&k, &ko);
    expect_ct2_error(&k, "key bias");
    free(k.p);
    buf h = {0};
    ct2_opts ho = {.no_num_heads = 1};
    build_ct2(&h, &ho);
    expect_ct2_error(&h, "encoder/num_heads");
    free(h.p);
    buf s = {0};
    ct2_opts so = {.spec = "TransformerSpec"};
    build_ct2(&s, &so);
    expect_ct2_error(&s, "TransformerSpec");
    free(s.p);
    buf v5 = {0};
    ct2_opts o5 = {.version = 5};
    build_ct2(&v5, &o5);
    cr_expect_eq(ct2_try(v5.p, v5.n, err, sizeof err), 0, "binary version 5 has the same layout: %s", err);
    free(v5.p);
}

/* ================================================================ CT2 vocabulary and config.json */

Test(ct2, vocabulary_txt_and_json) {
    uzw_import im;
    uzw_import_init(&im);
    char err[512] = "";
    const char txt[] = "a\n\n\xc4\xa0" "b\r\n<|endoftext|>\n"; /* "a", "", "Ġb" = " b", special */
    cr_assert_eq(uzw_ct2_parse_vocab(txt, sizeof txt - 1, UZW_CT2_VOCAB_TXT, &im, err, sizeof err), 0, "%s", err);
    cr_assert_eq(im.n_tokens, 4);
    cr_expect(im.tok_len[0] == 1 && im.tok[0][0] == 'a');
    cr_expect_eq(im.tok_len[1], 0);
    cr_expect(im.tok_len[2] == 2 && memcmp(im.tok[2], " b", 2) == 0);
    cr_expect(im.tok_len[3] == 13 && memcmp(im.tok[3], "<|endoftext|>", 13) == 0);
    uzw_import_free(&im);

    uzw_import_init(&im);
    const char js[] = "[\"\\u0120hello\", \"<|startoftranscript|>\", \"\"]";
    cr_assert_eq(uzw_ct2_parse_vocab(js, sizeof js - 1, UZW_CT2_VOCAB_JSON, &im, err, sizeof err), 0, "%s", err);
    cr_assert_eq(im.n_tokens, 3);
    cr_expect(im.tok_len[0] == 6 && memcmp(im.tok[0], " hello", 6) == 0);
    cr_expect_eq(im.tok_len[2], 0);
    uzw_import_free(&im);

    static const struct {
        const char *text;
        uzw_ct2_vocab_kind kind;
        const char *needle;
    } bad[] = {
        {"{}", UZW_CT2_VOCAB_JSON, "JSON list"},
        {"[\"a\", 5]", UZW_CT2_VOCAB_JSON, "entry 1"},
        {"[\"a\", \"\\u20ac\"]", UZW_CT2_VOCAB_JSON, "byte-unicode"},
        {"[\"a\\u0000b\"]", UZW_CT2_VOCAB_JSON, "NUL"},
        {"[\"a\"", UZW_CT2_VOCAB_JSON, "not valid JSON"},
        {"", UZW_CT2_VOCAB_TXT, "empty"},
        {"ok\n\xe2\x82\xac\n", UZW_CT2_VOCAB_TXT, "token 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uzw_import_init(&im);
        err[0] = '\0';
        cr_expect_eq(uzw_ct2_parse_vocab(bad[i].text, strlen(bad[i].text), bad[i].kind, &im, err, sizeof err), -1,
                     "vocabulary %zu accepted", i);
        cr_expect(strstr(err, bad[i].needle) != NULL, "vocabulary %zu: message '%s' lacks '%s'", i, err, bad[i].needle);
        uzw_import_free(&im);
    }
}

/* An import with tiny's dims and a Whisper-shaped vocabulary: 50257 BPE tokens, EOT, SOT, 99 languages. */
static void whisper_vocab(uzw_import *im) {
    uzw_import_init(im);
    im->dims = tiny;
    im->have_dims = 1;
    for (int i = 0; i < 50257; i++) {
        char t[16];
        int n = snprintf(t, sizeof t, "t%d", i);
        cr_assert_eq(uzw_import_add_token(im, (const uint8_t *)t, (uint32_t)n), 0);
    }
    cr_assert_eq(uzw_import_add_token(im, (const uint8_t *)"<|endoftext|>", 13), 0);
    cr_assert_eq(uzw_import_add_token(im, (const uint8_t *)"<|startoftranscript|>", 21), 0);
    for (int l = 0; l < 99; l++) {
        char t[16];
        int n = snprintf(t, sizeof t, "<|%s|>", uzw_import_lang_code(l));
        cr_assert_eq(uzw_import_add_token(im, (const uint8_t *)t, (uint32_t)n), 0);
    }
}

static int config_try(const char *json, uzw_import *im, char *err, size_t n) {
    err[0] = '\0';
    return uzw_ct2_parse_config(json, strlen(json), im, err, n);
}

Test(ct2, config_json) {
    uzw_import im;
    whisper_vocab(&im);
    char err[512];
    char ok[2048];
    int pos = snprintf(ok, sizeof ok, "{\"suppress_ids\": [1, 2, 50258], \"suppress_ids_begin\": [220, 50257], "
                                      "\"alignment_heads\": [[0, 1]], \"lang_ids\": [");
    for (int i = 0; i < 99; i++) pos += snprintf(ok + pos, sizeof ok - (size_t)pos, "%s%d", i ? "," : "", 50357 - i);
    snprintf(ok + pos, sizeof ok - (size_t)pos, "]}");
    cr_assert_eq(config_try(ok, &im, err, sizeof err), 0, "%s", err);
    cr_assert_eq(im.n_suppress, 3);
    cr_expect_eq(im.suppress[2], 50258);
    cr_assert_eq(im.n_suppress_begin, 2);
    cr_expect_eq(im.suppress_begin[1], 50257);
    cr_assert_eq(im.n_align_heads, 1);
    cr_expect(im.align_heads[0] == 0 && im.align_heads[1] == 1);
    uzw_import_free(&im);

    /* [-1] means "the default"; [] means "suppress nothing"; an empty lang_ids is not checked */
    whisper_vocab(&im);
    cr_assert_eq(config_try("{\"suppress_ids\": [-1], \"suppress_ids_begin\": [], \"lang_ids\": []}", &im, err,
                            sizeof err), 0, "%s", err);
    cr_expect_null(im.suppress);
    cr_expect_not_null(im.suppress_begin);
    cr_expect_eq(im.n_suppress_begin, 0);
    uzw_import_free(&im);

    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"[1]", "JSON object"},
        {"{\"suppress_ids\": [1, 99999]}", "suppress_ids[1]"},
        {"{\"suppress_ids\": 3}", "suppress_ids"},
        {"{\"suppress_ids_begin\": [\"x\"]}", "suppress_ids_begin[0]"},
        {"{\"alignment_heads\": [[5, 0]]}", "alignment_heads[0]"},
        {"{\"alignment_heads\": [[0]]}", "alignment_heads[0]"},
        {"{\"lang_ids\": [50259]}", "lists 1 languages"},
        {"{\"lang_ids\": [", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        whisper_vocab(&im);
        cr_expect_eq(config_try(bad[i].json, &im, err, sizeof err), -1, "config %zu accepted", i);
        cr_expect(strstr(err, bad[i].needle) != NULL, "config %zu: message '%s' lacks '%s'", i, err, bad[i].needle);
        uzw_import_free(&im);
    }
    /* languages shifted by one */
    whisper_vocab(&im);
    pos = snprintf(ok, sizeof ok, "{\"lang_ids\": [");
    for (int i = 0; i < 99; i++) pos += snprintf(ok + pos, sizeof ok - (size_t)pos, "%s%d", i ? "," : "", 50260 + i);
    snprintf(ok + pos, sizeof ok - (size_t)pos, "]}");
    cr_expect_eq(config_try(ok, &im, err, sizeof err), -1);
    cr_expect(strstr(err, "lang_ids has 50260") != NULL, "message: %s", err);
    uzw_import_free(&im);
}

Test(ct2, directory_entry_point) {
    char dir[1024], path[2200];
    snprintf(dir, sizeof dir, "%s", tu_build("test_import_ct2_dir"));
    snprintf(path, sizeof path, "mkdir -p '%s' && rm -f '%s'/*", dir, dir);
    cr_assert_eq(system(path), 0);
    uzw_import im;
    uzw_import_init(&im);
    char err[512] = "";
    cr_expect_eq(uzw_import_ct2(dir, &im, err, sizeof err), -1, "empty directory accepted");
    cr_expect(strstr(err, "model.bin") != NULL, "message: %s", err);
    uzw_import_free(&im);

    buf b = {0};
    ct2_opts o = {0};
    build_ct2(&b, &o);
    snprintf(path, sizeof path, "%s/model.bin", dir);
    cr_assert_eq(tu_write_file(path, b.p, b.n), 0);
    free(b.p);
    snprintf(path, sizeof path, "%s/vocabulary.txt", dir);
    cr_assert_eq(tu_write_file(path, "a\nb\n<|endoftext|>\n", 18), 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    cr_assert_eq(tu_write_file(path, "{\"alignment_heads\": [[0, 1]]}", 29), 0);
    uzw_import_init(&im);
    cr_assert_eq(uzw_import_ct2(dir, &im, err, sizeof err), 0, "%s", err);
    cr_expect_eq(im.n_tokens, 3);
    cr_expect_eq(im.n_align_heads, 1);
    cr_expect_str_eq(im.source_format, "ct2");
    cr_expect_eq(strlen(im.source_sha256), 64);
    cr_expect_str_eq(im.source_files, "model.bin,config.json,vocabulary.txt");
    uzw_import_free(&im);

    snprintf(path, sizeof path, "%s/config.json", dir);
    cr_assert_eq(tu_write_file(path, "{\"alignment_heads\": 7}", 22), 0);
    uzw_import_init(&im);
    cr_expect_eq(uzw_import_ct2(dir, &im, err, sizeof err), -1);
    cr_expect(strstr(err, "alignment_heads") != NULL, "message: %s", err);
    uzw_import_free(&im);
}

/* ================================================================ (c) one model, three formats */

static int convert(const char *fmt, const char *src, const char *out, char *err, size_t n) {
    uzw_import im;
    uzw_import_init(&im);
    int rc = !strcmp(fmt, "hf") ? uzw_import_hf(src, &im, err, n)
             : !strcmp(fmt, "ct2") ? uzw_import_ct2(src, &im, err, n)
                                   : uzw_import_ggml(src, &im, err, n);
    if (rc == 0) rc = uzw_import_write(&im, out, UZW_DT_F16, err, n);
    uzw_import_free(&im);
    return rc;
}

Test(formats, tiny_random_hf_ct2_ggml_agree) {
    const char *src[3] = {"tests/fixtures/tiny-random/hf", "tests/fixtures/tiny-random/ct2",
                          "tests/fixtures/tiny-random/ggml/model.bin"};
    static const char *const fmt[3] = {"hf", "ct2", "ggml"};
    char paths[3][1024], outs[3][1024];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s", tu_src(src[i]));
        if (!tu_exists(paths[i])) cr_skip_test("fixture %s is not generated yet", src[i]);
    }
    uzw_wfile wf[3];
    char err[512] = "";
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "test_import_three_%s.uzw", fmt[i]);
        snprintf(outs[i], sizeof outs[i], "%s", tu_build(name));
        cr_assert_eq(convert(fmt[i], paths[i], outs[i], err, sizeof err), 0, "%s: %s", fmt[i], err);
        cr_assert_eq(uzw_wfile_open(outs[i], &wf[i], err, sizeof err), 0, "%s", err);
    }
    cr_assert_gt(wf[0].hdr.n_tensors, 0);
    int n_rounded = 0;
    for (int i = 1; i < 3; i++) {
        cr_assert_eq(wf[i].hdr.n_tensors, wf[0].hdr.n_tensors, "%s: tensor count", fmt[i]);
        for (uint32_t t = 0; t < wf[0].hdr.n_tensors; t++) {
            const uzw_tensor *a = &wf[0].tensors[t], *o = uzw_wfile_tensor(&wf[i], a->name);
            cr_assert_not_null(o, "%s lacks %s", fmt[i], a->name);
            cr_assert_eq(o->dtype, a->dtype, "%s %s dtype", fmt[i], a->name);
            cr_assert_eq(o->n_dims, a->n_dims, "%s %s rank", fmt[i], a->name);
            for (int k = 0; k < a->n_dims; k++) cr_assert_eq(o->dims[k], a->dims[k], "%s %s shape", fmt[i], a->name);
            cr_assert_eq(o->nbytes, a->nbytes);
            if (memcmp(o->data, a->data, a->nbytes) == 0) continue;
            /* The fixture's CT2 model is float16 throughout, so a table the .uzw keeps in f32 (the exact
             * encoder sinusoids) arrives from CT2 rounded to f16: it must be exactly that rounding. */
            cr_assert(i == 1 && a->dtype == UZW_DT_F32, "%s: tensor %s differs from hf", fmt[i], a->name);
            const float *x = a->data, *y = o->data;
            for (uint64_t j = 0; j < a->nbytes / 4; j++)
                cr_assert_eq(y[j], uzw_f16_to_f32(uzw_f32_to_f16(x[j])), "ct2: %s[%llu] = %g is not hf's %g in f16",
                             a->name, (unsigned long long)j, (double)y[j], (double)x[j]);
            n_rounded++;
        }
        /* Whisper metadata must agree; only the source description may differ */
        for (uint32_t k = 0; k < wf[0].hdr.n_meta; k++) {
            const uzw_meta *a = &wf[0].meta[k], *o = uzw_wfile_meta(&wf[i], a->key);
            if (!strncmp(a->key, "source.", 7) || !strcmp(a->key, UZW_K_CONVERTER)) continue;
            cr_assert_not_null(o, "%s lacks metadata %s", fmt[i], a->key);
            cr_expect(o->type == a->type && o->value_bytes == a->value_bytes &&
                          memcmp(o->value, a->value, a->value_bytes) == 0,
                      "%s: metadata %s differs from hf", fmt[i], a->key);
        }
    }
    cr_expect_leq(n_rounded, 1, "only enc.pos may come from CT2 rounded to f16 (%d tensors did)", n_rounded);
    for (int i = 0; i < 3; i++) uzw_wfile_close(&wf[i]);
}
