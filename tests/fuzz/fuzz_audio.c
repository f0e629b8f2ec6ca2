/*
 * fuzz_audio.c - libFuzzer target for the upload decoder (engine/audio/audio_mem.c and the checks it
 * shares with the path reader, audio_file.c): any bytes must give 0 with finite samples, or -1 with a
 * message and nothing allocated; never a crash, a read outside the input, undefined behaviour or a
 * leak. Odd-sized inputs are named "fuzz.mp3", which adds the search for an MPEG frame past junk.
 *
 * Work per input is capped so that one input runs in well under a second: inputs over 1 MiB are
 * skipped, and the decoded duration is limited to FUZZ_MAX_SECONDS through
 * uzw_audio_load_16k_mem_max (uzw_audio_load_16k_mem is that function with the 24-hour limit; a few
 * bytes of FLAC or Vorbis may legitimately decode to hours, which would only measure libsamplerate).
 * Seeds: tests/fuzz/corpus_audio/ (tests/fuzz/gen_corpus_audio.py). Run: tools/fuzz.sh.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "audio/audio.h"

enum { FUZZ_MAX_INPUT = 1 << 20 };
#define FUZZ_MAX_SECONDS 10.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_MAX_INPUT) return 0;
    const char *name = (size & 1) ? "fuzz.mp3" : NULL;
    char err[512];
    err[0] = 0;
    float *pcm = NULL;
    size_t n = 12345;
    const int rc = uzw_audio_load_16k_mem_max(data, size, name, FUZZ_MAX_SECONDS, &pcm, &n, err, sizeof err);
    if (rc != 0) {
        if (rc != -1 || err[0] == 0 || pcm != NULL || n != 0) abort(); /* a refusal says why, holds nothing */
        return 0;
    }
    /* at most the limit plus libsamplerate's rounding */
    if (!pcm || n == 0 || (double)n > FUZZ_MAX_SECONDS * 16000.0 + 16.0) abort();
    for (size_t i = 0; i < n; i++)
        if (!isfinite(pcm[i])) abort(); /* the engine must never see NaN or Inf */
    free(pcm);
    return 0;
}
