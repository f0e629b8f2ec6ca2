/*
 * word_timing.h - word-level timestamps as faster-whisper 1.2.1 computes them (CTranslate2's
 * Whisper align + transcribe.py's find_alignment / add_word_timestamps / merge_punctuations):
 *
 *   1. teacher-force sot_sequence + <|notimestamps|> + text tokens + <|endoftext|> over the window's
 *      encoder output, keeping the cross-attention scores of the alignment heads and the
 *      probability of each text token (softmax over the ids below EOT);
 *   2. crop the scores to num_frames/2 encoder frames, softmax over frames, z-normalise each head
 *      over the tokens, median filter of width 7 over frames (reflect), mean over heads;
 *   3. DTW on the negated rows of <|notimestamps|> .. last text token; the path's jumps give the
 *      time (frame / 50 s) at which each token starts;
 *   4. split the tokens into words (at spaces and punctuation, or at Unicode characters for zh ja
 *      th lo my yue), word times from the jumps, word probability = mean of its token
 *      probabilities; the duration heuristics; punctuation merged into neighbouring words.
 *
 * Split into word_align.c (steps 2-3), word_split.c (words and punctuation) and word_timing.c.
 */
#ifndef UZW_WORD_TIMING_H
#define UZW_WORD_TIMING_H

#include <stddef.h>
#include <stdint.h>

#include "model/forward.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

/* A word of a segment, as the public getters report it. */
typedef struct {
    char *text;          /* UTF-8 (invalid bytes as U+FFFD), Whisper's leading space kept */
    double start, end;   /* seconds */
    float prob;
    char lang[8];        /* code-switch label ("" = the segment's) */
    float lang_prob;
} uzw_word;

/* A word while it is being timed: its text, how many tokens it holds, times relative to the window. */
typedef struct {
    char *text;
    int n_tokens;
    double start, end;
    double prob;
} uzw_wtiming;

/* ---------------------------------------------------------------- word_align.c */

/* y[rows, n] = median of each x row over a window of `width` (odd) with reflect padding, as
 * CTranslate2's MedianFilter (and OAI's median_filter): rows shorter than width/2 + 1 are copied. */
void uzw_median_filter(const float *x, float *y, int rows, int n, int width);

/* DTW over the cost -x[n, m] (CTranslate2's negative_dtw, OAI's dtw): the path from (0,0) to
 * (n-1, m-1) as pairs (pi[k], pj[k]), k < returned length (at most n + m). Ties: diagonal only if
 * strictly smallest, then up only if strictly smallest, else left. -1 if out of memory. */
int uzw_negative_dtw(const float *x, int n, int m, int32_t *pi, int32_t *pj);

/* From the captured scores qk[n_heads, ld_rows, A] (rows 0..n_tok-1 used) compute the alignment
 * weights w[n_tok, F] (F = num_frames / 2 frames): softmax over frames, z-norm over tokens, median
 * filter, mean over heads. 0, or -1 if out of memory. */
int uzw_alignment_weights(const float *qk, int n_heads, int ld_rows, int n_tok, int A, int F, int width, float *w);

/* The start time (s) of each of rows 0..n-1 of w[n, m] along the DTW path: jump_times[r] is the
 * time of the first path step in row r (frame / 50). Returns the number of jumps written (n when
 * the path visits every row) or -1 if out of memory. */
int uzw_jump_times(const float *w, int n, int m, double *jump_times);

/* ---------------------------------------------------------------- word_split.c */

/* Lossy UTF-8: invalid sequences become U+FFFD, one per maximal invalid subpart (Python's
 * errors="replace", Rust's from_utf8_lossy). Returns a malloc'ed string; *n_chars = code points. */
char *uzw_utf8_lossy(const uint8_t *bytes, size_t n, size_t *n_chars);

/* faster-whisper's split_to_word_tokens over tokens[n] (text tokens, then EOT): words in *out
 * (n_tokens set, times 0), by_unicode for languages written without spaces. Returns the number
 * of words or -1 (out of memory). */
int uzw_split_words(const uzw_tokenizer *tok, const int32_t *tokens, int n, int eot, int by_unicode, uzw_wtiming **out);

/* faster-whisper's merge_punctuations: words that are prepended punctuation join the next word,
 * appended punctuation the previous one; emptied words keep text "" and 0 tokens. 0 or -1. */
int uzw_merge_punctuations(uzw_wtiming *w, int n, const char *prepended, const char *appended);

/* Python's `needle in haystack` for strings (an empty needle is always found). */
int uzw_str_in(const char *needle, const char *haystack);

void uzw_wtimings_free(uzw_wtiming *w, int n);

/* ---------------------------------------------------------------- word_timing.c */

/* One segment of the window: its tokens (timestamps included) and bounds; on return its words
 * and the bounds as the word heuristics adjust them. */
typedef struct {
    const int32_t *tokens;
    int n_tokens;
    double start, end;   /* in/out, seconds */
    uzw_word *words;     /* out, malloc'ed (free with uzw_words_free) */
    int n_words;
} uzw_wt_segment;

typedef struct {
    const int32_t *sot_seq;  /* <|startoftranscript|> [language task] */
    int n_sot;
    size_t seek;             /* window start in mel frames */
    int num_frames;          /* mel frames of the window (segment_size) */
    const char *language;    /* code, for the split rule */
} uzw_wt_window;

/* faster-whisper's add_word_timestamps for the window already encoded in st (cross K/V ready):
 * fills each segment's words and adjusts its bounds. *last_speech is the end of the last speech
 * so far (in) and after this window (out, as add_word_timestamps returns it). 0 or -1 with err. */
int uzw_add_word_timestamps(const uzw_model *m, uzw_fwd_state *st, const uzw_wt_window *win, uzw_wt_segment *segs,
                            int n_segs, double *last_speech, char *err, size_t err_size);

void uzw_words_free(uzw_word *w, int n);

#endif
