/* tcp_server.c - the raw-TCP front end of `uzwhisper serve` (server.h, docs/protocol.md): an accept
 * thread, one thread per connection, a shared pool of decoding-pass slots. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"
#include "server.h"
#include "serve_stream.h"
#include "core/util.h" /* uzw_now_ms */

struct uzs_server {
    uzs_server_config c;
    int fd;                  /* listening socket */
    int port;
    int wake[2];             /* self-pipe: stop the accept loop */
    pthread_t accept_thr;
    atomic_int stopping;     /* 1: no new streams; 2: drain deadline passed */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active;              /* connections open */
    int free_slots;          /* decoding-pass slots free */
    int waiting;             /* connections waiting for a slot */
    unsigned long long next_session;
    int drained;             /* uzs_server_drain has run (the owner's thread only) */
};

uzs_server_config uzs_server_default_config(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uzs_server_config c = {.bind_addr = "0.0.0.0", .max_connections = 16, .threads_per_pass = 2, .idle_timeout_s = 30,
                           .max_session_s = 3600, .max_audio_s = 3600, .step_s = 1.0f, .beam_size = 1,
                           .default_languages = "uz,ru"};
    c.max_passes = cores > 2 ? (int)(cores / 2) : 1;
    return c;
}

/* ---------------------------------------------------------------- pass slots (serve_stream.h) */

void uzs_slot_acquire(uzs_server *s) {
    pthread_mutex_lock(&s->mu);
    s->waiting++;
    if (s->c.metrics) uzs_metric_add(s->c.metrics->queue_depth, NULL, +1); /* HTTP's queue adds to it too */
    while (s->free_slots == 0) pthread_cond_wait(&s->cv, &s->mu);
    s->free_slots--;
    s->waiting--;
    if (s->c.metrics) uzs_metric_add(s->c.metrics->queue_depth, NULL, -1);
    pthread_mutex_unlock(&s->mu);
}

void uzs_slot_release(uzs_server *s) {
    pthread_mutex_lock(&s->mu);
    s->free_slots++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

const uzs_server_config *uzs_server_config_of(const uzs_server *s) { return &s->c; }
int uzs_server_stopping(const uzs_server *s) { return atomic_load(&((uzs_server *)s)->stopping); }

/* ---------------------------------------------------------------- one connection */

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_line(int fd, char *line, size_t len) {
    int rc = line ? send_all(fd, line, len) : -1;
    free(line);
    return rc;
}

static int fd_send(void *user, char *line, size_t len) { return send_line(*(int *)user, line, len); }

static void refuse(int fd, uzs_error_code code, const char *msg) {
    size_t len;
    char *line = uzs_msg_error(code, msg, 1, -1, -1, &len);
    send_line(fd, line, len);
}

void uzs_stream_conn_run(uzs_server *s, int fd, const char *endpoint, const char *session, int pre_auth,
                         uzs_send_fn send, void *send_user) {
    uzs_stream_conn sc;
    uzs_stream_conn_init(&sc, s, session, send, send_user);
    sc.endpoint = endpoint;
    sc.pre_auth = pre_auth;
    uzs_frame_decoder d;
    uzs_frame_decoder_init(&d);
    double t_start = uzw_now_s(), t_last = t_start;
    uint8_t buf[65536];
    char err[512];
    int done = 0;
    while (!done) {
        double t = uzw_now_s();
        if (t - t_last > s->c.idle_timeout_s) {
            uzs_stream_conn_fail(&sc, UZS_ERR_TIMEOUT, "no frame for the idle timeout");
            break;
        }
        if (t - t_start > s->c.max_session_s) {
            uzs_stream_conn_fail(&sc, UZS_ERR_TIMEOUT, "the stream is longer than the server allows");
            break;
        }
        if (atomic_load(&s->stopping) == 2) {
            uzs_stream_conn_fail(&sc, UZS_ERR_SHUTTING_DOWN, "the server is stopping");
            break;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, 200);
        if (pr < 0 && errno != EINTR) break;
        if (pr <= 0) continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { /* the client left: free everything now */
            if (n == 0 && uzs_frame_decoder_eof(&d, err, sizeof err) != 0 && !sc.ended)
                uzs_stream_conn_fail(&sc, UZS_ERR_BAD_FRAME, err);
            break;
        }
        t_last = uzw_now_s();
        const uint8_t *in = buf;
        size_t left = (size_t)n;
        uzs_frame f;
        int rc;
        while (!done && (rc = uzs_frame_decoder_next(&d, &in, &left, &f, err, sizeof err)) != 0) {
            if (rc < 0) {
                uzs_stream_conn_fail(&sc, uzs_frame_decoder_error(&d), err);
                done = 1;
                break;
            }
            if (uzs_stream_conn_frame(&sc, &f) != 0) done = 1;
            else if (f.type == UZS_FRAME_HELLO) uzs_frame_decoder_set_frame_bytes(&d, sc.hello.frame_bytes);
            if (sc.ended) done = 1;
        }
    }
    uzs_frame_decoder_free(&d);
    uzs_stream_conn_free(&sc);
}

typedef struct {
    uzs_server *s;
    int fd;
    unsigned long long session;
    const char *endpoint;         /* "tcp" or the adopting transport's */
    int pre_auth;
    uzs_send_fn send;             /* NULL: write to fd (raw TCP) */
    void *send_user;
    void (*on_exit)(void *send_user);
} conn_arg;

static void *conn_main(void *p) {
    conn_arg a = *(conn_arg *)p;
    free(p);
    uzs_server *s = a.s;
    int fd = a.fd;
    const char *proto = strcmp(a.endpoint, "tcp") ? "websocket" : "tcp";
    if (s->c.metrics) uzs_server_metrics_connection(s->c.metrics, proto, +1);
    char session[32];
    snprintf(session, sizeof session, "%s-%llu", strcmp(a.endpoint, "tcp") ? "ws" : "tcp", a.session);
    uzs_stream_conn_run(s, fd, a.endpoint, session, a.pre_auth, a.send ? a.send : fd_send, a.send ? a.send_user : &fd);
    if (s->c.metrics) uzs_server_metrics_connection(s->c.metrics, proto, -1);
    if (a.on_exit) a.on_exit(a.send_user);
    /* the slot is free before the client sees the close, so it may connect again at once */
    pthread_mutex_lock(&s->mu);
    s->active--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu); /* s may be freed from here on (uzs_server_stop) */
    shutdown(fd, SHUT_RDWR);
    close(fd);
    return NULL;
}

/* Admit one connection (max_connections, not while stopping) and start its thread. 0, or -1 with *why. */
static int admit(uzs_server *s, const conn_arg *tmpl, uzs_error_code *why) {
    pthread_mutex_lock(&s->mu);
    int full = s->active >= s->c.max_connections, stopping = atomic_load(&s->stopping) != 0;
    if (!full && !stopping) s->active++;
    unsigned long long session = ++s->next_session;
    pthread_mutex_unlock(&s->mu);
    if (full || stopping) {
        *why = stopping ? UZS_ERR_SHUTTING_DOWN : UZS_ERR_OVERLOADED;
        if (s->c.metrics) uzs_server_metrics_request(s->c.metrics, tmpl->endpoint, uzs_error_code_name(*why), -1);
        return -1;
    }
    conn_arg *a = malloc(sizeof *a);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = 0;
    if (!a || (*a = *tmpl, a->session = session, pthread_create(&th, &at, conn_main, a) != 0)) {
        free(a);
        *why = UZS_ERR_INTERNAL;
        pthread_mutex_lock(&s->mu);
        s->active--;
        pthread_mutex_unlock(&s->mu);
        rc = -1;
    }
    pthread_attr_destroy(&at);
    return rc;
}

int uzs_server_adopt(uzs_server *s, int fd, const char *endpoint, int pre_auth, uzs_send_fn send, void *send_user,
                     void (*on_exit)(void *send_user), uzs_error_code *why) {
    conn_arg t = {s, fd, 0, endpoint, pre_auth, send, send_user, on_exit};
    return admit(s, &t, why);
}

/* ---------------------------------------------------------------- accepting */

static void *accept_main(void *p) {
    uzs_server *s = p;
    for (;;) {
        struct pollfd pf[2] = {{s->fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (pf[1].revents) break;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_arg t = {s, fd, 0, "tcp", 0, NULL, NULL, NULL};
        uzs_error_code why;
        if (admit(s, &t, &why) != 0) {
            refuse(fd, why, why == UZS_ERR_SHUTTING_DOWN ? "the server is stopping"
                            : why == UZS_ERR_OVERLOADED  ? "too many streams at once; try again later"
                                                         : "the server could not start a thread for this stream");
            close(fd);
        }
    }
    return NULL;
}

int uzs_server_start(const uzs_server_config *c, uzs_server **out, char *err, size_t es) {
    *out = NULL;
    if (!c->model) { snprintf(err, es, "no model"); return -1; }
    if (c->max_connections < 1 || c->max_passes < 1 || c->threads_per_pass < 1 || !(c->idle_timeout_s > 0) ||
        !(c->max_session_s > 0) || !(c->max_audio_s > 0) || !(c->step_s >= 0.1f)) {
        snprintf(err, es, "bad server limits (connections, passes, threads, timeouts and step must be positive)");
        return -1;
    }
    uzs_server *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, es, "out of memory"); return -1; }
    s->c = *c;
    s->free_slots = c->max_passes;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->tcp_port)};
    if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        inet_pton(AF_INET, c->bind_addr ? c->bind_addr : "0.0.0.0", &sa.sin_addr) != 1 ||
        bind(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s->fd, 64) != 0 || pipe(s->wake) != 0) {
        snprintf(err, es, "cannot listen on %s:%d: %s", c->bind_addr ? c->bind_addr : "0.0.0.0", c->tcp_port, strerror(errno));
        if (s->fd >= 0) close(s->fd);
        free(s);
        return -1;
    }
    socklen_t sl = sizeof sa;
    getsockname(s->fd, (struct sockaddr *)&sa, &sl);
    s->port = ntohs(sa.sin_port);
    if (pthread_create(&s->accept_thr, NULL, accept_main, s) != 0) {
        snprintf(err, es, "cannot start the accept thread");
        close(s->fd), close(s->wake[0]), close(s->wake[1]);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int uzs_server_tcp_port(const uzs_server *s) { return s ? s->port : -1; }

int uzs_server_active(const uzs_server *s) {
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    int n = s->active;
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    return n;
}

void uzs_server_drain(uzs_server *s, double drain_s) {
    if (!s || s->drained) return;
    s->drained = 1;
    atomic_store(&s->stopping, 1);
    if (write(s->wake[1], "x", 1) != 1) { /* the accept loop also ends when its socket closes */ }
    pthread_join(s->accept_thr, NULL);
    close(s->fd);
    double deadline = uzw_now_s() + drain_s;
    pthread_mutex_lock(&s->mu);
    while (s->active > 0) {
        if (uzw_now_s() > deadline) atomic_store(&s->stopping, 2); /* streams end with shutting_down */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
}

void uzs_server_stop(uzs_server *s, double drain_s) {
    if (!s) return;
    uzs_server_drain(s, drain_s);
    close(s->wake[0]);
    close(s->wake[1]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
