/*
 * repetition.h - the repetition-loop guard: Whisper sometimes emits the same few tokens over and over
 * until the window ends ("thank you. thank you. thank you. ..."). When the temperature fallback
 * could not avoid it, the loop is cut after its first occurrence.
 */
#ifndef UZW_REPETITION_H
#define UZW_REPETITION_H

#include <stdint.h>

/* Looking only at the text tokens (ids < text_end, the EOT id), find the earliest block of p
 * tokens (1 <= p <= 32) repeated back to back at least max(3, ceil(12 / p)) times. Returns the
 * number of tokens of tok[0..n) to keep: up to and including the block's first occurrence, plus
 * any timestamp token directly after it; n when there is no such loop. */
int uzw_repetition_cut(const int32_t *tok, int n, int32_t text_end);

#endif
