/*
 * uzwk.h - the CUDA backend's common C interface: a context (device, stream, cuBLAS handle,
 * scratch), device memory, events, graphs, and the conventions every kernel family follows.
 *
 * Conventions (every k_*.h header):
 *   - Plain C signatures, callable from C17 host code; device pointers are marked "dev" in the
 *     shape comment. fp16 storage is uzwk_f16 (IEEE binary16 bits); accumulation, softmax and
 *     LayerNorm statistics are fp32.
 *   - Dimension letters: N rows (tokens), D model width, F = 4D MLP width, H heads, Dh = D/H head
 *     width (64 in every Whisper model), A audio positions (1500), T text context (448),
 *     V vocabulary, M mel bins, B sequences in a batch, S cache slots, L layers.
 *   - Every launch function returns 0, or -1 with a message (call, file, line) in the context's
 *     error buffer (uzwk_error). Nothing aborts; a context whose device failed keeps failing
 *     cleanly. Launches are asynchronous on the context's stream unless stated.
 *   - `variant` arguments pick a launch configuration listed in the family's registry entry
 *     (0 = the one the engine uses); tests run every variant against the CPU reference.
 * Compiled in with UZW_HAVE_CUDA; without it nothing here exists (the engine checks the macro).
 */
#ifndef UZWK_H
#define UZWK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t uzwk_f16;                /* binary16 bits, as __half stores them */
typedef struct CUstream_st *uzwk_stream;  /* = cudaStream_t */
typedef struct uzwk_ctx uzwk_ctx;

/* ---------------------------------------------------------------- context */
/* A context on device `device` with its own non-blocking stream, cuBLAS handle and a scratch
 * arena of scratch_bytes (split-K partials, cuBLAS workspace). NULL with the reason in err. */
uzwk_ctx *uzwk_ctx_new(int device, size_t scratch_bytes, char *err, size_t err_size);
void uzwk_ctx_free(uzwk_ctx *c);
const char *uzwk_error(const uzwk_ctx *c);     /* last error message ("" if none) */
uzwk_stream uzwk_ctx_stream(const uzwk_ctx *c);
void *uzwk_ctx_cublas(const uzwk_ctx *c);      /* cublasHandle_t */
int uzwk_ctx_sm_count(const uzwk_ctx *c);      /* multiprocessors */
int uzwk_ctx_cc(const uzwk_ctx *c);            /* compute capability, e.g. 90 */
/* The scratch arena (device), and its size. Kernels that need scratch use it whole between two
 * launches; it is never live across a public call. */
void *uzwk_ctx_scratch(const uzwk_ctx *c, size_t *bytes);
/* Record an error from host code (formats like printf); returns -1. */
int uzwk_fail(uzwk_ctx *c, const char *fmt, ...);

/* ---------------------------------------------------------------- memory and copies */
void *uzwk_malloc(uzwk_ctx *c, size_t bytes);       /* cudaMalloc; NULL + error on failure */
void uzwk_free(void *p);
int uzwk_h2d(uzwk_ctx *c, void *dst, const void *src, size_t bytes); /* synchronous */
int uzwk_d2h(uzwk_ctx *c, void *dst, const void *src, size_t bytes); /* synchronous (stream sync) */
int uzwk_d2d(uzwk_ctx *c, void *dst, const void *src, size_t bytes); /* async on the stream */
int uzwk_memset(uzwk_ctx *c, void *dst, int byte, size_t bytes);     /* async on the stream */
int uzwk_sync(uzwk_ctx *c);                          /* wait for the stream; reports kernel errors */
/* Peak/current device memory in use by this process (cudaMemGetInfo: total - free). */
int uzwk_mem_used(uzwk_ctx *c, size_t *used, size_t *total);

/* ---------------------------------------------------------------- host-side fp16 helpers */
uzwk_f16 uzwk_f32_to_f16_host(float x);  /* round to nearest even */
float uzwk_f16_to_f32_host(uzwk_f16 h);

/* ---------------------------------------------------------------- timing */
/* Milliseconds between two points on the stream: uzwk_timer_start, work, uzwk_timer_stop. */
typedef struct uzwk_timer uzwk_timer;
uzwk_timer *uzwk_timer_new(uzwk_ctx *c);
void uzwk_timer_free(uzwk_timer *t);
int uzwk_timer_start(uzwk_ctx *c, uzwk_timer *t);
int uzwk_timer_stop(uzwk_ctx *c, uzwk_timer *t, float *ms); /* synchronises */
/* Write over an L2-sized buffer so the next timed launch starts cold. */
int uzwk_flush_l2(uzwk_ctx *c);

/* ---------------------------------------------------------------- the two ceilings, measured */
/* Device-memory bandwidth: median of device-to-device copies of `bytes`, counting bytes read
 * plus bytes written, in GB/s (1e9). */
int uzwk_measure_bandwidth(uzwk_ctx *c, size_t bytes, double *gb_per_s);
/* fp16 tensor-core rate: median of cuBLAS n x n x n products (fp16 in/out, fp32 compute) on
 * random data, in TFLOP/s (1e12). */
int uzwk_measure_tflops(uzwk_ctx *c, int n, double *tflops);

/* ---------------------------------------------------------------- graphs */
/* Capture everything launched on the context's stream between begin and end into an executable
 * graph; replay it with uzwk_graph_launch. Kernel arguments are frozen at capture: anything that
 * changes between replays must live in device memory the kernels read. */
typedef struct uzwk_graph uzwk_graph;
int uzwk_graph_begin(uzwk_ctx *c);
uzwk_graph *uzwk_graph_end(uzwk_ctx *c);  /* NULL + error if capture failed */
int uzwk_graph_launch(uzwk_ctx *c, uzwk_graph *g);
void uzwk_graph_free(uzwk_graph *g);

#ifdef __cplusplus
}
#endif
#endif
