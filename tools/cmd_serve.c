/* cmd_serve.c - `uzwhisper serve`: load the model once, then serve live streams over raw TCP
 * (docs/protocol.md) and HTTP / WebSocket (docs/http.md) until SIGTERM / SIGINT, which stop
 * accepting and let open streams and requests finish. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli.h"
#include "cli_adapters.h"
#include "metrics_registry.h"
#include "http_server.h"
#include "server.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: uzwhisper serve [options]\n"
            "  -m, --model PATH          weight file (default: $UZWHISPER_MODEL or the installed default model)\n"
            "      --tcp-port N          raw-TCP streaming port, uzw-stream/1 (default 9090; 0: any free port)\n"
            "      --http-port N         HTTP port (default 8080; 0: any free port): POST /transcribe,\n"
            "                            /transcribe/batch, /v1/audio/transcriptions, WebSocket /ws/transcribe,\n"
            "                            GET /health, /ready, /metrics (docs/http.md)\n"
            "      --bind ADDR           address to listen on (default 0.0.0.0)\n"
            "      --device D            cpu (default), cuda or cuda:N: where each stream's passes run\n"
            "      --api-keys FILE       API keys, one per line (also $UZWHISPER_API_KEYS); none: auth off\n"
            "      --jwt-secret-file F   HS256 secret for JSON Web Tokens (also $UZWHISPER_JWT_SECRET)\n"
            "      --max-connections N   streams at once (default 16); more get \"overloaded\"\n"
            "      --workers N           decoding passes at once (default: cores / threads)\n"
            "  -t, --threads N           CPU threads of one pass (default 2)\n"
            "      --idle-timeout S      end a stream after S seconds without a frame (default 30)\n"
            "      --max-audio S         audio seconds of one stream or uploaded file (default 3600)\n"
            "      --max-upload MB       HTTP request body (default 100 MB); larger: 413\n"
            "      --max-queue N         HTTP requests waiting for a worker (default 64); more: 429\n"
            "      --upload-timeout S    an HTTP request's body must arrive within S seconds (default 300); 408\n"
            "      --step S              audio between decoding passes (default 1.0)\n"
            "      --languages LIST      allowed languages when the client names none (default uz,ru)\n"
            "      --adapter NAME=DIR    an adapter clients may choose by NAME (repeatable); --adapter DIR\n"
            "                            merges a LoRA into the served model (docs/adapters.md)\n"
            "  -v, --verbose\n"
            "  -h, --help\n"
            "Credentials (API keys, JWTs) go in `Authorization: Bearer` on HTTP and WebSocket, in the HELLO\n"
            "on raw TCP; /health, /ready and /metrics need none.\n");
}

static const uzw_adapter *find_adapter(void *user, const char *name) { return cli_adapters_named(user, name); }

typedef struct {
    uzs_server *srv;
    int max_connections;
    volatile int stopping;
    uzw_context *probe;           /* on the GPU (--device cuda): reads its memory for the gauges */
    uzs_server_metrics *sm;
} ready_state;

/* /metrics is about to be rendered: refresh asr_gpu_memory_bytes. */
static void on_scrape(void *user) {
    ready_state *r = user;
    size_t used, total;
    if (r->probe && uzw_context_device_memory(r->probe, &used, &total) == UZW_OK)
        uzs_server_metrics_set_gpu_memory(r->sm, (double)used, (double)total);
}

/* asr_adapter_info{name,kind}: the resident adapters, the merged-mode bottleneck ones, the merged LoRAs. */
static void adapter_info(uzs_server_metrics *sm, const cli_adapters *ads) {
    for (int i = 0; i < ads->n_named; i++)
        uzs_metric_info_set(sm->adapter_info, (const char *[]){ads->named[i].name, uzw_adapter_get_str(ads->named[i].a, "kind")});
    for (int i = 0; i < ads->n_always; i++)
        uzs_metric_info_set(sm->adapter_info, (const char *[]){cli_adapter_label(ads, ads->always[i]), "bottleneck"});
    for (int i = 0; i < ads->n_merged; i++) {
        const char *d = ads->merged_dirs[i], *slash = strrchr(d, '/');
        uzs_metric_info_set(sm->adapter_info, (const char *[]){slash && slash[1] ? slash + 1 : d, "lora_merged"});
    }
}

/* Ready: serving, not stopping, and room for another stream. */
static int is_ready(void *user) {
    ready_state *r = user;
    return r->srv && !r->stopping && uzs_server_active(r->srv) < r->max_connections;
}

int cmd_serve(int argc, char **argv) {
    enum { O_TCP = 256, O_HTTP, O_BIND, O_DEVICE, O_KEYS, O_JWT, O_MAXC, O_WORKERS, O_IDLE, O_MAXA, O_STEP, O_LANGS, O_ADAPTER, O_UPLOAD, O_QUEUE, O_UPTIME };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"tcp-port", required_argument, 0, O_TCP}, {"http-port", required_argument, 0, O_HTTP},
        {"bind", required_argument, 0, O_BIND}, {"device", required_argument, 0, O_DEVICE},
        {"api-keys", required_argument, 0, O_KEYS}, {"jwt-secret-file", required_argument, 0, O_JWT},
        {"max-connections", required_argument, 0, O_MAXC}, {"workers", required_argument, 0, O_WORKERS},
        {"threads", required_argument, 0, 't'}, {"idle-timeout", required_argument, 0, O_IDLE},
        {"max-audio", required_argument, 0, O_MAXA}, {"step", required_argument, 0, O_STEP},
        {"languages", required_argument, 0, O_LANGS}, {"adapter", required_argument, 0, O_ADAPTER},
        {"max-upload", required_argument, 0, O_UPLOAD}, {"max-queue", required_argument, 0, O_QUEUE},
        {"upload-timeout", required_argument, 0, O_UPTIME},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    uzs_server_config cfg = uzs_server_default_config();
    cfg.tcp_port = 9090;
    const char *model_arg = NULL, *keys_file = NULL, *jwt_file = NULL;
    int verbose = 0, c, http_port = 8080, max_queue = 64;
    double max_upload_mb = 100, upload_timeout = 300;
    double step = cfg.step_s;
    char err[2048];
    cli_adapters ads;
    memset(&ads, 0, sizeof ads);
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:t:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_arg = optarg; break;
        case O_TCP: if (cli_parse_int(optarg, 0, 65535, &cfg.tcp_port)) { cli_error("bad --tcp-port '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_HTTP: if (cli_parse_int(optarg, 0, 65535, &http_port)) { cli_error("bad --http-port '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_BIND: cfg.bind_addr = optarg; break;
        case O_DEVICE: cfg.device = optarg; break;
        case O_KEYS: keys_file = optarg; break;
        case O_JWT: jwt_file = optarg; break;
        case O_MAXC: if (cli_parse_int(optarg, 1, 100000, &cfg.max_connections)) { cli_error("bad --max-connections '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_WORKERS: if (cli_parse_int(optarg, 1, 1024, &cfg.max_passes)) { cli_error("bad --workers '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case 't': if (cli_parse_int(optarg, 1, 1024, &cfg.threads_per_pass)) { cli_error("bad --threads '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_IDLE: if (cli_parse_double(optarg, 0.1, 86400, &cfg.idle_timeout_s)) { cli_error("bad --idle-timeout '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_MAXA: if (cli_parse_double(optarg, 1, 864000, &cfg.max_audio_s)) { cli_error("bad --max-audio '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_STEP: if (cli_parse_double(optarg, 0.1, 10, &step)) { cli_error("bad --step '%s' (0.1 to 10 s)", optarg); return UZW_EXIT_USAGE; } break;
        case O_LANGS: cfg.default_languages = optarg; break;
        case O_ADAPTER: if (cli_adapters_arg(&ads, optarg, err, sizeof err) != 0) { cli_error("%s", err); return UZW_EXIT_USAGE; } break;
        case O_UPLOAD: if (cli_parse_double(optarg, 0.001, 4096, &max_upload_mb)) { cli_error("bad --max-upload '%s' (MB, up to 4096)", optarg); return UZW_EXIT_USAGE; } break;
        case O_QUEUE: if (cli_parse_int(optarg, 1, 100000, &max_queue)) { cli_error("bad --max-queue '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case O_UPTIME: if (cli_parse_double(optarg, 1, 86400, &upload_timeout)) { cli_error("bad --upload-timeout '%s'", optarg); return UZW_EXIT_USAGE; } break;
        case 'v': verbose = 1; break;
        case 'h': help(stdout); return UZW_EXIT_OK;
        default: help(stderr); return UZW_EXIT_USAGE;
        }
    }
    if (optind < argc) { cli_error("serve takes no file arguments ('%s')", argv[optind]); return UZW_EXIT_USAGE; }
    cfg.step_s = (float)step;

    uzs_auth *auth = uzs_auth_new();
    int added = 0;
    if (!auth || (keys_file && uzs_auth_load_keys_file(auth, keys_file, err, sizeof err) != 0) ||
        (jwt_file && uzs_auth_load_jwt_secret_file(auth, jwt_file, err, sizeof err) != 0) ||
        uzs_auth_load_env(auth, NULL, NULL, &added, err, sizeof err) != 0) {
        cli_error("%s", auth ? err : "out of memory");
        uzs_auth_free(auth);
        return UZW_EXIT_USAGE;
    }
    if (uzs_auth_warning(auth)) fprintf(stderr, "uzwhisper: warning: %s\n", uzs_auth_warning(auth));
    if (!uzs_auth_enabled(auth))
        fprintf(stderr, "uzwhisper: warning: no API keys and no JWT secret: anyone who can connect may use this server\n");

    char model_path[4096];
    if (model_arg) snprintf(model_path, sizeof model_path, "%s", model_arg);
    else if (!cli_default_model(model_path, sizeof model_path)) {
        cli_error("no model given and the default model is missing (looked for %s)", model_path);
        uzs_auth_free(auth);
        return UZW_EXIT_MODEL;
    }
    uzw_model_params mp = uzw_model_default_params();
    mp.log = cli_log_to_stderr;
    mp.log_user = &verbose;
    uzw_model *model = NULL;
    uzw_status st = uzw_model_load(model_path, &mp, &model, err, sizeof err);
    if (st == UZW_OK) st = cli_adapters_load(&ads, model, verbose, err, sizeof err);
    if (st != UZW_OK) {
        cli_error("%s (%s)", err, uzw_status_string(st));
        cli_adapters_free(&ads);
        uzw_model_free(model);
        uzs_auth_free(auth);
        return UZW_EXIT_MODEL;
    }
    uzs_metrics *reg = uzs_metrics_new();
    uzs_server_metrics sm;
    if (!reg || uzs_server_metrics_register(reg, &sm, err, sizeof err) != 0) {
        cli_error("metrics: %s", reg ? err : "out of memory");
        return UZW_EXIT_INTERNAL;
    }
    uzw_context *probe = NULL; /* kept: the GPU memory gauges read through it */
    if (cfg.device && strcmp(cfg.device, "cpu") != 0) { /* fail now, not on the first stream */
        uzw_status ds = uzw_context_create(model, &probe);
        if (ds == UZW_OK) ds = uzw_context_set_device(probe, cfg.device);
        if (ds != UZW_OK) {
            cli_error("--device %s: %s", cfg.device, probe ? uzw_last_error(probe) : "out of memory");
            uzw_context_free(probe);
            return UZW_EXIT_USAGE;
        }
    }
    adapter_info(&sm, &ads);
    uzs_server_metrics_set_model(&sm, uzw_model_get_str(model, "type"), uzw_model_get_str(model, "dtype"),
                                 cfg.device ? cfg.device : "cpu");
    cfg.model = model;
    cfg.model_type = uzw_model_get_str(model, "type");
    cfg.auth = auth;
    cfg.metrics = &sm;
    cfg.find_adapter = find_adapter;
    cfg.adapter_user = &ads;

    /* SIGINT / SIGTERM are taken by sigwait below, in this thread only */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    uzs_server *srv;
    if (uzs_server_start(&cfg, &srv, err, sizeof err) != 0) {
        cli_error("%s", err);
        return UZW_EXIT_INTERNAL;
    }
    ready_state rs = {srv, cfg.max_connections, 0, probe, &sm};
    uzs_http_config hc = {cfg.bind_addr, http_port, reg, &sm, is_ready, &rs, on_scrape, srv, (size_t)(max_upload_mb * 1e6), max_queue, upload_timeout, 0};
    uzs_http *http;
    if (uzs_http_start(&hc, &http, err, sizeof err) != 0) {
        cli_error("%s", err);
        uzs_server_stop(srv, 0);
        return UZW_EXIT_INTERNAL;
    }
    fprintf(stderr, "uzwhisper: serving %s on tcp %s:%d (uzw-stream/1) and http port %d, %d streams at most, %d decoding "
            "passes at once\n", model_path, cfg.bind_addr, uzs_server_tcp_port(srv), uzs_http_port(http), cfg.max_connections,
            cfg.max_passes);
    int sig = 0;
    sigwait(&set, &sig);
    rs.stopping = 1; /* /ready answers 503 from now on */
    fprintf(stderr, "uzwhisper: %s: no new streams or requests; finishing %d open streams and %d requests\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", uzs_server_active(srv), uzs_http_busy(http));
    uzs_http_refuse_new(http);
    uzs_server_drain(srv, 120.0); /* WebSocket streams finish through the HTTP thread, still running */
    uzs_http_stop(http, 120.0);    /* its workers use the server's slots: stop it before the server */
    uzs_server_stop(srv, 0);
    uzw_context_free(probe);
    cli_adapters_free(&ads);
    uzs_metrics_free(reg);
    uzw_model_free(model);
    uzs_auth_free(auth);
    fprintf(stderr, "uzwhisper: stopped\n");
    return UZW_EXIT_OK;
}
