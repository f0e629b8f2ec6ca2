/* fuzz_ggml.c - libFuzzer target: any bytes as a whisper.cpp ggml .bin must import or fail with a
 * message, never crash. Seed with a vocab-only file from ../shared/data/ggml-vocab. */
#include <stddef.h>
#include <stdint.h>

#include "import.h"
#include "import_formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uzw_import im;
    uzw_import_init(&im);
    char err[512];
    err[0] = '\0';
    int rc = uzw_import_ggml_mem(data, size, &im, err, sizeof err);
    if (rc != 0 && err[0] == '\0') __builtin_trap(); /* every failure must say why */
    uzw_import_free(&im);
    return 0;
}
