/* fuzz_ct2.c - libFuzzer target for the CTranslate2 importer. The first byte picks the part:
 * 0 model.bin, 1 vocabulary.json, 2 vocabulary.txt, 3 config.json (against a small vocabulary);
 * the rest is that file. Every input must import or fail with a message, never crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "import.h"
#include "import_formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uzw_import im;
    uzw_import_init(&im);
    char err[512];
    err[0] = '\0';
    int rc;
    switch (data[0] & 3) {
    case 0: rc = uzw_ct2_parse_model(p, n, &im, err, sizeof err); break;
    case 1: rc = uzw_ct2_parse_vocab((const char *)p, n, UZW_CT2_VOCAB_JSON, &im, err, sizeof err); break;
    case 2: rc = uzw_ct2_parse_vocab((const char *)p, n, UZW_CT2_VOCAB_TXT, &im, err, sizeof err); break;
    default: {
        uzw_dims d = {80, 1500, 384, 6, 4, 448, 384, 6, 4, 51865};
        im.dims = d;
        im.have_dims = 1;
        for (int i = 0; i < 300; i++) {
            char t[16];
            int len = snprintf(t, sizeof t, "t%d", i);
            uzw_import_add_token(&im, (const uint8_t *)t, (uint32_t)len);
        }
        rc = uzw_ct2_parse_config((const char *)p, n, &im, err, sizeof err);
        break;
    }
    }
    if (rc != 0 && err[0] == '\0') __builtin_trap(); /* every failure must say why */
    uzw_import_free(&im);
    return 0;
}
