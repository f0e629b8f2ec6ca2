/*
 * import_ggml.c - whisper.cpp's legacy ggml .bin (whisper-facts §9.1) into the neutral import form.
 *
 * Layout (int32 little-endian, no padding): magic 0x67676d6c; 11 hparams; mel filters (n_mel,
 * n_bins, n_mel*n_bins f32); vocabulary (count, then len + raw bytes per token); tensors until EOF
 * (n_dims, name_len, ttype, ne[n_dims] innermost first, name, data). Tensors carry OAI names
 * ("encoder.blocks.0.attn.query.weight"); F32 and F16 are read, quantized types are refused.
 * Also holds the file-mapping helper and the completeness check both importers use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import.h"
#include "import_formats.h"
#include "schema.h"
#include "wformat.h"

#define GGML_MAGIC 0x67676d6cu
#define GGML_MAX_MEL 512
#define GGML_MAX_BINS 4096
#define GGML_MAX_TOKENS (1 << 20)
#define GGML_MAX_TOKEN_BYTES 4096
#define GGML_MAX_NAME 256

/* ---------------------------------------------------------------- file mapping */

int uzw_fmap_open(const char *path, uzw_fmap *m, char *err, size_t err_size) {
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_size, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "%s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_size == 0) { /* mmap refuses length 0 */
        close(fd);
        m->data = (const uint8_t *)"";
        return 0;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, err_size, "cannot map %s: %s", path, strerror(errno));
        return -1;
    }
    m->data = p;
    m->size = (size_t)st.st_size;
    m->mapped = 1;
    return 0;
}

void uzw_fmap_close(uzw_fmap *m) {
    if (m && m->mapped) munmap((void *)m->data, m->size);
    if (m) memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- completeness */

int uzw_import_check_complete(uzw_import *im, const char *format, char *err, size_t err_size) {
    int n = uzw_schema_count(&im->dims);
    int have = 0;
    for (int i = 0; i < n; i++) {
        char name[UZW_MAX_NAME];
        int nd;
        int64_t dims[UZW_MAX_DIMS];
        uzw_schema_get(&im->dims, i, name, &nd, dims);
        const uzw_import_tensor *t = uzw_import_find(im, name);
        if (t) have++;
    }
    if (have == 0) {
        snprintf(err, err_size, "%s: the file holds no weight tensors (only a header/vocabulary?)", format);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char name[UZW_MAX_NAME];
        int nd;
        int64_t dims[UZW_MAX_DIMS];
        uzw_schema_get(&im->dims, i, name, &nd, dims);
        const uzw_import_tensor *t = uzw_import_find(im, name);
        if (!t) {
            snprintf(err, err_size, "%s: missing weight tensor %s (%d of %d canonical tensors present)", format, name,
                     have, n);
            return -1;
        }
        int same = t->n_dims == nd;
        for (int k = 0; same && k < nd; k++) same = t->dims[k] == dims[k];
        if (!same) {
            snprintf(err, err_size, "%s: tensor %s has shape [%lld,%lld,%lld] (%d dims), expected [%lld,%lld,%lld]",
                     format, name, (long long)t->dims[0], (long long)(t->n_dims > 1 ? t->dims[1] : 0),
                     (long long)(t->n_dims > 2 ? t->dims[2] : 0), t->n_dims, (long long)dims[0],
                     (long long)(nd > 1 ? dims[1] : 0), (long long)(nd > 2 ? dims[2] : 0));
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- header + vocabulary */

int uzw_ggml_parse_header(const uint8_t *data, size_t size, uzw_ggml_header *h, uzw_import *im, char *err,
                          size_t err_size) {
    uzw_cursor c = {data, size, 0};
    memset(h, 0, sizeof *h);
    uint32_t magic;
    if (uzw_cur_u32(&c, &magic)) {
        snprintf(err, err_size, "ggml: file too short for the magic number (%zu bytes)", size);
        return -1;
    }
    if (magic != GGML_MAGIC) {
        snprintf(err, err_size, "ggml: bad magic 0x%08x (expected 0x%08x, a whisper.cpp ggml .bin)", magic, GGML_MAGIC);
        return -1;
    }
    for (int i = 0; i < 11; i++)
        if (uzw_cur_i32(&c, &h->hparams[i])) {
            snprintf(err, err_size, "ggml: file ends inside the hyperparameters (%zu bytes)", size);
            return -1;
        }
    if (uzw_cur_i32(&c, &h->filt_n_mel) || uzw_cur_i32(&c, &h->filt_n_bins)) {
        snprintf(err, err_size, "ggml: file ends before the mel filter header (offset %zu)", c.off);
        return -1;
    }
    if (h->filt_n_mel < 0 || h->filt_n_mel > GGML_MAX_MEL || h->filt_n_bins < 0 || h->filt_n_bins > GGML_MAX_BINS) {
        snprintf(err, err_size, "ggml: mel filter table of %d x %d is out of range (at most %d x %d)", h->filt_n_mel,
                 h->filt_n_bins, GGML_MAX_MEL, GGML_MAX_BINS);
        return -1;
    }
    const uint8_t *filt;
    size_t filt_bytes = (size_t)h->filt_n_mel * (size_t)h->filt_n_bins * 4;
    if (uzw_cur_bytes(&c, filt_bytes, &filt)) {
        snprintf(err, err_size, "ggml: file ends inside the mel filters (%zu bytes needed at offset %zu, %zu left)",
                 filt_bytes, c.off, size - c.off);
        return -1;
    }
    if (uzw_cur_i32(&c, &h->n_tokens)) {
        snprintf(err, err_size, "ggml: file ends before the vocabulary size (offset %zu)", c.off);
        return -1;
    }
    if (h->n_tokens < 0 || h->n_tokens > GGML_MAX_TOKENS) {
        snprintf(err, err_size, "ggml: vocabulary size %d is out of range (0..%d)", h->n_tokens, GGML_MAX_TOKENS);
        return -1;
    }
    for (int32_t i = 0; i < h->n_tokens; i++) {
        int32_t len;
        const uint8_t *bytes;
        if (uzw_cur_i32(&c, &len)) {
            snprintf(err, err_size, "ggml: file ends inside the vocabulary (token %d of %d)", i, h->n_tokens);
            return -1;
        }
        if (len < 0 || len > GGML_MAX_TOKEN_BYTES) {
            snprintf(err, err_size, "ggml: token %d has length %d (0..%d)", i, len, GGML_MAX_TOKEN_BYTES);
            return -1;
        }
        if (uzw_cur_bytes(&c, (size_t)len, &bytes)) {
            snprintf(err, err_size, "ggml: file ends inside token %d of %d (%d bytes)", i, h->n_tokens, len);
            return -1;
        }
        if (im && uzw_import_add_token(im, bytes, (uint32_t)len)) {
            snprintf(err, err_size, "ggml: out of memory adding token %d", i);
            return -1;
        }
    }
    h->tensors_off = c.off;
    return 0;
}

/* ---------------------------------------------------------------- names */

/* OAI per-block prefixes -> canonical; cross-attention only in decoder blocks. */
static const struct {
    const char *oai, *canon;
    int decoder_only;
} block_map[] = {
    {"attn_ln.", "attn_ln.", 0},          {"attn.query.", "attn.q.", 0},       {"attn.key.", "attn.k.", 0},
    {"attn.value.", "attn.v.", 0},        {"attn.out.", "attn.o.", 0},         {"cross_attn_ln.", "xattn_ln.", 1},
    {"cross_attn.query.", "xattn.q.", 1}, {"cross_attn.key.", "xattn.k.", 1},  {"cross_attn.value.", "xattn.v.", 1},
    {"cross_attn.out.", "xattn.o.", 1},   {"mlp_ln.", "mlp_ln.", 0},           {"mlp.0.", "fc1.", 0},
    {"mlp.2.", "fc2.", 0},
};

static const struct {
    const char *oai, *canon;
} top_map[] = {
    {"encoder.conv1.weight", "enc.conv1.weight"},
    {"encoder.conv1.bias", "enc.conv1.bias"},
    {"encoder.conv2.weight", "enc.conv2.weight"},
    {"encoder.conv2.bias", "enc.conv2.bias"},
    {"encoder.positional_embedding", "enc.pos"},
    {"encoder.ln_post.weight", "enc.ln_post.weight"},
    {"encoder.ln_post.bias", "enc.ln_post.bias"},
    {"decoder.token_embedding.weight", "dec.tok_emb"},
    {"decoder.positional_embedding", "dec.pos"},
    {"decoder.ln.weight", "dec.ln.weight"},
    {"decoder.ln.bias", "dec.ln.bias"},
};

/* Map an OAI name to its canonical name. Returns 0, or -1 for a name we do not know. */
static int ggml_canonical(const char *oai, const uzw_ggml_header *h, char out[UZW_MAX_NAME]) {
    for (size_t i = 0; i < sizeof top_map / sizeof top_map[0]; i++)
        if (strcmp(oai, top_map[i].oai) == 0) {
            snprintf(out, UZW_MAX_NAME, "%s", top_map[i].canon);
            return 0;
        }
    int dec;
    const char *p;
    if (strncmp(oai, "encoder.blocks.", 15) == 0) dec = 0, p = oai + 15;
    else if (strncmp(oai, "decoder.blocks.", 15) == 0) dec = 1, p = oai + 15;
    else return -1;
    int layer = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) layer = layer * 10 + (*p++ - '0'), digits++;
    if (digits == 0 || *p != '.' || (digits > 1 && p[-digits] == '0')) return -1;
    p++;
    int n_layer = dec ? h->hparams[8] : h->hparams[4];
    if (layer >= n_layer) return -1;
    for (size_t i = 0; i < sizeof block_map / sizeof block_map[0]; i++) {
        size_t n = strlen(block_map[i].oai);
        if (strncmp(p, block_map[i].oai, n) != 0 || (block_map[i].decoder_only && !dec)) continue;
        const char *leaf = p + n;
        if (strcmp(leaf, "weight") != 0 && strcmp(leaf, "bias") != 0) return -1;
        snprintf(out, UZW_MAX_NAME, "%s.%d.%s%s", dec ? "dec" : "enc", layer, block_map[i].canon, leaf);
        return 0;
    }
    return -1;
}

static const char *ggml_type_name(int32_t t) {
    static const char *const names[] = {"F32",  "F16",  "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1",
                                        "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"};
    return t >= 0 && t < (int32_t)(sizeof names / sizeof names[0]) ? names[t] : NULL;
}

/* ---------------------------------------------------------------- tensors */

/* Element i of an F32 (esize 4) or F16 (esize 2) little-endian array, as f32. */
static float ggml_elem(const uint8_t *src, size_t esize, uint64_t i) {
    if (esize == 4) {
        float f;
        memcpy(&f, src + 4 * i, 4);
        return f;
    }
    return uzw_f16_to_f32((uint16_t)(src[2 * i] | (src[2 * i + 1] << 8)));
}

/* One tensor record at c; adds it to im. 0 or -1. */
static int ggml_read_tensor(uzw_cursor *c, const uzw_ggml_header *h, uzw_import *im, int index, char *err,
                            size_t err_size) {
    size_t rec_off = c->off;
    int32_t n_dims, name_len, ttype;
    if (uzw_cur_i32(c, &n_dims) || uzw_cur_i32(c, &name_len) || uzw_cur_i32(c, &ttype)) {
        snprintf(err, err_size, "ggml: file ends inside the header of tensor record %d (offset %zu)", index, rec_off);
        return -1;
    }
    if (n_dims < 1 || n_dims > UZW_MAX_DIMS) {
        snprintf(err, err_size, "ggml: tensor record %d (offset %zu) has %d dimensions (1..%d)", index, rec_off, n_dims,
                 UZW_MAX_DIMS);
        return -1;
    }
    if (name_len < 1 || name_len >= GGML_MAX_NAME) {
        snprintf(err, err_size, "ggml: tensor record %d (offset %zu) has a name of %d bytes (1..%d)", index, rec_off,
                 name_len, GGML_MAX_NAME - 1);
        return -1;
    }
    size_t esize;
    if (ttype == 0) esize = 4;
    else if (ttype == 1) esize = 2;
    else {
        const char *tn = ggml_type_name(ttype);
        if (tn) snprintf(err, err_size, "ggml: tensor record %d has type %s (ggml type %d): quantized ggml models are "
                                        "not supported; convert an F16 or F32 model", index, tn, ttype);
        else snprintf(err, err_size, "ggml: tensor record %d has unknown ggml type %d", index, ttype);
        return -1;
    }
    int64_t dims[UZW_MAX_DIMS] = {0};
    uint64_t n_elem = 1;
    for (int i = 0; i < n_dims; i++) {
        int32_t ne;
        if (uzw_cur_i32(c, &ne)) {
            snprintf(err, err_size, "ggml: file ends inside the shape of tensor record %d", index);
            return -1;
        }
        if (ne < 1) {
            snprintf(err, err_size, "ggml: tensor record %d has dimension %d = %d", index, i, ne);
            return -1;
        }
        dims[n_dims - 1 - i] = ne; /* ne[0] is the innermost (last PyTorch) dimension */
        if (n_elem > ((uint64_t)1 << 40) / (uint64_t)ne) {
            snprintf(err, err_size, "ggml: tensor record %d is absurdly large", index);
            return -1;
        }
        n_elem *= (uint64_t)ne;
    }
    const uint8_t *name_bytes;
    if (uzw_cur_bytes(c, (size_t)name_len, &name_bytes)) {
        snprintf(err, err_size, "ggml: file ends inside the name of tensor record %d", index);
        return -1;
    }
    char oai[GGML_MAX_NAME];
    memcpy(oai, name_bytes, (size_t)name_len);
    oai[name_len] = '\0';
    if (strlen(oai) != (size_t)name_len) {
        snprintf(err, err_size, "ggml: tensor record %d has a NUL byte inside its name", index);
        return -1;
    }
    uint64_t nbytes = n_elem * esize;
    const uint8_t *src;
    if (nbytes > SIZE_MAX || uzw_cur_bytes(c, (size_t)nbytes, &src)) {
        snprintf(err, err_size, "ggml: tensor %s needs %llu bytes but the file has %zu left", oai,
                 (unsigned long long)nbytes, c->size - c->off);
        return -1;
    }
    char canon[UZW_MAX_NAME];
    if (ggml_canonical(oai, h, canon)) {
        /* OAI has no key bias; a converter that wrote zeros for it is harmless: check and drop. */
        size_t L = strlen(oai);
        if (L > 9 && strcmp(oai + L - 9, ".key.bias") == 0) {
            for (uint64_t i = 0; i < n_elem; i++) {
                if (ggml_elem(src, esize, i) != 0.0f) {
                    snprintf(err, err_size, "ggml: %s is non-zero; Whisper has no key bias", oai);
                    return -1;
                }
            }
            return 0;
        }
        snprintf(err, err_size, "ggml: unknown tensor '%s' (tensor record %d)", oai, index);
        return -1;
    }
    /* conv biases are written as [D, 1]: squeeze */
    if ((strcmp(canon, "enc.conv1.bias") == 0 || strcmp(canon, "enc.conv2.bias") == 0) && n_dims == 2 && dims[1] == 1)
        n_dims = 1, dims[1] = 0;
    float *data = malloc((size_t)(n_elem ? n_elem : 1) * sizeof *data);
    if (!data) {
        snprintf(err, err_size, "ggml: out of memory for tensor %s (%llu elements)", oai, (unsigned long long)n_elem);
        return -1;
    }
    for (uint64_t i = 0; i < n_elem; i++) data[i] = ggml_elem(src, esize, i);
    char e2[256];
    if (uzw_import_add(im, canon, n_dims, dims, data, e2, sizeof e2)) {
        snprintf(err, err_size, "ggml: tensor %s: %s", oai, e2);
        return -1;
    }
    return 0;
}

static const char *ftype_name(int32_t ftype) {
    switch (ftype % 1000) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    default: return NULL;
    }
}

int uzw_import_ggml_mem(const uint8_t *data, size_t size, uzw_import *im, char *err, size_t err_size) {
    uzw_ggml_header h;
    if (uzw_ggml_parse_header(data, size, &h, im, err, err_size)) return -1;
    const int32_t *hp = h.hparams;
    /* file order: n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx,
     * n_text_state, n_text_head, n_text_layer, n_mels, ftype */
    uzw_dims d = {.n_mels = hp[9], .n_audio_ctx = hp[1], .n_audio_state = hp[2], .n_audio_head = hp[3],
                  .n_audio_layer = hp[4], .n_text_ctx = hp[5], .n_text_state = hp[6], .n_text_head = hp[7],
                  .n_text_layer = hp[8], .n_vocab = hp[0]};
    char e2[256];
    if (uzw_dims_validate(&d, e2, sizeof e2)) {
        snprintf(err, err_size, "ggml: bad hyperparameters: %s", e2);
        return -1;
    }
    int32_t ft = hp[10];
    if (ft < 0 || ft % 1000 > 1) {
        const char *fn = ftype_name(ft);
        snprintf(err, err_size, "ggml: model file type %d (%s) is quantized; only F32 and F16 ggml models are "
                                "supported",
                 ft, fn ? fn : "unknown");
        return -1;
    }
    if (h.n_tokens > d.n_vocab) {
        snprintf(err, err_size, "ggml: the vocabulary lists %d tokens but n_vocab is %d", h.n_tokens, d.n_vocab);
        return -1;
    }
    im->dims = d;
    im->have_dims = 1;
    uzw_cursor c = {data, size, h.tensors_off};
    int index = 0;
    while (c.off < c.size) {
        if (index >= (int)UZW_MAX_TENSORS) {
            snprintf(err, err_size, "ggml: more than %u tensor records", UZW_MAX_TENSORS);
            return -1;
        }
        if (ggml_read_tensor(&c, &h, im, index, err, err_size)) return -1;
        index++;
    }
    if (index == 0) {
        snprintf(err, err_size, "ggml: the file holds the header and vocabulary (%d tokens) but no weight tensors "
                                "(a vocab-only test file?)", h.n_tokens);
        return -1;
    }
    if (uzw_import_check_complete(im, "ggml", err, err_size)) return -1;
    snprintf(im->source_format, sizeof im->source_format, "ggml");
    return 0;
}

/* ---------------------------------------------------------------- file entry point */

int uzw_import_ggml(const char *path, uzw_import *im, char *err, size_t err_size) {
    uzw_fmap m;
    if (uzw_fmap_open(path, &m, err, err_size)) return -1;
    int rc = uzw_import_ggml_mem(m.data, m.size, im, err, err_size);
    uzw_fmap_close(&m);
    if (rc) return -1;
    if (uzw_sha256_files(&path, 1, im->source_sha256, err, err_size)) return -1;
    const char *base = strrchr(path, '/');
    snprintf(im->source_files, sizeof im->source_files, "%s", base ? base + 1 : path);
    return 0;
}
