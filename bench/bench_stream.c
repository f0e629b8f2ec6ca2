/* bench_stream.c - latency of live streaming (engine/stream/stream.c) on real speech:
 *   build/bench_stream [-m MODEL] [--step S] [--threads T] [--beam N] [--fast] AUDIO...
 * Audio is fed in `step` pieces at real-time pace (each piece is pushed when the wall clock says it
 * has been spoken; with --fast, as fast as the engine takes it). For every final word: latency =
 * the wall-clock time it became final minus the moment its last sound was spoken (its end time,
 * on the wall clock of the paced feed). Reported: median and p95 latency, the same with compute
 * taken out (audio received when it became final minus its end), the real-time factor of the
 * decoding passes, and agreement of the streamed text with the offline transcript of each file. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "decode/context.h"
#include "metrics.h" /* tools/eval: uze_wer_counts */
#include "uzwhisper.h"

static void sleep_until(double t_ms) {
    double now = bench_now_ms();
    if (t_ms <= now) return;
    struct timespec ts = {(time_t)((t_ms - now) / 1e3), (long)(((t_ms - now) / 1e3 - (time_t)((t_ms - now) / 1e3)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* letters and digits, lower-cased, single spaces */
static void norm(const char *in, char *out, size_t cap) {
    size_t o = 0;
    int space = 1;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 2 < cap; p++) {
        if (isalnum(*p) || *p >= 0x80) out[o++] = (char)tolower(*p), space = 0;
        else if (*p == '\'') continue;
        else if (!space) out[o++] = ' ', space = 1;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = 0;
}

/* word error rate of the normalised streamed text against the normalised offline one (tools/eval) */
static double wer(const char *ref, const char *hyp) {
    uze_counts c;
    return uze_wer_counts(ref, hyp, &c) == 0 ? uze_error_rate(&c) : NAN;
}

int main(int argc, char **argv) {
    const char *model_path = "models/default.uzw";
    float step = 1.0f;
    int threads = 2, beam = 1, fast = 0, first = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) model_path = argv[++i];
        else if (!strcmp(argv[i], "--step") && i + 1 < argc) step = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--beam") && i + 1 < argc) beam = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--fast")) fast = 1;
        else if (argv[i][0] == '-') { fprintf(stderr, "usage: bench_stream [-m MODEL] [--step S] [--threads T] [--beam N] [--fast] AUDIO...\n"); return 2; }
        else if (!first) first = i;
    }
    if (!first) { fprintf(stderr, "bench_stream: no audio files\n"); return 2; }
    char err[1024];
    uzw_model *m;
    if (uzw_model_load(model_path, NULL, &m, err, sizeof err) != UZW_OK) { fprintf(stderr, "%s\n", err); return 1; }
    uzw_context *ctx;
    if (uzw_context_create(m, &ctx) != UZW_OK) return 1;
    uzw_params p = uzw_default_params();
    p.n_threads = threads;
    p.beam_size = beam;
    p.languages = "uz,ru,en";
    uzw_stream_params sp = uzw_stream_default_params();
    sp.step_s = step;
    double *lat = NULL, *lat_audio = NULL;
    int n_lat = 0, cap_lat = 0;
    double audio_s = 0, pass_ms = 0, werr_sum = 0;
    int n_files = 0;
    printf("model %s, step %.2f s, beam %d, %d threads, %s\n\n| file | s | words | WER vs offline | passes | pass RTF |\n"
           "|---|---:|---:|---:|---:|---:|\n", model_path, step, beam, threads, fast ? "fed as fast as it is taken" : "real-time pace");
    for (int f = first; f < argc; f++) {
        if (argv[f][0] == '-') { if (strcmp(argv[f], "--fast")) f++; continue; }
        if (uzw_load_audio_file(ctx, argv[f]) != UZW_OK) { fprintf(stderr, "%s\n", uzw_last_error(ctx)); return 1; }
        size_t n = ctx->n_pcm;
        float *pcm = malloc(sizeof(float) * n);
        memcpy(pcm, ctx->pcm, sizeof(float) * n);
        char offline[8192], streamed[8192], joined[8192] = "";
        if (uzw_transcribe_pcm(ctx, pcm, n, &p) != UZW_OK) { fprintf(stderr, "%s\n", uzw_last_error(ctx)); return 1; }
        norm(uzw_full_text(ctx), offline, sizeof offline);
        uzw_stream *s;
        if (uzw_stream_begin(ctx, &p, &sp, &s) != UZW_OK) { fprintf(stderr, "%s\n", uzw_last_error(ctx)); return 1; }
        size_t chunk = (size_t)(step * 16000);
        double t_start = bench_now_ms();
        int seen = 0;
        for (size_t o = 0;; o += chunk) {
            int done = o >= n;
            if (!done) {
                size_t k = n - o < chunk ? n - o : chunk;
                if (!fast) sleep_until(t_start + (double)(o + k) / 16.0); /* the piece has been spoken */
                if (uzw_stream_push(s, pcm + o, k) != UZW_OK) { fprintf(stderr, "%s\n", uzw_last_error(ctx)); return 1; }
            } else if (uzw_stream_end(s) != UZW_OK) { fprintf(stderr, "%s\n", uzw_last_error(ctx)); return 1; }
            double now = bench_now_ms();
            for (; seen < uzw_stream_n_words(s); seen++) {
                if (n_lat == cap_lat) {
                    cap_lat = cap_lat ? 2 * cap_lat : 256;
                    lat = realloc(lat, sizeof(double) * (size_t)cap_lat);
                    lat_audio = realloc(lat_audio, sizeof(double) * (size_t)cap_lat);
                }
                double end = uzw_stream_word_end(s, seen);
                lat[n_lat] = (now - t_start) / 1e3 - end;
                lat_audio[n_lat] = uzw_stream_received(s) - end;
                n_lat++;
                size_t jl = strlen(joined);
                snprintf(joined + jl, sizeof joined - jl, "%s ", uzw_stream_word_text(s, seen));
            }
            if (done) break;
        }
        norm(joined, streamed, sizeof streamed);
        double e = wer(offline, streamed);
        double dur = (double)n / 16000;
        printf("| %s | %.1f | %d | %.3f | %d | %.2f |\n", argv[f], dur, uzw_stream_n_words(s), e, uzw_stream_n_passes(s),
               uzw_stream_pass_ms(s) / 1e3 / dur);
        audio_s += dur;
        pass_ms += uzw_stream_pass_ms(s);
        werr_sum += e;
        n_files++;
        uzw_stream_free(s);
        free(pcm);
    }
    if (n_lat) {
        double l50 = bench_median(lat, n_lat);
        double l95 = lat[(int)(0.95 * (n_lat - 1))];
        double a50 = bench_median(lat_audio, n_lat);
        double a95 = lat_audio[(int)(0.95 * (n_lat - 1))];
        printf("\n%d final words: latency from spoken to final p50 %.2f s, p95 %.2f s; without compute p50 %.2f s, p95 %.2f s;\n"
               "decoding passes take %.2f s per second of audio; mean WER of the streamed text vs offline %.3f\n",
               n_lat, l50, l95, a50, a95, pass_ms / 1e3 / audio_s, werr_sum / n_files);
    }
    free(lat);
    free(lat_audio);
    uzw_context_free(ctx);
    uzw_model_free(m);
    return 0;
}
