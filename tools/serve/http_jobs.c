/* http_jobs.c - the transcription requests of the HTTP front end (http_internal.h): a bounded queue
 * (a full queue is a 429, never a wait without end) and a pool of worker threads, each with its own
 * decoding context over the shared model. A worker runs a request inside one of the stream
 * server's pass slots (http_transcribe.c), so file requests and live streams share the cores. The
 * answer goes back to the libwebsockets service thread through the done list and
 * lws_cancel_service; a request whose client left is freed by whoever holds it last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "serve_stream.h" /* uzs_server_config_of */

static void queue_depth(uzs_http *h, double delta) {
    if (h->c.metrics) uzs_metric_add(h->c.metrics->queue_depth, NULL, delta);
}

static void *worker(void *p) {
    uzs_http *h = p;
    const uzs_server_config *sc = uzs_server_config_of(h->c.server);
    uzw_context *ctx = NULL;
    if (uzw_context_create(sc->model, &ctx) == UZW_OK && sc->device && strcmp(sc->device, "cpu") != 0 &&
        uzw_context_set_device(ctx, sc->device) != UZW_OK)
        fprintf(stderr, "uzwhisper: HTTP worker: %s (its requests run on the CPU)\n", uzw_last_error(ctx));
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->queue_head && !h->quit) pthread_cond_wait(&h->cv, &h->mu);
        uzs_http_job *j = h->queue_head;
        if (!j) break; /* quit, and nothing left to answer */
        h->queue_head = j->next;
        if (!h->queue_head) h->queue_tail = NULL;
        h->n_queued--;
        queue_depth(h, -1);
        j->next = NULL;
        j->state = UZS_JOB_RUNNING;
        h->n_running++;
        int quitting = h->quit;
        pthread_mutex_unlock(&h->mu);
        if (quitting) uzs_http_answer_error(j, 503, "unavailable", "the server stopped before this request's turn");
        else if (ctx) uzs_http_transcribe(h, ctx, j);
        else uzs_http_answer_error(j, 500, "internal", "out of memory for a decoding context");
        pthread_mutex_lock(&h->mu);
        j->state = UZS_JOB_DONE;
        h->n_running--;
        if (j->orphan) {
            uzs_http_job_free(j); /* the client left while it ran */
        } else {
            j->next = h->done;
            h->done = j;
            lws_cancel_service(h->ctx);
        }
    }
    pthread_mutex_unlock(&h->mu);
    uzw_context_free(ctx);
    return NULL;
}

int uzs_http_jobs_start(uzs_http *h, char *err, size_t es) {
    if (!h->c.server || h->c.workers < 0) return 0; /* no transcription, or the front end alone (429s) */
    h->n_workers = h->c.workers > 0 ? h->c.workers : uzs_server_config_of(h->c.server)->max_passes;
    h->workers = calloc((size_t)h->n_workers, sizeof *h->workers);
    if (!h->workers) return snprintf(err, es, "out of memory"), -1;
    for (; h->workers_started < h->n_workers; h->workers_started++)
        if (pthread_create(&h->workers[h->workers_started], NULL, worker, h) != 0) {
            snprintf(err, es, "cannot start HTTP worker %d", h->workers_started + 1);
            uzs_http_jobs_stop(h);
            return -1;
        }
    return 0;
}

void uzs_http_jobs_stop(uzs_http *h) {
    pthread_mutex_lock(&h->mu);
    h->quit = 1; /* workers answer what is queued, then leave */
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    for (int i = 0; i < h->workers_started; i++) pthread_join(h->workers[i], NULL);
    free(h->workers);
    h->workers = NULL;
    h->workers_started = 0;
}

int uzs_http_jobs_submit(uzs_http *h, uzs_http_job *j) {
    pthread_mutex_lock(&h->mu);
    int ok = !h->quit && h->workers_started > 0 && h->n_queued < h->c.max_queue;
    if (ok) {
        j->state = UZS_JOB_QUEUED;
        j->next = NULL;
        if (h->queue_tail) h->queue_tail->next = j;
        else h->queue_head = j;
        h->queue_tail = j;
        h->n_queued++;
        queue_depth(h, +1);
        pthread_cond_signal(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return ok ? 0 : -1;
}

int uzs_http_jobs_abandon(uzs_http *h, uzs_http_job *j) {
    int handed = 1;
    pthread_mutex_lock(&h->mu);
    if (j->state == UZS_JOB_QUEUED) { /* never started: unlink and free now */
        uzs_http_job **pp = &h->queue_head, *prev = NULL;
        while (*pp && *pp != j) prev = *pp, pp = &(*pp)->next;
        if (*pp) *pp = j->next;
        if (h->queue_tail == j) h->queue_tail = prev;
        h->n_queued--;
        queue_depth(h, -1);
        uzs_http_job_free(j);
    } else if (j->state == UZS_JOB_RUNNING) {
        __atomic_store_n(&j->orphan, 1, __ATOMIC_RELAXED); /* its transcription stops at the next window; its worker frees it */
    } else if (j->state == UZS_JOB_DONE) { /* answered but not (fully) sent: maybe on the done list */
        uzs_http_job **pp = &h->done;
        while (*pp && *pp != j) pp = &(*pp)->next;
        if (*pp) *pp = j->next;
        uzs_http_job_free(j);
    } else {
        handed = 0;
    }
    pthread_mutex_unlock(&h->mu);
    return handed;
}

void uzs_http_jobs_collect(uzs_http *h) {
    pthread_mutex_lock(&h->mu);
    uzs_http_job *j = h->done;
    h->done = NULL;
    pthread_mutex_unlock(&h->mu);
    while (j) { /* the service thread owns answered jobs again; their wsi is alive (not orphaned) */
        uzs_http_job *next = j->next;
        j->next = NULL;
        lws_callback_on_writable(j->wsi);
        j = next;
    }
}

int uzs_http_busy(uzs_http *h) {
    if (!h) return 0;
    pthread_mutex_lock(&h->mu);
    int n = h->n_queued + h->n_running;
    pthread_mutex_unlock(&h->mu);
    return n;
}
