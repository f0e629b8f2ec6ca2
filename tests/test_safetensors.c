/* test_safetensors.c - the safetensors reader on hand-built files: valid F32/F16/BF16 files and
 * shards, and every kind of broken file, each with the message it must produce. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"
#include "testutil.h"

/* A fresh temporary folder per test. */
static const char *tmp_dir(void) {
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/uzw_st_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

/* 8-byte little-endian header length (hlen_override or the JSON's length), the JSON, the data. */
static void write_st(const char *path, const char *json, const void *data, size_t data_len, uint64_t hlen_override) {
    size_t jl = strlen(json);
    uint64_t hl = hlen_override ? hlen_override : jl;
    uint8_t *buf = malloc(8 + jl + data_len + 1);
    cr_assert_not_null(buf);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(hl >> (8 * i));
    memcpy(buf + 8, json, jl);
    if (data_len) memcpy(buf + 8 + jl, data, data_len);
    cr_assert_eq(tu_write_file(path, buf, 8 + jl + data_len), 0);
    free(buf);
}

/* Open a file built from json + data; expect failure with a message containing want. */
static void expect_fail(const char *json, const void *data, size_t data_len, uint64_t hlen, const char *want) {
    char path[128], err[512] = "";
    snprintf(path, sizeof path, "%s/x.safetensors", tmp_dir());
    write_st(path, json, data, data_len, hlen);
    uzw_st_file f;
    int rc = uzw_st_open(path, &f, err, sizeof err);
    cr_assert_eq(rc, -1, "expected failure for %s", json);
    cr_assert(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
}

static const float f4[4] = {1.0f, -2.5f, 3.25f, 1e-3f};

Test(safetensors, valid_f32_with_metadata_and_padding) {
    char path[128], err[512] = "";
    snprintf(path, sizeof path, "%s/a.safetensors", tmp_dir());
    /* leading space and trailing padding spaces are tolerated */
    write_st(path, " {\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                   "\"data_offsets\":[0,16]}}    ", f4, sizeof f4, 0);
    uzw_st_file f;
    cr_assert_eq(uzw_st_open(path, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.h.n, 1);
    const uzw_st_entry *e = uzw_st_find(&f, "w");
    cr_assert_not_null(e);
    cr_assert_str_eq(e->dtype, "F32");
    cr_assert_eq(e->n_dims, 2);
    cr_assert_eq(e->shape[0], 2);
    cr_assert_eq(e->shape[1], 2);
    cr_assert_eq(e->numel, 4);
    cr_assert_null(uzw_st_find(&f, "__metadata__"));
    float *v = NULL;
    cr_assert_eq(uzw_st_read_f32(&f, e, &v, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 4; i++) cr_assert_eq(v[i], f4[i]);
    free(v);
    uzw_st_close(&f);
}

Test(safetensors, valid_f16_bf16_scalar) {
    /* F16 [3]: 1.0, -2.0, 0.5; BF16 [2]: 1.0, 3.0; F32 scalar []: 7.0 */
    uint8_t data[6 + 4 + 4] = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x80, 0x3f, 0x40, 0x40};
    float seven = 7.0f;
    memcpy(data + 10, &seven, 4);
    char path[128], err[512] = "";
    snprintf(path, sizeof path, "%s/b.safetensors", tmp_dir());
    write_st(path, "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[10,14]},"
                   "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                   "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]}}", data, sizeof data, 0);
    uzw_st_file f;
    cr_assert_eq(uzw_st_open(path, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.h.n, 3);
    float *v = NULL;
    cr_assert_eq(uzw_st_read_f32(&f, uzw_st_find(&f, "h"), &v, err, sizeof err), 0, "%s", err);
    cr_assert(v[0] == 1.0f && v[1] == -2.0f && v[2] == 0.5f, "f16 %g %g %g", v[0], v[1], v[2]);
    free(v);
    cr_assert_eq(uzw_st_read_f32(&f, uzw_st_find(&f, "b"), &v, err, sizeof err), 0, "%s", err);
    cr_assert(v[0] == 1.0f && v[1] == 3.0f, "bf16 %g %g", v[0], v[1]);
    free(v);
    const uzw_st_entry *s = uzw_st_find(&f, "s");
    cr_assert_eq(s->n_dims, 0);
    cr_assert_eq(s->numel, 1);
    cr_assert_eq(uzw_st_read_f32(&f, s, &v, err, sizeof err), 0, "%s", err);
    cr_assert_eq(v[0], 7.0f);
    free(v);
    uzw_st_close(&f);
}

Test(safetensors, unsupported_dtype_named_on_read) {
    char path[128], err[512] = "";
    snprintf(path, sizeof path, "%s/c.safetensors", tmp_dir());
    int32_t ints[2] = {1, 2};
    write_st(path, "{\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", ints, sizeof ints, 0);
    uzw_st_file f;
    cr_assert_eq(uzw_st_open(path, &f, err, sizeof err), 0, "%s", err);
    float *v = NULL;
    cr_assert_eq(uzw_st_read_f32(&f, uzw_st_find(&f, "i"), &v, err, sizeof err), -1);
    cr_assert(strstr(err, "dtype I32") != NULL, "%s", err);
    cr_assert_null(v);
    uzw_st_close(&f);
}

Test(safetensors, header_too_large) {
    expect_fail("{}", NULL, 0, 100000001ull, "too large");
}

Test(safetensors, header_past_end_of_file) {
    expect_fail("{}", NULL, 0, 4096, "runs past the end");
}

Test(safetensors, offsets_out_of_range) {
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}", f4, sizeof f4, 0, "out of range");
}

Test(safetensors, truncated_data) {
    /* the header promises 16 bytes, only 8 follow */
    expect_fail("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", f4, 8, 0, "truncated");
}

Test(safetensors, truncated_length_field) {
    char path[128], err[512] = "";
    snprintf(path, sizeof path, "%s/t.safetensors", tmp_dir());
    cr_assert_eq(tu_write_file(path, "\x02\x00\x00", 3), 0);
    uzw_st_file f;
    cr_assert_eq(uzw_st_open(path, &f, err, sizeof err), -1);
    cr_assert(strstr(err, "at least 8 bytes") != NULL, "%s", err);
    uint8_t three[3] = {2, 0, 0};
    uzw_st_header h;
    cr_assert_eq(uzw_st_parse(three, 3, &h, err, sizeof err), -1);
    cr_assert(strstr(err, "too small") != NULL, "%s", err);
}

Test(safetensors, overlapping) {
    float d[3] = {1, 2, 3};
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", d, sizeof d, 0, "overlap");
}

Test(safetensors, hole) {
    float d[5] = {1, 2, 3, 4, 5};
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", d, sizeof d, 0, "hole of 4 bytes");
}

Test(safetensors, unused_bytes_at_end) {
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", f4, sizeof f4, 0, "unused bytes");
}

Test(safetensors, size_mismatch) {
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", f4, sizeof f4, 0,
                "span 16 bytes but 3 elements of F32 need 12");
}

Test(safetensors, bad_dtype) {
    expect_fail("{\"a\":{\"dtype\":\"Q7\",\"shape\":[4],\"data_offsets\":[0,16]}}", f4, sizeof f4, 0,
                "unknown dtype 'Q7'");
}

Test(safetensors, non_object_json) {
    expect_fail("[1, 2, 3]", NULL, 0, 0, "not a JSON object");
}

Test(safetensors, invalid_json_and_duplicates) {
    expect_fail("{\"a\": ", NULL, 0, 0, "not valid JSON");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", f4, 4, 0, "not valid JSON");
}

Test(safetensors, malformed_entries) {
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", f4, 4, 0, "shape[0]");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", f4, 4, 0, "reversed");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", f4, 4, 0, "data_offsets");
    expect_fail("{\"a\":5}", NULL, 0, 0, "not a JSON object");
    expect_fail("{\"__metadata__\":{\"k\":1}}", NULL, 0, 0, "not a string");
    expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536,65536,65536],\"data_offsets\":[0,4]}}", f4, 4, 0,
                "overflows");
}

Test(safetensors, sharded_index) {
    const char *dir = tmp_dir();
    char p1[128], p2[128], idx[128], err[512] = "";
    snprintf(p1, sizeof p1, "%s/model-00001-of-00002.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", dir);
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
    write_st(p1, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", f4, 8, 0);
    write_st(p2, "{\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", f4 + 2, 8, 0);
    const char *index = "{\"metadata\":{\"total_size\":16},\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\","
                        "\"y\":\"model-00002-of-00002.safetensors\"}}";
    cr_assert_eq(tu_write_file(idx, index, strlen(index)), 0);
    uzw_st_set s;
    cr_assert_eq(uzw_st_set_open_dir(dir, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.n_files, 2);
    const uzw_st_file *f = NULL;
    const uzw_st_entry *e = uzw_st_set_find(&s, "y", &f);
    cr_assert_not_null(e);
    cr_assert(strstr(f->path, "00002-of") != NULL);
    float *v = NULL;
    cr_assert_eq(uzw_st_read_f32(f, e, &v, err, sizeof err), 0, "%s", err);
    cr_assert(v[0] == f4[2] && v[1] == f4[3]);
    free(v);
    cr_assert_null(uzw_st_set_find(&s, "z", NULL));
    uzw_st_set_close(&s);

    /* a weight_map pointing at the wrong shard, and one escaping the folder */
    const char *bad = "{\"weight_map\":{\"x\":\"model-00002-of-00002.safetensors\",\"y\":\"model-00002-of-00002.safetensors\"}}";
    cr_assert_eq(tu_write_file(idx, bad, strlen(bad)), 0);
    cr_assert_eq(uzw_st_set_open_dir(dir, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "'x'") != NULL, "%s", err);
    const char *esc = "{\"weight_map\":{\"x\":\"../etc/passwd\"}}";
    cr_assert_eq(tu_write_file(idx, esc, strlen(esc)), 0);
    cr_assert_eq(uzw_st_set_open_dir(dir, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "does not name a shard") != NULL, "%s", err);
    unlink(idx);
    cr_assert_eq(uzw_st_set_open_dir(dir, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "neither model.safetensors") != NULL, "%s", err);
}
