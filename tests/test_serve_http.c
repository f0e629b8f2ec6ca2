/*
 * The HTTP and WebSocket front end of `uzwhisper serve` (tools/serve/http_*.c) on the tiny fixture
 * model, in process, on free loopback ports, driven by real clients: curl for HTTP (multipart
 * uploads as browsers and SDKs send them) and the `websockets` Python library for /ws/transcribe
 * (tests/clients/ws_stream.py). Checked: POST /transcribe (fields of the answer, language_hint),
 * /transcribe/batch (one bad file among good ones), /v1/audio/transcriptions (json, text, srt,
 * verbose_json and OpenAI's error shape), auth (401 with WWW-Authenticate before the body is read;
 * API key and HS256 JWT accepted), limits (413 upload and audio length, 429 queue, 405, 404, 503
 * when stopping), an abrupt disconnect mid-upload, and a WebSocket stream with every line valid per
 * the protocol checker, with the key in the header or in the HELLO, refused without one.
 */
#define _GNU_SOURCE /* strcasestr, memmem */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

#define KEY "k_http_test_0123456789"
#define SECRET "an-hs256-secret-of-at-least-32-bytes!!"

static char tmpdir[128], tiny[256], wav2[300], wav_bad[300], big[300], wav40[300];
static uzw_model *model;

/* A mono 16 kHz s16 WAV of the first `seconds` of JFK (looped). */
static void write_wav(const char *path, double seconds) {
    size_t m;
    float *pcm = tu_read_f32(tu_src("tests/fixtures/golden/pcm_jfk.f32"), &m);
    cr_assert(pcm);
    size_t n = (size_t)(seconds * 16000); /* JFK again from its start when longer than the clip */
    int16_t *s16 = malloc(sizeof(int16_t) * n);
    cr_assert(s16);
    for (size_t i = 0; i < n; i++) s16[i] = (int16_t)lrintf(fmaxf(-32768.f, fminf(32767.f, pcm[i % m] * 32768.f)));
    size_t size;
    uint8_t *b = tu_wav_s16(16000, 1, (uint32_t)n, s16, &size);
    free(s16);
    cr_assert_eq(tu_write_file(path, b, size), 0);
    free(b);
    free(pcm);
}

static void setup(void) {
    if (tu_tmp_with_tiny_model("uzw-http", tmpdir, sizeof tmpdir, tiny, sizeof tiny) != 0) return;
    char err[256];
    cr_assert_eq(uzw_model_load(tiny, NULL, &model, err, sizeof err), UZW_OK, "%s", err);
    snprintf(wav2, sizeof wav2, "%s/two.wav", tmpdir);
    snprintf(wav_bad, sizeof wav_bad, "%s/bad.wav", tmpdir);
    snprintf(big, sizeof big, "%s/big.wav", tmpdir);
    write_wav(wav2, 2.0);
    write_wav(big, 11.0);
    snprintf(wav40, sizeof wav40, "%s/forty.wav", tmpdir);
    write_wav(wav40, 40.0);
    cr_assert_eq(tu_write_file(wav_bad, "RIFF this is not audio at all", 29), 0);
}
static void teardown(void) {
    uzw_model_free(model);
    if (model) tu_rmtree(tmpdir);
}
TestSuite(serve_http, .init = setup, .fini = teardown, .timeout = 300);

typedef struct {
    uzs_server *srv;
    uzs_http *http;
    uzs_metrics *reg;
    uzs_server_metrics sm;
    uzs_auth *auth;
    int port;
} fixture;

/* Server + HTTP front end; auth on when with_auth (one key and a JWT secret). */
static void start(fixture *f, int with_auth, int workers, size_t max_upload, double max_audio_s) {
    if (!model) cr_skip_test("tiny fixture model missing");
    memset(f, 0, sizeof *f);
    char err[256];
    f->reg = uzs_metrics_new();
    cr_assert_eq(uzs_server_metrics_register(f->reg, &f->sm, err, sizeof err), 0, "%s", err);
    f->auth = uzs_auth_new();
    if (with_auth) {
        cr_assert_eq(uzs_auth_add_keys_text(f->auth, KEY, strlen(KEY), 0, "test", err, sizeof err), 0, "%s", err);
        cr_assert_eq(uzs_auth_set_jwt_secret(f->auth, SECRET, strlen(SECRET), "test", err, sizeof err), 0, "%s", err);
    }
    uzs_server_config c = uzs_server_default_config();
    c.model = model;
    c.model_type = "tiny";
    c.bind_addr = "127.0.0.1";
    c.tcp_port = 0;
    c.max_tokens = 6; /* random weights never say EOT: keep windows short */
    c.default_languages = "en,de";
    c.auth = f->auth;
    c.metrics = &f->sm;
    c.max_audio_s = max_audio_s;
    c.threads_per_pass = 1;
    cr_assert_eq(uzs_server_start(&c, &f->srv, err, sizeof err), 0, "%s", err);
    uzs_http_config hc = {"127.0.0.1", 0, f->reg, &f->sm, NULL, NULL, NULL, f->srv, max_upload, 8, 2.0, workers};
    cr_assert_eq(uzs_http_start(&hc, &f->http, err, sizeof err), 0, "%s", err);
    f->port = uzs_http_port(f->http);
}

static void stop(fixture *f) {
    uzs_http_refuse_new(f->http);
    uzs_server_drain(f->srv, 5);
    uzs_http_stop(f->http, 5);
    uzs_server_stop(f->srv, 0);
    uzs_metrics_free(f->reg);
    uzs_auth_free(f->auth);
}

/* curl: `args` after the URL options; the status code is appended to the body by -w. */
static int curl(const fixture *f, const char *path, const char *args, char *out, size_t cap) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "curl -sS --max-time 120 -o - -w '\\n%%{http_code}' %s 'http://127.0.0.1:%d%s'", args, f->port, path);
    int rc = tu_run(cmd, out, cap);
    cr_assert_eq(rc, 0, "curl failed (is curl installed?): %s", out);
    char *nl = strrchr(out, '\n');
    cr_assert(nl, "%s", out);
    int status = atoi(nl + 1);
    *nl = 0;
    return status;
}

static json_t *parse(const char *body) {
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    cr_assert(j, "not JSON (%s): %s", je.text, body);
    return j;
}

static double metric(const fixture *f, uzs_metric *m, const char *const *labels) {
    double v = -1;
    uzs_metric_get(m, labels, &v);
    (void)f;
    return v;
}

Test(serve_http, transcribe_answers_the_transcript) {
    fixture f;
    start(&f, 0, 1, 1 << 20, 3600);
    static char out[1 << 18];
    char args[1024];
    snprintf(args, sizeof args, "-F 'file=@%s' -F language_hint=en", wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 200, "%s", out);
    json_t *j = parse(out);
    cr_expect_str_eq(json_string_value(json_object_get(j, "file")), "two.wav");
    cr_expect_str_eq(json_string_value(json_object_get(j, "language_detected")), "en");
    cr_expect_str_eq(json_string_value(json_object_get(j, "language_source")), "hint");
    cr_expect(json_is_string(json_object_get(j, "text")));
    cr_expect(fabs(json_number_value(json_object_get(j, "duration")) - 2.0) < 0.01);
    json_t *segs = json_object_get(j, "segments");
    cr_assert(json_array_size(segs) >= 1, "%s", out);
    cr_expect(json_is_array(json_object_get(json_array_get(segs, 0), "words")), "words per segment");
    cr_expect(json_is_array(json_object_get(j, "switches")));
    json_decref(j);
    /* mixed: the server's language set, detection per segment */
    snprintf(args, sizeof args, "-F 'file=@%s' -F language_hint=mixed", wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 200, "%s", out);
    j = parse(out);
    const char *lang = json_string_value(json_object_get(j, "language_detected"));
    cr_expect(lang && (!strcmp(lang, "en") || !strcmp(lang, "de")), "mixed picks from en,de: %s", lang ? lang : "null");
    cr_expect_str_eq(json_string_value(json_object_get(j, "language_source")), "detected");
    json_decref(j);
    /* the raw body with the fields in the query string */
    snprintf(args, sizeof args, "-H 'Content-Type: audio/wav' --data-binary '@%s'", wav2);
    cr_assert_eq(curl(&f, "/transcribe?language_hint=en", args, out, sizeof out), 200, "%s", out);
    /* bad input: 400 with a message, and nothing runs */
    snprintf(args, sizeof args, "-F 'file=@%s' -F language_hint=klingon", wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 400, "%s", out);
    cr_expect(strstr(out, "bad_language"), "%s", out);
    snprintf(args, sizeof args, "-F 'file=@%s'", wav_bad);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 400, "%s", out);
    cr_expect(strstr(out, "bad_audio") && strstr(out, "bad.wav"), "%s", out);
    cr_assert_eq(curl(&f, "/transcribe", "-F language_hint=en", out, sizeof out), 400, "%s", out);
    cr_expect(strstr(out, "no audio file"), "%s", out);
    cr_assert_eq(curl(&f, "/transcribe", "", out, sizeof out), 405, "%s", out); /* GET */
    cr_assert_eq(curl(&f, "/transcribe", "-X POST", out, sizeof out), 411, "no Content-Length: %s", out);
    snprintf(args, sizeof args, "-H 'Transfer-Encoding: chunked' -H 'Content-Type: audio/wav' --data-binary '@%s'", wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 411, "chunked: %s", out);
    cr_assert_eq(curl(&f, "/transcribe", "-X POST -H 'Content-Length: 0'", out, sizeof out), 400, "empty: %s", out);
    cr_assert_eq(curl(&f, "/nowhere", "-X POST -d x=1", out, sizeof out), 404, "%s", out);
    cr_expect_eq(metric(&f, f.sm.requests, (const char *[]){"/transcribe", "200"}), 3);
    cr_expect_eq(metric(&f, f.sm.requests, (const char *[]){"/transcribe", "400"}), 4);
    stop(&f);
}

Test(serve_http, batch_answers_every_file) {
    fixture f;
    start(&f, 0, 1, 1 << 20, 3600);
    static char out[1 << 18];
    char args[1024];
    snprintf(args, sizeof args, "-F 'files=@%s' -F 'files=@%s' -F 'files=@%s' -F language_hint=en", wav2, wav_bad, wav2);
    cr_assert_eq(curl(&f, "/transcribe/batch", args, out, sizeof out), 200, "%s", out);
    json_t *j = parse(out), *r = json_object_get(j, "results");
    cr_assert_eq(json_array_size(r), 3, "%s", out);
    cr_expect_eq(json_integer_value(json_object_get(j, "errors")), 1);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(r, 0), "status")), 200);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(r, 1), "status")), 400);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(r, 1), "error")), "bad_audio");
    cr_expect(json_is_string(json_object_get(json_array_get(r, 2), "text")));
    json_decref(j);
    stop(&f);
}

Test(serve_http, openai_compatible_formats) {
    fixture f;
    start(&f, 0, 1, 1 << 20, 3600);
    static char out[1 << 18];
    char args[1024];
    snprintf(args, sizeof args, "-F 'file=@%s' -F model=whisper-1 -F language=en", wav2);
    cr_assert_eq(curl(&f, "/v1/audio/transcriptions", args, out, sizeof out), 200, "%s", out);
    json_t *j = parse(out);
    cr_expect(json_is_string(json_object_get(j, "text")) && json_object_size(j) == 1, "json is {\"text\"}: %s", out);
    json_decref(j);
    snprintf(args, sizeof args, "-F 'file=@%s' -F language=english -F response_format=verbose_json "
                                "-F 'timestamp_granularities[]=word' -F temperature=0", wav2);
    cr_assert_eq(curl(&f, "/v1/audio/transcriptions", args, out, sizeof out), 200, "%s", out);
    j = parse(out);
    cr_expect_str_eq(json_string_value(json_object_get(j, "language")), "english");
    cr_expect_str_eq(json_string_value(json_object_get(j, "task")), "transcribe");
    json_t *s0 = json_array_get(json_object_get(j, "segments"), 0);
    static const char *const keys[] = {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                                       "compression_ratio", "no_speech_prob"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) cr_expect(json_object_get(s0, keys[k]), "segment key %s", keys[k]);
    cr_expect(json_is_array(json_object_get(j, "words")), "%s", out);
    json_decref(j);
    snprintf(args, sizeof args, "-F 'file=@%s' -F language=en -F response_format=srt", wav2);
    cr_assert_eq(curl(&f, "/v1/audio/transcriptions", args, out, sizeof out), 200, "%s", out);
    cr_expect(!strncmp(out, "1\n00:00:", 8), "srt: %s", out);
    snprintf(args, sizeof args, "-F 'file=@%s' -F response_format=xml", wav2);
    cr_assert_eq(curl(&f, "/v1/audio/transcriptions", args, out, sizeof out), 400, "%s", out);
    j = parse(out);
    json_t *e = json_object_get(j, "error");
    cr_expect(json_is_string(json_object_get(e, "message")) && json_is_string(json_object_get(e, "type")), "OpenAI error shape: %s", out);
    json_decref(j);
    stop(&f);
}

/* An HS256 JWT {"sub":"t","exp":exp} signed with SECRET (base64url, no padding). */
static void b64url(const uint8_t *in, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63], out[o++] = a[v >> 12 & 63];
        if (i + 1 < n) out[o++] = a[v >> 6 & 63];
        if (i + 2 < n) out[o++] = a[v & 63];
    }
    out[o] = 0;
}
static void make_jwt(long long exp, char *out, size_t cap) {
    char h[64], p[128], claims[96], sig[64];
    b64url((const uint8_t *)"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 27, h);
    int n = snprintf(claims, sizeof claims, "{\"sub\":\"t\",\"exp\":%lld}", exp);
    b64url((const uint8_t *)claims, (size_t)n, p);
    char signing[256];
    n = snprintf(signing, sizeof signing, "%s.%s", h, p);
    uint8_t mac[32];
    unsigned ml = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const uint8_t *)signing, (size_t)n, mac, &ml);
    b64url(mac, ml, sig);
    snprintf(out, cap, "%s.%s", signing, sig);
}

Test(serve_http, auth_is_checked_before_the_body) {
    fixture f;
    start(&f, 1, 1, 1 << 20, 3600);
    static char out[1 << 18];
    char args[2048], jwt[512];
    snprintf(args, sizeof args, "-i -F 'file=@%s' -F language_hint=en", wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 401, "%s", out);
    cr_expect(strcasestr(out, "WWW-Authenticate: Bearer"), "%s", out);
    snprintf(args, sizeof args, "-H 'Authorization: Bearer wrong-key-0123456789' -F 'file=@%s'", wav2);
    cr_assert_eq(curl(&f, "/v1/audio/transcriptions", args, out, sizeof out), 401, "%s", out);
    make_jwt((long long)time(NULL) - 3600, jwt, sizeof jwt);
    snprintf(args, sizeof args, "-H 'Authorization: Bearer %s' -F 'file=@%s'", jwt, wav2);
    cr_assert_eq(curl(&f, "/transcribe/batch", args, out, sizeof out), 401, "expired JWT: %s", out);
    cr_expect_eq(metric(&f, f.sm.audio_seconds, NULL), 0, "nothing was transcribed");
    snprintf(args, sizeof args, "-H 'Authorization: Bearer %s' -F 'file=@%s' -F language_hint=en", KEY, wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 200, "%s", out);
    make_jwt((long long)time(NULL) + 3600, jwt, sizeof jwt);
    snprintf(args, sizeof args, "-H 'Authorization: bearer %s' -F 'file=@%s' -F language_hint=en", jwt, wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 200, "%s", out);
    cr_assert_eq(curl(&f, "/health", "", out, sizeof out), 200, "probes need no key: %s", out);
    cr_assert_eq(curl(&f, "/metrics", "", out, sizeof out), 200, "%s", out);
    cr_expect(strstr(out, "asr_auth_failures_total{reason=\"missing\"} 1"), "%s", out);
    cr_expect(strstr(out, "asr_auth_failures_total{reason=\"expired\"} 1"), "%s", out);
    cr_expect(strstr(out, "asr_requests_total{endpoint=\"/transcribe\",status=\"401\"} 1"), "%s", out);
    stop(&f);
}

Test(serve_http, limits_answer_and_never_drop) {
    fixture f;
    start(&f, 0, 1, 200000, 5); /* 200 kB uploads, 5 s of audio */
    static char out[1 << 18];
    char args[1024];
    snprintf(args, sizeof args, "-F 'file=@%s'", big); /* 11 s: 352 kB */
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 413, "%s", out);
    cr_expect(strstr(out, "too_large"), "%s", out);
    stop(&f);
    start(&f, 0, 1, 1 << 20, 5);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 413, "11 s of audio over a 5 s limit: %s", out);
    cr_expect(strstr(out, "5 s") || strstr(out, "too long"), "%s", out);
    stop(&f);
    start(&f, 0, -1, 1 << 20, 3600); /* no worker: the queue is always full */
    snprintf(args, sizeof args, "-i -F 'file=@%s'", wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 429, "%s", out);
    cr_expect(strcasestr(out, "Retry-After"), "%s", out);
    uzs_http_refuse_new(f.http);
    snprintf(args, sizeof args, "-F 'file=@%s'", wav2);
    cr_assert_eq(curl(&f, "/transcribe", args, out, sizeof out), 503, "stopping: %s", out);
    cr_assert_eq(curl(&f, "/ready", "", out, sizeof out), 503, "%s", out);
    stop(&f);
}

Test(serve_http, abrupt_disconnect_frees_the_request) {
    fixture f;
    start(&f, 0, 1, 1 << 20, 3600);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char *req = "POST /transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                      "Content-Length: 100000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF";
    cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    cr_expect_eq(metric(&f, f.sm.active_connections, (const char *[]){"http"}), 1, "the upload is in progress");
    close(fd); /* gone mid-upload */
    double v = 1;
    for (int i = 0; i < 50 && v != 0; i++) nanosleep(&ts, NULL), v = metric(&f, f.sm.active_connections, (const char *[]){"http"});
    cr_expect_eq(v, 0, "the request was freed when its client left");
    cr_expect_eq(uzs_http_busy(f.http), 0);
    /* a trickling upload: 408 once the upload timeout (2 s here) has passed */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    char buf[4096] = "";
    for (int i = 0; i < 25 && !buf[0]; i++) { /* a byte every 0.2 s: never idle */
        nanosleep(&ts, NULL);
        cr_assert_eq(send(fd, "x", 1, MSG_NOSIGNAL), 1);
        if (recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT) <= 0) buf[0] = 0;
    }
    cr_expect(!strncmp(buf, "HTTP/1.1 408", 12), "a trickle is cut: '%.60s'", buf);
    close(fd);
    stop(&f);
}

/* SIGTERM's sequence (cmd_serve.c) with a request running: it is answered, not cut. */
Test(serve_http, stopping_answers_the_request_in_flight) {
    fixture f;
    start(&f, 0, 1, 4 << 20, 3600);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "curl -sS --max-time 120 -o /dev/null -w '%%{http_code}' -F 'file=@%s' -F language_hint=en "
             "'http://127.0.0.1:%d/transcribe' 2>&1", wav40, f.port);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    struct timespec ts = {0, 20000000};
    for (int i = 0; i < 500 && uzs_http_busy(f.http) == 0; i++) nanosleep(&ts, NULL);
    cr_assert_gt(uzs_http_busy(f.http), 0, "the request never reached a worker");
    stop(&f); /* refuse new, drain streams, drain requests, free */
    char out[64] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    cr_expect_str_eq(out, "200", "the request in flight was answered: %s", out);
}

/* ---------------------------------------------------------------- WebSocket */

/* A Python with the websockets library: the test venv of this build or of build/, else python3 on
 * PATH (tools/test.sh puts the venv first) if it can import websockets. */
static const char *python(void) {
    static char py[512];
    const char *cands[] = {tu_build("test-venv/bin/python"), tu_src("build/test-venv/bin/python")};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (tu_exists(cands[i])) return snprintf(py, sizeof py, "%s", cands[i]), py;
    char out[256];
    if (tu_run("python3 -c 'import websockets'", out, sizeof out) == 0) return "python3";
    if (getenv("CI")) cr_assert_fail("no Python with websockets: tools/setup-test-tools.sh installs it into build/test-venv");
    cr_skip_test("no Python with websockets (tools/setup-test-tools.sh installs it into build/test-venv)");
    return NULL;
}

static int ws_file(const fixture *f, const char *wav, const char *extra, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s ws://127.0.0.1:%d/ws/transcribe %s %s", python(), tu_src("tests/clients/ws_stream.py"),
             f->port, wav, extra);
    return tu_run(cmd, out, cap);
}

static int ws(const fixture *f, const char *extra, char *out, size_t cap) { return ws_file(f, wav2, extra, out, cap); }

/* Every line a server message per the protocol checker; returns how many of type `type`. */
static int count_type(const char *out, const char *type) {
    int n = 0;
    char want[64];
    snprintf(want, sizeof want, "\"type\":\"%s\"", type);
    for (const char *l = out; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char err[256];
        cr_assert_neq(uzs_msg_check(l, len, err, sizeof err), UZS_MSG_UNKNOWN, "message '%.*s': %s", (int)len, l, err);
        if (memmem(l, len, want, strlen(want))) n++;
        l += len + (e != NULL);
    }
    return n;
}

Test(serve_http, websocket_stream_with_the_key_in_the_header_or_hello) {
    fixture f;
    start(&f, 1, 1, 1 << 20, 3600);
    static char out[1 << 18];
    cr_assert_eq(ws(&f, "--bearer " KEY, out, sizeof out), 0, "%s", out);
    cr_expect_eq(count_type(out, "ready"), 1, "%s", out);
    cr_expect_eq(count_type(out, "end"), 1, "%s", out);
    cr_expect(strstr(out, "\"audio_seconds\":2.0") || strstr(out, "\"audio_seconds\":2,"), "all 2 s accounted for: %s", out);
    cr_assert_eq(ws(&f, "--key " KEY, out, sizeof out), 0, "%s", out);
    cr_expect_eq(count_type(out, "end"), 1, "%s", out);
    /* no credentials: an unauthorized error line, no ready */
    cr_assert_eq(ws(&f, "", out, sizeof out), 0, "%s", out);
    cr_expect_eq(count_type(out, "ready"), 0, "%s", out);
    cr_expect(strstr(out, "\"code\":\"unauthorized\""), "%s", out);
    /* a bad Bearer header: the upgrade itself is refused */
    cr_assert_eq(ws(&f, "--bearer wrong-key-0123456789", out, sizeof out), 3, "%s", out);
    cr_expect(strstr(out, "refused 401"), "%s", out);
    cr_expect_eq(metric(&f, f.sm.requests, (const char *[]){"/ws/transcribe", "ok"}), 2);
    stop(&f);
}

/* 40 s sent as fast as the client can: the stream thread decodes while more arrives, the socketpair
 * fills and reading from the client pauses (flow control); nothing may be lost. */
Test(serve_http, websocket_sent_at_once_loses_nothing) {
    fixture f;
    start(&f, 0, 1, 1 << 20, 3600);
    static char out[1 << 20];
    cr_assert_eq(ws_file(&f, wav40, "", out, sizeof out), 0, "%s", out);
    cr_expect_eq(count_type(out, "end"), 1, "%s", out);
    cr_expect(strstr(out, "\"audio_seconds\":40.0") || strstr(out, "\"audio_seconds\":40,"), "all 40 s accounted for: %s",
              strstr(out, "\"type\":\"end\"") ? strstr(out, "\"type\":\"end\"") : out);
    cr_expect(strstr(out, "\"error_seconds\":0"), "no audio answered with an error");
    stop(&f);
}

/* ---------------------------------------------------------------- cancellation (what a client that
 * leaves mid-request triggers): the engine asks before every 30 s window */

static int cancel_after(void *user) { return --*(int *)user < 0; }

Test(serve_http, the_engine_stops_at_the_next_window_when_cancelled) {
    if (!model) cr_skip_test("tiny fixture model missing");
    size_t n = 75 * 16000; /* three windows */
    float *pcm = calloc(n, sizeof *pcm);
    for (size_t i = 0; i < n; i++) pcm[i] = 0.1f * sinf((float)i * 0.05f);
    uzw_context *ctx;
    cr_assert_eq(uzw_context_create(model, &ctx), UZW_OK);
    uzw_params p = uzw_default_params();
    p.language = "en";
    p.max_tokens_per_window = 4;
    p.no_speech_threshold = 2; /* never skip a window as silence */
    int left = 1;
    p.cancel = cancel_after;
    p.cancel_user = &left;
    cr_assert_eq(uzw_transcribe_pcm(ctx, pcm, n, &p), UZW_ERR_CANCELLED, "%s", uzw_last_error(ctx));
    cr_expect(strstr(uzw_last_error(ctx), "cancelled at 30.00 s"), "one window ran: %s", uzw_last_error(ctx));
    left = 100;
    cr_assert_eq(uzw_transcribe_pcm(ctx, pcm, n, &p), UZW_OK, "%s", uzw_last_error(ctx));
    cr_expect_eq(uzw_get_timings(ctx).n_windows, 3);
    uzw_context_free(ctx);
    free(pcm);
}
