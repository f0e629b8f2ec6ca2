/* fuzz_safetensors.c - libFuzzer target: the safetensors header parser and the f32 conversion of
 * every entry it accepts, on arbitrary bytes. Nothing may crash, leak or read outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    uzw_st_header h;
    if (uzw_st_parse(data, size, &h, err, sizeof err) != 0) return 0;
    for (int i = 0; i < h.n; i++) {
        if (h.e[i].numel > (1u << 22)) continue; /* keep each run cheap */
        float *v = NULL;
        if (uzw_st_entry_f32(data, size, &h, &h.e[i], &v, err, sizeof err) == 0) free(v);
    }
    uzw_st_header_free(&h);
    return 0;
}
