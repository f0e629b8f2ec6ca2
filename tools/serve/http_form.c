/* http_form.c - the body of a transcription request (http_internal.h): a multipart/form-data or
 * urlencoded form parsed by libwebsockets' form parser (lws_spa: text fields by name, file parts to
 * a callback), or any other body taken whole as one audio file. Query-string arguments give the
 * same fields for a raw body (POST /transcribe?language_hint=uz with Content-Type: audio/wav). Every
 * byte is counted against max_upload_bytes, and a form holds at most UZS_HTTP_MAX_FILES files. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "http_internal.h"

/* The text fields: the name clients send (first member: the table is lws_spa's name list, read with
 * a stride) and where it goes in uzs_http_fields. */
typedef struct {
    const char *name;
    size_t off, size;
} field_def;
#define FIELD(n, m) {n, offsetof(uzs_http_fields, m), sizeof(((uzs_http_fields *)0)->m)}
static const field_def fields[] = {
    FIELD("language_hint", language_hint), FIELD("language", language), FIELD("response_format", response_format),
    FIELD("prompt", prompt), FIELD("temperature", temperature), FIELD("timestamp_granularities[]", granularities),
    FIELD("model", model), FIELD("adapter", adapter), FIELD("task", task), FIELD("uz_script", uz_script),
};
#undef FIELD
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

static char *field_slot(uzs_http_fields *f, int i) { return (char *)f + fields[i].off; }

/* Append len bytes to upload u, counting them against the request's limit. */
static int append(uzs_http *h, uzs_http_job *j, uzs_upload *u, const void *buf, size_t len) {
    if (!len) return 0;
    if (j->bytes + len > h->c.max_upload_bytes) {
        j->over = 1;
        return -1;
    }
    if (u->len + len > u->cap) {
        size_t cap = u->cap ? u->cap : 65536;
        while (cap < u->len + len) cap *= 2;
        if (cap > h->c.max_upload_bytes) cap = h->c.max_upload_bytes;
        uint8_t *d = realloc(u->data, cap);
        if (!d) return -1;
        u->data = d;
        u->cap = cap;
    }
    memcpy(u->data + u->len, buf, len);
    u->len += len;
    j->bytes += len;
    return 0;
}

static int new_upload(uzs_http_job *j, const char *field, const char *filename) {
    if (j->n_files == UZS_HTTP_MAX_FILES) {
        j->over = 2; /* too many files */
        return -1;
    }
    uzs_upload *u = &j->files[j->n_files];
    memset(u, 0, sizeof *u);
    u->field = strdup(field && *field ? field : "file");
    u->filename = strdup(filename && *filename ? filename : "upload");
    if (!u->field || !u->filename) {
        free(u->field), free(u->filename);
        return -1;
    }
    j->n_files++;
    return 0;
}

static int on_file(void *data, const char *name, const char *filename, char *buf, int len,
                   enum lws_spa_fileupload_states state) {
    uzs_http_job *j = data;
    uzs_http *h = lws_context_user(lws_get_context(j->wsi));
    switch (state) {
    case LWS_UFS_OPEN: return new_upload(j, name, filename);
    case LWS_UFS_CONTENT:
    case LWS_UFS_FINAL_CONTENT:
        if (!j->n_files) return -1;
        return len < 0 ? -1 : append(h, j, &j->files[j->n_files - 1], buf, (size_t)len);
    case LWS_UFS_CLOSE: return 0;
    }
    return 0;
}

/* Query-string arguments as defaults for the fields. */
static void query_fields(struct lws *wsi, uzs_http_fields *f) {
    for (int i = 0; i < N_FIELDS; i++) {
        char key[64], buf[1100];
        snprintf(key, sizeof key, "%s=", fields[i].name);
        const char *v = lws_get_urlarg_by_name(wsi, key, buf, (int)sizeof buf);
        if (v && strlen(v) < fields[i].size) snprintf(field_slot(f, i), fields[i].size, "%s", v);
    }
}

int uzs_http_form_begin(struct lws *wsi, uzs_http_job *j) {
    char ct[256] = "";
    if (lws_hdr_copy(wsi, ct, (int)sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE) < 0) ct[0] = 0;
    query_fields(wsi, &j->f);
    if (!strncasecmp(ct, "multipart/form-data", 19) || !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
        lws_spa_create_info_t si;
        memset(&si, 0, sizeof si);
        si.param_names = &fields[0].name;
        si.param_names_stride = sizeof fields[0];
        si.count_params = N_FIELDS;
        si.max_storage = UZS_HTTP_MAX_FIELDS_BYTES;
        si.opt_cb = on_file;
        si.opt_data = j;
        j->spa = lws_spa_create_via_info(wsi, &si);
        return j->spa ? 0 : -1;
    }
    return new_upload(j, "body", "body"); /* the body is the file */
}

int uzs_http_form_feed(uzs_http *h, uzs_http_job *j, const void *in, size_t len) {
    if (j->spa) {
        if (j->bytes + len > uzs_http_max_body(h)) {
            j->over = 1;
            return -1;
        }
        return lws_spa_process(j->spa, in, (int)len) < 0 ? -1 : 0;
    }
    return append(h, j, &j->files[0], in, len);
}

int uzs_http_form_end(uzs_http_job *j, char *err, size_t es) {
    if (!j->spa) return 0;
    int rc = 0;
    if (lws_spa_finalize(j->spa) < 0) {
        snprintf(err, es, "the form could not be parsed");
        rc = -1;
    }
    for (int i = 0; i < N_FIELDS && rc == 0; i++) {
        const char *v = lws_spa_get_string(j->spa, i);
        if (!v) continue;
        if (strlen(v) >= fields[i].size) {
            snprintf(err, es, "form field '%s' is too long (at most %zu bytes)", fields[i].name, fields[i].size - 1);
            rc = -1;
        } else {
            snprintf(field_slot(&j->f, i), fields[i].size, "%s", v);
        }
    }
    lws_spa_destroy(j->spa); /* on the service thread, where it was made */
    j->spa = NULL;
    return rc;
}

void uzs_http_job_free(uzs_http_job *j) {
    if (!j) return;
    if (j->metrics) uzs_server_metrics_connection(j->metrics, "http", -1);
    if (j->spa) lws_spa_destroy(j->spa);
    for (int i = 0; i < j->n_files; i++) free(j->files[i].field), free(j->files[i].filename), free(j->files[i].data);
    free(j->body);
    free(j);
}
