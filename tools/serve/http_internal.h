/* http_internal.h - what the pieces of the HTTP front end share (http_server.c: libwebsockets and
 * routing; http_form.c: the multipart form of an upload; http_jobs.c: the queue and worker pool;
 * http_transcribe.c and http_openai.c: one request's transcription and its answer; http_ws.c: the
 * WebSocket bridge to the stream server). Everything here runs inside uzwhisper_serve only. */
#ifndef UZS_HTTP_INTERNAL_H
#define UZS_HTTP_INTERNAL_H

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http_server.h"

#define UZS_HTTP_MAX_FILES 32          /* files in one request (/transcribe/batch)          */
#define UZS_HTTP_MAX_FIELDS_BYTES 8192 /* all text fields of one form together              */

typedef enum { UZS_EP_TRANSCRIBE = 0, UZS_EP_BATCH, UZS_EP_OPENAI, UZS_EP_N } uzs_http_endpoint;

/* The metrics name of an endpoint: its path ("/transcribe", ...; deploy/prometheus relies on it). */
const char *uzs_http_endpoint_name(uzs_http_endpoint ep);

typedef struct {
    char *field;     /* the form field it came in ("file") */
    char *filename;  /* as the client named it: shown back, never used as a path */
    uint8_t *data;   /* [len] the encoded audio file */
    size_t len, cap;
} uzs_upload;

/* The text fields any endpoint understands; "" when absent. Which endpoint reads which is in
 * docs/http.md. */
typedef struct {
    char language_hint[16];    /* /transcribe: uz | ru | mixed | auto | any language code       */
    char language[16];         /* OpenAI: a language code or name                               */
    char response_format[16];  /* OpenAI: json | text | srt | vtt | verbose_json                */
    char prompt[1024];         /* initial prompt                                                */
    char temperature[16];      /* OpenAI: one temperature                                       */
    char granularities[64];    /* OpenAI timestamp_granularities[]: word and/or segment         */
    char model[64];            /* OpenAI: accepted and echoed, the served model answers         */
    char adapter[64];          /* a resident adapter's name                                     */
    char task[16];             /* transcribe | translate                                        */
    char uz_script[16];        /* latin | cyrillic | as_decoded                                 */
} uzs_http_fields;

/* A request's decoding options, made from its fields once (uzs_http_check); the pointers of p point
 * into this struct and the job's fields, so it stays inside its job. */
typedef struct {
    uzw_params p;
    float temperature;          /* p.temperatures: OpenAI's one temperature */
    const uzw_adapter *adapter; /* p.adapters */
    const char *adapter_name;   /* as the client named it */
    char language[16];          /* p.language */
    int openai_words;           /* verbose_json gets "words" */
} uzs_http_opts;

enum { UZS_JOB_READING = 0, UZS_JOB_QUEUED, UZS_JOB_RUNNING, UZS_JOB_DONE };

typedef struct uzs_http_job {
    uzs_http_endpoint ep;
    const char *ep_name;       /* metrics: the path of a known endpoint, "other" for the rest */
    uzs_server_metrics *metrics; /* asr_active_connections{protocol="http"} counts live requests */
    uzs_http_fields f;
    uzs_http_opts opts;        /* from f, set by uzs_http_check */
    uzs_upload files[UZS_HTTP_MAX_FILES];
    int n_files;
    size_t bytes;              /* file bytes received so far (all files)                         */
    int over;                  /* 1: the upload went over a limit while it was read (413)        */
    struct lws_spa *spa;       /* the form parser while the body is read                         */
    /* the answer, written by a worker (or the service thread for early errors) */
    unsigned status;
    const char *ctype;
    char *body;                /* [len] malloc'ed */
    size_t len, sent;
    char extra_name[32];       /* one extra header ("WWW-Authenticate:", "Retry-After:"), "" none */
    char extra_value[96];
    int close_after;           /* 1: close the connection after the answer (the body was not read) */
    /* shared with the workers, under uzs_http.mu */
    int state;                 /* UZS_JOB_* */
    int orphan;                /* the client left: whoever holds the job last frees it           */
    struct lws *wsi;
    double t0;                 /* seconds, monotonic: the request's start (duration metric)      */
    struct uzs_http_job *next; /* queue / done list                                              */
} uzs_http_job;

typedef struct uzs_ws_link uzs_ws_link;

struct uzs_http {
    uzs_http_config c;
    struct lws_context *ctx;
    pthread_t thr;
    atomic_int stop;
    int port;
    /* jobs (http_jobs.c) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uzs_http_job *queue_head, *queue_tail; /* waiting for a worker */
    int n_queued, n_running;
    uzs_http_job *done;                    /* answered, waiting for the service thread */
    pthread_t *workers;                    /* [n_workers] */
    int n_workers, workers_started;
    int quit;                              /* workers: leave */
    /* WebSocket links (http_ws.c), under mu */
    uzs_ws_link *links;
};

/* ---------------------------------------------------------------- http_form.c */
/* Start reading the body of a POST into j: a multipart/form-data or urlencoded form (fields and file
 * parts), or, for any other content type, the whole body as one file ("body"). 0 / -1 (out of
 * memory: answer 500). */
int uzs_http_form_begin(struct lws *wsi, uzs_http_job *j);
/* The most bytes a request body may hold: max_upload_bytes of files plus the form's text fields and
 * part headers. */
static inline size_t uzs_http_max_body(const uzs_http *h) {
    return h->c.max_upload_bytes + UZS_HTTP_MAX_FIELDS_BYTES + 65536;
}
/* A piece of the body. 0, or -1 when it cannot be parsed or went over a limit (j->over set). */
int uzs_http_form_feed(uzs_http *h, uzs_http_job *j, const void *in, size_t len);
/* The body is complete: fields copied into j->f, the parser freed. 0, or -1 with a message (a
 * malformed form, a field too long). */
int uzs_http_form_end(uzs_http_job *j, char *err, size_t err_size);
/* Free the parser and the uploads. */
void uzs_http_job_free(uzs_http_job *j);

/* ---------------------------------------------------------------- http_jobs.c */
int uzs_http_jobs_start(uzs_http *h, char *err, size_t err_size);
void uzs_http_jobs_stop(uzs_http *h);
/* Queue j (state QUEUED). 0, or -1 when the queue is full or the server is stopping (j untouched). */
int uzs_http_jobs_submit(uzs_http *h, uzs_http_job *j);
/* The client of j left: a queued job is freed now, a running one when its worker is done. Returns 1
 * when j was freed or handed over (the caller must not touch it again), 0 when j is the caller's
 * to free (not queued or running). */
int uzs_http_jobs_abandon(uzs_http *h, uzs_http_job *j);
/* Service thread: ask for a writable callback on every answered job (after lws_cancel_service). */
void uzs_http_jobs_collect(uzs_http *h);

/* ---------------------------------------------------------------- http_transcribe.c / http_openai.c */
/* Set j's answer: status, content type, body (a JSON error body for an error status). */
void uzs_http_answer(uzs_http_job *j, unsigned status, const char *ctype, char *body, size_t len);
/* An error in the format of j's endpoint: {"error":{"message","type","code"}} for OpenAI,
 * {"error":code,"message":...} otherwise. */
void uzs_http_answer_error(uzs_http_job *j, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The checks that need no audio (fields, number of files), on the service thread when the body is
 * complete, and j->opts made from the fields: 0, or 400 with the answer set. */
unsigned uzs_http_check(uzs_http *h, uzs_http_job *j);
/* Run j (checked: uzs_http_check) on ctx (a worker's context) and set its answer. */
void uzs_http_transcribe(uzs_http *h, uzw_context *ctx, uzs_http_job *j);
/* OpenAI-compatible answer from the context's last transcript (response_format checked before). */
void uzs_http_openai_answer(uzs_http_job *j, const uzw_context *ctx, int words);
/* 0 when format is one the OpenAI endpoint answers in ("" = json). */
int uzs_http_openai_format_ok(const char *format);

/* ---------------------------------------------------------------- http_ws.c */
/* The WebSocket side of the protocol callback (ESTABLISHED, RECEIVE, SERVER_WRITEABLE, TIMER,
 * CLOSED); *link is the session's link (NULL before ESTABLISHED). Returns what the callback returns. */
int uzs_http_ws_callback(uzs_http *h, struct lws *wsi, enum lws_callback_reasons reason, uzs_ws_link **link,
                         void *in, size_t len);
/* Service thread: ask for a writable callback on every link with lines to send. */
void uzs_http_ws_collect(uzs_http *h);

#endif
