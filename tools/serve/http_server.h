/* http_server.h - the HTTP front end of `uzwhisper serve` (libwebsockets, one service thread; the
 * transcriptions run on a pool of worker threads, each with its own decoding context over the
 * shared model; docs/http.md):
 *   GET  /health                    liveness
 *   GET  /ready                     readiness: 200 or 503 from the ready callback
 *   GET  /metrics                   Prometheus text of the registry
 *   POST /transcribe                one audio file (multipart "file", or the raw body), language_hint
 *   POST /transcribe/batch          several files in one multipart form
 *   POST /v1/audio/transcriptions   OpenAI-compatible
 *   GET  /ws/transcribe             WebSocket carrying uzw-stream/1 (docs/protocol.md section 6)
 * The POST endpoints and the WebSocket need `Authorization: Bearer <API key or HS256 JWT>` when the
 * server has credentials (the WebSocket may instead send the key in its HELLO); without it: 401 and
 * nothing is read or run. Limits answer, never drop: 408 (upload too slow), 411 (no length), 413
 * (upload or audio too large), 429 (queue full), 503 (stopping). */
#ifndef UZS_HTTP_SERVER_H
#define UZS_HTTP_SERVER_H

#include <stddef.h>

#include "metrics_registry.h"
#include "server.h"

typedef struct {
    const char *bind_addr;          /* "0.0.0.0" or NULL: every interface */
    int port;                       /* 0: any free port (uzs_http_port says which) */
    uzs_metrics *registry;          /* rendered at /metrics; NULL: 404 there */
    uzs_server_metrics *metrics;    /* requests counted; NULL: not */
    int (*ready)(void *user);       /* 1 ready, 0 not; NULL: always ready */
    void *user;
    void (*on_scrape)(void *user);  /* before /metrics is rendered (gauges read on demand); NULL: none */
    /* transcription: NULL server = the POST endpoints and the WebSocket answer 503 */
    uzs_server *server;             /* model, auth, languages, adapters, threads, device, limits; the
                                       WebSocket streams are its streams (max_connections) */
    size_t max_upload_bytes;        /* one request's body (default 100 MiB): more is 413 */
    int max_queue;                  /* requests waiting for a worker (default 64): more is 429 */
    double upload_timeout_s;        /* a request's whole body must arrive within this (default 300 s):
                                       a client trickling bytes gets 408; silence for 30 s closes */
    int workers;                    /* transcriptions at once (0: the server's max_passes; -1: none,
                                       every request that passes the checks gets 429: the front end
                                       alone, for the fuzzer) */
} uzs_http_config;

typedef struct uzs_http uzs_http;

int uzs_http_start(const uzs_http_config *c, uzs_http **out, char *err, size_t err_size);
int uzs_http_port(const uzs_http *h);
/* Requests queued or running now. */
int uzs_http_busy(uzs_http *h);
/* From now on new requests and WebSockets get 503 (SIGTERM: call before stopping the stream
 * server, whose WebSocket streams still need this front end to finish). */
void uzs_http_refuse_new(uzs_http *h);
/* Stop (before the stream server: the workers use its slots): new requests get 503, queued and running ones are answered (up to drain_s seconds), then
 * the service thread ends and everything is freed. */
void uzs_http_stop(uzs_http *h, double drain_s);

#endif
