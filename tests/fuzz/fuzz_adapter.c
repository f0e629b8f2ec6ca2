/* fuzz_adapter.c - libFuzzer target: the whole adapter loader (PEFT and AdapterHub configs, their
 * safetensors, every check against a base of the fixture model's dimensions) and merging of what
 * it accepts. Input: u32 LE length L, L bytes of adapter_config.json, then the safetensors file
 * (written as both adapter_model.safetensors and adapter.safetensors). Seeds:
 * tests/fuzz/gen_corpus_adapter.py. Nothing may crash, leak or read outside its buffers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter/adapter.h"

static char dir[64];
static float *zeros; /* base tensors: all zero, as large as the largest (the token embedding) */

static const float *base_get(void *user, const char *name, size_t *numel) {
    const uzw_dims *d = user;
    int64_t r, c;
    if (uzw_adapter_base_shape(d, name, &r, &c, numel) != 0) return NULL;
    return zeros;
}

static void put(const char *name, const uint8_t *p, size_t n) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uzw_dims d = {80, 1500, 32, 2, 2, 448, 32, 2, 2, 51865};
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/uzw-fuzz-adapter-%d", (int)getpid());
        mkdir(dir, 0700);
        zeros = calloc((size_t)d.n_vocab * d.n_text_state, sizeof(float));
        if (!zeros) abort();
    }
    if (size < 4) return 0;
    uint32_t L;
    memcpy(&L, data, 4);
    if (L > size - 4) return 0;
    put("adapter_config.json", data + 4, L);
    put("adapter_model.safetensors", data + 4 + L, size - 4 - L);
    put("adapter.safetensors", data + 4 + L, size - 4 - L);
    uzw_adapter_base base = {d, base_get, (void *)&d};
    uzw_adapter *a = NULL;
    char err[1024];
    if (uzw_adapter_open(&base, dir, &a, err, sizeof err) != UZW_OK) return 0;
    for (int i = 0; i < a->n_changes; i++) { /* merge every change into a zero tensor */
        int64_t r, c;
        size_t n;
        if (uzw_adapter_base_shape(&d, a->changes[i].name, &r, &c, &n) != 0) abort(); /* the loader checked */
        float *t = calloc(n, sizeof(float));
        if (!t) abort();
        if (uzw_adapter_merge_into(a, a->changes[i].name, t, n, err, sizeof err) != 0) abort();
        free(t);
    }
    uzw_adapter_free(a);
    return 0;
}
