/* adapter_merge.c - merge a LoRA adapter into base weights: W += scale * (B A) in f32 (as PEFT's
 * merge: the delta B A first, then scaled, then added), whole tensors replaced, lora_B.bias added.
 * Works on any writable f32 tensor (the converter's import tensors) and on a loaded model, whose
 * tensors that live in the read-only mapping are first copied into one new allocation. */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/adapter.h"
#include "core/util.h"
#include "model/model.h"

int uzw_adapter_changes(const uzw_adapter *a, const char *name) {
    for (int i = 0; i < a->n_changes; i++)
        if (strcmp(a->changes[i].name, name) == 0) return 1;
    return 0;
}

static int merge_lora(const uzw_adapter *a, const uzw_adapter_change *c, float *w, size_t numel, char *err, size_t es) {
    const uzw_lora_site *s = &a->lora[c->site_layer * UZW_N_SITES + c->site];
    int64_t out, in;
    size_t n;
    if (uzw_adapter_base_shape(&a->dims, c->name, &out, &in, &n) != 0 || n != numel)
        return uzw_errf(err, es, "%s: the tensor to merge into has %zu values, the adapter expects %zu", c->name, numel, n);
    float *delta = malloc(sizeof(float) * numel); /* [out, in] = B [out, r] . A [r, in] */
    if (!delta) return uzw_errf(err, es, "out of memory merging %s", c->name);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)out, (int)in, s->rank, 1.0f, s->b, s->rank, s->a, (int)in,
                0.0f, delta, (int)in);
    for (size_t i = 0; i < numel; i++) w[i] += delta[i] * s->scale;
    free(delta);
    return 0;
}

int uzw_adapter_merge_into(const uzw_adapter *a, const char *name, float *dst, size_t numel, char *err, size_t es) {
    for (int i = 0; i < a->n_changes; i++) {
        const uzw_adapter_change *c = &a->changes[i];
        if (strcmp(c->name, name) != 0) continue;
        if (c->kind == UZW_CHANGE_LORA) {
            if (merge_lora(a, c, dst, numel, err, es) != 0) return -1;
            continue;
        }
        if (c->numel != numel) return uzw_errf(err, es, "%s: %zu values to merge into, the adapter has %zu", name, numel, c->numel);
        if (c->kind == UZW_CHANGE_SET) memcpy(dst, c->data, sizeof(float) * numel);
        else for (size_t k = 0; k < numel; k++) dst[k] += c->data[k];
    }
    return 0;
}

/* ---------------------------------------------------------------- into a loaded model */

static int is_writable(const uzw_model *m, const float *p) {
    uintptr_t x = (uintptr_t)p;
    if (m->arena && x >= (uintptr_t)m->arena && x < (uintptr_t)(m->arena + m->arena_floats)) return 1;
    for (int i = 0; i < m->n_merged; i++)
        if (x >= (uintptr_t)m->merged[i] && x < (uintptr_t)(m->merged[i] + m->merged_floats[i])) return 1;
    return 0;
}

/* Is change i the first of the adapter's changes to its tensor? (each tensor is copied once) */
static int first_change(const uzw_adapter *a, int i) {
    for (int j = 0; j < i; j++)
        if (strcmp(a->changes[j].name, a->changes[i].name) == 0) return 0;
    return 1;
}

/* The tensor's current f32 values and where its pointer is stored. */
static float **slot_ptr(uzw_model *m, const char *name) {
    const float **vec;
    uzw_wmat *mat;
    if (uzw_model_slot(m, name, &vec, &mat) != 0) return NULL;
    return vec ? (float **)vec : (float **)&mat->f;
}

uzw_status uzw_model_merge_adapter(uzw_model *m, const uzw_adapter *a, char *err, size_t es) {
    if (err && es) err[0] = 0;
    if (!m || !a) {
        uzw_errf(err, es, "uzw_model_merge_adapter: NULL argument");
        return UZW_ERR_INVALID_ARG;
    }
    if (a->kind != UZW_ADAPTER_LORA) {
        uzw_errf(err, es, "adapter %s is a bottleneck adapter: it is non-linear and cannot be merged into weights; run it "
                 "unmerged (per request)", a->name);
        return UZW_ERR_UNSUPPORTED;
    }
    if (memcmp(&a->dims, &m->dims, sizeof m->dims) != 0) {
        uzw_errf(err, es, "adapter %s was loaded against a model of other dimensions", a->name);
        return UZW_ERR_INVALID_ARG;
    }
    if (m->quant) {
        uzw_errf(err, es, "adapter %s: merging into an int8 model is not supported: merge into the float model "
                 "(uzwhisper convert --adapter) and quantize that, or run the adapter unmerged over the int8 model", a->name);
        return UZW_ERR_UNSUPPORTED;
    }
    if (m->n_merged >= (int)(sizeof m->merged / sizeof m->merged[0])) {
        uzw_errf(err, es, "too many adapters merged into one model (%d)", m->n_merged);
        return UZW_ERR_UNSUPPORTED;
    }
    /* tensors still in the read-only mapping get a private copy: one block for this adapter */
    size_t copy = 0;
    for (int i = 0; i < a->n_changes; i++) {
        float **p = slot_ptr(m, a->changes[i].name);
        int64_t r, c;
        size_t n;
        if (!p || !*p || uzw_adapter_base_shape(&m->dims, a->changes[i].name, &r, &c, &n) != 0) {
            uzw_errf(err, es, "adapter %s changes '%s', which this model has no f32 copy of", a->name, a->changes[i].name);
            return UZW_ERR_INVALID_ARG;
        }
        if (first_change(a, i) && !is_writable(m, *p)) copy += n;
    }
    float *block = copy ? malloc(sizeof(float) * copy) : NULL;
    if (copy && !block) {
        uzw_errf(err, es, "out of memory copying %zu weights to merge adapter %s", copy, a->name);
        return UZW_ERR_NO_MEMORY;
    }
    size_t used = 0;
    for (int i = 0; i < a->n_changes; i++) {
        if (!first_change(a, i)) continue;
        const char *name = a->changes[i].name;
        float **p = slot_ptr(m, name);
        int64_t r, c;
        size_t n;
        uzw_adapter_base_shape(&m->dims, name, &r, &c, &n);
        if (!is_writable(m, *p)) {
            memcpy(block + used, *p, sizeof(float) * n);
            *p = block + used;
            used += n;
        }
        if (uzw_adapter_merge_into(a, name, *p, n, err, es) != 0) {
            if (block) m->merged_floats[m->n_merged] = copy, m->merged[m->n_merged++] = block; /* still pointed to */
            return UZW_ERR_INTERNAL;
        }
    }
    if (block) m->merged_floats[m->n_merged] = copy, m->merged[m->n_merged++] = block;
    size_t len = strlen(m->adapters_merged);
    snprintf(m->adapters_merged + len, sizeof m->adapters_merged - len, "%s%s", len ? "," : "", a->name);
    return UZW_OK;
}
