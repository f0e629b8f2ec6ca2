/* util.h - small internal helpers: error formatting, timing, logging. */
#ifndef UZW_UTIL_H
#define UZW_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include "uzwhisper.h"

/* snprintf into err if err is non-NULL; returns -1 so callers can `return uzw_errf(...)`. */
int uzw_errf(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
double uzw_now_ms(void);
/* The same monotonic clock in seconds. */
double uzw_now_s(void);
void uzw_logf(uzw_log_fn fn, void *user, uzw_log_level level, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Number of online CPUs (>= 1). */
int uzw_n_cpus(void);
/* Sort v[n] ascending (qsort; NaN order unspecified): latencies and timings before percentiles. */
void uzw_sort_f64(double *v, size_t n);

#endif
