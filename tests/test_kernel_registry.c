/* The kernel registry (kernels/registry.h) is well formed on any machine: every entry has a name,
 * a family, shapes, launch configurations and a check, and names are unique, so the gpu-label
 * tests and the kernel benchmark cannot silently skip an operation. */
#include <criterion/criterion.h>
#include <string.h>

#ifdef UZW_HAVE_CUDA
#include "registry.h"
#endif

Test(kernel_registry, entries_are_complete_and_unique) {
#ifndef UZW_HAVE_CUDA
    cr_skip_test("built without CUDA (UZW_CUDA=OFF)");
#else
    int n = uzwk_registry_count();
    cr_assert_geq(n, 10, "only %d registry entries", n);
    for (int i = 0; i < n; i++) {
        const uzwk_op *op = uzwk_registry_at(i);
        cr_assert(op && op->name && op->name[0], "entry %d has no name", i);
        cr_expect(op->family && op->family[0], "%s: no family", op->name);
        cr_expect(op->dtype && op->dtype[0], "%s: no dtype", op->name);
        cr_expect_gt(op->n_shapes, 0, "%s: no shapes", op->name);
        cr_expect_gt(op->n_variants, 0, "%s: no launch configurations", op->name);
        cr_expect(op->check != NULL, "%s: no check against the CPU reference", op->name);
        for (int s = 0; s < op->n_shapes; s++) cr_expect(op->shapes[s] && op->shapes[s][0], "%s: shape %d unnamed", op->name, s);
        for (int v = 0; v < op->n_variants; v++)
            cr_expect(op->variants[v] && op->variants[v][0], "%s: variant %d unnamed", op->name, v);
        for (int j = 0; j < i; j++) cr_expect_str_neq(uzwk_registry_at(j)->name, op->name, "duplicate entry %s", op->name);
        cr_expect_eq(uzwk_registry_find(op->name), op);
    }
    cr_expect_null(uzwk_registry_find("no-such-kernel"));
    /* the operations the forward pass needs are all there */
    static const char *const needed[] = {"logmel", "layernorm", "add_layernorm", "bias_gelu", "embed", "add_pos",
                                         "gemm_tc", "gemm_cublas", "gemm_skinny", "im2col_k3", "flash_attention",
                                         "decode_attention", "kv_append", "select", "greedy_commit"};
    for (size_t k = 0; k < sizeof needed / sizeof needed[0]; k++)
        cr_expect_not_null(uzwk_registry_find(needed[k]), "registry has no '%s'", needed[k]);
#endif
}
