/* gpu label: every entry of the kernel registry (kernels/registry.h) at every shape and launch
 * configuration, against its CPU reference with fresh random inputs (two seeds), guarded and
 * poisoned outputs. Skips with the reason where there is no GPU or no CUDA build. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#ifdef UZW_HAVE_CUDA
#include "registry.h"
#include "uzwk.h"
#include "cuda_api.h"
#endif

#ifdef UZW_HAVE_CUDA
static uzwk_ctx *ctx_or_skip(void) {
    char err[256] = "";
    if (uzw_cuda_device_count(err, sizeof err) == 0) cr_skip_test("no CUDA device: %s", err);
    uzwk_ctx *c = uzwk_ctx_new(0, (size_t)256 << 20, err, sizeof err);
    cr_assert(c, "context: %s", err);
    return c;
}

/* Every shape x variant x 2 seeds of one family; prints one line per case. */
static void run_family(const char *family, const uzwk_op *ops, int n_ops) {
    uzwk_ctx *c = ctx_or_skip();
    int n_cases = 0, n_fail = 0;
    for (int i = 0; i < n_ops; i++) {
        const uzwk_op *op = &ops[i];
        for (int s = 0; s < op->n_shapes; s++)
            for (int v = 0; v < op->n_variants; v++)
                for (uint64_t seed = 1; seed <= 2; seed++) {
                    uzwk_check_result r = {0};
                    int rc = op->check(c, s, v, seed * 7919u + (uint64_t)s * 104729u + (uint64_t)v, &r);
                    n_cases++;
                    if (rc != 0) {
                        n_fail++;
                        cr_log_error("%s [%s] [%s]: CUDA error: %s", op->name, op->shapes[s], op->variants[v],
                                     uzwk_error(c));
                    } else if (!r.pass) {
                        n_fail++;
                        cr_log_error("%s [%s] [%s] seed %llu: FAIL %s", op->name, op->shapes[s], op->variants[v],
                                     (unsigned long long)seed, r.detail);
                    } else {
                        printf("ok   %-18s %-40s %-22s %s\n", op->name, op->shapes[s], op->variants[v], r.detail);
                    }
                }
    }
    uzwk_ctx_free(c);
    cr_assert_gt(n_cases, 0, "no registry entries for family %s", family);
    cr_assert_eq(n_fail, 0, "%d of %d cases failed in family %s", n_fail, n_cases, family);
}
#define FAMILY_TEST(fam) Test(gpu_kernels, fam) { run_family(#fam, uzwk_ops_##fam, uzwk_n_ops_##fam); }
#else
#define FAMILY_TEST(fam) Test(gpu_kernels, fam) { cr_skip_test("built without CUDA (UZW_CUDA=OFF)"); }
#endif

FAMILY_TEST(mel)
FAMILY_TEST(elem)
FAMILY_TEST(gemm)
FAMILY_TEST(attn)
FAMILY_TEST(select)
FAMILY_TEST(qgemm)
