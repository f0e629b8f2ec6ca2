/* langset.h - the allowed-language set of a transcription and language identification restricted
 * to it. Whisper's language head spreads the probability of a language it knows little about over
 * its close relatives (Uzbek audio gets most of its mass on Azerbaijani, Turkish and Kazakh with
 * the multilingual base model), so each allowed language also takes the probability of the
 * languages of its family that are not allowed themselves, when it is the only allowed language of
 * that family (docs/codeswitch.md lists the families). */
#ifndef UZW_LANGSET_H
#define UZW_LANGSET_H

#include "model/model.h"

typedef struct {
    int idx[UZW_MAX_LANGUAGES]; /* model language indices, in the order given */
    int n;                      /* 0: every language is allowed */
    int owner[UZW_MAX_LANGUAGES]; /* [n_languages]: which allowed entry (0..n-1) a language's
                                   * probability goes to, or -1 (dropped) */
} uzw_langset;

/* Parse "uz,ru" (spaces allowed around codes; NULL or "" = all). 0, or -1 with a message. */
int uzw_langset_parse(const uzw_model *m, const char *list, uzw_langset *out, char *err, size_t err_size);

/* Restrict full[n_languages] (softmax over every language, by model index) to the set:
 * out[k] = probability of allowed entry k (folded and renormalised; sums to 1). Returns the entry
 * with the highest probability. With an empty set out is not touched and -1 is returned. */
int uzw_langset_restrict(const uzw_langset *s, int n_languages, const float *full, float *out);

#endif
