/*
 * adapter.h - adapters loaded without training (docs/adapters.md): PEFT LoRA and AdapterHub
 * bottleneck adapters, the struct behind the public uzw_adapter.
 *
 * An adapter is read once, checked against the base model's dimensions and tensors, and kept as
 *   - a list of changes by canonical tensor name (what merging does to the base weights), and
 *   - per-layer tables the forward pass reads when the adapter runs unmerged.
 * All its floats live in one allocation (data). Layers are numbered globally: encoder layers
 * 0..La-1, then decoder layers La..La+Lt-1 (AdapterHub's numbering; PEFT names say which side).
 */
#ifndef UZW_ADAPTER_H
#define UZW_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "uzwhisper.h"
#include "safetensors.h"
#include "schema.h"

enum { UZW_ADAPTER_LORA = 1, UZW_ADAPTER_BOTTLENECK = 2 };

/* The linear layers a LoRA can sit on, per transformer layer. */
enum {
    UZW_SITE_Q, UZW_SITE_K, UZW_SITE_V, UZW_SITE_O,     /* self-attention                 */
    UZW_SITE_XQ, UZW_SITE_XK, UZW_SITE_XV, UZW_SITE_XO, /* cross-attention (decoder only) */
    UZW_SITE_FC1, UZW_SITE_FC2,
    UZW_N_SITES
};
/* Where a bottleneck adapter sits: after self-attention, cross-attention or the MLP. */
enum { UZW_BN_ATTN, UZW_BN_CROSS, UZW_BN_OUT, UZW_N_BN_PLACES };

/* A LoRA on one linear layer W [out, in]: y += scale * (x A^T) B^T, plus bias_delta. */
typedef struct {
    int rank;                 /* 0: none here */
    float scale;              /* alpha / r, or alpha / sqrt(r) (rsLoRA) */
    const float *a;           /* [rank, in]  */
    const float *b;           /* [out, rank] */
    const float *bias_delta;  /* [out] or NULL: new bias - base bias + scale * lora_B.bias */
} uzw_lora_site;

enum { UZW_ACT_RELU, UZW_ACT_GELU, UZW_ACT_GELU_TANH, UZW_ACT_SILU, UZW_ACT_TANH, UZW_ACT_LEAKY_RELU, UZW_ACT_SIGMOID, UZW_ACT_NONE };

/* One sequential bottleneck adapter module (AdapterHub `Adapter` with the host's layer norm
 * absent, as in its Whisper layers): s = sub-layer output, r = the residual stream before it.
 *   res = residual_before_ln ? s : h,   h = original_ln_before ? s + r : s
 *   out = up(act(down(ln_before ? LN(h) : h))) * scaling;  out = out + res (before or after ln_after)
 *   the last module of a stack adds r again when original_ln_after. */
typedef struct {
    int dim;                                  /* bottleneck width; 0: none here */
    int act;                                  /* UZW_ACT_* */
    float scaling;
    int residual_before_ln, original_ln_before, original_ln_after, adapter_residual_before_ln;
    const float *ln_before_w, *ln_before_b;   /* [D] or NULL */
    const float *down_w, *down_b;             /* [dim, D], [dim] */
    const float *up_w, *up_b;                 /* [D, dim], [D]   */
    const float *ln_after_w, *ln_after_b;     /* [D] or NULL */
} uzw_bn_module;

/* What merging does to one base tensor (canonical name). */
typedef enum {
    UZW_CHANGE_LORA,     /* W += scale * B A                       */
    UZW_CHANGE_SET,      /* the tensor is replaced by data          */
    UZW_CHANGE_ADD       /* data is added (scale * lora_B.bias)    */
} uzw_change_kind;

typedef struct {
    char name[UZW_MAX_NAME];
    uzw_change_kind kind;
    const float *data;        /* SET / ADD: [numel] */
    size_t numel;
    int site_layer, site;     /* LORA: global layer and UZW_SITE_* */
} uzw_adapter_change;

struct uzw_adapter {
    int kind;                 /* UZW_ADAPTER_* */
    char path[512];
    char name[128];           /* AdapterHub name, or the folder's last component */
    uzw_dims dims;            /* of the base model it was checked against */

    float *data;              /* every float of the adapter: one allocation */
    size_t n_floats;

    uzw_lora_site *lora;      /* [La + Lt][UZW_N_SITES] (LoRA) */
    uzw_bn_module *bn;        /* [La + Lt][UZW_N_BN_PLACES] (bottleneck) */
    uzw_adapter_change *changes;
    int n_changes;
    int max_rank;             /* largest LoRA rank or bottleneck width */
    int64_t n_params;         /* trained parameters in the file */
    /* tensors merging replaces that the unmerged path cannot (LayerNorms, conv, embeddings...):
     * the first one's name, or "" */
    char unmerged_blocker[UZW_MAX_NAME];
};

/* The base an adapter is checked against: dimensions and a lookup of base tensors as f32 by
 * canonical name (NULL when absent or not f32-readable, e.g. an int8 matrix). */
typedef struct {
    uzw_dims dims;
    const float *(*get)(void *user, const char *name, size_t *numel);
    void *user;
} uzw_adapter_base;

/* Load dir as an adapter against base; *out owned by the caller. UZW_ERR_IO (files missing or
 * unreadable), UZW_ERR_MODEL_FORMAT (inconsistent with itself or the base), UZW_ERR_UNSUPPORTED
 * (valid, but a variant this engine does not run), with a message. */
uzw_status uzw_adapter_open(const uzw_adapter_base *base, const char *dir, uzw_adapter **out, char *err, size_t err_size);

/* The kinds' loaders (peft_load.c, bn_load.c): fill a (kind, dims, path, name already set) from the
 * parsed adapter_config.json and the folder's safetensors. */
struct json_t;
uzw_status uzw_peft_load(uzw_adapter *a, const uzw_adapter_base *base, const struct json_t *cfg, const char *dir,
                         char *err, size_t err_size);
uzw_status uzw_bn_load(uzw_adapter *a, const uzw_adapter_base *base, const struct json_t *cfg, const char *dir,
                       char *err, size_t err_size);

/* Shared by the loaders. Open dir/fname (safetensors); when it is absent but dir/bin_name (a
 * torch pickle) is there, UZW_ERR_UNSUPPORTED with the command that converts it. */
uzw_status uzw_adapter_open_weights(const char *dir, const char *fname, const char *bin_name, uzw_st_file *f, char *err,
                                    size_t err_size);
/* Convert tensor entry e of f into dst (e->numel f32); every value must be finite. */
int uzw_adapter_read(const uzw_st_file *f, const uzw_st_entry *e, float *dst, char *err, size_t err_size);
/* Shape of canonical tensor name in a model of dims d, as [rows, cols] (cols 1 for vectors). -1 if unknown. */
int uzw_adapter_base_shape(const uzw_dims *d, const char *name, int64_t *rows, int64_t *cols, size_t *numel);
/* Canonical name <-> (global layer, UZW_SITE_*): "dec.1.xattn.q.weight" is layer La+1, site XQ,
 * is_bias 0. Returns 0, or -1 for a name that is not a linear layer of a model of dims d. */
int uzw_adapter_site_of(const uzw_dims *d, const char *name, int *layer, int *site, int *is_bias);
void uzw_adapter_site_name(const uzw_dims *d, int layer, int site, int is_bias, char out[UZW_MAX_NAME]);
/* Does the site's linear layer have a bias (every one but the key projections)? */
static inline int uzw_site_has_bias(int site) { return site != UZW_SITE_K && site != UZW_SITE_XK; }
/* Allocate a->data for n floats and the per-layer tables of its kind. */
int uzw_adapter_alloc(uzw_adapter *a, size_t n_floats, char *err, size_t err_size);

/* Merging: does the adapter change base tensor `name`, and the merged values into dst (holding the
 * base values, numel f32). Changes apply in the order the adapter lists them. */
int uzw_adapter_changes(const uzw_adapter *a, const char *name);
int uzw_adapter_merge_into(const uzw_adapter *a, const char *name, float *dst, size_t numel, char *err, size_t err_size);

/* Global layer index of layer l of the encoder (side 0) or decoder (side 1). */
static inline int uzw_adapter_layer(const uzw_dims *d, int side, int l) { return side ? d->n_audio_layer + l : l; }

#endif
