/* batch_progress.c - what the operator sees while a batch runs, on stderr.
 *   terminal:      one line redrawn in place (\r, erase to end of line) at most twice a second:
 *                  [done/total] F failed | 12.5 min audio | X.Xx realtime | ETA H:MM:SS
 *                  (audio in minutes below an hour, then "3.42 h")
 *   not terminal:  one log line per finished file, e.g.
 *                  uzwhisper: [12/300] ok a/b.wav (6.1 s audio in 0.42 s)
 *                  uzwhisper: [13/300] FAILED c.wav: not an audio file ...
 * "realtime" is seconds of audio transcribed per second of wall time since the start (higher is
 * faster); the ETA is the files left times the mean wall time per finished file so far. The caller
 * serialises the calls (one mutex). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "batch.h"

double batch_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void hms(char *b, size_t n, double s) {
    if (!(s >= 0) || s > 1e8) { snprintf(b, n, "--:--:--"); return; }
    long t = (long)(s + 0.5);
    snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

void batch_progress_start(batch_progress *p, int live, int verbose, size_t total, int workers) {
    p->live = live;
    p->verbose = verbose;
    p->t0 = batch_now();
    p->last_draw = 0;
    p->total = total;
    p->done = p->failed = 0;
    p->audio_s = 0;
    p->workers = workers;
    p->drawn = 0;
}

/* "12.5 min" below an hour, "3.42 h" above */
static void audio_amount(char *b, size_t n, double s) {
    if (s < 3600) snprintf(b, n, "%.1f min", s / 60.0);
    else snprintf(b, n, "%.2f h", s / 3600.0);
}

static void draw(batch_progress *p) {
    double now = batch_now(), el = now - p->t0;
    size_t fin = p->done + p->failed;
    char eta[32], audio[32];
    hms(eta, sizeof eta, fin ? el / (double)fin * (double)(p->total - fin) : -1);
    audio_amount(audio, sizeof audio, p->audio_s);
    fprintf(stderr, "\r\033[K[%zu/%zu] %zu failed | %s audio | %.1fx realtime | ETA %s", fin, p->total, p->failed, audio,
            el > 0 ? p->audio_s / el : 0.0, eta);
    fflush(stderr);
    p->last_draw = now;
    p->drawn = 1;
}

static void clear_line(batch_progress *p) {
    if (p->live && p->drawn) {
        fputs("\r\033[K", stderr);
        p->drawn = 0;
    }
}

void batch_progress_file(batch_progress *p, const char *path, int ok, double audio_s, double wall_s, const char *msg) {
    if (ok) {
        p->done++;
        p->audio_s += audio_s;
    } else {
        p->failed++;
    }
    size_t fin = p->done + p->failed;
    if (!p->live) {
        if (ok) fprintf(stderr, "uzwhisper: [%zu/%zu] ok %s (%.1f s audio in %.2f s)\n", fin, p->total, path, audio_s, wall_s);
        else fprintf(stderr, "uzwhisper: [%zu/%zu] FAILED %s\n", fin, p->total, msg ? msg : path);
        fflush(stderr);
        return;
    }
    if (!ok) {
        clear_line(p);
        fprintf(stderr, "uzwhisper: FAILED %s\n", msg ? msg : path);
    } else if (p->verbose) {
        clear_line(p);
        fprintf(stderr, "uzwhisper: ok %s (%.1f s audio in %.2f s)\n", path, audio_s, wall_s);
    }
    batch_progress_tick(p, !ok || p->verbose);
}

void batch_progress_tick(batch_progress *p, int force) {
    if (!p->live) return;
    if (force || batch_now() - p->last_draw >= 0.5) draw(p);
}

void batch_progress_note(batch_progress *p, const char *fmt, ...) {
    clear_line(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    p->last_draw = 0;
}

void batch_progress_end(batch_progress *p) {
    if (!p->live) return;
    draw(p);
    fputc('\n', stderr);
    p->drawn = 0;
}
