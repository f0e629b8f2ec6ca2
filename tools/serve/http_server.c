/* http_server.c - the HTTP front end of `uzwhisper serve` on libwebsockets (http_server.h): one
 * service thread routes requests, checks credentials before reading a body, reads uploads
 * (http_form.c), queues transcriptions for the workers (http_jobs.c) and writes their answers; the
 * WebSocket /ws/transcribe is bridged to the stream server (http_ws.c). */
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "core/util.h" /* uzw_errf, uzw_now_ms */
#include "http_internal.h"
#include "serve_stream.h" /* uzs_server_config_of */

typedef struct { /* one connection's state (libwebsockets' per-session memory) */
    uzs_http_job *job;   /* the request being read, run or answered; NULL between requests */
    uzs_ws_link *link;   /* a WebSocket's bridge */
    int headers_sent;
} http_sess;

static uzs_http_job *new_job(uzs_http *h, struct lws *wsi, uzs_http_endpoint ep) {
    uzs_http_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->metrics = h->c.metrics;
    if (j->metrics) uzs_server_metrics_connection(j->metrics, "http", +1);
    j->ep = ep;
    j->ep_name = ep < UZS_EP_N ? uzs_http_endpoint_name(ep) : "other";
    j->wsi = wsi;
    j->t0 = uzw_now_s();
    return j;
}

static void answer_text(uzs_http_job *j, unsigned status, const char *ctype, const char *text) {
    char *b = strdup(text);
    uzs_http_answer(j, status, ctype, b, b ? strlen(b) : 0);
}

/* Count a finished request (endpoint name, status) in the metrics. */
static void count(uzs_http *h, const char *endpoint, unsigned status, double seconds) {
    if (!h->c.metrics) return;
    char st[8];
    snprintf(st, sizeof st, "%u", status);
    uzs_server_metrics_request(h->c.metrics, endpoint, st, seconds);
}

/* ---------------------------------------------------------------- GET endpoints */

static uzs_http_job *route_get(uzs_http *h, struct lws *wsi, const char *uri) {
    uzs_http_job *j = new_job(h, wsi, UZS_EP_N);
    if (!j) return NULL;
    static const char *const known[] = {"/health", "/ready", "/metrics"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(uri, known[i])) j->ep_name = known[i];
    if (!strcmp(uri, "/health")) {
        answer_text(j, 200, "application/json", "{\"status\":\"ok\"}\n");
    } else if (!strcmp(uri, "/ready")) {
        int ready = (h->c.ready ? h->c.ready(h->c.user) : 1) && !atomic_load(&h->stop);
        answer_text(j, ready ? 200 : 503, "application/json", ready ? "{\"status\":\"ready\"}\n" : "{\"status\":\"not ready\"}\n");
    } else if (!strcmp(uri, "/metrics") && h->c.registry) {
        if (h->c.on_scrape) h->c.on_scrape(h->c.user);
        size_t len = 0;
        char *body = uzs_metrics_render(h->c.registry, &len);
        if (body) uzs_http_answer(j, 200, UZS_METRICS_CONTENT_TYPE, body, len);
        else uzs_http_answer_error(j, 500, "internal", "out of memory");
    } else if (!strcmp(uri, "/transcribe") || !strcmp(uri, "/transcribe/batch") || !strcmp(uri, "/v1/audio/transcriptions")) {
        uzs_http_answer_error(j, 405, "method_not_allowed", "%s takes POST with the audio (docs/http.md)", uri);
    } else {
        uzs_http_answer_error(j, 404, "not_found", "no such endpoint (docs/http.md)");
    }
    return j;
}

/* ---------------------------------------------------------------- POST endpoints */

/* The request's credentials: 0 when they pass (or auth is off), else 401 with the answer set. */
static int authorize(uzs_http *h, struct lws *wsi, uzs_http_job *j) {
    const uzs_server_config *sc = uzs_server_config_of(h->c.server);
    char cred[UZS_AUTH_MAX_CREDENTIAL_LEN + 1] = "";
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > UZS_AUTH_MAX_CREDENTIAL_LEN) snprintf(cred, sizeof cred, "x"); /* too long: malformed, not truncated */
    else if (n > 0 && lws_hdr_copy(wsi, cred, (int)sizeof cred, WSI_TOKEN_HTTP_AUTHORIZATION) < 0) cred[0] = 0;
    uzs_auth_result ar;
    uzs_auth_status as = uzs_auth_check(sc->auth, cred[0] ? cred : NULL, time(NULL), &ar);
    memset(cred, 0, sizeof cred);
    if (as == UZS_AUTH_OK) return 0;
    if (h->c.metrics) uzs_metric_add(h->c.metrics->auth_failures, (const char *[]){uzs_auth_status_name(as)}, 1);
    if (as == UZS_AUTH_INTERNAL) {
        uzs_http_answer_error(j, 500, "internal", "%s", ar.message);
        return -1;
    }
    uzs_http_answer_error(j, 401, "unauthorized", "%s", ar.message);
    snprintf(j->extra_name, sizeof j->extra_name, "WWW-Authenticate:");
    snprintf(j->extra_value, sizeof j->extra_value, "Bearer realm=\"uzwhisper\"");
    return -1;
}

static uzs_http_job *route_post(uzs_http *h, struct lws *wsi, const char *uri) {
    uzs_http_endpoint ep = !strcmp(uri, "/transcribe")               ? UZS_EP_TRANSCRIBE
                           : !strcmp(uri, "/transcribe/batch")        ? UZS_EP_BATCH
                           : !strcmp(uri, "/v1/audio/transcriptions") ? UZS_EP_OPENAI
                                                                      : UZS_EP_N;
    uzs_http_job *j = new_job(h, wsi, ep);
    if (!j) return NULL;
    j->close_after = 1; /* an answer before the body was read: close, the rest of it is not read */
    if (ep == UZS_EP_N) {
        uzs_http_answer_error(j, 404, "not_found", "no such endpoint (docs/http.md)");
        return j;
    }
    if (!h->c.server || atomic_load(&h->stop)) {
        uzs_http_answer_error(j, 503, "unavailable", h->c.server ? "the server is stopping" : "this server does not transcribe");
        return j;
    }
    if (authorize(h, wsi, j) != 0) return j; /* nothing of the body is read */
    /* the body must come with its length: libwebsockets 4.1 reads no chunked request body (it would
     * wait for a completion that never comes), and an empty body has nothing to transcribe */
    char cl[32] = "";
    if (lws_hdr_copy(wsi, cl, (int)sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        uzs_http_answer_error(j, 411, "length_required", "send the body with a Content-Length (chunked uploads are not read)");
        return j;
    }
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (end == cl || *end) {
        uzs_http_answer_error(j, 400, "bad_request", "Content-Length is not a number");
        return j;
    }
    if (n == 0) {
        uzs_http_answer_error(j, 400, "bad_request", "the request body is empty: no audio file");
        return j;
    }
    if (n > uzs_http_max_body(h)) {
        uzs_http_answer_error(j, 413, "too_large", "the request body of %llu bytes is over this server's limit of %zu bytes", n,
                              h->c.max_upload_bytes);
        return j;
    }
    if (uzs_http_form_begin(wsi, j) != 0) {
        uzs_http_answer_error(j, 500, "internal", "out of memory");
        return j;
    }
    j->status = 0; /* reading: the answer comes later */
    j->close_after = 0;
    return j;
}

/* The body is complete: check it and queue it. */
static void body_done(uzs_http *h, uzs_http_job *j) {
    char err[256];
    if (uzs_http_form_end(j, err, sizeof err) != 0) {
        uzs_http_answer_error(j, 400, "bad_request", "%s", err);
        return;
    }
    if (uzs_http_check(h, j) != 0) return;
    if (uzs_http_jobs_submit(h, j) != 0) {
        if (atomic_load(&h->stop)) {
            uzs_http_answer_error(j, 503, "unavailable", "the server is stopping");
        } else {
            uzs_http_answer_error(j, 429, "overloaded", "%d requests are waiting already; try again later", h->c.max_queue);
            snprintf(j->extra_name, sizeof j->extra_name, "Retry-After:");
            snprintf(j->extra_value, sizeof j->extra_value, "5");
        }
    }
}

static void body_over(uzs_http *h, uzs_http_job *j) {
    if (j->over == 2) uzs_http_answer_error(j, 413, "too_large", "more than %d files in one request", UZS_HTTP_MAX_FILES);
    else if (j->over) uzs_http_answer_error(j, 413, "too_large", "the upload is over this server's limit of %zu bytes", h->c.max_upload_bytes);
    else uzs_http_answer_error(j, 400, "bad_request", "the request body could not be parsed as a form");
    j->close_after = 1;
}

/* ---------------------------------------------------------------- writing an answer */

static int write_headers(struct lws *wsi, uzs_http_job *j) {
    unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, j->status, j->ctype, (lws_filepos_t)j->len, &p, end)) return -1;
    if (j->extra_name[0] && lws_add_http_header_by_name(wsi, (const unsigned char *)j->extra_name,
                                                        (const unsigned char *)j->extra_value, (int)strlen(j->extra_value), &p, end))
        return -1;
    if (j->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end))
        return -1;
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* Write the next piece of the answer. 0: more to come or done and kept alive; -1: close. */
static int write_some(uzs_http *h, struct lws *wsi, http_sess *s) {
    uzs_http_job *j = s->job;
    if (!s->headers_sent) {
        if (write_headers(wsi, j) != 0) return -1;
        s->headers_sent = 1;
        if (j->len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    enum { CHUNK = 32768 };
    size_t n = j->len - j->sent < CHUNK ? j->len - j->sent : CHUNK;
    int final = j->sent + n == j->len;
    if (n) {
        unsigned char *buf = malloc(LWS_PRE + n);
        if (!buf) return -1;
        memcpy(buf + LWS_PRE, j->body + j->sent, n);
        int w = lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        free(buf);
        if (w < 0) return -1;
        j->sent += n;
    }
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    count(h, j->ep_name, j->status, j->ep == UZS_EP_N ? -1 : uzw_now_s() - j->t0);
    int close_after = j->close_after;
    uzs_http_job_free(j);
    s->job = NULL;
    s->headers_sent = 0;
    if (close_after) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---------------------------------------------------------------- the protocol callback */

static int is_get(struct lws *wsi) { return lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0; }

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    uzs_http *h = lws_context_user(lws_get_context(wsi));
    http_sess *s = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        if (!s) return -1;
        s->headers_sent = 0;
        s->job = is_get(wsi) ? route_get(h, wsi, (const char *)in) : route_post(h, wsi, (const char *)in);
        if (!s->job) return -1;
        if (s->job->status) lws_callback_on_writable(wsi); /* answered at once */
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (!s || !s->job) return -1;
        if (s->job->status) return 0; /* already answered (an error): ignore the rest */
        if (uzw_now_s() - s->job->t0 > h->c.upload_timeout_s) { /* a trickle: the idle timeout never fires */
            uzs_http_answer_error(s->job, 408, "timeout", "the upload took longer than %.0f s", h->c.upload_timeout_s);
            s->job->close_after = 1;
            lws_callback_on_writable(wsi);
            return 0;
        }
        if (uzs_http_form_feed(h, s->job, in, len) != 0) {
            body_over(h, s->job);
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!s || !s->job) return -1;
        if (!s->job->status) body_done(h, s->job);
        if (s->job->status) lws_callback_on_writable(wsi); /* else a worker answers it */
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!s || !s->job || !s->job->status) return 0;
        return write_some(h, wsi, s);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (s && s->job) {
            if (!uzs_http_jobs_abandon(h, s->job)) uzs_http_job_free(s->job);
            s->job = NULL;
        }
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        uzs_http_jobs_collect(h);
        uzs_http_ws_collect(h);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_TIMER:
    case LWS_CALLBACK_CLOSED:
        return uzs_http_ws_callback(h, wsi, reason, s ? &s->link : NULL, in, len);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(http_sess), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service(void *p) {
    uzs_http *h = p;
    while (atomic_load(&h->stop) < 2)
        if (lws_service(h->ctx, 0) < 0) break;
    return NULL;
}

int uzs_http_start(const uzs_http_config *c, uzs_http **out, char *err, size_t es) {
    *out = NULL;
    uzs_http *h = calloc(1, sizeof *h);
    if (!h) return uzw_errf(err, es, "out of memory");
    h->c = *c;
    if (!h->c.max_upload_bytes) h->c.max_upload_bytes = (size_t)100 << 20;
    if (h->c.max_queue <= 0) h->c.max_queue = 64;
    if (!(h->c.upload_timeout_s > 0)) h->c.upload_timeout_s = 300;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = c->port;
    info.iface = c->bind_addr && strcmp(c->bind_addr, "0.0.0.0") ? c->bind_addr : NULL;
    info.protocols = protocols;
    info.user = h;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 30; /* a request must come in within this (libwebsockets' idle timeouts) */
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        pthread_mutex_destroy(&h->mu), pthread_cond_destroy(&h->cv);
        free(h);
        return uzw_errf(err, es, "cannot listen for HTTP on %s:%d", c->bind_addr ? c->bind_addr : "0.0.0.0", c->port);
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(h->ctx, "default");
    h->port = vh ? lws_get_vhost_listen_port(vh) : c->port;
    if (uzs_http_jobs_start(h, err, es) != 0 || pthread_create(&h->thr, NULL, service, h) != 0) {
        if (!err[0]) uzw_errf(err, es, "cannot start the HTTP thread");
        uzs_http_jobs_stop(h);
        lws_context_destroy(h->ctx);
        pthread_mutex_destroy(&h->mu), pthread_cond_destroy(&h->cv);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

int uzs_http_port(const uzs_http *h) { return h ? h->port : -1; }

void uzs_http_refuse_new(uzs_http *h) {
    if (h) atomic_store(&h->stop, 1);
}

void uzs_http_stop(uzs_http *h, double drain_s) {
    if (!h) return;
    atomic_store(&h->stop, 1); /* new requests: 503 */
    double deadline = uzw_now_s() + drain_s;
    while (uzw_now_s() < deadline && uzs_http_busy(h) > 0) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    uzs_http_jobs_stop(h); /* workers answer what is left, then leave */
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL); /* let the service thread write the last answers */
    atomic_store(&h->stop, 2);
    lws_cancel_service(h->ctx);
    pthread_join(h->thr, NULL);
    lws_context_destroy(h->ctx); /* closes every connection: jobs and links are freed in CLOSED */
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}
