/*
 * `uzwhisper serve` over raw TCP (tools/serve/tcp_server.c, serve_stream.c) on the tiny fixture
 * model, in process, on a free loopback port: a whole stream (every line valid per the protocol
 * checker, audio fully accounted for), 44.1 kHz stereo input, PING, auth (no ready and no work
 * without a valid key), malformed frames, an unknown adapter, the connection limit, the idle
 * timeout, an abrupt disconnect, and stopping with streams open. The client side is raw sockets
 * and the protocol codec (tools/serve/protocol.h).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "http_server.h"
#include "protocol.h"
#include "server.h"
#include "testutil.h"

static char tmpdir[128], tiny[256];
static uzw_model *model;

static void setup(void) {
    if (tu_tmp_with_tiny_model("uzw-serve", tmpdir, sizeof tmpdir, tiny, sizeof tiny) != 0) return;
    char err[256];
    cr_assert_eq(uzw_model_load(tiny, NULL, &model, err, sizeof err), UZW_OK, "%s", err);
}
static void teardown(void) {
    uzw_model_free(model);
    if (model) tu_rmtree(tmpdir);
}
TestSuite(serve, .init = setup, .fini = teardown, .timeout = 300);

static uzs_server *start(uzs_server_config *c) {
    if (!model) cr_skip_test("tiny fixture model missing");
    c->model = model;
    c->model_type = "tiny";
    c->bind_addr = "127.0.0.1";
    c->tcp_port = 0;
    c->max_tokens = 6; /* random weights never say EOT: keep passes short */
    c->default_languages = "en";
    uzs_server *s;
    char err[256];
    cr_assert_eq(uzs_server_start(c, &s, err, sizeof err), 0, "%s", err);
    return s;
}

static int dial(const uzs_server *s) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)uzs_server_tcp_port(s))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_frame(int fd, uzs_frame_type t, const void *p, size_t n) {
    uint8_t h[UZS_FRAME_HEADER_BYTES];
    cr_assert_eq(uzs_frame_header(h, t, n, NULL, 0), 0);
    cr_assert_eq(send(fd, h, sizeof h, MSG_NOSIGNAL), (ssize_t)sizeof h);
    if (n) cr_assert_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void send_hello(int fd, const char *key, const char *adapter, int rate, int channels) {
    uzs_hello h;
    uzs_hello_defaults(&h);
    h.sample_rate = rate;
    h.channels = channels;
    snprintf(h.language, sizeof h.language, "en");
    if (key) snprintf(h.api_key, sizeof h.api_key, "%s", key);
    if (adapter) snprintf(h.adapter, sizeof h.adapter, "%s", adapter);
    char err[256];
    size_t n;
    char *js = uzs_hello_encode(&h, &n, err, sizeof err);
    cr_assert(js, "%s", err);
    send_frame(fd, UZS_FRAME_HELLO, js, n);
    free(js);
}

/* Read lines until the peer closes (or 60 s): each must pass the protocol checker. Returns the
 * lines as one JSON array (the caller frees). */
static json_t *read_lines(int fd) {
    json_t *arr = json_array();
    char buf[65536], acc[1 << 18];
    size_t n = 0;
    time_t t0 = time(NULL);
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 1000) == 0) {
            cr_assert_lt(time(NULL) - t0, 60, "no end of stream after 60 s");
            continue;
        }
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0) break;
        cr_assert_lt(n + (size_t)k, sizeof acc);
        memcpy(acc + n, buf, (size_t)k);
        n += (size_t)k;
    }
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (acc[i] == '\n') {
            char err[256];
            cr_assert_neq(uzs_msg_check(acc + start, i - start, err, sizeof err), UZS_MSG_UNKNOWN, "line '%.*s': %s",
                          (int)(i - start), acc + start, err);
            json_array_append_new(arr, json_loadb(acc + start, i - start, 0, NULL));
            start = i + 1;
        }
    cr_assert_eq(start, n, "the last line is not terminated");
    return arr;
}

static const char *type_of(json_t *arr, size_t i) { return json_string_value(json_object_get(json_array_get(arr, i), "type")); }

static json_t *last_of(json_t *arr, const char *type) {
    for (size_t i = json_array_size(arr); i-- > 0;)
        if (!strcmp(type_of(arr, i), type)) return json_array_get(arr, i);
    return NULL;
}

static int16_t *jfk_s16(size_t *n, double seconds) {
    size_t m;
    float *pcm = tu_read_f32(tu_src("tests/fixtures/golden/pcm_jfk.f32"), &m);
    cr_assert(pcm);
    *n = (size_t)(seconds * 16000) < m ? (size_t)(seconds * 16000) : m;
    int16_t *s = malloc(sizeof(int16_t) * *n);
    for (size_t i = 0; i < *n; i++) s[i] = (int16_t)lrintf(fmaxf(-32768.f, fminf(32767.f, pcm[i] * 32768.f)));
    free(pcm);
    return s;
}

Test(serve, a_whole_stream_is_answered_and_accounted_for) {
    uzs_server_config c = uzs_server_default_config();
    uzs_server *s = start(&c);
    int fd = dial(s);
    send_hello(fd, NULL, NULL, 16000, 1);
    size_t n;
    int16_t *pcm = jfk_s16(&n, 2.5);
    for (size_t o = 0; o < n; o += 1600) { /* 100 ms frames, split across writes */
        size_t k = n - o < 1600 ? n - o : 1600;
        send_frame(fd, UZS_FRAME_AUDIO, pcm + o, k * 2);
        if (o == 8000) send_frame(fd, UZS_FRAME_PING, NULL, 0);
    }
    send_frame(fd, UZS_FRAME_END, NULL, 0);
    json_t *lines = read_lines(fd);
    close(fd);
    cr_assert_str_eq(type_of(lines, 0), "ready");
    cr_assert_str_eq(type_of(lines, json_array_size(lines) - 1), "end");
    cr_assert(last_of(lines, "pong"), "no pong");
    json_t *end = last_of(lines, "end");
    cr_assert_float_eq(json_number_value(json_object_get(end, "audio_seconds")), n / 16000.0, 1e-3);
    cr_assert_float_eq(json_number_value(json_object_get(end, "transcribed_seconds")), n / 16000.0, 1e-3);
    cr_assert(last_of(lines, "final"), "no final line");
    free(pcm);
    json_decref(lines);
    uzs_server_stop(s, 5);
}

Test(serve, resamples_44k_stereo) {
    uzs_server_config c = uzs_server_default_config();
    uzs_server *s = start(&c);
    int fd = dial(s);
    send_hello(fd, NULL, NULL, 44100, 2);
    size_t frames = 44100; /* 1 s of a 440 Hz tone, interleaved stereo */
    int16_t *pcm = malloc(sizeof(int16_t) * frames * 2);
    for (size_t i = 0; i < frames; i++) pcm[2 * i] = pcm[2 * i + 1] = (int16_t)(8000 * sin(2 * 3.14159265358979 * 440 * i / 44100.0));
    send_frame(fd, UZS_FRAME_AUDIO, pcm, frames * 4);
    send_frame(fd, UZS_FRAME_END, NULL, 0);
    json_t *lines = read_lines(fd);
    close(fd);
    json_t *end = last_of(lines, "end");
    cr_assert(end, "no end line");
    cr_assert_float_eq(json_number_value(json_object_get(end, "audio_seconds")), 1.0, 1e-3);
    free(pcm);
    json_decref(lines);
    uzs_server_stop(s, 5);
}

static json_t *one_error(uzs_server *s, const char *key, const char *adapter, const char *expect_code) {
    int fd = dial(s);
    send_hello(fd, key, adapter, 16000, 1);
    json_t *lines = read_lines(fd);
    close(fd);
    cr_assert_eq(json_array_size(lines), 1, "expected one error line, got %zu", json_array_size(lines));
    cr_assert_str_eq(type_of(lines, 0), "error");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lines, 0), "code")), expect_code);
    return lines;
}

Test(serve, auth_refuses_before_any_work) {
    uzs_auth *auth = uzs_auth_new();
    const char *key = "k3y-for-the-serve-test-0123456789";
    char err[256];
    cr_assert_eq(uzs_auth_add_keys_text(auth, key, strlen(key), 0, "test", err, sizeof err), 0, "%s", err);
    uzs_server_config c = uzs_server_default_config();
    c.auth = auth;
    uzs_server *s = start(&c);
    json_decref(one_error(s, NULL, NULL, "unauthorized"));
    json_decref(one_error(s, "wrong-key-0123456789abcdef", NULL, "unauthorized"));
    int fd = dial(s); /* the right key gets a ready line */
    send_hello(fd, key, NULL, 16000, 1);
    send_frame(fd, UZS_FRAME_END, NULL, 0);
    json_t *lines = read_lines(fd);
    close(fd);
    cr_assert_str_eq(type_of(lines, 0), "ready");
    json_decref(lines);
    uzs_server_stop(s, 5);
    uzs_auth_free(auth);
}

Test(serve, bad_frames_unknown_adapters_and_limits) {
    uzs_server_config c = uzs_server_default_config();
    c.max_connections = 1;
    c.idle_timeout_s = 0.5;
    uzs_server *s = start(&c);
    json_decref(one_error(s, NULL, "nope", "unsupported"));
    /* a frame of unknown type, and an HTTP request sent to the TCP port */
    const char *junk[] = {"\x09\x00\x00\x00\x00", "GET / HTTP/1.1\r\n\r\n"};
    for (int i = 0; i < 2; i++) {
        int fd = dial(s);
        cr_assert_eq(send(fd, junk[i], strlen(junk[i]) + (i == 0), MSG_NOSIGNAL), (ssize_t)(strlen(junk[i]) + (i == 0)));
        json_t *lines = read_lines(fd);
        close(fd);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lines, 0), "code")), "bad_frame");
        json_decref(lines);
    }
    /* one stream open: a second connection is refused as overloaded; a silent one times out */
    int fd = dial(s);
    send_hello(fd, NULL, NULL, 16000, 1);
    usleep(100000);
    int fd2 = dial(s);
    json_t *l2 = read_lines(fd2);
    close(fd2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(l2, 0), "code")), "overloaded");
    json_t *l1 = read_lines(fd);
    close(fd);
    cr_assert_str_eq(type_of(l1, 0), "ready");
    cr_assert_str_eq(json_string_value(json_object_get(last_of(l1, "error"), "code")), "timeout");
    json_decref(l1);
    json_decref(l2);
    uzs_server_stop(s, 5);
}

Test(serve, disconnects_free_the_stream_and_stop_drains) {
    uzs_server_config c = uzs_server_default_config();
    uzs_server *s = start(&c);
    int fd = dial(s);
    send_hello(fd, NULL, NULL, 16000, 1);
    size_t n;
    int16_t *pcm = jfk_s16(&n, 0.5);
    send_frame(fd, UZS_FRAME_AUDIO, pcm, n * 2);
    close(fd); /* gone without END */
    for (int i = 0; i < 100 && uzs_server_active(s) > 0; i++) usleep(50000);
    cr_assert_eq(uzs_server_active(s), 0, "the stream of a client that left is still open");
    /* a stream open when the server stops: it ends with shutting_down once the drain time is over */
    fd = dial(s);
    send_hello(fd, NULL, NULL, 16000, 1);
    usleep(100000);
    uzs_server_stop(s, 0.3);
    json_t *lines = read_lines(fd);
    close(fd);
    cr_assert_str_eq(json_string_value(json_object_get(last_of(lines, "error"), "code")), "shutting_down");
    json_decref(lines);
    free(pcm);
}

/* A raw HTTP/1.1 GET over loopback: the whole response (status line, headers, body) into out. */
static int http_get(int port, const char *path, char *out, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    size_t got = 0;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 5000) <= 0) break;
        ssize_t k = recv(fd, out + got, cap - 1 - got, 0);
        if (k <= 0) break;
        got += (size_t)k;
        out[got] = 0;
        const char *cl = strstr(out, "content-length:"), *hdr_end = strstr(out, "\r\n\r\n"); /* lws writes it lower-case */
        if (cl && hdr_end && got >= (size_t)(hdr_end + 4 - out) + (size_t)atol(cl + 15)) break;
    }
    out[got] = 0;
    close(fd);
    int status = 0;
    sscanf(out, "HTTP/1.1 %d", &status);
    return status;
}

static int never_ready(void *user) { (void)user; return 0; }

Test(serve, http_health_ready_metrics) {
    uzs_metrics *reg = uzs_metrics_new();
    uzs_server_metrics sm;
    char err[256];
    cr_assert_eq(uzs_server_metrics_register(reg, &sm, err, sizeof err), 0, "%s", err);
    uzs_http_config hc = {.bind_addr = "127.0.0.1", .registry = reg, .metrics = &sm};
    uzs_http *h;
    cr_assert_eq(uzs_http_start(&hc, &h, err, sizeof err), 0, "%s", err);
    static char out[1 << 16];
    int port = uzs_http_port(h);
    cr_assert_gt(port, 0);
    cr_assert_eq(http_get(port, "/health", out, sizeof out), 200, "%s", out);
    cr_assert(strstr(out, "\"ok\""), "%s", out);
    cr_assert_eq(http_get(port, "/ready", out, sizeof out), 200, "%s", out);
    cr_assert_eq(http_get(port, "/metrics", out, sizeof out), 200, "%s", out);
    cr_assert(strstr(out, "text/plain; version=0.0.4"), "%s", out);
    cr_assert(strstr(out, "asr_requests_total{endpoint=\"/health\",status=\"200\"} 1"), "%s", out);
    cr_assert_eq(http_get(port, "/transcribe", out, sizeof out), 405, "%s", out); /* it takes POST */
    cr_assert_eq(http_get(port, "/nowhere", out, sizeof out), 404, "%s", out);
    uzs_http_stop(h, 1);
    hc.ready = never_ready;
    cr_assert_eq(uzs_http_start(&hc, &h, err, sizeof err), 0, "%s", err);
    cr_assert_eq(http_get(uzs_http_port(h), "/ready", out, sizeof out), 503, "%s", out);
    uzs_http_stop(h, 1);
    uzs_metrics_free(reg);
}
