/* bench_qmat.c - the INT8 CPU products against OpenBLAS f32 on Whisper shapes, in one run:
 *   build/bench_qmat [threads] [reps]
 * For each shape: f32 (uzw_linear: sgemm/sgemv), W8A8 (activation quantisation included) and
 * W8A16 on every SIMD path this CPU has; median ms and the ratio f32 / int8 (above 1: int8 faster).
 * GOPS counts 2 operations per multiply-add. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "model/ops.h"
#include "model/qmat.h"


typedef struct {
    const uzw_wmat *w;
    const float *x, *b;
    float *y;
    int N;
    void *scratch;
    size_t sb;
} job;

static double median_ms(const job *j, int reps) {
    double t[64];
    if (reps > 64) reps = 64;
    uzw_matmul(j->w, j->x, j->b, j->y, j->N, j->scratch, j->sb); /* warm */
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now_ms();
        uzw_matmul(j->w, j->x, j->b, j->y, j->N, j->scratch, j->sb);
        t[r] = bench_now_ms() - t0;
    }
    uzw_sort_f64(t, (size_t)reps);
    return t[reps / 2];
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 9;
    uzw_ops_set_threads(threads);
    static const struct { const char *what; int N, I, O; } shapes[] = {
        {"base enc q/k/v/o", 1500, 512, 512},   {"base enc fc1", 1500, 512, 2048}, {"base enc fc2", 1500, 2048, 512},
        {"base dec proj", 1, 512, 512},          {"base dec fc1", 1, 512, 2048},    {"base dec fc2", 1, 2048, 512},
        {"base logits", 1, 512, 51865},          {"base logits beam 5", 5, 512, 51865},
        {"large enc fc1", 1500, 1280, 5120},     {"large dec fc1", 1, 1280, 5120},  {"large logits", 1, 1280, 51866},
    };
    uzw_cpu_isa best = uzw_cpu_isa_detect();
    printf("# INT8 products vs OpenBLAS f32, %d threads, median of %d; CPU paths up to %s\n\n", threads, reps,
           uzw_cpu_isa_name(best));
    printf("| shape | N, I, O | f32 ms | path | int8 ms | GOPS | f32 / int8 |\n|---|---|---:|---|---:|---:|---:|\n");
    unsigned seed = 1;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s].N, I = shapes[s].I, O = shapes[s].O;
        float *x = malloc(sizeof(float) * (size_t)N * I), *w = malloc(sizeof(float) * (size_t)O * I);
        float *b = malloc(sizeof(float) * O), *y = malloc(sizeof(float) * (size_t)N * O);
        int8_t *q = malloc((size_t)O * I), *pack = aligned_alloc(64, uzw_qpack_bytes(O, I));
        float *sc = malloc(sizeof(float) * O);
        int32_t *qsum = malloc(sizeof(int32_t) * O);
        size_t sb = uzw_matmul_scratch_bytes(N, I);
        void *scratch = aligned_alloc(64, (sb + 63) / 64 * 64);
        if (!x || !w || !b || !y || !q || !pack || !sc || !qsum || !scratch) { fprintf(stderr, "out of memory\n"); return 1; }
        for (size_t i = 0; i < (size_t)N * I; i++) x[i] = (float)rand_r(&seed) / RAND_MAX - 0.5f;
        for (size_t i = 0; i < (size_t)O * I; i++) w[i] = ((float)rand_r(&seed) / RAND_MAX - 0.5f) * 0.1f;
        for (int i = 0; i < O; i++) b[i] = 0.01f * (i % 7);
        uzw_quantize_matrix(w, O, I, q, sc);
        uzw_qmat_pack(q, O, I, pack, qsum);
        double gop = 2.0 * N * I * O / 1e9;
        uzw_wmat wf = {.f = w, .rows = O, .cols = I};
        job jf = {&wf, x, b, y, N, scratch, sb};
        double tf = median_ms(&jf, reps);
        printf("| %s | %d, %d, %d | %.3f | f32 OpenBLAS | %.3f | %.1f | 1.00 |\n", shapes[s].what, N, I, O, tf, tf,
               gop / tf * 1e3);
        for (int isa = (int)best; isa >= UZW_ISA_AVX2; isa--)
            for (int a8 = 1; a8 >= 0; a8--) {
                uzw_wmat wq = {.q = q, .scale = sc, .pack = pack, .qsum = qsum, .rows = O, .cols = I, .a8 = a8,
                               .isa = (uzw_cpu_isa)isa};
                job jq = {&wq, x, b, y, N, scratch, sb};
                double tq = median_ms(&jq, reps);
                printf("| | | | %s %s | %.3f | %.1f | **%.2f** |\n", a8 ? "W8A8" : (N > 8 ? "W8A16 panels" : "W8A16"),
                       uzw_cpu_isa_name((uzw_cpu_isa)isa), tq, gop / tq * 1e3, tf / tq);
            }
        free(x); free(w); free(b); free(y); free(q); free(pack); free(sc); free(qsum); free(scratch);
    }
    return 0;
}
