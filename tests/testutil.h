/* testutil.h - helpers shared by the Criterion tests: paths to fixtures, file reading, and
 * array comparison with a tolerance that reports the worst element. */
#ifndef UZW_TESTUTIL_H
#define UZW_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Path under the source tree / the shared data folder / the build folder (static buffer per call
 * slot: up to 8 live results). */
const char *tu_src(const char *rel);
const char *tu_shared(const char *rel);
const char *tu_build(const char *rel);
int tu_exists(const char *path);

/* Read a whole file (malloc'ed, NUL-terminated); NULL on failure. */
uint8_t *tu_read_file(const char *path, size_t *size);
/* Write bytes to a file; 0 ok. */
int tu_write_file(const char *path, const void *data, size_t size);
/* The bytes of a 16-bit PCM WAV (malloc'ed, size in *size) whose header says rate and channels,
 * even absurd ones (0 channels: the data is sized as mono). pcm: n_frames * channels samples, or
 * NULL for a fixed non-silent pattern. */
uint8_t *tu_wav_s16(uint32_t rate, uint16_t channels, uint32_t n_frames, const int16_t *pcm, size_t *size);
/* Read a raw little-endian f32 file; count in *n. */
float *tu_read_f32(const char *path, size_t *n);

typedef struct {
    double max_abs, max_rel;  /* worst |a-b| and |a-b|/|b| */
    size_t worst;             /* index of the worst abs error */
    size_t n_bad;             /* elements failing |a-b| <= atol + rtol*|b| (non-finite counts as bad) */
} tu_cmp;
tu_cmp tu_compare(const float *a, const float *b, size_t n, double atol, double rtol);

/* Run a shell command, stdout and stderr captured into out (NUL-terminated, truncated to cap);
 * returns its exit status, or 128 + signal. */
int tu_run(const char *cmd, char *out, size_t cap);
/* A fresh temporary folder /tmp/<prefix>-XXXXXX into dir; then the random fixture model converted
 * by the uzwhisper binary into dir/tiny.uzw (path into model). Returns 0, or 1 when the fixture is
 * absent (model set to ""). */
int tu_tmp_with_tiny_model(const char *prefix, char *dir, size_t dir_cap, char *model, size_t model_cap);
/* rm -rf dir */
void tu_rmtree(const char *dir);

/* Tests on the real default model (models/default.uzw): load it, a context, and the golden JSON
 * file golden_rel (may be NULL). When the model is absent *model stays NULL (the tests skip),
 * except under CI (CI=true), where that is a failure. */
struct uzw_model;
struct uzw_context;
void tu_real_setup(const char *golden_rel, void **golden, struct uzw_model **model, struct uzw_context **ctx);
void tu_real_teardown(void *golden, struct uzw_model *model, struct uzw_context *ctx);
/* The 158.7 s test file: tests/fixtures/decoding/long_mix.json's pieces of real clips and exact
 * silences, checked against the recipe's sample count and sha256. malloc'ed. */
float *tu_long_mix(size_t *n);
/* Transcribe an input of the real-weight goldens: "long_mix", or a path under ../shared/data. */
int tu_transcribe_input(struct uzw_context *ctx, const char *input, const void *params);

/* Live streams: push pcm in `chunk`-sample pieces through uzw_stream_push, asserting that final
 * words never change (and, with check_order, come in time order within 0.3 s), that nothing is
 * interim after uzw_stream_end and that audio after the end is refused. Fills seen[0..cap) with the
 * final words and the audio seconds received when each became final; returns their number. */
typedef struct {
    char text[64];
    double t0, t1, at;
} tu_stream_word;
int tu_run_stream(struct uzw_context *ctx, const void *params, const float *pcm, size_t n, size_t chunk, tu_stream_word *seen,
                  int cap, int check_order);

#endif
