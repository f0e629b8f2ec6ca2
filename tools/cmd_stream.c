/* cmd_stream.c - `uzwhisper stream HOST:PORT FILE|-`: the uzw-stream/1 client (docs/protocol.md).
 * Sends audio at real-time pace (--fast: as fast as the socket takes it) in 100 ms frames, prints
 * final text as it arrives (interim text on stderr with -v, every line as JSON with --json), and
 * with --connections N runs N streams at once as a load test: latency p50/p95 from the server's end
 * lines, audio lost (sent minus accounted for: must be 0) and errors. The key comes from
 * $UZWHISPER_API_KEY. Exit: 0 ok, 1 usage, 3 a stream failed or lost audio. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "cli.h"
#include "protocol.h"
#include "core/util.h" /* uzw_now_ms */

typedef struct {
    const char *host, *port;
    const float *pcm;            /* 16 kHz mono */
    size_t n;
    int fast, json, verbose, quiet, interim;
    const char *language, *languages, *adapter;
    /* results */
    int ok, n_errors;
    char error[512];
    double sent_s, accounted_s, p50, p95, wall_s;
} stream_job;

static int connect_to(const char *host, const char *port, char *err, size_t es) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) { snprintf(err, es, "%s:%s: %s", host, port, gai_strerror(rc)); return -1; }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) snprintf(err, es, "cannot connect to %s:%s", host, port);
    return fd;
}

static int send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0) return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_frame(int fd, uzs_frame_type t, const void *payload, size_t len) {
    uint8_t h[UZS_FRAME_HEADER_BYTES];
    if (uzs_frame_header(h, t, len, NULL, 0) != 0) return -1;
    return send_all(fd, h, sizeof h) || (len && send_all(fd, payload, len)) ? -1 : 0;
}

typedef struct {
    stream_job *j;
    int fd;
} sender_arg;

/* Audio in 100 ms frames of s16le, paced by the wall clock unless fast, then END. */
static void *sender(void *p) {
    sender_arg *a = p;
    stream_job *j = a->j;
    const size_t frame = 1600;
    int16_t buf[1600];
    double t0 = uzw_now_s();
    for (size_t o = 0; o < j->n; o += frame) {
        size_t k = j->n - o < frame ? j->n - o : frame;
        for (size_t i = 0; i < k; i++) {
            float v = j->pcm[o + i] * 32768.0f;
            buf[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrintf(v));
        }
        if (!j->fast) {
            double due = t0 + (double)(o + k) / 16000.0, wait = due - uzw_now_s();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        if (send_frame(a->fd, UZS_FRAME_AUDIO, buf, k * 2) != 0) return NULL;
        j->sent_s = (double)(o + k) / 16000.0;
    }
    send_frame(a->fd, UZS_FRAME_END, NULL, 0);
    return NULL;
}

static void handle_line(stream_job *j, const char *line, size_t len) {
    char err[256];
    uzs_msg_type t = uzs_msg_check(line, len, err, sizeof err);
    if (t == UZS_MSG_UNKNOWN) {
        snprintf(j->error, sizeof j->error, "the server sent a line against the protocol: %s", err);
        j->n_errors++;
        return;
    }
    if (j->json && !j->quiet) printf("%.*s\n", (int)len, line);
    json_t *o = json_loadb(line, len, 0, NULL);
    if (!o) return;
    if (t == UZS_MSG_FINAL && !j->json && !j->quiet) {
        printf("%s\n", json_string_value(json_object_get(o, "text")));
        fflush(stdout);
    } else if (t == UZS_MSG_INTERIM && j->verbose && !j->quiet)
        fprintf(stderr, "  ... %s\n", json_string_value(json_object_get(o, "text")));
    else if (t == UZS_MSG_ERROR) {
        snprintf(j->error, sizeof j->error, "%s: %s", json_string_value(json_object_get(o, "code")),
                 json_string_value(json_object_get(o, "message")));
        j->n_errors++;
    } else if (t == UZS_MSG_END) {
        j->ok = 1;
        j->accounted_s = json_number_value(json_object_get(o, "audio_seconds"));
        json_t *tm = json_object_get(o, "timings");
        j->p50 = json_is_number(json_object_get(tm, "latency_p50")) ? json_number_value(json_object_get(tm, "latency_p50")) : NAN;
        j->p95 = json_is_number(json_object_get(tm, "latency_p95")) ? json_number_value(json_object_get(tm, "latency_p95")) : NAN;
    }
    json_decref(o);
}

static void *run_stream(void *p) {
    stream_job *j = p;
    char err[512];
    double t0 = uzw_now_s();
    int fd = connect_to(j->host, j->port, err, sizeof err);
    if (fd < 0) { snprintf(j->error, sizeof j->error, "%s", err); j->n_errors++; return NULL; }
    uzs_hello h;
    uzs_hello_defaults(&h);
    h.interim = j->interim;
    if (j->language) snprintf(h.language, sizeof h.language, "%s", j->language);
    if (j->languages) snprintf(h.languages, sizeof h.languages, "%s", j->languages);
    if (j->adapter) snprintf(h.adapter, sizeof h.adapter, "%s", j->adapter);
    const char *key = getenv("UZWHISPER_API_KEY");
    if (key) snprintf(h.api_key, sizeof h.api_key, "%s", key);
    size_t hl;
    char *hello = uzs_hello_encode(&h, &hl, err, sizeof err);
    uzs_hello_forget_key(&h);
    if (!hello || send_frame(fd, UZS_FRAME_HELLO, hello, hl) != 0) {
        snprintf(j->error, sizeof j->error, "%s", hello ? "the server closed the connection" : err);
        j->n_errors++;
        free(hello);
        close(fd);
        return NULL;
    }
    free(hello);
    sender_arg sa = {j, fd};
    pthread_t th;
    int have_sender = pthread_create(&th, NULL, sender, &sa) == 0;
    char *acc = NULL;
    size_t n_acc = 0, cap = 0;
    char buf[65536];
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0) break;
        if (n_acc + (size_t)k + 1 > cap) {
            cap = (n_acc + (size_t)k + 1) * 2;
            char *na = realloc(acc, cap);
            if (!na) break;
            acc = na;
        }
        memcpy(acc + n_acc, buf, (size_t)k);
        n_acc += (size_t)k;
        size_t start = 0;
        for (size_t i = 0; i < n_acc; i++)
            if (acc[i] == '\n') {
                handle_line(j, acc + start, i - start);
                start = i + 1;
            }
        memmove(acc, acc + start, n_acc - start);
        n_acc -= start;
        if (j->ok || j->n_errors) break;
    }
    shutdown(fd, SHUT_RDWR);
    if (have_sender) pthread_join(th, NULL);
    close(fd);
    free(acc);
    if (!j->ok && !j->n_errors) {
        snprintf(j->error, sizeof j->error, "the server closed the stream without an end line");
        j->n_errors++;
    }
    j->wall_s = uzw_now_s() - t0;
    return NULL;
}

int cmd_stream(int argc, char **argv) {
    enum { O_FAST = 256, O_JSON, O_LANGS, O_ADAPTER, O_CONN, O_NOINT };
    static const struct option opts[] = {
        {"fast", no_argument, 0, O_FAST}, {"json", no_argument, 0, O_JSON}, {"language", required_argument, 0, 'l'},
        {"languages", required_argument, 0, O_LANGS}, {"adapter", required_argument, 0, O_ADAPTER},
        {"connections", required_argument, 0, O_CONN}, {"no-interim", no_argument, 0, O_NOINT},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    stream_job base = {.interim = 1};
    int conns = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:vh", opts, NULL)) != -1) {
        switch (c) {
        case O_FAST: base.fast = 1; break;
        case O_JSON: base.json = 1; break;
        case 'l': base.language = optarg; break;
        case O_LANGS: base.languages = optarg; break;
        case O_ADAPTER: base.adapter = optarg; break;
        case O_CONN: if (cli_parse_int(optarg, 1, 10000, &conns)) { cli_error("bad --connections '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_NOINT: base.interim = 0; break;
        case 'v': base.verbose = 1; break;
        case 'h':
            printf("usage: uzwhisper stream HOST:PORT FILE|- [--fast] [--json] [-l LANG] [--languages uz,ru] [--adapter NAME]\n"
                   "                        [--no-interim] [--connections N] [-v]\n"
                   "  FILE is any audio file (- : raw s16le 16 kHz mono on stdin); the key comes from $UZWHISPER_API_KEY.\n"
                   "  --connections N runs N streams of the file at once and reports latency, lost audio and errors.\n");
            return UZW_EXIT_OK;
        default: return UZW_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) { cli_error("usage: uzwhisper stream HOST:PORT FILE|-"); return UZW_EXIT_USAGE; }
    char hostport[512];
    snprintf(hostport, sizeof hostport, "%s", argv[optind]);
    char *colon = strrchr(hostport, ':');
    if (!colon || !colon[1]) { cli_error("'%s' is not HOST:PORT", argv[optind]); return UZW_EXIT_USAGE; }
    *colon = 0;
    base.host = hostport;
    base.port = colon + 1;
    float *pcm = NULL;
    size_t n = 0;
    char err[1024];
    if (!strcmp(argv[optind + 1], "-")) {
        size_t cap = 0;
        int16_t s;
        while (fread(&s, 2, 1, stdin) == 1) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16000;
                float *np = realloc(pcm, sizeof(float) * cap);
                if (!np) { free(pcm); cli_error("out of memory"); return UZW_EXIT_INTERNAL; }
                pcm = np;
            }
            pcm[n++] = s / 32768.0f;
        }
    } else if (uzw_audio_load_16k(argv[optind + 1], &pcm, &n, err, sizeof err) != 0) {
        cli_error("%s", err);
        return UZW_EXIT_INPUT;
    }
    base.pcm = pcm;
    base.n = n;
    stream_job *jobs = calloc((size_t)conns, sizeof *jobs);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    if (!jobs || !th) { free(pcm); cli_error("out of memory"); return UZW_EXIT_INTERNAL; }
    for (int i = 0; i < conns; i++) {
        jobs[i] = base;
        jobs[i].quiet = conns > 1;
        if (pthread_create(&th[i], NULL, run_stream, &jobs[i]) != 0) { jobs[i].n_errors = 1; snprintf(jobs[i].error, sizeof jobs[i].error, "no thread"); th[i] = 0; }
    }
    int failed = 0;
    double lost = 0, *p50 = calloc((size_t)conns, sizeof(double)), *p95 = calloc((size_t)conns, sizeof(double));
    int np = 0;
    for (int i = 0; i < conns; i++) {
        if (th[i]) pthread_join(th[i], NULL);
        if (jobs[i].n_errors) {
            failed++;
            fprintf(stderr, "uzwhisper: stream %d: %s\n", i, jobs[i].error);
        } else {
            double l = (double)n / 16000.0 - jobs[i].accounted_s;
            if (fabs(l) > 0.002) lost += l;
            if (isfinite(jobs[i].p50)) p50[np] = jobs[i].p50, p95[np++] = jobs[i].p95;
        }
    }
    if (conns > 1 || base.verbose || !base.json) {
        uzw_sort_f64(p50, (size_t)np);
        uzw_sort_f64(p95, (size_t)np);
        fprintf(stderr, "uzwhisper: %d streams of %.1f s (%s): %d failed, audio lost %.3f s; latency from a word's end "
                        "arriving to its final, median over streams: p50 %.2f s, p95 %.2f s\n",
                conns, (double)n / 16000.0, base.fast ? "fast" : "real-time pace", failed, lost,
                np ? p50[np / 2] : NAN, np ? p95[np / 2] : NAN);
    }
    free(p50), free(p95), free(jobs), free(th), free(pcm);
    return failed || lost > 0 ? UZW_EXIT_INPUT : UZW_EXIT_OK;
}
