/* metrics.c - edit-distance metrics of the bench harness: word and code-point alignments with
 * jiwer 4.0's conventions (WER, CER), and the per-language / switched-in word error breakdown.
 * Definitions: docs/metrics.md.
 *
 * jiwer counts hits/subs/dels/ins from rapidfuzz's Levenshtein.opcodes(ref, hyp). Several
 * minimum-cost alignments can exist, with different S/D/I splits, so the aligner below follows
 * rapidfuzz's choices (facts from its documentation and source, code of our own):
 *   1. the common prefix and suffix of the two sequences are hits;
 *   2. what is left is aligned on the full edit-distance matrix D[i][j] (i over the reference,
 *      j over the hypothesis) traced back from the end, at each step preferring
 *        a deletion        when D[i][j] == D[i-1][j] + 1,
 *        else, one hypothesis symbol back (j-1): an insertion when j-1 > 0 and
 *                          D[i][j-1] == D[i-1][j-1] - 1, else a hit/substitution of (i-1, j-1);
 *      then the remaining reference symbols are deletions, the remaining hypothesis ones insertions;
 *   3. when that matrix would be large (rapidfuzz's Hirschberg threshold, see align_range), the
 *      hypothesis is cut in the middle and the reference at the first position that keeps the
 *      total distance minimal, and each half is aligned again from step 1.
 * tests/test_metrics.c checks every count against jiwer on the pairs in
 * tests/fixtures/metrics/jiwer_pairs.json (tests/reference/make_metrics_golden.py). */
#include "metrics.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- counts */

double uze_error_rate(const uze_counts *c) {
    long n = c->hits + c->subs + c->dels;
    if (n == 0) return (double)c->ins; /* jiwer: the number of insertions when the reference is empty */
    return (double)(c->subs + c->dels + c->ins) / (double)n;
}

void uze_counts_add(uze_counts *acc, const uze_counts *c) {
    acc->hits += c->hits;
    acc->subs += c->subs;
    acc->dels += c->dels;
    acc->ins += c->ins;
}

/* ---------------------------------------------------------------- the aligner */

typedef struct {
    const uint32_t *a, *b; /* reference and hypothesis symbols */
    int *a2b;              /* [na] hypothesis index aligned to reference i, or -1 */
    int *b2a;              /* [nb] reference index aligned to hypothesis j, or -1 */
    int *bpos;             /* [nb] number of reference symbols before hypothesis j in the alignment */
    uze_counts c;
    int oom;
} aligner;

static void pair(aligner *al, int i, int j) {
    al->a2b[i] = j;
    al->b2a[j] = i;
    al->bpos[j] = i;
    if (al->a[i] == al->b[j])
        al->c.hits++;
    else
        al->c.subs++;
}

static void del(aligner *al, int i) {
    al->a2b[i] = -1;
    al->c.dels++;
}

static void ins(aligner *al, int j, int before) {
    al->b2a[j] = -1;
    al->bpos[j] = before;
    al->c.ins++;
}

/* The full matrix D[i][j] (i = 0..na over a[a0..], j = 0..nb over b[b0..]) and its trace back. */
static void align_matrix(aligner *al, int a0, int na, int b0, int nb) {
    size_t w = (size_t)nb + 1;
    int32_t *d = malloc(((size_t)na + 1) * w * sizeof *d);
    if (!d) {
        al->oom = 1;
        return;
    }
    const uint32_t *a = al->a + a0, *b = al->b + b0;
#define D(i, j) d[(size_t)(i) * w + (size_t)(j)]
    for (int j = 0; j <= nb; j++) D(0, j) = j;
    for (int i = 1; i <= na; i++) {
        D(i, 0) = i;
        for (int j = 1; j <= nb; j++) {
            int32_t best = D(i - 1, j - 1) + (a[i - 1] != b[j - 1]);
            if (D(i - 1, j) + 1 < best) best = D(i - 1, j) + 1;
            if (D(i, j - 1) + 1 < best) best = D(i, j - 1) + 1;
            D(i, j) = best;
        }
    }
    int i = na, j = nb;
    while (i > 0 && j > 0) {
        if (D(i, j) - D(i - 1, j) == 1) {
            i--;
            del(al, a0 + i);
        } else {
            j--;
            if (j > 0 && D(i, j) - D(i - 1, j) == -1) {
                ins(al, b0 + j, a0 + i);
            } else {
                i--;
                pair(al, a0 + i, b0 + j);
            }
        }
    }
#undef D
    while (i > 0) del(al, a0 + --i);
    while (j > 0) {
        j--;
        ins(al, b0 + j, a0);
    }
    free(d);
}

/* One row of the edit-distance matrix: row[i] = distance(a[0..i), b[0..nb)) for i = 0..na, with a
 * and b read forwards from a0/b0 or, when rev, backwards from the ends of the ranges. */
static void edit_row(const uint32_t *a, int na, const uint32_t *b, int nb, int rev, int32_t *row) {
    for (int i = 0; i <= na; i++) row[i] = i;
    for (int j = 1; j <= nb; j++) {
        uint32_t bj = rev ? b[nb - j] : b[j - 1];
        int32_t diag = row[0]; /* D[0][j-1] */
        row[0] = j;
        for (int i = 1; i <= na; i++) {
            uint32_t ai = rev ? a[na - i] : a[i - 1];
            int32_t up = row[i]; /* D[i][j-1] */
            int32_t best = diag + (ai != bj);
            if (up + 1 < best) best = up + 1;
            if (row[i - 1] + 1 < best) best = row[i - 1] + 1;
            diag = up;
            row[i] = best;
        }
    }
}

static void align_range(aligner *al, int a0, int na, int b0, int nb, long max) {
    /* 1. common prefix and suffix */
    while (na > 0 && nb > 0 && al->a[a0] == al->b[b0]) {
        pair(al, a0, b0);
        a0++, b0++, na--, nb--;
    }
    while (na > 0 && nb > 0 && al->a[a0 + na - 1] == al->b[b0 + nb - 1]) {
        pair(al, a0 + na - 1, b0 + nb - 1);
        na--, nb--;
    }
    if (na == 0 || nb == 0) {
        for (int i = 0; i < na; i++) del(al, a0 + i);
        for (int j = 0; j < nb; j++) ins(al, b0 + j, a0);
        return;
    }
    /* 2. rapidfuzz aligns on the whole matrix unless 2 * band * nb / 8 bytes reach 1 MiB (band:
     * the reference length, or less once a distance bound is known) and a is >= 65 long and b >= 10 */
    long longer = na > nb ? na : nb;
    if (max > longer) max = longer;
    long band = 2 * max + 1 < na ? 2 * max + 1 : na;
    if (2 * band * (long)nb / 8 < 1024 * 1024 || na < 65 || nb < 10) {
        align_matrix(al, a0, na, b0, nb);
        return;
    }
    /* 3. Hirschberg: the hypothesis halves at nb / 2; the reference splits at the first position with
     * the minimal left + right distance */
    int bmid = nb / 2;
    int32_t *left = malloc(((size_t)na + 1) * sizeof *left);
    int32_t *right = malloc(((size_t)na + 1) * sizeof *right);
    if (!left || !right) {
        free(left);
        free(right);
        al->oom = 1;
        return;
    }
    edit_row(al->a + a0, na, al->b + b0, bmid, 0, left);
    edit_row(al->a + a0, na, al->b + b0 + bmid, nb - bmid, 1, right);
    int amid = 0;
    long best = -1, best_left = 0, best_right = 0;
    for (int i = 0; i <= na; i++) {
        long s = (long)left[i] + right[na - i];
        if (best < 0 || s < best) best = s, amid = i, best_left = left[i], best_right = right[na - i];
    }
    free(left);
    free(right);
    align_range(al, a0, amid, b0, bmid, best_left);
    if (!al->oom) align_range(al, a0 + amid, na - amid, b0 + bmid, nb - bmid, best_right);
}

/* Align symbol sequences; any of a2b, b2a, bpos may be NULL. 0, or -1 when out of memory. */
static int align_symbols(const uint32_t *a, int na, const uint32_t *b, int nb, uze_counts *c, int *a2b, int *b2a,
                         int *bpos) {
    aligner al = {.a = a, .b = b, .a2b = a2b, .b2a = b2a, .bpos = bpos};
    int *own_a = NULL, *own_b = NULL, *own_p = NULL;
    if (!al.a2b) al.a2b = own_a = malloc(((size_t)na + 1) * sizeof(int));
    if (!al.b2a) al.b2a = own_b = malloc(((size_t)nb + 1) * sizeof(int));
    if (!al.bpos) al.bpos = own_p = malloc(((size_t)nb + 1) * sizeof(int));
    if (!al.a2b || !al.b2a || !al.bpos)
        al.oom = 1;
    else
        align_range(&al, 0, na, 0, nb, (long)(na > nb ? na : nb));
    free(own_a);
    free(own_b);
    free(own_p);
    if (c) *c = al.c;
    return al.oom ? -1 : 0;
}

/* ---------------------------------------------------------------- words */

typedef struct {
    const char *w;
    int idx;
} word_ref;

static int cmp_word_ref(const void *x, const void *y) { return strcmp(((const word_ref *)x)->w, ((const word_ref *)y)->w); }

/* Number the words of ref and hyp so equal strings get equal symbols. */
static int number_words(const char *const *ref, int nr, const char *const *hyp, int nh, uint32_t *sym) {
    int n = nr + nh;
    word_ref *v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v) return -1;
    for (int i = 0; i < n; i++) v[i] = (word_ref){i < nr ? ref[i] : hyp[i - nr], i};
    qsort(v, (size_t)n, sizeof *v, cmp_word_ref);
    uint32_t id = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && strcmp(v[i].w, v[i - 1].w) != 0) id++;
        sym[v[i].idx] = id;
    }
    free(v);
    return 0;
}

static int align_words_pos(const char *const *ref, int nr, const char *const *hyp, int nh, uze_counts *c,
                           int *ref_to_hyp, int *hyp_to_ref, int *hyp_pos) {
    uint32_t *sym = malloc(((size_t)nr + (size_t)nh + 1) * sizeof *sym);
    if (!sym || number_words(ref, nr, hyp, nh, sym) != 0) {
        free(sym);
        return -1;
    }
    int rc = align_symbols(sym, nr, sym + nr, nh, c, ref_to_hyp, hyp_to_ref, hyp_pos);
    free(sym);
    return rc;
}

int uze_align_words(const char *const *ref, int nr, const char *const *hyp, int nh, uze_counts *c, int *ref_to_hyp,
                    int *hyp_to_ref) {
    return align_words_pos(ref, nr, hyp, nh, c, ref_to_hyp, hyp_to_ref, NULL);
}

/* Split s on runs of spaces (leading and trailing ones ignored, as jiwer's default transform does):
 * a malloc'ed copy in *buf and the words in *words (malloc'ed). Returns the count, -1 when out of memory. */
static int split_words(const char *s, char **buf, char ***words) {
    size_t len = strlen(s);
    *buf = malloc(len + 1);
    *words = malloc((len / 2 + 2) * sizeof **words);
    if (!*buf || !*words) {
        free(*buf);
        free(*words);
        return -1;
    }
    memcpy(*buf, s, len + 1);
    int n = 0;
    char *p = *buf;
    while (*p) {
        while (*p == ' ') *p++ = 0;
        if (!*p) break;
        (*words)[n++] = p;
        while (*p && *p != ' ') p++;
    }
    return n;
}

int uze_wer_counts(const char *ref, const char *hyp, uze_counts *c) {
    char *rb, *hb, **rw, **hw;
    int nr = split_words(ref, &rb, &rw);
    if (nr < 0) return -1;
    int nh = split_words(hyp, &hb, &hw);
    if (nh < 0) {
        free(rb);
        free(rw);
        return -1;
    }
    int rc = uze_align_words((const char *const *)rw, nr, (const char *const *)hw, nh, c, NULL, NULL);
    free(rb);
    free(rw);
    free(hb);
    free(hw);
    return rc;
}

/* ---------------------------------------------------------------- code points */

/* Decode UTF-8 (leading and trailing ASCII white space stripped, as jiwer's cer transform does).
 * A byte that does not start a valid sequence becomes its own symbol 0xDC00 + byte (Python's
 * surrogateescape), so bad input still compares byte by byte. Returns the count. */
static int decode_utf8(const char *s, uint32_t *out) {
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end && (*p == ' ' || (*p >= '\t' && *p <= '\r'))) p++;
    while (end > p && (end[-1] == ' ' || (end[-1] >= '\t' && end[-1] <= '\r'))) end--;
    int n = 0;
    while (p < end) {
        unsigned c = *p;
        int k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        uint32_t cp = k == 1 ? c & 0x1F : k == 2 ? c & 0x0F : c & 0x07;
        int ok = k >= 0 && end - p > k;
        for (int t = 1; ok && t <= k; t++) {
            if ((p[t] & 0xC0) != 0x80) ok = 0;
            cp = cp << 6 | (p[t] & 0x3F);
        }
        if (k == 0) cp = c;
        /* overlong forms, surrogates and values past U+10FFFF are not valid UTF-8 */
        if (ok && ((k == 1 && cp < 0x80) || (k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
                   (k == 3 && (cp < 0x10000 || cp > 0x10FFFF))))
            ok = 0;
        if (ok) {
            out[n++] = cp;
            p += k + 1;
        } else {
            out[n++] = 0xDC00u + c;
            p++;
        }
    }
    return n;
}

int uze_cer_counts(const char *ref, const char *hyp, uze_counts *c) {
    size_t lr = strlen(ref), lh = strlen(hyp);
    uint32_t *r = malloc((lr + 1) * sizeof *r), *h = malloc((lh + 1) * sizeof *h);
    int rc = -1;
    if (r && h) {
        int nr = decode_utf8(ref, r), nh = decode_utf8(hyp, h);
        rc = align_symbols(r, nr, h, nh, c, NULL, NULL, NULL);
    }
    free(r);
    free(h);
    return rc;
}

/* ---------------------------------------------------------------- languages */

/* The slot of language lang in out (added when new). -1 when there is no room or it is too long. */
static int lang_slot(uze_lang_breakdown *out, const char *lang) {
    for (int k = 0; k < out->n_langs; k++)
        if (strcmp(out->per_lang[k].lang, lang) == 0) return k;
    if (out->n_langs == UZE_MAX_LANGS || strlen(lang) >= sizeof out->per_lang[0].lang) return -1;
    int k = out->n_langs++;
    strcpy(out->per_lang[k].lang, lang);
    return k;
}

/* The distinct non-NULL entries of lang[n] in order of first occurrence, with their counts.
 * Returns how many, or -1 when there are more than cap. */
#define UZE_LANG_TABLE 128
static int distinct_langs(const char *const *lang, int n, const char **set, int *count, int cap) {
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!lang[i]) continue;
        int k = 0;
        while (k < m && strcmp(set[k], lang[i]) != 0) k++;
        if (k == m) {
            if (m == cap) return -1;
            set[m] = lang[i], count[m] = 0, m++;
        }
        count[k]++;
    }
    return m;
}

const char *uze_majority_language(const char *const *lang, int n) {
    const char *set[UZE_LANG_TABLE];
    int count[UZE_LANG_TABLE];
    int m = distinct_langs(lang, n, set, count, UZE_LANG_TABLE);
    const char *best = NULL;
    int best_n = 0;
    if (m >= 0) {
        for (int k = 0; k < m; k++)
            if (count[k] > best_n) best = set[k], best_n = count[k];
        return best;
    }
    for (int i = 0; i < n; i++) { /* more languages than the table holds: count each one directly */
        if (!lang[i]) continue;
        int cnt = 0, seen = 0;
        for (int k = 0; k < i && !seen; k++) seen = lang[k] && strcmp(lang[k], lang[i]) == 0;
        for (int k = i; k < n && !seen; k++) cnt += lang[k] && strcmp(lang[k], lang[i]) == 0;
        if (!seen && cnt > best_n) best = lang[i], best_n = cnt;
    }
    return best;
}

int uze_lang_errors(const char *const *ref, const char *const *ref_lang, int nr, const char *const *hyp,
                    const char *const *hyp_lang, int nh, uze_lang_breakdown *out) {
    memset(out, 0, sizeof *out);
    int *r2h = malloc(((size_t)nr + 1) * sizeof *r2h), *h2r = malloc(((size_t)nh + 1) * sizeof *h2r);
    int *hpos = malloc(((size_t)nh + 1) * sizeof *hpos), *slot = malloc(((size_t)nr + 1) * sizeof *slot);
    int rc = -1;
    uze_counts total;
    if (!r2h || !h2r || !hpos || !slot || align_words_pos(ref, nr, hyp, nh, &total, r2h, h2r, hpos) != 0) goto done;
    rc = -2;
    for (int i = 0; i < nr; i++)
        if (!ref_lang[i] || (slot[i] = lang_slot(out, ref_lang[i])) < 0) goto done;
    const char *matrix = uze_majority_language(ref_lang, nr);
    /* reference words: hit, substitution or deletion */
    for (int i = 0; i < nr; i++) {
        uze_counts *lc = &out->per_lang[slot[i]].c;
        int switched = strcmp(ref_lang[i], matrix) != 0;
        int j = r2h[i];
        long *cnt = j < 0 ? &lc->dels : strcmp(ref[i], hyp[j]) == 0 ? &lc->hits : &lc->subs;
        (*cnt)++;
        if (switched) {
            uze_counts *sc = &out->switched_in;
            (*(j < 0 ? &sc->dels : strcmp(ref[i], hyp[j]) == 0 ? &sc->hits : &sc->subs))++;
        }
        if (j >= 0 && hyp_lang && hyp_lang[j]) {
            out->lid_words++;
            out->lid_words_correct += strcmp(hyp_lang[j], ref_lang[i]) == 0;
        }
    }
    /* insertions: the reference word before them, or the first one when they come first */
    for (int j = 0; j < nh; j++) {
        if (h2r[j] >= 0) continue;
        if (nr == 0) {
            const char *l = hyp_lang && hyp_lang[j] ? hyp_lang[j] : "und";
            int k = lang_slot(out, l);
            if (k < 0) goto done;
            out->per_lang[k].c.ins++;
            continue;
        }
        int i = hpos[j] > 0 ? hpos[j] - 1 : 0;
        out->per_lang[slot[i]].c.ins++;
        if (strcmp(ref_lang[i], matrix) != 0) out->switched_in.ins++;
    }
    rc = 0;
done:
    free(r2h);
    free(h2r);
    free(hpos);
    free(slot);
    return rc;
}

int uze_utterance_lid_correct(const char *language, const char *const *ref_lang, int nr,
                              const char *const *hyp_lang, int nh) {
    if (strcmp(language, "mixed") != 0) {
        const char *pred = uze_majority_language(hyp_lang, nh);
        return pred != NULL && strcmp(pred, language) == 0;
    }
    /* the two sets are equal when every language of each side occurs on the other */
    const char *rs[UZE_LANG_TABLE], *hs[UZE_LANG_TABLE];
    int rcount[UZE_LANG_TABLE], hcount[UZE_LANG_TABLE];
    int mr = distinct_langs(ref_lang, nr, rs, rcount, UZE_LANG_TABLE);
    int mh = distinct_langs(hyp_lang, nh, hs, hcount, UZE_LANG_TABLE);
    if (mr < 0 || mh < 0) return 0; /* no language list is that long: not a real prediction */
    if (mr == 0 || mr != mh) return 0;
    for (int i = 0; i < mr; i++) {
        int found = 0;
        for (int k = 0; k < mh && !found; k++) found = strcmp(rs[i], hs[k]) == 0;
        if (!found) return 0;
    }
    return 1;
}

