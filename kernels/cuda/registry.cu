// registry.cu - the list of every kernel family's entries (registry.h), built once per call from
// the families' constant tables; no mutable state.
#include <string.h>

#include "registry.h"

typedef struct {
    const uzwk_op *ops;
    const int *n;
} family;

static const family families[] = {
    {uzwk_ops_mel, &uzwk_n_ops_mel},   {uzwk_ops_elem, &uzwk_n_ops_elem},     {uzwk_ops_gemm, &uzwk_n_ops_gemm},
    {uzwk_ops_attn, &uzwk_n_ops_attn}, {uzwk_ops_select, &uzwk_n_ops_select},
    {uzwk_ops_qgemm, &uzwk_n_ops_qgemm},
};
#define N_FAMILIES (int)(sizeof families / sizeof families[0])
/* Entry i in family order. */
static const uzwk_op *op_at(int i) {
    for (int f = 0; f < N_FAMILIES; f++) {
        if (i < *families[f].n) return &families[f].ops[i];
        i -= *families[f].n;
    }
    return NULL;
}

extern "C" int uzwk_registry_count(void) {
    int n = 0;
    for (int f = 0; f < N_FAMILIES; f++) n += *families[f].n;
    return n;
}

extern "C" const uzwk_op *uzwk_registry_at(int i) { return i < 0 ? NULL : op_at(i); }

extern "C" const uzwk_op *uzwk_registry_find(const char *name) {
    for (int i = 0, n = uzwk_registry_count(); i < n; i++)
        if (strcmp(op_at(i)->name, name) == 0) return op_at(i);
    return NULL;
}
