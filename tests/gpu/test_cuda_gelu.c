/* gpu label: the CUDA GELU kernel against the CPU reference, several sizes and block sizes, with
 * guard values around the output. Skips with a message where there is no GPU or no CUDA build. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "model/ops.h"
#include "testutil.h"
#ifdef UZW_HAVE_CUDA
#include "cuda_api.h"
#endif

Test(gpu, gelu_matches_cpu_reference) {
#ifndef UZW_HAVE_CUDA
    cr_skip_test("built without CUDA (UZW_CUDA=OFF)");
#else
    char err[256] = "";
    if (uzw_cuda_device_count(err, sizeof err) == 0) cr_skip_test("no CUDA device: %s", err);
    const size_t sizes[] = {1, 7, 1000, 65537, 1 << 22};
    const int blocks[] = {32, 128, 256, 1024};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
            size_t n = sizes[si];
            float *x = malloc(n * sizeof(float)), *ref = malloc(n * sizeof(float)), *y = malloc((n + 2) * sizeof(float));
            cr_assert(x && ref && y);
            for (size_t i = 0; i < n; i++) x[i] = ref[i] = (float)((double)rand() / RAND_MAX * 16.0 - 8.0);
            uzw_gelu(ref, n);
            y[0] = y[n + 1] = 12345.0f; /* guards */
            cr_assert_eq(uzw_cuda_gelu_host(x, y + 1, n, blocks[bi], err, sizeof err), 0, "%s", err);
            cr_assert_eq(y[0], 12345.0f);
            cr_assert_eq(y[n + 1], 12345.0f);
            tu_cmp c = tu_compare(y + 1, ref, n, 1e-6, 1e-6);
            cr_assert_eq(c.n_bad, 0, "n=%zu block=%d: max abs %g at %zu", n, blocks[bi], c.max_abs, c.worst);
            free(x); free(ref); free(y);
        }
#endif
}
