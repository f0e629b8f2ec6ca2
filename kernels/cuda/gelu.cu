// gelu.cu - exact-erf GELU, one thread per element (grid-stride loop).
#include <cuda_runtime.h>
#include <stdio.h>

#include "cuda_api.h"

#define CUDA_TRY(call)                                                                                   \
    do {                                                                                                 \
        cudaError_t e_ = (call);                                                                         \
        if (e_ != cudaSuccess) {                                                                         \
            if (err && err_size) snprintf(err, err_size, "%s: %s (%s:%d)", #call, cudaGetErrorString(e_), \
                                          __FILE__, __LINE__);                                           \
            goto fail;                                                                                   \
        }                                                                                                \
    } while (0)

__global__ static void gelu_kernel(const float *x, float *y, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    }
}

extern "C" int uzw_cuda_gelu_host(const float *x, float *y, size_t n, int block_size, char *err, size_t err_size) {
    float *dx = NULL, *dy = NULL;
    int rc = -1;
    size_t bytes = n * sizeof(float);
    unsigned grid;
    if (block_size <= 0 || block_size > 1024) block_size = 256;
    grid = (unsigned)((n + block_size - 1) / block_size);
    if (grid > 65535u) grid = 65535u;
    if (grid == 0) grid = 1;
    CUDA_TRY(cudaMalloc(&dx, bytes));
    CUDA_TRY(cudaMalloc(&dy, bytes));
    CUDA_TRY(cudaMemcpy(dx, x, bytes, cudaMemcpyHostToDevice));
    gelu_kernel<<<grid, block_size>>>(dx, dy, n);
    CUDA_TRY(cudaGetLastError());
    CUDA_TRY(cudaMemcpy(y, dy, bytes, cudaMemcpyDeviceToHost));
    rc = 0;
fail:
    cudaFree(dx);
    cudaFree(dy);
    return rc;
}
