#include "testutil.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "audio/audio.h"
#include "uzwhisper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

void tu_real_setup(const char *golden_rel, void **golden, uzw_model **model, uzw_context **ctx) {
    *model = NULL;
    *ctx = NULL;
    if (golden) *golden = NULL;
    const char *path = tu_src("models/default.uzw");
    if (!tu_exists(path)) {
        const char *ci = getenv("CI");
        if (ci && *ci && strcmp(ci, "false") != 0)
            cr_assert_fail("models/default.uzw is missing under CI: tools/setup-default-model.sh must run first");
        return;
    }
    if (golden_rel) {
        json_error_t je;
        *golden = json_load_file(tu_src(golden_rel), 0, &je);
        cr_assert(*golden, "%s: %s", golden_rel, je.text);
    }
    char err[1024];
    cr_assert_eq(uzw_model_load(path, NULL, model, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_context_create(*model, ctx), UZW_OK);
}

void tu_real_teardown(void *golden, uzw_model *model, uzw_context *ctx) {
    uzw_context_free(ctx);
    uzw_model_free(model);
    json_decref(golden);
}

/* The long file: pieces of real clips (as the engine decodes them) and exact silences. */
float *tu_long_mix(size_t *n_out) {
    json_error_t je;
    json_t *r = json_load_file(tu_src("tests/fixtures/decoding/long_mix.json"), 0, &je);
    cr_assert(r, "long_mix.json: %s", je.text);
    size_t total = 0, i;
    json_t *piece;
    json_array_foreach(json_object_get(r, "pieces"), i, piece) total += (size_t)json_integer_value(json_object_get(piece, "n_samples"));
    float *mix = calloc(total, sizeof(float));
    cr_assert(mix);
    size_t at = 0;
    json_array_foreach(json_object_get(r, "pieces"), i, piece) {
        size_t n = (size_t)json_integer_value(json_object_get(piece, "n_samples"));
        const char *src = json_string_value(json_object_get(piece, "source"));
        if (src) {
            char rel[512], err[512];
            snprintf(rel, sizeof rel, "data/%s", src);
            float *pcm;
            size_t np;
            cr_assert_eq(uzw_audio_load_16k(tu_shared(rel), &pcm, &np, err, sizeof err), 0, "%s", err);
            size_t start = (size_t)json_integer_value(json_object_get(piece, "start_sample"));
            cr_assert_leq(start + n, np, "%s: piece beyond the clip", src);
            memcpy(mix + at, pcm + start, n * sizeof(float));
            free(pcm);
        }
        at += n;
    }
    size_t want_n = (size_t)json_integer_value(json_object_get(r, "total_samples"));
    if (want_n) cr_assert_eq(total, want_n, "long mix has %zu samples, recipe says %zu", total, want_n);
    const char *want_sha = json_string_value(json_object_get(r, "sha256_f32le"));
    if (want_sha) {
        unsigned char md[32];
        unsigned int len = 0;
        EVP_Digest(mix, total * sizeof(float), md, &len, EVP_sha256(), NULL);
        char hex[65];
        for (int k = 0; k < 32; k++) snprintf(hex + 2 * k, 3, "%02x", md[k]);
        cr_assert_str_eq(hex, want_sha, "long mix sha256 differs from the recipe's");
    }
    json_decref(r);
    *n_out = total;
    return mix;
}


uint8_t *tu_wav_s16(uint32_t rate, uint16_t channels, uint32_t n_frames, const int16_t *pcm, size_t *size) {
    const uint16_t align = (uint16_t)(channels ? channels * 2 : 2);
    const uint32_t data_len = n_frames * align, fields[] = {36 + data_len, 16, rate, rate * align, data_len};
    const uint16_t shorts[] = {1, channels, align, 16};
    uint8_t *b = calloc(44 + (size_t)data_len, 1);
    cr_assert_not_null(b);
    memcpy(b, "RIFF", 4), memcpy(b + 4, &fields[0], 4), memcpy(b + 8, "WAVEfmt ", 8), memcpy(b + 16, &fields[1], 4);
    memcpy(b + 20, &shorts[0], 2), memcpy(b + 22, &shorts[1], 2), memcpy(b + 24, &fields[2], 4);
    memcpy(b + 28, &fields[3], 4), memcpy(b + 32, &shorts[2], 2), memcpy(b + 34, &shorts[3], 2);
    memcpy(b + 36, "data", 4), memcpy(b + 40, &fields[4], 4);
    if (pcm) memcpy(b + 44, pcm, data_len); /* little-endian hosts only, as the rest of the tests */
    else
        for (uint32_t i = 0; i < data_len; i++) b[44 + i] = (uint8_t)(i * 37u); /* not silence */
    *size = 44 + (size_t)data_len;
    return b;
}

int tu_run(const char *cmd, char *out, size_t cap) {
    char full[8192];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    cr_assert(p, "popen failed");
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int tu_tmp_with_tiny_model(const char *prefix, char *dir, size_t dir_cap, char *model, size_t model_cap) {
    snprintf(dir, dir_cap, "/tmp/%s-XXXXXX", prefix);
    cr_assert(mkdtemp(dir), "mkdtemp %s", dir);
    model[0] = 0;
    const char *hf = tu_src("tests/fixtures/tiny-random/hf");
    if (!tu_exists(hf)) return 1;
    snprintf(model, model_cap, "%s/tiny.uzw", dir);
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s convert --from hf %s %s", tu_build("uzwhisper"), hf, model);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "convert failed: %s", out);
    return 0;
}

void tu_rmtree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int tu_transcribe_input(uzw_context *ctx, const char *input, const void *params) {
    const uzw_params *p = params;
    if (!strcmp(input, "long_mix")) {
        size_t n;
        float *pcm = tu_long_mix(&n);
        uzw_status st = uzw_transcribe_pcm(ctx, pcm, n, p);
        free(pcm);
        return st;
    }
    char rel[512];
    snprintf(rel, sizeof rel, "data/%s", input);
    return uzw_transcribe_file(ctx, tu_shared(rel), p);
}

/* ---------------------------------------------------------------- live streams */
int tu_run_stream(uzw_context *ctx, const void *params, const float *pcm, size_t n, size_t chunk, tu_stream_word *seen, int cap,
                      int check_order) {
    const uzw_params *p = params;
    uzw_stream *s;
    cr_assert_eq(uzw_stream_begin(ctx, p, NULL, &s), UZW_OK, "%s", uzw_last_error(ctx));
    int k = 0;
    for (size_t o = 0; o < n; o += chunk) {
        size_t m = n - o < chunk ? n - o : chunk;
        cr_assert_eq(uzw_stream_push(s, pcm + o, m), UZW_OK, "%s", uzw_last_error(ctx));
        for (int i = 0; i < k; i++) /* what was final stays final and unchanged */
            cr_assert_str_eq(uzw_stream_word_text(s, i), seen[i].text, "final word %d changed", i);
        for (; k < uzw_stream_n_words(s) && k < cap; k++) {
            snprintf(seen[k].text, sizeof seen[k].text, "%s", uzw_stream_word_text(s, k));
            seen[k].t0 = uzw_stream_word_start(s, k);
            seen[k].t1 = uzw_stream_word_end(s, k);
            seen[k].at = uzw_stream_received(s);
        }
    }
    cr_assert_eq(uzw_stream_end(s), UZW_OK, "%s", uzw_last_error(ctx));
    cr_assert_str_eq(uzw_stream_interim(s), "", "after the end nothing is interim");
    for (; k < uzw_stream_n_words(s) && k < cap; k++) {
        snprintf(seen[k].text, sizeof seen[k].text, "%s", uzw_stream_word_text(s, k));
        seen[k].t0 = uzw_stream_word_start(s, k);
        seen[k].t1 = uzw_stream_word_end(s, k);
        seen[k].at = uzw_stream_received(s);
    }
    for (int i = 1; check_order && i < k; i++) /* word times come from the alignment heads: 0.3 s of jitter allowed */
        cr_assert_geq(seen[i].t0 + 0.3, seen[i - 1].t0, "word %d '%s' (%.2f s) starts before word %d '%s' (%.2f s)", i,
                      seen[i].text, seen[i].t0, i - 1, seen[i - 1].text, seen[i - 1].t0);
    cr_assert_eq(uzw_stream_push(s, pcm, 16), UZW_ERR_INVALID_ARG, "audio after the end is refused");
    cr_assert_gt(uzw_stream_n_passes(s), 0);
    uzw_stream_free(s);
    return k;
}

