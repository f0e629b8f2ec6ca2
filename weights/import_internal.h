/*
 * import_internal.h - helpers shared by uzw_import_write() and the importers: the Whisper special
 * token ids derived from a vocabulary, the language table and the model-type guess.
 */
#ifndef UZW_IMPORT_INTERNAL_H
#define UZW_IMPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "import.h"

#define UZW_N_TIMESTAMPS 1501 /* <|0.00|> ... <|30.00|> */
#define UZW_MAX_LANGS 100

typedef struct {
    int32_t eot, sot, first_lang, n_lang;
    int32_t translate, transcribe, sot_lm, sot_prev, no_speech, no_timestamps, ts_begin;
} uzw_special_ids;

/* Derive the special ids from the vocabulary and n_vocab (whisper-facts §4.2) and cross-check them
 * against any special strings the vocabulary lists. 0 or -1 with a message. */
int uzw_import_specials(const uzw_import *im, uzw_special_ids *sp, char *err, size_t err_size);

/* Language code i in OAI LANGUAGES order (0 <= i < 100), or NULL. */
const char *uzw_import_lang_code(int i);

/* "tiny", "base.en", ..., "large-v3-turbo" or "custom". */
const char *uzw_import_model_type(const uzw_dims *d, char *buf, size_t buf_size);

/* Read an HF tokenizer folder (vocab.json [+ merges.txt] [+ added_tokens.json], or tokenizer.json)
 * into im->tok (id order, BPE strings decoded from the GPT-2 byte encoding, added tokens literal) and
 * im->merges (id pairs; left NULL when the folder has no merges). 0 or -1 with a message. */
int uzw_hf_read_tokenizer(const char *dir, uzw_import *im, char *err, size_t err_size);

#endif
