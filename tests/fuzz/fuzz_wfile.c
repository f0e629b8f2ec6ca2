/*
 * fuzz_wfile.c - libFuzzer target for the .uzw container reader (uzw_wfile_from_memory): any
 * input must give 0 or -1 with a message, never a crash, a read outside the input or a leak.
 * On success every metadata record and every tensor is walked and its bytes touched.
 * Seeds: tests/fuzz/corpus_wfile/ (tests/fuzz/gen_corpus_wfile.py). Run: tools/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wfile_layout.h"
#include "wformat.h"

static uint32_t touch_meta(const uzw_wfile *wf, const uzw_meta *m) {
    uint32_t acc = 0;
    char err[256];
    int32_t v;
    const char *s;
    uint32_t len;
    if (uzw_wfile_meta(wf, m->key) == NULL) abort(); /* every parsed key must be found again */
    if (uzw_meta_get_i32(wf, m->key, &v, err, sizeof err) == 0) acc += (uint32_t)v;
    if (uzw_meta_get_str(wf, m->key, &s, &len, err, sizeof err) == 0 && len) acc += (uint8_t)s[len - 1];
    for (uint32_t i = 0; i < m->count && i < 4096; i++) {
        acc += (uint32_t)uzw_meta_i32_at(m, i);
        float f = uzw_meta_f32_at(m, i);
        acc += f == f ? 1u : 0u;
    }
    if (m->type == UZW_MT_BYTES_ARR) { /* walk the items the reader promised fit */
        uint64_t pos = 0;
        for (uint32_t i = 0; i < m->count; i++) {
            uint32_t n = uzw_rd_u32(m->value + pos);
            if (n) acc += m->value[pos + 4 + n - 1];
            pos += 4ull + n;
        }
        if (pos != m->value_bytes) abort();
    }
    return acc;
}

static void parse_and_walk(const uint8_t *data, size_t size) {
    uzw_wfile wf;
    char err[512];
    err[0] = 0;
    if (uzw_wfile_from_memory(data, size, &wf, err, sizeof err) != 0) {
        if (err[0] == 0) abort(); /* a failure always says why */
        return;
    }
    volatile uint32_t acc = 0;
    for (uint32_t i = 0; i < wf.hdr.n_meta; i++) acc += touch_meta(&wf, &wf.meta[i]);
    for (uint32_t i = 0; i < wf.hdr.n_tensors; i++) {
        const uzw_tensor *t = &wf.tensors[i];
        if (uzw_wfile_tensor(&wf, t->name) != t) abort(); /* names are unique */
        const uint8_t *p = t->data;
        acc += p[0] + p[t->nbytes - 1]; /* nbytes > 0: dims are positive */
        if (t->dtype == UZW_DT_F16) acc += (uint32_t)uzw_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
        if (t->dtype == UZW_DT_BF16) acc += (uint32_t)(uzw_bf16_to_f32((uint16_t)(p[0] | p[1] << 8)) > 0);
    }
    (void)uzw_wfile_verify_data(&wf, err, sizeof err);
    (void)acc;
    uzw_wfile_close(&wf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse_and_walk(data, size);
    /* Mutations almost always break the checksums, which would hide the record parsers from the
     * fuzzer: parse a second time with the metadata and table CRCs made to match. */
    if (size < UZW_HEADER_BYTES) return 0;
    uzw_wheader h;
    uzw_header_decode(data, &h);
    if (h.meta_off > size || h.meta_bytes > size - h.meta_off || h.table_off > size || h.table_bytes > size - h.table_off)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uzw_wr_u32(copy + UZW_H_META_CRC, uzw_crc32(0, copy + h.meta_off, h.meta_bytes));
    uzw_wr_u32(copy + UZW_H_TABLE_CRC, uzw_crc32(0, copy + h.table_off, h.table_bytes));
    if (memcmp(copy, data, UZW_HEADER_BYTES) != 0) parse_and_walk(copy, size);
    free(copy);
    return 0;
}
