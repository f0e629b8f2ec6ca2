/* http_openai.c - the answer of the OpenAI-compatible POST /v1/audio/transcriptions
 * (http_internal.h): response_format json {"text"}, text (plain), srt, vtt, or verbose_json
 * {"task","language","duration","text","segments":[{id, seek, start, end, text, tokens,
 * temperature, avg_logprob, compression_ratio, no_speech_prob}], "words" when
 * timestamp_granularities[] holds "word"} — the shapes OpenAI's API documents and its client
 * libraries parse. verbose_json's language is Whisper's English name of the language ("uzbek"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "output.h"

/* Whisper's language codes and English names (the tokenizer's LANGUAGES table). */
static const char *const k_lang_names[][2] = {
    {"en", "english"}, {"zh", "chinese"}, {"de", "german"}, {"es", "spanish"}, {"ru", "russian"}, {"ko", "korean"},
    {"fr", "french"}, {"ja", "japanese"}, {"pt", "portuguese"}, {"tr", "turkish"}, {"pl", "polish"}, {"ca", "catalan"},
    {"nl", "dutch"}, {"ar", "arabic"}, {"sv", "swedish"}, {"it", "italian"}, {"id", "indonesian"}, {"hi", "hindi"},
    {"fi", "finnish"}, {"vi", "vietnamese"}, {"he", "hebrew"}, {"uk", "ukrainian"}, {"el", "greek"}, {"ms", "malay"},
    {"cs", "czech"}, {"ro", "romanian"}, {"da", "danish"}, {"hu", "hungarian"}, {"ta", "tamil"}, {"no", "norwegian"},
    {"th", "thai"}, {"ur", "urdu"}, {"hr", "croatian"}, {"bg", "bulgarian"}, {"lt", "lithuanian"}, {"la", "latin"},
    {"mi", "maori"}, {"ml", "malayalam"}, {"cy", "welsh"}, {"sk", "slovak"}, {"te", "telugu"}, {"fa", "persian"},
    {"lv", "latvian"}, {"bn", "bengali"}, {"sr", "serbian"}, {"az", "azerbaijani"}, {"sl", "slovenian"},
    {"kn", "kannada"}, {"et", "estonian"}, {"mk", "macedonian"}, {"br", "breton"}, {"eu", "basque"},
    {"is", "icelandic"}, {"hy", "armenian"}, {"ne", "nepali"}, {"mn", "mongolian"}, {"bs", "bosnian"},
    {"kk", "kazakh"}, {"sq", "albanian"}, {"sw", "swahili"}, {"gl", "galician"}, {"mr", "marathi"}, {"pa", "punjabi"},
    {"si", "sinhala"}, {"km", "khmer"}, {"sn", "shona"}, {"yo", "yoruba"}, {"so", "somali"}, {"af", "afrikaans"},
    {"oc", "occitan"}, {"ka", "georgian"}, {"be", "belarusian"}, {"tg", "tajik"}, {"sd", "sindhi"}, {"gu", "gujarati"},
    {"am", "amharic"}, {"yi", "yiddish"}, {"lo", "lao"}, {"uz", "uzbek"}, {"fo", "faroese"}, {"ht", "haitian creole"},
    {"ps", "pashto"}, {"tk", "turkmen"}, {"nn", "nynorsk"}, {"mt", "maltese"}, {"sa", "sanskrit"},
    {"lb", "luxembourgish"}, {"my", "myanmar"}, {"bo", "tibetan"}, {"tl", "tagalog"}, {"mg", "malagasy"},
    {"as", "assamese"}, {"tt", "tatar"}, {"haw", "hawaiian"}, {"ln", "lingala"}, {"ha", "hausa"}, {"ba", "bashkir"},
    {"jw", "javanese"}, {"su", "sundanese"}, {"yue", "cantonese"},
};

static const char *language_name(const char *code) {
    for (size_t i = 0; code && i < sizeof k_lang_names / sizeof k_lang_names[0]; i++)
        if (!strcmp(code, k_lang_names[i][0])) return k_lang_names[i][1];
    return code ? code : "";
}

int uzs_http_openai_format_ok(const char *format) {
    static const char *const ok[] = {"", "json", "text", "srt", "vtt", "verbose_json"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(format, ok[i])) return 0;
    return -1;
}

/* One writer of tools/output into a malloc'ed buffer. */
static char *write_text(int (*writer)(FILE *, const out_result *), const out_result *r, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    int bad = writer(f, r) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

static json_t *verbose_json(const uzw_context *ctx, const out_result *r, int words) {
    json_t *segs = json_array(), *ws = words ? json_array() : NULL;
    char *text = out_clean_text(r->text);
    json_t *doc = json_pack("{s:s,s:s,s:f,s:o,s:o}", "task", "transcribe", "language", language_name(r->language), "duration",
                            r->duration, "text", out_json_string(text ? text : ""), "segments", segs);
    free(text);
    if (!doc) {
        json_decref(ws);
        return NULL;
    }
    int bad = 0;
    for (int i = 0; i < r->n_segs; i++) {
        const out_segment *s = &r->segs[i];
        json_t *toks = json_array();
        for (int k = 0; toks && k < s->n_tokens; k++) bad |= json_array_append_new(toks, json_integer(s->tokens[k]));
        const char *t = s->text ? s->text : "";
        /* seek: the 10 ms frame the segment's window started at is not kept; the segment's own start is */
        json_t *o = json_pack("{s:i,s:i,s:f,s:f,s:o,s:o,s:f,s:f,s:f,s:f}", "id", i, "seek", (int)(s->start * 100 + 0.5),
                              "start", s->start, "end", s->end, "text", out_json_string(t), "tokens", toks, "temperature",
                              (double)uzw_segment_temperature(ctx, i), "avg_logprob", (double)s->avg_logprob,
                              "compression_ratio", (double)uzw_segment_compression_ratio(ctx, i), "no_speech_prob",
                              (double)s->no_speech_prob);
        bad |= !o || json_array_append_new(segs, o) != 0;
        for (int w = 0; ws && w < s->n_words; w++) {
            char *wt = out_clean_text(s->words[w].word);
            bad |= json_array_append_new(ws, json_pack("{s:o,s:f,s:f}", "word", out_json_string(wt ? wt : ""), "start", s->words[w].start,
                                                       "end", s->words[w].end)) != 0;
            free(wt);
        }
    }
    if (ws) bad |= json_object_set_new(doc, "words", ws) != 0;
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

void uzs_http_openai_answer(uzs_http_job *j, const uzw_context *ctx, int words) {
    out_result r;
    if (out_result_from_ctx(&r, ctx, j->files[0].filename, NULL, NULL) != 0) {
        uzs_http_answer_error(j, 500, "internal", "out of memory writing the answer");
        return;
    }
    const char *fmt = j->f.response_format;
    char *body = NULL;
    size_t len = 0;
    const char *ctype = "text/plain; charset=utf-8";
    if (!strcmp(fmt, "text")) {
        body = write_text(out_write_txt, &r, &len);
    } else if (!strcmp(fmt, "srt")) {
        body = write_text(out_write_srt, &r, &len);
    } else if (!strcmp(fmt, "vtt")) {
        body = write_text(out_write_vtt, &r, &len);
        ctype = "text/vtt; charset=utf-8";
    } else {
        json_t *doc;
        if (!strcmp(fmt, "verbose_json")) {
            doc = verbose_json(ctx, &r, words);
        } else {
            char *text = out_clean_text(r.text);
            doc = text ? json_pack("{s:o}", "text", out_json_string(text)) : NULL;
            free(text);
        }
        char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
        json_decref(doc);
        body = s;
        len = s ? strlen(s) : 0;
        ctype = "application/json";
    }
    out_result_free(&r);
    if (body) uzs_http_answer(j, 200, ctype, body, len);
    else uzs_http_answer_error(j, 500, "internal", "out of memory writing the answer");
}
