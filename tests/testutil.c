#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *join(const char *root, const char *rel) {
    static char bufs[8][4096];
    static int slot;
    char *b = bufs[slot++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", root, rel);
    return b;
}

const char *tu_src(const char *rel) { return join(UZW_SOURCE_DIR, rel); }
const char *tu_shared(const char *rel) { return join(UZW_SHARED_DIR, rel); }
const char *tu_build(const char *rel) { return join(UZW_BUILD_DIR, rel); }

int tu_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

uint8_t *tu_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0) { fclose(f); return NULL; }
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf) { fclose(f); return NULL; }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); fclose(f); return NULL; }
    fclose(f);
    buf[n] = 0;
    if (size) *size = (size_t)n;
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, size, f);
    return (fclose(f) == 0 && w == size) ? 0 : -1;
}

float *tu_read_f32(const char *path, size_t *n) {
    size_t size = 0;
    uint8_t *b = tu_read_file(path, &size);
    if (!b) return NULL;
    if (size % 4) { free(b); return NULL; }
    *n = size / 4;
    return (float *)b;
}

tu_cmp tu_compare(const float *a, const float *b, size_t n, double atol, double rtol) {
    tu_cmp c = {0};
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!isfinite(a[i]) || !isfinite(b[i])) { c.n_bad++; continue; }
        if (d > c.max_abs) { c.max_abs = d; c.worst = i; }
        double r = d / (fabs((double)b[i]) + 1e-30);
        if (r > c.max_rel) c.max_rel = r;
        if (d > atol + rtol * fabs((double)b[i])) c.n_bad++;
    }
    return c;
}
