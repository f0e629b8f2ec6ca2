/*
 * peft_load.c - a PEFT LoRA adapter (whisper-facts §8): adapter_config.json + adapter_model.safetensors
 * with keys "base_model.model.<HF module>.lora_A.weight" [r, in], ".lora_B.weight" [out, r],
 * ".lora_B.bias" [out] (lora_bias), "<module>.base_layer.bias" (bias = lora_only / all) and whole
 * tensors under their HF names (bias = all, modules_to_save). Every tensor must name a module of
 * the base, be selected by the config, and have the shape rank and base imply.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/adapter.h"
#include "adapter/peft_config.h"
#include "core/util.h"
#include "import.h"

#define PREFIX "base_model.model."

typedef struct {                 /* one LoRA module, at index layer * UZW_N_SITES + site */
    const uzw_st_entry *a, *b, *lb;
    char key[200];               /* HF module path, e.g. model.encoder.layers.0.self_attn.q_proj */
} lora_mod;

typedef struct {                 /* a whole tensor the adapter replaces */
    const uzw_st_entry *e;
    char canon[UZW_MAX_NAME];
} set_item;

typedef struct {
    const uzw_adapter_base *base;
    const uzw_peft_config *cfg;
    const uzw_st_file *f;
    lora_mod *mods;              /* [La + Lt][UZW_N_SITES] */
    set_item *sets;
    int n_sets;
} peft_scan;

static int ends_with(const char *s, const char *suf, size_t *stem) {
    size_t n = strlen(s), k = strlen(suf);
    if (n <= k || strcmp(s + n - k, suf) != 0) return 0;
    *stem = n - k;
    return 1;
}

/* A LoRA tensor on module key (stem of the name): find its site. */
static uzw_status take_lora(peft_scan *sc, const uzw_st_entry *e, const char *key, size_t key_len, int which, char *err,
                            size_t es) {
    char hf[256], canon[UZW_MAX_NAME];
    if (key_len >= sizeof ((lora_mod *)0)->key) {
        uzw_errf(err, es, "tensor name '%.120s...' is too long", e->name);
        return UZW_ERR_MODEL_FORMAT;
    }
    snprintf(hf, sizeof hf, "%.*s.weight", (int)key_len, key);
    int layer, site, is_bias, nd;
    int64_t shape[UZW_MAX_DIMS];
    if (uzw_hf_map_name(hf, canon) != HF_CANONICAL || uzw_adapter_site_of(&sc->base->dims, canon, &layer, &site, &is_bias) != 0) {
        int cls = uzw_hf_map_name(hf, canon);
        int known = cls == HF_PROJ_OUT || (cls == HF_CANONICAL && uzw_schema_shape(&sc->base->dims, canon, &nd, shape) == 0);
        uzw_errf(err, es, "'%s': %s '%.*s'%s", e->name, known ? "LoRA on" : "no module of the base model is named",
                 (int)key_len, key, known ? " is not supported (only q_proj, k_proj, v_proj, out_proj, fc1 and fc2 of "
                 "encoder and decoder layers)" : "");
        return known ? UZW_ERR_UNSUPPORTED : UZW_ERR_MODEL_FORMAT;
    }
    lora_mod *m = &sc->mods[layer * UZW_N_SITES + site];
    snprintf(m->key, sizeof m->key, "%.*s", (int)key_len, key);
    const uzw_st_entry **slot = which == 0 ? &m->a : which == 1 ? &m->b : &m->lb;
    *slot = e;
    return UZW_OK;
}

/* A whole tensor under its HF name (or a LoRA module's base_layer.bias). */
static uzw_status take_set(peft_scan *sc, const uzw_st_entry *e, const char *hf, int lora_bias_key, char *err, size_t es) {
    char canon[UZW_MAX_NAME], module[256];
    int cls = uzw_hf_map_name(hf, canon);
    if (cls == HF_KEY_BIAS) {
        uzw_errf(err, es, "'%s': Whisper's key projections have no bias", e->name);
        return UZW_ERR_MODEL_FORMAT;
    }
    if (cls == HF_PROJ_OUT) {
        uzw_errf(err, es, "'%s': a trained proj_out (an output projection untied from the token embedding) is not supported", e->name);
        return UZW_ERR_UNSUPPORTED;
    }
    if (cls != HF_CANONICAL) {
        uzw_errf(err, es, "'%s': no tensor of the base model is named '%s'", e->name, hf);
        return UZW_ERR_MODEL_FORMAT;
    }
    const char *dot = strrchr(hf, '.');
    snprintf(module, sizeof module, "%.*s", (int)(dot - hf), hf);
    int is_bias = strcmp(dot, ".bias") == 0;
    int ok = uzw_peft_saves_module(sc->cfg, module) ||
             (is_bias && (sc->cfg->bias == UZW_PEFT_BIAS_ALL || (lora_bias_key && sc->cfg->bias == UZW_PEFT_BIAS_LORA_ONLY)));
    if (!ok) {
        uzw_errf(err, es, "'%s' is in the file, but neither 'bias' (\"%s\") nor 'modules_to_save' in adapter_config.json "
                 "selects it", e->name, sc->cfg->bias == UZW_PEFT_BIAS_ALL ? "all" : sc->cfg->bias ? "lora_only" : "none");
        return UZW_ERR_MODEL_FORMAT;
    }
    int nd;
    int64_t want[UZW_MAX_DIMS];
    if (uzw_schema_shape(&sc->base->dims, canon, &nd, want) != 0) {
        uzw_errf(err, es, "'%s': no tensor of the base model is named '%s'", e->name, hf);
        return UZW_ERR_MODEL_FORMAT;
    }
    int same = nd == e->n_dims;
    for (int i = 0; same && i < nd; i++) same = want[i] == e->shape[i];
    if (!same) {
        uzw_errf(err, es, "'%s' has shape [%lld%s] but the base model's %s has %d dimensions [%lld, ...]", e->name,
                 (long long)(e->n_dims ? e->shape[0] : 0), e->n_dims > 1 ? ", ..." : "", canon, nd, (long long)want[0]);
        return UZW_ERR_MODEL_FORMAT;
    }
    set_item *s = &sc->sets[sc->n_sets++];
    s->e = e;
    snprintf(s->canon, sizeof s->canon, "%s", canon);
    return UZW_OK;
}

static uzw_status classify(peft_scan *sc, char *err, size_t es) {
    const uzw_st_header *h = &sc->f->h;
    for (int i = 0; i < h->n; i++) {
        const uzw_st_entry *e = &h->e[i];
        if (strncmp(e->name, PREFIX, strlen(PREFIX)) != 0) {
            uzw_errf(err, es, "tensor '%.200s' does not start with '" PREFIX "' (not a PEFT state dict of a Whisper model)", e->name);
            return UZW_ERR_MODEL_FORMAT;
        }
        const char *key = e->name + strlen(PREFIX);
        size_t stem;
        uzw_status st;
        if (strstr(key, "lora_magnitude_vector")) {
            uzw_errf(err, es, "'%s' is a DoRA magnitude vector: DoRA is not supported", e->name);
            return UZW_ERR_UNSUPPORTED;
        } else if (ends_with(key, ".lora_A.weight", &stem)) st = take_lora(sc, e, key, stem, 0, err, es);
        else if (ends_with(key, ".lora_B.weight", &stem)) st = take_lora(sc, e, key, stem, 1, err, es);
        else if (ends_with(key, ".lora_B.bias", &stem)) st = take_lora(sc, e, key, stem, 2, err, es);
        else if (strstr(key, ".lora_")) {
            uzw_errf(err, es, "'%s': this kind of LoRA tensor is not supported (plain lora_A / lora_B on linear layers only)", e->name);
            return UZW_ERR_UNSUPPORTED;
        } else if (ends_with(key, ".base_layer.bias", &stem)) {
            char hf[256];
            snprintf(hf, sizeof hf, "%.*s.bias", (int)(stem < 200 ? stem : 200), key);
            st = take_set(sc, e, hf, 1, err, es);
        } else st = take_set(sc, e, key, 0, err, es);
        if (st != UZW_OK) return st;
    }
    return UZW_OK;
}

static int shape_is(const uzw_st_entry *e, int64_t d0, int64_t d1, int nd) {
    return e->n_dims == nd && e->shape[0] == d0 && (nd == 1 || e->shape[1] == d1);
}

/* Every LoRA module complete, selected, and of the rank the config gives; floats it needs. */
static uzw_status check_mods(peft_scan *sc, size_t *floats, char *err, size_t es) {
    const uzw_dims *d = &sc->base->dims;
    int L = d->n_audio_layer + d->n_text_layer;
    for (int i = 0; i < L * UZW_N_SITES; i++) {
        lora_mod *m = &sc->mods[i];
        if (!m->a && !m->b && !m->lb) continue;
        if (!m->a || !m->b) {
            uzw_errf(err, es, "module '%s' has lora_%s but no lora_%s", m->key, m->a ? "A" : "B", m->a ? "B" : "A");
            return UZW_ERR_MODEL_FORMAT;
        }
        if (!uzw_peft_selects(sc->cfg, m->key)) {
            uzw_errf(err, es, "the file holds a LoRA for '%s', which adapter_config.json's target_modules "
                     "(with exclude_modules, layers_to_transform, modules_to_save) does not select", m->key);
            return UZW_ERR_MODEL_FORMAT;
        }
        char canon[UZW_MAX_NAME];
        int64_t out, in;
        size_t numel;
        uzw_adapter_site_name(d, i / UZW_N_SITES, i % UZW_N_SITES, 0, canon);
        uzw_adapter_base_shape(d, canon, &out, &in, &numel);
        int r;
        double alpha;
        uzw_peft_rank_alpha(sc->cfg, m->key, &r, &alpha);
        if (!shape_is(m->a, r, in, 2) || !shape_is(m->b, out, r, 2)) {
            uzw_errf(err, es, "module '%s': lora_A is [%lld, %lld] and lora_B [%lld, %lld], but rank %d (from %s) on a "
                     "[%lld, %lld] layer needs [%d, %lld] and [%lld, %d]", m->key, (long long)m->a->shape[0],
                     (long long)(m->a->n_dims > 1 ? m->a->shape[1] : 0), (long long)m->b->shape[0],
                     (long long)(m->b->n_dims > 1 ? m->b->shape[1] : 0), r,
                     sc->cfg->rank_pattern.n ? "'r' and 'rank_pattern'" : "'r'", (long long)out, (long long)in, r,
                     (long long)in, (long long)out, r);
            return UZW_ERR_MODEL_FORMAT;
        }
        if (m->lb) {
            if (!sc->cfg->lora_bias) {
                uzw_errf(err, es, "'%s' is in the file but adapter_config.json has lora_bias false", m->lb->name);
                return UZW_ERR_MODEL_FORMAT;
            }
            if (!uzw_site_has_bias(i % UZW_N_SITES)) {
                uzw_errf(err, es, "'%s': lora_bias on a key projection, which has no bias, is not supported", m->lb->name);
                return UZW_ERR_UNSUPPORTED;
            }
            if (!shape_is(m->lb, out, 0, 1)) {
                uzw_errf(err, es, "'%s' must have shape [%lld]", m->lb->name, (long long)out);
                return UZW_ERR_MODEL_FORMAT;
            }
            *floats += 2 * (size_t)out; /* scale * lora_B.bias, and the unmerged bias delta */
        }
        *floats += (size_t)r * (size_t)(in + out);
    }
    return UZW_OK;
}

/* Fill the adapter: LoRA sites and changes, whole-tensor replacements, unmerged bias deltas. */
static uzw_status build(uzw_adapter *a, peft_scan *sc, char *err, size_t es) {
    const uzw_dims *d = &a->dims;
    int L = d->n_audio_layer + d->n_text_layer;
    size_t used = 0;
    a->n_changes = 0;
    /* replacements first: a lora_B.bias adds to the replaced bias (PEFT: b' = saved bias + s * lora_B.bias) */
    for (int k = 0; k < sc->n_sets; k++) {
        const set_item *si = &sc->sets[k];
        float *v = a->data + used;
        used += si->e->numel;
        if (uzw_adapter_read(sc->f, si->e, v, err, es) != 0) return UZW_ERR_MODEL_FORMAT;
        a->n_params += (int64_t)si->e->numel;
        size_t n;
        const float *base = sc->base->get(sc->base->user, si->canon, &n);
        if (base && n == si->e->numel && memcmp(base, v, n * sizeof(float)) == 0) continue; /* unchanged: nothing to do */
        uzw_adapter_change *c = &a->changes[a->n_changes++];
        snprintf(c->name, sizeof c->name, "%s", si->canon);
        c->kind = UZW_CHANGE_SET;
        c->data = v;
        c->numel = si->e->numel;
    }
    for (int i = 0; i < L * UZW_N_SITES; i++) {
        lora_mod *m = &sc->mods[i];
        if (!m->a) continue;
        uzw_lora_site *s = &a->lora[i];
        double alpha;
        uzw_peft_rank_alpha(sc->cfg, m->key, &s->rank, &alpha);
        s->scale = (float)(sc->cfg->use_rslora ? alpha / sqrt((double)s->rank) : alpha / s->rank);
        float *A = a->data + used, *B = A + m->a->numel;
        used += m->a->numel + m->b->numel;
        if (uzw_adapter_read(sc->f, m->a, A, err, es) != 0 || uzw_adapter_read(sc->f, m->b, B, err, es) != 0)
            return UZW_ERR_MODEL_FORMAT;
        s->a = A;
        s->b = B;
        if (s->rank > a->max_rank) a->max_rank = s->rank;
        a->n_params += (int64_t)(m->a->numel + m->b->numel);
        uzw_adapter_change *c = &a->changes[a->n_changes++];
        uzw_adapter_site_name(d, i / UZW_N_SITES, i % UZW_N_SITES, 0, c->name);
        c->kind = UZW_CHANGE_LORA;
        c->site_layer = i / UZW_N_SITES;
        c->site = i % UZW_N_SITES;
        if (m->lb) { /* lora_B.bias: scale * it is added to the bias */
            float *lb = a->data + used;
            used += m->lb->numel;
            if (uzw_adapter_read(sc->f, m->lb, lb, err, es) != 0) return UZW_ERR_MODEL_FORMAT;
            for (uint64_t k = 0; k < m->lb->numel; k++) lb[k] *= s->scale;
            a->n_params += (int64_t)m->lb->numel;
            c = &a->changes[a->n_changes++];
            uzw_adapter_site_name(d, i / UZW_N_SITES, i % UZW_N_SITES, 1, c->name);
            c->kind = UZW_CHANGE_ADD;
            c->data = lb;
            c->numel = m->lb->numel;
        }
    }
    /* unmerged: a changed bias of a linear layer becomes a delta on that site; anything else
     * can only be merged */
    for (int k = 0; k < a->n_changes; k++) {
        uzw_adapter_change *c = &a->changes[k];
        int layer, site, is_bias;
        if (c->kind == UZW_CHANGE_LORA) continue;
        if (uzw_adapter_site_of(d, c->name, &layer, &site, &is_bias) != 0 || !is_bias) {
            if (!a->unmerged_blocker[0]) snprintf(a->unmerged_blocker, sizeof a->unmerged_blocker, "%s", c->name);
            continue;
        }
        uzw_lora_site *s = &a->lora[layer * UZW_N_SITES + site];
        float *delta = (float *)s->bias_delta;
        if (!delta) {
            size_t n;
            const float *base = sc->base->get(sc->base->user, c->name, &n);
            if (!base) {
                uzw_errf(err, es, "the base model has no f32 '%s' to compare the adapter's bias with", c->name);
                return UZW_ERR_MODEL_FORMAT;
            }
            delta = a->data + used;
            used += n;
            for (size_t j = 0; j < n; j++) delta[j] = 0.0f;
            s->bias_delta = delta;
            for (int j = 0; j < a->n_changes; j++) /* the base bias, if the adapter replaces it */
                if (a->changes[j].kind == UZW_CHANGE_SET && strcmp(a->changes[j].name, c->name) == 0)
                    for (size_t t = 0; t < n; t++) delta[t] = a->changes[j].data[t] - base[t];
        }
        if (c->kind == UZW_CHANGE_ADD)
            for (size_t t = 0; t < c->numel; t++) delta[t] += c->data[t];
    }
    if (used > a->n_floats) {
        uzw_errf(err, es, "internal: adapter arena overrun (%zu > %zu)", used, a->n_floats);
        return UZW_ERR_INTERNAL;
    }
    return UZW_OK;
}

uzw_status uzw_peft_load(uzw_adapter *a, const uzw_adapter_base *base, const json_t *cfg_json, const char *dir, char *err,
                         size_t es) {
    uzw_peft_config cfg;
    int unsupported = 0;
    if (uzw_peft_config_parse(cfg_json, &cfg, &unsupported, err, es) != 0) {
        uzw_peft_config_free(&cfg);
        return unsupported ? UZW_ERR_UNSUPPORTED : UZW_ERR_MODEL_FORMAT;
    }
    uzw_st_file f;
    memset(&f, 0, sizeof f);
    uzw_status st = uzw_adapter_open_weights(dir, "adapter_model.safetensors", "adapter_model.bin", &f, err, es);
    if (st != UZW_OK) {
        uzw_peft_config_free(&cfg);
        return st;
    }
    const uzw_dims *d = &base->dims;
    int L = d->n_audio_layer + d->n_text_layer;
    peft_scan sc = {base, &cfg, &f, calloc((size_t)L * UZW_N_SITES, sizeof(lora_mod)), NULL, 0};
    sc.sets = calloc((size_t)(f.h.n ? f.h.n : 1), sizeof(set_item));
    size_t floats = 0;
    if (!sc.mods || !sc.sets) {
        uzw_errf(err, es, "out of memory");
        st = UZW_ERR_NO_MEMORY;
        goto done;
    }
    if (f.h.n == 0) {
        uzw_errf(err, es, "adapter_model.safetensors holds no tensors");
        st = UZW_ERR_MODEL_FORMAT;
        goto done;
    }
    if ((st = classify(&sc, err, es)) != UZW_OK || (st = check_mods(&sc, &floats, err, es)) != UZW_OK) goto done;
    for (int k = 0; k < sc.n_sets; k++) floats += 2 * sc.sets[k].e->numel; /* the tensor, and maybe a bias delta */
    a->changes = calloc((size_t)(2 * L * UZW_N_SITES + sc.n_sets + 1), sizeof *a->changes);
    if (!a->changes || uzw_adapter_alloc(a, floats, err, es) != 0) {
        st = UZW_ERR_NO_MEMORY;
        goto done;
    }
    st = build(a, &sc, err, es);
done:
    free(sc.mods);
    free(sc.sets);
    uzw_st_close(&f);
    uzw_peft_config_free(&cfg);
    return st;
}
