/* bench_time.h - the clock and the median the benchmark programs share (the engine's monotonic
 * clock and sort, engine/core/util.h). */
#ifndef UZW_BENCH_TIME_H
#define UZW_BENCH_TIME_H

#include "core/util.h"

static inline double bench_now_ms(void) { return uzw_now_ms(); }

/* Median of v[0..n) (sorts v in place). */
static inline double bench_median(double *v, int n) {
    uzw_sort_f64(v, (size_t)n);
    return v[n / 2];
}

#endif
