/*
 * tokenizer.h - Whisper's byte-level BPE: decode ids to bytes, encode text (prompts, the
 * non-speech suppress list) with the pre-tokeniser regex and the merge priorities.
 */
#ifndef UZW_TOKENIZER_H
#define UZW_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct uzw_tokenizer uzw_tokenizer;

/* Build from the BPE tokens (raw bytes, id order, n_bpe of them: the ids below EOT) and the merge
 * list (2*n_merges ids, priority order). Pointers may be kept (they point into the mmapped model
 * file), so they must outlive the tokenizer. merges may be NULL: then merges are derived from the
 * ranks (see uzw_tokenizer_derive_merges) and owned by the tokenizer. */
int uzw_tokenizer_new(int n_bpe, const uint8_t *const *tok, const uint32_t *tok_len,
                      const int32_t *merges, int n_merges, uzw_tokenizer **out, char *err, size_t err_size);
void uzw_tokenizer_free(uzw_tokenizer *t);

int uzw_tokenizer_n_bpe(const uzw_tokenizer *t);
/* Raw bytes of BPE token id (0 <= id < n_bpe); NULL otherwise. */
const uint8_t *uzw_tokenizer_bytes(const uzw_tokenizer *t, int id, uint32_t *len);
/* Id of a byte string that is exactly one token, or -1. */
int uzw_tokenizer_lookup(const uzw_tokenizer *t, const uint8_t *bytes, uint32_t len);

/* Encode UTF-8 text: split with Whisper's pre-tokeniser regex, then BPE each piece. Writes at most
 * max ids; returns the number of ids the text needs (may exceed max) or -1 on error (bad UTF-8). */
int uzw_tokenizer_encode(const uzw_tokenizer *t, const char *text, size_t len, int32_t *out, int max);

/* Decode BPE ids (ids >= n_bpe are skipped) into a newly malloc'ed, NUL-terminated byte string.
 * The bytes are those of the tokens concatenated; incomplete UTF-8 at the end is kept as is. */
char *uzw_tokenizer_decode(const uzw_tokenizer *t, const int32_t *ids, int n);

/* tiktoken rule: for BPE token r (length >= 2), run BPE on its bytes using only ranks < r; the two
 * final parts are the merge that creates it. Fills 2*n pairs (n = tokens of length >= 2, in rank
 * order). Returns 0 or -1. *out is malloc'ed. */
int uzw_tokenizer_derive_merges(int n_bpe, const uint8_t *const *tok, const uint32_t *tok_len,
                                int32_t **out, int *n_merges, char *err, size_t err_size);

/* OAI's default non-speech suppress list (tokenizer.non_speech_tokens, sorted, unique), without the
 * special ids. Returns count written (<= max) or -1. */
int uzw_tokenizer_non_speech(const uzw_tokenizer *t, int32_t *out, int max);

#endif
