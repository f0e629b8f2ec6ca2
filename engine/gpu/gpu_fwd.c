/* gpu_fwd.c - the CPU forward state's entry points (model/forward.h) carried out on the device
 * when st->gpu is set: the search, language and word-timing code above stays the same and reads
 * logits from st->logits as before. A failed device call marks the state failed; every later
 * step then fails with the first message (st->gpu_err), so nothing runs on a broken device. */
#ifdef UZW_HAVE_CUDA

#include <stdio.h>
#include <string.h>

#include "gpu/gpu.h"
#include "model/forward.h"

static int failed(uzw_fwd_state *st) {
    if (!st->gpu_failed) {
        st->gpu_failed = 1;
        snprintf(st->gpu_err, sizeof st->gpu_err, "CUDA backend: %s", uzwk_error(st->gpu->c));
    }
    return -1;
}

#define GPU_TRY(x)                                                                                               \
    do {                                                                                                         \
        if (st->gpu_failed || (x) != 0) return failed(st);                                                       \
    } while (0)

int uzw_gpu_fwd_encode(const uzw_model *m, uzw_fwd_state *st) {
    (void)m;
    GPU_TRY(uzw_gpu_encode_host(st->gpu, st->mel_win));
    return 0;
}

int uzw_gpu_fwd_begin(const uzw_model *m, uzw_fwd_state *st) {
    (void)m;
    GPU_TRY(uzw_gpu_decoder_begin(st->gpu));
    return 0;
}

/* Logits of row i of the last step into out [V] (host). */
int uzw_gpu_fwd_logits_at(const uzw_model *m, uzw_fwd_state *st, int i, float *out) {
    GPU_TRY(uzw_gpu_logits_rows(st->gpu, i, 1));
    GPU_TRY(uzwk_d2h(st->gpu->c, out, st->gpu->logits, sizeof(float) * (size_t)m->dims.n_vocab));
    return 0;
}

int uzw_gpu_fwd_step(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int n) {
    uzw_gpu_capture cap = {m->align_heads, m->n_align_heads, st->xqk, st->xqk_rows, st->n_past};
    GPU_TRY(uzw_gpu_decoder_prompt(st->gpu, tokens, n, st->n_past, st->slot[0], st->xqk ? &cap : NULL));
    return uzw_gpu_fwd_logits_at(m, st, n - 1, st->logits);
}

int uzw_gpu_fwd_step_batch(const uzw_model *m, uzw_fwd_state *st, const int32_t *tokens, int B) {
    GPU_TRY(uzw_gpu_decoder_step_host(st->gpu, tokens, st->slot, st->n_past, B));
    GPU_TRY(uzwk_d2h(st->gpu->c, st->logits, st->gpu->logits, sizeof(float) * (size_t)B * m->dims.n_vocab));
    return 0;
}

int uzw_gpu_fwd_copy_slot(uzw_fwd_state *st, int from, int to) {
    GPU_TRY(uzw_gpu_copy_slot(st->gpu, from, to, st->n_past));
    return 0;
}

#endif /* UZW_HAVE_CUDA */
