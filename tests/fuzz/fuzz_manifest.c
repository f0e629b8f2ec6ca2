/*
 * fuzz_manifest.c - libFuzzer target for the bench manifest reader (uze_manifest_parse): any input
 * must give 0, or -1 with a "NAME:" message, never a crash, a read outside the input or a leak.
 * On success every utterance is walked and the promises of manifest.h are checked: at least one
 * utterance, non-empty unique ids, audio resolved under the base folder unless absolute, valid
 * language codes, segments with 0 <= start <= end in time order, switches with from != to in
 * time order. Seeds: tests/fuzz/corpus_manifest/. Run: tools/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static int lang_ok(const char *s, int allow_mixed) {
    if (allow_mixed && strcmp(s, "mixed") == 0) return 1;
    size_t n = strlen(s);
    if (n < 2 || n > 3) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

static void check_utterance(const uze_utterance *u, const uze_utterance *prev) {
    if (!u->id[0] || !u->audio[0] || !u->text) abort();
    if (u->audio[0] != '/' && strncmp(u->audio, "base/", 5) != 0) abort();
    if (!lang_ok(u->language, 1)) abort();
    if (prev && u->line <= prev->line) abort();
    for (int k = 0; k < u->n_segs; k++) {
        const uze_ref_segment *s = &u->segs[k];
        if (!lang_ok(s->language, 0) || !(s->start >= 0 && s->start <= s->end) || !s->text) abort();
        if (k > 0 && s->start < u->segs[k - 1].start) abort();
    }
    for (int k = 0; k < u->n_switches; k++) {
        const uze_switch *s = &u->switches[k];
        if (!lang_ok(s->from, 0) || !lang_ok(s->to, 0) || strcmp(s->from, s->to) == 0 || !(s->time >= 0)) abort();
        if (k > 0 && s->time < u->switches[k - 1].time) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uze_manifest m;
    char err[512];
    err[0] = 0;
    if (uze_manifest_parse((const char *)data, size, "base", "fuzz.jsonl", &m, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.jsonl:", 11) != 0) abort(); /* a failure always says where and why */
        if (m.utt != NULL || m.n != 0) abort();
        return 0;
    }
    if (m.n < 1) abort();
    for (int i = 0; i < m.n; i++) {
        check_utterance(&m.utt[i], i ? &m.utt[i - 1] : NULL);
        for (int k = 0; k < i && k < 256; k++)
            if (strcmp(m.utt[i].id, m.utt[k].id) == 0) abort(); /* ids are unique */
    }
    uze_manifest_free(&m);
    return 0;
}
