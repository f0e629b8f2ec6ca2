/*
 * import_ct2.c - a CTranslate2 / faster-whisper model.bin (whisper-facts §9.2) into the neutral
 * import form. The directory's config.json and vocabulary are read by import_ct2_meta.c.
 *
 * model.bin (little-endian, no padding): u32 binary_version (4..6 share this layout); string spec
 * name ("WhisperSpec"); u32 spec revision; u32 n_variables, each: string name, u8 rank,
 * u32 dims[rank], u8 dtype (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), u32 byte count, bytes;
 * u32 n_aliases, each: string alias, string target. A string is u16 (length + 1), the bytes, NUL.
 *
 * Quantized weights (int8 per row, int16 global) come with "<name>_scale" and are dequantised as
 * w = q / scale, CTranslate2's convention (scale = 127 / amax(|row|) for int8).
 * Equal variables are stored once and aliased, so every lookup follows aliases.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_formats.h"
#include "schema.h"
#include "wformat.h"

#define CT2_MIN_VERSION 4
#define CT2_MAX_VERSION 6
#define CT2_MAX_REVISION 3
#define CT2_MAX_RANK 8
#define CT2_MAX_VARS 100000
#define CT2_MAX_LAYERS 256

typedef enum { CT2_F32 = 0, CT2_I8 = 1, CT2_I16 = 2, CT2_I32 = 3, CT2_F16 = 4, CT2_BF16 = 5 } ct2_dtype;
static const size_t ct2_dtype_size[6] = {4, 1, 2, 4, 2, 2};
static const char *const ct2_dtype_name[6] = {"float32", "int8", "int16", "int32", "float16", "bfloat16"};

typedef struct {
    const char *name; /* points into the file: NUL-terminated there */
    int rank;
    uint32_t dims[CT2_MAX_RANK];
    int dtype;
    uint64_t n_elem;
    const uint8_t *data;
} ct2_var;

typedef struct {
    const char *alias, *target;
} ct2_alias;

typedef struct {
    ct2_var *vars;
    uint32_t n_vars;
    ct2_alias *aliases;
    uint32_t n_aliases;
} ct2_model;

/* ---------------------------------------------------------------- parsing */

static int ct2_string(uzw_cursor *c, const char **out, const char *what, char *err, size_t err_size) {
    uint16_t len;
    const uint8_t *b;
    if (uzw_cur_u16(c, &len) || uzw_cur_bytes(c, len, &b)) {
        snprintf(err, err_size, "ct2: model.bin ends inside %s (offset %zu)", what, c->off);
        return -1;
    }
    if (len == 0 || b[len - 1] != 0 || memchr(b, 0, len - 1U)) {
        snprintf(err, err_size, "ct2: model.bin has a malformed string for %s (length %u, offset %zu)", what, len,
                 c->off - len);
        return -1;
    }
    *out = (const char *)b;
    return 0;
}

static int ct2_parse(const uint8_t *data, size_t size, ct2_model *m, char *err, size_t err_size) {
    uzw_cursor c = {data, size, 0};
    memset(m, 0, sizeof *m);
    uint32_t version, revision, n;
    const char *spec;
    if (uzw_cur_u32(&c, &version)) {
        snprintf(err, err_size, "ct2: model.bin is too short (%zu bytes)", size);
        return -1;
    }
    if (version < CT2_MIN_VERSION || version > CT2_MAX_VERSION) {
        snprintf(err, err_size, "ct2: model.bin binary version %u is not supported (versions %d..%d are)", version,
                 CT2_MIN_VERSION, CT2_MAX_VERSION);
        return -1;
    }
    if (ct2_string(&c, &spec, "the spec name", err, err_size)) return -1;
    if (strcmp(spec, "WhisperSpec") != 0) {
        snprintf(err, err_size, "ct2: model.bin holds a '%.64s' model, not WhisperSpec", spec);
        return -1;
    }
    if (uzw_cur_u32(&c, &revision) || uzw_cur_u32(&c, &n)) {
        snprintf(err, err_size, "ct2: model.bin ends before the variable count");
        return -1;
    }
    if (revision < 1 || revision > CT2_MAX_REVISION) {
        snprintf(err, err_size, "ct2: WhisperSpec revision %u is not supported (1..%d)", revision, CT2_MAX_REVISION);
        return -1;
    }
    /* every variable needs at least 2+1 (name) + 1 + 1 + 4 bytes */
    if (n > CT2_MAX_VARS || n > (size - c.off) / 9) {
        snprintf(err, err_size, "ct2: model.bin claims %u variables, more than the file can hold", n);
        return -1;
    }
    m->vars = calloc(n ? n : 1, sizeof *m->vars);
    if (!m->vars) {
        snprintf(err, err_size, "ct2: out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        ct2_var *v = &m->vars[i];
        uint8_t rank, dtype;
        uint32_t nbytes;
        if (ct2_string(&c, &v->name, "a variable name", err, err_size)) return -1;
        if (uzw_cur_u8(&c, &rank)) goto truncated;
        if (rank > CT2_MAX_RANK) {
            snprintf(err, err_size, "ct2: variable %s has rank %u (at most %d)", v->name, rank, CT2_MAX_RANK);
            return -1;
        }
        v->rank = rank;
        v->n_elem = 1;
        for (int k = 0; k < rank; k++) {
            if (uzw_cur_u32(&c, &v->dims[k])) goto truncated;
            if (v->dims[k] != 0 && v->n_elem > ((uint64_t)1 << 36) / v->dims[k]) {
                snprintf(err, err_size, "ct2: variable %s is absurdly large", v->name);
                return -1;
            }
            v->n_elem *= v->dims[k];
        }
        if (uzw_cur_u8(&c, &dtype) || uzw_cur_u32(&c, &nbytes)) goto truncated;
        if (dtype > CT2_BF16) {
            snprintf(err, err_size, "ct2: variable %s has unknown dtype id %u (0..5)", v->name, dtype);
            return -1;
        }
        v->dtype = dtype;
        if ((uint64_t)nbytes != v->n_elem * ct2_dtype_size[dtype]) {
            snprintf(err, err_size, "ct2: variable %s holds %u bytes but its shape and %s need %llu", v->name, nbytes,
                     ct2_dtype_name[dtype], (unsigned long long)(v->n_elem * ct2_dtype_size[dtype]));
            return -1;
        }
        if (uzw_cur_bytes(&c, nbytes, &v->data)) {
            snprintf(err, err_size, "ct2: model.bin ends inside variable %s (%u bytes needed, %zu left)", v->name,
                     nbytes, size - c.off);
            return -1;
        }
        m->n_vars = i + 1;
    }
    if (uzw_cur_u32(&c, &n)) goto truncated;
    if (n > CT2_MAX_VARS || n > (size - c.off) / 6) {
        snprintf(err, err_size, "ct2: model.bin claims %u aliases, more than the file can hold", n);
        return -1;
    }
    m->aliases = calloc(n ? n : 1, sizeof *m->aliases);
    if (!m->aliases) {
        snprintf(err, err_size, "ct2: out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (ct2_string(&c, &m->aliases[i].alias, "an alias name", err, err_size) ||
            ct2_string(&c, &m->aliases[i].target, "an alias target", err, err_size))
            return -1;
        m->n_aliases = i + 1;
    }
    if (c.off != size) {
        snprintf(err, err_size, "ct2: model.bin has %zu unexpected bytes after the aliases", size - c.off);
        return -1;
    }
    return 0;
truncated:
    snprintf(err, err_size, "ct2: model.bin is truncated (offset %zu of %zu)", c.off, size);
    return -1;
}

/* A variable by name, following aliases (a few hops at most). NULL if absent. */
static const ct2_var *ct2_find(const ct2_model *m, const char *name) {
    for (int hop = 0; hop < 8; hop++) {
        for (uint32_t i = 0; i < m->n_vars; i++)
            if (strcmp(m->vars[i].name, name) == 0) return &m->vars[i];
        const char *next = NULL;
        for (uint32_t i = 0; i < m->n_aliases && !next; i++)
            if (strcmp(m->aliases[i].alias, name) == 0) next = m->aliases[i].target;
        if (!next) return NULL;
        name = next;
    }
    return NULL;
}

/* ---------------------------------------------------------------- values */

static float ct2_elem(const ct2_var *v, uint64_t i) {
    const uint8_t *b = v->data + i * ct2_dtype_size[v->dtype];
    switch (v->dtype) {
    case CT2_F32: {
        float f;
        memcpy(&f, b, 4);
        return f;
    }
    case CT2_I8: return (float)(int8_t)b[0];
    case CT2_I16: return (float)(int16_t)(uint16_t)(b[0] | (b[1] << 8));
    case CT2_I32: {
        int32_t x;
        memcpy(&x, b, 4);
        return (float)x;
    }
    case CT2_F16: return uzw_f16_to_f32((uint16_t)(b[0] | (b[1] << 8)));
    default: return uzw_bf16_to_f32((uint16_t)(b[0] | (b[1] << 8)));
    }
}

/* An integer scalar (e.g. encoder/num_heads). 0 or -1. */
static int ct2_scalar_int(const ct2_model *m, const char *name, int32_t *out, char *err, size_t err_size) {
    const ct2_var *v = ct2_find(m, name);
    if (!v) {
        snprintf(err, err_size, "ct2: model.bin lacks the scalar %s", name);
        return -1;
    }
    if (v->n_elem != 1 || v->dtype == CT2_F32 || v->dtype == CT2_F16 || v->dtype == CT2_BF16) {
        snprintf(err, err_size, "ct2: %s should be one integer, found %llu %s values", name,
                 (unsigned long long)v->n_elem, ct2_dtype_name[v->dtype]);
        return -1;
    }
    *out = (int32_t)ct2_elem(v, 0);
    return 0;
}

/* The variable `name` as f32 with the expected shape (rank n, dims want). malloc'ed; NULL with a
 * message. Quantized variables are dequantised with "<target>_scale". */
static float *ct2_get(const ct2_model *m, const char *name, int n, const int64_t *want, char *err, size_t err_size) {
    const ct2_var *v = ct2_find(m, name);
    if (!v) {
        snprintf(err, err_size, "ct2: model.bin lacks the variable %s", name);
        return NULL;
    }
    int ok = v->rank == n;
    for (int k = 0; ok && k < n; k++) ok = (int64_t)v->dims[k] == want[k];
    if (!ok) {
        snprintf(err, err_size, "ct2: %s has shape [%u,%u,%u] (rank %d), expected [%lld,%lld,%lld] (rank %d)", name,
                 v->rank > 0 ? v->dims[0] : 0, v->rank > 1 ? v->dims[1] : 0, v->rank > 2 ? v->dims[2] : 0, v->rank,
                 (long long)want[0], (long long)(n > 1 ? want[1] : 0), (long long)(n > 2 ? want[2] : 0), n);
        return NULL;
    }
    const ct2_var *scale = NULL;
    uint64_t row = n > 0 ? v->n_elem / (v->dims[0] ? v->dims[0] : 1) : 1;
    if (v->dtype == CT2_I8 || v->dtype == CT2_I16) {
        char sname[512];
        snprintf(sname, sizeof sname, "%s_scale", v->name);
        scale = ct2_find(m, sname);
        if (!scale || (scale->n_elem != 1 && (n == 0 || scale->n_elem != v->dims[0])) || scale->dtype == CT2_I8 ||
            scale->dtype == CT2_I16 || scale->dtype == CT2_I32) {
            snprintf(err, err_size, "ct2: quantized %s (%s) has no usable %s (one float per row or one in all)", name,
                     ct2_dtype_name[v->dtype], sname);
            return NULL;
        }
    } else if (v->dtype == CT2_I32) {
        snprintf(err, err_size, "ct2: %s is int32, not a weight type", name);
        return NULL;
    }
    float *out = malloc((size_t)(v->n_elem ? v->n_elem : 1) * sizeof *out);
    if (!out) {
        snprintf(err, err_size, "ct2: out of memory for %s", name);
        return NULL;
    }
    for (uint64_t i = 0; i < v->n_elem; i++) {
        float x = ct2_elem(v, i);
        if (scale) {
            float s = ct2_elem(scale, scale->n_elem == 1 ? 0 : i / row);
            if (!(s != 0.0f) || !isfinite(s)) {
                snprintf(err, err_size, "ct2: %s_scale holds %g, which cannot be divided by", v->name, (double)s);
                free(out);
                return NULL;
            }
            x /= s;
        }
        out[i] = x;
    }
    return out;
}

/* ---------------------------------------------------------------- mapping */

static int put(uzw_import *im, const char *canon, int n, const int64_t *dims, float *data, char *err, size_t err_size) {
    char e2[256];
    if (uzw_import_add(im, canon, n, dims, data, e2, sizeof e2)) {
        snprintf(err, err_size, "ct2: %s", e2);
        return -1;
    }
    return 0;
}

/* "<src>/weight" [rows, cols] and "<src>/bias" [rows] -> "<canon>.weight" and "<canon>.bias". */
static int map_linear(const ct2_model *m, uzw_import *im, const char *src, const char *canon, int64_t rows,
                      int64_t cols, char *err, size_t err_size) {
    char s[256], c[UZW_MAX_NAME];
    int64_t wd[2] = {rows, cols};
    snprintf(s, sizeof s, "%s/weight", src);
    snprintf(c, sizeof c, "%s.weight", canon);
    float *w = ct2_get(m, s, 2, wd, err, err_size);
    if (!w || put(im, c, 2, wd, w, err, err_size)) return -1;
    snprintf(s, sizeof s, "%s/bias", src);
    snprintf(c, sizeof c, "%s.bias", canon);
    float *b = ct2_get(m, s, 1, wd, err, err_size);
    return !b || put(im, c, 1, wd, b, err, err_size) ? -1 : 0;
}

/* "<src>/gamma|beta" [D] -> "<canon>.weight|bias" */
static int map_norm(const ct2_model *m, uzw_import *im, const char *src, const char *canon, int64_t D, char *err,
                    size_t err_size) {
    static const char *const from[2] = {"gamma", "beta"}, *const to[2] = {"weight", "bias"};
    for (int k = 0; k < 2; k++) {
        char s[256], c[UZW_MAX_NAME];
        snprintf(s, sizeof s, "%s/%s", src, from[k]);
        snprintf(c, sizeof c, "%s.%s", canon, to[k]);
        float *x = ct2_get(m, s, 1, &D, err, err_size);
        if (!x || put(im, c, 1, &D, x, err, err_size)) return -1;
    }
    return 0;
}

/* A fused projection "<src>/weight" [parts*D, D] (+ bias [parts*D]) split into the canonical
 * names[parts] (e.g. q,k,v). The part named in no_bias must have an all-zero bias, which is dropped. */
static int map_fused(const ct2_model *m, uzw_import *im, const char *src, const char *prefix, int parts,
                     const char *const *names, int no_bias, int64_t D, char *err, size_t err_size) {
    char s[256], c[UZW_MAX_NAME];
    int64_t wd[2] = {parts * D, D}, pd[2] = {D, D};
    snprintf(s, sizeof s, "%s/weight", src);
    float *w = ct2_get(m, s, 2, wd, err, err_size);
    if (!w) return -1;
    snprintf(s, sizeof s, "%s/bias", src);
    float *b = ct2_get(m, s, 1, wd, err, err_size);
    if (!b) {
        free(w);
        return -1;
    }
    int rc = 0;
    for (int p = 0; p < parts && rc == 0; p++) {
        float *pw = malloc((size_t)(D * D) * sizeof *pw);
        float *pb = p == no_bias ? NULL : malloc((size_t)D * sizeof *pb);
        if (!pw || (p != no_bias && !pb)) {
            free(pw);
            free(pb);
            snprintf(err, err_size, "ct2: out of memory splitting %s", src);
            rc = -1;
            break;
        }
        memcpy(pw, w + (size_t)(p * D * D), (size_t)(D * D) * sizeof *pw);
        snprintf(c, sizeof c, "%s.%s.weight", prefix, names[p]);
        if (put(im, c, 2, pd, pw, err, err_size)) {
            free(pb);
            rc = -1;
            break;
        }
        if (p == no_bias) {
            for (int64_t i = 0; i < D; i++)
                if (b[p * D + i] != 0.0f) {
                    snprintf(err, err_size, "ct2: %s/bias has a non-zero %s part (element %lld = %g); Whisper has no "
                                            "key bias", src, names[p], (long long)i, (double)b[p * D + i]);
                    rc = -1;
                    break;
                }
            continue;
        }
        memcpy(pb, b + (size_t)(p * D), (size_t)D * sizeof *pb);
        snprintf(c, sizeof c, "%s.%s.bias", prefix, names[p]);
        if (put(im, c, 1, pd, pb, err, err_size)) rc = -1;
    }
    free(w);
    free(b);
    return rc;
}

static int count_layers(const ct2_model *m, const char *side) {
    int n = 0;
    char s[128];
    for (; n < CT2_MAX_LAYERS; n++) {
        snprintf(s, sizeof s, "%s/layer_%d/self_attention/linear_0/weight", side, n);
        if (!ct2_find(m, s)) break;
    }
    return n;
}

static int map_layers(const ct2_model *m, uzw_import *im, int dec, int64_t D, char *err, size_t err_size) {
    static const char *const qkv[3] = {"q", "k", "v"}, *const kv[2] = {"k", "v"};
    const char *side = dec ? "decoder" : "encoder", *pre = dec ? "dec" : "enc";
    int L = dec ? im->dims.n_text_layer : im->dims.n_audio_layer;
    for (int i = 0; i < L; i++) {
        char s[128], c[64];
#define SRC(x) (snprintf(s, sizeof s, "%s/layer_%d/%s", side, i, x), s)
#define DST(x) (snprintf(c, sizeof c, "%s.%d.%s", pre, i, x), c)
        if (map_norm(m, im, SRC("self_attention/layer_norm"), DST("attn_ln"), D, err, err_size) ||
            map_fused(m, im, SRC("self_attention/linear_0"), DST("attn"), 3, qkv, 1, D, err, err_size) ||
            map_linear(m, im, SRC("self_attention/linear_1"), DST("attn.o"), D, D, err, err_size) ||
            map_norm(m, im, SRC("ffn/layer_norm"), DST("mlp_ln"), D, err, err_size) ||
            map_linear(m, im, SRC("ffn/linear_0"), DST("fc1"), 4 * D, D, err, err_size) ||
            map_linear(m, im, SRC("ffn/linear_1"), DST("fc2"), D, 4 * D, err, err_size))
            return -1;
        if (dec && (map_norm(m, im, SRC("attention/layer_norm"), DST("xattn_ln"), D, err, err_size) ||
                    map_linear(m, im, SRC("attention/linear_0"), DST("xattn.q"), D, D, err, err_size) ||
                    map_fused(m, im, SRC("attention/linear_1"), DST("xattn"), 2, kv, 0, D, err, err_size) ||
                    map_linear(m, im, SRC("attention/linear_2"), DST("xattn.o"), D, D, err, err_size)))
            return -1;
#undef SRC
#undef DST
    }
    return 0;
}

/* Dimensions from the shapes and the num_heads scalars. */
static int ct2_dims(const ct2_model *m, uzw_dims *d, char *err, size_t err_size) {
    static const char *const need[4] = {"encoder/conv1/weight", "encoder/position_encodings/encodings",
                                        "decoder/embeddings/weight", "decoder/position_encodings/encodings"};
    static const int rank[4] = {3, 2, 2, 2};
    const ct2_var *v[4];
    for (int i = 0; i < 4; i++) {
        if (!(v[i] = ct2_find(m, need[i]))) {
            snprintf(err, err_size, "ct2: model.bin lacks %s", need[i]);
            return -1;
        }
        if (v[i]->rank != rank[i] || v[i]->dims[0] > (1u << 30) || v[i]->dims[1] > (1u << 30)) {
            snprintf(err, err_size, "ct2: %s has rank %d or absurd dimensions (rank %d expected)", need[i], v[i]->rank,
                     rank[i]);
            return -1;
        }
    }
    const ct2_var *conv1 = v[0], *epos = v[1], *emb = v[2], *dpos = v[3];
    memset(d, 0, sizeof *d);
    d->n_audio_state = d->n_text_state = (int32_t)conv1->dims[0];
    d->n_mels = (int32_t)conv1->dims[1];
    d->n_audio_ctx = (int32_t)epos->dims[0];
    d->n_text_ctx = (int32_t)dpos->dims[0];
    d->n_vocab = (int32_t)emb->dims[0];
    d->n_audio_layer = count_layers(m, "encoder");
    d->n_text_layer = count_layers(m, "decoder");
    if (ct2_scalar_int(m, "encoder/num_heads", &d->n_audio_head, err, err_size) ||
        ct2_scalar_int(m, "decoder/num_heads", &d->n_text_head, err, err_size))
        return -1;
    char e2[256];
    if (uzw_dims_validate(d, e2, sizeof e2)) {
        snprintf(err, err_size, "ct2: model dimensions derived from model.bin are not Whisper's: %s", e2);
        return -1;
    }
    return 0;
}

static int ct2_map(const ct2_model *m, uzw_import *im, char *err, size_t err_size) {
    if (ct2_dims(m, &im->dims, err, err_size)) return -1;
    im->have_dims = 1;
    const uzw_dims *d = &im->dims;
    int64_t D = d->n_audio_state;
    int64_t c1[3] = {D, d->n_mels, 3}, c2[3] = {D, D, 3}, ep[2] = {d->n_audio_ctx, D}, dp[2] = {d->n_text_ctx, D},
            ve[2] = {d->n_vocab, D};
    float *x;
#define GET(src, canon, n, shape)                                                            \
    do {                                                                                     \
        x = ct2_get(m, src, n, shape, err, err_size);                                        \
        if (!x || put(im, canon, n, shape, x, err, err_size)) return -1;                     \
    } while (0)
    GET("encoder/conv1/weight", "enc.conv1.weight", 3, c1);
    GET("encoder/conv1/bias", "enc.conv1.bias", 1, c1);
    GET("encoder/conv2/weight", "enc.conv2.weight", 3, c2);
    GET("encoder/conv2/bias", "enc.conv2.bias", 1, c2);
    GET("encoder/position_encodings/encodings", "enc.pos", 2, ep);
    GET("decoder/embeddings/weight", "dec.tok_emb", 2, ve);
    GET("decoder/position_encodings/encodings", "dec.pos", 2, dp);
#undef GET
    if (map_norm(m, im, "encoder/layer_norm", "enc.ln_post", D, err, err_size) ||
        map_norm(m, im, "decoder/layer_norm", "dec.ln", D, err, err_size) || map_layers(m, im, 0, D, err, err_size) ||
        map_layers(m, im, 1, D, err, err_size))
        return -1;

    /* The output projection must be the embedding matrix (aliased, or an equal copy). */
    const ct2_var *proj = ct2_find(m, "decoder/projection/weight");
    if (proj && proj != ct2_find(m, "decoder/embeddings/weight")) {
        float *p = ct2_get(m, "decoder/projection/weight", 2, ve, err, err_size);
        if (!p) return -1;
        const float *e = uzw_import_find(im, "dec.tok_emb")->data;
        size_t n = (size_t)(ve[0] * ve[1]);
        int same = memcmp(p, e, n * sizeof *p) == 0;
        free(p);
        if (!same) {
            snprintf(err, err_size, "ct2: decoder/projection/weight differs from the embeddings; untied output "
                                    "projections are not supported");
            return -1;
        }
    }
    const ct2_var *pb = ct2_find(m, "decoder/projection/bias");
    if (pb) {
        for (uint64_t i = 0; i < pb->n_elem; i++)
            if (ct2_elem(pb, i) != 0.0f) {
                snprintf(err, err_size, "ct2: decoder/projection/bias is non-zero; Whisper has no output bias");
                return -1;
            }
    }
    return uzw_import_check_complete(im, "ct2", err, err_size);
}

int uzw_ct2_parse_model(const uint8_t *data, size_t size, uzw_import *im, char *err, size_t err_size) {
    ct2_model m;
    int rc = ct2_parse(data, size, &m, err, err_size);
    if (rc == 0) rc = ct2_map(&m, im, err, err_size);
    free(m.vars);
    free(m.aliases);
    if (rc == 0) snprintf(im->source_format, sizeof im->source_format, "ct2");
    return rc;
}
