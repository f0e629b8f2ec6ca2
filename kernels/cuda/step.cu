// step.cu - small integer kernels of the decode loop (k_step.h).
#include <cuda_runtime.h>

#include "cuda_check.cuh"
#include "k_step.h"

__global__ static void i32_add_kernel(const int32_t *a, int32_t add, int32_t *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + add;
}

__global__ static void i32_iota_kernel(int32_t *out, int32_t first, int32_t step, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = first + step * i;
}

extern "C" int uzwk_i32_add(uzwk_ctx *c, const int32_t *a, int32_t add, int32_t *out, int n) {
    if (n <= 0) return 0;
    i32_add_kernel<<<(n + 255) / 256, 256, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(a, add, out, n);
    return UZWK_LAUNCHED(c, "i32_add_kernel");
}

extern "C" int uzwk_i32_iota(uzwk_ctx *c, int32_t *out, int32_t first, int32_t step, int n) {
    if (n <= 0) return 0;
    i32_iota_kernel<<<(n + 255) / 256, 256, 0, (cudaStream_t)uzwk_ctx_stream(c)>>>(out, first, step, n);
    return UZWK_LAUNCHED(c, "i32_iota_kernel");
}
