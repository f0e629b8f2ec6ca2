/* serve_stream.h - one live stream of `uzwhisper serve`, independent of its transport (raw TCP here,
 * WebSocket later): HELLO checked (auth, adapter, languages), audio converted and resampled to
 * 16 kHz, pushed into an engine stream in step-sized pieces inside a pass slot, and the engine's
 * final words and interim text turned into protocol lines. */
#ifndef UZS_SERVE_STREAM_H
#define UZS_SERVE_STREAM_H

#include <samplerate.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "server.h"

/* Send one line (takes ownership of it; NULL means out of memory): 0, or -1 when the peer is gone. */
typedef int (*uzs_send_fn)(void *user, char *line, size_t len);

typedef struct {
    uzs_server *server;
    char session[32];
    const char *endpoint;        /* metrics name of the transport: "tcp" (default) or "/ws/transcribe" */
    int pre_auth;                /* 1: credentials were checked by the transport (a WebSocket's Bearer
                                    header); the HELLO needs no api_key */
    uzs_send_fn send;
    void *send_user;
    uzs_hello hello;
    int have_hello, ended, gone;
    uzw_context *ctx;
    uzw_stream *st;
    SRC_STATE *src;              /* resampler to 16 kHz (NULL at 16 kHz) */
    float *mono;                 /* [mono_cap] one AUDIO payload, mono, at the client's rate */
    size_t mono_cap;
    float *pend;                 /* [cap_pend] 16 kHz samples not yet pushed */
    size_t n_pend, cap_pend;
    uint64_t received;           /* sample frames received at the client's rate */
    uint64_t pushed;             /* 16 kHz samples pushed into the engine */
    int sent_words;              /* final words already sent */
    uint64_t seq;                /* next final's number */
    char *last_interim;
    char last_lang[8];           /* language of the last word sent (switch points); "" none */
    struct { double t, wall; } *arr; /* [n_arr] stream seconds received (t) by wall time (latency) */
    size_t n_arr, cap_arr;
    double *lat;                 /* [n_lat] seconds from a word's end arriving to its final */
    size_t n_lat, cap_lat;
    double t_ready, compute_s;
    char languages[UZS_MAX_LANGUAGES_TEXT];
    const uzw_adapter *adapter;
} uzs_stream_conn;

void uzs_stream_conn_init(uzs_stream_conn *c, uzs_server *s, const char *session, uzs_send_fn send, void *send_user);
/* Handle one frame. 0: go on; -1: the stream is over (an error line was sent, or the peer is gone).
 * After END, c->ended is set and the end line has been sent. */
int uzs_stream_conn_frame(uzs_stream_conn *c, const uzs_frame *f);
/* End the stream with a fatal error line (once). */
void uzs_stream_conn_fail(uzs_stream_conn *c, uzs_error_code code, const char *message);
void uzs_stream_conn_free(uzs_stream_conn *c);

/* Run one stream over a connected socket until it ends: frames read from fd, lines sent with send
 * (raw TCP: written to fd; WebSocket: queued for the HTTP thread). Takes the idle and session
 * timeouts and the drain deadline of the server into account. Does not close fd. */
void uzs_stream_conn_run(uzs_server *s, int fd, const char *endpoint, const char *session, int pre_auth,
                         uzs_send_fn send, void *send_user);

/* A stream over another transport: fd is one end of a socketpair the transport writes the client's
 * bytes into. Admitted like a TCP connection (max_connections, not while stopping): 0 and a thread
 * runs uzs_stream_conn_run, then on_exit(send_user) and close(fd); or -1 with *why set
 * (UZS_ERR_OVERLOADED, UZS_ERR_SHUTTING_DOWN, UZS_ERR_INTERNAL) and fd left to the caller. */
int uzs_server_adopt(uzs_server *s, int fd, const char *endpoint, int pre_auth, uzs_send_fn send, void *send_user,
                     void (*on_exit)(void *send_user), uzs_error_code *why);

/* The server's pass slots and settings (tcp_server.c). */
void uzs_slot_acquire(uzs_server *s);
void uzs_slot_release(uzs_server *s);
const uzs_server_config *uzs_server_config_of(const uzs_server *s);
int uzs_server_stopping(const uzs_server *s);

#endif
