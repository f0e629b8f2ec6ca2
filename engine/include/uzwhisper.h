/*
 * uzwhisper.h - the one public header of the uzwhisper speech-recognition engine.
 *
 * Plain C (C99 and later, also valid C++). Everything hangs off two opaque objects:
 *   uzw_model   - a loaded, read-only weight file (mmapped); share it between threads.
 *   uzw_context - per-worker decoding state (activations, KV cache, results) over one model.
 * Every call returns a uzw_status; the text of the last error is kept in the context
 * (uzw_last_error) or written into the caller's buffer for model loading. The library never
 * exits or aborts the process and keeps no global mutable state.
 */
#ifndef UZWHISPER_H
#define UZWHISPER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UZW_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- status codes */
typedef enum {
    UZW_OK = 0,
    UZW_ERR_INVALID_ARG = 1,  /* a NULL or out-of-range argument                         */
    UZW_ERR_IO = 2,           /* a file could not be opened, read, mapped or written      */
    UZW_ERR_MODEL_FORMAT = 3, /* a weight file is corrupt, truncated or inconsistent      */
    UZW_ERR_MODEL_VERSION = 4,/* a weight file of a version this build cannot read       */
    UZW_ERR_AUDIO = 5,        /* audio unreadable, empty, too short or of a bad format    */
    UZW_ERR_NO_MEMORY = 6,
    UZW_ERR_UNSUPPORTED = 7,  /* a valid request this build does not support            */
    UZW_ERR_LANGUAGE = 8,     /* an unknown language code, or languages on an .en model  */
    UZW_ERR_INTERNAL = 9,
    UZW_ERR_DEVICE = 10,      /* no usable GPU, or a CUDA call failed (message says which) */
    UZW_ERR_CANCELLED = 11,   /* uzw_params.cancel asked to stop (a server's client left)  */
} uzw_status;

/* A short, static description of a status code ("corrupt or invalid model file", ...). */
const char *uzw_status_string(uzw_status status);

/* ---------------------------------------------------------------- logging */
typedef enum { UZW_LOG_ERROR = 0, UZW_LOG_WARN = 1, UZW_LOG_INFO = 2, UZW_LOG_DEBUG = 3 } uzw_log_level;
typedef void (*uzw_log_fn)(uzw_log_level level, const char *message, void *user);

/* ---------------------------------------------------------------- model */
typedef struct uzw_model uzw_model;

typedef struct {
    uzw_log_fn log;       /* NULL: silent */
    void *log_user;
    int verify_checksum;  /* 1: also check the CRC32 of the tensor data (reads the whole file) */
} uzw_model_params;

uzw_model_params uzw_model_default_params(void);

/* Map and validate a uzwhisper weight file. On failure *out is NULL and err holds the reason. */
uzw_status uzw_model_load(const char *path, const uzw_model_params *params, uzw_model **out,
                          char *err, size_t err_size);
/* The same from a caller-owned buffer that must outlive the model (no copy is made). */
uzw_status uzw_model_load_from_memory(const void *data, size_t size, const uzw_model_params *params,
                                      uzw_model **out, char *err, size_t err_size);
void uzw_model_free(uzw_model *model);

/* Model facts. Unknown names return -1 / NULL. Integer keys: "n_mels", "n_audio_ctx",
 * "n_audio_state", "n_audio_head", "n_audio_layer", "n_text_ctx", "n_text_state", "n_text_head",
 * "n_text_layer", "n_vocab", "n_languages", "multilingual", "eot", "sot", "timestamp_begin".
 * String keys: "type" (tiny/base/...), "source_format", "source_sha256", "dtype", "adapters_merged"
 * (names of the adapters merged with uzw_model_merge_adapter, comma-separated; "" none). */
int64_t uzw_model_get_int(const uzw_model *model, const char *key);
const char *uzw_model_get_str(const uzw_model *model, const char *key);

/* ---------------------------------------------------------------- adapters (docs/adapters.md) */
/* A trained adapter over a base model, loaded without any training step: PEFT LoRA
 * (adapter_config.json + adapter_model.safetensors) or an AdapterHub bottleneck adapter
 * (adapter_config.json + adapter.safetensors). Read-only once loaded; share it between threads. */
typedef struct uzw_adapter uzw_adapter;

/* Load the adapter in folder dir and check it against model: every tensor name must name a module
 * of this model, shapes and ranks must agree with the config and the base, unsupported variants
 * (DoRA, ...) are refused naming the option. On failure *out is NULL and err says why. */
uzw_status uzw_adapter_load(const uzw_model *model, const char *dir, uzw_adapter **out, char *err, size_t err_size);
void uzw_adapter_free(uzw_adapter *adapter);
/* String keys: "kind" ("lora" or "bottleneck"), "name", "path". Integer keys: "n_params",
 * "max_rank" (largest LoRA rank or bottleneck width), "n_modules", "mergeable" (1 for LoRA),
 * "unmerged_ok" (0 when it replaces whole tensors only merging can). Unknown: NULL / -1. */
const char *uzw_adapter_get_str(const uzw_adapter *adapter, const char *key);
int64_t uzw_adapter_get_int(const uzw_adapter *adapter, const char *key);
/* Merge a LoRA adapter into the model's weights (W += scale * B A; trained biases and
 * modules_to_save replace the base ones). Call before any context uses the model; several
 * adapters merged in turn stack. UZW_ERR_UNSUPPORTED for bottleneck adapters (non-linear: use
 * them unmerged) and for int8 models (merge into the float model, then quantize). */
uzw_status uzw_model_merge_adapter(uzw_model *model, const uzw_adapter *adapter, char *err, size_t err_size);

/* ---------------------------------------------------------------- decoding parameters */
typedef enum { UZW_TASK_TRANSCRIBE = 0, UZW_TASK_TRANSLATE = 1 } uzw_task;
typedef enum { UZW_UZ_SCRIPT_AS_DECODED = 0, UZW_UZ_SCRIPT_LATIN = 1, UZW_UZ_SCRIPT_CYRILLIC = 2 } uzw_uz_script;

typedef struct {
    const char *language;           /* "auto" (default) or a code such as "uz", "ru", "en"   */
    uzw_task task;
    int n_threads;                  /* 0: all cores                                            */
    int condition_on_previous_text; /* 1 (default): previous window's text is the next prompt  */
    const char *initial_prompt;     /* NULL or text to prime the first window                 */
    int suppress_blank;             /* 1 (default)                                             */
    int max_tokens_per_window;      /* 0: n_text_ctx / 2 (224)                                 */
    float no_speech_threshold;      /* 0.6: a window whose no-speech probability is above this  */
    float logprob_threshold;        /* -1.0: and whose avg log-prob is not above this is skipped */
                                    /* as silence; set no_speech_threshold > 1 to never skip    */
    int without_timestamps;         /* 0 (default): timestamp tokens, segments split by them;   */
                                    /* 1: one segment per 30 s window, <|notimestamps|> prompt   */
    float max_initial_timestamp;    /* 1.0 s: the first timestamp of a window is at most this   */
    int beam_size;                  /* 5 (default); 1 = greedy. Used at temperature 0            */
    float patience;                 /* 1.0: beam search stops after beam_size*patience finished */
    float length_penalty;           /* 1.0 (default): candidates ranked by sum logprob / length^1 */
                                    /* (faster-whisper/CTranslate2); 0: by sum logprob          */
    int best_of;                    /* 5: samples drawn per window at temperature > 0           */
    const float *temperatures;      /* NULL: 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 (fallback schedule)  */
    int n_temperatures;
    float compression_ratio_threshold; /* 2.4: above it a window is decoded again, hotter      */
    float prompt_reset_on_temperature; /* 0.5: a window decoded hotter than this resets the    */
                                       /* previous-text prompt                                  */
    int vad_filter;                 /* 0 (default): decode everything; 1: only the regions the    */
                                    /* voice-activity detector marks as speech (times mapped back) */
    int cut_repetitions;            /* 1 (default): a repetition loop that survived the fallback  */
                                    /* is cut after its first occurrence; 0: keep it (faster-whisper) */
    uint64_t seed;                  /* sampling seed (0 = a fixed default): same input, same output */
    int word_timestamps;            /* 0 (default); 1: word times and probabilities per segment   */
                                    /* (cross-attention of the alignment heads + DTW, as          */
                                    /* faster-whisper); each next window then starts at the end   */
                                    /* of the last word                                           */
    const char *languages;          /* NULL/"" (default): any language; else the allowed set,      */
                                    /* comma-separated ("uz,ru"): detection picks only from it     */
                                    /* (each allowed language also takes the probability of its    */
                                    /* close relatives that are not allowed, docs/codeswitch.md)   */
    int code_switch;                /* 0 (default); 1: language per window, segment and word,      */
                                    /* re-decoding a segment under its own language, switch points */
                                    /* (needs >= 2 allowed languages; turns word_timestamps on)     */
    int uz_script;                  /* UZW_UZ_SCRIPT_*: script of Uzbek output text (default as     */
                                    /* decoded); Russian and other languages are never changed      */
    const uzw_adapter *const *adapters; /* unmerged adapters this request runs with (NULL: none),  */
    int n_adapters;                  /* in order: LoRA updates add up, bottleneck adapters stack;  */
                                     /* each must have been loaded against this model (CPU only)   */
    int (*cancel)(void *user);       /* NULL, or asked before each 30 s window: nonzero stops the  */
    void *cancel_user;               /* transcription with UZW_ERR_CANCELLED (results are partial) */
    uzw_log_fn log;
    void *log_user;
} uzw_params;

uzw_params uzw_default_params(void);

/* ---------------------------------------------------------------- context */
typedef struct uzw_context uzw_context;

uzw_status uzw_context_create(const uzw_model *model, uzw_context **out);
void uzw_context_free(uzw_context *ctx);
/* Text of the last error in this context ("" if none). Valid until the next call on ctx. */
const char *uzw_last_error(const uzw_context *ctx);
/* Run this context's forward pass on a device: "cpu" (the default) or "cuda" / "cuda:N". The
 * weights are uploaded once (fp16 matrices, fp32 vectors); UZW_ERR_DEVICE when the build has no
 * CUDA backend, there is no such GPU, or the upload fails (the context stays on the CPU). */
uzw_status uzw_context_set_device(uzw_context *ctx, const char *device);
/* "cpu" or "cuda:N". */
const char *uzw_context_device(const uzw_context *ctx);
/* Memory of this context's GPU in use by all processes and in total, in bytes (cudaMemGetInfo:
 * total - free). UZW_ERR_DEVICE on the CPU or when the query fails. */
uzw_status uzw_context_device_memory(uzw_context *ctx, size_t *used, size_t *total);

/* Decode an audio file (anything libsndfile reads), downmix to mono, resample to 16 kHz. The
 * samples stay in the context for uzw_transcribe_loaded(). */
uzw_status uzw_load_audio_file(uzw_context *ctx, const char *path);
/* Transcribe mono float PCM at 16 kHz in [-1, 1]. */
uzw_status uzw_transcribe_pcm(uzw_context *ctx, const float *pcm, size_t n_samples, const uzw_params *params);
/* Transcribe what uzw_load_audio_file() loaded. */
uzw_status uzw_transcribe_loaded(uzw_context *ctx, const uzw_params *params);
/* Convenience: load + transcribe. */
uzw_status uzw_transcribe_file(uzw_context *ctx, const char *path, const uzw_params *params);

/* ---------------------------------------------------------------- results (valid until the next transcribe) */
int uzw_n_segments(const uzw_context *ctx);
const char *uzw_segment_text(const uzw_context *ctx, int i);
double uzw_segment_start(const uzw_context *ctx, int i);  /* seconds */
double uzw_segment_end(const uzw_context *ctx, int i);
int uzw_segment_n_tokens(const uzw_context *ctx, int i);
int uzw_segment_token(const uzw_context *ctx, int i, int j);
/* Mean log-probability of the segment's tokens (EOT included) and the no-speech probability of
 * its window (softmax at <|startoftranscript|>, read at <|nospeech|>). */
float uzw_segment_avg_logprob(const uzw_context *ctx, int i);
float uzw_segment_no_speech_prob(const uzw_context *ctx, int i);
/* The temperature the segment's window was decoded at (0 unless the fallback raised it) and the
 * gzip compression ratio of that window's text (the fallback's repetition test). */
float uzw_segment_temperature(const uzw_context *ctx, int i);
float uzw_segment_compression_ratio(const uzw_context *ctx, int i);
/* Language of segment i (its code, e.g. "uz") and the probability of that label. Without
 * code_switch every segment carries the language its window was decoded in. */
const char *uzw_segment_language(const uzw_context *ctx, int i);
float uzw_segment_language_prob(const uzw_context *ctx, int i);

/* Words of segment i (filled when word timestamps are computed; 0 otherwise). Word text keeps
 * Whisper's leading space. */
int uzw_segment_n_words(const uzw_context *ctx, int i);
const char *uzw_word_text(const uzw_context *ctx, int i, int w);
double uzw_word_start(const uzw_context *ctx, int i, int w);
double uzw_word_end(const uzw_context *ctx, int i, int w);
float uzw_word_prob(const uzw_context *ctx, int i, int w);
/* Language of word w of segment i and the probability of that label (the segment's without
 * code_switch). */
const char *uzw_word_language(const uzw_context *ctx, int i, int w);
float uzw_word_language_prob(const uzw_context *ctx, int i, int w);

/* Switch points (code_switch): where the language of consecutive words (segments, when a segment
 * has no words) changes, in time order; time is the start of the first word in the new language. */
int uzw_n_switches(const uzw_context *ctx);
double uzw_switch_time(const uzw_context *ctx, int k);
const char *uzw_switch_from(const uzw_context *ctx, int k);
const char *uzw_switch_to(const uzw_context *ctx, int k);

/* All segments' text joined. */
const char *uzw_full_text(const uzw_context *ctx);

/* Language: the code used for decoding ("uz"), and whether it was detected (1) or given (0). */
const char *uzw_language(const uzw_context *ctx);
int uzw_language_detected(const uzw_context *ctx);
/* Language probabilities from detection, sorted by probability, highest first (0 if not run). */
int uzw_n_language_probs(const uzw_context *ctx);
const char *uzw_language_prob_code(const uzw_context *ctx, int i);
float uzw_language_prob(const uzw_context *ctx, int i);

/* Seconds of audio loaded / transcribed. */
double uzw_audio_duration(const uzw_context *ctx);

/* Wall-clock milliseconds per phase of the last load + transcribe. */
typedef struct {
    double audio_ms;    /* decode + downmix + resample */
    double mel_ms;
    double encoder_ms;
    double language_ms; /* language detection decoder pass */
    double decoder_ms;  /* all decoder steps */
    double detok_ms;
    double codeswitch_ms;  /* per-segment language identification and re-decoding (code_switch) */
    double first_token_ms; /* from the start of transcription (after audio loading) to the first */
                           /* text token of the first window: time to first token               */
    int n_windows;
    int n_decoder_steps;
} uzw_timings;
uzw_timings uzw_get_timings(const uzw_context *ctx);

/* ---------------------------------------------------------------- live streams (docs/streaming.md) */
/* Audio arrives in pieces; words become final once two successive decoding passes agree on them
 * (LocalAgreement-2) or the speaker pauses (voice-activity endpointing); the rest is an unstable
 * interim hypothesis. One stream per context at a time; the context's other results are
 * overwritten by each pass. */
typedef struct uzw_stream uzw_stream;
typedef struct {
    float step_s;             /* 1.0: new audio between decoding passes                       */
    float max_buffer_s;       /* 15: the decoded window is cut at a final word beyond this    */
    float endpoint_silence_s; /* 0.8: this much trailing non-speech ends an utterance (0: off) */
} uzw_stream_params;
uzw_stream_params uzw_stream_default_params(void);
/* params: decoding options as for uzw_transcribe_pcm (word timestamps are always on). */
uzw_status uzw_stream_begin(uzw_context *ctx, const uzw_params *params, const uzw_stream_params *sp, uzw_stream **out);
/* Append 16 kHz mono samples; runs a pass every step_s of audio. */
uzw_status uzw_stream_push(uzw_stream *s, const float *pcm, size_t n);
/* End of audio: a last pass, and every word is final. */
uzw_status uzw_stream_end(uzw_stream *s);
void uzw_stream_free(uzw_stream *s);
/* Final words so far (they never change; new ones are appended). Times in seconds of stream audio. */
int uzw_stream_n_words(const uzw_stream *s);
const char *uzw_stream_word_text(const uzw_stream *s, int i);
double uzw_stream_word_start(const uzw_stream *s, int i);
double uzw_stream_word_end(const uzw_stream *s, int i);
float uzw_stream_word_prob(const uzw_stream *s, int i);
const char *uzw_stream_word_language(const uzw_stream *s, int i);
/* Probability of that language label (as uzw_word_language_prob); NaN when i is out of range. */
float uzw_stream_word_language_prob(const uzw_stream *s, int i);
/* The unstable tail after the final words ("" when none). */
const char *uzw_stream_interim(const uzw_stream *s);
/* Seconds of audio received; decoding passes run and their total wall time (ms). */
double uzw_stream_received(const uzw_stream *s);
int uzw_stream_n_passes(const uzw_stream *s);
double uzw_stream_pass_ms(const uzw_stream *s);

/* ---------------------------------------------------------------- build facts */
const char *uzw_version(void);
/* Space-separated list of compiled-in backends, e.g. "cpu cuda". */
const char *uzw_backends(void);

#ifdef __cplusplus
}
#endif
#endif /* UZWHISPER_H */
