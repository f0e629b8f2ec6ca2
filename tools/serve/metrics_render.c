/* metrics_render.c - the registry in the Prometheus text exposition format 0.0.4:
 *   # HELP name help          (help with \ and newline escaped)
 *   # TYPE name counter|gauge|histogram   (info families are gauges)
 *   name{l1="v1",l2="v2"} value           (label values with \, " and newline escaped)
 *   name_bucket{...,le="0.5"} n ... name_bucket{...,le="+Inf"} n, name_sum{...}, name_count{...}
 * Each family is copied under its own lock, so a histogram is always self-consistent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"

typedef struct {
    char *data;
    size_t len, cap;
    int oom;
} outbuf;

static void put(outbuf *o, const char *s, size_t n) {
    if (o->oom) return;
    if (o->len + n + 1 > o->cap) {
        size_t ncap = o->cap ? o->cap : 4096;
        while (o->len + n + 1 > ncap) ncap *= 2;
        char *nd = realloc(o->data, ncap);
        if (!nd) {
            o->oom = 1;
            return;
        }
        o->data = nd;
        o->cap = ncap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = 0;
}

static void puts_(outbuf *o, const char *s) { put(o, s, strlen(s)); }

/* Escape \ and newline (help), and also " (label values, quote = 1). */
static void put_escaped(outbuf *o, const char *s, int quote) {
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\') rep = "\\\\";
        else if (*s == '\n') rep = "\\n";
        else if (quote && *s == '"') rep = "\\\"";
        if (!rep) continue;
        put(o, run, (size_t)(s - run));
        puts_(o, rep);
        run = s + 1;
    }
    put(o, run, (size_t)(s - run));
}

/* The shortest of %.15g and %.17g that reads back as v; NaN, +Inf and -Inf as Prometheus spells them. */
static void fmt_number(char *buf, size_t cap, double v) {
    if (isnan(v)) snprintf(buf, cap, "NaN");
    else if (isinf(v)) snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
    else {
        snprintf(buf, cap, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, cap, "%.17g", v);
    }
}

static void put_number(outbuf *o, double v) {
    char b[40];
    fmt_number(b, sizeof b, v);
    puts_(o, b);
}

static void put_u64(outbuf *o, unsigned long long v) {
    char b[24];
    snprintf(b, sizeof b, "%llu", v);
    puts_(o, b);
}

/* name{labels[,le="..."]} : extra_name/extra_value add one label after the family's */
static void put_labels(outbuf *o, const uzs_metric *f, const uzs_series *s, const char *extra_name,
                       const char *extra_value) {
    if (f->n_labels == 0 && !extra_name) return;
    puts_(o, "{");
    for (int k = 0; k < f->n_labels; k++) {
        if (k) puts_(o, ",");
        puts_(o, f->labels[k]);
        puts_(o, "=\"");
        put_escaped(o, s->values[k], 1);
        puts_(o, "\"");
    }
    if (extra_name) {
        if (f->n_labels) puts_(o, ",");
        puts_(o, extra_name);
        puts_(o, "=\"");
        puts_(o, extra_value);
        puts_(o, "\"");
    }
    puts_(o, "}");
}

/* The start of one sample line: "name<suffix>{labels} " (extra label as put_labels). */
static void put_sample(outbuf *o, const uzs_metric *f, const uzs_series *s, const char *suffix, const char *extra_name,
                       const char *extra_value) {
    puts_(o, f->name);
    puts_(o, suffix);
    put_labels(o, f, s, extra_name, extra_value);
    puts_(o, " ");
}

static void render_family(outbuf *o, uzs_metric *f) {
    puts_(o, "# HELP ");
    puts_(o, f->name);
    if (f->help[0]) {
        puts_(o, " ");
        put_escaped(o, f->help, 0);
    }
    puts_(o, "\n# TYPE ");
    puts_(o, f->name);
    puts_(o, f->type == UZS_METRIC_COUNTER     ? " counter\n"
             : f->type == UZS_METRIC_HISTOGRAM ? " histogram\n"
                                               : " gauge\n");
    for (int i = 0; i < f->n_series; i++) {
        const uzs_series *s = f->series[i];
        if (f->type != UZS_METRIC_HISTOGRAM) {
            put_sample(o, f, s, "", NULL, NULL);
            put_number(o, s->value);
            puts_(o, "\n");
            continue;
        }
        unsigned long long cum = 0;
        for (int b = 0; b <= f->n_buckets; b++) {
            char le[40];
            if (b < f->n_buckets) fmt_number(le, sizeof le, f->buckets[b]);
            else snprintf(le, sizeof le, "+Inf");
            cum += s->buckets[b];
            put_sample(o, f, s, "_bucket", "le", le);
            put_u64(o, cum);
            puts_(o, "\n");
        }
        put_sample(o, f, s, "_sum", NULL, NULL);
        put_number(o, s->sum);
        puts_(o, "\n");
        put_sample(o, f, s, "_count", NULL, NULL);
        put_u64(o, s->count);
        puts_(o, "\n");
    }
}

char *uzs_metrics_render(uzs_metrics *m, size_t *len) {
    if (len) *len = 0;
    if (!m) return NULL;
    outbuf o = {0};
    put(&o, "", 0); /* an empty registry renders as "" */
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->n_families; i++) {
        uzs_metric *f = m->families[i];
        pthread_mutex_lock(&f->mu);
        render_family(&o, f);
        pthread_mutex_unlock(&f->mu);
    }
    pthread_mutex_unlock(&m->mu);
    if (o.oom) {
        free(o.data);
        return NULL;
    }
    if (len) *len = o.len;
    return o.data;
}
