/*
 * bn_load.c - an AdapterHub (`adapters` library) bottleneck adapter for Whisper: adapter_config.json
 * ({"config": {"architecture": "bottleneck", ...BnConfig...}, "hidden_size", "name", ...}) and
 * adapter.safetensors with keys
 *   [model.]{encoder,decoder}.layers.{i}.{attention,cross_attention,output}_adapters.adapters.{name}.
 *       adapter_down.{0|1}.{weight,bias}   [dim, D], [dim]   (index 1 when ln_before: 0 is the norm)
 *       adapter_up.{weight,bias}           [D, dim], [D]
 *       adapter_norm_{before,after}.{weight,bias} [D]
 * Layers are numbered encoder 0..La-1, decoder La.. (the library's iter_layers), which is what
 * leave_out and a per-layer reduction_factor refer to. The width is int(D // reduction_factor).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/adapter.h"
#include "core/util.h"

enum { P_DOWN_W, P_DOWN_B, P_UP_W, P_UP_B, P_LNB_W, P_LNB_B, P_LNA_W, P_LNA_B, N_PARTS };

typedef struct {
    int mh, out, cross;              /* places enabled */
    double rf_default;               /* reduction factor */
    json_t *rf_map;                  /* borrowed, or NULL */
    int act;
    float scaling;
    int ln_before, ln_after, residual_before_ln, original_ln_before, original_ln_after, adapter_residual_before_ln;
    int leave_out[256];
    int n_leave_out;
} bn_config;

static const char *const place_keys[UZW_N_BN_PLACES] = {"attention_adapters", "cross_attention_adapters", "output_adapters"};

static int get_bool(const json_t *c, const char *key, int dflt, int *out, char *err, size_t es) {
    const json_t *v = json_object_get(c, key);
    if (!v || json_is_null(v)) { *out = dflt; return 0; }
    if (!json_is_boolean(v)) return uzw_errf(err, es, "adapter_config.json: config.%s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

static int parse_act(const char *s, int *act) {
    static const struct { const char *name; int act; } acts[] = {
        {"relu", UZW_ACT_RELU}, {"gelu", UZW_ACT_GELU}, {"gelu_new", UZW_ACT_GELU_TANH},
        {"gelu_pytorch_tanh", UZW_ACT_GELU_TANH}, {"swish", UZW_ACT_SILU}, {"silu", UZW_ACT_SILU},
        {"tanh", UZW_ACT_TANH}, {"leakyrelu", UZW_ACT_LEAKY_RELU}, {"sigmoid", UZW_ACT_SIGMOID},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (strcasecmp(s, acts[i].name) == 0) { *act = acts[i].act; return 0; }
    return -1;
}

/* Fields that must be off, each with what it is. */
static const char *const refused[][2] = {
    {"is_parallel", "parallel adapters"}, {"use_gating", "gated adapters (UniPELT)"},
    {"phm_layer", "PHM (Compacter) layers"}, {"inv_adapter", "invertible adapters"},
};

static uzw_status parse_config(const json_t *top, const uzw_dims *d, bn_config *bc, char *err, size_t es) {
    const json_t *c = json_object_get(top, "config");
    const json_t *arch = json_object_get(c, "architecture");
    /* the library reads a missing or null architecture as a bottleneck adapter (BnConfig) */
    if (arch && !json_is_null(arch) && (!json_is_string(arch) || strcmp(json_string_value(arch), "bottleneck") != 0)) {
        uzw_errf(err, es, "adapter_config.json: config.architecture '%.40s' is not supported (AdapterHub bottleneck "
                 "adapters only; LoRA in PEFT's format)", json_is_string(arch) ? json_string_value(arch) : "(none)");
        return UZW_ERR_UNSUPPORTED;
    }
    const json_t *mt = json_object_get(top, "model_type");
    if (mt && (!json_is_string(mt) || strcmp(json_string_value(mt), "whisper") != 0)) {
        uzw_errf(err, es, "adapter_config.json: model_type '%.40s' is not whisper", json_is_string(mt) ? json_string_value(mt) : "?");
        return UZW_ERR_MODEL_FORMAT;
    }
    const json_t *hs = json_object_get(top, "hidden_size");
    if (hs && json_integer_value(hs) != d->n_text_state) {
        uzw_errf(err, es, "adapter_config.json: hidden_size %lld, but the model's width is %d", (long long)json_integer_value(hs),
                 d->n_text_state);
        return UZW_ERR_MODEL_FORMAT;
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const json_t *v = json_object_get(c, refused[i][0]);
        if (v && !json_is_null(v) && !json_is_false(v)) {
            uzw_errf(err, es, "adapter_config.json sets config.%s: %s are not supported", refused[i][0], refused[i][1]);
            return UZW_ERR_UNSUPPORTED;
        }
    }
    if (get_bool(c, "mh_adapter", 0, &bc->mh, err, es) || get_bool(c, "output_adapter", 0, &bc->out, err, es) ||
        get_bool(c, "cross_adapter", 0, &bc->cross, err, es) || get_bool(c, "ln_before", 0, &bc->ln_before, err, es) ||
        get_bool(c, "ln_after", 0, &bc->ln_after, err, es) ||
        get_bool(c, "original_ln_before", 0, &bc->original_ln_before, err, es) ||
        get_bool(c, "original_ln_after", 1, &bc->original_ln_after, err, es) ||
        get_bool(c, "adapter_residual_before_ln", 0, &bc->adapter_residual_before_ln, err, es))
        return UZW_ERR_MODEL_FORMAT;
    const json_t *rb = json_object_get(c, "residual_before_ln");
    if (json_is_string(rb)) {
        uzw_errf(err, es, "adapter_config.json: config.residual_before_ln = \"%.20s\" is not supported for Whisper (whose "
                 "layers give the adapter no layer norm)", json_string_value(rb));
        return UZW_ERR_UNSUPPORTED;
    }
    if (get_bool(c, "residual_before_ln", 1, &bc->residual_before_ln, err, es)) return UZW_ERR_MODEL_FORMAT;
    const json_t *nl = json_object_get(c, "non_linearity");
    if (!json_is_string(nl) || parse_act(json_string_value(nl), &bc->act) != 0) {
        uzw_errf(err, es, "adapter_config.json: config.non_linearity '%.40s' is not supported (relu, gelu, gelu_new, swish, "
                 "silu, tanh, leakyrelu, sigmoid)", json_is_string(nl) ? json_string_value(nl) : "(missing)");
        return json_is_string(nl) ? UZW_ERR_UNSUPPORTED : UZW_ERR_MODEL_FORMAT;
    }
    const json_t *sc = json_object_get(c, "scaling");
    if (sc && !json_is_number(sc)) {
        uzw_errf(err, es, "adapter_config.json: config.scaling must be a number (learned scalings are not supported)");
        return UZW_ERR_UNSUPPORTED;
    }
    bc->scaling = sc ? (float)json_number_value(sc) : 1.0f;
    const json_t *rf = json_object_get(c, "reduction_factor");
    if (json_is_number(rf)) bc->rf_default = json_number_value(rf);
    else if (json_is_object(rf)) {
        bc->rf_map = (json_t *)rf;
        const json_t *df = json_object_get(rf, "default");
        bc->rf_default = json_is_number(df) ? json_number_value(df) : 0.0;
    } else {
        uzw_errf(err, es, "adapter_config.json: config.reduction_factor must be a number or a mapping");
        return UZW_ERR_MODEL_FORMAT;
    }
    const json_t *lo = json_object_get(c, "leave_out");
    if (lo && !json_is_array(lo)) {
        uzw_errf(err, es, "adapter_config.json: config.leave_out must be a list of layer numbers");
        return UZW_ERR_MODEL_FORMAT;
    }
    for (size_t i = 0; i < json_array_size(lo); i++) {
        const json_t *x = json_array_get(lo, i);
        if (!json_is_integer(x) || i >= sizeof bc->leave_out / sizeof bc->leave_out[0]) {
            uzw_errf(err, es, "adapter_config.json: config.leave_out[%zu] must be a layer number", i);
            return UZW_ERR_MODEL_FORMAT;
        }
        bc->leave_out[bc->n_leave_out++] = (int)json_integer_value(x);
    }
    return UZW_OK;
}

/* Bottleneck width of global layer l; 0 when the layer has no adapters; -1 with a message if bad. */
static int width_of(const bn_config *bc, const uzw_dims *d, int l, char *err, size_t es) {
    for (int i = 0; i < bc->n_leave_out; i++)
        if (bc->leave_out[i] == l) return 0;
    double rf = bc->rf_default;
    if (bc->rf_map) {
        char k[16];
        snprintf(k, sizeof k, "%d", l);
        const json_t *v = json_object_get(bc->rf_map, k);
        if (v) rf = json_is_number(v) ? json_number_value(v) : 0.0;
        else if (!json_object_get(bc->rf_map, "default"))
            return uzw_errf(err, es, "adapter_config.json: reduction_factor has no entry for layer %d and no default", l);
    }
    if (!(rf > 0) || !isfinite(rf)) return uzw_errf(err, es, "adapter_config.json: reduction_factor of layer %d must be > 0", l);
    double w = floor((double)d->n_text_state / rf);
    return w < 1 ? 1 : w > 4.0 * d->n_text_state ? uzw_errf(err, es, "layer %d: a bottleneck wider than 4*D is not supported", l) : (int)w;
}

/* "model.decoder.layers.1.output_adapters.adapters.x.adapter_up.weight" -> global layer, place, part. */
static int parse_key(const char *key, const uzw_dims *d, int *layer, int *place, int *part, const char **name, size_t *name_len,
                     int ln_before) {
    const char *p = strncmp(key, "model.", 6) == 0 ? key + 6 : key;
    int dec;
    if (strncmp(p, "encoder.layers.", 15) == 0) dec = 0;
    else if (strncmp(p, "decoder.layers.", 15) == 0) dec = 1;
    else return -1;
    p += 15;
    int l = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) l = l * 10 + (*p++ - '0'), digits++;
    if (!digits || *p++ != '.' || l >= (dec ? d->n_text_layer : d->n_audio_layer)) return -1;
    *place = -1;
    for (int i = 0; i < UZW_N_BN_PLACES; i++) {
        size_t n = strlen(place_keys[i]);
        if (strncmp(p, place_keys[i], n) == 0 && strncmp(p + n, ".adapters.", 10) == 0) {
            *place = i;
            p += n + 10;
        }
    }
    if (*place < 0 || (*place == UZW_BN_CROSS && !dec)) return -1;
    const char *dot = strchr(p, '.');
    if (!dot || dot == p) return -1;
    *name = p;
    *name_len = (size_t)(dot - p);
    p = dot + 1;
    static const char *const parts[N_PARTS] = {"", "", "adapter_up.weight", "adapter_up.bias", "adapter_norm_before.weight",
                                               "adapter_norm_before.bias", "adapter_norm_after.weight", "adapter_norm_after.bias"};
    char down_w[32], down_b[32], norm0_w[32], norm0_b[32];
    snprintf(down_w, sizeof down_w, "adapter_down.%d.weight", ln_before);
    snprintf(down_b, sizeof down_b, "adapter_down.%d.bias", ln_before);
    snprintf(norm0_w, sizeof norm0_w, "adapter_down.0.weight");
    snprintf(norm0_b, sizeof norm0_b, "adapter_down.0.bias");
    *part = -1;
    if (strcmp(p, down_w) == 0) *part = P_DOWN_W;
    else if (strcmp(p, down_b) == 0) *part = P_DOWN_B;
    else if (ln_before && strcmp(p, norm0_w) == 0) *part = P_LNB_W; /* the same norm, in the Sequential */
    else if (ln_before && strcmp(p, norm0_b) == 0) *part = P_LNB_B;
    for (int i = P_UP_W; *part < 0 && i < N_PARTS; i++)
        if (strcmp(p, parts[i]) == 0) *part = i;
    *layer = uzw_adapter_layer(d, dec, l);
    return *part < 0 ? -2 : 0;
}

uzw_status uzw_bn_load(uzw_adapter *a, const uzw_adapter_base *base, const json_t *cfg, const char *dir, char *err, size_t es) {
    const uzw_dims *d = &base->dims;
    int D = d->n_text_state, L = d->n_audio_layer + d->n_text_layer;
    bn_config bc;
    memset(&bc, 0, sizeof bc);
    uzw_status st = parse_config(cfg, d, &bc, err, es);
    if (st != UZW_OK) return st;
    const json_t *nm = json_object_get(cfg, "name");
    if (json_is_string(nm) && json_string_length(nm) > 0) snprintf(a->name, sizeof a->name, "%s", json_string_value(nm));

    uzw_st_file f;
    memset(&f, 0, sizeof f);
    if ((st = uzw_adapter_open_weights(dir, "adapter.safetensors", "pytorch_adapter.bin", &f, err, es)) != UZW_OK) return st;
    const uzw_st_entry **parts = calloc((size_t)L * UZW_N_BN_PLACES * N_PARTS, sizeof *parts);
    int *width = calloc((size_t)L, sizeof *width);
    const char *name0 = NULL;
    size_t name0_len = 0, floats = 0;
    if (!parts || !width) { uzw_errf(err, es, "out of memory"); st = UZW_ERR_NO_MEMORY; goto done; }
    st = UZW_ERR_MODEL_FORMAT;
    for (int l = 0; l < L; l++)
        if ((width[l] = width_of(&bc, d, l, err, es)) < 0) goto done;
    for (int i = 0; i < f.h.n; i++) {
        const uzw_st_entry *e = &f.h.e[i];
        int layer, place, part;
        const char *name;
        size_t name_len;
        int rc = parse_key(e->name, d, &layer, &place, &part, &name, &name_len, bc.ln_before);
        if (rc != 0) {
            uzw_errf(err, es, "'%.200s' %s", e->name, rc == -2 ? "is not a part of a bottleneck adapter this engine runs "
                     "(down/up projections and adapter norms)" : "names no adapter place of the base model's layers");
            st = rc == -2 ? UZW_ERR_UNSUPPORTED : UZW_ERR_MODEL_FORMAT;
            goto done;
        }
        if (!name0) name0 = name, name0_len = name_len;
        else if (name_len != name0_len || strncmp(name, name0, name_len) != 0) {
            uzw_errf(err, es, "'%.200s' belongs to another adapter than '%.*s' (one adapter per folder)", e->name,
                     (int)name0_len, name0);
            goto done;
        }
        int enabled = place == UZW_BN_ATTN ? bc.mh : place == UZW_BN_CROSS ? bc.cross : bc.out;
        if (!enabled || width[layer] == 0) {
            uzw_errf(err, es, "'%.200s': the config puts no adapter there (mh_adapter, cross_adapter, output_adapter, "
                     "leave_out)", e->name);
            goto done;
        }
        const uzw_st_entry **slot = &parts[((size_t)layer * UZW_N_BN_PLACES + place) * N_PARTS + part];
        if (*slot) {
            /* adapter_norm_before and adapter_down.0 are one module saved twice: keep the first */
            if ((part == P_LNB_W || part == P_LNB_B) && (*slot)->numel == e->numel) continue;
            uzw_errf(err, es, "'%.200s' appears twice", e->name);
            goto done;
        }
        int w = width[layer];
        int64_t want0 = part == P_DOWN_W || part == P_DOWN_B ? w : D, want1 = part == P_DOWN_W ? D : part == P_UP_W ? w : 0;
        int nd = part == P_DOWN_W || part == P_UP_W ? 2 : 1;
        if (e->n_dims != nd || e->shape[0] != want0 || (nd == 2 && e->shape[1] != want1)) {
            uzw_errf(err, es, "'%.200s' has the wrong shape: %s [%lld%s%lld] for width %d (D // reduction_factor) and D %d",
                     e->name, "expected", (long long)want0, nd == 2 ? ", " : "", nd == 2 ? (long long)want1 : 0LL, w, D);
            goto done;
        }
        *slot = e;
        floats += e->numel;
    }
    /* every enabled place of every layer complete */
    for (int l = 0; l < L; l++)
        for (int p = 0; p < UZW_N_BN_PLACES; p++) {
            int dec = l >= d->n_audio_layer;
            int enabled = (p == UZW_BN_ATTN ? bc.mh : p == UZW_BN_CROSS ? bc.cross && dec : bc.out) && width[l] > 0;
            const uzw_st_entry **pp = &parts[((size_t)l * UZW_N_BN_PLACES + p) * N_PARTS];
            for (int k = 0; enabled && k < N_PARTS; k++) {
                int needed = k <= P_UP_B || (bc.ln_before && (k == P_LNB_W || k == P_LNB_B)) ||
                             (bc.ln_after && (k == P_LNA_W || k == P_LNA_B));
                if (needed && !pp[k]) {
                    uzw_errf(err, es, "layer %d (%s %d), %s: the config enables an adapter here but the file lacks part %d "
                             "(down, up, norms)", l, dec ? "decoder" : "encoder", dec ? l - d->n_audio_layer : l,
                             place_keys[p], k);
                    goto done;
                }
            }
        }
    if (floats == 0) { uzw_errf(err, es, "adapter.safetensors holds no adapter weights"); goto done; }
    if (uzw_adapter_alloc(a, floats, err, es) != 0) { st = UZW_ERR_NO_MEMORY; goto done; }
    size_t used = 0;
    for (int l = 0; l < L; l++)
        for (int p = 0; p < UZW_N_BN_PLACES; p++) {
            const uzw_st_entry **pp = &parts[((size_t)l * UZW_N_BN_PLACES + p) * N_PARTS];
            if (!pp[P_DOWN_W]) continue;
            const float *v[N_PARTS] = {0};
            for (int k = 0; k < N_PARTS; k++) {
                if (!pp[k]) continue;
                float *dst = a->data + used;
                if (uzw_adapter_read(&f, pp[k], dst, err, es) != 0) goto done;
                used += pp[k]->numel;
                v[k] = dst;
            }
            uzw_bn_module *b = &a->bn[l * UZW_N_BN_PLACES + p];
            *b = (uzw_bn_module){.dim = width[l], .act = bc.act, .scaling = bc.scaling,
                                 .residual_before_ln = bc.residual_before_ln, .original_ln_before = bc.original_ln_before,
                                 .original_ln_after = bc.original_ln_after,
                                 .adapter_residual_before_ln = bc.adapter_residual_before_ln,
                                 .ln_before_w = bc.ln_before ? v[P_LNB_W] : NULL, .ln_before_b = bc.ln_before ? v[P_LNB_B] : NULL,
                                 .down_w = v[P_DOWN_W], .down_b = v[P_DOWN_B], .up_w = v[P_UP_W], .up_b = v[P_UP_B],
                                 .ln_after_w = bc.ln_after ? v[P_LNA_W] : NULL, .ln_after_b = bc.ln_after ? v[P_LNA_B] : NULL};
            if (b->dim > a->max_rank) a->max_rank = b->dim;
        }
    a->n_params = (int64_t)floats;
    st = UZW_OK;
done:
    free(parts);
    free(width);
    uzw_st_close(&f);
    return st;
}
