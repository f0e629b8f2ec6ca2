/*
 * dtype.c - element types of the weight file and the half-precision conversions.
 * f32 -> f16 / bf16 round to nearest, ties to even; infinities, NaNs and subnormals are exact
 * (a NaN stays a NaN, made quiet; its sign and top payload bits are kept).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "wformat.h"

/* ---------------------------------------------------------------- dtype table */

size_t uzw_dtype_size(uzw_dtype dt) {
    switch (dt) {
    case UZW_DT_F32: return 4;
    case UZW_DT_F16: return 2;
    case UZW_DT_BF16: return 2;
    case UZW_DT_I8: return 1;
    default: return 0;
    }
}

const char *uzw_dtype_name(uzw_dtype dt) {
    switch (dt) {
    case UZW_DT_F32: return "f32";
    case UZW_DT_F16: return "f16";
    case UZW_DT_BF16: return "bf16";
    case UZW_DT_I8: return "i8";
    default: return "?";
    }
}

int uzw_dtype_parse(const char *s, uzw_dtype *out) {
    static const struct { const char *name; uzw_dtype dt; } names[] = {
        {"f32", UZW_DT_F32},   {"float32", UZW_DT_F32},   {"fp32", UZW_DT_F32},
        {"f16", UZW_DT_F16},   {"float16", UZW_DT_F16},   {"fp16", UZW_DT_F16}, {"half", UZW_DT_F16},
        {"bf16", UZW_DT_BF16}, {"bfloat16", UZW_DT_BF16},
        {"i8", UZW_DT_I8},     {"int8", UZW_DT_I8},
    };
    if (!s || !out) return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].dt;
            return 0;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------- f16 */

static uint32_t f32_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return x;
}

static float bits_f32(uint32_t x) {
    float f;
    memcpy(&f, &x, 4);
    return f;
}

float uzw_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x3ffu;
    if (e == 0) {
        if (m == 0) return bits_f32(sign); /* +-0 */
        /* subnormal m * 2^-24: shift the leading 1 up to bit 10 and lower the exponent */
        uint32_t ef = 113; /* 127 - 14 */
        while (!(m & 0x400u)) {
            m <<= 1;
            ef--;
        }
        return bits_f32(sign | (ef << 23) | ((m & 0x3ffu) << 13));
    }
    if (e == 31) return bits_f32(sign | 0x7f800000u | (m << 13)); /* inf / nan (payload kept) */
    return bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t uzw_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {
        if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu)); /* quiet nan */
        return (uint16_t)(sign | 0x7c00u);
    }
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax >= 0x38800000u) {                                 /* normal f16 (>= 2^-14) */
        uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u);         /* round to nearest even at bit 13 */
        return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
    }
    /* f16 subnormal or zero: the result counts units of 2^-24 */
    uint32_t e = ax >> 23;
    if (e == 0) return sign;              /* f32 zero or subnormal: far below 2^-25 */
    uint32_t mant = (ax & 0x7fffffu) | 0x800000u; /* value = mant * 2^(e-150) */
    uint32_t shift = 126 - e;             /* >= 14 here since e <= 112 */
    if (shift > 24) return sign;          /* < 2^-25: rounds to zero */
    uint32_t r = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r); /* r == 0x400 is the smallest normal, encoded correctly */
}

/* ---------------------------------------------------------------- bf16 */

float uzw_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t uzw_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x0040u); /* quiet nan */
    x += 0x7fffu + ((x >> 16) & 1u); /* round to nearest even; overflow carries into inf */
    return (uint16_t)(x >> 16);
}

const float *uzw_tensor_as_f32(const uzw_tensor *t, float *buf) {
    if (t->dtype == UZW_DT_F32) return (const float *)t->data;
    size_t n = t->nbytes / uzw_dtype_size(t->dtype);
    const uint8_t *src = t->data;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2);
        buf[i] = t->dtype == UZW_DT_F16 ? uzw_f16_to_f32(h) : uzw_bf16_to_f32(h);
    }
    return buf;
}
