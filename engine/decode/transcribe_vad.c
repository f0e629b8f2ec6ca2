/*
 * transcribe_vad.c - transcription of the speech regions only (uzw_params.vad_filter): the voice-
 * activity detector finds the regions, they are joined into one signal and transcribed, and every
 * timestamp is mapped back to the original audio (as faster-whisper's vad_filter does).
 */
#include <stdlib.h>
#include <string.h>

#include "audio/vad.h"
#include "core/util.h"
#include "decode/context.h"

#define MAX_REGIONS 65536

uzw_status uzw_transcribe_speech_only(uzw_context *ctx, const float *pcm, size_t n, const uzw_params *p,
                                      uzw_transcribe_fn core) {
    uzw_vad_opts vo = uzw_vad_default_opts();
    int k = uzw_vad_regions(pcm, n, &vo, NULL, 0);
    if (k < 0) return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory in voice-activity detection");
    if (k > MAX_REGIONS) k = MAX_REGIONS;
    uzw_vad_region *r = malloc(sizeof *r * (size_t)(k ? k : 1));
    if (!r) return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    k = uzw_vad_regions(pcm, n, &vo, r, k);
    size_t total = 0;
    for (int i = 0; i < k; i++) total += r[i].end - r[i].start;
    uzw_logf(p->log, p->log_user, UZW_LOG_INFO, "voice activity: %d regions, %.1f of %.1f s kept", k, total / 16000.0,
             n / 16000.0);
    if (total < (size_t)(UZW_SAMPLE_RATE / 10)) { /* nothing to transcribe: no segments, no text */
        free(r);
        uzw_ctx_clear_results(ctx);
        memset(&ctx->tm, 0, sizeof ctx->tm);
        ctx->duration = n / (double)UZW_SAMPLE_RATE;
        ctx->full_text = calloc(1, 1);
        return ctx->full_text ? UZW_OK : uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory");
    }
    float *speech = malloc(sizeof(float) * total);
    if (!speech) { free(r); return uzw_ctx_fail(ctx, UZW_ERR_NO_MEMORY, "out of memory"); }
    size_t at = 0;
    for (int i = 0; i < k; i++) {
        memcpy(speech + at, pcm + r[i].start, sizeof(float) * (r[i].end - r[i].start));
        at += r[i].end - r[i].start;
    }
    uzw_status st = core(ctx, speech, total, p);
    free(speech);
    if (st == UZW_OK) {
        for (int i = 0; i < ctx->n_seg; i++) {
            uzw_segment *s = &ctx->seg[i];
            s->t0 = uzw_vad_map_time(r, k, s->t0);
            s->t1 = uzw_vad_map_time(r, k, s->t1);
            for (int w = 0; w < s->n_words; w++) {
                s->words[w].start = uzw_vad_map_time(r, k, s->words[w].start);
                s->words[w].end = uzw_vad_map_time(r, k, s->words[w].end);
            }
        }
        for (int j = 0; j < ctx->n_sw; j++) ctx->sw[j].time = uzw_vad_map_time(r, k, ctx->sw[j].time);
        ctx->duration = n / (double)UZW_SAMPLE_RATE;
    }
    free(r);
    return st;
}
