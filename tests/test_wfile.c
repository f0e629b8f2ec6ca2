/*
 * test_wfile.c - the .uzw container: builder -> file -> reader round trips (file and memory),
 * 64-byte alignment of every tensor, half-precision conversions against an independent oracle,
 * and corruption cases that must each fail with -1 and a message naming the problem.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"
#include "wfile_layout.h"
#include "wformat.h"

/* ---------------------------------------------------------------- helpers */

typedef struct {
    char dir[64];
    char path[128];
} tmp_t;

static void tmp_make(tmp_t *t) {
    snprintf(t->dir, sizeof t->dir, "/tmp/uzw_wfile_XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir), "mkdtemp failed");
    snprintf(t->path, sizeof t->path, "%s/m.uzw", t->dir);
}

static void tmp_clean(tmp_t *t) {
    DIR *d = opendir(t->dir);
    if (!d) return;
    struct dirent *e;
    char p[400];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(t->dir);
}

static const float F32V[15] = {0.f, -0.f, 1.f, -1.5f, 3.14159265f, 1e-30f, -1e30f, 65504.f, 65520.f,
                               6.1e-5f, 5.96e-8f, 1e-8f, 0.1f, -2.5e-3f, 12345.678f};
static const int8_t I8V[12] = {-128, -1, 0, 1, 127, 5, -7, 42, 99, -99, 3, 64};
static const float SCALEV[4] = {0.5f, 0.25f, 2.0f, 1.0f};
static const int32_t I32ARR[5] = {INT32_MIN, -1, 0, 7, INT32_MAX};
static const float F32ARR[3] = {-0.5f, 1e10f, 3.0f};

static float f16v(int i) { return (float)(i - 12) * 0.37f; }
static float bf16v(int i) { return (float)(i * i) * -1.01f + 0.125f; }

/* The sample: every meta type, f32/f16/bf16/i8 tensors with odd sizes so alignment padding shows. */
static uzw_wbuild *sample_builder(void) {
    uzw_wbuild *b = uzw_wbuild_new();
    cr_assert_not_null(b);
    cr_assert_eq(uzw_wbuild_u32(b, "k.u32", 4000000000u), 0);
    cr_assert_eq(uzw_wbuild_i32(b, "k.i32", -123456), 0);
    cr_assert_eq(uzw_wbuild_f32(b, "k.f32", -2.75f), 0);
    cr_assert_eq(uzw_wbuild_str(b, "k.str", "whisper \xc3\xa9t\xc3\xa9"), 0);
    cr_assert_eq(uzw_wbuild_str(b, "k.empty", ""), 0);
    cr_assert_eq(uzw_wbuild_i32_arr(b, "k.i32arr", I32ARR, 5), 0);
    cr_assert_eq(uzw_wbuild_f32_arr(b, "k.f32arr", F32ARR, 3), 0);
    const uint8_t *items[3] = {(const uint8_t *)"hello", (const uint8_t *)"", (const uint8_t *)"\x00\xff\x01"};
    const uint32_t lens[3] = {5, 0, 3};
    cr_assert_eq(uzw_wbuild_bytes_arr(b, "k.bytes", items, lens, 3), 0);
    int64_t d_f32[2] = {3, 5}, d_f16[3] = {2, 3, 4}, d_bf16[1] = {7}, d_i8[2] = {4, 3}, d_sc[1] = {4};
    float f16in[24], bf16in[7];
    for (int i = 0; i < 24; i++) f16in[i] = f16v(i);
    for (int i = 0; i < 7; i++) bf16in[i] = bf16v(i);
    cr_assert_eq(uzw_wbuild_tensor_f32(b, "t.f32", UZW_DT_F32, 2, d_f32, F32V), 0);
    cr_assert_eq(uzw_wbuild_tensor_f32(b, "t.f16", UZW_DT_F16, 3, d_f16, f16in), 0);
    cr_assert_eq(uzw_wbuild_tensor_f32(b, "t.bf16", UZW_DT_BF16, 1, d_bf16, bf16in), 0);
    cr_assert_eq(uzw_wbuild_tensor_raw(b, "t.i8", UZW_DT_I8, 2, d_i8, I8V, sizeof I8V), 0);
    cr_assert_eq(uzw_wbuild_tensor_f32(b, "t.i8.scale", UZW_DT_F32, 1, d_sc, SCALEV), 0);
    return b;
}

static void write_sample(const char *path) {
    uzw_wbuild *b = sample_builder();
    char err[512] = "";
    cr_assert_eq(uzw_wbuild_write(b, path, err, sizeof err), 0, "write: %s", err);
    uzw_wbuild_free(b);
}

/* The sample's bytes (malloc'ed, 64-byte aligned). */
static uint8_t *sample_bytes(size_t *size) {
    tmp_t t;
    tmp_make(&t);
    write_sample(t.path);
    uint8_t *raw = tu_read_file(t.path, size);
    cr_assert_not_null(raw);
    tmp_clean(&t);
    uint8_t *buf = aligned_alloc(64, (*size + 63) / 64 * 64 + 64);
    cr_assert_not_null(buf);
    memcpy(buf, raw, *size);
    free(raw);
    return buf;
}

static void check_sample(const uzw_wfile *wf) {
    char err[256];
    cr_assert_eq(wf->hdr.n_meta, 8u);
    cr_assert_eq(wf->hdr.n_tensors, 5u);
    const uzw_meta *m = uzw_wfile_meta(wf, "k.u32");
    cr_assert(m && m->type == UZW_MT_U32 && m->count == 1);
    uint32_t u;
    memcpy(&u, m->value, 4);
    cr_assert_eq(u, 4000000000u);
    int32_t v = 0;
    cr_assert_eq(uzw_meta_get_i32(wf, "k.i32", &v, err, sizeof err), 0);
    cr_assert_eq(v, -123456);
    cr_assert_eq(uzw_meta_get_i32(wf, "k.u32", &v, err, sizeof err), -1, "u32 > INT32_MAX must not read as i32");
    cr_assert(strstr(err, "k.u32"), "%s", err);
    m = uzw_wfile_meta(wf, "k.f32");
    cr_assert(m && m->type == UZW_MT_F32);
    cr_assert_eq(uzw_meta_f32_at(m, 0), -2.75f);
    const char *s = NULL;
    uint32_t len = 0;
    cr_assert_eq(uzw_meta_get_str(wf, "k.str", &s, &len, err, sizeof err), 0, "%s", err);
    cr_assert_eq(len, strlen("whisper \xc3\xa9t\xc3\xa9"));
    cr_assert_eq(memcmp(s, "whisper \xc3\xa9t\xc3\xa9", len), 0);
    cr_assert_eq(uzw_meta_get_str(wf, "k.empty", &s, &len, err, sizeof err), 0);
    cr_assert_eq(len, 0u);
    cr_assert_eq(uzw_meta_get_str(wf, "k.i32", &s, &len, err, sizeof err), -1);
    cr_assert(strstr(err, "k.i32") && strstr(err, "expected str"), "%s", err);
    cr_assert_eq(uzw_meta_get_i32(wf, "nope", &v, err, sizeof err), -1);
    cr_assert(strstr(err, "'nope' is missing"), "%s", err);
    cr_assert_null(uzw_wfile_meta(wf, "nope"));
    m = uzw_wfile_meta(wf, "k.i32arr");
    cr_assert(m && m->type == UZW_MT_I32_ARR && m->count == 5 && m->value_bytes == 20);
    for (uint32_t i = 0; i < 5; i++) cr_assert_eq(uzw_meta_i32_at(m, i), I32ARR[i]);
    cr_assert_eq(uzw_meta_i32_at(m, 5), 0, "out of range reads 0");
    m = uzw_wfile_meta(wf, "k.f32arr");
    cr_assert(m && m->type == UZW_MT_F32_ARR && m->count == 3);
    for (uint32_t i = 0; i < 3; i++) cr_assert_eq(uzw_meta_f32_at(m, i), F32ARR[i]);
    m = uzw_wfile_meta(wf, "k.bytes");
    cr_assert(m && m->type == UZW_MT_BYTES_ARR && m->count == 3 && m->value_bytes == 4 * 3 + 8);
    cr_assert_eq(memcmp(m->value, "\x05\0\0\0hello\0\0\0\0\x03\0\0\0\x00\xff\x01", 20), 0);

    const uzw_tensor *t = uzw_wfile_tensor(wf, "t.f32");
    cr_assert(t && t->dtype == UZW_DT_F32 && t->n_dims == 2 && t->dims[0] == 3 && t->dims[1] == 5);
    cr_assert(t->dims[2] == 0 && t->dims[3] == 0 && t->nbytes == 60);
    cr_assert_eq(memcmp(t->data, F32V, 60), 0);
    t = uzw_wfile_tensor(wf, "t.f16");
    cr_assert(t && t->dtype == UZW_DT_F16 && t->n_dims == 3 && t->dims[2] == 4 && t->nbytes == 48);
    for (int i = 0; i < 24; i++) {
        uint16_t h;
        memcpy(&h, (const uint8_t *)t->data + 2 * i, 2);
        cr_assert_eq(h, uzw_f32_to_f16(f16v(i)));
        cr_assert_float_eq(uzw_f16_to_f32(h), f16v(i), 0.005f, "f16 element %d", i);
    }
    t = uzw_wfile_tensor(wf, "t.bf16");
    cr_assert(t && t->dtype == UZW_DT_BF16 && t->n_dims == 1 && t->dims[0] == 7 && t->nbytes == 14);
    for (int i = 0; i < 7; i++) {
        uint16_t h;
        memcpy(&h, (const uint8_t *)t->data + 2 * i, 2);
        cr_assert_eq(h, uzw_f32_to_bf16(bf16v(i)));
    }
    t = uzw_wfile_tensor(wf, "t.i8");
    cr_assert(t && t->dtype == UZW_DT_I8 && t->nbytes == 12);
    cr_assert_eq(memcmp(t->data, I8V, 12), 0);
    t = uzw_wfile_tensor(wf, "t.i8.scale");
    cr_assert(t && t->dtype == UZW_DT_F32 && t->dims[0] == 4);
    cr_assert_eq(memcmp(t->data, SCALEV, 16), 0);
    cr_assert_null(uzw_wfile_tensor(wf, "t.missing"));
    for (uint32_t i = 0; i < wf->hdr.n_tensors; i++)
        cr_assert_eq((uintptr_t)wf->tensors[i].data % UZW_ALIGN, 0u, "tensor %s not 64-byte aligned",
                     wf->tensors[i].name);
    cr_assert_eq(uzw_wfile_verify_data(wf, err, sizeof err), 0, "%s", err);
}

static void expect_fail_mem(const uint8_t *buf, size_t size, const char *word) {
    uzw_wfile wf;
    char err[512] = "";
    cr_assert_eq(uzw_wfile_from_memory(buf, size, &wf, err, sizeof err), -1, "accepted a bad file (want '%s')", word);
    cr_assert(strstr(err, word), "message '%s' lacks '%s'", err, word);
    cr_assert(wf.base == NULL && wf.meta == NULL && wf.tensors == NULL);
}

/* Byte position of table record i / meta record i in buf. */
static size_t table_rec(const uint8_t *buf, uint32_t i) {
    uzw_wheader h;
    uzw_header_decode(buf, &h);
    size_t pos = h.table_off;
    for (uint32_t k = 0; k < i; k++) pos += UZW_TREC_FIXED + uzw_rd_u32(buf + pos);
    return pos;
}

static size_t meta_rec(const uint8_t *buf, uint32_t i) {
    uzw_wheader h;
    uzw_header_decode(buf, &h);
    size_t pos = h.meta_off;
    for (uint32_t k = 0; k < i; k++) {
        uint32_t kl = uzw_rd_u32(buf + pos);
        pos += UZW_META_FIXED + kl + uzw_rd_u64(buf + pos + 4 + kl + 8);
    }
    return pos;
}

/* Recompute the metadata and table checksums after a patch, so the later checks are reached. */
static void fix_crcs(uint8_t *buf) {
    uzw_wheader h;
    uzw_header_decode(buf, &h);
    uzw_wr_u32(buf + UZW_H_META_CRC, (uint32_t)crc32(0, buf + h.meta_off, (uInt)h.meta_bytes));
    uzw_wr_u32(buf + UZW_H_TABLE_CRC, (uint32_t)crc32(0, buf + h.table_off, (uInt)h.table_bytes));
}

/* Offsets inside a table record whose name has nlen bytes. */
#define TR_DTYPE(nlen) (4 + (nlen))
#define TR_NDIMS(nlen) (8 + (nlen))
#define TR_DIM(nlen, d) (12 + (nlen) + 8 * (d))
#define TR_OFFSET(nlen) (44 + (nlen))
#define TR_NBYTES(nlen) (52 + (nlen))

/* Patch a u64/u32 field of table record i, fix the CRCs, expect failure with word. */
static void table_case(uint32_t rec, int field_off_from_name_end, int is64, uint64_t val, const char *word) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    size_t p = table_rec(buf, rec);
    uint32_t nlen = uzw_rd_u32(buf + p);
    if (is64) uzw_wr_u64(buf + p + nlen + field_off_from_name_end, val);
    else uzw_wr_u32(buf + p + nlen + field_off_from_name_end, (uint32_t)val);
    fix_crcs(buf);
    expect_fail_mem(buf, size, word);
    free(buf);
}

/* ---------------------------------------------------------------- round trips */

Test(wfile, roundtrip_file) {
    tmp_t t;
    tmp_make(&t);
    write_sample(t.path);
    uzw_wfile wf;
    char err[512] = "";
    cr_assert_eq(uzw_wfile_open(t.path, &wf, err, sizeof err), 0, "%s", err);
    cr_assert_eq(wf.mapped, 1);
    cr_assert_eq(wf.size % UZW_ALIGN, 0u, "files end on a 64-byte boundary");
    check_sample(&wf);
    uzw_wfile_close(&wf);
    cr_assert(wf.base == NULL && wf.tensors == NULL);
    uzw_wfile_close(&wf); /* twice is harmless */
    DIR *d = opendir(t.dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(n, 1, "the temporary file was left behind");
    tmp_clean(&t);
}

Test(wfile, roundtrip_memory) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    uzw_wfile wf;
    char err[512] = "";
    cr_assert_eq(uzw_wfile_from_memory(buf, size, &wf, err, sizeof err), 0, "%s", err);
    cr_assert_eq(wf.mapped, 0);
    /* the documented byte layout (docs/weight-format.md section 2) */
    cr_assert_eq(memcmp(buf, "UZWHISPR", 8), 0);
    cr_assert_eq(uzw_rd_u32(buf + 8), 1u);
    cr_assert_eq(uzw_rd_u32(buf + 12), 128u);
    cr_assert_eq(uzw_rd_u64(buf + 16), (uint64_t)size);
    cr_assert_eq(uzw_rd_u64(buf + 24), 128u, "metadata follows the header");
    cr_assert_eq(uzw_rd_u64(buf + 40), 128u + uzw_rd_u64(buf + 32), "table follows the metadata");
    cr_assert_eq(uzw_rd_u64(buf + 56) % 64, 0u);
    cr_assert_eq(uzw_rd_u32(buf + 72), 8u);
    cr_assert_eq(uzw_rd_u32(buf + 76), 5u);
    cr_assert_eq(uzw_rd_u32(buf + 80), 64u);
    cr_assert_eq(uzw_rd_u32(buf + 92), (uint32_t)crc32(0, buf + wf.hdr.data_off, (uInt)wf.hdr.data_bytes));
    for (int i = 96; i < 128; i++) cr_assert_eq(buf[i], 0, "reserved byte %d", i);
    check_sample(&wf);
    uzw_wfile_close(&wf);
    free(buf);
}

Test(wfile, empty_container) {
    tmp_t t;
    tmp_make(&t);
    uzw_wbuild *b = uzw_wbuild_new();
    char err[512] = "";
    cr_assert_eq(uzw_wbuild_write(b, t.path, err, sizeof err), 0, "%s", err);
    uzw_wbuild_free(b);
    uzw_wfile wf;
    cr_assert_eq(uzw_wfile_open(t.path, &wf, err, sizeof err), 0, "%s", err);
    cr_assert_eq(wf.size, UZW_HEADER_BYTES);
    cr_assert(wf.hdr.n_meta == 0 && wf.hdr.n_tensors == 0 && wf.hdr.data_bytes == 0);
    cr_assert_eq(uzw_wfile_verify_data(&wf, err, sizeof err), 0, "%s", err);
    uzw_wfile_close(&wf);
    tmp_clean(&t);
}

Test(wfile, data_crc_on_request) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    uzw_wheader h;
    uzw_header_decode(buf, &h);
    buf[h.data_off + 3] ^= 0x40;
    uzw_wfile wf;
    char err[512] = "";
    cr_assert_eq(uzw_wfile_from_memory(buf, size, &wf, err, sizeof err), 0, "data is not checked at open: %s", err);
    cr_assert_eq(uzw_wfile_verify_data(&wf, err, sizeof err), -1);
    cr_assert(strstr(err, "data checksum mismatch"), "%s", err);
    uzw_wfile_close(&wf);
    free(buf);
}

/* ---------------------------------------------------------------- half precision */

Test(dtype, names_sizes) {
    uzw_dtype dt;
    cr_assert_eq(uzw_dtype_size(UZW_DT_F32), 4u);
    cr_assert_eq(uzw_dtype_size(UZW_DT_F16), 2u);
    cr_assert_eq(uzw_dtype_size(UZW_DT_BF16), 2u);
    cr_assert_eq(uzw_dtype_size(UZW_DT_I8), 1u);
    cr_assert_eq(uzw_dtype_size(UZW_DT_COUNT), 0u);
    cr_assert_str_eq(uzw_dtype_name(UZW_DT_BF16), "bf16");
    cr_assert_str_eq(uzw_dtype_name((uzw_dtype)77), "?");
    for (int i = 0; i < UZW_DT_COUNT; i++) {
        cr_assert_eq(uzw_dtype_parse(uzw_dtype_name((uzw_dtype)i), &dt), 0);
        cr_assert_eq((int)dt, i);
    }
    cr_assert_eq(uzw_dtype_parse("float16", &dt), 0);
    cr_assert_eq(dt, UZW_DT_F16);
    cr_assert_eq(uzw_dtype_parse("f64", &dt), -1);
}

static uint16_t f2h(float f) { return uzw_f32_to_f16(f); }
static float bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

Test(dtype, f16_known_bits) {
    cr_assert_eq(f2h(1.0f), 0x3c00);
    cr_assert_eq(f2h(-2.0f), 0xc000);
    cr_assert_eq(f2h(0.1f), 0x2e66);
    cr_assert_eq(f2h(1.0f / 3.0f), 0x3555);
    cr_assert_eq(f2h(65504.f), 0x7bff);
    cr_assert_eq(f2h(65519.f), 0x7bff);
    cr_assert_eq(f2h(65520.f), 0x7c00, "halfway to 65536 rounds to even: inf");
    cr_assert_eq(f2h(1e9f), 0x7c00);
    cr_assert_eq(f2h(-INFINITY), 0xfc00);
    cr_assert_eq(f2h(-0.0f), 0x8000);
    cr_assert_eq(f2h(ldexpf(1, -14)), 0x0400, "smallest normal");
    cr_assert_eq(f2h(ldexpf(1, -24)), 0x0001, "smallest subnormal");
    cr_assert_eq(f2h(ldexpf(1, -25)), 0x0000, "half the smallest subnormal: tie to even 0");
    cr_assert_eq(f2h(ldexpf(1.0001f, -25)), 0x0001);
    cr_assert_eq(f2h(ldexpf(3, -25)), 0x0002, "1.5 units -> 2");
    cr_assert_eq(f2h(ldexpf(5, -25)), 0x0002, "2.5 units -> 2");
    cr_assert_eq(f2h(1.0f + ldexpf(1, -11)), 0x3c00, "tie -> even");
    cr_assert_eq(f2h(1.0f + ldexpf(3, -11)), 0x3c02, "tie -> even (up)");
    cr_assert_eq(f2h(ldexpf(1023, -24) + ldexpf(1, -25)), 0x0400, "subnormal rounds up into the normals");
    uint16_t n = f2h(NAN);
    cr_assert((n & 0x7c00) == 0x7c00 && (n & 0x3ff) != 0, "nan stays nan: %04x", n);
    cr_assert_eq(uzw_f16_to_f32(0x3c00), 1.0f);
    cr_assert_eq(uzw_f16_to_f32(0x0001), ldexpf(1, -24));
    cr_assert_eq(uzw_f16_to_f32(0x03ff), ldexpf(1023, -24));
    cr_assert_eq(uzw_f16_to_f32(0x7bff), 65504.f);
    cr_assert(isinf(uzw_f16_to_f32(0xfc00)) && uzw_f16_to_f32(0xfc00) < 0);
    cr_assert(isnan(uzw_f16_to_f32(0x7e00)));
    cr_assert(signbit(uzw_f16_to_f32(0x8000)));
}

Test(dtype, bf16_known_bits) {
    cr_assert_eq(uzw_f32_to_bf16(1.0f), 0x3f80);
    cr_assert_eq(uzw_f32_to_bf16(bits(0x3f808000u)), 0x3f80, "tie -> even (down)");
    cr_assert_eq(uzw_f32_to_bf16(bits(0x3f818000u)), 0x3f82, "tie -> even (up)");
    cr_assert_eq(uzw_f32_to_bf16(bits(0x3f808001u)), 0x3f81);
    cr_assert_eq(uzw_f32_to_bf16(3.14159265f), 0x4049);
    cr_assert_eq(uzw_f32_to_bf16(bits(0x7f7fffffu)), 0x7f80, "FLT_MAX rounds to inf");
    cr_assert_eq(uzw_f32_to_bf16(-INFINITY), 0xff80);
    cr_assert_eq(uzw_f32_to_bf16(bits(0x00000001u)), 0x0000, "tiny subnormal -> 0");
    cr_assert_eq(uzw_f32_to_bf16(bits(0x00018000u)), 0x0002, "subnormal tie -> even");
    uint16_t n = uzw_f32_to_bf16(bits(0x7f800001u)); /* signalling nan with a low payload */
    cr_assert((n & 0x7f80) == 0x7f80 && (n & 0x7f) != 0, "nan stays nan: %04x", n);
    cr_assert_eq(uzw_bf16_to_f32(0xc000), -2.0f);
}

/* Independent oracle: nearest of the representable neighbours (binary search over the ordered
 * positive encodings, the next after the largest finite being inf = 2^(emax+1)), ties to even. */
static double h_val(uint32_t h, int is_bf16) {
    if (is_bf16) return h >= 0x7f80 ? ldexp(1, 128) : (double)uzw_bf16_to_f32((uint16_t)h);
    return h >= 0x7c00 ? 65536.0 : (double)uzw_f16_to_f32((uint16_t)h);
}

static uint16_t oracle(float f, int is_bf16) {
    uint32_t top = is_bf16 ? 0x7f80 : 0x7c00;
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double x = fabs((double)f);
    if (x >= h_val(top, is_bf16)) return sign | (uint16_t)top;
    uint32_t lo = 0, hi = top; /* val(lo) <= x < val(hi) */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (h_val(mid, is_bf16) <= x) lo = mid;
        else hi = mid;
    }
    double dl = x - h_val(lo, is_bf16), dh = h_val(hi, is_bf16) - x;
    uint32_t r = dl < dh ? lo : dh < dl ? hi : (lo & 1 ? hi : lo);
    return sign | (uint16_t)r;
}

Test(dtype, half_against_oracle_and_exhaustive_roundtrip) {
    uint32_t s = 12345;
    for (int i = 0; i < 300000; i++) {
        s = s * 1664525u + 1013904223u;
        uint32_t u = s;
        if (i % 3 == 1) u = (u & 0x87ffffffu) | 0x30000000u; /* bias towards the f16 range */
        if (i % 3 == 2) u = (u & 0x80ffffffu) | 0x33000000u; /* around the f16 subnormals */
        float f = bits(u);
        if (isnan(f)) continue;
        cr_assert_eq(uzw_f32_to_f16(f), oracle(f, 0), "f16 of %a (0x%08x)", (double)f, u);
        cr_assert_eq(uzw_f32_to_bf16(f), oracle(f, 1), "bf16 of %a (0x%08x)", (double)f, u);
    }
    for (uint32_t h = 0; h < 65536; h++) {
        float f = uzw_f16_to_f32((uint16_t)h), g = uzw_bf16_to_f32((uint16_t)h);
        if (isnan(f)) cr_assert(isnan(uzw_f16_to_f32(uzw_f32_to_f16(f))));
        else cr_assert_eq(uzw_f32_to_f16(f), h, "f16 0x%04x does not round-trip", h);
        if (isnan(g)) cr_assert(isnan(uzw_bf16_to_f32(uzw_f32_to_bf16(g))));
        else cr_assert_eq(uzw_f32_to_bf16(g), h, "bf16 0x%04x does not round-trip", h);
    }
}

/* ---------------------------------------------------------------- corruption: size, header */

Test(corrupt, truncated_every_cut) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    for (size_t cut = 0; cut < size; cut++) {
        uzw_wfile wf;
        char err[512] = "";
        cr_assert_eq(uzw_wfile_from_memory(buf, cut, &wf, err, sizeof err), -1, "cut %zu accepted", cut);
        const char *want = cut == 0 ? "empty" : "truncated";
        cr_assert(strstr(err, want), "cut %zu: '%s' lacks '%s'", cut, err, want);
    }
    char want[96];
    snprintf(want, sizeof want, "truncated: header says %zu bytes, file has %zu", size, size - 1);
    expect_fail_mem(buf, size - 1, want);
    /* and through real files at a spread of cut points */
    tmp_t t;
    tmp_make(&t);
    const size_t cuts[] = {0, 1, 7, 8, 64, 127, 128, 129, 200, size / 2, size - 64, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        cr_assert_eq(tu_write_file(t.path, buf, cuts[i]), 0);
        uzw_wfile wf;
        char err[512] = "";
        cr_assert_eq(uzw_wfile_open(t.path, &wf, err, sizeof err), -1, "file cut at %zu accepted", cuts[i]);
        cr_assert(strstr(err, cuts[i] ? "truncated" : "empty"), "cut %zu: %s", cuts[i], err);
        cr_assert(strstr(err, t.path), "the message names the file: %s", err);
    }
    tmp_clean(&t);
    free(buf);
}

Test(corrupt, tiny_and_missing_files) {
    tmp_t t;
    tmp_make(&t);
    uzw_wfile wf;
    char err[512] = "";
    cr_assert_eq(tu_write_file(t.path, "", 0), 0);
    cr_assert_eq(uzw_wfile_open(t.path, &wf, err, sizeof err), -1);
    cr_assert(strstr(err, "empty"), "%s", err);
    cr_assert_eq(tu_write_file(t.path, "x", 1), 0);
    cr_assert_eq(uzw_wfile_open(t.path, &wf, err, sizeof err), -1);
    cr_assert(strstr(err, "not a uzwhisper weight file"), "%s", err);
    cr_assert_eq(tu_write_file(t.path, "U", 1), 0);
    cr_assert_eq(uzw_wfile_open(t.path, &wf, err, sizeof err), -1);
    cr_assert(strstr(err, "truncated"), "%s", err);
    cr_assert_eq(uzw_wfile_open(t.dir, &wf, err, sizeof err), -1);
    cr_assert(strstr(err, "not a regular file"), "%s", err);
    unlink(t.path);
    cr_assert_eq(uzw_wfile_open(t.path, &wf, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot open"), "%s", err);
    cr_assert_eq(uzw_wfile_from_memory(NULL, 0, &wf, err, sizeof err), -1);
    cr_assert(strstr(err, "empty"), "%s", err);
    cr_assert_eq(uzw_wfile_from_memory("x", 1, &wf, NULL, 0), -1, "a NULL error buffer is allowed");
    tmp_clean(&t);
}

static void header_case(size_t off, int is64, uint64_t val, const char *word) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    if (is64) uzw_wr_u64(buf + off, val);
    else uzw_wr_u32(buf + off, (uint32_t)val);
    expect_fail_mem(buf, size, word);
    free(buf);
}

Test(corrupt, header_fields) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    uzw_wheader h;
    uzw_header_decode(buf, &h);
    buf[0] ^= 1;
    expect_fail_mem(buf, size, "not a uzwhisper weight file");
    buf[0] ^= 1;
    uint8_t *longer = calloc(1, size + 1);
    memcpy(longer, buf, size);
    expect_fail_mem(longer, size + 1, "trailing bytes");
    free(longer);
    free(buf);
    header_case(UZW_H_VERSION, 0, 2, "version 2");
    header_case(UZW_H_VERSION, 0, 2, "uzwhisper convert");
    header_case(UZW_H_VERSION, 0, 0, "reads version 1");
    header_case(UZW_H_HEADER_BYTES, 0, 256, "header_bytes");
    header_case(UZW_H_ALIGN, 0, 32, "align");
    header_case(UZW_H_FILE_BYTES, 0, 0, "header says 0 bytes");
    header_case(UZW_H_N_TENSORS, 0, 5000, "too many tensors");
    header_case(UZW_H_META_BYTES, 1, 1ull << 40, "metadata too large");
    header_case(UZW_H_META_OFF, 1, 64, "inside the 128-byte header");
    header_case(UZW_H_TABLE_OFF, 1, UINT64_MAX - 3, "past the end");
    header_case(UZW_H_DATA_BYTES, 1, UINT64_MAX, "past the end");
    header_case(UZW_H_DATA_OFF, 1, h.data_off - 8, "data_off");
    header_case(UZW_H_DATA_OFF, 1, h.data_off - 64, "overlap");
    header_case(UZW_H_TABLE_OFF, 1, h.meta_off + 4, "overlap");
    header_case(UZW_H_N_META, 0, 1000000, "cannot fit");
    header_case(UZW_H_N_TENSORS, 0, 4000, "cannot fit");
    header_case(UZW_H_N_META, 0, 7, "unexpected bytes");
    header_case(UZW_H_N_TENSORS, 0, 4, "unexpected bytes after the last of 4 records");
}

Test(corrupt, checksums) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    uzw_wheader h;
    uzw_header_decode(buf, &h);
    buf[h.meta_off + h.meta_bytes / 2] ^= 0x10;
    expect_fail_mem(buf, size, "metadata checksum mismatch");
    buf[h.meta_off + h.meta_bytes / 2] ^= 0x10;
    buf[h.table_off + 5] ^= 0x01;
    expect_fail_mem(buf, size, "tensor table checksum mismatch");
    free(buf);
}

/* ---------------------------------------------------------------- corruption: records */

Test(corrupt, tensor_records) {
    /* sample tensors in order: t.f32 [3,5] at 0, t.f16 at 64, t.bf16 at 128, t.i8 at 192, scale at 256 */
    table_case(0, TR_OFFSET(0), 1, 1u << 20, "'t.f32': data [1048576, +60) is out of bounds");
    table_case(4, TR_OFFSET(0), 1, UINT64_MAX - 63, "out of bounds");
    table_case(1, TR_OFFSET(0), 1, 32, "is not a multiple of 64");
    table_case(1, TR_OFFSET(0), 1, 0, "overlap");
    table_case(2, TR_NBYTES(0), 1, 16, "nbytes 16 does not match 7 elements of bf16");
    table_case(0, TR_DIM(0, 0), 1, 1ull << 62, "absurd dims");
    table_case(0, TR_DIM(0, 1), 1, UINT64_MAX, "absurd dims");
    table_case(0, TR_DIM(0, 1), 1, 0, "dim 1 is 0");
    table_case(0, TR_DIM(0, 3), 1, 9, "unused dim 3");
    table_case(0, TR_NDIMS(0), 0, 5, "5 dims");
    table_case(0, TR_NDIMS(0), 0, 0, "0 dims");
    table_case(3, TR_DTYPE(0), 0, 9, "'t.i8': unknown dtype 9");
}

Test(corrupt, tensor_names) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    size_t p = table_rec(buf, 1); /* "t.f16" -> "t.f32": a duplicate (offsets stay distinct) */
    memcpy(buf + p + 4, "t.f32", 5);
    fix_crcs(buf);
    expect_fail_mem(buf, size, "duplicate tensor name 't.f32'");
    memcpy(buf + p + 4, "t.f 6", 5);
    fix_crcs(buf);
    expect_fail_mem(buf, size, "name has byte 0x20");
    memcpy(buf + p + 4, "t.f\0006", 5);
    fix_crcs(buf);
    expect_fail_mem(buf, size, "name has byte 0x00");
    memcpy(buf + p + 4, "t.f16", 5);
    uzw_wr_u32(buf + p, 0);
    fix_crcs(buf);
    expect_fail_mem(buf, size, "tensor record 1: name length 0");
    uzw_wr_u32(buf + p, UZW_MAX_NAME);
    fix_crcs(buf);
    expect_fail_mem(buf, size, "name length 96");
    uzw_wr_u32(buf + p, 5);
    p = table_rec(buf, 4); /* "t.i8.scale" -> "t.i8.scalf": the i8 tensor loses its scales */
    buf[p + 4 + 9] = 'f';
    fix_crcs(buf);
    expect_fail_mem(buf, size, "'t.i8' is i8 but has no scale tensor 't.i8.scale'");
    free(buf);
}

static void meta_case(uint32_t rec, size_t off_in_rec, int is64, uint64_t val, const char *word) {
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    size_t p = meta_rec(buf, rec);
    if (is64) uzw_wr_u64(buf + p + off_in_rec, val);
    else uzw_wr_u32(buf + p + off_in_rec, (uint32_t)val);
    fix_crcs(buf);
    expect_fail_mem(buf, size, word);
    free(buf);
}

Test(corrupt, meta_records) {
    /* records: 0 k.u32, 1 k.i32, 2 k.f32, 3 k.str, 4 k.empty, 5 k.i32arr, 6 k.f32arr, 7 k.bytes;
     * after a key of kl bytes: type at 4+kl, count at 8+kl, value_bytes at 12+kl */
    meta_case(0, 0, 0, 0, "key length 0");
    meta_case(0, 0, 0, 64, "key length 64");
    meta_case(1, 4 + 5, 0, 9, "'k.i32': unknown value type 9");
    meta_case(1, 4 + 5, 0, 0, "unknown value type 0");
    meta_case(2, 8 + 5, 0, 2, "'k.f32': a f32 scalar needs count 1");
    meta_case(3, 8 + 5, 0, 3, "'k.str': string count 3 differs");
    meta_case(5, 8 + 8, 0, 6, "'k.i32arr': i32_arr of 6 elements needs 24 bytes, has 20");
    meta_case(5, 8 + 8, 0, 0xffffffffu, "needs");
    meta_case(7, 8 + 7, 0, 4, "'k.bytes': bytes_arr of 4 items");
    meta_case(7, 8 + 7, 0, 2, "bytes_arr of 2 items");
    meta_case(6, 12 + 8, 1, 1ull << 40, "runs past the end of the metadata");
    meta_case(7, 20 + 7, 0, 1000, "bytes_arr of 3 items"); /* first item length too long */
    size_t size;
    uint8_t *buf = sample_bytes(&size);
    size_t p = meta_rec(buf, 1);
    memcpy(buf + p + 4, "k.u32", 5); /* k.i32 -> k.u32 */
    fix_crcs(buf);
    expect_fail_mem(buf, size, "metadata key 'k.u32' appears more than once");
    memcpy(buf + p + 4, "k\x7fi32", 5);
    fix_crcs(buf);
    expect_fail_mem(buf, size, "key has byte 0x7f");
    memcpy(buf + p + 4, "k.i32", 5);
    p = meta_rec(buf, 3); /* a NUL inside a string */
    buf[p + 4 + 5 + 16 + 2] = 0;
    fix_crcs(buf);
    expect_fail_mem(buf, size, "'k.str': string contains a NUL byte");
    free(buf);
}

/* ---------------------------------------------------------------- writer errors */

static void expect_write_fail(uzw_wbuild *b, const char *path, const char *word) {
    char err[512] = "";
    cr_assert_eq(uzw_wbuild_write(b, path, err, sizeof err), -1, "write succeeded (want '%s')", word);
    cr_assert(strstr(err, word), "message '%s' lacks '%s'", err, word);
    cr_assert_eq(access(path, F_OK), -1, "a failed write left a file");
    uzw_wbuild_free(b);
}

Test(writer, errors) {
    tmp_t t;
    tmp_make(&t);
    int64_t d2[2] = {2, 2}, dbad[2] = {2, 0}, d1[1] = {4};
    float v[4] = {1, 2, 3, 4};
    uzw_wbuild *b = uzw_wbuild_new();
    cr_assert_eq(uzw_wbuild_i32(b, "a key", 1), -1);
    cr_assert_eq(uzw_wbuild_i32(b, "ok", 1), -1, "after the first error every call fails");
    expect_write_fail(b, t.path, "'a key' is invalid");
    b = uzw_wbuild_new();
    cr_assert_eq(uzw_wbuild_i32(b, "x", 1), 0);
    cr_assert_eq(uzw_wbuild_str(b, "x", "dup"), -1);
    expect_write_fail(b, t.path, "'x' added twice");
    b = uzw_wbuild_new();
    uzw_wbuild_i32(b, "0123456789012345678901234567890123456789012345678901234567890123", 1); /* 64 bytes */
    expect_write_fail(b, t.path, "is invalid");
    b = uzw_wbuild_new();
    cr_assert_eq(uzw_wbuild_tensor_f32(b, "w", UZW_DT_F32, 2, d2, v), 0);
    cr_assert_eq(uzw_wbuild_tensor_f32(b, "w", UZW_DT_F16, 2, d2, v), -1);
    expect_write_fail(b, t.path, "'w' added twice");
    b = uzw_wbuild_new();
    uzw_wbuild_tensor_f32(b, "w", UZW_DT_F32, 2, dbad, v);
    expect_write_fail(b, t.path, "dim 1 = 0");
    b = uzw_wbuild_new();
    uzw_wbuild_tensor_f32(b, "w", UZW_DT_F32, 5, d2, v);
    expect_write_fail(b, t.path, "5 dims");
    b = uzw_wbuild_new();
    uzw_wbuild_tensor_raw(b, "w", UZW_DT_F16, 1, d1, v, 16);
    expect_write_fail(b, t.path, "16 bytes given");
    b = uzw_wbuild_new();
    uzw_wbuild_tensor_f32(b, "w", UZW_DT_I8, 1, d1, v);
    expect_write_fail(b, t.path, "use uzw_wbuild_tensor_raw");
    b = uzw_wbuild_new();
    uzw_wbuild_tensor_raw(b, "q", UZW_DT_I8, 1, d1, "abcd", 4);
    expect_write_fail(b, t.path, "'q' is i8 but has no scale tensor 'q.scale'");
    b = uzw_wbuild_new();
    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/m.uzw", t.dir);
    expect_write_fail(b, path, "cannot create");
    tmp_clean(&t);
}

/* ---------------------------------------------------------------- the fuzz seeds are valid */

Test(wfile, fuzz_seeds_open) {
    const char *dir = tu_src("tests/fuzz/corpus_wfile");
    DIR *d = opendir(dir);
    if (!d) cr_skip_test("no seed folder %s", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char p[600], err[512] = "";
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        uzw_wfile wf;
        cr_assert_eq(uzw_wfile_open(p, &wf, err, sizeof err), 0, "seed %s: %s", e->d_name, err);
        cr_assert_eq(uzw_wfile_verify_data(&wf, err, sizeof err), 0, "seed %s: %s", e->d_name, err);
        uzw_wfile_close(&wf);
        n++;
    }
    closedir(d);
    cr_assert_geq(n, 2, "expected the seed files in %s", dir);
}
