/* model_slots.c - canonical tensor name -> the field of uzw_model / uzw_layer it is bound to, for code
 * that rebinds weights after loading (merging adapters). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"

typedef struct {
    const char *name;
    size_t off;
    int mat; /* 1: uzw_wmat, 0: const float * */
} slot_def;

static const slot_def top_slots[] = {
    {"enc.conv1.weight", offsetof(uzw_model, conv1_w), 0}, {"enc.conv1.bias", offsetof(uzw_model, conv1_b), 0},
    {"enc.conv2.weight", offsetof(uzw_model, conv2_w), 0}, {"enc.conv2.bias", offsetof(uzw_model, conv2_b), 0},
    {"enc.pos", offsetof(uzw_model, enc_pos), 0},
    {"enc.ln_post.weight", offsetof(uzw_model, ln_post_w), 0}, {"enc.ln_post.bias", offsetof(uzw_model, ln_post_b), 0},
    {"dec.tok_emb", offsetof(uzw_model, tok_emb), 1}, {"dec.pos", offsetof(uzw_model, dec_pos), 0},
    {"dec.ln.weight", offsetof(uzw_model, dec_ln_w), 0}, {"dec.ln.bias", offsetof(uzw_model, dec_ln_b), 0},
};

static const slot_def layer_slots[] = {
    {"attn_ln.weight", offsetof(uzw_layer, attn_ln_w), 0}, {"attn_ln.bias", offsetof(uzw_layer, attn_ln_b), 0},
    {"attn.q.weight", offsetof(uzw_layer, q_w), 1}, {"attn.q.bias", offsetof(uzw_layer, q_b), 0},
    {"attn.k.weight", offsetof(uzw_layer, k_w), 1},
    {"attn.v.weight", offsetof(uzw_layer, v_w), 1}, {"attn.v.bias", offsetof(uzw_layer, v_b), 0},
    {"attn.o.weight", offsetof(uzw_layer, o_w), 1}, {"attn.o.bias", offsetof(uzw_layer, o_b), 0},
    {"xattn_ln.weight", offsetof(uzw_layer, xattn_ln_w), 0}, {"xattn_ln.bias", offsetof(uzw_layer, xattn_ln_b), 0},
    {"xattn.q.weight", offsetof(uzw_layer, xq_w), 1}, {"xattn.q.bias", offsetof(uzw_layer, xq_b), 0},
    {"xattn.k.weight", offsetof(uzw_layer, xk_w), 1},
    {"xattn.v.weight", offsetof(uzw_layer, xv_w), 1}, {"xattn.v.bias", offsetof(uzw_layer, xv_b), 0},
    {"xattn.o.weight", offsetof(uzw_layer, xo_w), 1}, {"xattn.o.bias", offsetof(uzw_layer, xo_b), 0},
    {"mlp_ln.weight", offsetof(uzw_layer, mlp_ln_w), 0}, {"mlp_ln.bias", offsetof(uzw_layer, mlp_ln_b), 0},
    {"fc1.weight", offsetof(uzw_layer, fc1_w), 1}, {"fc1.bias", offsetof(uzw_layer, fc1_b), 0},
    {"fc2.weight", offsetof(uzw_layer, fc2_w), 1}, {"fc2.bias", offsetof(uzw_layer, fc2_b), 0},
};

static int resolve(void *base, const slot_def *s, const float ***vec, uzw_wmat **mat) {
    if (s->mat) *mat = (uzw_wmat *)((char *)base + s->off);
    else *vec = (const float **)((char *)base + s->off);
    return 0;
}

int uzw_model_slot(uzw_model *m, const char *name, const float ***vec, uzw_wmat **mat) {
    *vec = NULL;
    *mat = NULL;
    for (size_t i = 0; i < sizeof top_slots / sizeof top_slots[0]; i++)
        if (strcmp(name, top_slots[i].name) == 0) return resolve(m, &top_slots[i], vec, mat);
    int dec = strncmp(name, "dec.", 4) == 0;
    if (!dec && strncmp(name, "enc.", 4) != 0) return -1;
    const char *p = name + 4;
    int l = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 5) l = l * 10 + (*p++ - '0'), digits++;
    if (!digits || *p != '.' || l >= (dec ? m->dims.n_text_layer : m->dims.n_audio_layer)) return -1;
    p++;
    uzw_layer *L = dec ? &m->dec[l] : &m->enc[l];
    for (size_t i = 0; i < sizeof layer_slots / sizeof layer_slots[0]; i++) {
        if (strcmp(p, layer_slots[i].name) != 0) continue;
        if (!dec && strncmp(p, "xattn", 5) == 0) return -1;
        return resolve(L, &layer_slots[i], vec, mat);
    }
    return -1;
}
