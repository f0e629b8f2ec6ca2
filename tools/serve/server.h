/*
 * server.h - `uzwhisper serve`: live transcription for many clients over one loaded model.
 *
 * The raw-TCP front end (tcp_server.c) speaks uzw-stream/1 (protocol.h, docs/protocol.md): one
 * thread per connection reads frames, an engine stream (uzw_stream, docs/streaming.md) turns the
 * audio into final words and interim text, and JSON lines go back. Every connection has its own
 * decoding context over the shared model; decoding passes of all connections share `max_passes`
 * slots (the CPU worker pool: a pass waits for a free slot, so N streams share the cores instead of
 * thrashing them). Limits end a stream with an error line, never silently: connections over
 * max_connections get "overloaded", a silent client "timeout" after idle_timeout_s, a stream longer
 * than max_audio_s of audio or max_session_s of wall time "too_large" / "timeout".
 */
#ifndef UZS_SERVER_H
#define UZS_SERVER_H

#include <stddef.h>

#include "auth.h"
#include "metrics_registry.h"
#include "uzwhisper.h"

typedef struct {
    const uzw_model *model;
    const char *model_type;          /* for the ready line ("base")                               */
    const uzs_auth *auth;            /* NULL or no credentials configured: auth off              */
    uzs_server_metrics *metrics;     /* NULL: none                                               */
    const char *bind_addr;           /* "0.0.0.0"; "127.0.0.1" for tests                         */
    int tcp_port;                    /* 0: any free port (uzs_server_tcp_port says which)        */
    int max_connections;             /* streams at once (default 16)                             */
    int max_passes;                  /* decoding passes at once (default: cores / threads_per_pass) */
    int threads_per_pass;            /* CPU threads of one pass (default 2)                      */
    double idle_timeout_s;           /* no frame for this long ends the stream (default 30)      */
    double max_session_s;            /* wall time of one stream (default 3600)                   */
    double max_audio_s;              /* audio of one stream (default 3600)                       */
    float step_s;                    /* audio between decoding passes (default 1.0)              */
    int beam_size;                   /* decoding passes: 1 (greedy, default) or more             */
    int max_tokens;                  /* tokens per pass window (0: the engine's default, 224)    */
    const char *default_languages;   /* allowed languages when the client names none ("uz,ru")   */
    const char *device;              /* "cpu" (NULL) or "cuda" / "cuda:N": each stream's context  */
    /* adapters a client may name in its HELLO ("adapter"); NULL: none */
    const uzw_adapter *(*find_adapter)(void *user, const char *name);
    void *adapter_user;
} uzs_server_config;

/* Defaults as documented above (model and the rest NULL/0). */
uzs_server_config uzs_server_default_config(void);

typedef struct uzs_server uzs_server;

/* Bind and listen, then accept on a thread of its own. 0, or -1 with a message. */
int uzs_server_start(const uzs_server_config *c, uzs_server **out, char *err, size_t err_size);
/* The TCP port it listens on. */
int uzs_server_tcp_port(const uzs_server *s);
/* Streams now open. */
int uzs_server_active(const uzs_server *s);
/* Stop accepting (new connections get "shutting_down") and let open streams finish for up to
 * drain_s seconds (then they end with "shutting_down"); the pass slots keep working, for the HTTP
 * front end's requests still running. Once only (later calls return at once). */
void uzs_server_drain(uzs_server *s, double drain_s);
/* Drain (if not done yet), then free everything. Stop the HTTP front end (uzs_http_stop) before:
 * its workers use this server's model, settings and slots. */
void uzs_server_stop(uzs_server *s, double drain_s);

#endif
