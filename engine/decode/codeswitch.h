/* codeswitch.h - code-switch detection (docs/codeswitch.md): after a window is decoded in the
 * language detected on it, each of its segments gets a language from the language head on the
 * segment's own audio (restricted to the allowed set) combined with the Uzbek/Russian letter and
 * word cues of its text; a segment whose language differs from the one it was decoded in is decoded
 * again on its own audio under its language; words are
 * labelled from their segment's probabilities and their own cues; switch points are where the label
 * of consecutive words changes. */
#ifndef UZW_CODESWITCH_H
#define UZW_CODESWITCH_H

#include <stdint.h>

#include "audio/vad.h"
#include "decode/context.h"


typedef struct {
    const uzw_langset *set;  /* >= 2 languages */
    const float *win_probs;  /* [set->n] the window's restricted language probabilities */
    int win_lang;            /* model index the window was decoded in */
    size_t seek, seg_frames; /* the window, mel frames */
    size_t content_frames;   /* mel frames of the whole input */
    size_t next_seek;        /* where the next window starts (audio after it is decoded again) */
    const uzw_vad_region *speech; /* speech regions of the input (samples), for the gap check */
    int n_speech;
} uzw_cs_window;

/* Speech regions of the whole input for the gap check (malloc'ed into *out; count returned, -1
 * when out of memory): the energy VAD with short silences splitting and little padding. */
int uzw_cs_speech_regions(const float *pcm, size_t n, uzw_vad_region **out);

/* An uncovered stretch is decoded only when it holds at least this much speech (seconds). */
#define UZW_CS_MIN_GAP_SPEECH 0.5

/* Audio of a window that no segment covers, at least this long (mel frames), is identified on its
 * own; when its language is not the one the window was decoded in, it is decoded in its own. */
#define UZW_CS_MIN_GAP_FRAMES 100

/* Label (and where needed re-decode) segments first_seg .. ctx->n_seg-1 of the window just decoded,
 * then decode the uncovered stretches that are in another language (a decoder told "Russian" tends
 * to skip Uzbek speech rather than write it); ctx->st must still hold that window's encoding. */
uzw_status uzw_cs_label_window(uzw_context *ctx, const uzw_params *p, const uzw_cs_window *w, int first_seg,
                               uint64_t *rng);

/* The switch points over all segments and words (ctx->sw). */
uzw_status uzw_cs_find_switches(uzw_context *ctx);

/* Rewrite the text of segments (and words) labelled "uz" into the script of p->uz_script. */
uzw_status uzw_apply_uz_script(uzw_context *ctx, int uz_script);

#endif
