/* output.h - one transcription result as plain data, and the writers that turn it into txt, json,
 * srt and vtt. The result points into a uzw_context (valid until the next transcribe on it) or, in
 * tests, into hand-made arrays; writers only read it and never touch the engine. */
#ifndef UZW_OUTPUT_H
#define UZW_OUTPUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "uzwhisper.h"

/* ---------------------------------------------------------------- formats */
enum {
    OUT_FMT_TXT = 1u << 0,
    OUT_FMT_JSON = 1u << 1,
    OUT_FMT_SRT = 1u << 2,
    OUT_FMT_VTT = 1u << 3,
};
#define OUT_N_FORMATS 4

/* "txt", "json", "srt", "vtt" for bit i (0..OUT_N_FORMATS-1). */
const char *out_format_ext(int i);
/* Parse "srt,vtt,json" into a bit set; 0 with a message in err on an unknown or empty name. */
unsigned out_parse_formats(const char *list, char *err, size_t err_size);

/* ---------------------------------------------------------------- the result */
typedef struct {
    const char *word; /* with Whisper's leading space */
    double start, end;
    float prob;
    const char *language; /* code-switch label and its probability */
    float language_prob;
} out_word;

typedef struct {
    double start, end;        /* seconds */
    const char *text;         /* as decoded (leading space kept) */
    const int *tokens;
    int n_tokens;
    float avg_logprob, no_speech_prob;
    const char *language;
    float language_prob;
    const out_word *words;
    int n_words;
} out_segment;

typedef struct {
    const char *code;
    float prob;
} out_lang_prob;

typedef struct {
    double time; /* seconds */
    const char *from, *to;
} out_switch;

typedef struct {
    const char *file;   /* the audio path */
    const char *id;     /* manifest id or output name; NULL: left out */
    const char *model;  /* model path; NULL: left out */
    const char *adapters; /* adapters the input ran with, comma-separated (merged ones first); NULL/"": left out */
    double duration;    /* seconds */
    const char *language;
    int language_detected;
    const out_lang_prob *langs; /* highest first */
    int n_langs;
    const char *text;
    const out_segment *segs;
    int n_segs;
    const out_switch *switches; /* code-switch points, time order */
    int n_switches;
    int mark_switches;  /* txt: write "[ru] " where the language changes (and the first language) */
    uzw_timings timings;
} out_result;

/* Fill r from the context's last transcript. The arrays are malloc'ed (free with out_result_free);
 * the strings point into ctx. Returns 0, or -1 when out of memory (r is then empty). */
int out_result_from_ctx(out_result *r, const uzw_context *ctx, const char *file, const char *id, const char *model);
void out_result_free(out_result *r);

/* ---------------------------------------------------------------- helpers shared by the writers */
/* Seconds -> whole milliseconds, rounded half away from zero; negative and non-finite give 0. */
long long out_ms(double seconds);
/* "HH:MM:SS<sep>mmm" (sep ',' for SRT, '.' for VTT); hours take as many digits as they need. */
void out_format_time(char *buf, size_t size, double seconds, char sep);
/* Copy of text with leading/trailing white space removed and inner newlines/tabs turned into
 * spaces (malloc'ed; NULL when out of memory). */
char *out_clean_text(const char *text);

/* A JSON string of s with each byte that is not part of valid UTF-8 replaced by U+FFFD (JSON
 * strings must be UTF-8; token boundaries and file names need not be); json_null() for NULL. */
json_t *out_json_string(const char *s);

/* ---------------------------------------------------------------- writers (0 ok, -1 on a write error) */
int out_write_txt(FILE *f, const out_result *r);
int out_write_srt(FILE *f, const out_result *r);
int out_write_vtt(FILE *f, const out_result *r);
/* The JSON document (new reference); compact: one line, else indented by 2. */
json_t *out_json(const out_result *r);
int out_write_json(FILE *f, const out_result *r, int compact);
/* Write format bit `fmt` (one of OUT_FMT_*). */
int out_write(FILE *f, unsigned fmt, const out_result *r);

#endif
