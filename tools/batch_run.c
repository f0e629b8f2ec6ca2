/* batch_run.c - one batch from start to summary: decide what is left to do (resume), size the
 * worker pool, run it while the main thread watches for SIGINT/SIGTERM and redraws the progress
 * line, and report.
 *
 * Signals: SIGINT and SIGTERM are blocked in every thread before the workers start, and only the
 * main thread takes them (sigtimedwait), so no handler and no global flag are needed. The first
 * one stops the hand-out of new files; the files in flight finish and are written; the exit code
 * is then 130. A second one ends the process at once (_exit(130)); the temporaries it leaves are
 * removed by the next run. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_pool.h"
#include "cli.h"

static int n_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 4096 ? (int)n : 1;
}

/* Formats still to write per item; returns how many items need work. */
static size_t plan(batch_pool *P) {
    const batch_config *cfg = P->cfg;
    size_t todo = 0;
    for (size_t i = 0; i < P->items->n; i++) {
        const batch_item *it = &P->items->v[i];
        if (!cfg->output_dir) P->todo[i] = 1;
        else P->todo[i] = cfg->resume ? batch_missing_formats(cfg->output_dir, it->stem, cfg->formats) : cfg->formats;
        if (P->todo[i]) todo++;
        else if (cfg->verbose) fprintf(stderr, "uzwhisper: skip %s (its outputs are complete)\n", it->path);
    }
    return todo;
}

static void summary(const batch_pool *P, size_t to_do, int workers, int threads) {
    const batch_config *cfg = P->cfg;
    const batch_summary *s = P->sum;
    if (!cfg->output_dir) {
        if (s->failed && s->total > 1) fprintf(stderr, "uzwhisper: %zu of %zu files failed\n", s->failed, s->total);
        if (s->not_started) fprintf(stderr, "uzwhisper: %s%zu files not started\n", s->interrupted ? "interrupted: " : "", s->not_started);
        return;
    }
    long t = (long)(s->wall_s + 0.5);
    fprintf(stderr,
            "uzwhisper: summary: %zu files: %zu transcribed, %zu skipped (already complete), %zu failed, %zu not started; "
            "%.2f h of audio in %ld:%02ld:%02ld (%.1fx realtime, %d workers x %d threads)\n",
            s->total, s->done, s->skipped, s->failed, s->not_started, s->audio_s / 3600.0, t / 3600, t / 60 % 60, t % 60,
            s->wall_s > 0 ? s->audio_s / s->wall_s : 0.0, to_do ? workers : 0, to_do ? threads : 0);
    if (s->failed)
        fprintf(stderr, "uzwhisper: %zu of %zu files failed%s%s\n", s->failed, s->total, P->fails.fd >= 0 ? "; see " : "",
                P->fails.fd >= 0 ? P->fails.path : "");
    if (s->interrupted)
        fprintf(stderr, "uzwhisper: interrupted: run the same command again to do the %zu files not started\n", s->not_started);
}

/* Start the workers and wait for them, taking SIGINT/SIGTERM meanwhile. Returns how many started. */
static int run_workers(batch_pool *P, int workers) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Blocked for good: a signal left pending after the workers end is taken below, and the process
     * exits soon after this returns. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t *tid = calloc((size_t)workers, sizeof *tid);
    if (!tid) return 0;
    int started = 0;
    atomic_store(&P->workers_left, workers);
    for (int w = 0; w < workers; w++)
        if (pthread_create(&tid[started], NULL, batch_worker, P) == 0) started++;
    if (started < workers) {
        atomic_fetch_sub(&P->workers_left, workers - started);
        fprintf(stderr, "uzwhisper: warning: started only %d of %d workers\n", started, workers);
    }
    while (atomic_load(&P->workers_left) > 0) {
        struct timespec wait = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &wait);
        pthread_mutex_lock(&P->mu);
        if (sig > 0) {
            if (P->sum->interrupted) {
                batch_progress_note(&P->prog, "\nuzwhisper: %s again: stopping now; the files in flight are redone by the next run\n",
                                    sig == SIGINT ? "SIGINT" : "SIGTERM");
                _exit(130);
            }
            P->sum->interrupted = 1;
            atomic_store(&P->stop, 1);
            batch_progress_note(&P->prog,
                                "\nuzwhisper: %s: finishing the %zu files in flight, then stopping (press Ctrl-C again to stop at once)\n",
                                sig == SIGINT ? "SIGINT" : "SIGTERM", P->taken - P->sum->done - P->sum->failed);
        }
        batch_progress_tick(&P->prog, 0);
        pthread_mutex_unlock(&P->mu);
    }
    for (int w = 0; w < started; w++) pthread_join(tid[w], NULL);
    free(tid);
    struct timespec none = {0, 0};
    while (sigtimedwait(&set, NULL, &none) > 0) P->sum->interrupted = 1;
    return started;
}

int batch_run(const batch_config *cfg, const uzw_model *model, batch_list *items, batch_summary *sum) {
    memset(sum, 0, sizeof *sum);
    sum->total = items->n;
    batch_pool P;
    memset(&P, 0, sizeof P);
    P.cfg = cfg;
    P.model = model;
    P.items = items;
    P.sum = sum;
    P.fails.fd = -1;
    P.todo = calloc(items->n ? items->n : 1, sizeof *P.todo);
    P.out_text = calloc(items->n ? items->n : 1, sizeof *P.out_text);
    P.finished = calloc(items->n ? items->n : 1, 1);
    int code = 0;
    if (!P.todo || !P.out_text || !P.finished || pthread_mutex_init(&P.mu, NULL) != 0) {
        fprintf(stderr, "uzwhisper: error: out of memory\n");
        free(P.todo); free(P.out_text); free(P.finished);
        sum->internal_error = 1;
        return UZW_EXIT_INTERNAL;
    }
    double t0 = batch_now();
    size_t to_do = plan(&P);
    sum->skipped = items->n - to_do;

    int cores = n_cores();
    /* one file: 1 worker with every core; many: fill the cores with workers (of --threads each if given) */
    int fill = cfg->threads > 0 ? (cores / cfg->threads > 0 ? cores / cfg->threads : 1) : cores;
    int workers = cfg->workers > 0 ? cfg->workers : (to_do <= 1 ? 1 : (int)(to_do < (size_t)fill ? to_do : (size_t)fill));
    if (to_do && (size_t)workers > to_do) workers = (int)to_do;
    if (workers < 1) workers = 1;
    int threads = cfg->threads > 0 ? cfg->threads : (cores / workers > 0 ? cores / workers : 1);
    P.params = cfg->params;
    P.params.n_threads = threads;

    char err[4096];
    if (cfg->failures_path && batch_failures_open(&P.fails, cfg->failures_path, err, sizeof err) != 0) {
        fprintf(stderr, "uzwhisper: error: %s\n", err);
        code = UZW_EXIT_INTERNAL;
        goto out;
    }
    if (cfg->output_dir)
        fprintf(stderr, "uzwhisper: %zu files: %zu to transcribe, %zu already complete; %d workers x %d threads -> %s\n",
                items->n, to_do, sum->skipped, to_do ? workers : 0, to_do ? threads : 0, cfg->output_dir);
    batch_progress_start(&P.prog, cfg->output_dir ? cfg->live_progress : 0, cfg->verbose, to_do, workers);
    if (to_do && run_workers(&P, workers) == 0) {
        fprintf(stderr, "uzwhisper: error: cannot start worker threads\n");
        sum->internal_error = 1;
    }
    if (cfg->output_dir && to_do) batch_progress_end(&P.prog);
    if (!cfg->output_dir) batch_flush_stdout(&P, 1);
    sum->wall_s = batch_now() - t0;
    sum->not_started = to_do - sum->done - sum->failed;
    summary(&P, to_do, workers, threads);
    code = sum->interrupted ? 130 : sum->internal_error ? UZW_EXIT_INTERNAL : (sum->failed || sum->not_started) ? UZW_EXIT_INPUT : 0;
out:
    batch_failures_close(&P.fails);
    for (size_t i = 0; i < items->n; i++) free(P.out_text[i]);
    free(P.out_text);
    free(P.finished);
    free(P.todo);
    pthread_mutex_destroy(&P.mu);
    return code;
}
