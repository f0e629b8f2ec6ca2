/*
 * schema.c - the Whisper dimension set and the canonical tensor list of a .uzw model.
 * Order of the list: encoder top (7), encoder layers (15 each), decoder top (4), decoder layers
 * (24 each). Shapes use the letters of schema.h: M mels, A audio ctx, D state, F = 4D, T text ctx,
 * V vocab.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* ---------------------------------------------------------------- dimensions */

const char *const uzw_dims_keys[10] = {
    "dims.n_mels",     "dims.n_audio_ctx",  "dims.n_audio_state", "dims.n_audio_head", "dims.n_audio_layer",
    "dims.n_text_ctx", "dims.n_text_state", "dims.n_text_head",   "dims.n_text_layer", "dims.n_vocab",
};

int32_t *uzw_dims_field(uzw_dims *d, int i) {
    if (!d) return NULL;
    switch (i) {
    case 0: return &d->n_mels;
    case 1: return &d->n_audio_ctx;
    case 2: return &d->n_audio_state;
    case 3: return &d->n_audio_head;
    case 4: return &d->n_audio_layer;
    case 5: return &d->n_text_ctx;
    case 6: return &d->n_text_state;
    case 7: return &d->n_text_head;
    case 8: return &d->n_text_layer;
    case 9: return &d->n_vocab;
    default: return NULL;
    }
}

#define UZW_MAX_STATE 8192
#define UZW_MAX_LAYERS 128
#define UZW_MAX_AUDIO_CTX 1500 /* 3000 mel frames / conv2 stride 2 */
#define UZW_MAX_TEXT_CTX 4096
#define UZW_MIN_VOCAB 51864    /* English-only models; the specials need at least this many ids */
#define UZW_MAX_VOCAB 60000

int uzw_dims_validate(const uzw_dims *d, char *err, size_t err_size) {
    if (!d) {
        snprintf(err, err_size, "no model dimensions given");
        return -1;
    }
    static const int32_t upper[10] = {128, UZW_MAX_AUDIO_CTX, UZW_MAX_STATE, UZW_MAX_STATE, UZW_MAX_LAYERS,
                                      UZW_MAX_TEXT_CTX, UZW_MAX_STATE, UZW_MAX_STATE, UZW_MAX_LAYERS,
                                      UZW_MAX_VOCAB};
    uzw_dims c = *d;
    for (int i = 0; i < 10; i++) {
        int32_t v = *uzw_dims_field(&c, i);
        if (v <= 0 || v > upper[i]) {
            snprintf(err, err_size, "model dimension %s = %d is out of range (1..%d)", uzw_dims_keys[i], v,
                     upper[i]);
            return -1;
        }
    }
    if (d->n_mels != 80 && d->n_mels != 128) {
        snprintf(err, err_size, "model dimension dims.n_mels = %d: Whisper uses 80 or 128 mel bins", d->n_mels);
        return -1;
    }
    if (d->n_audio_state != d->n_text_state) {
        snprintf(err, err_size, "dims.n_audio_state = %d differs from dims.n_text_state = %d (Whisper needs them equal)",
                 d->n_audio_state, d->n_text_state);
        return -1;
    }
    if (d->n_audio_state % d->n_audio_head != 0) {
        snprintf(err, err_size, "dims.n_audio_head = %d does not divide dims.n_audio_state = %d", d->n_audio_head,
                 d->n_audio_state);
        return -1;
    }
    if (d->n_text_state % d->n_text_head != 0) {
        snprintf(err, err_size, "dims.n_text_head = %d does not divide dims.n_text_state = %d", d->n_text_head,
                 d->n_text_state);
        return -1;
    }
    if (d->n_vocab < UZW_MIN_VOCAB) {
        snprintf(err, err_size, "dims.n_vocab = %d is too small: Whisper vocabularies hold at least %d tokens",
                 d->n_vocab, UZW_MIN_VOCAB);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- canonical tensors */

enum { N_ENC_TOP = 7, N_ENC_LAYER = 15, N_DEC_TOP = 4, N_DEC_LAYER = 24 };

/* Shape kinds. */
typedef enum { S_D, S_F, S_DD, S_FD, S_DF, S_DM3, S_DD3, S_AD, S_VD, S_TD } shape_kind;

typedef struct {
    const char *name;
    shape_kind shape;
} entry;

static const entry enc_top[N_ENC_TOP] = {
    {"enc.conv1.weight", S_DM3}, {"enc.conv1.bias", S_D}, {"enc.conv2.weight", S_DD3}, {"enc.conv2.bias", S_D},
    {"enc.pos", S_AD},           {"enc.ln_post.weight", S_D}, {"enc.ln_post.bias", S_D},
};

/* suffixes after "enc.{i}." */
static const entry enc_layer[N_ENC_LAYER] = {
    {"attn_ln.weight", S_D}, {"attn_ln.bias", S_D},   {"attn.q.weight", S_DD}, {"attn.q.bias", S_D},
    {"attn.k.weight", S_DD}, {"attn.v.weight", S_DD}, {"attn.v.bias", S_D},    {"attn.o.weight", S_DD},
    {"attn.o.bias", S_D},    {"mlp_ln.weight", S_D},  {"mlp_ln.bias", S_D},    {"fc1.weight", S_FD},
    {"fc1.bias", S_F},      {"fc2.weight", S_DF},    {"fc2.bias", S_D},
};

static const entry dec_top[N_DEC_TOP] = {
    {"dec.tok_emb", S_VD}, {"dec.pos", S_TD}, {"dec.ln.weight", S_D}, {"dec.ln.bias", S_D},
};

/* suffixes after "dec.{i}." */
static const entry dec_layer[N_DEC_LAYER] = {
    {"attn_ln.weight", S_D},  {"attn_ln.bias", S_D},    {"attn.q.weight", S_DD},  {"attn.q.bias", S_D},
    {"attn.k.weight", S_DD},  {"attn.v.weight", S_DD},  {"attn.v.bias", S_D},     {"attn.o.weight", S_DD},
    {"attn.o.bias", S_D},     {"xattn_ln.weight", S_D}, {"xattn_ln.bias", S_D},   {"xattn.q.weight", S_DD},
    {"xattn.q.bias", S_D},    {"xattn.k.weight", S_DD}, {"xattn.v.weight", S_DD}, {"xattn.v.bias", S_D},
    {"xattn.o.weight", S_DD}, {"xattn.o.bias", S_D},    {"mlp_ln.weight", S_D},   {"mlp_ln.bias", S_D},
    {"fc1.weight", S_FD},     {"fc1.bias", S_F},       {"fc2.weight", S_DF},     {"fc2.bias", S_D},
};

static void set_shape(const uzw_dims *d, const entry *e, int *n_dims, int64_t dims[UZW_MAX_DIMS]) {
    int64_t D = d->n_audio_state, F = 4 * (int64_t)d->n_audio_state;
    for (int i = 0; i < UZW_MAX_DIMS; i++) dims[i] = 0;
    switch (e->shape) {
    case S_D: *n_dims = 1; dims[0] = D; return;
    case S_DD: *n_dims = 2; dims[0] = D; dims[1] = D; return;
    case S_F: *n_dims = 1; dims[0] = F; return;
    case S_FD: *n_dims = 2; dims[0] = F; dims[1] = D; return;
    case S_DF: *n_dims = 2; dims[0] = D; dims[1] = F; return;
    case S_DM3: *n_dims = 3; dims[0] = D; dims[1] = d->n_mels; dims[2] = 3; return;
    case S_DD3: *n_dims = 3; dims[0] = D; dims[1] = D; dims[2] = 3; return;
    case S_AD: *n_dims = 2; dims[0] = d->n_audio_ctx; dims[1] = D; return;
    case S_VD: *n_dims = 2; dims[0] = d->n_vocab; dims[1] = D; return;
    case S_TD: *n_dims = 2; dims[0] = d->n_text_ctx; dims[1] = d->n_text_state; return;
    }
}

static int n_enc_layers(const uzw_dims *d) { return d->n_audio_layer > 0 ? d->n_audio_layer : 0; }
static int n_dec_layers(const uzw_dims *d) { return d->n_text_layer > 0 ? d->n_text_layer : 0; }

int uzw_schema_count(const uzw_dims *d) {
    if (!d) return 0;
    return N_ENC_TOP + N_ENC_LAYER * n_enc_layers(d) + N_DEC_TOP + N_DEC_LAYER * n_dec_layers(d);
}

void uzw_schema_get(const uzw_dims *d, int idx, char name[UZW_MAX_NAME], int *n_dims, int64_t dims[UZW_MAX_DIMS]) {
    name[0] = 0;
    *n_dims = 0;
    for (int i = 0; i < UZW_MAX_DIMS; i++) dims[i] = 0;
    if (!d || idx < 0) return;
    int n_enc = N_ENC_LAYER * n_enc_layers(d), n_dec = N_DEC_LAYER * n_dec_layers(d);
    const entry *e;
    if (idx < N_ENC_TOP) {
        e = &enc_top[idx];
        snprintf(name, UZW_MAX_NAME, "%s", e->name);
    } else if ((idx -= N_ENC_TOP) < n_enc) {
        e = &enc_layer[idx % N_ENC_LAYER];
        snprintf(name, UZW_MAX_NAME, "enc.%d.%s", idx / N_ENC_LAYER, e->name);
    } else if ((idx -= n_enc) < N_DEC_TOP) {
        e = &dec_top[idx];
        snprintf(name, UZW_MAX_NAME, "%s", e->name);
    } else if ((idx -= N_DEC_TOP) < n_dec) {
        e = &dec_layer[idx % N_DEC_LAYER];
        snprintf(name, UZW_MAX_NAME, "dec.%d.%s", idx / N_DEC_LAYER, e->name);
    } else {
        return; /* out of range: empty name, 0 dims */
    }
    set_shape(d, e, n_dims, dims);
}

/* Parse a layer index "0", "12" (no sign, no leading zeros) followed by '.'; returns the index and
 * sets *rest past the dot, or -1. */
static int parse_layer(const char *s, const char **rest) {
    if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '.')) return -1;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 100000) return -1;
        s++;
    }
    if (*s != '.') return -1;
    *rest = s + 1;
    return (int)v;
}

int uzw_schema_shape(const uzw_dims *d, const char *name, int *n_dims, int64_t dims[UZW_MAX_DIMS]) {
    if (!d || !name) return -1;
    const entry *table = NULL;
    int n_table = 0, n_layers = 0;
    if (strncmp(name, "enc.", 4) == 0) {
        for (int i = 0; i < N_ENC_TOP; i++)
            if (strcmp(name, enc_top[i].name) == 0) { set_shape(d, &enc_top[i], n_dims, dims); return 0; }
        table = enc_layer, n_table = N_ENC_LAYER, n_layers = n_enc_layers(d);
    } else if (strncmp(name, "dec.", 4) == 0) {
        for (int i = 0; i < N_DEC_TOP; i++)
            if (strcmp(name, dec_top[i].name) == 0) { set_shape(d, &dec_top[i], n_dims, dims); return 0; }
        table = dec_layer, n_table = N_DEC_LAYER, n_layers = n_dec_layers(d);
    } else {
        return -1;
    }
    const char *rest = NULL;
    int layer = parse_layer(name + 4, &rest);
    if (layer < 0 || layer >= n_layers) return -1;
    for (int i = 0; i < n_table; i++)
        if (strcmp(rest, table[i].name) == 0) { set_shape(d, &table[i], n_dims, dims); return 0; }
    return -1;
}

int uzw_schema_quantisable(const char *name) {
    static const char *const suffix[] = {".attn.q.weight",  ".attn.k.weight",  ".attn.v.weight",  ".attn.o.weight",
                                         ".xattn.q.weight", ".xattn.k.weight", ".xattn.v.weight", ".xattn.o.weight",
                                         ".fc1.weight",     ".fc2.weight"};
    if (!strcmp(name, "dec.tok_emb")) return 1;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t k = strlen(suffix[i]);
        if (n > k && !strcmp(name + n - k, suffix[i])) return 1;
    }
    return 0;
}
