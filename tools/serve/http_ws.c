/* http_ws.c - the WebSocket /ws/transcribe (docs/protocol.md section 6): the client's binary
 * messages are the uzw-stream/1 frame stream, each server line goes back as one text message.
 *
 * A WebSocket becomes one stream of the stream server: the service thread writes the client's bytes
 * into one end of a socketpair, and the server's stream thread (uzs_server_adopt, the same code as
 * a raw-TCP connection: frame decoder, limits, timeouts, decoding passes) reads the other end. Its
 * lines come back through a queue under uzs_http.mu and lws_cancel_service. When the stream thread
 * is busy decoding and the socketpair is full, reading from the client pauses (rx flow control)
 * until a timer finds room again: nothing is dropped. A client that leaves closes the socketpair,
 * and the stream thread frees the stream at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "http_internal.h"
#include "serve_stream.h"

#define PAUSED_MAX_BYTES (8u << 20) /* client bytes held while paused (one message beyond the pause) */
#define RESUME_POLL_US 20000        /* how often a paused link looks for room */
#define LINGER_US 1000000           /* after the last line, the client's time to close first: a client
                                       still sending when the server closes would get a TCP reset, and
                                       lose the close frame and maybe the last lines with it */

typedef struct ws_line {
    char *s;
    size_t len;
    struct ws_line *next;
} ws_line;

struct uzs_ws_link {
    uzs_http *h;
    struct lws *wsi;        /* NULL once the client left (under h->mu) */
    int fd;                 /* the service thread's end of the socketpair; -1 closed */
    uint8_t *held;          /* [n_held] client bytes not yet written into fd (paused) */
    size_t n_held;
    int paused;
    int closing;            /* every line sent: close when the linger timer fires (or the client closes) */
    int pre_auth;           /* the upgrade carried valid credentials */
    /* under h->mu */
    ws_line *out_head, *out_tail; /* lines for the client */
    int stream_done;        /* the stream thread has ended: close after the last line */
    int refs;               /* service side + stream thread */
    uzs_ws_link *next;      /* h->links */
};

static void unref_locked(uzs_http *h, uzs_ws_link *l) {
    if (--l->refs > 0) return;
    for (uzs_ws_link **pp = &h->links; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    for (ws_line *x = l->out_head, *n; x; x = n) n = x->next, free(x->s), free(x);
    free(l->held);
    free(l);
}

/* Stream thread: queue one line for the client (takes it). */
static int ws_send(void *user, char *line, size_t len) {
    uzs_ws_link *l = user;
    uzs_http *h = l->h;
    ws_line *x = line ? malloc(sizeof *x) : NULL;
    pthread_mutex_lock(&h->mu);
    int gone = !l->wsi;
    if (!gone && x) {
        *x = (ws_line){line, len, NULL};
        if (l->out_tail) l->out_tail->next = x;
        else l->out_head = x;
        l->out_tail = x;
    }
    pthread_mutex_unlock(&h->mu);
    if (gone || !x) {
        free(x);
        free(line);
        return -1;
    }
    lws_cancel_service(h->ctx);
    return 0;
}

/* Stream thread: the stream is over (its fd is closed right after). */
static void ws_exit(void *user) {
    uzs_ws_link *l = user;
    uzs_http *h = l->h;
    pthread_mutex_lock(&h->mu);
    l->stream_done = 1;
    unref_locked(h, l);
    pthread_mutex_unlock(&h->mu);
    lws_cancel_service(h->ctx);
}

void uzs_http_ws_collect(uzs_http *h) {
    pthread_mutex_lock(&h->mu);
    for (uzs_ws_link *l = h->links; l; l = l->next)
        if (l->wsi && (l->out_head || l->stream_done)) lws_callback_on_writable(l->wsi);
    pthread_mutex_unlock(&h->mu);
}

/* Write held bytes into the socketpair. 0 all written, 1 some left, -1 the stream side is gone. */
static int flush_held(uzs_ws_link *l) {
    size_t off = 0;
    while (off < l->n_held) {
        ssize_t k = send(l->fd, l->held + off, l->n_held - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (k <= 0) return -1;
        off += (size_t)k;
    }
    memmove(l->held, l->held + off, l->n_held - off);
    l->n_held -= off;
    return l->n_held ? 1 : 0;
}

static int receive(uzs_ws_link *l, struct lws *wsi, const void *in, size_t len) {
    if (l->fd < 0 || !len) return 0;
    if (l->n_held + len > PAUSED_MAX_BYTES) return -1; /* cannot happen with flow control; refuse, not drop */
    uint8_t *b = realloc(l->held, l->n_held + len);
    if (!b) return -1;
    l->held = b;
    memcpy(l->held + l->n_held, in, len);
    l->n_held += len;
    int r = flush_held(l);
    if (r < 0) { /* the stream has ended (its last lines are still to be sent): the rest is not read */
        l->n_held = 0;
        return 0;
    }
    if (r > 0 && !l->paused) {
        l->paused = 1;
        lws_rx_flow_control(wsi, 0);
        lws_set_timer_usecs(wsi, RESUME_POLL_US);
    }
    return 0;
}

/* Refuse an upgrade with a JSON answer (lws_return_http_status would say HTTP/1.0 with an HTML
 * body, which WebSocket clients do not report well). Returns 1: the callback answered. */
static int refuse_upgrade(struct lws *wsi, unsigned status, const char *reason, const char *code, const char *message) {
    char body[512], msg[300];
    size_t k = 0;
    for (const char *m = message; *m && k + 2 < sizeof msg; m++) /* a JSON string: no quotes or controls */
        msg[k++] = *m == '"' || *m == '\\' || (unsigned char)*m < 0x20 ? '\'' : *m;
    msg[k] = 0;
    int nb = snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}\n", code, msg);
    unsigned char buf[LWS_PRE + 1024];
    int n = snprintf((char *)buf + LWS_PRE, sizeof buf - LWS_PRE,
                     "HTTP/1.1 %u %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%sconnection: close\r\n\r\n%s",
                     status, reason, nb, status == 401 ? "WWW-Authenticate: Bearer realm=\"uzwhisper\"\r\n" : "", body);
    if (n > 0 && (size_t)n < sizeof buf - LWS_PRE) lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP);
    return 1;
}

/* The upgrade: the right path, and credentials if the client sent a Bearer header. */
static int confirm_upgrade(uzs_http *h, struct lws *wsi) {
    char uri[128] = "";
    if (lws_hdr_copy(wsi, uri, (int)sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws/transcribe") != 0) {
        return refuse_upgrade(wsi, 404, "Not Found", "not_found", "no WebSocket at this path (use /ws/transcribe)");
    }
    if (!h->c.server || atomic_load(&h->stop)) {
        return refuse_upgrade(wsi, 503, "Service Unavailable", "unavailable", "the server is stopping");
    }
    return 0;
}

/* Bearer credentials of the upgrade request: 1 valid, 0 none sent, -1 invalid (answered 401). */
static int upgrade_auth(uzs_http *h, struct lws *wsi) {
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 0) return 0;
    const uzs_server_config *sc = uzs_server_config_of(h->c.server);
    char cred[UZS_AUTH_MAX_CREDENTIAL_LEN + 1] = "x";
    if (n <= UZS_AUTH_MAX_CREDENTIAL_LEN && lws_hdr_copy(wsi, cred, (int)sizeof cred, WSI_TOKEN_HTTP_AUTHORIZATION) < 0) cred[0] = 0;
    uzs_auth_result ar;
    uzs_auth_status as = uzs_auth_check(sc->auth, cred, time(NULL), &ar);
    memset(cred, 0, sizeof cred);
    if (as == UZS_AUTH_OK) return 1;
    if (h->c.metrics) uzs_metric_add(h->c.metrics->auth_failures, (const char *[]){uzs_auth_status_name(as)}, 1);
    if (h->c.metrics) uzs_server_metrics_request(h->c.metrics, "/ws/transcribe", "401", -1);
    refuse_upgrade(wsi, 401, "Unauthorized", "unauthorized", ar.message);
    return -1;
}

static int established(uzs_http *h, struct lws *wsi, uzs_ws_link **slot) {
    uzs_ws_link *l = calloc(1, sizeof *l);
    int sv[2] = {-1, -1};
    if (!l || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        free(l);
        return -1;
    }
    l->h = h;
    l->wsi = wsi;
    l->fd = sv[0];
    /* checked again: libwebsockets 4.1 has no per-session memory yet at HTTP_CONFIRM_UPGRADE, where
     * the first check refused bad credentials, so the result cannot be kept from there */
    l->pre_auth = upgrade_auth(h, wsi) > 0;
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    l->refs = 2;
    pthread_mutex_lock(&h->mu);
    l->next = h->links;
    h->links = l;
    pthread_mutex_unlock(&h->mu);
    *slot = l;
    uzs_error_code why;
    if (uzs_server_adopt(h->c.server, sv[1], "/ws/transcribe", l->pre_auth, ws_send, l, ws_exit, &why) != 0) {
        close(sv[1]);
        size_t len;
        char *line = uzs_msg_error(why, why == UZS_ERR_OVERLOADED ? "too many streams at once; try again later"
                                        : why == UZS_ERR_SHUTTING_DOWN ? "the server is stopping"
                                                                       : "the server could not start this stream",
                                   1, -1, -1, &len);
        ws_send(l, line, len);
        ws_exit(l); /* drops the stream thread's reference it never took */
    }
    return 0;
}

static int writable(uzs_http *h, struct lws *wsi, uzs_ws_link *l) {
    pthread_mutex_lock(&h->mu);
    ws_line *x = l->out_head;
    if (x) {
        l->out_head = x->next;
        if (!l->out_head) l->out_tail = NULL;
    }
    int more = l->out_head != NULL, done = l->stream_done;
    pthread_mutex_unlock(&h->mu);
    if (x) {
        size_t n = x->len && x->s[x->len - 1] == '\n' ? x->len - 1 : x->len; /* one message, no newline */
        unsigned char *buf = malloc(LWS_PRE + n + 1);
        int w = buf ? (memcpy(buf + LWS_PRE, x->s, n), lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT)) : -1;
        free(buf);
        free(x->s);
        free(x);
        if (w < (int)n) return -1;
    }
    if (more || (x && done)) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (done && !l->closing) { /* every line sent: the client may close now; else we do, soon */
        l->closing = 1;
        lws_set_timer_usecs(wsi, LINGER_US);
    }
    return 0;
}

int uzs_http_ws_callback(uzs_http *h, struct lws *wsi, enum lws_callback_reasons reason, uzs_ws_link **slot, void *in,
                         size_t len) {
    uzs_ws_link *l = slot ? *slot : NULL;
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (strcmp((const char *)in, "websocket") != 0) return -1;
        if (confirm_upgrade(h, wsi)) return 1;
        return upgrade_auth(h, wsi) < 0 ? 1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
        if (!slot) return -1;
        return established(h, wsi, slot);
    case LWS_CALLBACK_RECEIVE:
        return l ? receive(l, wsi, in, len) : -1;
    case LWS_CALLBACK_TIMER:
        if (l && l->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (!l || !l->paused) return 0;
        if (flush_held(l) > 0) {
            lws_set_timer_usecs(wsi, RESUME_POLL_US);
        } else {
            l->paused = 0;
            lws_rx_flow_control(wsi, 1);
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return l ? writable(h, wsi, l) : 0;
    case LWS_CALLBACK_CLOSED:
        if (!l) return 0;
        if (l->fd >= 0) { /* the stream thread sees the close and frees the stream now */
            shutdown(l->fd, SHUT_RDWR);
            close(l->fd);
            l->fd = -1;
        }
        pthread_mutex_lock(&h->mu);
        l->wsi = NULL;
        unref_locked(h, l);
        pthread_mutex_unlock(&h->mu);
        *slot = NULL;
        return 0;
    default:
        return 0;
    }
}
