/* bench_score.c - one utterance's scores (definitions: docs/metrics.md, choices: docs/bench.md):
 *   - both texts normalised with uzw_text_normalize under the reference's language ("mixed": the
 *     Uzbek and then the Russian rules), split into words;
 *   - WER and CER (tools/eval/metrics.c);
 *   - reference word languages from the manifest's segments (each segment's words take its
 *     language; when the segments' words differ from the text's, they are aligned), else the
 *     utterance language; hypothesis word languages from the system's words (or segments);
 *   - per word-language errors, PIER and per-word LID (uze_lang_errors);
 *   - per-utterance LID (uze_utterance_lid_correct): the language of most hypothesis words against
 *     the reference language; for "mixed", the set of languages on both sides (not scored when
 *     the manifest gives no segments, as the reference word languages are then unknown);
 *   - switch points: the manifest's "switches", else the language changes between consecutive
 *     reference segments, matched to the system's within the tolerance. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "text/uztext.h"

char *bench_normalize(const char *text, const char *lang) {
    if (lang && !strcmp(lang, "mixed")) {
        char *a = uzw_text_normalize(text ? text : "", "uz");
        if (!a) return NULL;
        char *b = uzw_text_normalize(a, "ru");
        free(a);
        return b;
    }
    return uzw_text_normalize(text ? text : "", lang);
}

/* Split a normalised string into words: *buf holds a copy, *words points into it. Returns the
 * count, or -1 when out of memory. */
static int split_words(const char *s, char **buf, char ***words) {
    *buf = strdup(s);
    *words = NULL;
    if (!*buf) return -1;
    int n = 0;
    for (const char *p = s; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    *words = calloc(n ? (size_t)n : 1, sizeof **words);
    if (!*words) return -1;
    int k = 0;
    for (char *p = *buf; *p;) {
        while (*p == ' ') *p++ = 0;
        if (!*p) break;
        (*words)[k++] = p;
        while (*p && *p != ' ') p++;
    }
    return n;
}

/* Append the words of `text` (normalised under norm_lang) with language `lang` to a growing list.
 * 0, or -1 when out of memory. */
typedef struct {
    char **w;
    char (*lang)[BENCH_LANG];
    int n, cap;
    size_t text_len;
} word_list;

static int list_add(word_list *l, const char *text, const char *norm_lang, const char *lang) {
    char *norm = bench_normalize(text, norm_lang);
    if (!norm) return -1;
    char *buf;
    char **words;
    int n = split_words(norm, &buf, &words);
    free(norm);
    if (n < 0) { free(buf); free(words); return -1; }
    if (l->n + n > l->cap) {
        int cap = (l->n + n) * 2 + 8;
        char **w = realloc(l->w, sizeof *w * (size_t)cap);
        if (w) l->w = w;
        char (*lg)[BENCH_LANG] = realloc(l->lang, sizeof *lg * (size_t)cap);
        if (lg) l->lang = lg;
        if (!w || !lg) { free(buf); free(words); return -1; }
        l->cap = cap;
    }
    for (int i = 0; i < n; i++) {
        l->w[l->n] = strdup(words[i]);
        if (!l->w[l->n]) { free(buf); free(words); return -1; }
        l->text_len += strlen(words[i]) + 1;
        snprintf(l->lang[l->n], BENCH_LANG, "%s", lang ? lang : "");
        l->n++;
    }
    free(buf);
    free(words);
    return 0;
}

static void list_free(word_list *l) {
    for (int i = 0; i < l->n; i++) free(l->w[i]);
    free(l->w);
    free(l->lang);
    memset(l, 0, sizeof *l);
}

static char *list_join(const word_list *l) {
    char *s = malloc(l->text_len + 1), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < l->n; i++) {
        if (i) *p++ = ' ';
        size_t k = strlen(l->w[i]);
        memcpy(p, l->w[i], k);
        p += k;
    }
    *p = 0;
    return s;
}

/* "uz+ru": the distinct languages of lang[n] in order of first appearance (NULL entries skipped). */
static void lang_set(const char *const *lang, int n, char *out, size_t size) {
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (!lang[i]) continue;
        int seen = 0;
        for (int k = 0; k < i && !seen; k++) seen = lang[k] && !strcmp(lang[k], lang[i]);
        if (seen) continue;
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", len ? "+" : "", lang[i]);
    }
}

/* Reference word languages: from the segments when there are any. */
static int ref_languages(const uze_utterance *u, bench_score *s) {
    for (int i = 0; i < s->nr; i++) snprintf(s->ref_lang[i], BENCH_LANG, "%s", u->language);
    if (u->n_segs == 0 || s->nr == 0) return 0;
    word_list segw = {0};
    for (int k = 0; k < u->n_segs; k++)
        if (list_add(&segw, u->segs[k].text, u->language, u->segs[k].language) != 0) { list_free(&segw); return -1; }
    int same = segw.n == s->nr;
    for (int i = 0; same && i < s->nr; i++) same = !strcmp(segw.w[i], s->ref_w[i]);
    if (same) {
        for (int i = 0; i < s->nr; i++) memcpy(s->ref_lang[i], segw.lang[i], BENCH_LANG);
        list_free(&segw);
        return 0;
    }
    /* the segments' words are not exactly the text's: align them and carry the languages over */
    int *r2h = malloc(sizeof(int) * (size_t)s->nr);
    uze_counts c;
    if (!r2h || uze_align_words((const char *const *)s->ref_w, s->nr, (const char *const *)segw.w, segw.n, &c, r2h,
                                NULL) != 0) {
        free(r2h);
        list_free(&segw);
        return -1;
    }
    int last = -1;
    for (int i = 0; i < s->nr; i++) {
        if (r2h[i] >= 0) last = r2h[i];
        if (last >= 0) memcpy(s->ref_lang[i], segw.lang[last], BENCH_LANG);
    }
    int first = -1; /* words before the first aligned one take its language */
    for (int i = 0; i < s->nr && first < 0; i++)
        if (r2h[i] >= 0) first = i;
    for (int i = 0; first > 0 && i < first; i++) memcpy(s->ref_lang[i], segw.lang[r2h[first]], BENCH_LANG);
    free(r2h);
    list_free(&segw);
    return 0;
}

static int ref_switches(const uze_utterance *u, bench_score *s) {
    int n = u->n_switches;
    if (!n)
        for (int k = 1; k < u->n_segs; k++) n += strcmp(u->segs[k].language, u->segs[k - 1].language) != 0;
    s->ref_sw = calloc(n ? (size_t)n : 1, sizeof *s->ref_sw);
    s->ref_match = calloc(n ? (size_t)n : 1, sizeof *s->ref_match);
    if (!s->ref_sw || !s->ref_match) return -1;
    if (u->n_switches) {
        memcpy(s->ref_sw, u->switches, sizeof *s->ref_sw * (size_t)n);
    } else {
        int j = 0;
        for (int k = 1; k < u->n_segs; k++) {
            if (!strcmp(u->segs[k].language, u->segs[k - 1].language)) continue;
            s->ref_sw[j].time = u->segs[k].start;
            memcpy(s->ref_sw[j].from, u->segs[k - 1].language, sizeof s->ref_sw[j].from);
            memcpy(s->ref_sw[j].to, u->segs[k].language, sizeof s->ref_sw[j].to);
            j++;
        }
    }
    s->n_ref_sw = n;
    return 0;
}

static int match_switches(const bench_hyp *h, double tol, bench_score *s) {
    uze_switch_point *r = calloc(s->n_ref_sw ? (size_t)s->n_ref_sw : 1, sizeof *r);
    uze_switch_point *p = calloc(h->n_switches ? (size_t)h->n_switches : 1, sizeof *p);
    int rc = -1;
    if (r && p) {
        for (int i = 0; i < s->n_ref_sw; i++) r[i] = (uze_switch_point){s->ref_sw[i].time, s->ref_sw[i].from, s->ref_sw[i].to};
        for (int i = 0; i < h->n_switches; i++)
            p[i] = (uze_switch_point){h->switches[i].time, h->switches[i].from, h->switches[i].to};
        rc = uze_match_switches(r, s->n_ref_sw, p, h->n_switches, tol, &s->sw, s->ref_match);
    }
    free(r);
    free(p);
    return rc;
}

int bench_score_utt(const uze_utterance *u, const bench_hyp *h, double tol, bench_score *s) {
    memset(s, 0, sizeof *s);
    const char *nl = u->language;
    /* the reference */
    if (!(s->ref_norm = bench_normalize(u->text, nl))) goto oom;
    if ((s->nr = split_words(s->ref_norm, &s->ref_buf, &s->ref_w)) < 0) goto oom;
    if (!(s->ref_lang = calloc(s->nr ? (size_t)s->nr : 1, sizeof *s->ref_lang))) goto oom;
    if (ref_languages(u, s) != 0) goto oom;
    /* the hypothesis: its words (or segments) one by one, so each word keeps its language */
    word_list hw = {0};
    s->hyp_lang_known = 1;
    for (int i = 0; i < h->n_units; i++) {
        if (list_add(&hw, h->units[i].text, nl, h->units[i].lang) != 0) { list_free(&hw); goto oom; }
        if (!h->units[i].lang[0]) s->hyp_lang_known = 0;
    }
    s->hyp_norm = list_join(&hw);
    s->nh = hw.n;
    s->hyp_lang = hw.lang;
    hw.lang = NULL;
    list_free(&hw);
    if (!s->hyp_norm) goto oom;
    if (!s->hyp_lang && !(s->hyp_lang = calloc(1, sizeof *s->hyp_lang))) goto oom;
    if (split_words(s->hyp_norm, &s->hyp_buf, &s->hyp_w) != s->nh) goto oom;

    /* WER, CER */
    if (uze_align_words((const char *const *)s->ref_w, s->nr, (const char *const *)s->hyp_w, s->nh, &s->wer, NULL, NULL))
        goto oom;
    if (uze_cer_counts(s->ref_norm, s->hyp_norm, &s->cer) != 0) goto oom;

    /* languages: per word (only where both sides' word languages are known) and per utterance */
    int ref_known = strcmp(nl, "mixed") != 0 || u->n_segs > 0;
    const char **rl = malloc(sizeof(char *) * (size_t)(s->nr + 1));
    const char **hl = malloc(sizeof(char *) * (size_t)(s->nh + 1));
    if (!rl || !hl) { free(rl); free(hl); goto oom; }
    for (int i = 0; i < s->nr; i++) rl[i] = s->ref_lang[i];
    for (int j = 0; j < s->nh; j++) hl[j] = ref_known && s->hyp_lang[j][0] ? s->hyp_lang[j] : NULL;
    int rc = uze_lang_errors((const char *const *)s->ref_w, rl, s->nr, (const char *const *)s->hyp_w, hl, s->nh, &s->langs);
    if (rc == 0 && ref_known) {
        /* docs/metrics.md: the majority hypothesis language for a one-language utterance; the set
         * of languages on both sides for a mixed one */
        s->lid_scored = 1;
        s->lid_correct = uze_utterance_lid_correct(nl, rl, s->nr, hl, s->nh);
        if (strcmp(nl, "mixed") != 0) {
            snprintf(s->lid_ref, sizeof s->lid_ref, "%s", nl);
            const char *m = uze_majority_language(hl, s->nh);
            snprintf(s->lid_hyp, sizeof s->lid_hyp, "%s", m ? m : "");
        } else {
            lang_set(rl, s->nr, s->lid_ref, sizeof s->lid_ref);
            lang_set(hl, s->nh, s->lid_hyp, sizeof s->lid_hyp);
        }
    }
    free(rl);
    free(hl);
    if (rc == -2) { /* more languages in one utterance than the metrics keep: no language breakdown */
        memset(&s->langs, 0, sizeof s->langs);
        rc = 0;
    }
    if (rc != 0) goto oom;

    /* switch points */
    if (ref_switches(u, s) != 0 || match_switches(h, tol, s) != 0) goto oom;
    return 0;
oom:
    bench_score_free(s);
    return -1;
}

void bench_score_free(bench_score *s) {
    if (!s) return;
    free(s->ref_norm);
    free(s->hyp_norm);
    free(s->ref_w);
    free(s->hyp_w);
    free(s->ref_buf);
    free(s->hyp_buf);
    free(s->ref_lang);
    free(s->hyp_lang);
    free(s->ref_sw);
    free(s->ref_match);
    memset(s, 0, sizeof *s);
}
