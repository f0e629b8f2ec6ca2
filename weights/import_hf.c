/*
 * import_hf.c - a HuggingFace Whisper folder (config.json, generation_config.json, tokenizer files,
 * model.safetensors or its sharded index) into the import form (whisper-facts §6).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import.h"
#include "import_internal.h"
#include "safetensors.h"

/* ---------------------------------------------------------------- config.json */
static int hf_int(const json_t *cfg, const char *key, int32_t *out, const char *path, char *err, size_t err_size) {
    const json_t *v = json_object_get(cfg, key);
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 1000000) {
        snprintf(err, err_size, "%s: '%s' missing or not a positive integer", path, key);
        return -1;
    }
    *out = (int32_t)json_integer_value(v);
    return 0;
}

static int hf_read_config(const char *dir, uzw_import *im, char *err, size_t err_size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t jerr;
    json_t *cfg = json_load_file(path, 0, &jerr);
    if (!cfg) {
        snprintf(err, err_size, "%s: %s (line %d)", path, jerr.text, jerr.line);
        return -1;
    }
    int rc = -1;
    uzw_dims *d = &im->dims;
    int32_t state = 0;
    const json_t *mt = json_object_get(cfg, "model_type");
    if (mt && !(json_is_string(mt) && strcmp(json_string_value(mt), "whisper") == 0)) {
        snprintf(err, err_size, "%s: model_type is not \"whisper\"", path);
        goto done;
    }
    if (hf_int(cfg, "num_mel_bins", &d->n_mels, path, err, err_size) ||
        hf_int(cfg, "max_source_positions", &d->n_audio_ctx, path, err, err_size) ||
        hf_int(cfg, "d_model", &state, path, err, err_size) ||
        hf_int(cfg, "encoder_attention_heads", &d->n_audio_head, path, err, err_size) ||
        hf_int(cfg, "encoder_layers", &d->n_audio_layer, path, err, err_size) ||
        hf_int(cfg, "max_target_positions", &d->n_text_ctx, path, err, err_size) ||
        hf_int(cfg, "decoder_attention_heads", &d->n_text_head, path, err, err_size) ||
        hf_int(cfg, "decoder_layers", &d->n_text_layer, path, err, err_size) ||
        hf_int(cfg, "vocab_size", &d->n_vocab, path, err, err_size))
        goto done;
    d->n_audio_state = d->n_text_state = state;
    static const char *const ffn_keys[2] = {"encoder_ffn_dim", "decoder_ffn_dim"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = json_object_get(cfg, ffn_keys[i]);
        if (v && !(json_is_integer(v) && json_integer_value(v) == 4 * (json_int_t)state)) {
            snprintf(err, err_size, "%s: %s must be 4 x d_model = %d (other MLP widths are unsupported)", path,
                     ffn_keys[i], 4 * state);
            goto done;
        }
    }
    const json_t *act = json_object_get(cfg, "activation_function");
    if (act && !(json_is_string(act) && strcmp(json_string_value(act), "gelu") == 0)) {
        snprintf(err, err_size, "%s: activation_function must be \"gelu\" (others are unsupported)", path);
        goto done;
    }
    if (json_is_true(json_object_get(cfg, "scale_embedding"))) {
        snprintf(err, err_size, "%s: scale_embedding = true is unsupported", path);
        goto done;
    }
    im->have_dims = 1;
    rc = 0;
done:
    json_decref(cfg);
    return rc;
}

/* ---------------------------------------------------------------- generation_config.json */
static int hf_int_list(const json_t *a, int32_t **out, int *n, const char *what, char *err, size_t err_size) {
    size_t len = json_array_size(a);
    int32_t *v = malloc((len ? len : 1) * sizeof *v); /* an empty list stays non-NULL: "suppress nothing" */
    if (!v) {
        snprintf(err, err_size, "generation_config: out of memory");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        const json_t *x = json_array_get(a, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > INT32_MAX) {
            snprintf(err, err_size, "generation_config: %s[%zu] is not a non-negative integer", what, i);
            free(v);
            return -1;
        }
        v[i] = (int32_t)json_integer_value(x);
    }
    *out = v;
    *n = (int)len;
    return 0;
}

static int hf_read_generation(const char *dir, uzw_import *im, char *err, size_t err_size) {
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    if (stat(path, &st) != 0) return 0; /* optional */
    json_error_t jerr;
    json_t *g = json_load_file(path, 0, &jerr);
    if (!g) {
        snprintf(err, err_size, "%s: %s (line %d)", path, jerr.text, jerr.line);
        return -1;
    }
    int rc = -1;
    const json_t *sup = json_object_get(g, "suppress_tokens");
    const json_t *beg = json_object_get(g, "begin_suppress_tokens");
    const json_t *heads = json_object_get(g, "alignment_heads");
    if (json_is_array(sup) && hf_int_list(sup, &im->suppress, &im->n_suppress, "suppress_tokens", err, err_size))
        goto done;
    if (json_is_array(beg) &&
        hf_int_list(beg, &im->suppress_begin, &im->n_suppress_begin, "begin_suppress_tokens", err, err_size))
        goto done;
    if (json_is_array(heads) && json_array_size(heads) > 0) {
        size_t n = json_array_size(heads);
        if (!(im->align_heads = malloc(n * 2 * sizeof(int32_t)))) {
            snprintf(err, err_size, "generation_config: out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *p = json_array_get(heads, i);
            const json_t *l = json_array_get(p, 0), *h = json_array_get(p, 1);
            if (json_array_size(p) != 2 || !json_is_integer(l) || !json_is_integer(h) || json_integer_value(l) < 0 ||
                json_integer_value(h) < 0 || json_integer_value(l) > 4096 || json_integer_value(h) > 4096) {
                snprintf(err, err_size, "%s: alignment_heads[%zu] is not a [layer, head] pair", path, i);
                goto done;
            }
            im->align_heads[2 * i] = (int32_t)json_integer_value(l);
            im->align_heads[2 * i + 1] = (int32_t)json_integer_value(h);
        }
        im->n_align_heads = (int)n;
    }
    rc = 0;
done:
    json_decref(g);
    return rc;
}

/* ---------------------------------------------------------------- tensor names */
static const char *const hf_layer_map[][2] = {
    {"self_attn.q_proj", "attn.q"},        {"self_attn.k_proj", "attn.k"},
    {"self_attn.v_proj", "attn.v"},        {"self_attn.out_proj", "attn.o"},
    {"encoder_attn.q_proj", "xattn.q"},    {"encoder_attn.k_proj", "xattn.k"},
    {"encoder_attn.v_proj", "xattn.v"},    {"encoder_attn.out_proj", "xattn.o"},
    {"self_attn_layer_norm", "attn_ln"},   {"encoder_attn_layer_norm", "xattn_ln"},
    {"final_layer_norm", "mlp_ln"},        {"fc1", "fc1"},
    {"fc2", "fc2"},
};

static const char *const hf_top_map[][2] = {
    {"encoder.conv1.weight", "enc.conv1.weight"},   {"encoder.conv1.bias", "enc.conv1.bias"},
    {"encoder.conv2.weight", "enc.conv2.weight"},   {"encoder.conv2.bias", "enc.conv2.bias"},
    {"encoder.embed_positions.weight", "enc.pos"},  {"encoder.layer_norm.weight", "enc.ln_post.weight"},
    {"encoder.layer_norm.bias", "enc.ln_post.bias"}, {"decoder.embed_tokens.weight", "dec.tok_emb"},
    {"decoder.embed_positions.weight", "dec.pos"},  {"decoder.layer_norm.weight", "dec.ln.weight"},
    {"decoder.layer_norm.bias", "dec.ln.bias"},
};

int uzw_hf_map_name(const char *hf, char out[UZW_MAX_NAME]) {
    if (strcmp(hf, "proj_out.weight") == 0) return HF_PROJ_OUT;
    const char *p = strncmp(hf, "model.", 6) == 0 ? hf + 6 : hf;
    for (size_t i = 0; i < sizeof hf_top_map / sizeof hf_top_map[0]; i++)
        if (strcmp(p, hf_top_map[i][0]) == 0) {
            snprintf(out, UZW_MAX_NAME, "%s", hf_top_map[i][1]);
            return HF_CANONICAL;
        }
    const char *side;
    if (strncmp(p, "encoder.layers.", 15) == 0) side = "enc";
    else if (strncmp(p, "decoder.layers.", 15) == 0) side = "dec";
    else return HF_UNKNOWN;
    p += 15;
    int layer = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 5) layer = layer * 10 + (*p++ - '0'), digits++;
    if (digits == 0 || *p != '.') return HF_UNKNOWN;
    p++;
    const char *dot = strrchr(p, '.');
    if (!dot || (strcmp(dot, ".weight") != 0 && strcmp(dot, ".bias") != 0)) return HF_UNKNOWN;
    size_t mod_len = (size_t)(dot - p);
    for (size_t i = 0; i < sizeof hf_layer_map / sizeof hf_layer_map[0]; i++) {
        const char *from = hf_layer_map[i][0];
        if (strlen(from) != mod_len || strncmp(p, from, mod_len) != 0) continue;
        if (side[0] == 'e' && strncmp(from, "encoder_attn", 12) == 0) return HF_UNKNOWN;
        snprintf(out, UZW_MAX_NAME, "%s.%d.%s%s", side, layer, hf_layer_map[i][1], dot);
        int is_key = strcmp(hf_layer_map[i][1], "attn.k") == 0 || strcmp(hf_layer_map[i][1], "xattn.k") == 0;
        return is_key && strcmp(dot, ".bias") == 0 ? HF_KEY_BIAS : HF_CANONICAL;
    }
    return HF_UNKNOWN;
}

/* ---------------------------------------------------------------- weights */
static int hf_take_tensor(uzw_import *im, const uzw_st_file *f, const uzw_st_entry *e, const char *canon,
                          char *err, size_t err_size) {
    int nd;
    int64_t want[UZW_MAX_DIMS];
    if (uzw_schema_shape(&im->dims, canon, &nd, want) != 0) {
        snprintf(err, err_size, "%s: tensor '%s' (%s) does not exist in a model of the dimensions config.json gives",
                 f->path, e->name, canon);
        return -1;
    }
    if (e->n_dims > UZW_MAX_DIMS) {
        snprintf(err, err_size, "%s: tensor '%s' has %d dimensions", f->path, e->name, e->n_dims);
        return -1;
    }
    float *v;
    if (uzw_st_read_f32(f, e, &v, err, err_size) != 0) return -1;
    return uzw_import_add(im, canon, e->n_dims, e->shape, v, err, err_size);
}

static int hf_check_zero_bias(const uzw_st_file *f, const uzw_st_entry *e, char *err, size_t err_size) {
    float *v;
    if (uzw_st_read_f32(f, e, &v, err, err_size) != 0) return -1;
    for (uint64_t i = 0; i < e->numel; i++)
        if (v[i] != 0.0f) {
            snprintf(err, err_size, "%s: tensor '%s' is non-zero (element %llu = %g): Whisper's key projection has "
                     "no bias and this build cannot use one", f->path, e->name, (unsigned long long)i, (double)v[i]);
            free(v);
            return -1;
        }
    free(v);
    return 0;
}

/* proj_out.weight, when stored, must equal the token embedding (tied output projection). */
static int hf_check_proj_out(uzw_import *im, const uzw_st_file *f, const uzw_st_entry *e, char *err, size_t err_size) {
    const uzw_import_tensor *emb = uzw_import_find(im, "dec.tok_emb");
    uint64_t n = 1;
    for (int i = 0; emb && i < emb->n_dims; i++) n *= (uint64_t)emb->dims[i];
    if (!emb || emb->n_dims != e->n_dims || n != e->numel) {
        snprintf(err, err_size, "%s: proj_out.weight does not match model.decoder.embed_tokens.weight: untied output "
                 "projection unsupported", f->path);
        return -1;
    }
    float *v;
    if (uzw_st_read_f32(f, e, &v, err, err_size) != 0) return -1;
    int same = memcmp(v, emb->data, n * sizeof(float)) == 0;
    free(v);
    if (!same) {
        snprintf(err, err_size, "%s: proj_out.weight differs from model.decoder.embed_tokens.weight: untied output "
                 "projection unsupported", f->path);
        return -1;
    }
    return 0;
}

static int hf_read_weights(const uzw_st_set *s, uzw_import *im, char *err, size_t err_size) {
    const uzw_st_file *proj_file = NULL;
    const uzw_st_entry *proj = NULL;
    for (int fi = 0; fi < s->n_files; fi++) {
        const uzw_st_file *f = &s->files[fi];
        for (int i = 0; i < f->h.n; i++) {
            const uzw_st_entry *e = &f->h.e[i];
            char canon[UZW_MAX_NAME];
            switch (uzw_hf_map_name(e->name, canon)) {
            case HF_CANONICAL:
                if (hf_take_tensor(im, f, e, canon, err, err_size) != 0) return -1;
                break;
            case HF_KEY_BIAS:
                if (hf_check_zero_bias(f, e, err, err_size) != 0) return -1;
                break;
            case HF_PROJ_OUT:
                proj_file = f;
                proj = e;
                break;
            default:
                fprintf(stderr, "uzwhisper: warning: %s: ignoring unknown tensor '%s'\n", f->path, e->name);
            }
        }
    }
    return proj ? hf_check_proj_out(im, proj_file, proj, err, err_size) : 0;
}

/* source.sha256 over the safetensors files in order, source.files their names. */
static int hf_record_source(const uzw_st_set *s, uzw_import *im, char *err, size_t err_size) {
    const char *paths[UZW_ST_MAX_SHARDS];
    size_t o = 0;
    im->source_files[0] = '\0';
    for (int i = 0; i < s->n_files; i++) {
        paths[i] = s->files[i].path;
        const char *base = strrchr(paths[i], '/');
        base = base ? base + 1 : paths[i];
        size_t need = strlen(base) + (i ? 1 : 0);
        if (o + need + 4 >= sizeof im->source_files) {
            snprintf(im->source_files + o, sizeof im->source_files - o, ",...");
            break;
        }
        o += (size_t)snprintf(im->source_files + o, sizeof im->source_files - o, "%s%s", i ? "," : "", base);
    }
    snprintf(im->source_format, sizeof im->source_format, "hf-safetensors");
    return uzw_sha256_files(paths, s->n_files, im->source_sha256, err, err_size);
}

int uzw_import_hf(const char *dir, uzw_import *im, char *err, size_t err_size) {
    if (!dir || !im) {
        snprintf(err, err_size, "import hf: no folder given");
        return -1;
    }
    if (hf_read_config(dir, im, err, err_size) != 0 || hf_read_generation(dir, im, err, err_size) != 0 ||
        uzw_hf_read_tokenizer(dir, im, err, err_size) != 0)
        return -1;
    uzw_st_set s;
    if (uzw_st_set_open_dir(dir, &s, err, err_size) != 0) return -1;
    int rc = hf_read_weights(&s, im, err, err_size);
    if (rc == 0) rc = hf_record_source(&s, im, err, err_size);
    uzw_st_set_close(&s);
    return rc;
}
