/*
 * import_write.c - uzw_import_write(): derive what the source did not give (special ids, merges,
 * mel filterbank, suppress lists, alignment heads), check every canonical tensor, write the .uzw.
 * What is derived is stored back into im (merges, suppress, suppress_begin, align_heads).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "import_internal.h"
#include "mel/mel.h"
#include "tokenizer/tokenizer.h"

#define CONVERTER_NAME "uzwhisper 0.1.0"

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int check_ids(const char *what, const int32_t *ids, int n, int32_t limit, char *err, size_t err_size) {
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= limit) {
            snprintf(err, err_size, "import: %s[%d] = %d is outside [0, %d)", what, i, ids[i], limit);
            return -1;
        }
    return 0;
}

/* ---------------------------------------------------------------- derivations */
static int derive_merges(uzw_import *im, const uzw_special_ids *sp, char *err, size_t err_size) {
    if (im->merges) {
        if (im->n_merges < 0) {
            snprintf(err, err_size, "import: negative merge count");
            return -1;
        }
        return check_ids("merges", im->merges, 2 * im->n_merges, sp->eot, err, err_size);
    }
    return uzw_tokenizer_derive_merges(sp->eot, (const uint8_t *const *)im->tok, im->tok_len, &im->merges,
                                       &im->n_merges, err, err_size);
}

/* OAI's default: non-speech tokens + {translate, transcribe, sot, sot_prev, sot_lm, no_speech}. */
static int derive_suppress(uzw_import *im, const uzw_special_ids *sp, char *err, size_t err_size) {
    if (im->suppress) return check_ids("suppress_tokens", im->suppress, im->n_suppress, im->dims.n_vocab, err, err_size);
    uzw_tokenizer *tk = NULL;
    if (uzw_tokenizer_new(sp->eot, (const uint8_t *const *)im->tok, im->tok_len, im->merges, im->n_merges, &tk, err,
                          err_size) != 0)
        return -1;
    enum { MAX_SUPPRESS = 512 };
    int32_t *ids = malloc(MAX_SUPPRESS * sizeof *ids);
    if (!ids) {
        uzw_tokenizer_free(tk);
        snprintf(err, err_size, "import: out of memory");
        return -1;
    }
    int n = uzw_tokenizer_non_speech(tk, ids, MAX_SUPPRESS - 6);
    uzw_tokenizer_free(tk);
    if (n < 0 || n > MAX_SUPPRESS - 6) {
        free(ids);
        snprintf(err, err_size, "import: could not build the non-speech suppress list");
        return -1;
    }
    const int32_t extra[6] = {sp->translate, sp->transcribe, sp->sot, sp->sot_prev, sp->sot_lm, sp->no_speech};
    for (int i = 0; i < 6; i++) ids[n++] = extra[i];
    qsort(ids, (size_t)n, sizeof *ids, cmp_i32);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || ids[u - 1] != ids[i]) ids[u++] = ids[i];
    im->suppress = ids;
    im->n_suppress = u;
    return 0;
}

static int derive_suppress_begin(uzw_import *im, const uzw_special_ids *sp, char *err, size_t err_size) {
    if (im->suppress_begin) {
        int has_eot = 0;
        for (int i = 0; i < im->n_suppress_begin; i++) has_eot |= im->suppress_begin[i] == sp->eot;
        if (!has_eot) /* e.g. HF's stale default [220, 50256] on a multilingual model (whisper-facts §4.4) */
            fprintf(stderr, "uzwhisper: warning: begin_suppress_tokens from the source does not hold EOT %d\n",
                    sp->eot);
        return check_ids("begin_suppress_tokens", im->suppress_begin, im->n_suppress_begin, im->dims.n_vocab, err,
                         err_size);
    }
    if (!(im->suppress_begin = malloc(2 * sizeof(int32_t)))) {
        snprintf(err, err_size, "import: out of memory");
        return -1;
    }
    im->suppress_begin[0] = 220; /* " " */
    im->suppress_begin[1] = sp->eot;
    im->n_suppress_begin = 2;
    return 0;
}

/* Default: every head of the last half of the decoder layers (OAI model.py). */
static int derive_align_heads(uzw_import *im, char *err, size_t err_size) {
    int32_t L = im->dims.n_text_layer, H = im->dims.n_text_head;
    if (im->align_heads) {
        for (int i = 0; i < im->n_align_heads; i++) {
            int32_t l = im->align_heads[2 * i], h = im->align_heads[2 * i + 1];
            if (l < 0 || l >= L || h < 0 || h >= H) {
                snprintf(err, err_size, "import: alignment head (%d, %d) outside %d layers x %d heads", l, h, L, H);
                return -1;
            }
        }
        return 0;
    }
    int n = (L - L / 2) * H;
    if (!(im->align_heads = malloc((size_t)(n ? n : 1) * 2 * sizeof(int32_t)))) {
        snprintf(err, err_size, "import: out of memory");
        return -1;
    }
    int k = 0;
    for (int32_t l = L / 2; l < L; l++)
        for (int32_t h = 0; h < H; h++) {
            im->align_heads[k++] = l;
            im->align_heads[k++] = h;
        }
    im->n_align_heads = n;
    return 0;
}

/* ---------------------------------------------------------------- tensor checks */
static void fmt_shape(char *buf, size_t n, int nd, const int64_t *d) {
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < nd && o < n; i++) o += (size_t)snprintf(buf + o, n - o, i ? ", %lld" : "%lld", (long long)d[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

static uint64_t numel_of(int nd, const int64_t *d) {
    uint64_t n = 1;
    for (int i = 0; i < nd; i++) n *= (uint64_t)d[i];
    return n;
}

static int check_tensors(const uzw_import *im, char *err, size_t err_size) {
    for (int i = 0; i < im->n_t; i++) {
        const uzw_import_tensor *t = &im->t[i];
        int nd;
        int64_t d[UZW_MAX_DIMS];
        if (uzw_schema_shape(&im->dims, t->name, &nd, d) != 0) {
            snprintf(err, err_size, "import: '%s' is not a canonical Whisper tensor name", t->name);
            return -1;
        }
        int same = nd == t->n_dims;
        for (int k = 0; same && k < nd; k++) same = d[k] == t->dims[k];
        if (!same) {
            char want[96], got[96];
            fmt_shape(want, sizeof want, nd, d);
            fmt_shape(got, sizeof got, t->n_dims, t->dims);
            snprintf(err, err_size, "import: tensor %s: expected shape %s, found %s", t->name, want, got);
            return -1;
        }
        uint64_t n = numel_of(nd, d);
        for (uint64_t k = 0; k < n; k++)
            if (!isfinite(t->data[k])) {
                snprintf(err, err_size, "import: tensor %s holds a non-finite value at element %llu", t->name,
                         (unsigned long long)k);
                return -1;
            }
    }
    int count = uzw_schema_count(&im->dims);
    for (int i = 0; i < count; i++) {
        char name[UZW_MAX_NAME];
        int nd;
        int64_t d[UZW_MAX_DIMS];
        uzw_schema_get(&im->dims, i, name, &nd, d);
        if (!uzw_import_find((uzw_import *)im, name)) {
            char want[96];
            fmt_shape(want, sizeof want, nd, d);
            snprintf(err, err_size, "import: missing tensor %s %s", name, want);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- writing */
static int put_metadata(uzw_wbuild *b, const uzw_import *im, const uzw_special_ids *sp, const float *filters,
                        uzw_dtype dtype) {
    int rc = uzw_wbuild_str(b, UZW_K_ARCH, "whisper");
    for (int i = 0; i < 10; i++) rc |= uzw_wbuild_i32(b, uzw_dims_keys[i], *uzw_dims_field((uzw_dims *)&im->dims, i));
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_EOT, sp->eot);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_SOT, sp->sot);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_FIRST_LANG, sp->first_lang);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_TRANSLATE, sp->translate);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_TRANSCRIBE, sp->transcribe);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_SOT_LM, sp->sot_lm);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_SOT_PREV, sp->sot_prev);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_NO_SPEECH, sp->no_speech);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_NO_TIMESTAMPS, sp->no_timestamps);
    rc |= uzw_wbuild_i32(b, UZW_K_TOK_TS_BEGIN, sp->ts_begin);
    const uint8_t *codes[UZW_MAX_LANGS];
    uint32_t code_lens[UZW_MAX_LANGS];
    for (int i = 0; i < sp->n_lang; i++) {
        codes[i] = (const uint8_t *)uzw_import_lang_code(i);
        code_lens[i] = (uint32_t)strlen((const char *)codes[i]);
    }
    rc |= uzw_wbuild_bytes_arr(b, UZW_K_LANG_CODES, codes, code_lens, (uint32_t)sp->n_lang);
    rc |= uzw_wbuild_bytes_arr(b, UZW_K_VOCAB, (const uint8_t *const *)im->tok, im->tok_len, (uint32_t)sp->eot);
    rc |= uzw_wbuild_i32_arr(b, UZW_K_MERGES, im->merges, (uint32_t)(2 * im->n_merges));
    rc |= uzw_wbuild_f32_arr(b, UZW_K_MEL_FILTERS, filters, (uint32_t)(im->dims.n_mels * UZW_N_FREQ));
    rc |= uzw_wbuild_i32_arr(b, UZW_K_SUPPRESS, im->suppress, (uint32_t)im->n_suppress);
    rc |= uzw_wbuild_i32_arr(b, UZW_K_SUPPRESS_BEGIN, im->suppress_begin, (uint32_t)im->n_suppress_begin);
    rc |= uzw_wbuild_i32_arr(b, UZW_K_ALIGN_HEADS, im->align_heads, (uint32_t)(2 * im->n_align_heads));
    char type[32];
    rc |= uzw_wbuild_str(b, UZW_K_MODEL_TYPE, uzw_import_model_type(&im->dims, type, sizeof type));
    rc |= uzw_wbuild_str(b, UZW_K_DTYPE, uzw_dtype_name(dtype));
    rc |= uzw_wbuild_str(b, UZW_K_SRC_FORMAT, im->source_format[0] ? im->source_format : "unknown");
    rc |= uzw_wbuild_str(b, UZW_K_SRC_SHA256, im->source_sha256);
    rc |= uzw_wbuild_str(b, UZW_K_SRC_FILES, im->source_files);
    if (im->source_adapters[0]) rc |= uzw_wbuild_str(b, UZW_K_SRC_ADAPTERS, im->source_adapters);
    rc |= uzw_wbuild_str(b, UZW_K_CONVERTER, CONVERTER_NAME);
    return rc ? -1 : 0;
}

static int put_tensors(uzw_wbuild *b, uzw_import *im, uzw_dtype dtype, char *err, size_t err_size) {
    int count = uzw_schema_count(&im->dims);
    for (int i = 0; i < count; i++) {
        char name[UZW_MAX_NAME];
        int nd;
        int64_t d[UZW_MAX_DIMS];
        uzw_schema_get(&im->dims, i, name, &nd, d);
        const uzw_import_tensor *t = uzw_import_find(im, name);
        int keep_f32 = nd == 1 || strcmp(name, "enc.pos") == 0 || strcmp(name, "dec.pos") == 0;
        if (uzw_wbuild_tensor_f32(b, name, keep_f32 ? UZW_DT_F32 : dtype, nd, d, t->data) != 0) {
            snprintf(err, err_size, "import: cannot add tensor %s to the weight file (out of memory?)", name);
            return -1;
        }
    }
    return 0;
}

int uzw_import_write(uzw_import *im, const char *out_path, uzw_dtype dtype, char *err, size_t err_size) {
    if (!im || !out_path) {
        snprintf(err, err_size, "import: no model or no output path");
        return -1;
    }
    if (!im->have_dims) {
        snprintf(err, err_size, "import: the model dimensions were not set");
        return -1;
    }
    if (uzw_dims_validate(&im->dims, err, err_size) != 0) return -1;
    if (dtype != UZW_DT_F32 && dtype != UZW_DT_F16 && dtype != UZW_DT_BF16) {
        snprintf(err, err_size, "import: output dtype %s not supported by the converter (use f32, f16 or bf16)",
                 uzw_dtype_name(dtype));
        return -1;
    }
    uzw_special_ids sp;
    if (uzw_import_specials(im, &sp, err, err_size) != 0) return -1;
    if (derive_merges(im, &sp, err, err_size) != 0 || derive_suppress(im, &sp, err, err_size) != 0 ||
        derive_suppress_begin(im, &sp, err, err_size) != 0 || derive_align_heads(im, err, err_size) != 0)
        return -1;
    if (check_tensors(im, err, err_size) != 0) return -1;

    float *filters = malloc((size_t)im->dims.n_mels * UZW_N_FREQ * sizeof *filters); /* [M, 201] */
    uzw_wbuild *b = uzw_wbuild_new();
    int rc = -1;
    if (!filters || !b) {
        snprintf(err, err_size, "import: out of memory");
        goto done;
    }
    uzw_mel_filters_slaney(im->dims.n_mels, filters);
    if (put_metadata(b, im, &sp, filters, dtype) != 0) {
        snprintf(err, err_size, "import: cannot add the metadata to the weight file (out of memory?)");
        goto done;
    }
    if (put_tensors(b, im, dtype, err, err_size) != 0) goto done;
    rc = uzw_wbuild_write(b, out_path, err, err_size);
done:
    uzw_wbuild_free(b);
    free(filters);
    return rc;
}
