/*
 * fuzz_http.c - libFuzzer target for the HTTP and WebSocket inputs of `uzwhisper serve`
 * (tools/serve/http_*.c on libwebsockets, the WebSocket bridged into tcp_server.c's streams).
 *
 * Once: the tiny fixture model (tests/fixtures/tiny-random/hf, converted in process to a temporary
 * .uzw; or $UZW_FUZZ_MODEL; or models/default.uzw) behind an in-process stream server and HTTP
 * front end on free loopback ports, auth on (one API key and an HS256 secret), workers = -1 (no
 * transcription runs: a request that passes every check is answered 429), a 64 KiB upload limit,
 * the standard metrics.
 *
 * Per input, a fresh TCP connection to the HTTP port. Byte 0 picks the mode (low 2 bits) and
 * flags (the rest); the bytes after the mode's header go to the server:
 *   0  raw: everything after byte 0 as it is.
 *   1  POST: byte 1 = endpoint (bits 0-1), Authorization (bits 2-4, table `auths`), content type
 *      (bits 5-6), query string (bit 7); byte 0 bits 2-4 = body framing (enum framing: the right
 *      Content-Length, chunked, a Content-Length that claims more than is sent, one over the
 *      limit, none); the rest is the body (multipart with the boundary BOUNDARY, the seeds hold
 *      valid forms).
 *   2  WebSocket: byte 1 = Authorization (bits 0-2), wrong path (bit 3), message size (bits 4-6: 0
 *      one message, k: 2^(k+1) bytes), keep reading (bit 7); byte 0 bit 2 = a PING control frame
 *      between messages, bit 3 = a close frame at the end, bit 4 = the first message as text,
 *      bit 5 = pipelined (sent right behind the upgrade request instead of after the 101); the
 *      rest is the uzw-stream/1 byte stream, sent as masked client messages.
 *   3  WebSocket, raw: byte 1 and byte 0 bit 5 as in mode 2; the rest sent as it is after the
 *      upgrade.
 * The client reads until a whole answer is in (at most ANSWER_MS, or MUST_ANSWER_MS for a
 * complete request); after a 101 it sends the WebSocket messages and reads for ANSWER_MS more.
 * Then it shuts down its sending side (not with "keep reading"), reads on until the server closes
 * or READ_MS passes, and closes. Before the next input it waits (at most IDLE_MS) until the
 * server is idle again (no HTTP request or WebSocket stream alive) and its threads have freed as
 * many blocks as were allocated since the input began (malloc/free hooks; SETTLE_MS at most once
 * idle), so libFuzzer's per-input leak check compares a settled process.
 *
 * Properties (abort() on violation: a finding):
 *   - a reply starts with "HTTP/1.x NNN " (HTTP/1.1 for the structured modes);
 *   - a complete request (a POST with its Content-Length, a WebSocket upgrade) is answered within
 *     MUST_ANSWER_MS; so is a chunked or length-less POST when ANSWER_UNFRAMED is 1;
 *   - no 5xx other than 503;
 *   - POST to a known endpoint: a bad or missing credential gets 401 with WWW-Authenticate (auth
 *     is checked before the body); a valid one never gets 401 and never 200 (nothing transcribes:
 *     400, 411, 413 or 429), and 413 for a Content-Length over the limit; an unknown path 404;
 *   - WebSocket upgrade: a wrong path 404, a bad credential 401, else 101; after 101 every server
 *     frame is unmasked, every text message is one valid uzw-stream/1 line (uzs_msg_check), the
 *     first one "ready" or "error".
 * Seeds: tests/fuzz/corpus_http/ (tests/fuzz/gen_corpus_http.py). Run: tools/fuzz.sh.
 * Environment: UZW_FUZZ_HTTP_VERBOSE=1 prints each reply's first line, the WebSocket lines and the
 * time of each input; with it, UZW_FUZZ_HTTP_DUMP=FILE writes the bytes sent; UZW_FUZZ_HTTP_STRICT=0
 * (see ANSWER_UNFRAMED); UZW_FUZZ_MODEL, UZW_FUZZ_SOURCE_DIR (see load_model).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sanitizer/allocator_interface.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "http_server.h"
#include "import.h"
#include "metrics_registry.h"
#include "protocol.h"
#include "server.h"
#include "uzwhisper.h"

/* shared with tests/fuzz/gen_corpus_http.py */
#define API_KEY "fuzz-http-key-0123456789"
#define SECRET "fuzz-http-secret-0123456789abcdef0123456789"
#define BOUNDARY "uzwfuzzboundary"

#define MAX_UPLOAD (64u << 10) /* bytes */
#define ANSWER_MS 30           /* the wait for a whole answer before the client ends its data */
#define READ_MS 100            /* the longest wait for more of a reply */
#define MUST_ANSWER_MS 2000    /* a complete request unanswered this long: a finding */
/* 1: a POST with Transfer-Encoding: chunked or without Content-Length must be answered too
 * (RFC 9112 section 6.3: no length means an empty body; chunked must be read or refused: the
 * server answers 411, since libwebsockets 4.1 would wait for a body completion that never comes).
 * $UZW_FUZZ_HTTP_STRICT=0 only counts such requests left unanswered (printed at exit). */
#define ANSWER_UNFRAMED 1
#define IDLE_MS 1000           /* the longest wait for the server to be idle again */
#define SETTLE_MS 20           /* then the longest wait for its last frees */
#define REPLY_CAP (1u << 20)   /* bytes of a reply kept */

/* ---------------------------------------------------------------- the server (built once) */

static uzw_model *model;
static uzs_auth *auth;
static uzs_metrics *reg;
static uzs_server_metrics sm;
static uzs_server *srv;
static uzs_http *http;
static int port, verbose;


/* Credentials for the Authorization header; `valid` says whether the server must accept it. */
typedef struct {
    char value[640]; /* the header value; "" = no header */
    int valid;
} credential;
enum { N_AUTHS = 8 };
static credential auths[N_AUTHS];

/* blocks allocated and freed by any thread (sanitizer hooks, as libFuzzer counts them) */
static atomic_long n_mallocs, n_frees;
static void malloc_hook(const volatile void *p, size_t size) { (void)p, (void)size, atomic_fetch_add(&n_mallocs, 1); }
static void free_hook(const volatile void *p) { (void)p, atomic_fetch_add(&n_frees, 1); }

static long statuses[600]; /* replies seen by status (printed at exit) */
static long no_reply, idle_timeouts, unframed_unanswered;
static int strict_unframed = ANSWER_UNFRAMED;

static void b64url(const uint8_t *in, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n) out[o++] = a[v >> 6 & 63];
        if (i + 2 < n) out[o++] = a[v & 63];
    }
    out[o] = 0;
}

/* "Bearer " + a JWT of header `hdr` and claims `claims`, signed HS256 with SECRET. */
static void make_jwt(const char *hdr, const char *claims, char *out, size_t cap) {
    char h[256], p[256], sig[64], signing[600];
    b64url((const uint8_t *)hdr, strlen(hdr), h);
    b64url((const uint8_t *)claims, strlen(claims), p);
    snprintf(signing, sizeof signing, "%s.%s", h, p);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)signing, strlen(signing), mac, &ml)) abort();
    b64url(mac, ml, sig);
    snprintf(out, cap, "Bearer %s.%s", signing, sig);
}

static void make_credentials(void) {
    long long now = (long long)time(NULL);
    char claims[128];
    const char *hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    auths[0] = (credential){"", 0};
    snprintf(auths[1].value, sizeof auths[1].value, "Bearer " API_KEY), auths[1].valid = 1;
    snprintf(auths[2].value, sizeof auths[2].value, "Bearer fuzz-http-key-0123456788"), auths[2].valid = 0;
    snprintf(claims, sizeof claims, "{\"sub\":\"fuzz\",\"exp\":%lld}", now + 10LL * 365 * 86400);
    make_jwt(hs, claims, auths[3].value, sizeof auths[3].value), auths[3].valid = 1;
    snprintf(claims, sizeof claims, "{\"sub\":\"fuzz\",\"exp\":%lld}", now - 3600);
    make_jwt(hs, claims, auths[4].value, sizeof auths[4].value), auths[4].valid = 0;
    snprintf(auths[5].value, sizeof auths[5].value, "%s", auths[3].value); /* one signature character changed */
    char *last = auths[5].value + strlen(auths[5].value) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    auths[5].valid = 0;
    snprintf(claims, sizeof claims, "{\"sub\":\"fuzz\",\"exp\":%lld}", now + 86400);
    make_jwt("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, auths[6].value, sizeof auths[6].value), auths[6].valid = 0;
    snprintf(auths[7].value, sizeof auths[7].value, "Basic Zm9vOmJhcg=="), auths[7].valid = 0;
}

/* The repository root: this file is <root>/tests/fuzz/fuzz_http.c (CMake compiles it by its
 * absolute path); $UZW_FUZZ_SOURCE_DIR overrides. */
static void source_dir(char *out, size_t cap) {
    const char *env = getenv("UZW_FUZZ_SOURCE_DIR");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    snprintf(out, cap, "%s", __FILE__);
    char *t = strstr(out, "/tests/fuzz/fuzz_http.c");
    if (t && out[0] == '/') *t = 0;
    else snprintf(out, cap, ".");
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

/* The model: $UZW_FUZZ_MODEL, else the tiny fixture converted here, else models/default.uzw. */
static void load_model(void) {
    char err[1024] = "", root[4096], path[4200];
    const char *env = getenv("UZW_FUZZ_MODEL");
    if (env && *env) {
        if (uzw_model_load(env, NULL, &model, err, sizeof err) != UZW_OK) {
            fprintf(stderr, "fuzz_http: cannot load UZW_FUZZ_MODEL=%s: %s\n", env, err);
            abort();
        }
        return;
    }
    source_dir(root, sizeof root);
    snprintf(path, sizeof path, "%s/tests/fixtures/tiny-random/hf", root);
    if (exists(path)) {
        char tmpdir[64], tmpmodel[128];
        snprintf(tmpdir, sizeof tmpdir, "/tmp/uzw-fuzz-http-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("fuzz_http: mkdtemp");
            abort();
        }
        snprintf(tmpmodel, sizeof tmpmodel, "%s/tiny.uzw", tmpdir);
        uzw_import im;
        uzw_import_init(&im);
        int rc = uzw_import_hf(path, &im, err, sizeof err);
        if (rc == 0) rc = uzw_import_write(&im, tmpmodel, UZW_DT_F32, err, sizeof err);
        uzw_import_free(&im);
        if (rc == 0) rc = uzw_model_load(tmpmodel, NULL, &model, err, sizeof err) == UZW_OK ? 0 : -1;
        unlink(tmpmodel); /* mapped: the model stays readable; nothing is left behind after an abort */
        rmdir(tmpdir);
        if (rc == 0) {
            fprintf(stderr, "fuzz_http: model: %s (converted in process)\n", path);
            return;
        }
        fprintf(stderr, "fuzz_http: cannot convert %s: %s\n", path, err);
    }
    snprintf(path, sizeof path, "%s/models/default.uzw", root);
    if (exists(path) && uzw_model_load(path, NULL, &model, err, sizeof err) == UZW_OK) {
        fprintf(stderr, "fuzz_http: model: %s\n", path);
        return;
    }
    fprintf(stderr,
            "fuzz_http: no model: neither %s/tests/fixtures/tiny-random/hf nor %s/models/default.uzw could be loaded (%s);\n"
            "  set UZW_FUZZ_MODEL to a .uzw file or UZW_FUZZ_SOURCE_DIR to the repository\n",
            root, root, err);
    abort();
}

static void at_exit(void) {
    fprintf(stderr, "fuzz_http: replies by status:");
    for (int i = 0; i < 600; i++)
        if (statuses[i]) fprintf(stderr, " %d:%ld", i, statuses[i]);
    fprintf(stderr, "; no reply: %ld (chunked or length-less POSTs among them: %ld); server not idle after %d ms: %ld\n",
            no_reply, unframed_unanswered, IDLE_MS, idle_timeouts);
    /* the servers stay up: libFuzzer exits from inside its loop, with connections possibly open */
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    verbose = getenv("UZW_FUZZ_HTTP_VERBOSE") != NULL;
    __sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook);
    if (getenv("UZW_FUZZ_HTTP_STRICT")) strict_unframed = atoi(getenv("UZW_FUZZ_HTTP_STRICT")) != 0;
    load_model();
    make_credentials();
    char err[512];
    auth = uzs_auth_new();
    reg = uzs_metrics_new();
    if (!auth || !reg || uzs_auth_add_keys_text(auth, API_KEY, strlen(API_KEY), 0, "fuzz", err, sizeof err) != 0 ||
        uzs_auth_set_jwt_secret(auth, SECRET, strlen(SECRET), "fuzz", err, sizeof err) != 0 ||
        uzs_server_metrics_register(reg, &sm, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_http: setup: %s\n", err);
        abort();
    }
    uzs_server_config c = uzs_server_default_config();
    c.model = model;
    c.model_type = "tiny";
    c.auth = auth;
    c.metrics = &sm;
    c.bind_addr = "127.0.0.1";
    c.tcp_port = 0;
    c.max_connections = 4;
    c.max_passes = 1;
    c.threads_per_pass = 1;
    c.idle_timeout_s = 2;
    c.max_session_s = 5;
    c.max_audio_s = 30;
    c.max_tokens = 4; /* random weights never say EOT: keep passes short */
    c.default_languages = "en,de";
    if (uzs_server_start(&c, &srv, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_http: stream server: %s\n", err);
        abort();
    }
    uzs_http_config hc = {.bind_addr = "127.0.0.1", .port = 0, .registry = reg, .metrics = &sm, .server = srv,
                          .max_upload_bytes = MAX_UPLOAD, .max_queue = 4, .workers = -1};
    if (uzs_http_start(&hc, &http, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_http: HTTP server: %s\n", err);
        abort();
    }
    port = uzs_http_port(http);
    atexit(at_exit);
    return 0;
}

/* ---------------------------------------------------------------- the client */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) abort();
        b->p = q, b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) abort();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("fuzz_http: connect to the HTTP port");
        abort(); /* the server stopped listening: a finding */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* The end of the headers (offset of the body), or 0 when they are not complete. */
static size_t header_end(const buf *r) {
    for (size_t i = 0; i + 4 <= r->n; i++)
        if (!memcmp(r->p + i, "\r\n\r\n", 4)) return i + 4;
    return 0;
}

/* A header's presence in the head of a reply (case-insensitive name, with its colon). */
static int has_header(const buf *r, const char *name) {
    size_t he = header_end(r), nl = strlen(name);
    for (size_t i = 0; he && i + nl + 2 <= he; i++)
        if ((i == 0 || r->p[i - 1] == '\n') && !strncasecmp((const char *)r->p + i, name, nl)) return 1;
    return 0;
}

/* A whole reply has arrived: a 101's head, or a head and its Content-Length of body (or the last
 * chunk). Without either, only the close ends it. */
static int complete(const buf *r) {
    size_t he = header_end(r);
    if (!he) return 0;
    if (r->n >= 13 && !memcmp(r->p + 8, " 101 ", 5)) return 1;
    for (size_t i = 0; i + 16 <= he; i++)
        if (r->p[i] == '\n' && !strncasecmp((const char *)r->p + i + 1, "content-length:", 15)) {
            unsigned long long cl = strtoull((const char *)r->p + i + 16, NULL, 10);
            return r->n - he >= cl;
        }
    return has_header(r, "transfer-encoding:") && r->n >= he + 5 && !memcmp(r->p + r->n - 5, "0\r\n\r\n", 5);
}

/* Read what comes until the peer closes (returns 1), `until` (monotonic ms) passes or, with
 * whole, a whole reply is in (returns 0). */
static int read_reply(int fd, buf *r, double until, int whole) {
    uint8_t tmp[16384];
    for (;;) {
        if (whole && complete(r)) return 0;
        double left = until - now_ms();
        if (left <= 0) return 0;
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, (int)left + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) return 0;
        ssize_t k = recv(fd, tmp, sizeof tmp, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return 1;
        if (r->n + (size_t)k <= REPLY_CAP) put(r, tmp, (size_t)k);
    }
}

/* Send everything (the server may close early: then the rest is dropped), reading meanwhile so
 * neither side blocks on a full buffer. */
static void send_all(int fd, const buf *b, buf *r) {
    size_t off = 0;
    while (off < b->n) {
        struct pollfd pf = {fd, POLLOUT | POLLIN, 0};
        if (poll(&pf, 1, READ_MS) <= 0) return;
        if (pf.revents & POLLIN) {
            uint8_t tmp[16384];
            ssize_t k = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
            if (k == 0) return;
            if (k > 0 && r->n + (size_t)k <= REPLY_CAP) put(r, tmp, (size_t)k);
        }
        if (pf.revents & (POLLERR | POLLHUP)) return;
        if (pf.revents & POLLOUT) {
            ssize_t k = send(fd, b->p + off, b->n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (k <= 0) return;
            off += (size_t)k;
        }
    }
}

/* The status of a reply that starts with "HTTP/1.x NNN ", else -1 (0 for no reply). A reply to a
 * structured request must be HTTP/1.1. */
static int status_of(const buf *r, int need_11) {
    if (!r->n) return 0;
    const char *p = (const char *)r->p;
    if (r->n < 13 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '1' && (need_11 || p[7] != '0')) || p[8] != ' ' ||
        p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' || p[12] != ' ')
        return -1;
    return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

static const buf *cur_req; /* the request of the input being run (for a finding's report) */

static void fail(const char *what, const buf *r) {
    fprintf(stderr, "fuzz_http: FINDING: %s\n--- request (%zu bytes) ---\n%.*s\n--- reply (%zu bytes) ---\n%.*s\n---\n", what,
            cur_req->n, (int)(cur_req->n < 2000 ? cur_req->n : 2000), cur_req->p ? (const char *)cur_req->p : "", r->n,
            (int)(r->n < 2000 ? r->n : 2000), r->p ? (const char *)r->p : "");
    abort();
}

/* Common checks on any HTTP reply; returns its status (0: none). */
static int check_reply(const buf *r, int need_11) {
    int st = status_of(r, need_11);
    if (st < 0) fail("the reply does not start with an HTTP/1.1 status line", r);
    if (st >= 500 && st != 503) fail("a 5xx other than 503", r);
    if (st == 401 && !has_header(r, "www-authenticate:")) fail("a 401 without WWW-Authenticate", r);
    if (st) statuses[st]++;
    else no_reply++;
    if (verbose) {
        size_t e = 0;
        while (e < r->n && r->p[e] != '\r' && r->p[e] != '\n') e++;
        fprintf(stderr, "fuzz_http: reply: %.*s (%zu bytes)\n", (int)e, (const char *)r->p, r->n);
    }
    return st;
}

/* Wait until no request or stream is alive (metrics gauges, the job queue, the stream server). */
static void wait_idle(long mallocs0, long frees0) {
    double until = now_ms() + IDLE_MS;
    static const char *const http_l[] = {"http"}, *const ws_l[] = {"websocket"};
    for (;;) {
        double nh = 0, nw = 0;
        uzs_metric_get(sm.active_connections, http_l, &nh);
        uzs_metric_get(sm.active_connections, ws_l, &nw);
        int idle = nh == 0 && nw == 0 && uzs_http_busy(http) == 0 && uzs_server_active(srv) == 0;
        /* the request is over once the server is idle; a little longer for its last frees (what
         * stays allocated for good, e.g. a metric series seen for the first time, ends the wait
         * after SETTLE_MS) */
        if (idle && atomic_load(&n_mallocs) - mallocs0 <= atomic_load(&n_frees) - frees0) return;
        if (idle && until > now_ms() + SETTLE_MS) until = now_ms() + SETTLE_MS;
        if (now_ms() > until) {
            if (idle) return;
            idle_timeouts++;
            if (verbose) fprintf(stderr, "fuzz_http: not idle: http %g, websocket %g, streams %d\n", nh, nw, uzs_server_active(srv));
            return;
        }
        usleep(1000);
    }
}

/* ---------------------------------------------------------------- mode 1: POST */

static const char *const endpoints[4] = {"/transcribe", "/transcribe/batch", "/v1/audio/transcriptions",
                                         "/v1/audio/translations"};

/* How a POST's body is delimited (byte 0 bits 2-4; 5 to 7 are FR_LENGTH again). */
enum framing { FR_LENGTH, FR_CHUNKED, FR_SHORT, FR_HUGE, FR_NONE };
static enum framing framing_of(uint8_t byte0) {
    int f = byte0 >> 2 & 7;
    return f <= FR_NONE ? (enum framing)f : FR_LENGTH;
}

static void post(const uint8_t *d, size_t n, enum framing framing, buf *req) {
    uint8_t b1 = n ? d[0] : 0;
    const uint8_t *body = n ? d + 1 : d;
    size_t blen = n ? n - 1 : 0;
    int ep = b1 & 3, au = b1 >> 2 & 7, ct = b1 >> 5 & 3, query = b1 >> 7 & 1;
    char line[1024];
    snprintf(line, sizeof line, "POST %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n", endpoints[ep],
             query ? "?language_hint=uz&response_format=json" : "");
    puts_(req, line);
    if (auths[au].value[0]) {
        snprintf(line, sizeof line, "Authorization: %s\r\n", auths[au].value);
        puts_(req, line);
    }
    static const char *const ctypes[4] = {("multipart/form-data; boundary=" BOUNDARY), "multipart/form-data",
                                          "application/x-www-form-urlencoded", "audio/wav"};
    snprintf(line, sizeof line, "Content-Type: %s\r\n", ctypes[ct]);
    puts_(req, line);
    if (framing == FR_CHUNKED) {
        puts_(req, "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t o = 0; o < blen;) { /* chunks of 1, 2, 4 ... bytes */
            size_t k = (size_t)1 << (o % 11);
            if (k > blen - o) k = blen - o;
            snprintf(line, sizeof line, "%zx\r\n", k);
            puts_(req, line);
            put(req, body + o, k);
            puts_(req, "\r\n");
            o += k;
        }
        puts_(req, "0\r\n\r\n");
        return;
    }
    size_t cl = framing == FR_LENGTH ? blen : framing == FR_SHORT ? blen + blen / 2 + 1 : (size_t)MAX_UPLOAD * 4;
    snprintf(line, sizeof line, "Content-Length: %zu\r\n", cl);
    if (framing != FR_NONE) puts_(req, line);
    puts_(req, "\r\n");
    put(req, body, blen);
}

/* ---------------------------------------------------------------- modes 2 and 3: WebSocket */

/* One client frame: FIN + opcode, masked payload. */
static void ws_frame(buf *b, int opcode, const uint8_t *p, size_t n, uint32_t seed) {
    uint8_t h[14];
    size_t k = 0;
    h[k++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        h[k++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        h[k++] = 0x80 | 126, h[k++] = (uint8_t)(n >> 8), h[k++] = (uint8_t)n;
    } else {
        h[k++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) h[k++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    uint8_t mask[4] = {(uint8_t)(seed * 0x9e), (uint8_t)(seed >> 8 | 1), 0x5a, (uint8_t)(seed * 7 + 3)};
    memcpy(h + k, mask, 4), k += 4;
    put(b, h, k);
    size_t at = b->n;
    put(b, p, n);
    for (size_t i = 0; i < n; i++) b->p[at + i] ^= mask[i & 3];
}

static void upgrade(buf *req, int au, int wrong_path) {
    char line[1024];
    snprintf(line, sizeof line,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dXp3aGlzcGVyLWZ1enotMQ==\r\nSec-WebSocket-Version: 13\r\n",
             wrong_path ? "/ws/other" : "/ws/transcribe");
    puts_(req, line);
    if (auths[au].value[0]) {
        snprintf(line, sizeof line, "Authorization: %s\r\n", auths[au].value);
        puts_(req, line);
    }
    puts_(req, "\r\n");
}

/* Server frames after "101": unmasked; each text message a valid protocol line, the first one
 * "ready" or "error". Incomplete trailing frames (the read stopped) are not judged. */
static void check_ws_frames(const buf *r, size_t off) {
    int n_text = 0;
    while (off + 2 <= r->n) {
        const uint8_t *f = r->p + off;
        if (f[1] & 0x80) fail("a masked server frame", r);
        uint64_t len = f[1] & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (off + 4 > r->n) return;
            len = (uint64_t)f[2] << 8 | f[3], h = 4;
        } else if (len == 127) {
            if (off + 10 > r->n) return;
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i];
            h = 10;
        }
        if (len > r->n - off - h) return;
        int opcode = f[0] & 0x0f;
        if (opcode == 1) {
            if (!(f[0] & 0x80)) return; /* a fragmented message: not judged */
            char err[512];
            uzs_msg_type t = uzs_msg_check((const char *)f + h, (size_t)len, err, sizeof err);
            if (t == UZS_MSG_UNKNOWN) {
                fprintf(stderr, "fuzz_http: %s: %.*s\n", err, (int)(len < 1000 ? len : 1000), (const char *)f + h);
                fail("a WebSocket text message that is not a valid uzw-stream/1 line", r);
            }
            if (verbose) fprintf(stderr, "fuzz_http:   ws line: %.*s\n", (int)(len < 300 ? len : 300), (const char *)f + h);
            if (n_text++ == 0 && t != UZS_MSG_READY && t != UZS_MSG_ERROR) fail("the first WebSocket line is not ready or error", r);
        } else if (verbose) {
            fprintf(stderr, "fuzz_http:   ws frame: opcode %d, %llu bytes", opcode, (unsigned long long)len);
            if (opcode == 8 && len >= 2) fprintf(stderr, ": close %d %.*s", f[h] << 8 | f[h + 1], (int)(len - 2), (const char *)f + h + 2);
            fprintf(stderr, "\n");
        }
        if (opcode != 1 && opcode != 2 && opcode != 8 && opcode != 9 && opcode != 10) {
            fail("a server frame of an unknown opcode", r);
        }
        off += h + (size_t)len;
    }
}

/* ---------------------------------------------------------------- one input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    long mallocs0 = atomic_load(&n_mallocs), frees0 = atomic_load(&n_frees);
    double t_start = now_ms();
    uint8_t m = data[0], mode = m & 3;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    buf req = {0}, msgs = {0}, rep = {0}; /* msgs: what follows a WebSocket upgrade */
    int keep = 0, au = 0, wrong_path = 0, pipelined = (m & 0x20) != 0;
    if (mode == 0) {
        put(&req, d, n);
    } else if (mode == 1) {
        post(d, n, framing_of(m), &req);
    } else {
        uint8_t b1 = n ? d[0] : 0;
        au = b1 & 7, wrong_path = b1 >> 3 & 1, keep = b1 >> 7 & 1;
        int split = b1 >> 4 & 7;
        const uint8_t *p = n ? d + 1 : d;
        size_t pn = n ? n - 1 : 0;
        upgrade(&req, au, wrong_path);
        if (mode == 3) {
            put(&msgs, p, pn);
        } else {
            size_t piece = split ? (size_t)2 << split : (pn ? pn : 1);
            uint32_t seed = 1;
            for (size_t o = 0; o < pn; o += piece, seed++) {
                size_t k = pn - o < piece ? pn - o : piece;
                ws_frame(&msgs, o == 0 && (m & 0x10) ? 1 : 2, p + o, k, seed);
                if ((m & 0x04) && o + k < pn) ws_frame(&msgs, 9, (const uint8_t *)"pi", 2, seed);
            }
            if (m & 0x08) ws_frame(&msgs, 8, (const uint8_t *)"\x03\xe8", 2, seed);
        }
        if (pipelined) put(&req, msgs.p, msgs.n), msgs.n = 0;
    }

    if (verbose && getenv("UZW_FUZZ_HTTP_DUMP")) { /* the bytes sent, for debugging the harness */
        FILE *f = fopen(getenv("UZW_FUZZ_HTTP_DUMP"), "wb");
        if (f) fwrite(req.p, 1, req.n, f), fwrite(msgs.p ? msgs.p : (uint8_t *)"", 1, msgs.n, f), fclose(f);
    }
    cur_req = &req;
    int fd = dial();
    send_all(fd, &req, &rep);
    /* libwebsockets closes at the client's end of data even with an answer pending, so the
     * sending side stays open until a whole answer is in (or ANSWER_MS passed) */
    enum framing fr = framing_of(m);
    int unframed = mode == 1 && (fr == FR_CHUNKED || fr == FR_NONE);
    int must_answer = mode >= 2 || (mode == 1 && (fr == FR_LENGTH || fr == FR_HUGE || (unframed && strict_unframed)));
    int closed = read_reply(fd, &rep, now_ms() + (must_answer ? MUST_ANSWER_MS : ANSWER_MS), 1);
    if (!closed && msgs.n && status_of(&rep, 1) == 101) { /* the WebSocket is open: now its messages */
        send_all(fd, &msgs, &rep);
        closed = read_reply(fd, &rep, now_ms() + ANSWER_MS, 0);
    }
    if (!closed) {
        if (!keep) shutdown(fd, SHUT_WR);
        read_reply(fd, &rep, now_ms() + READ_MS, 0);
    }
    close(fd);

    if (must_answer && !rep.n) fail("a complete request got no answer", &rep);
    if (unframed && !rep.n) unframed_unanswered++;
    int st = check_reply(&rep, mode != 0);
    if (mode == 1 && st) {
        int ep = n ? d[0] & 3 : 0, a = n ? d[0] >> 2 & 7 : 0;
        if (ep == 3 && st != 404) fail("an unknown POST path not answered 404", &rep);
        if (ep != 3 && !auths[a].valid && st != 401) fail("a POST with a bad or missing credential not answered 401", &rep);
        if (ep != 3 && auths[a].valid && (st == 401 || st == 200))
            fail("a POST with a valid credential answered 401 or 200 (nothing transcribes here)", &rep);
        if (ep != 3 && auths[a].valid && fr == FR_HUGE && st != 413)
            fail("a POST whose Content-Length is over the limit not answered 413", &rep);
    } else if (mode >= 2 && st) {
        int want = wrong_path ? 404 : auths[au].value[0] && !auths[au].valid ? 401 : 101;
        if (st != want) fail(want == 404 ? "a WebSocket upgrade at a wrong path not refused with 404"
                             : want == 401 ? "a WebSocket upgrade with a bad credential not refused with 401"
                                           : "a WebSocket upgrade with a valid or no credential not answered 101",
                             &rep);
        if (st == 101) check_ws_frames(&rep, header_end(&rep));
    }
    free(req.p);
    free(msgs.p);
    free(rep.p);
    double t_idle = now_ms();
    wait_idle(mallocs0, frees0);
    if (verbose)
        fprintf(stderr, "fuzz_http: mode %d: %.0f ms (%.0f ms waiting for idle), blocks allocated - freed: %ld\n", mode,
                now_ms() - t_start, now_ms() - t_idle, (atomic_load(&n_mallocs) - mallocs0) - (atomic_load(&n_frees) - frees0));
    return 0;
}
