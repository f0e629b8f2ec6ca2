/* test_audio.c - decoding, downmix and 16 kHz resampling on the real clips in ../shared/data, and a
 * clear -1 + message for every kind of bad input (missing, empty, not audio, truncated, too short). */
#include <criterion/criterion.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

/* Frames, rate and (optionally) the interleaved samples of a file, read directly with libsndfile. */
static float *sf_read_all(const char *path, SF_INFO *info) {
    memset(info, 0, sizeof *info);
    SNDFILE *f = sf_open(path, SFM_READ, info);
    cr_assert_not_null(f, "sf_open %s: %s", path, sf_strerror(NULL));
    float *buf = malloc((size_t)info->frames * (size_t)info->channels * sizeof *buf);
    cr_assert_not_null(buf);
    cr_assert_eq(sf_readf_float(f, buf, info->frames), info->frames);
    sf_close(f);
    return buf;
}

static void write_wav(const char *path, const float *interleaved, size_t frames, int channels, int rate,
                      int subformat) {
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | subformat};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    cr_assert_not_null(f, "cannot write %s: %s", path, sf_strerror(NULL));
    cr_assert_eq(sf_writef_float(f, interleaved, (sf_count_t)frames), (sf_count_t)frames);
    sf_close(f);
}

/* A fresh temp folder per test; files are removed by the caller. */
static char *make_tmpdir(void) {
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/uzw_test_audio_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static int has_mpeg(void) {
    int count = 0;
    sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    for (int i = 0; i < count; i++) {
        SF_FORMAT_INFO fi = {.format = i};
        sf_command(NULL, SFC_GET_FORMAT_MAJOR, &fi, sizeof fi);
        if ((fi.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) return 1;
    }
    return 0;
}

/* Expect -1, NULL output and a message containing `word`. */
static void expect_fail(const char *path, const char *word) {
    char err[512] = "";
    float *pcm = (float *)0x1;
    size_t n = 99;
    int rc = uzw_audio_load_16k(path, &pcm, &n, err, sizeof err);
    cr_log_info("%s -> %d: %s", path, rc, err);
    cr_expect_eq(rc, -1, "%s should fail", path);
    cr_expect_null(pcm);
    cr_expect_eq(n, 0);
    cr_expect(strstr(err, word) != NULL, "message for %s lacks '%s': %s", path, word, err);
    if (rc == 0) free(pcm);
}

static void expect_all_finite_and_bounded(const float *pcm, size_t n, float bound) {
    for (size_t i = 0; i < n; i++)
        cr_assert(isfinite(pcm[i]) && fabsf(pcm[i]) <= bound, "sample %zu = %g", i, pcm[i]);
}

/* ---------------------------------------------------------------- real clips */

Test(audio, jfk_flac_44k_stereo) {
    char err[256] = "";
    float *pcm = NULL;
    size_t n = 0;
    cr_assert_eq(uzw_audio_load_16k(tu_shared("data/en/jfk.flac"), &pcm, &n, err, sizeof err), 0, "%s", err);
    cr_log_info("jfk.flac: %zu samples at 16 kHz (11 s = 176000)", n);
    cr_expect(n >= 176000 - 160 && n <= 176000 + 160, "jfk: %zu samples", n);
    expect_all_finite_and_bounded(pcm, n, 1.5f);
    double energy = 0;
    for (size_t i = 0; i < n; i++) energy += (double)pcm[i] * pcm[i];
    cr_expect_gt(sqrt(energy / n), 0.01, "jfk is speech, not silence");
    free(pcm);
}

Test(audio, uzbek_22k_duration_kept) {
    const char *names[] = {"1126542829_1_33727_1", "1131474547_2_29207_1", "1131474547_2_29208_1",
                           "1131474547_2_29209_1", "1131474547_2_29210_1"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "data/uz/usc/%s.wav", names[k]);
        const char *path = tu_shared(rel);
        SF_INFO info;
        free(sf_read_all(path, &info));
        cr_assert_eq(info.samplerate, 22050);
        char err[256] = "";
        float *pcm = NULL;
        size_t n = 0;
        cr_assert_eq(uzw_audio_load_16k(path, &pcm, &n, err, sizeof err), 0, "%s", err);
        const double d_in = (double)info.frames / 22050.0, d_out = (double)n / 16000.0;
        cr_log_info("%s: %lld frames at 22050 -> %zu at 16000 (%.6f s vs %.6f s)", names[k],
                    (long long)info.frames, n, d_in, d_out);
        cr_expect_leq(fabs(d_in - d_out), 0.001, "%s: duration %.6f s became %.6f s", names[k], d_in, d_out);
        expect_all_finite_and_bounded(pcm, n, 1.5f);
        free(pcm);
    }
}

Test(audio, russian_16k_unchanged) {
    const char *path = tu_shared("data/ru/deepspeech_ru.wav");
    SF_INFO info;
    float *direct = sf_read_all(path, &info);
    cr_assert_eq(info.samplerate, 16000);
    cr_assert_eq(info.channels, 1);
    char err[256] = "";
    float *pcm = NULL;
    size_t n = 0;
    cr_assert_eq(uzw_audio_load_16k(path, &pcm, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, (size_t)info.frames);
    cr_expect_eq(memcmp(pcm, direct, n * sizeof *pcm), 0, "16 kHz samples must be passed through bit for bit");
    free(pcm);
    free(direct);
}

Test(audio, mp3) {
    char err[256] = "";
    float *pcm = NULL;
    size_t n = 0;
    int rc = uzw_audio_load_16k(tu_shared("data/multi/en_de.mp3"), &pcm, &n, err, sizeof err);
    if (has_mpeg()) {
        cr_assert_eq(rc, 0, "libsndfile lists MPEG but the mp3 failed: %s", err);
        cr_log_info("en_de.mp3 (24 kHz): %zu samples at 16 kHz (%.3f s)", n, n / 16000.0);
        cr_expect(n >= 958400 - 800 && n <= 958400 + 800, "en_de.mp3 is 59.9 s (1437600 frames at 24 kHz): %zu samples", n);
        expect_all_finite_and_bounded(pcm, n, 2.0f);
        free(pcm);
    } else {
        cr_expect_eq(rc, -1);
        cr_expect(strstr(err, "not a recognised audio file") != NULL, "%s", err);
    }
}

Test(audio, stereo_downmix) {
    char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/stereo.wav", dir);
    const size_t frames = 8000;  /* 0.5 s at 16 kHz */
    float *x = malloc(frames * 2 * sizeof *x);
    cr_assert_not_null(x);
    for (size_t i = 0; i < frames; i++) {
        x[2 * i] = (float)(0.5 * sin(2 * M_PI * 440.0 * i / 16000.0));
        x[2 * i + 1] = (float)(0.25 * cos(2 * M_PI * 1000.0 * i / 16000.0));
    }
    write_wav(path, x, frames, 2, 16000, SF_FORMAT_FLOAT);
    char err[256] = "";
    float *pcm = NULL;
    size_t n = 0;
    cr_assert_eq(uzw_audio_load_16k(path, &pcm, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, frames);
    for (size_t i = 0; i < frames; i++)
        cr_assert_float_eq(pcm[i], (x[2 * i] + x[2 * i + 1]) / 2.0f, 1e-7f, "frame %zu", i);
    free(pcm);

    /* the same through the buffer API at 44.1 kHz, 3 channels: duration kept */
    const size_t f44 = 44100;
    float *y = calloc(f44 * 3, sizeof *y);
    cr_assert_not_null(y);
    for (size_t i = 0; i < f44; i++) y[3 * i] = y[3 * i + 1] = y[3 * i + 2] = (float)sin(2 * M_PI * 300.0 * i / 44100.0);
    cr_assert_eq(uzw_audio_to_16k_mono(y, f44, 3, 44100, &pcm, &n, err, sizeof err), 0, "%s", err);
    cr_expect(n >= 15999 && n <= 16000, "1 s at 44.1 kHz -> %zu samples", n);
    /* a 300 Hz sine of amplitude 1 survives resampling: check mid-signal against the analytic sine */
    double worst = 0;
    for (size_t i = 1000; i < 15000; i++) worst = fmax(worst, fabs(pcm[i] - sin(2 * M_PI * 300.0 * i / 16000.0)));
    cr_log_info("44.1k -> 16k sine max error %.3g", worst);
    cr_expect_lt(worst, 1e-3, "resampled sine off by %g", worst);
    free(pcm);
    free(y);
    free(x);
    unlink(path);
    rmdir(dir);
}

/* ---------------------------------------------------------------- bad input */

Test(audio_bad, missing_file) { expect_fail("/nonexistent/dir/none.wav", "cannot open"); }

Test(audio_bad, directory) { expect_fail("/tmp", "directory"); }

Test(audio_bad, empty_and_text_files) {
    char *dir = make_tmpdir();
    char empty[128], text[128], nodata[128];
    snprintf(empty, sizeof empty, "%s/empty.wav", dir);
    snprintf(text, sizeof text, "%s/text.wav", dir);
    snprintf(nodata, sizeof nodata, "%s/nodata.wav", dir);
    cr_assert_eq(tu_write_file(empty, "", 0), 0);
    const char *words = "this is not audio, just a text file renamed to .wav\n";
    cr_assert_eq(tu_write_file(text, words, strlen(words)), 0);
    write_wav(nodata, NULL, 0, 1, 16000, SF_FORMAT_PCM_16);
    expect_fail(empty, "empty");
    expect_fail(text, "not a recognised audio file");
    expect_fail(nodata, "empty");
    unlink(empty);
    unlink(text);
    unlink(nodata);
    rmdir(dir);
}

Test(audio_bad, truncated_wav) {
    size_t size = 0;
    uint8_t *wav = tu_read_file(tu_shared("data/uz/usc/1126542829_1_33727_1.wav"), &size);
    cr_assert_not_null(wav);
    char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/half.wav", dir);
    cr_assert_eq(tu_write_file(path, wav, size / 2), 0);
    expect_fail(path, "truncated");
    unlink(path);
    rmdir(dir);
    free(wav);
}

Test(audio_bad, truncated_flac) {
    size_t size = 0;
    uint8_t *flac = tu_read_file(tu_shared("data/en/jfk.flac"), &size);
    cr_assert_not_null(flac);
    char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/half.flac", dir);
    cr_assert_eq(tu_write_file(path, flac, size / 2), 0);
    expect_fail(path, "truncated");
    unlink(path);
    rmdir(dir);
    free(flac);
}

/* A hand-made 16-bit PCM WAV whose header may lie about rate and channels. */
static void write_raw_wav(const char *path, uint32_t rate, uint16_t channels, uint32_t n_frames) {
    size_t size;
    uint8_t *b = tu_wav_s16(rate, channels, n_frames, NULL, &size);
    cr_assert_eq(tu_write_file(path, b, size), 0);
    free(b);
}

Test(audio_bad, lying_headers) {
    char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/h.wav", dir);
    write_raw_wav(path, 500, 1, 1000);
    expect_fail(path, "sample rate");
    write_raw_wav(path, 1000000, 1, 200000);
    expect_fail(path, "sample rate");
    write_raw_wav(path, 16000, 100, 2000);
    expect_fail(path, "channels");
    write_raw_wav(path, 16000, 0, 2000);
    expect_fail(path, "annel");  /* libsndfile: "Channel count is zero." */
    unlink(path);
    rmdir(dir);
}

Test(audio_bad, too_short) {
    char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/short.wav", dir);
    float x[800];  /* 0.05 s at 16 kHz */
    for (int i = 0; i < 800; i++) x[i] = 0.1f * (float)sin(i * 0.3);
    write_wav(path, x, 800, 1, 16000, SF_FORMAT_PCM_16);
    expect_fail(path, "too short");
    unlink(path);
    rmdir(dir);
}

Test(audio_bad, buffer_api) {
    char err[256] = "";
    float *pcm = NULL;
    size_t n = 0;
    float x[4000] = {0};
    cr_expect_eq(uzw_audio_to_16k_mono(x, 4000, 0, 16000, &pcm, &n, err, sizeof err), -1);
    cr_expect(strstr(err, "channel") != NULL, "%s", err);
    cr_expect_eq(uzw_audio_to_16k_mono(x, 4000, 65, 16000, &pcm, &n, err, sizeof err), -1);
    cr_expect_eq(uzw_audio_to_16k_mono(x, 4000, 1, 999, &pcm, &n, err, sizeof err), -1);
    cr_expect(strstr(err, "sample rate") != NULL, "%s", err);
    cr_expect_eq(uzw_audio_to_16k_mono(x, 4000, 1, 384001, &pcm, &n, err, sizeof err), -1);
    cr_expect_eq(uzw_audio_to_16k_mono(x, 0, 1, 16000, &pcm, &n, err, sizeof err), -1);
    cr_expect(strstr(err, "empty") != NULL, "%s", err);
    cr_expect_eq(uzw_audio_to_16k_mono(x, 1000, 1, 16000, &pcm, &n, err, sizeof err), -1);
    cr_expect(strstr(err, "too short") != NULL, "%s", err);
    x[1234] = NAN;
    cr_expect_eq(uzw_audio_to_16k_mono(x, 4000, 1, 16000, &pcm, &n, err, sizeof err), -1);
    cr_expect(strstr(err, "finite") != NULL, "%s", err);
    x[1234] = 0.0f;
    cr_expect_eq(uzw_audio_to_16k_mono(x, (size_t)-1, 2, 16000, &pcm, &n, err, sizeof err), -1, "absurd size");
    cr_expect_null(pcm);
    /* NULL error buffer is allowed */
    cr_expect_eq(uzw_audio_to_16k_mono(x, 0, 1, 16000, &pcm, &n, NULL, 0), -1);
    cr_expect_eq(uzw_audio_load_16k(NULL, &pcm, &n, NULL, 0), -1);
    cr_expect_eq(uzw_audio_load_16k("", &pcm, &n, err, sizeof err), -1);
    /* rates at the edges work */
    cr_expect_eq(uzw_audio_to_16k_mono(x, 4000, 1, 8000, &pcm, &n, err, sizeof err), 0, "%s", err);
    cr_expect(n >= 7990 && n <= 8000, "8k -> 16k: %zu", n);
    free(pcm);
}
