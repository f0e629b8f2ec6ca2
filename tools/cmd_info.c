/* cmd_info.c - `uzwhisper info`: key: value lines about this build, this machine and the default model. */
#include <cblas.h>
#include <stdio.h>

#include "cli.h"
#include "core/util.h"
#include "uzwhisper.h"
#ifdef UZW_HAVE_CUDA
#include "cuda_api.h"
#endif

int cmd_info(int argc, char **argv) {
    printf("version: %s\n", uzw_version());
    printf("backends: %s\n", uzw_backends());
    char feats[256] = "";
    int n = 0;
    __builtin_cpu_init();
#define FEAT(name) if (__builtin_cpu_supports(name)) n += snprintf(feats + n, sizeof feats - n, "%s%s", n ? " " : "", name)
    FEAT("sse4.2"); FEAT("avx"); FEAT("avx2"); FEAT("fma"); FEAT("avx512f"); FEAT("avx512bw"); FEAT("avx512vnni");
#undef FEAT
    printf("cpu_features: %s\n", n ? feats : "none");
    printf("cpu_threads: %d\n", uzw_n_cpus());
    printf("blas: %s\n", openblas_get_config());
#ifdef UZW_HAVE_CUDA
    char err[256] = "";
    int ng = uzw_cuda_device_count(err, sizeof err);
    if (ng == 0) printf("gpu: none (%s)\n", err[0] ? err : "no device");
    for (int i = 0; i < ng; i++) {
        char d[256];
        if (uzw_cuda_device_describe(i, d, sizeof d) == 0) printf("gpu: %d: %s\n", i, d);
    }
#else
    printf("gpu: none (built without CUDA)\n");
#endif
    char model[4096];
    int found = cli_default_model(model, sizeof model);
    printf("model: %s%s\n", model, found ? "" : " (missing: run tools/setup-default-model.sh)");
    return UZW_EXIT_OK;
}
