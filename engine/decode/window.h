/*
 * window.h - one 30 s window from encoder output to a token sequence: the temperature fallback
 * schedule around the search (faster-whisper's generate_with_fallback), and the split of the
 * sequence into timestamped segments with the seek advance (its _split_segments_by_timestamps).
 */
#ifndef UZW_WINDOW_H
#define UZW_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode/search.h"
#include "uzwhisper.h"

typedef struct {
    int32_t *tokens;        /* [n_text_ctx] sampled tokens, EOT excluded */
    int n_tokens;
    float avg_logprob;
    float no_speech_prob;
    float temperature;      /* the temperature of the result kept */
    float compression_ratio;/* of the decoded text (zlib, as OAI/faster-whisper) */
    int n_steps;            /* decoder steps over all attempts */
    int n_attempts;
    double t_first_token_ms;/* uzw_now_ms() when the first attempt's first-token logits were ready */
} uzw_window_result;

/* Decode the encoded window (st) after the prompt with the fallback schedule of p. res->tokens must
 * hold n_text_ctx ids. 0 or -1. */
int uzw_decode_with_fallback(const uzw_model *m, uzw_fwd_state *st, const int32_t *prompt, int n_prompt,
                             const uzw_params *p, uint64_t *rng, uzw_window_result *res);

/* zlib compression ratio of a byte string: len / len(zlib.compress(text)). */
float uzw_compression_ratio(const char *text, size_t len);

#define UZW_MAX_SPANS 256 /* a window of <= 224 sampled tokens holds at most 112 timestamp pairs */

typedef struct {
    int first, count;       /* tokens[first .. first+count) */
    double start, end;      /* seconds */
} uzw_span;

/* Split the window's tokens into segments. seek and seg_size in mel frames; returns the number
 * of spans (<= max) and the next seek in *next_seek. */
int uzw_split_segments(const uzw_model *m, const int32_t *tokens, int n, size_t seek, size_t seg_size,
                       uzw_span *spans, int max, size_t *next_seek);

#endif
