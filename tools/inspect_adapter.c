/* inspect_adapter.c - `uzwhisper inspect ADAPTER_DIR [-m MODEL]`: load an adapter folder against a
 * model (which checks it completely) and list what it changes, layer by layer. */
#include <stdio.h>
#include <sys/stat.h>

#include "adapter/adapter.h"
#include "cli.h"

static const char *const site_label[UZW_N_SITES] = {"attn.q", "attn.k", "attn.v", "attn.o", "xattn.q",
                                                     "xattn.k", "xattn.v", "xattn.o", "fc1", "fc2"};
static const char *const place_label[UZW_N_BN_PLACES] = {"after self-attention", "after cross-attention", "after the MLP"};
static const char *const act_label[] = {"relu", "gelu", "gelu_tanh", "silu", "tanh", "leakyrelu", "sigmoid", "none"};

static void layer_name(const uzw_dims *d, int l, char *buf, size_t cap) {
    int dec = l >= d->n_audio_layer;
    snprintf(buf, cap, "%s.%d", dec ? "dec" : "enc", dec ? l - d->n_audio_layer : l);
}

int inspect_adapter(const char *dir, const char *model_arg) {
    char model_path[4096], err[4096];
    if (model_arg) snprintf(model_path, sizeof model_path, "%s", model_arg);
    else if (!cli_default_model(model_path, sizeof model_path)) {
        cli_error("an adapter is checked against a model: pass -m MODEL.uzw (the default model %s is missing)", model_path);
        return UZW_EXIT_MODEL;
    }
    uzw_model *m = NULL;
    uzw_status st = uzw_model_load(model_path, NULL, &m, err, sizeof err);
    if (st != UZW_OK) { cli_error("cannot load model: %s", err); return UZW_EXIT_MODEL; }
    uzw_adapter *a = NULL;
    st = uzw_adapter_load(m, dir, &a, err, sizeof err);
    if (st != UZW_OK) {
        cli_error("%s (%s)", err, uzw_status_string(st));
        uzw_model_free(m);
        return UZW_EXIT_MODEL;
    }
    const uzw_dims *d = &a->dims;
    printf("adapter: %s\nname: %s\nkind: %s\nchecked against: %s\nparameters: %lld\nmodules: %lld\n"
           "largest rank/width: %d\nmergeable: %s\nunmerged: %s%s%s\n",
           dir, a->name, uzw_adapter_get_str(a, "kind"), model_path, (long long)a->n_params,
           (long long)uzw_adapter_get_int(a, "n_modules"), a->max_rank, a->kind == UZW_ADAPTER_LORA ? "yes" : "no (non-linear)",
           a->unmerged_blocker[0] ? "no: it replaces " : "yes", a->unmerged_blocker, a->unmerged_blocker[0] ? " (merge it)" : "");
    int L = d->n_audio_layer + d->n_text_layer;
    char ln[32];
    for (int l = 0; l < L; l++) {
        layer_name(d, l, ln, sizeof ln);
        for (int s = 0; a->lora && s < UZW_N_SITES; s++) {
            const uzw_lora_site *x = &a->lora[l * UZW_N_SITES + s];
            if (x->rank || x->bias_delta)
                printf("  %s.%-8s rank %-4d scale %-9.5g%s\n", ln, site_label[s], x->rank, (double)x->scale,
                       x->bias_delta ? " bias changed" : "");
        }
        for (int p = 0; a->bn && p < UZW_N_BN_PLACES; p++) {
            const uzw_bn_module *b = &a->bn[l * UZW_N_BN_PLACES + p];
            if (b->dim)
                printf("  %s %-22s width %-4d %s, scaling %g%s%s\n", ln, place_label[p], b->dim, act_label[b->act],
                       (double)b->scaling, b->ln_before_w ? ", LN before" : "", b->ln_after_w ? ", LN after" : "");
        }
    }
    for (int i = 0; i < a->n_changes; i++)
        if (a->changes[i].kind == UZW_CHANGE_SET) printf("  replaces %s\n", a->changes[i].name);
    uzw_adapter_free(a);
    uzw_model_free(m);
    return UZW_EXIT_OK;
}
