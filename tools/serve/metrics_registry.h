/* metrics_registry.h - Prometheus metrics of `uzwhisper serve`: a small thread-safe registry of
 * counters, gauges, histograms and info gauges, rendered in the text exposition format 0.0.4
 * (what GET /metrics returns), and the server's standard metric set (asr_*).
 *
 * (Named metrics_registry.h, not metrics.h: tools/eval/metrics.h, the bench's WER metrics, is on
 * the same include path of the tests.)
 *
 * Model
 *   - A family (uzs_metric) has a name, a help text, a type and a fixed list of label names
 *     (at most UZS_METRICS_MAX_LABELS). Each distinct list of label values is a series, created on
 *     its first update. A family keeps at most max_series series: an update that would create one
 *     more is refused (UZS_METRIC_ERR_CARDINALITY) and counted (uzs_metric_refused), so a label fed
 *     from client input cannot grow memory without bound. A family without labels has its one
 *     series from the start (at 0), so it is exported before anything happens.
 *   - Label values are UTF-8 (invalid UTF-8 is refused: the scrape would fail), at most
 *     UZS_METRICS_MAX_VALUE_LEN bytes; they are escaped on output (\\, \" and \n), as is the help
 *     text (\\ and \n).
 *   - A histogram has fixed upper bounds (strictly increasing, finite; +Inf is added), le
 *     inclusive: an observation v goes to the first bucket with v <= bound. Rendered cumulative
 *     with _sum and _count.
 *   - An info family (model, adapters) is a gauge whose series are all 1; rendered as TYPE gauge,
 *     the convention for *_info metrics in format 0.0.4.
 *
 * Threads: every family has its own mutex, taken by each update and by the render; the registry's
 * mutex guards registration and the render's walk over families. Why a mutex and not C11 atomics:
 * a histogram observation touches a bucket, the sum and the count, and series are created on the
 * fly; under one lock a scrape always sees count == the +Inf bucket and a sum that matches,
 * whereas atomics would need a two-copy scheme to get that. Updates come at the rate of requests
 * and audio chunks (hundreds a second at most), where an uncontended mutex (tens of ns) is free.
 *
 * Numbers are written with the shortest of %.15g / %.17g that reads back exactly, in the C locale
 * (the server never calls setlocale for LC_NUMERIC).
 */
#ifndef UZS_METRICS_REGISTRY_H
#define UZS_METRICS_REGISTRY_H

#include <stddef.h>

#define UZS_METRICS_MAX_FAMILIES 128
#define UZS_METRICS_MAX_LABELS 4
#define UZS_METRICS_MAX_BUCKETS 32
#define UZS_METRICS_MAX_SERIES 10000     /* the largest max_series a family may ask for */
#define UZS_METRICS_DEFAULT_SERIES 64    /* max_series when 0 is given                   */
#define UZS_METRICS_MAX_VALUE_LEN 256    /* bytes of one label value                     */
#define UZS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef enum {
    UZS_METRIC_COUNTER,
    UZS_METRIC_GAUGE,
    UZS_METRIC_HISTOGRAM,
    UZS_METRIC_INFO,
} uzs_metric_type;

/* what an update returns */
enum {
    UZS_METRIC_OK = 0,
    UZS_METRIC_ERR_CARDINALITY = -1, /* a new series beyond the family's max_series          */
    UZS_METRIC_ERR_VALUE = -2,       /* NaN, a negative counter increment, an infinite count  */
    UZS_METRIC_ERR_LABEL = -3,       /* a NULL, over-long or non-UTF-8 label value            */
    UZS_METRIC_ERR_TYPE = -4,        /* an update that this type of family does not take       */
    UZS_METRIC_ERR_NOMEM = -5,
    UZS_METRIC_ERR_ARG = -6,         /* a NULL family                                         */
};

typedef struct uzs_metrics uzs_metrics; /* the registry               */
typedef struct uzs_metric uzs_metric;   /* one family, owned by it    */

typedef struct {
    uzs_metric_type type;
    const char *name;               /* [a-zA-Z_:][a-zA-Z0-9_:]*                                 */
    const char *help;               /* any UTF-8 text; NULL: ""                                 */
    const char *const *labels;      /* (n_labels) names [a-zA-Z_][a-zA-Z0-9_]*, not "__..."     */
    int n_labels;
    const double *buckets;          /* histogram: (n_buckets) upper bounds; others: NULL, 0     */
    int n_buckets;
    int max_series;                 /* 0: UZS_METRICS_DEFAULT_SERIES                            */
} uzs_metric_desc;

uzs_metrics *uzs_metrics_new(void);
void uzs_metrics_free(uzs_metrics *m);

/* Add a family. Refused (NULL, err says why): a bad name or label name, a name already used (also
 * a histogram's name_bucket/_sum/_count, and X beside a counter X_total, which parsers following
 * OpenMetrics name X), "le" as a histogram label, bad buckets, too many. */
uzs_metric *uzs_metrics_register(uzs_metrics *m, const uzs_metric_desc *d, char *err, size_t err_size);
/* The family of that name, or NULL. */
uzs_metric *uzs_metrics_find(uzs_metrics *m, const char *name);

/* Updates. values: one string per label name of the family (NULL when it has none). Each returns
 * UZS_METRIC_OK or an UZS_METRIC_ERR_*; a refused update changes nothing. */
int uzs_metric_add(uzs_metric *f, const char *const *values, double v);     /* counter (v >= 0), gauge */
int uzs_metric_set(uzs_metric *f, const char *const *values, double v);     /* gauge                   */
int uzs_metric_observe(uzs_metric *f, const char *const *values, double v); /* histogram (v not NaN)   */
int uzs_metric_info_set(uzs_metric *f, const char *const *values);          /* info: the series = 1    */
/* Create a series at zero if it is not there (so it is exported before its first event). */
int uzs_metric_touch(uzs_metric *f, const char *const *values);
/* Drop one series / every series (an adapter unloaded, the model replaced). A family without
 * labels keeps its one series, reset to zero, on clear. Remove of an absent series: OK. */
int uzs_metric_remove(uzs_metric *f, const char *const *values);
int uzs_metric_clear(uzs_metric *f);

/* Read back (tests, logs): a counter's or gauge's value, or a histogram's count and sum; -1 when
 * the series does not exist. */
int uzs_metric_get(uzs_metric *f, const char *const *values, double *value);
int uzs_metric_get_histogram(uzs_metric *f, const char *const *values, unsigned long long *count, double *sum,
                             unsigned long long *bucket_counts /* (n_buckets + 1) non-cumulative, or NULL */);
/* Series now, and updates refused so far. */
int uzs_metric_n_series(uzs_metric *f);
long long uzs_metric_refused(uzs_metric *f);
const char *uzs_metric_error_str(int code);

/* The whole registry in the text format 0.0.4, families in registration order, series in creation
 * order. malloc'ed and NUL-terminated, *len (may be NULL) its length; NULL when out of memory. */
char *uzs_metrics_render(uzs_metrics *m, size_t *len);

/* ---------------------------------------------------------------- the server's standard set */

typedef struct {
    uzs_metrics *reg;
    uzs_metric *requests;           /* asr_requests_total{endpoint,status}: counter, requests          */
    uzs_metric *request_duration;   /* asr_request_duration_seconds{endpoint}: histogram, s             */
    uzs_metric *active_connections; /* asr_active_connections{protocol}: gauge, connections            */
    uzs_metric *audio_seconds;      /* asr_audio_seconds_total: counter, s of audio transcribed        */
    uzs_metric *realtime_factor;    /* asr_realtime_factor: histogram, processing s / audio s          */
    uzs_metric *queue_depth;        /* asr_queue_depth: gauge, requests and streams waiting            */
    uzs_metric *model_info;         /* asr_model_info{model,dtype,device}: info                        */
    uzs_metric *adapter_info;       /* asr_adapter_info{name,kind}: info                               */
    uzs_metric *gpu_memory;         /* asr_gpu_memory_bytes{kind}: gauge, bytes; kind = used | total    */
    uzs_metric *auth_failures;      /* asr_auth_failures_total{reason}: counter; reason = uzs_auth name */
} uzs_server_metrics;

/* The buckets of asr_request_duration_seconds (s) and asr_realtime_factor. */
extern const double uzs_duration_buckets[];
extern const int uzs_n_duration_buckets;
extern const double uzs_rtf_buckets[];
extern const int uzs_n_rtf_buckets;

/* Register the standard set into m (protocol tcp, http and websocket pre-created at 0). 0 / -1. */
int uzs_server_metrics_register(uzs_metrics *m, uzs_server_metrics *sm, char *err, size_t err_size);
/* One finished request: asr_requests_total{endpoint,status} += 1 and, when seconds >= 0,
 * asr_request_duration_seconds{endpoint} observes it. status: the HTTP status ("200", "401") or,
 * for TCP streams, "ok" / an error code name. endpoint: a route name from a fixed list chosen by
 * the server (never the raw path: unknown paths should be counted as "other"). 0 / first error. */
int uzs_server_metrics_request(uzs_server_metrics *sm, const char *endpoint, const char *status, double seconds);
/* Audio transcribed: asr_audio_seconds_total += audio_s; when audio_s > 0 and processing_s >= 0,
 * asr_realtime_factor observes processing_s / audio_s. */
int uzs_server_metrics_audio(uzs_server_metrics *sm, double audio_s, double processing_s);
/* A connection opened (+1) or closed (-1) on protocol "tcp", "http" or "websocket". */
int uzs_server_metrics_connection(uzs_server_metrics *sm, const char *protocol, int delta);
/* Replace the model info series (one model at a time). */
int uzs_server_metrics_set_model(uzs_server_metrics *sm, const char *model, const char *dtype, const char *device);
/* Set both GPU memory gauges (bytes). */
int uzs_server_metrics_set_gpu_memory(uzs_server_metrics *sm, double used_bytes, double total_bytes);

#endif
