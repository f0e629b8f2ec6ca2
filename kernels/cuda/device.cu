// device.cu - CUDA device discovery for `uzwhisper info` and the gpu test label.
#include <cuda_runtime.h>
#include <stdio.h>

#include "cuda_api.h"

extern "C" int uzw_cuda_device_count(char *err, size_t err_size) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        if (err && err_size) snprintf(err, err_size, "%s (%s:%d)", cudaGetErrorString(e), __FILE__, __LINE__);
        cudaGetLastError(); /* clear the sticky error */
        return 0;
    }
    return n;
}

extern "C" int uzw_cuda_device_describe(int device, char *out, size_t out_size) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, device) != cudaSuccess) {
        cudaGetLastError();
        return -1;
    }
    snprintf(out, out_size, "%s, sm_%d%d, %.1f GiB", p.name, p.major, p.minor, p.totalGlobalMem / 1073741824.0);
    return 0;
}
