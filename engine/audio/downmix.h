/* downmix.h - internal: interleaved frames -> mono by the channel mean. The sum runs in float32 in
 * channel order and is divided by (float)channels, exactly as tests/reference/refaudio.py does, so
 * the Python golden pipeline reproduces the C samples bit for bit. */
#ifndef UZW_AUDIO_DOWNMIX_H
#define UZW_AUDIO_DOWNMIX_H

#include <stddef.h>

/* interleaved: [n_frames, channels]; mono: [n_frames] */
static inline void uzw_downmix(const float *interleaved, size_t n_frames, int channels, float *mono) {
    const float fch = (float)channels;
    for (size_t i = 0; i < n_frames; i++) {
        const float *f = interleaved + i * (size_t)channels;
        float acc = f[0];
        for (int c = 1; c < channels; c++) acc += f[c];
        mono[i] = channels == 1 ? acc : acc / fch;
    }
}

#endif
