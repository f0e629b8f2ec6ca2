/* metrics.h - accuracy metrics of the bench harness (definitions: docs/metrics.md). All text is
 * normalised by the caller (uzw_text_normalize) and split on spaces into words; CER works on
 * Unicode code points of the normalised text with spaces kept, as jiwer.cer does. */
#ifndef UZE_METRICS_H
#define UZE_METRICS_H

#include <stddef.h>

/* Edit counts of one alignment (minimum edit distance, unit costs, jiwer's conventions). */
typedef struct {
    long hits, subs, dels, ins;
} uze_counts;
/* (subs + dels + ins) / (hits + subs + dels); 0 when both are empty, 1 per inserted word when the
 * reference is empty (jiwer raises there; we define it and document it). */
double uze_error_rate(const uze_counts *c);
void uze_counts_add(uze_counts *acc, const uze_counts *c);

/* Align words: ref[nr] against hyp[nh]. Fills c and, when ref_to_hyp is not NULL, ref_to_hyp[i] =
 * the hyp index aligned to ref word i (a hit or a substitution) or -1 (deleted); when hyp_to_ref
 * is not NULL, hyp_to_ref[j] = the ref index or -1 (inserted). Returns 0, -1 when out of memory. */
int uze_align_words(const char *const *ref, int nr, const char *const *hyp, int nh, uze_counts *c, int *ref_to_hyp,
                    int *hyp_to_ref);
/* Word counts of two normalised strings (split on ' '). */
int uze_wer_counts(const char *ref, const char *hyp, uze_counts *c);
/* Character (code point) counts of two normalised strings. */
int uze_cer_counts(const char *ref, const char *hyp, uze_counts *c);

/* Per-language and switched-in word errors of one utterance. ref_lang[i] is the language of
 * reference word i (from the manifest's segments; the utterance language otherwise) and
 * matrix is the utterance's majority language. Errors are charged to reference words: a
 * substitution or deletion to that word's language, an insertion to the language of the nearest
 * reference word before it (after it at the start). PIER counts the errors charged to words whose
 * language is not the matrix language, over the number of those words. */
typedef struct {
    char lang[8];
    uze_counts c;
} uze_lang_counts;
#define UZE_MAX_LANGS 8
typedef struct {
    uze_lang_counts per_lang[UZE_MAX_LANGS];
    int n_langs;
    uze_counts switched_in; /* errors over switched-in (non-matrix) reference words: PIER */
    long lid_words, lid_words_correct; /* aligned (hit/sub) words whose hyp language == ref language */
} uze_lang_breakdown;
/* hyp_lang[j] may be NULL (no word languages in the hypothesis: LID-per-word is not counted). */
/* The matrix language is the most frequent of ref_lang (ties: the one that occurs first). With an
 * empty reference, insertions are charged to the hypothesis word's language ("und" when unknown).
 * Returns 0; -1 when out of memory; -2 when a ref_lang is NULL, longer than 7 bytes, or there are
 * more than UZE_MAX_LANGS languages. */
int uze_lang_errors(const char *const *ref, const char *const *ref_lang, int nr, const char *const *hyp,
                    const char *const *hyp_lang, int nh, uze_lang_breakdown *out);
/* The most frequent non-NULL entry of lang[n] (ties: the one that occurs first); NULL when none. */
const char *uze_majority_language(const char *const *lang, int n);
/* Utterance LID: 1 when correct, else 0. For language != "mixed": the majority of hyp_lang equals
 * language. For "mixed": the set of ref_lang equals the set of hyp_lang (NULL entries ignored; two
 * empty sets are not correct). */
int uze_utterance_lid_correct(const char *language, const char *const *ref_lang, int nr,
                              const char *const *hyp_lang, int nh);

/* Switch points: a predicted switch matches an unmatched reference switch of the same direction
 * (from, to) within +-tol seconds (inclusive, up to 1e-9 s of rounding), one-to-one; candidate
 * pairs are taken closest first (ties: earlier reference, then earlier prediction). This greedy
 * rule is the definition; it is not always the maximum matching (docs/metrics.md has an example).
 * Returns 0, -1 when out of memory. */
typedef struct {
    double time;
    const char *from, *to;
} uze_switch_point;
typedef struct {
    long tp, fp, fn;
} uze_switch_counts;
int uze_match_switches(const uze_switch_point *ref, int nr, const uze_switch_point *hyp, int nh, double tol,
                       uze_switch_counts *out, int *ref_match /* [nr] hyp index or -1; may be NULL */);
/* precision, recall, F1 (0 when undefined; 1 for recall/precision when there is nothing to find
 * and nothing predicted) */
void uze_switch_prf(const uze_switch_counts *c, double *precision, double *recall, double *f1);

#endif
