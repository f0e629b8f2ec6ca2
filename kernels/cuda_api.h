/*
 * cuda_api.h - the C interface of the CUDA backend (kernels/cuda/). Compiled only with UZW_CUDA;
 * every function reports failure through its return value and a message, never aborts, and
 * works (returning "no device") on machines without a GPU.
 */
#ifndef UZW_CUDA_API_H
#define UZW_CUDA_API_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices; 0 when there is no GPU or no driver (reason in err). */
int uzw_cuda_device_count(char *err, size_t err_size);
/* "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" for device i; 0 or -1. */
int uzw_cuda_device_describe(int device, char *out, size_t out_size);

/* Exact-erf GELU over n floats on the device: the first kernel of the backend, checked against the
 * CPU reference (engine/model/ops) in the gpu test label. Host pointers in and out; 0 or -1. */
int uzw_cuda_gelu_host(const float *x, float *y, size_t n, int block_size, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
