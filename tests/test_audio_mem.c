/* test_audio_mem.c - decoding an upload held in memory (uzw_audio_load_16k_mem): the same samples,
 * bit for bit, as the path reader on the real clips of ../shared/data and on files libsndfile writes
 * in every format we accept; the same refusals with the same messages (truncated, lying headers);
 * clear messages for bytes that are not audio, empty and oversized uploads and hostile names; and
 * the duration limit of uzw_audio_load_16k_mem_max that stops a small file decoding to hours. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static int has_major(int major) {
    int count = 0;
    sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    for (int i = 0; i < count; i++) {
        SF_FORMAT_INFO fi = {.format = i};
        sf_command(NULL, SFC_GET_FORMAT_MAJOR, &fi, sizeof fi);
        if ((fi.format & SF_FORMAT_TYPEMASK) == major) return 1;
    }
    return 0;
}

/* A fresh temp folder per test (static buffer: one per test process). */
static const char *make_tmpdir(void) {
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/uzw_test_audio_mem_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

/* Decode path with both readers (the memory one from the file's bytes, under `name`) and require the
 * same sample count and bit-identical samples. Returns the sample count. */
static size_t expect_same_as_path(const char *path, const char *name) {
    size_t size = 0;
    uint8_t *bytes = tu_read_file(path, &size);
    cr_assert_not_null(bytes, "cannot read %s", path);
    char err[512] = "";
    float *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    cr_assert_eq(uzw_audio_load_16k(path, &a, &na, err, sizeof err), 0, "path %s: %s", path, err);
    cr_assert_eq(uzw_audio_load_16k_mem(bytes, size, name, &b, &nb, err, sizeof err), 0, "memory %s: %s", path, err);
    cr_log_info("%s: %zu bytes -> %zu samples at 16 kHz by path and from memory", path, size, nb);
    cr_assert_eq(na, nb, "%s: %zu samples by path, %zu from memory", path, na, nb);
    size_t first = na;
    for (size_t i = 0; i < na && first == na; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) first = i;
    cr_expect_eq(first, na, "%s: first differing sample %zu (%.9g vs %.9g)", path, first, first < na ? a[first] : 0.0,
                 first < na ? b[first] : 0.0);
    free(a);
    free(b);
    free(bytes);
    return nb;
}

/* Expect -1, NULL output, n = 0 and a message holding `word` (and valid UTF-8: it must fit in JSON). */
static void expect_mem_fail_max(const void *data, size_t size, const char *name, double max_seconds,
                                const char *word, char *err, size_t err_size) {
    float *pcm = (float *)0x1;
    size_t n = 99;
    err[0] = 0;
    int rc = uzw_audio_load_16k_mem_max(data, size, name, max_seconds, &pcm, &n, err, err_size);
    cr_log_info("%zu bytes (%s) -> %d: %s", size, name ? name : "NULL", rc, err);
    cr_expect_eq(rc, -1, "%zu bytes named %s should be refused", size, name ? name : "NULL");
    cr_expect_null(pcm);
    cr_expect_eq(n, 0);
    cr_expect(strstr(err, word) != NULL, "message lacks '%s': %s", word, err);
    json_t *j = json_string(err);
    cr_expect_not_null(j, "message is not valid UTF-8: %s", err);
    json_decref(j);
    if (rc == 0) free(pcm);
}

static void expect_mem_fail(const void *data, size_t size, const char *name, const char *word) {
    char err[512];
    expect_mem_fail_max(data, size, name, UZW_AUDIO_MAX_SECONDS, word, err, sizeof err);
}


/* Write a `seconds` long test signal (two sines, every channel different) with libsndfile in
 * `format` (MP3: at a constant bit rate); 0 ok, 1 when this libsndfile cannot write that format. */
static int write_signal(const char *path, int format, int rate, int channels, double seconds, double amp) {
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    if (!sf_format_check(&info)) return 1;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    cr_assert_not_null(f, "cannot write %s: %s", path, sf_strerror(NULL));
    if ((format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
        int mode = SF_BITRATE_MODE_CONSTANT; /* the mode is set even when it answers SF_FALSE */
        sf_command(f, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
    }
    const size_t frames = (size_t)(seconds * rate);
    float *x = malloc(frames * (size_t)channels * sizeof *x);
    cr_assert_not_null(x);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            x[i * (size_t)channels + (size_t)c] =
                (float)(amp * (0.6 * sin(2 * M_PI * (220.0 + 110.0 * c) * (double)i / rate) +
                               0.3 * sin(2 * M_PI * 1375.0 * (double)i / rate)));
    cr_assert_eq(sf_writef_float(f, x, (sf_count_t)frames), (sf_count_t)frames);
    sf_close(f);
    free(x);
    return 0;
}

/* ---------------------------------------------------------------- real clips: bit-identical */

Test(audio_mem, real_wav_identical) {
    const char *names[] = {"1126542829_1_33727_1", "1131474547_2_29207_1", "1131474547_2_29208_1",
                           "1131474547_2_29209_1", "1131474547_2_29210_1"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "data/uz/usc/%s.wav", names[k]);
        expect_same_as_path(tu_shared(rel), "upload.wav"); /* 22.05 kHz: resampled */
    }
    size_t n = expect_same_as_path(tu_shared("data/ru/deepspeech_ru.wav"), NULL); /* 16 kHz: copied */
    cr_expect_gt(n, 16000 * 5);
}

Test(audio_mem, real_flac_identical) {
    size_t n = expect_same_as_path(tu_shared("data/en/jfk.flac"), "jfk.flac");
    cr_expect(n >= 176000 - 160 && n <= 176000 + 160, "jfk: %zu samples", n);
}

Test(audio_mem, real_mp3_identical) {
    if (!has_major(SF_FORMAT_MPEG)) cr_skip_test("this libsndfile has no MPEG support");
    size_t n = expect_same_as_path(tu_shared("data/multi/en_de.mp3"), "en_de.mp3");
    cr_expect(n >= 958400 - 800 && n <= 958400 + 800, "en_de.mp3: %zu samples", n);
}

/* ---------------------------------------------------------------- every format we accept */

Test(audio_mem, written_formats_identical) {
    const struct {
        const char *ext;
        int format, rate, channels;
    } cases[] = {
        {"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 2},
        {"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1},
        {"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 1},
        {"wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 2},
        {"wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1},
        {"w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16, 16000, 1},
        {"rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 16000, 1},
        {"aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 11025, 2},
        {"caf", SF_FORMAT_CAF | SF_FORMAT_PCM_16, 32000, 1},
        {"au", SF_FORMAT_AU | SF_FORMAT_PCM_16, 16000, 1},
        {"flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2},
        {"flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 96000, 1},
        {"ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2},
        {"opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 1},
        {"mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 24000, 1},
    };
    const char *dir = make_tmpdir();
    int done = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, "%s/t%zu.%s", dir, k, cases[k].ext);
        if (write_signal(path, cases[k].format, cases[k].rate, cases[k].channels, 1.3, 0.5)) {
            cr_log_warn("this libsndfile cannot write format 0x%x (%s): skipped", cases[k].format, cases[k].ext);
            continue;
        }
        expect_same_as_path(path, path + strlen(dir) + 1);
        unlink(path);
        done++;
    }
    cr_expect_geq(done, 12, "only %d of the formats could be written", done);
    rmdir(dir);
}

/* ---------------------------------------------------------------- same refusals as the path reader */

Test(audio_mem, truncated_wav_and_flac) {
    size_t size = 0;
    uint8_t *wav = tu_read_file(tu_shared("data/uz/usc/1126542829_1_33727_1.wav"), &size);
    cr_assert_not_null(wav);
    expect_mem_fail(wav, size / 2, "half.wav", "truncated"); /* cut in the data chunk */
    expect_mem_fail(wav, size - 1, NULL, "truncated");       /* one byte short */
    free(wav);
    uint8_t *flac = tu_read_file(tu_shared("data/en/jfk.flac"), &size);
    cr_assert_not_null(flac);
    expect_mem_fail(flac, size / 2, "half.flac", "truncated");
    free(flac);
}

/* The checks after opening are shared: the memory reader's message is the path reader's, word for
 * word, when the upload is named as the file. */
Test(audio_mem, messages_match_path_reader) {
    const struct {
        uint32_t rate;
        uint16_t channels;
        uint32_t frames;
        const char *word;
    } cases[] = {
        {500, 1, 1000, "sample rate"},       {1000000, 1, 200000, "sample rate"}, {16000, 100, 2000, "channels"},
        {16000, 1, 800, "too short"},        {16000, 1, 0, "empty"},
    };
    const char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/h.wav", dir);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t size = 0;
        uint8_t *b = tu_wav_s16(cases[k].rate, cases[k].channels, cases[k].frames, NULL, &size);
        cr_assert_eq(tu_write_file(path, b, size), 0);
        char e_path[512] = "", e_mem[512] = "";
        float *pcm = NULL;
        size_t n = 0;
        cr_expect_eq(uzw_audio_load_16k(path, &pcm, &n, e_path, sizeof e_path), -1);
        expect_mem_fail_max(b, size, path, UZW_AUDIO_MAX_SECONDS, cases[k].word, e_mem, sizeof e_mem);
        cr_expect_str_eq(e_mem, e_path, "memory and path readers disagree");
        free(b);
    }
    unlink(path);
    rmdir(dir);
}

/* ---------------------------------------------------------------- not audio, empty, oversized */

Test(audio_mem, not_audio) {
    uint8_t noise[4096];
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < sizeof noise; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        noise[i] = (uint8_t)(s >> 24);
    }
    expect_mem_fail(noise, sizeof noise, "noise.wav", "not a recognised audio file");
    expect_mem_fail(noise, sizeof noise, "noise.mp3", "not a recognised audio file"); /* no MPEG frame in it */
    const char *text = "this is not audio, just a text file uploaded as a .wav\n";
    expect_mem_fail(text, strlen(text), "text.wav", "not a recognised audio file");
    expect_mem_fail("RIF", 3, "three.wav", "not a recognised audio file");
    expect_mem_fail("RIFF\x24\x00\x00\x00WAVE", 12, NULL, "not a recognised audio file"); /* header only */
    char err[512];
    expect_mem_fail_max(noise, 1, NULL, UZW_AUDIO_MAX_SECONDS, "the upload (1 bytes)", err, sizeof err);
}

Test(audio_mem, empty_null_and_oversized) {
    expect_mem_fail("", 0, "empty.wav", "empty upload");
    expect_mem_fail(NULL, 0, NULL, "empty upload");
    expect_mem_fail(NULL, 10, "x.wav", "internal error"); /* NULL data with a size */
    /* refused on its size alone: the buffer is never read */
    static const uint8_t tiny[16] = {0};
    expect_mem_fail(tiny, UZW_AUDIO_MAX_UPLOAD_BYTES + 1, "huge.wav", "too large");
    /* zero channels: libsndfile refuses it while opening and says why */
    size_t size = 0;
    uint8_t *b = tu_wav_s16(16000, 0, 2000, NULL, &size);
    expect_mem_fail(b, size, "zero.wav", "annel");
    free(b);
    /* NULL outputs and a NULL error buffer */
    cr_expect_eq(uzw_audio_load_16k_mem("x", 1, NULL, NULL, NULL, NULL, 0), -1);
    float *pcm = NULL;
    size_t n = 0;
    cr_expect_eq(uzw_audio_load_16k_mem(NULL, 0, NULL, &pcm, &n, NULL, 0), -1);
    cr_expect_null(pcm);
}

/* ---------------------------------------------------------------- names */

Test(audio_mem, hostile_names_are_cleaned) {
    char err[512];
    /* control characters, an invalid byte, a lone continuation byte and a surrogate: each becomes '?' */
    expect_mem_fail_max("RIF", 3, "a\nb\x1b[31m\xff\x80\xed\xa0\x80.wav", UZW_AUDIO_MAX_SECONDS, "'a?b?[31m?????.wav'",
                        err, sizeof err);
    /* valid UTF-8 (Uzbek Cyrillic) is kept */
    expect_mem_fail_max("RIF", 3, "\xd1\x9e\xd0\xb7\xd0\xb1\xd0\xb5\xd0\xba.wav", UZW_AUDIO_MAX_SECONDS,
                        "'\xd1\x9e\xd0\xb7\xd0\xb1\xd0\xb5\xd0\xba.wav'", err, sizeof err);
    /* a long name is cut, never in the middle of a character */
    char name[1024];
    size_t o = 0;
    while (o + 2 < sizeof name - 1) name[o++] = (char)0xd0, name[o++] = (char)0xb6; /* "жжж..." */
    name[o] = 0;
    expect_mem_fail_max("RIF", 3, name, UZW_AUDIO_MAX_SECONDS, "...'", err, sizeof err);
    cr_expect_lt(strlen(err), 400, "name not shortened: %zu bytes", strlen(err));
    expect_mem_fail_max("RIF", 3, "", UZW_AUDIO_MAX_SECONDS, "the upload", err, sizeof err);
}

/* ---------------------------------------------------------------- MP3 that starts with junk */

/* en_de.mp3 cut so that it starts in the middle of a frame: libsndfile opens the file by path thanks
 * to its .mp3 extension; from memory the name "....mp3" does the same, with the same samples. */
Test(audio_mem, mp3_with_leading_junk) {
    if (!has_major(SF_FORMAT_MPEG)) cr_skip_test("this libsndfile has no MPEG support");
    size_t size = 0;
    uint8_t *mp3 = tu_read_file(tu_shared("data/multi/en_de.mp3"), &size);
    cr_assert_not_null(mp3);
    /* skip the ID3v2 tag (syncsafe size at bytes 6..9) and 100 bytes into the first frame */
    cr_assert(size > 10 && memcmp(mp3, "ID3", 3) == 0, "en_de.mp3 starts with an ID3v2 tag");
    const size_t tag = 10 + ((size_t)mp3[6] << 21 | (size_t)mp3[7] << 14 | (size_t)mp3[8] << 7 | mp3[9]);
    const size_t cut = tag + 100;
    cr_assert_lt(cut, size);
    const char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/cut.mp3", dir);
    cr_assert_eq(tu_write_file(path, mp3 + cut, size - cut), 0);
    expect_same_as_path(path, "cut.mp3");
    expect_mem_fail(mp3 + cut, size - cut, "cut.bin", "not a recognised audio file");
    unlink(path);
    rmdir(dir);
    free(mp3);
}

/* An MP3 without a Xing/Info frame: libsndfile's frame count is mpg123's estimate from the file
 * size, which an ID3v2 tag inflates (cover art: 8000 bytes here). Both readers decode the frames
 * that are there instead of calling the file truncated. */
Test(audio_mem, mp3_with_tag_and_no_info_frame) {
    if (!has_major(SF_FORMAT_MPEG)) cr_skip_test("this libsndfile has no MPEG support");
    const char *dir = make_tmpdir();
    char plain[128], tagged[128];
    snprintf(plain, sizeof plain, "%s/cbr.mp3", dir);
    snprintf(tagged, sizeof tagged, "%s/tagged.mp3", dir);
    if (write_signal(plain, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 24000, 1, 10.0, 0.5))
        cr_skip_test("this libsndfile cannot write MP3");
    size_t size = 0;
    uint8_t *mp3 = tu_read_file(plain, &size);
    cr_assert_not_null(mp3);
    cr_assert(size > 4 && mp3[0] == 0xFF, "libsndfile's MP3 starts with a frame, no tag");
    enum { PAD = 8000 };
    uint8_t *t = calloc(10 + PAD + size, 1);
    cr_assert_not_null(t);
    memcpy(t, "ID3\x04\x00\x00", 6);
    t[6] = (PAD >> 21) & 0x7F, t[7] = (PAD >> 14) & 0x7F, t[8] = (PAD >> 7) & 0x7F, t[9] = PAD & 0x7F;
    memcpy(t + 10 + PAD, mp3, size);
    cr_assert_eq(tu_write_file(tagged, t, 10 + PAD + size), 0);
    /* the premise: libsndfile promises more frames than the file holds */
    SF_INFO info = {0};
    SNDFILE *f = sf_open(tagged, SFM_READ, &info);
    cr_assert_not_null(f);
    float block[4096];
    sf_count_t got, held = 0;
    while ((got = sf_readf_float(f, block, 4096)) > 0) held += got;
    sf_close(f);
    cr_log_info("10 s at 24 kHz with an 8 kB tag: libsndfile promises %lld frames, %lld decode",
                (long long)info.frames, (long long)held);
    cr_assert_gt(info.frames, held, "the estimate is no longer inflated: this test checks nothing");
    size_t n = expect_same_as_path(tagged, "tagged.mp3");
    cr_expect(n >= 160000 - 1600 && n <= 160000 + 1600, "%zu samples for 10 s", n);
    unlink(plain);
    unlink(tagged);
    rmdir(dir);
    free(t);
    free(mp3);
}

/* libsndfile 1.2.0 leaks libvorbis's codec setup (5784 bytes) on every Ogg Vorbis stream whose
 * headers fail to read; audio_mem.c refuses those before libsndfile sees them. Run under ASan
 * (-DUZW_SANITIZE=ON), LeakSanitizer fails this test if one gets through. */
Test(audio_mem, damaged_ogg_vorbis_headers) {
    const char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/v.ogg", dir);
    if (write_signal(path, SF_FORMAT_OGG | SF_FORMAT_VORBIS, 22050, 1, 1.0, 0.5))
        cr_skip_test("this libsndfile cannot write Ogg Vorbis");
    size_t size = 0;
    uint8_t *ogg = tu_read_file(path, &size);
    cr_assert_not_null(ogg);
    cr_assert(size > 58 && memcmp(ogg, "OggS", 4) == 0 && memcmp(ogg + 28, "\x01vorbis", 7) == 0);
    const size_t page1 = 27 + ogg[26] + ogg[27]; /* one segment: the 30-byte identification header */
    cr_assert_eq(ogg[26], 1);
    /* only the first page; cut in the second; the second page's body damaged (its CRC fails) */
    expect_mem_fail(ogg, page1, "ident.ogg", "malformed Ogg Vorbis");
    expect_mem_fail(ogg, page1 + 100, "cut.ogg", "malformed Ogg Vorbis");
    ogg[page1 + 60] ^= 0x55;
    expect_mem_fail(ogg, size, "crc.ogg", "malformed Ogg Vorbis");
    ogg[page1 + 60] ^= 0x55;
    /* undamaged, it decodes */
    float *pcm = NULL;
    size_t n = 0;
    char err[512];
    cr_assert_eq(uzw_audio_load_16k_mem(ogg, size, "v.ogg", &pcm, &n, err, sizeof err), 0, "%s", err);
    free(pcm);
    unlink(path);
    rmdir(dir);
    free(ogg);
}

/* ---------------------------------------------------------------- duration limit */

Test(audio_mem, duration_limit) {
    size_t size = 0;
    uint8_t *flac = tu_read_file(tu_shared("data/en/jfk.flac"), &size);
    cr_assert_not_null(flac);
    char err[512];
    /* 11 s against 5 s: refused on the header, before decoding */
    expect_mem_fail_max(flac, size, "jfk.flac", 5.0, "is over 5 s", err, sizeof err);
    /* the default limit is the path reader's (24 hours) */
    float *pcm = NULL;
    size_t n = 0;
    cr_assert_eq(uzw_audio_load_16k_mem_max(flac, size, "jfk.flac", 12.0, &pcm, &n, err, sizeof err), 0, "%s", err);
    free(pcm);
    expect_mem_fail_max(flac, size, NULL, 0.0, "internal error", err, sizeof err);
    expect_mem_fail_max(flac, size, NULL, UZW_AUDIO_MAX_SECONDS + 1, "internal error", err, sizeof err);
    expect_mem_fail_max(flac, size, NULL, NAN, "internal error", err, sizeof err);
    free(flac);
}

/* A small "bomb": 2 minutes of silence at 8 kHz is a few kB of FLAC (hours would be a few hundred
 * kB). Refused at 30 s from its header; with the header's length erased (STREAMINFO total samples =
 * 0, "unknown") it is refused while decoding, once 30 s have been decoded. */
Test(audio_mem, small_file_decoding_to_hours) {
    const char *dir = make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/silence.flac", dir);
    cr_assert_eq(write_signal(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8000, 1, 120.0, 0.0), 0);
    size_t size = 0;
    uint8_t *flac = tu_read_file(path, &size);
    cr_assert_not_null(flac);
    cr_log_info("120 s of 8 kHz silence: %zu bytes of FLAC", size);
    cr_expect_lt(size, 16 * 1024);
    char err[512];
    expect_mem_fail_max(flac, size, "bomb.flac", 30.0, "is over 30 s", err, sizeof err);
    /* STREAMINFO (bytes 8..41): total samples are the low 36 bits of bytes 21..25; 0 is "unknown" */
    cr_assert(memcmp(flac, "fLaC", 4) == 0 && (flac[4] & 0x7F) == 0);
    flac[21] &= 0xF0;
    memset(flac + 22, 0, 4);
    expect_mem_fail_max(flac, size, "bomb.flac", 30.0, "is too long (more than 30 s)", err, sizeof err);
    /* under the default limit the same unknown-length file decodes: 120 s */
    float *pcm = NULL;
    size_t n = 0;
    cr_assert_eq(uzw_audio_load_16k_mem(flac, size, "bomb.flac", &pcm, &n, err, sizeof err), 0, "%s", err);
    cr_expect(n >= 120 * 16000 - 2 && n <= 120 * 16000, "%zu samples", n);
    free(pcm);
    unlink(path);
    rmdir(dir);
    free(flac);
}
