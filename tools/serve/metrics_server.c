/* metrics_server.c - the standard metric set of `uzwhisper serve` (names from issue 8) and the
 * helpers the front ends call at each event. Choices:
 *   - asr_request_duration_seconds: buckets from 50 ms (a /health or a short clip on the GPU) to
 *     120 s (a long file on the CPU); roughly x2 apart so histogram_quantile stays within a factor
 *     of about 1.4 of the true latency.
 *   - asr_realtime_factor: a histogram, not a gauge, so the distribution over requests (p50, p95)
 *     can be read and summed across replicas; a gauge would only show the last request.
 *   - cardinality caps sized to what the labels can take: endpoints are a fixed list of routes
 *     (the server maps unknown paths to "other"), statuses a few dozen codes. */
#include <stdio.h>

#include "metrics_registry.h"

const double uzs_duration_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120};
const int uzs_n_duration_buckets = (int)(sizeof uzs_duration_buckets / sizeof uzs_duration_buckets[0]);
const double uzs_rtf_buckets[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5};
const int uzs_n_rtf_buckets = (int)(sizeof uzs_rtf_buckets / sizeof uzs_rtf_buckets[0]);

static const char *const l_endpoint_status[] = {"endpoint", "status"};
static const char *const l_endpoint[] = {"endpoint"};
static const char *const l_protocol[] = {"protocol"};
static const char *const l_model[] = {"model", "dtype", "device"};
static const char *const l_adapter[] = {"name", "kind"};
static const char *const l_kind[] = {"kind"};
static const char *const l_reason[] = {"reason"};

int uzs_server_metrics_register(uzs_metrics *m, uzs_server_metrics *sm, char *err, size_t err_size) {
    if (!m || !sm) {
        if (err && err_size) snprintf(err, err_size, "uzs_server_metrics_register: no registry");
        return -1;
    }
    *sm = (uzs_server_metrics){.reg = m};
    struct {
        uzs_metric **slot;
        uzs_metric_desc d;
    } set[] = {
        {&sm->requests,
         {UZS_METRIC_COUNTER, "asr_requests_total", "Requests and streams finished, by endpoint and status.",
          l_endpoint_status, 2, NULL, 0, 512}},
        {&sm->request_duration,
         {UZS_METRIC_HISTOGRAM, "asr_request_duration_seconds",
          "Time from a request's arrival to its last response byte (streams: to the final result), seconds.",
          l_endpoint, 1, uzs_duration_buckets, uzs_n_duration_buckets, 32}},
        {&sm->active_connections,
         {UZS_METRIC_GAUGE, "asr_active_connections", "Open client connections, by protocol.", l_protocol, 1, NULL, 0,
          8}},
        {&sm->audio_seconds,
         {UZS_METRIC_COUNTER, "asr_audio_seconds_total", "Seconds of audio transcribed.", NULL, 0, NULL, 0, 0}},
        {&sm->realtime_factor,
         {UZS_METRIC_HISTOGRAM, "asr_realtime_factor",
          "Processing time over audio duration of each finished request or stream (below 1: faster than real time).",
          NULL, 0, uzs_rtf_buckets, uzs_n_rtf_buckets, 0}},
        {&sm->queue_depth,
         {UZS_METRIC_GAUGE, "asr_queue_depth", "Requests and stream chunks waiting for the model.", NULL, 0, NULL, 0,
          0}},
        {&sm->model_info,
         {UZS_METRIC_INFO, "asr_model_info", "The loaded model: name, weight dtype and device; value 1.", l_model, 3,
          NULL, 0, 4}},
        {&sm->adapter_info,
         {UZS_METRIC_INFO, "asr_adapter_info", "Loaded adapters: name and kind; value 1.", l_adapter, 2, NULL, 0,
          64}},
        {&sm->gpu_memory,
         {UZS_METRIC_GAUGE, "asr_gpu_memory_bytes", "GPU memory in bytes: kind=used or total.", l_kind, 1, NULL, 0,
          4}},
        {&sm->auth_failures,
         {UZS_METRIC_COUNTER, "asr_auth_failures_total", "Requests refused by authentication, by reason.", l_reason,
          1, NULL, 0, 16}},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        *set[i].slot = uzs_metrics_register(m, &set[i].d, err, err_size);
        if (!*set[i].slot) return -1;
    }
    static const char *const protocols[] = {"tcp", "http", "websocket"};
    for (int p = 0; p < 3; p++) {
        int rc = uzs_metric_touch(sm->active_connections, &protocols[p]);
        if (rc != UZS_METRIC_OK) {
            if (err && err_size) snprintf(err, err_size, "asr_active_connections: %s", uzs_metric_error_str(rc));
            return -1;
        }
    }
    return 0;
}

int uzs_server_metrics_request(uzs_server_metrics *sm, const char *endpoint, const char *status, double seconds) {
    if (!sm) return UZS_METRIC_ERR_ARG;
    const char *es[2] = {endpoint, status};
    int rc = uzs_metric_add(sm->requests, es, 1);
    if (seconds >= 0) {
        int rc2 = uzs_metric_observe(sm->request_duration, &endpoint, seconds);
        if (rc == UZS_METRIC_OK) rc = rc2;
    }
    return rc;
}

int uzs_server_metrics_audio(uzs_server_metrics *sm, double audio_s, double processing_s) {
    if (!sm) return UZS_METRIC_ERR_ARG;
    int rc = uzs_metric_add(sm->audio_seconds, NULL, audio_s);
    if (audio_s > 0 && processing_s >= 0) {
        int rc2 = uzs_metric_observe(sm->realtime_factor, NULL, processing_s / audio_s);
        if (rc == UZS_METRIC_OK) rc = rc2;
    }
    return rc;
}

int uzs_server_metrics_connection(uzs_server_metrics *sm, const char *protocol, int delta) {
    if (!sm) return UZS_METRIC_ERR_ARG;
    return uzs_metric_add(sm->active_connections, &protocol, (double)delta);
}

int uzs_server_metrics_set_model(uzs_server_metrics *sm, const char *model, const char *dtype, const char *device) {
    if (!sm) return UZS_METRIC_ERR_ARG;
    const char *v[3] = {model, dtype, device};
    uzs_metric_clear(sm->model_info);
    return uzs_metric_info_set(sm->model_info, v);
}

int uzs_server_metrics_set_gpu_memory(uzs_server_metrics *sm, double used_bytes, double total_bytes) {
    if (!sm) return UZS_METRIC_ERR_ARG;
    static const char *const used[] = {"used"}, *const total[] = {"total"};
    int rc = uzs_metric_set(sm->gpu_memory, used, used_bytes);
    int rc2 = uzs_metric_set(sm->gpu_memory, total, total_bytes);
    return rc != UZS_METRIC_OK ? rc : rc2;
}
