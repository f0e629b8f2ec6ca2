/* metrics_registry.c - the metrics registry: families and their checks at registration, series
 * looked up or created under the family's mutex with the cardinality cap, and the updates
 * (rules and the reason for mutexes: metrics_registry.h). Rendering is in metrics_render.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "core/util.h" /* uzw_errf */

/* ---------------------------------------------------------------- names and text */

static int name_ok(const char *s, int colon) {
    if (!s || !s[0]) return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
        if (!alpha && !(p > s && c >= '0' && c <= '9')) return 0;
    }
    return 1;
}

/* 1 when s[n] is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07, min = 0x10000;
        else return 0;
        if (i + (size_t)len > n) return 0;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += (size_t)len;
    }
    return 1;
}

/* 1 when counter is "base_total" (what a parser that follows OpenMetrics names family "base") */
static int is_total_of(const char *counter, const char *base) {
    size_t nb = strlen(base);
    return strncmp(counter, base, nb) == 0 && strcmp(counter + nb, "_total") == 0;
}

static int ends_with_suffix_of(const char *name, const char *base) {
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    size_t nb = strlen(base);
    if (strncmp(name, base, nb) != 0) return 0;
    for (int k = 0; k < 3; k++)
        if (strcmp(name + nb, suffixes[k]) == 0) return 1;
    return 0;
}

/* ---------------------------------------------------------------- registry */

static void free_series(uzs_series *s, int n_labels) {
    if (!s) return;
    for (int k = 0; k < n_labels; k++) free(s->values[k]);
    free(s->buckets);
    free(s);
}

static void free_family(uzs_metric *f) {
    if (!f) return;
    for (int i = 0; i < f->n_series; i++) free_series(f->series[i], f->n_labels);
    free(f->series);
    for (int k = 0; k < f->n_labels; k++) free(f->labels[k]);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

uzs_metrics *uzs_metrics_new(void) {
    uzs_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

void uzs_metrics_free(uzs_metrics *m) {
    if (!m) return;
    for (int i = 0; i < m->n_families; i++) free_family(m->families[i]);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const char *type_name(uzs_metric_type t) {
    switch (t) {
    case UZS_METRIC_COUNTER: return "counter";
    case UZS_METRIC_GAUGE: return "gauge";
    case UZS_METRIC_HISTOGRAM: return "histogram";
    case UZS_METRIC_INFO: return "info";
    }
    return "?";
}

/* Check a description; 0 or -1 with err. */
static int check_desc(const uzs_metric_desc *d, char *err, size_t err_size) {
    if (d->type != UZS_METRIC_COUNTER && d->type != UZS_METRIC_GAUGE && d->type != UZS_METRIC_HISTOGRAM &&
        d->type != UZS_METRIC_INFO) {
        uzw_errf(err, err_size, "metric type %d is not one of counter, gauge, histogram, info", (int)d->type);
        return -1;
    }
    if (!name_ok(d->name, 1)) {
        uzw_errf(err, err_size, "metric name \"%s\" is not [a-zA-Z_:][a-zA-Z0-9_:]*", d->name ? d->name : "(null)");
        return -1;
    }
    if (d->help && !utf8_ok((const unsigned char *)d->help, strlen(d->help))) {
        uzw_errf(err, err_size, "%s: the help text is not UTF-8", d->name);
        return -1;
    }
    if (d->n_labels < 0 || d->n_labels > UZS_METRICS_MAX_LABELS || (d->n_labels && !d->labels)) {
        uzw_errf(err, err_size, "%s: %d label names (0 to %d allowed)", d->name, d->n_labels, UZS_METRICS_MAX_LABELS);
        return -1;
    }
    for (int k = 0; k < d->n_labels; k++) {
        const char *l = d->labels[k];
        if (!name_ok(l, 0) || strncmp(l, "__", 2) == 0) {
            uzw_errf(err, err_size, "%s: label name \"%s\" is not [a-zA-Z_][a-zA-Z0-9_]* or starts with __", d->name,
                    l ? l : "(null)");
            return -1;
        }
        if (d->type == UZS_METRIC_HISTOGRAM && strcmp(l, "le") == 0) {
            uzw_errf(err, err_size, "%s: a histogram cannot have a label named le", d->name);
            return -1;
        }
        for (int j = 0; j < k; j++)
            if (strcmp(d->labels[j], l) == 0) {
                uzw_errf(err, err_size, "%s: label name %s given twice", d->name, l);
                return -1;
            }
    }
    if (d->type == UZS_METRIC_HISTOGRAM) {
        if (d->n_buckets < 1 || d->n_buckets > UZS_METRICS_MAX_BUCKETS || !d->buckets) {
            uzw_errf(err, err_size, "%s: %d buckets (1 to %d allowed; +Inf is added)", d->name, d->n_buckets,
                    UZS_METRICS_MAX_BUCKETS);
            return -1;
        }
        for (int b = 0; b < d->n_buckets; b++) {
            if (!isfinite(d->buckets[b]) || (b > 0 && !(d->buckets[b] > d->buckets[b - 1]))) {
                uzw_errf(err, err_size, "%s: bucket bounds must be finite and strictly increasing (bound %d)", d->name,
                        b);
                return -1;
            }
        }
    } else if (d->n_buckets != 0) {
        uzw_errf(err, err_size, "%s: only a histogram has buckets", d->name);
        return -1;
    }
    if (d->max_series < 0 || d->max_series > UZS_METRICS_MAX_SERIES) {
        uzw_errf(err, err_size, "%s: max_series %d (0 to %d allowed)", d->name, d->max_series, UZS_METRICS_MAX_SERIES);
        return -1;
    }
    return 0;
}

static int series_create(uzs_metric *f, const char *const *values, unsigned long long hash, uzs_series **out);

uzs_metric *uzs_metrics_register(uzs_metrics *m, const uzs_metric_desc *d, char *err, size_t err_size) {
    if (!m || !d) {
        uzw_errf(err, err_size, "uzs_metrics_register: no registry or description");
        return NULL;
    }
    if (check_desc(d, err, err_size)) return NULL;
    uzs_metric *f = calloc(1, sizeof *f);
    if (!f || pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        uzw_errf(err, err_size, "%s: out of memory", d->name);
        return NULL;
    }
    f->type = d->type;
    f->name = strdup(d->name);
    f->help = strdup(d->help ? d->help : "");
    f->n_labels = d->n_labels;
    int oom = !f->name || !f->help;
    for (int k = 0; k < d->n_labels; k++) oom |= !(f->labels[k] = strdup(d->labels[k]));
    f->n_buckets = d->n_buckets;
    for (int b = 0; b < d->n_buckets; b++) f->buckets[b] = d->buckets[b];
    f->max_series = d->max_series ? d->max_series : UZS_METRICS_DEFAULT_SERIES;
    uzs_series *only = NULL;
    if (!oom && f->n_labels == 0 && series_create(f, NULL, 0, &only) != UZS_METRIC_OK) oom = 1;
    if (oom) {
        uzw_errf(err, err_size, "%s: out of memory", d->name);
        free_family(f);
        return NULL;
    }

    pthread_mutex_lock(&m->mu);
    const char *clash = NULL;
    for (int i = 0; i < m->n_families && !clash; i++) {
        const uzs_metric *g = m->families[i];
        if (strcmp(g->name, f->name) == 0 ||
            (g->type == UZS_METRIC_HISTOGRAM && ends_with_suffix_of(f->name, g->name)) ||
            (f->type == UZS_METRIC_HISTOGRAM && ends_with_suffix_of(g->name, f->name)) ||
            (g->type == UZS_METRIC_COUNTER && is_total_of(g->name, f->name)) ||
            (f->type == UZS_METRIC_COUNTER && is_total_of(f->name, g->name)))
            clash = g->name;
    }
    if (clash || m->n_families == UZS_METRICS_MAX_FAMILIES) {
        if (clash)
            uzw_errf(err, err_size, "%s (%s): the name clashes with the metric %s already registered", f->name,
                    type_name(f->type), clash);
        else
            uzw_errf(err, err_size, "%s: more than %d metric families", f->name, UZS_METRICS_MAX_FAMILIES);
        pthread_mutex_unlock(&m->mu);
        free_family(f);
        return NULL;
    }
    m->families[m->n_families++] = f;
    pthread_mutex_unlock(&m->mu);
    return f;
}

uzs_metric *uzs_metrics_find(uzs_metrics *m, const char *name) {
    if (!m || !name) return NULL;
    uzs_metric *f = NULL;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->n_families && !f; i++)
        if (strcmp(m->families[i]->name, name) == 0) f = m->families[i];
    pthread_mutex_unlock(&m->mu);
    return f;
}

/* ---------------------------------------------------------------- series */

/* Check the label values and hash them (before taking the lock). */
static int values_hash(const uzs_metric *f, const char *const *values, unsigned long long *hash) {
    unsigned long long h = 1469598103934665603ULL; /* FNV-1a 64 */
    if (f->n_labels && !values) return UZS_METRIC_ERR_LABEL;
    for (int k = 0; k < f->n_labels; k++) {
        const char *v = values[k];
        if (!v) return UZS_METRIC_ERR_LABEL;
        size_t n = strlen(v);
        if (n > UZS_METRICS_MAX_VALUE_LEN || !utf8_ok((const unsigned char *)v, n)) return UZS_METRIC_ERR_LABEL;
        for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)v[i]) * 1099511628211ULL;
        h = (h ^ 0xffu) * 1099511628211ULL; /* 0xff never occurs in UTF-8: a separator */
    }
    *hash = h;
    return UZS_METRIC_OK;
}

static int series_find(const uzs_metric *f, const char *const *values, unsigned long long hash) {
    for (int i = 0; i < f->n_series; i++) {
        const uzs_series *s = f->series[i];
        if (s->hash != hash) continue;
        int same = 1;
        for (int k = 0; k < f->n_labels && same; k++) same = strcmp(s->values[k], values[k]) == 0;
        if (same) return i;
    }
    return -1;
}

/* A new zero series (family locked, or not yet shared). */
static int series_create(uzs_metric *f, const char *const *values, unsigned long long hash, uzs_series **out) {
    if (f->n_series >= f->max_series) return UZS_METRIC_ERR_CARDINALITY;
    if (f->n_series == f->cap_series) {
        int ncap = f->cap_series ? f->cap_series * 2 : 8;
        if (ncap > f->max_series) ncap = f->max_series;
        uzs_series **ns = realloc(f->series, (size_t)ncap * sizeof *ns);
        if (!ns) return UZS_METRIC_ERR_NOMEM;
        f->series = ns;
        f->cap_series = ncap;
    }
    uzs_series *s = calloc(1, sizeof *s);
    if (!s) return UZS_METRIC_ERR_NOMEM;
    s->hash = hash;
    int oom = 0;
    for (int k = 0; k < f->n_labels; k++) oom |= !(s->values[k] = strdup(values[k]));
    if (f->type == UZS_METRIC_HISTOGRAM) oom |= !(s->buckets = calloc((size_t)f->n_buckets + 1, sizeof *s->buckets));
    if (oom) {
        free_series(s, f->n_labels);
        return UZS_METRIC_ERR_NOMEM;
    }
    f->series[f->n_series++] = s;
    *out = s;
    return UZS_METRIC_OK;
}

#define SERIES_ABSENT 1 /* lock_series without create: no such series */

/* Lock the family and find (create = 0) or find or create (create = 1: an update, counted as
 * refused when it fails) the series. On UZS_METRIC_OK the family stays locked. */
static int lock_series(uzs_metric *f, const char *const *values, int create, uzs_series **out) {
    unsigned long long h = 0;
    int rc = values_hash(f, values, &h);
    pthread_mutex_lock(&f->mu);
    if (rc == UZS_METRIC_OK) {
        int i = f->n_labels ? series_find(f, values, h) : 0;
        if (i >= 0) {
            *out = f->series[i];
            return UZS_METRIC_OK;
        }
        rc = create ? series_create(f, values, h, out) : SERIES_ABSENT;
        if (rc == UZS_METRIC_OK) return rc;
    }
    if (create) f->refused++;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static int refuse(uzs_metric *f, int code) {
    pthread_mutex_lock(&f->mu);
    f->refused++;
    pthread_mutex_unlock(&f->mu);
    return code;
}

/* ---------------------------------------------------------------- updates */

int uzs_metric_add(uzs_metric *f, const char *const *values, double v) {
    if (!f) return UZS_METRIC_ERR_ARG;
    if (f->type != UZS_METRIC_COUNTER && f->type != UZS_METRIC_GAUGE) return refuse(f, UZS_METRIC_ERR_TYPE);
    if (isnan(v) || (f->type == UZS_METRIC_COUNTER && (v < 0 || isinf(v)))) return refuse(f, UZS_METRIC_ERR_VALUE);
    uzs_series *s;
    int rc = lock_series(f, values, 1, &s);
    if (rc != UZS_METRIC_OK) return rc;
    s->value += v;
    pthread_mutex_unlock(&f->mu);
    return UZS_METRIC_OK;
}

int uzs_metric_set(uzs_metric *f, const char *const *values, double v) {
    if (!f) return UZS_METRIC_ERR_ARG;
    if (f->type != UZS_METRIC_GAUGE) return refuse(f, UZS_METRIC_ERR_TYPE);
    if (isnan(v)) return refuse(f, UZS_METRIC_ERR_VALUE);
    uzs_series *s;
    int rc = lock_series(f, values, 1, &s);
    if (rc != UZS_METRIC_OK) return rc;
    s->value = v;
    pthread_mutex_unlock(&f->mu);
    return UZS_METRIC_OK;
}

int uzs_metric_observe(uzs_metric *f, const char *const *values, double v) {
    if (!f) return UZS_METRIC_ERR_ARG;
    if (f->type != UZS_METRIC_HISTOGRAM) return refuse(f, UZS_METRIC_ERR_TYPE);
    if (isnan(v)) return refuse(f, UZS_METRIC_ERR_VALUE);
    int b = 0; /* first bucket with v <= bound; n_buckets = the +Inf bucket */
    while (b < f->n_buckets && v > f->buckets[b]) b++;
    uzs_series *s;
    int rc = lock_series(f, values, 1, &s);
    if (rc != UZS_METRIC_OK) return rc;
    s->buckets[b]++;
    s->count++;
    s->sum += v;
    pthread_mutex_unlock(&f->mu);
    return UZS_METRIC_OK;
}

int uzs_metric_info_set(uzs_metric *f, const char *const *values) {
    if (!f) return UZS_METRIC_ERR_ARG;
    if (f->type != UZS_METRIC_INFO) return refuse(f, UZS_METRIC_ERR_TYPE);
    uzs_series *s;
    int rc = lock_series(f, values, 1, &s);
    if (rc != UZS_METRIC_OK) return rc;
    s->value = 1;
    pthread_mutex_unlock(&f->mu);
    return UZS_METRIC_OK;
}

int uzs_metric_touch(uzs_metric *f, const char *const *values) {
    if (!f) return UZS_METRIC_ERR_ARG;
    if (f->type == UZS_METRIC_INFO) return refuse(f, UZS_METRIC_ERR_TYPE); /* an info series is 1 or absent */
    uzs_series *s;
    int rc = lock_series(f, values, 1, &s);
    if (rc != UZS_METRIC_OK) return rc;
    pthread_mutex_unlock(&f->mu);
    return UZS_METRIC_OK;
}

static void zero_series(uzs_metric *f, uzs_series *s) {
    s->value = 0;
    s->sum = 0;
    s->count = 0;
    if (s->buckets) memset(s->buckets, 0, ((size_t)f->n_buckets + 1) * sizeof *s->buckets);
}

int uzs_metric_remove(uzs_metric *f, const char *const *values) {
    if (!f) return UZS_METRIC_ERR_ARG;
    uzs_series *s;
    int rc = lock_series(f, values, 0, &s);
    if (rc == SERIES_ABSENT) return UZS_METRIC_OK; /* not there */
    if (rc != UZS_METRIC_OK) return rc;
    if (f->n_labels == 0) {
        zero_series(f, s);
    } else {
        int i = 0;
        while (f->series[i] != s) i++;
        memmove(f->series + i, f->series + i + 1, (size_t)(f->n_series - i - 1) * sizeof *f->series);
        f->n_series--;
        free_series(s, f->n_labels);
    }
    pthread_mutex_unlock(&f->mu);
    return UZS_METRIC_OK;
}

int uzs_metric_clear(uzs_metric *f) {
    if (!f) return UZS_METRIC_ERR_ARG;
    pthread_mutex_lock(&f->mu);
    if (f->n_labels == 0) {
        zero_series(f, f->series[0]);
    } else {
        for (int i = 0; i < f->n_series; i++) free_series(f->series[i], f->n_labels);
        f->n_series = 0;
    }
    pthread_mutex_unlock(&f->mu);
    return UZS_METRIC_OK;
}

/* ---------------------------------------------------------------- reading back */

int uzs_metric_get(uzs_metric *f, const char *const *values, double *value) {
    if (!f || f->type == UZS_METRIC_HISTOGRAM) return -1;
    uzs_series *s;
    if (lock_series(f, values, 0, &s) != UZS_METRIC_OK) return -1;
    if (value) *value = s->value;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

int uzs_metric_get_histogram(uzs_metric *f, const char *const *values, unsigned long long *count, double *sum,
                             unsigned long long *bucket_counts) {
    if (!f || f->type != UZS_METRIC_HISTOGRAM) return -1;
    uzs_series *s;
    if (lock_series(f, values, 0, &s) != UZS_METRIC_OK) return -1;
    if (count) *count = s->count;
    if (sum) *sum = s->sum;
    if (bucket_counts) memcpy(bucket_counts, s->buckets, ((size_t)f->n_buckets + 1) * sizeof *bucket_counts);
    pthread_mutex_unlock(&f->mu);
    return 0;
}

int uzs_metric_n_series(uzs_metric *f) {
    if (!f) return 0;
    pthread_mutex_lock(&f->mu);
    int n = f->n_series;
    pthread_mutex_unlock(&f->mu);
    return n;
}

long long uzs_metric_refused(uzs_metric *f) {
    if (!f) return 0;
    pthread_mutex_lock(&f->mu);
    long long n = f->refused;
    pthread_mutex_unlock(&f->mu);
    return n;
}

const char *uzs_metric_error_str(int code) {
    switch (code) {
    case UZS_METRIC_OK: return "ok";
    case UZS_METRIC_ERR_CARDINALITY: return "too many label-value combinations for this metric";
    case UZS_METRIC_ERR_VALUE: return "value not allowed (NaN, or a negative counter increment)";
    case UZS_METRIC_ERR_LABEL: return "label value missing, longer than 256 bytes or not UTF-8";
    case UZS_METRIC_ERR_TYPE: return "this update does not apply to this metric type";
    case UZS_METRIC_ERR_NOMEM: return "out of memory";
    case UZS_METRIC_ERR_ARG: return "no metric";
    default: return "unknown metrics error";
    }
}
