/* bench_kernels.c - every entry of the kernel registry timed at its shapes and launch
 * configurations (CUDA events, L2 flushed, median), each figure stated against the two ceilings
 * measured in the same run (copy bandwidth, cuBLAS fp16 rate) and against its peer where the
 * entry has one (e.g. cuBLAS). Every kernel's check runs first: a kernel that fails its check is
 * not timed. Usage: bench_kernels [NAME_PREFIX] [--reps N]. Markdown on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef UZW_HAVE_CUDA
#include "cuda_api.h"
#include "registry.h"
#endif

int main(int argc, char **argv) {
#ifndef UZW_HAVE_CUDA
    (void)argc;
    (void)argv;
    printf("bench_kernels: built without CUDA (UZW_CUDA=OFF): nothing to time\n");
    return 0;
#else
    const char *prefix = "";
    int reps = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else prefix = argv[i];
    }
    char err[256] = "", name[128] = "";
    if (uzw_cuda_device_count(err, sizeof err) == 0) {
        printf("bench_kernels: no CUDA device (%s): nothing to time\n", err);
        return 0;
    }
    uzw_cuda_device_describe(0, name, sizeof name);
    uzwk_ctx *c = uzwk_ctx_new(0, (size_t)256 << 20, err, sizeof err);
    if (!c) {
        fprintf(stderr, "bench_kernels: %s\n", err);
        return 1;
    }
    double bw = 0, tf = 0;
    if (uzwk_measure_bandwidth(c, (size_t)1 << 30, &bw) || uzwk_measure_tflops(c, 8192, &tf)) {
        fprintf(stderr, "bench_kernels: measuring the ceilings: %s\n", uzwk_error(c));
        return 1;
    }
    printf("# Kernel benchmark\n\n%s. Measured in this run: copy bandwidth %.0f GB/s (read + write), cuBLAS fp16 "
           "%.0f TFLOP/s. Median of %d launches, L2 flushed before each.\n\n",
           name, bw, tf, reps);
    printf("| kernel | shape | variant | check | µs | GB/s | of bandwidth | TFLOP/s | of fp16 peak | peer | peer µs | "
           "peer / ours |\n|---|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|\n");
    int failures = 0;
    for (int i = 0; i < uzwk_registry_count(); i++) {
        const uzwk_op *op = uzwk_registry_at(i);
        if (strncmp(op->name, prefix, strlen(prefix)) != 0 || !op->bench) continue;
        for (int s = 0; s < op->n_shapes; s++)
            for (int v = 0; v < op->n_variants; v++) {
                uzwk_check_result cr = {0};
                if (op->check(c, s, v, 4242 + (uint64_t)s, &cr) != 0 || !cr.pass) {
                    failures++;
                    printf("| %s | %s | %s | FAIL: %s | | | | | | | | |\n", op->name, op->shapes[s], op->variants[v],
                           cr.detail[0] ? cr.detail : uzwk_error(c));
                    continue;
                }
                uzwk_bench_result r = {0};
                if (op->bench(c, s, v, reps, &r) != 0) {
                    failures++;
                    printf("| %s | %s | %s | ok | error: %s | | | | | | | |\n", op->name, op->shapes[s], op->variants[v],
                           uzwk_error(c));
                    continue;
                }
                double sec = r.ms * 1e-3, gbs = r.bytes / sec / 1e9, tfl = r.flops / sec / 1e12;
                printf("| %s | %s | %s | ok (%.1e) | %.1f | %.0f | %.0f%% | %.1f | %.0f%% | %s | %.1f | %.2f |\n", op->name,
                       op->shapes[s], op->variants[v], cr.rel_err, r.ms * 1e3, gbs, 100 * gbs / bw, tfl, 100 * tfl / tf,
                       r.peer[0] ? r.peer : "-", r.peer_ms * 1e3, r.peer_ms > 0 ? r.peer_ms / r.ms : 0.0);
                fflush(stdout);
            }
    }
    uzwk_ctx_free(c);
    return failures ? 1 : 0;
#endif
}
