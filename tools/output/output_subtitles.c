/* output_subtitles.c - plain text, SubRip (.srt) and WebVTT (.vtt) writers.
 *   txt: one line per segment, text trimmed, empty segments left out.
 *   srt: "1\n00:00:01,250 --> 00:00:04,000\ntext\n\n", cues numbered from 1 over non-empty segments.
 *   vtt: "WEBVTT\n\n" then "00:00:01.250 --> 00:00:04.000\ntext\n\n"; & < > escaped as entities
 *        (so a "-->" inside the text cannot end the cue).
 * Times are rounded to whole milliseconds; an end before its start is written as the start. */
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* The cleaned text of segment i, or NULL when it is empty; *oom is set when malloc failed. */
static char *segment_text(const out_result *r, int i, int *oom) {
    char *t = out_clean_text(r->segs[i].text);
    if (!t) { *oom = 1; return NULL; }
    if (!*t) { free(t); return NULL; }
    return t;
}

/* txt with switch marks: "[uz] " before the first word and "[ru] " before each word whose
 * language differs from the word before it (segments without words count as one word). */
static int write_txt_marked(FILE *f, const out_result *r) {
    const char *prev = NULL;
    int oom = 0;
    for (int i = 0; i < r->n_segs && !oom; i++) {
        const out_segment *s = &r->segs[i];
        int units = s->n_words > 0 ? s->n_words : 1, wrote = 0;
        for (int k = 0; k < units; k++) {
            const char *text = s->n_words > 0 ? s->words[k].word : s->text;
            const char *lang = s->n_words > 0 && s->words[k].language ? s->words[k].language : s->language;
            char *t = out_clean_text(text);
            if (!t) { oom = 1; break; }
            if (!*t) { free(t); continue; }
            if (lang && (!prev || strcmp(prev, lang))) fprintf(f, "%s[%s] ", wrote ? " " : "", lang);
            else if (wrote) fputc(' ', f);
            fputs(t, f);
            free(t);
            wrote = 1;
            if (lang) prev = lang;
        }
        if (wrote) fputc('\n', f);
    }
    return oom || ferror(f) ? -1 : 0;
}

int out_write_txt(FILE *f, const out_result *r) {
    if (r->mark_switches) return write_txt_marked(f, r);
    int oom = 0;
    for (int i = 0; i < r->n_segs && !oom; i++) {
        char *t = segment_text(r, i, &oom);
        if (!t) continue;
        fputs(t, f);
        fputc('\n', f);
        free(t);
    }
    return oom || ferror(f) ? -1 : 0;
}

static void write_vtt_escaped(FILE *f, const char *t) {
    for (; *t; t++) {
        if (*t == '&') fputs("&amp;", f);
        else if (*t == '<') fputs("&lt;", f);
        else if (*t == '>') fputs("&gt;", f);
        else fputc(*t, f);
    }
}

static int write_cues(FILE *f, const out_result *r, int vtt) {
    int oom = 0, cue = 0;
    char t0[32], t1[32];
    if (vtt) fputs("WEBVTT\n\n", f);
    for (int i = 0; i < r->n_segs && !oom; i++) {
        char *t = segment_text(r, i, &oom);
        if (!t) continue;
        double a = r->segs[i].start, b = r->segs[i].end;
        if (!(b >= a)) b = a;
        out_format_time(t0, sizeof t0, a, vtt ? '.' : ',');
        out_format_time(t1, sizeof t1, b, vtt ? '.' : ',');
        cue++;
        if (!vtt) fprintf(f, "%d\n", cue);
        fprintf(f, "%s --> %s\n", t0, t1);
        if (vtt) write_vtt_escaped(f, t);
        else fputs(t, f);
        fputs("\n\n", f);
        free(t);
    }
    return oom || ferror(f) ? -1 : 0;
}

int out_write_srt(FILE *f, const out_result *r) { return write_cues(f, r, 0); }
int out_write_vtt(FILE *f, const out_result *r) { return write_cues(f, r, 1); }
