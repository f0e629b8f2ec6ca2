/* The HF importer reading the tokenizer from tokenizer.json (the fast-tokenizer file many hub repos
 * ship alone) gives the same vocabulary, merges and special ids as from vocab.json + merges.txt +
 * added_tokens.json. The tokenizer.json is made from the fixture's files by
 * tests/reference/make_tokenizer_json.py (Python standard library only). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "testutil.h"
#include "wformat.h"

static int sh(const char *cmd) { return system(cmd); }

static void convert(const char *dir, const char *out) {
    uzw_import im;
    uzw_import_init(&im);
    char err[1024] = "";
    cr_assert_eq(uzw_import_hf(dir, &im, err, sizeof err), 0, "%s: %s", dir, err);
    cr_assert_eq(uzw_import_write(&im, out, UZW_DT_F16, err, sizeof err), 0, "%s", err);
    uzw_import_free(&im);
}

static void same_meta(const uzw_wfile *a, const uzw_wfile *b, const char *key) {
    const uzw_meta *ma = uzw_wfile_meta(a, key), *mb = uzw_wfile_meta(b, key);
    cr_assert(ma && mb, "missing %s", key);
    cr_expect_eq(ma->count, mb->count, "%s: %u vs %u items", key, ma->count, mb->count);
    cr_expect(ma->value_bytes == mb->value_bytes && !memcmp(ma->value, mb->value, ma->value_bytes), "%s differs", key);
}

Test(import_hf_tokjson, same_tokenizer_as_vocab_and_merges) {
    const char *hf = tu_src("tests/fixtures/tiny-random/hf");
    if (!tu_exists(hf)) cr_skip_test("tests/fixtures/tiny-random/hf is missing");
    if (sh("python3 -c 'import json' >/dev/null 2>&1") != 0) cr_skip_test("python3 is not available to build tokenizer.json");
    char tmp[] = "/tmp/uzw-tokjson-XXXXXX", cmd[4096], a[600], b[600];
    cr_assert(mkdtemp(tmp));
    snprintf(cmd, sizeof cmd,
             "set -e; mkdir %s/hf; cp %s/config.json %s/generation_config.json %s/model.safetensors %s/hf/; "
             "python3 %s %s %s/hf/tokenizer.json",
             tmp, hf, hf, hf, tmp, tu_src("tests/reference/make_tokenizer_json.py"), hf, tmp);
    cr_assert_eq(sh(cmd), 0, "%s", cmd);
    snprintf(a, sizeof a, "%s/from_vocab.uzw", tmp);
    snprintf(b, sizeof b, "%s/from_tokenizer_json.uzw", tmp);
    convert(hf, a);
    snprintf(cmd, sizeof cmd, "%s/hf", tmp);
    convert(cmd, b);
    uzw_wfile wa, wb;
    char err[512];
    cr_assert_eq(uzw_wfile_open(a, &wa, err, sizeof err), 0, "%s", err);
    cr_assert_eq(uzw_wfile_open(b, &wb, err, sizeof err), 0, "%s", err);
    const char *keys[] = {"tokenizer.vocab", "tokenizer.merges", "lang.codes", "suppress.tokens", "suppress.begin",
                          "token.eot", "token.sot", "token.transcribe", "token.no_timestamps", "token.timestamp_begin"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) same_meta(&wa, &wb, keys[i]);
    cr_expect_eq(wa.hdr.data_crc32, wb.hdr.data_crc32, "tensor data differs");
    uzw_wfile_close(&wa);
    uzw_wfile_close(&wb);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    sh(cmd);
}
