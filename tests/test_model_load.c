/*
 * Model-level validation of .uzw files (beyond the container checks of test_wfile): a file whose
 * container is intact (checksums fixed after each edit) but whose Whisper content is inconsistent
 * must load as UZW_ERR_MODEL_FORMAT with a message naming the problem, never crash.
 * Uses the random fixture model converted from tests/fixtures/tiny-random/hf.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "model/model.h"
#include "testutil.h"
#include "wfile_layout.h"

static uint8_t *image;
static size_t image_size;

static void setup(void) {
    const char *hf = tu_src("tests/fixtures/tiny-random/hf");
    if (!tu_exists(hf)) return;
    uzw_import im;
    uzw_import_init(&im);
    char err[1024], path[] = "/tmp/uzw-load-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(uzw_import_hf(hf, &im, err, sizeof err), 0, "%s", err);
    cr_assert_eq(uzw_import_write(&im, path, UZW_DT_F16, err, sizeof err), 0, "%s", err);
    uzw_import_free(&im);
    image = tu_read_file(path, &image_size);
    unlink(path);
    cr_assert(image);
}
static void teardown(void) { free(image); }
TestSuite(model_load, .init = setup, .fini = teardown);

static void need(void) {
    if (!image) cr_skip_test("tests/fixtures/tiny-random/hf is missing (run tests/reference/make_golden.py)");
}

/* A private copy of the image with its parsed view, to edit. */
typedef struct { uint8_t *b; uzw_wfile wf; } copy_t;
static copy_t copy_image(void) {
    copy_t c;
    c.b = malloc(image_size);
    cr_assert(c.b);
    memcpy(c.b, image, image_size);
    char err[256];
    cr_assert_eq(uzw_wfile_from_memory(c.b, image_size, &c.wf, err, sizeof err), 0, "%s", err);
    return c;
}

/* Recompute the metadata and table CRCs after an edit, then load; return status and message. */
static uzw_status load_edited(copy_t *c, char *err, size_t es) {
    uint64_t mo = uzw_rd_u64(c->b + UZW_H_META_OFF), mb = uzw_rd_u64(c->b + UZW_H_META_BYTES);
    uint64_t to = uzw_rd_u64(c->b + UZW_H_TABLE_OFF), tb = uzw_rd_u64(c->b + UZW_H_TABLE_BYTES);
    uzw_wr_u32(c->b + UZW_H_META_CRC, uzw_crc32(0, c->b + mo, mb));
    uzw_wr_u32(c->b + UZW_H_TABLE_CRC, uzw_crc32(0, c->b + to, tb));
    uzw_model *m = NULL;
    uzw_status st = uzw_model_load_from_memory(c->b, image_size, NULL, &m, err, es);
    if (st == UZW_OK) uzw_model_free(m);
    uzw_wfile_close(&c->wf);
    free(c->b);
    return st;
}

static void set_meta_i32(copy_t *c, const char *key, uint32_t index, int32_t v) {
    const uzw_meta *md = uzw_wfile_meta(&c->wf, key);
    cr_assert(md, "no key %s", key);
    uzw_wr_u32((uint8_t *)md->value + 4 * index, (uint32_t)v);
}

static void expect_error(copy_t c, const char *words) {
    char err[1024] = "";
    uzw_status st = load_edited(&c, err, sizeof err);
    cr_expect_eq(st, UZW_ERR_MODEL_FORMAT, "status %d (%s)", st, err);
    cr_expect(strstr(err, words) != NULL, "message '%s' lacks '%s'", err, words);
}

Test(model_load, valid_file_loads_with_its_facts) {
    need();
    uzw_model *m = NULL;
    char err[512];
    cr_assert_eq(uzw_model_load_from_memory(image, image_size, NULL, &m, err, sizeof err), UZW_OK, "%s", err);
    cr_expect_eq(uzw_model_get_int(m, "n_vocab"), 51865);
    cr_expect_eq(uzw_model_get_int(m, "eot"), 50257);
    cr_expect_eq(uzw_model_get_int(m, "n_languages"), 99);
    cr_expect_eq(uzw_model_get_int(m, "multilingual"), 1);
    cr_expect_eq(uzw_model_language_index(m, "uz"), 78);
    cr_expect_eq(uzw_model_language_index(m, "russian"), 4);
    cr_expect_eq(uzw_model_language_index(m, "xx"), -1);
    cr_expect_str_eq(uzw_model_get_str(m, "source_format"), "hf-safetensors");
    cr_expect_eq(m->n_suppress, 88);
    uzw_model_free(m);
}

Test(model_load, more_layers_than_tensors) {
    need();
    copy_t c = copy_image();
    set_meta_i32(&c, "dims.n_audio_layer", 0, 3);
    expect_error(c, "lacks tensor 'enc.2.");
}

Test(model_load, shape_against_dimensions) {
    need();
    copy_t c = copy_image();
    set_meta_i32(&c, "dims.n_text_state", 0, 64);
    set_meta_i32(&c, "dims.n_audio_state", 0, 64);
    expect_error(c, "expected [");
}

Test(model_load, inconsistent_special_tokens) {
    need();
    copy_t c = copy_image();
    set_meta_i32(&c, "token.sot", 0, 50300);
    expect_error(c, "inconsistent");
}

Test(model_load, suppress_id_outside_vocabulary) {
    need();
    copy_t c = copy_image();
    set_meta_i32(&c, "suppress.tokens", 3, 999999);
    expect_error(c, "suppress.tokens");
}

Test(model_load, alignment_head_that_does_not_exist) {
    need();
    copy_t c = copy_image();
    set_meta_i32(&c, "align.heads", 1, 7); /* head 7 of a 2-head model */
    expect_error(c, "align");
}

Test(model_load, audio_context_must_be_1500) {
    need();
    copy_t c = copy_image();
    set_meta_i32(&c, "dims.n_audio_ctx", 0, 750);
    expect_error(c, "1500");
}

Test(model_load, tensor_reshaped_with_same_size) {
    need();
    copy_t c = copy_image();
    /* enc.conv1.weight [D, 80, 3] -> [D/2, 160, 3]: same bytes, wrong shape */
    const uzw_tensor *t = uzw_wfile_tensor(&c.wf, "enc.conv1.weight");
    cr_assert(t);
    uint8_t *p = c.b + uzw_rd_u64(c.b + UZW_H_TABLE_OFF);
    uint8_t *end = p + uzw_rd_u64(c.b + UZW_H_TABLE_BYTES);
    int done = 0;
    while (p < end && !done) {
        uint32_t nl = uzw_rd_u32(p);
        if (nl == strlen("enc.conv1.weight") && !memcmp(p + 4, "enc.conv1.weight", nl)) {
            uint8_t *dims = p + 4 + nl + 8;
            uzw_wr_u64(dims, uzw_rd_u64(dims) / 2);
            uzw_wr_u64(dims + 8, 160);
            done = 1;
        }
        p += 4 + nl + UZW_TREC_FIXED - 4;
    }
    cr_assert(done);
    expect_error(c, "enc.conv1.weight");
}

Test(model_load, missing_file_and_null_args) {
    uzw_model *m = (uzw_model *)1;
    char err[256];
    cr_expect_eq(uzw_model_load("/nonexistent/x.uzw", NULL, &m, err, sizeof err), UZW_ERR_IO, "%s", err);
    cr_expect_null(m);
    cr_expect(strstr(err, "/nonexistent/x.uzw") != NULL, "%s", err);
    cr_expect_eq(uzw_model_load(NULL, NULL, &m, err, sizeof err), UZW_ERR_INVALID_ARG);
    cr_expect_eq(uzw_model_load_from_memory("x", 1, NULL, &m, err, sizeof err), UZW_ERR_MODEL_FORMAT, "%s", err);
}
