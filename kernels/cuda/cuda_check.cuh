// cuda_check.cuh - the backend's one CUDA error check, for host code in kernels/cuda/*.cu.
//   UZWK_CUDA_TRY(c, call)   run a CUDA runtime call; on failure clear the (non-sticky) error,
//                            record "call: reason (file:line)" in the context and return -1
//                            from the enclosing function (which must return int).
//   UZWK_LAUNCHED(c, what)   after a kernel launch: 0, or -1 with "what: reason (file:line)" in
//                            the context when the launch failed (cudaGetLastError, which also
//                            clears the error). Use as `return UZWK_LAUNCHED(c, "k");` or
//                            `if (UZWK_LAUNCHED(c, "k")) return -1;`.
#ifndef UZWK_CUDA_CHECK_CUH
#define UZWK_CUDA_CHECK_CUH

#include <cuda_runtime.h>

#include "uzwk.h"

#define UZWK_CUDA_TRY(c, call)                                                                               \
    do {                                                                                                     \
        cudaError_t uzwk_e_ = (call);                                                                        \
        if (uzwk_e_ != cudaSuccess) {                                                                        \
            cudaGetLastError();                                                                              \
            return uzwk_fail((c), "%s: %s (%s:%d)", #call, cudaGetErrorString(uzwk_e_), __FILE__, __LINE__); \
        }                                                                                                    \
    } while (0)

static inline int uzwk_launched_at(uzwk_ctx *c, const char *what, const char *file, int line) {
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return uzwk_fail(c, "%s: %s (%s:%d)", what, cudaGetErrorString(e), file, line);
    return 0;
}

#define UZWK_LAUNCHED(c, what) uzwk_launched_at((c), (what), __FILE__, __LINE__)

#endif
