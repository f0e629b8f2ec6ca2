/* stream.h - the state behind the public uzw_stream (live transcription, stream.c). */
#ifndef UZW_STREAM_H
#define UZW_STREAM_H

#include <stddef.h>

#include "uzwhisper.h"

typedef struct {
    char *text;          /* as decoded, Whisper's leading space kept */
    double t0, t1;       /* seconds from the start of the stream */
    float prob;
    char lang[8];
    float lang_prob;     /* probability of that label */
} uzw_stream_word;

struct uzw_stream {
    uzw_context *ctx;
    uzw_params p;                /* the request's decoding options (word timestamps forced on) */
    uzw_stream_params sp;
    float *buf;                  /* [cap] 16 kHz audio since buf_t0 */
    size_t n, cap;
    double buf_t0;               /* seconds: stream time of buf[0] */
    size_t since;                /* samples since the last pass */
    size_t received;             /* samples received in all */
    uzw_stream_word *fin;        /* final words, in order */
    int n_fin, cap_fin;
    double fin_t;                /* end of the last final word */
    uzw_stream_word *hyp;        /* the last pass's words after the final ones (unstable) */
    int n_hyp, cap_hyp;
    char *interim;               /* hyp joined */
    char prompt[512];
    int ended;
    int n_passes;
    double pass_ms;
};

#endif
