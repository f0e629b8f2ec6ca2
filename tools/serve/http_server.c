/* http_server.c - the HTTP front end of `uzwhisper serve` on libwebsockets (http_server.h): so far
 * GET /health, GET /ready and GET /metrics; every other path is answered 404, and the transcription
 * endpoints of issue 8 (POST /transcribe, ...) 501 until they are built. */
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h" /* uzw_errf */
#include "http_server.h"

struct uzs_http {
    uzs_http_config c;
    struct lws_context *ctx;
    pthread_t thr;
    atomic_int stop;
    int port;
};

typedef struct { /* one HTTP transaction */
    char *body;
    size_t len;
} http_sess;

static const char *const planned[] = {"/transcribe", "/transcribe/batch", "/v1/audio/transcriptions", "/ws/transcribe"};

/* Route a GET/POST: status, content type and a malloc'ed body. */
static unsigned route(uzs_http *h, const char *uri, const char **ctype, char **body, size_t *len) {
    *ctype = "application/json";
    if (!strcmp(uri, "/health")) {
        *body = strdup("{\"status\":\"ok\"}\n");
        if (h->c.metrics) uzs_server_metrics_request(h->c.metrics, "/health", "200", -1);
        *len = *body ? strlen(*body) : 0;
        return 200;
    }
    if (!strcmp(uri, "/ready")) {
        int ready = h->c.ready ? h->c.ready(h->c.user) : 1;
        *body = strdup(ready ? "{\"status\":\"ready\"}\n" : "{\"status\":\"not ready\"}\n");
        *len = *body ? strlen(*body) : 0;
        return ready ? 200 : 503;
    }
    if (!strcmp(uri, "/metrics") && h->c.registry) {
        *ctype = UZS_METRICS_CONTENT_TYPE;
        *body = uzs_metrics_render(h->c.registry, len);
        return *body ? 200 : 500;
    }
    for (size_t i = 0; i < sizeof planned / sizeof planned[0]; i++)
        if (!strcmp(uri, planned[i])) {
            *body = strdup("{\"error\":\"not_implemented\",\"message\":\"this endpoint is not built yet; stream over "
                           "raw TCP (docs/protocol.md)\"}\n");
            *len = *body ? strlen(*body) : 0;
            return 501;
        }
    *body = strdup("{\"error\":\"not_found\"}\n");
    *len = *body ? strlen(*body) : 0;
    if (h->c.metrics) uzs_server_metrics_request(h->c.metrics, "other", "404", -1);
    return 404;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    uzs_http *h = lws_context_user(lws_get_context(wsi));
    http_sess *s = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        const char *ctype;
        unsigned status = route(h, (const char *)in, &ctype, &s->body, &s->len);
        if (!s->body) return 1;
        unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
        if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)s->len, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!s || !s->body) return 0;
        unsigned char *buf = malloc(LWS_PRE + s->len);
        if (!buf) return -1;
        memcpy(buf + LWS_PRE, s->body, s->len);
        int n = lws_write(wsi, buf + LWS_PRE, s->len, LWS_WRITE_HTTP_FINAL);
        free(buf);
        free(s->body);
        s->body = NULL;
        if (n < 0 || lws_http_transaction_completed(wsi)) return -1;
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
        if (s) free(s->body), s->body = NULL;
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(http_sess), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service(void *p) {
    uzs_http *h = p;
    while (!atomic_load(&h->stop))
        if (lws_service(h->ctx, 0) < 0) break;
    return NULL;
}

int uzs_http_start(const uzs_http_config *c, uzs_http **out, char *err, size_t es) {
    *out = NULL;
    uzs_http *h = calloc(1, sizeof *h);
    if (!h) return uzw_errf(err, es, "out of memory");
    h->c = *c;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = c->port;
    info.iface = c->bind_addr && strcmp(c->bind_addr, "0.0.0.0") ? c->bind_addr : NULL;
    info.protocols = protocols;
    info.user = h;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        free(h);
        return uzw_errf(err, es, "cannot listen for HTTP on %s:%d", c->bind_addr ? c->bind_addr : "0.0.0.0", c->port);
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(h->ctx, "default");
    h->port = vh ? lws_get_vhost_listen_port(vh) : c->port;
    if (pthread_create(&h->thr, NULL, service, h) != 0) {
        lws_context_destroy(h->ctx);
        free(h);
        return uzw_errf(err, es, "cannot start the HTTP thread");
    }
    *out = h;
    return 0;
}

int uzs_http_port(const uzs_http *h) { return h ? h->port : -1; }

void uzs_http_stop(uzs_http *h) {
    if (!h) return;
    atomic_store(&h->stop, 1);
    lws_cancel_service(h->ctx);
    pthread_join(h->thr, NULL);
    lws_context_destroy(h->ctx);
    free(h);
}
