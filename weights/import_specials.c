/*
 * import_specials.c - Whisper's special token ids, derived from the vocabulary (whisper-facts §4.2):
 *   EOT = "<|endoftext|>" (or the id after the last BPE token), SOT = EOT+1, the languages from
 *   SOT+1, then translate, transcribe, startoflm, startofprev, nospeech, notimestamps, and the
 *   1501 timestamps; n_lang = n_vocab - 51765 - (n_vocab >= 51865).
 * Also the language table (§4.3) and the model-type guess from the dimensions.
 */
#include "import_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const oai_languages[UZW_MAX_LANGS] = {
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it", "id",
    "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg",
    "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br",
    "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so",
    "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt",
    "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue",
};

const char *uzw_import_lang_code(int i) { return i >= 0 && i < UZW_MAX_LANGS ? oai_languages[i] : NULL; }

static int tok_is(const uzw_import *im, int id, const char *s) {
    size_t n = strlen(s);
    return im->tok_len[id] == n && memcmp(im->tok[id], s, n) == 0;
}

/* "<|...|>" */
static int tok_is_special(const uzw_import *im, int id) {
    uint32_t n = im->tok_len[id];
    const uint8_t *b = im->tok[id];
    return n >= 4 && b[0] == '<' && b[1] == '|' && b[n - 2] == '|' && b[n - 1] == '>';
}

/* If the vocabulary lists id, its text must be want (or alt). */
static int expect_tok(const uzw_import *im, int id, const char *want, const char *alt, char *err, size_t err_size) {
    if (id >= im->n_tokens) return 0;
    if (tok_is(im, id, want) || (alt && tok_is(im, id, alt))) return 0;
    snprintf(err, err_size, "import: token %d should be \"%s\" (derived from the vocabulary and n_vocab) but the "
             "vocabulary has \"%.*s\"; the tokenizer does not match Whisper's special-token layout", id, want,
             (int)(im->tok_len[id] > 60 ? 60 : im->tok_len[id]), (const char *)im->tok[id]);
    return -1;
}

int uzw_import_specials(const uzw_import *im, uzw_special_ids *sp, char *err, size_t err_size) {
    memset(sp, 0, sizeof *sp);
    int eot = -1, n_plain = 0;
    for (int i = 0; i < im->n_tokens; i++) {
        if (eot < 0 && tok_is(im, i, "<|endoftext|>")) eot = i;
        if (!tok_is_special(im, i)) n_plain++;
    }
    if (eot < 0) eot = n_plain;
    if (eot < 256) {
        snprintf(err, err_size, "import: the vocabulary has only %d BPE tokens (at least the 256 byte tokens "
                 "are needed)", eot);
        return -1;
    }
    for (int i = 0; i < eot && i < im->n_tokens; i++)
        if (tok_is_special(im, i)) {
            snprintf(err, err_size, "import: special token \"%.*s\" at id %d lies among the BPE tokens (before "
                     "<|endoftext|> at %d)", (int)(im->tok_len[i] > 60 ? 60 : im->tok_len[i]),
                     (const char *)im->tok[i], i, eot);
            return -1;
        }
    if (im->n_tokens < eot) {
        snprintf(err, err_size, "import: the vocabulary lists %d tokens but <|endoftext|> is at %d", im->n_tokens,
                 eot);
        return -1;
    }
    int32_t n_vocab = im->dims.n_vocab;
    int multilingual = n_vocab >= 51865;
    int32_t n_lang = n_vocab - 51765 - multilingual;
    if (n_lang < 1 || n_lang > UZW_MAX_LANGS) {
        snprintf(err, err_size, "import: n_vocab %d gives %d language tokens; Whisper vocabularies have 99 or 100 "
                 "(n_vocab 51864, 51865 or 51866)", n_vocab, n_lang);
        return -1;
    }
    sp->eot = eot;
    sp->sot = eot + 1;
    sp->first_lang = eot + 2;
    sp->n_lang = n_lang;
    sp->translate = sp->first_lang + n_lang;
    sp->transcribe = sp->translate + 1;
    sp->sot_lm = sp->translate + 2;
    sp->sot_prev = sp->translate + 3;
    sp->no_speech = sp->translate + 4;
    sp->no_timestamps = sp->translate + 5;
    sp->ts_begin = sp->translate + 6;
    if (sp->ts_begin + UZW_N_TIMESTAMPS != n_vocab) {
        snprintf(err, err_size, "import: %d BPE tokens + 2 + %d languages + 6 specials + %d timestamps = %d, but "
                 "n_vocab is %d: vocabulary and model dimensions disagree", eot, n_lang, UZW_N_TIMESTAMPS,
                 sp->ts_begin + UZW_N_TIMESTAMPS, n_vocab);
        return -1;
    }
    if (im->n_tokens > n_vocab) {
        snprintf(err, err_size, "import: the vocabulary lists %d tokens, more than n_vocab %d", im->n_tokens, n_vocab);
        return -1;
    }
    /* cross-check against the special strings the source lists */
    char want[32];
    if (expect_tok(im, sp->eot, "<|endoftext|>", NULL, err, err_size) ||
        expect_tok(im, sp->sot, "<|startoftranscript|>", NULL, err, err_size))
        return -1;
    for (int i = 0; i < n_lang; i++) {
        snprintf(want, sizeof want, "<|%s|>", oai_languages[i]);
        if (expect_tok(im, sp->first_lang + i, want, NULL, err, err_size)) return -1;
    }
    if (expect_tok(im, sp->translate, "<|translate|>", NULL, err, err_size) ||
        expect_tok(im, sp->transcribe, "<|transcribe|>", NULL, err, err_size) ||
        expect_tok(im, sp->sot_lm, "<|startoflm|>", NULL, err, err_size) ||
        expect_tok(im, sp->sot_prev, "<|startofprev|>", NULL, err, err_size) ||
        expect_tok(im, sp->no_speech, "<|nospeech|>", "<|nocaptions|>", err, err_size) ||
        expect_tok(im, sp->no_timestamps, "<|notimestamps|>", NULL, err, err_size))
        return -1;
    for (int k = 0; k < UZW_N_TIMESTAMPS && sp->ts_begin + k < im->n_tokens; k++) {
        snprintf(want, sizeof want, "<|%d.%02d|>", (2 * k) / 100, (2 * k) % 100);
        if (expect_tok(im, sp->ts_begin + k, want, NULL, err, err_size)) return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- model type */
typedef struct {
    const char *name;
    int32_t mels, state, heads, enc_layers, dec_layers, vocab;
    int has_en;
} known_model;

static const known_model known_models[] = {
    {"tiny", 80, 384, 6, 4, 4, 51865, 1},           {"base", 80, 512, 8, 6, 6, 51865, 1},
    {"small", 80, 768, 12, 12, 12, 51865, 1},       {"medium", 80, 1024, 16, 24, 24, 51865, 1},
    {"large", 80, 1280, 20, 32, 32, 51865, 0},      {"large-v3", 128, 1280, 20, 32, 32, 51866, 0},
    {"large-v3-turbo", 128, 1280, 20, 32, 4, 51866, 0},
};

const char *uzw_import_model_type(const uzw_dims *d, char *buf, size_t buf_size) {
    snprintf(buf, buf_size, "custom");
    if (d->n_audio_ctx != 1500 || d->n_text_ctx != 448 || d->n_audio_state != d->n_text_state ||
        d->n_audio_head != d->n_text_head)
        return buf;
    for (size_t i = 0; i < sizeof known_models / sizeof known_models[0]; i++) {
        const known_model *m = &known_models[i];
        if (d->n_mels != m->mels || d->n_audio_state != m->state || d->n_audio_head != m->heads ||
            d->n_audio_layer != m->enc_layers || d->n_text_layer != m->dec_layers)
            continue;
        if (d->n_vocab == m->vocab) snprintf(buf, buf_size, "%s", m->name);
        else if (m->has_en && d->n_vocab == 51864) snprintf(buf, buf_size, "%s.en", m->name);
        break;
    }
    return buf;
}
