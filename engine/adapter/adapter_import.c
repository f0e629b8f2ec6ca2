/* adapter_import.c - merge a LoRA adapter into a checkpoint being converted (uzwhisper convert
 * --adapter): the adapter is checked against the import's dimensions and tensors, then merged into
 * the f32 import tensors, so the written .uzw file is the fine-tuned model. */
#include <stdio.h>
#include <string.h>

#include "adapter/adapter.h"
#include "core/util.h"
#include "import.h"

static const float *import_tensor(void *user, const char *name, size_t *numel) {
    uzw_import_tensor *t = uzw_import_find((uzw_import *)user, name);
    if (!t) return NULL;
    size_t n = 1;
    for (int i = 0; i < t->n_dims; i++) n *= (size_t)t->dims[i];
    *numel = n;
    return t->data;
}

int uzw_import_merge_adapter(uzw_import *im, const char *dir, char *err, size_t es) {
    if (!im->have_dims) {
        uzw_errf(err, es, "the checkpoint's dimensions are unknown");
        return UZW_ERR_INVALID_ARG;
    }
    uzw_adapter_base base = {im->dims, import_tensor, im};
    uzw_adapter *a = NULL;
    uzw_status st = uzw_adapter_open(&base, dir, &a, err, es);
    if (st != UZW_OK) return st;
    if (a->kind != UZW_ADAPTER_LORA) {
        uzw_errf(err, es, "adapter %s is a bottleneck adapter: it is non-linear and cannot be merged into a model file; "
                 "pass it to transcribe (--adapter DIR) instead", a->name);
        uzw_adapter_free(a);
        return UZW_ERR_UNSUPPORTED;
    }
    for (int i = 0; i < im->n_t && st == UZW_OK; i++) {
        uzw_import_tensor *t = &im->t[i];
        if (!uzw_adapter_changes(a, t->name)) continue;
        size_t n = 1;
        for (int k = 0; k < t->n_dims; k++) n *= (size_t)t->dims[k];
        if (uzw_adapter_merge_into(a, t->name, t->data, n, err, es) != 0) st = UZW_ERR_MODEL_FORMAT;
    }
    for (int i = 0; i < a->n_changes && st == UZW_OK; i++)
        if (!uzw_import_find(im, a->changes[i].name)) {
            uzw_errf(err, es, "adapter %s changes '%s', which the checkpoint lacks", a->name, a->changes[i].name);
            st = UZW_ERR_MODEL_FORMAT;
        }
    if (st == UZW_OK) {
        char sha[65] = "";
        char path[1024];
        snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
        const char *paths[1] = {path};
        char e2[256];
        if (uzw_sha256_files(paths, 1, sha, e2, sizeof e2) != 0) snprintf(sha, sizeof sha, "unknown");
        size_t o = strlen(im->source_adapters);
        snprintf(im->source_adapters + o, sizeof im->source_adapters - o, "%s%s:%s", o ? "," : "", a->name, sha);
    }
    uzw_adapter_free(a);
    return st;
}
