/* http_server.h - the HTTP front end of `uzwhisper serve` (libwebsockets, one service thread):
 * GET /health (liveness), GET /ready (readiness: 200 or 503 from the ready callback), GET /metrics
 * (Prometheus text of the registry). The transcription endpoints answer 501 until they are built. */
#ifndef UZS_HTTP_SERVER_H
#define UZS_HTTP_SERVER_H

#include <stddef.h>

#include "metrics_registry.h"

typedef struct {
    const char *bind_addr;          /* "0.0.0.0" or NULL: every interface */
    int port;                       /* 0: any free port (uzs_http_port says which) */
    uzs_metrics *registry;          /* rendered at /metrics; NULL: 404 there */
    uzs_server_metrics *metrics;    /* requests counted; NULL: not */
    int (*ready)(void *user);       /* 1 ready, 0 not; NULL: always ready */
    void *user;
} uzs_http_config;

typedef struct uzs_http uzs_http;

int uzs_http_start(const uzs_http_config *c, uzs_http **out, char *err, size_t err_size);
int uzs_http_port(const uzs_http *h);
void uzs_http_stop(uzs_http *h);

#endif
