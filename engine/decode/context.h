/* context.h - per-worker decoding state and results (the struct behind uzw_context). */
#ifndef UZW_CONTEXT_H
#define UZW_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "mel/mel.h"
#include "model/forward.h"
#include "model/model.h"
#include "decode/langset.h"
#include "decode/window.h"
#include "decode/word_timing.h"

typedef struct {
    char *text;         /* UTF-8, as decoded (Whisper's leading space kept) */
    double t0, t1;      /* seconds */
    int32_t *tokens;    /* text tokens of the segment */
    int n_tokens;
    float avg_logprob;
    float no_speech_prob;
    float temperature;
    float compression_ratio;
    uzw_word *words;    /* word timestamps (NULL unless asked for) */
    int n_words;
    char lang[8];       /* language label ("" = ctx->language) and its probability */
    float lang_prob;
} uzw_segment;

typedef struct {
    double time;        /* seconds: start of the first word (segment) in the new language */
    char from[8], to[8];
} uzw_switch_pt;

typedef struct {
    char code[8];
    float p;
} uzw_lang_prob;

struct uzw_context {
    const uzw_model *m;
    uzw_fwd_state st;
    uzw_mel_plan *mel_plan;

    float *pcm;          /* loaded audio, 16 kHz mono */
    size_t n_pcm;
    float *mel;          /* [M, mel_frames] log-mel of pcm + 30 s of zeros */
    size_t mel_frames;

    uzw_segment *seg;
    int n_seg, cap_seg;
    char *full_text;
    char language[8];
    int lang_detected;
    uzw_lang_prob lang_probs[UZW_MAX_LANGUAGES];
    int n_lang_probs;
    uzw_switch_pt *sw;   /* code-switch points, time order */
    int n_sw;
    double duration;
    uzw_timings tm;
    char err[1024];

    /* CUDA backend (uzw_context_set_device); all NULL on the CPU */
    struct uzwk_ctx *kctx;          /* stream, cuBLAS, scratch            */
    struct uzw_gpu_model *gmodel;   /* the weights on the device          */
    struct uzw_gpu_state *gstate;   /* activations + KV cache; st.gpu     */
    char device[16];                /* "cpu" or "cuda:N"                  */
};

/* Set ctx->err and return status. */
uzw_status uzw_ctx_fail(uzw_context *ctx, uzw_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void uzw_ctx_clear_results(uzw_context *ctx);
/* Append a segment (tokens copied, text decoded); the window's statistics are copied from wr. */
int uzw_ctx_add_segment(uzw_context *ctx, const int32_t *tokens, int n, double t0, double t1, const uzw_window_result *wr);
/* Give the last segment its words (ownership moves to the context). */
void uzw_ctx_set_words(uzw_context *ctx, uzw_word *words, int n);

/* A transcription routine over 16 kHz samples; uzw_transcribe_speech_only runs one on the speech
 * regions found by the voice-activity detector and maps every time back (transcribe_vad.c). */
typedef uzw_status (*uzw_transcribe_fn)(uzw_context *ctx, const float *pcm, size_t n, const uzw_params *p);
uzw_status uzw_transcribe_speech_only(uzw_context *ctx, const float *pcm, size_t n, const uzw_params *p,
                                      uzw_transcribe_fn core);
/* (Re)build the device activations + KV cache for st.n_seq_max sequences when the context runs
 * on a GPU (context_device.c); UZW_OK on the CPU. */
uzw_status uzw_ctx_attach_gpu_state(uzw_context *ctx);
/* Hand the request's unmerged adapters (p->adapters) to the forward state, after checking them
 * against the model and the backend (adapter/adapter_use.c). */
uzw_status uzw_ctx_use_adapters(uzw_context *ctx, const uzw_params *p);
/* Make the decoding state hold at least n_seq sequences (beams / best-of samples). */
uzw_status uzw_ctx_reserve_sequences(uzw_context *ctx, int n_seq);

/* Fill st.mel_win [M, 3000] with mel[:, start : start + n] followed by `pad` (0.0 = OAI's padding of
 * the normalised log-mel). Frames beyond mel_frames are padded too. */
void uzw_ctx_fill_window(uzw_context *ctx, size_t start, size_t n, float pad);

/* Language detection on the window already encoded in ctx->st (enc_out): fills lang_probs and
 * returns the index of the most probable language. */
int uzw_detect_language(uzw_context *ctx);
/* The same restricted to an allowed set (NULL or empty: every language): lang_probs then holds
 * the set's folded probabilities; returns the model index of the most probable allowed language. */
int uzw_detect_language_in(uzw_context *ctx, const uzw_langset *set);
/* Softmax over every language token (by model index) for the window encoded in ctx->st; returns
 * the index of the most probable, -1 on failure. Leaves ctx->lang_probs alone. */
int uzw_language_probs(uzw_context *ctx, float *p_by_index);

#endif
