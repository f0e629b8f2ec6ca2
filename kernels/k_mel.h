/*
 * k_mel.h - Whisper's log-mel spectrogram on the device (kernels/cuda/mel.cu), the same contract
 * as uzw_mel_compute (engine/mel/mel.h): periodic Hann(400), hop 160, centred frames with reflect
 * padding, |X|^2 over the 201 bins of a 400-point DFT, the last frame dropped, mel projection,
 * log10(max(x, 1e-10)), max(x, max - 8), (x + 4) / 4. CPU reference: uzw_mel_compute_ref.
 */
#ifndef UZWK_MEL_H
#define UZWK_MEL_H

#include "uzwk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* pcm: dev f32 [n] (16 kHz, already on the device), followed logically by pad_zeros zeros;
 * filters: dev f32 [M, 201]; out: dev f32 [M, n_frames], n_frames = (n + pad_zeros) / 160.
 * n + pad_zeros must be > 200. Uses the context's scratch for the maximum (a few bytes). */
int uzwk_logmel(uzwk_ctx *c, const float *pcm, size_t n, size_t pad_zeros, const float *filters, int M,
                float *out, int variant);

#ifdef __cplusplus
}
#endif
#endif
