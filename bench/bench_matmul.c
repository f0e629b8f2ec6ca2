/* bench_matmul.c - why the CPU path uses OpenBLAS: y = x.W^T with OpenBLAS sgemm/sgemv against our
 * plain loops (the reference in engine/model/ops_ref.c, and a float-accumulating i-k-j loop), on
 * the shapes Whisper base runs: encoder projections [1500,512]x[512,512]^T, encoder fc1
 * [1500,512]x[2048,512]^T, and the per-token logits [1,512]x[51865,512]^T. Prints ratios measured in
 * this one run; no pass/fail. Usage: bench_matmul [threads]   */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "model/ops.h"

static void loops_f32(const float *x, const float *W, float *y, int N, int I, int O) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            const float *xr = x + (size_t)n * I, *wr = W + (size_t)o * I;
            float acc = 0;
            for (int i = 0; i < I; i++) acc += xr[i] * wr[i];
            y[(size_t)n * O + o] = acc;
        }
}

static double best_ms(int reps, void (*fn)(void *), void *arg) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = uzw_now_ms();
        fn(arg);
        t = uzw_now_ms() - t;
        if (t < best) best = t;
    }
    return best;
}

typedef struct { const float *x, *W; float *y; int N, I, O, which; } job;
static void run_job(void *p) {
    job *j = p;
    if (j->which == 0) uzw_linear(j->x, j->W, NULL, j->y, j->N, j->I, j->O);
    else if (j->which == 1) loops_f32(j->x, j->W, j->y, j->N, j->I, j->O);
    else uzw_linear_ref(j->x, j->W, NULL, j->y, j->N, j->I, j->O);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    uzw_ops_set_threads(threads);
    const int shapes[][3] = {{1500, 512, 512}, {1500, 512, 2048}, {1, 512, 51865}, {1, 512, 512}};
    printf("%-22s %12s %12s %12s %10s %10s\n", "shape N,I,O", "openblas ms", "loops ms", "ref ms", "loops/blas", "ref/blas");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int N = shapes[s][0], I = shapes[s][1], O = shapes[s][2];
        float *x = malloc(sizeof(float) * N * I), *W = malloc(sizeof(float) * O * I), *y = malloc(sizeof(float) * N * O);
        if (!x || !W || !y) return 1;
        for (size_t i = 0; i < (size_t)N * I; i++) x[i] = (float)(i % 13) * 0.1f;
        for (size_t i = 0; i < (size_t)O * I; i++) W[i] = (float)(i % 7) * 0.01f;
        job j = {x, W, y, N, I, O, 0};
        double t_blas = best_ms(5, run_job, &j);
        j.which = 1;
        double t_loop = best_ms(N > 1 ? 1 : 5, run_job, &j);
        j.which = 2;
        double t_ref = best_ms(N > 1 ? 1 : 3, run_job, &j);
        char name[32];
        snprintf(name, sizeof name, "%d,%d,%d", N, I, O);
        printf("%-22s %12.2f %12.2f %12.2f %10.1f %10.1f\n", name, t_blas, t_loop, t_ref, t_loop / t_blas, t_ref / t_blas);
        free(x); free(W); free(y);
    }
    return 0;
}
