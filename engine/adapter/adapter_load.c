/* adapter_load.c - open an adapter folder, tell PEFT from AdapterHub, helpers the loaders share,
 * the public load/free/getters, and the model as the base adapters are checked against. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>

#include "adapter/adapter.h"
#include "core/util.h"
#include "model/model.h"

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

uzw_status uzw_adapter_open_weights(const char *dir, const char *fname, const char *bin_name, uzw_st_file *f, char *err,
                                    size_t es) {
    char path[1024], bin[1024];
    snprintf(path, sizeof path, "%s/%s", dir, fname);
    snprintf(bin, sizeof bin, "%s/%s", dir, bin_name);
    if (!file_exists(path) && file_exists(bin)) {
        uzw_errf(err, es, "%s is a PyTorch pickle, which uzwhisper does not read (it can run code); convert it once with: "
                 "python3 -c \"import torch; from safetensors.torch import save_file; "
                 "save_file(torch.load('%s', map_location='cpu'), '%s', metadata={'format': 'pt'})\"",
                 bin, bin, path);
        return UZW_ERR_UNSUPPORTED;
    }
    if (!file_exists(path)) {
        uzw_errf(err, es, "%s: no %s in the adapter folder", dir, fname);
        return UZW_ERR_IO;
    }
    if (uzw_st_open(path, f, err, es) != 0) return strstr(err, "cannot") ? UZW_ERR_IO : UZW_ERR_MODEL_FORMAT;
    return UZW_OK;
}

int uzw_adapter_read(const uzw_st_file *f, const uzw_st_entry *e, float *dst, char *err, size_t es) {
    float *v;
    if (uzw_st_read_f32(f, e, &v, err, es) != 0) return -1;
    for (uint64_t i = 0; i < e->numel; i++)
        if (!isfinite(v[i])) {
            uzw_errf(err, es, "%s: tensor '%s' holds a non-finite value (element %llu)", f->path, e->name,
                     (unsigned long long)i);
            free(v);
            return -1;
        }
    memcpy(dst, v, sizeof(float) * e->numel);
    free(v);
    return 0;
}

int uzw_adapter_base_shape(const uzw_dims *d, const char *name, int64_t *rows, int64_t *cols, size_t *numel) {
    int nd;
    int64_t dims[UZW_MAX_DIMS];
    if (uzw_schema_shape(d, name, &nd, dims) != 0) return -1;
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
    *rows = dims[0];
    *cols = nd >= 2 ? (int64_t)(n / (size_t)dims[0]) : 1;
    *numel = n;
    return 0;
}

static const char *const site_names[UZW_N_SITES] = {"attn.q", "attn.k", "attn.v", "attn.o", "xattn.q",
                                                    "xattn.k", "xattn.v", "xattn.o", "fc1", "fc2"};

int uzw_adapter_site_of(const uzw_dims *d, const char *name, int *layer, int *site, int *is_bias) {
    int dec = strncmp(name, "dec.", 4) == 0;
    if (!dec && strncmp(name, "enc.", 4) != 0) return -1;
    const char *p = name + 4;
    int l = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) l = l * 10 + (*p++ - '0'), digits++;
    if (!digits || *p++ != '.' || l >= (dec ? d->n_text_layer : d->n_audio_layer)) return -1;
    for (int s = 0; s < UZW_N_SITES; s++) {
        size_t n = strlen(site_names[s]);
        if (strncmp(p, site_names[s], n) != 0) continue;
        if (!dec && s >= UZW_SITE_XQ && s <= UZW_SITE_XO) return -1;
        if (strcmp(p + n, ".weight") == 0) *is_bias = 0;
        else if (strcmp(p + n, ".bias") == 0 && uzw_site_has_bias(s)) *is_bias = 1;
        else continue;
        *layer = uzw_adapter_layer(d, dec, l);
        *site = s;
        return 0;
    }
    return -1;
}

void uzw_adapter_site_name(const uzw_dims *d, int layer, int site, int is_bias, char out[UZW_MAX_NAME]) {
    int dec = layer >= d->n_audio_layer;
    snprintf(out, UZW_MAX_NAME, "%s.%d.%s.%s", dec ? "dec" : "enc", dec ? layer - d->n_audio_layer : layer,
             site_names[site], is_bias ? "bias" : "weight");
}

int uzw_adapter_alloc(uzw_adapter *a, size_t n_floats, char *err, size_t es) {
    int L = a->dims.n_audio_layer + a->dims.n_text_layer;
    a->data = malloc(sizeof(float) * (n_floats ? n_floats : 1));
    a->n_floats = n_floats;
    if (a->kind == UZW_ADAPTER_LORA) a->lora = calloc((size_t)L * UZW_N_SITES, sizeof *a->lora);
    else a->bn = calloc((size_t)L * UZW_N_BN_PLACES, sizeof *a->bn);
    if (!a->data || (!a->lora && !a->bn)) return uzw_errf(err, es, "out of memory for an adapter of %zu floats", n_floats);
    return 0;
}

static void folder_name(const char *dir, char *out, size_t cap) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && dir[s - 1] != '/') s--;
    snprintf(out, cap, "%.*s", (int)(n - s), dir + s);
}

uzw_status uzw_adapter_open(const uzw_adapter_base *base, const char *dir, uzw_adapter **out, char *err, size_t es) {
    *out = NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    if (!file_exists(path)) {
        uzw_errf(err, es, "%s: no adapter_config.json (an adapter folder holds adapter_config.json and "
                 "adapter_model.safetensors (PEFT) or adapter.safetensors (AdapterHub))", dir);
        return UZW_ERR_IO;
    }
    json_error_t je;
    json_t *cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!cfg || !json_is_object(cfg)) {
        uzw_errf(err, es, "%s: %s", path, cfg ? "not a JSON object" : je.text);
        json_decref(cfg);
        return UZW_ERR_MODEL_FORMAT;
    }
    uzw_adapter *a = calloc(1, sizeof *a);
    if (!a) {
        json_decref(cfg);
        uzw_errf(err, es, "out of memory");
        return UZW_ERR_NO_MEMORY;
    }
    snprintf(a->path, sizeof a->path, "%s", dir);
    folder_name(dir, a->name, sizeof a->name);
    a->dims = base->dims;
    uzw_status st;
    char msg[768] = "";
    if (json_object_get(cfg, "peft_type")) {
        a->kind = UZW_ADAPTER_LORA;
        st = uzw_peft_load(a, base, cfg, dir, msg, sizeof msg);
    } else if (json_is_object(json_object_get(cfg, "config"))) {
        a->kind = UZW_ADAPTER_BOTTLENECK;
        st = uzw_bn_load(a, base, cfg, dir, msg, sizeof msg);
    } else {
        uzw_errf(msg, sizeof msg, "adapter_config.json is neither PEFT's (no 'peft_type') nor AdapterHub's (no 'config' object)");
        st = UZW_ERR_MODEL_FORMAT;
    }
    json_decref(cfg);
    if (st != UZW_OK) {
        uzw_errf(err, es, "adapter %s: %s", dir, msg);
        uzw_adapter_free(a);
        return st;
    }
    *out = a;
    return UZW_OK;
}

/* ---------------------------------------------------------------- the public API */

static const float *model_tensor(void *user, const char *name, size_t *numel) {
    uzw_model *m = user;
    const float **vec;
    uzw_wmat *mat;
    int64_t rows, cols;
    if (uzw_model_slot(m, name, &vec, &mat) != 0 || uzw_adapter_base_shape(&m->dims, name, &rows, &cols, numel) != 0)
        return NULL;
    return vec ? *vec : mat->f; /* an int8 matrix has no f32 copy: NULL */
}

uzw_status uzw_adapter_load(const uzw_model *model, const char *dir, uzw_adapter **out, char *err, size_t es) {
    if (err && es) err[0] = 0;
    if (!out) return UZW_ERR_INVALID_ARG;
    *out = NULL;
    if (!model || !dir) {
        uzw_errf(err, es, "uzw_adapter_load: NULL argument");
        return UZW_ERR_INVALID_ARG;
    }
    uzw_adapter_base base = {model->dims, model_tensor, (void *)model};
    return uzw_adapter_open(&base, dir, out, err, es);
}

void uzw_adapter_free(uzw_adapter *a) {
    if (!a) return;
    free(a->data);
    free(a->lora);
    free(a->bn);
    free(a->changes);
    free(a);
}

const char *uzw_adapter_get_str(const uzw_adapter *a, const char *key) {
    if (!a || !key) return NULL;
    if (strcmp(key, "kind") == 0) return a->kind == UZW_ADAPTER_LORA ? "lora" : "bottleneck";
    if (strcmp(key, "name") == 0) return a->name;
    if (strcmp(key, "path") == 0) return a->path;
    return NULL;
}

int64_t uzw_adapter_get_int(const uzw_adapter *a, const char *key) {
    if (!a || !key) return -1;
    if (strcmp(key, "n_params") == 0) return a->n_params;
    if (strcmp(key, "max_rank") == 0) return a->max_rank;
    if (strcmp(key, "mergeable") == 0) return a->kind == UZW_ADAPTER_LORA;
    if (strcmp(key, "unmerged_ok") == 0) return a->unmerged_blocker[0] == 0;
    if (strcmp(key, "n_modules") == 0) {
        int L = a->dims.n_audio_layer + a->dims.n_text_layer, n = 0;
        for (int i = 0; a->lora && i < L * UZW_N_SITES; i++) n += a->lora[i].rank > 0;
        for (int i = 0; a->bn && i < L * UZW_N_BN_PLACES; i++) n += a->bn[i].dim > 0;
        return n;
    }
    return -1;
}
