/*
 * vad.h - a voice-activity detector on 16 kHz mono PCM, used to skip non-speech before decoding
 * (Whisper invents text on silence and noise). Energy-based: 30 ms frames every 10 ms, the level
 * of the pre-emphasised signal in dB against the file's own noise floor, with the region rules of
 * faster-whisper's VAD options (minimum speech, minimum silence to split, padding).
 */
#ifndef UZW_VAD_H
#define UZW_VAD_H

#include <stddef.h>

typedef struct {
    float threshold_db;   /* a frame is speech this many dB above the noise floor (default 12)  */
    float floor_db;       /* and above this absolute level, dBFS (default -60)                  */
    int min_speech_ms;    /* shorter speech regions are dropped (default 250)                   */
    int min_silence_ms;   /* shorter gaps do not split a region (default 2000, as faster-whisper) */
    int pad_ms;           /* each region is widened by this on both sides (default 400)         */
} uzw_vad_opts;

typedef struct {
    size_t start, end;    /* samples, [start, end) */
} uzw_vad_region;

uzw_vad_opts uzw_vad_default_opts(void);

/* Speech regions of pcm[0..n), in order, not overlapping. Writes at most max; returns the number
 * found (may exceed max), or -1 on allocation failure. */
int uzw_vad_regions(const float *pcm, size_t n, const uzw_vad_opts *o, uzw_vad_region *out, int max);

/* Time t (seconds) in the concatenation of the regions -> time in the original audio. */
double uzw_vad_map_time(const uzw_vad_region *r, int n, double t);

#endif
