/* metrics_internal.h - the inside of the metrics registry, shared by metrics_registry.c (families,
 * series, updates) and metrics_render.c (the text format) only. */
#ifndef UZS_METRICS_INTERNAL_H
#define UZS_METRICS_INTERNAL_H

#include <pthread.h>

#include "metrics_registry.h"

typedef struct {
    char *values[UZS_METRICS_MAX_LABELS]; /* (n_labels) label values, owned                    */
    unsigned long long hash;              /* FNV-1a of the values, to skip most string compares */
    double value;                         /* counter, gauge, info                               */
    double sum;                           /* histogram: sum of observations                     */
    unsigned long long count;             /* histogram: number of observations                  */
    unsigned long long *buckets;          /* histogram: (n_buckets + 1) non-cumulative, last = +Inf */
} uzs_series;

struct uzs_metric {
    uzs_metric_type type;
    char *name, *help;
    char *labels[UZS_METRICS_MAX_LABELS]; /* (n_labels) */
    int n_labels;
    double buckets[UZS_METRICS_MAX_BUCKETS]; /* (n_buckets) upper bounds */
    int n_buckets;
    int max_series;
    pthread_mutex_t mu;                   /* guards everything below */
    uzs_series **series;                  /* (n_series) in creation order */
    int n_series, cap_series;
    long long refused;
};

struct uzs_metrics {
    pthread_mutex_t mu;                   /* guards the family list */
    uzs_metric *families[UZS_METRICS_MAX_FAMILIES];
    int n_families;
};

#endif
