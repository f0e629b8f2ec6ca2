/*
 * test_schema.c - the Whisper schema: dimension keys and checks, the canonical tensor list
 * (count, order, shapes) and name -> shape lookup.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

static uzw_dims tiny(void) { return (uzw_dims){80, 1500, 384, 6, 4, 448, 384, 6, 4, 51865}; }
static uzw_dims turbo(void) { return (uzw_dims){128, 1500, 1280, 20, 32, 448, 1280, 20, 4, 51866}; }

Test(schema, dims_keys_and_fields) {
    uzw_dims d = tiny();
    cr_assert_str_eq(uzw_dims_keys[0], "dims.n_mels");
    cr_assert_str_eq(uzw_dims_keys[9], "dims.n_vocab");
    cr_assert_eq(uzw_dims_field(&d, 0), &d.n_mels);
    cr_assert_eq(uzw_dims_field(&d, 4), &d.n_audio_layer);
    cr_assert_eq(uzw_dims_field(&d, 6), &d.n_text_state);
    cr_assert_eq(uzw_dims_field(&d, 9), &d.n_vocab);
    cr_assert_null(uzw_dims_field(&d, 10));
    cr_assert_null(uzw_dims_field(&d, -1));
    for (int i = 0; i < 10; i++) cr_assert_eq(strncmp(uzw_dims_keys[i], "dims.n_", 7), 0);
}

static void bad_dims(uzw_dims d, const char *word) {
    char err[256] = "";
    cr_assert_eq(uzw_dims_validate(&d, err, sizeof err), -1, "accepted (want '%s')", word);
    cr_assert(strstr(err, word), "message '%s' lacks '%s'", err, word);
}

Test(schema, dims_validate) {
    char err[256] = "";
    uzw_dims d = tiny();
    cr_assert_eq(uzw_dims_validate(&d, err, sizeof err), 0, "%s", err);
    d = turbo();
    cr_assert_eq(uzw_dims_validate(&d, err, sizeof err), 0, "%s", err);
    d = tiny(), d.n_vocab = 51864; /* .en */
    cr_assert_eq(uzw_dims_validate(&d, err, sizeof err), 0, "%s", err);
    d = tiny(), d.n_mels = 0, bad_dims(d, "dims.n_mels = 0");
    d = tiny(), d.n_mels = 81, bad_dims(d, "80 or 128");
    d = tiny(), d.n_audio_ctx = 1501, bad_dims(d, "dims.n_audio_ctx = 1501");
    d = tiny(), d.n_audio_state = 8200, d.n_text_state = 8200, bad_dims(d, "dims.n_audio_state");
    d = tiny(), d.n_text_state = 512, bad_dims(d, "differs");
    d = tiny(), d.n_audio_head = 7, bad_dims(d, "does not divide");
    d = tiny(), d.n_text_head = 5, bad_dims(d, "dims.n_text_head = 5 does not divide");
    d = tiny(), d.n_text_layer = 129, bad_dims(d, "dims.n_text_layer");
    d = tiny(), d.n_text_ctx = -4, bad_dims(d, "dims.n_text_ctx = -4");
    d = tiny(), d.n_vocab = 50000, bad_dims(d, "too small");
    d = tiny(), d.n_vocab = 70000, bad_dims(d, "dims.n_vocab = 70000");
    cr_assert_eq(uzw_dims_validate(NULL, err, sizeof err), -1);
}

Test(schema, tensor_list) {
    uzw_dims d = tiny();
    int n = uzw_schema_count(&d);
    cr_assert_eq(n, 7 + 15 * 4 + 4 + 24 * 4);
    d = turbo();
    cr_assert_eq(uzw_schema_count(&d), 7 + 15 * 32 + 4 + 24 * 4);
    d = tiny();
    char name[UZW_MAX_NAME];
    int nd;
    int64_t dims[UZW_MAX_DIMS];
    struct { int idx; const char *name; int nd; int64_t d0, d1, d2; } want[] = {
        {0, "enc.conv1.weight", 3, 384, 80, 3},     {2, "enc.conv2.weight", 3, 384, 384, 3},
        {4, "enc.pos", 2, 1500, 384, 0},            {6, "enc.ln_post.bias", 1, 384, 0, 0},
        {7, "enc.0.attn_ln.weight", 1, 384, 0, 0},  {11, "enc.0.attn.k.weight", 2, 384, 384, 0},
        {18, "enc.0.fc1.weight", 2, 1536, 384, 0},  {19, "enc.0.fc1.bias", 1, 1536, 0, 0},
        {20, "enc.0.fc2.weight", 2, 384, 1536, 0},  {22, "enc.1.attn_ln.weight", 1, 384, 0, 0},
        {66, "enc.3.fc2.bias", 1, 384, 0, 0},       {67, "dec.tok_emb", 2, 51865, 384, 0},
        {68, "dec.pos", 2, 448, 384, 0},            {70, "dec.ln.bias", 1, 384, 0, 0},
        {71, "dec.0.attn_ln.weight", 1, 384, 0, 0}, {82, "dec.0.xattn.q.weight", 2, 384, 384, 0},
        {84, "dec.0.xattn.k.weight", 2, 384, 384, 0}, {94, "dec.0.fc2.bias", 1, 384, 0, 0},
        {166, "dec.3.fc2.bias", 1, 384, 0, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uzw_schema_get(&d, want[i].idx, name, &nd, dims);
        cr_assert_str_eq(name, want[i].name, "index %d", want[i].idx);
        cr_assert_eq(nd, want[i].nd, "%s", name);
        cr_assert(dims[0] == want[i].d0 && dims[1] == want[i].d1 && dims[2] == want[i].d2 && dims[3] == 0,
                  "%s: [%lld, %lld, %lld]", name, (long long)dims[0], (long long)dims[1], (long long)dims[2]);
    }
    uzw_schema_get(&d, n, name, &nd, dims);
    cr_assert(name[0] == 0 && nd == 0, "out of range gives an empty name");
    uzw_schema_get(&d, -1, name, &nd, dims);
    cr_assert(name[0] == 0 && nd == 0);
    /* every listed name is unique, contains no key bias, and looks itself up to the same shape */
    char (*names)[UZW_MAX_NAME] = calloc((size_t)n, UZW_MAX_NAME);
    cr_assert_not_null(names);
    for (int i = 0; i < n; i++) {
        int nd2;
        int64_t dims2[UZW_MAX_DIMS];
        uzw_schema_get(&d, i, names[i], &nd, dims);
        cr_assert_null(strstr(names[i], ".k.bias"));
        cr_assert_eq(uzw_schema_shape(&d, names[i], &nd2, dims2), 0, "%s not found", names[i]);
        cr_assert_eq(nd2, nd);
        cr_assert_eq(memcmp(dims, dims2, sizeof dims), 0, "%s", names[i]);
        for (int j = 0; j < i; j++) cr_assert_str_neq(names[i], names[j]);
    }
    free(names);
}

Test(schema, shape_lookup_rejects) {
    uzw_dims d = tiny();
    int nd;
    int64_t dims[UZW_MAX_DIMS];
    const char *bad[] = {"enc.4.attn_ln.weight", "dec.4.fc1.bias", "enc.01.fc1.bias", "enc.-1.fc1.bias",
                         "enc.0.attn.k.bias", "dec.0.xattn.k.bias", "enc.0.xattn.q.weight", "enc.tok_emb",
                         "enc.0", "enc.", "dec.0.", "model.encoder.conv1.weight", "", "enc.0.fc1.bias.x",
                         "enc.99999999999.fc1.bias", "dec.pos.weight"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(uzw_schema_shape(&d, bad[i], &nd, dims), -1, "'%s' accepted", bad[i]);
    cr_assert_eq(uzw_schema_shape(&d, "dec.3.xattn.o.weight", &nd, dims), 0);
    cr_assert(nd == 2 && dims[0] == 384 && dims[1] == 384);
    d = turbo();
    cr_assert_eq(uzw_schema_shape(&d, "enc.31.fc1.weight", &nd, dims), 0);
    cr_assert(nd == 2 && dims[0] == 5120 && dims[1] == 1280);
    cr_assert_eq(uzw_schema_shape(&d, "dec.4.fc1.weight", &nd, dims), -1, "turbo has 4 decoder layers");
    cr_assert_eq(uzw_schema_shape(&d, "enc.conv1.weight", &nd, dims), 0);
    cr_assert(nd == 3 && dims[0] == 1280 && dims[1] == 128 && dims[2] == 3);
}
