/* manifest.h - the bench manifest: JSONL, one utterance a line (docs/bench.md):
 *   {"audio": PATH relative to the manifest, "text": reference, "language": "uz"|"ru"|...|"mixed",
 *    "segments": [{"language", "start", "end", "text"}]?  (seconds; optional)
 *    "switches": [{"time", "from", "to"}]?                  (seconds; optional)
 *    "id": NAME?}
 * Blank lines and lines starting with '#' (after blanks) are skipped; other keys are ignored and a
 * null optional field counts as absent. Any other bad line (not JSON, a missing or mistyped field,
 * an empty audio path or id, an unknown language code, a negative time, start > end, a switch
 * whose from == to, a segment (by start) or switch list out of time order, an id used before, a
 * line over 1 MiB) fails the whole manifest with "FILE:LINE: what is wrong"; a manifest with no
 * utterance fails with "FILE: no utterances ...". */
#ifndef UZE_MANIFEST_H
#define UZE_MANIFEST_H

#include <stddef.h>

typedef struct {
    char language[8];
    double start, end;
    char *text;
} uze_ref_segment;

typedef struct {
    double time;
    char from[8], to[8];
} uze_switch;

typedef struct {
    char *id;        /* "id", else the audio path as written */
    char *audio;     /* resolved: manifest directory + path (absolute paths kept) */
    char *text;      /* reference text */
    char language[8];/* "uz", "ru", ..., or "mixed" */
    uze_ref_segment *segs;
    int n_segs;
    uze_switch *switches;
    int n_switches;
    int line;        /* 1-based line in the manifest */
} uze_utterance;

typedef struct {
    uze_utterance *utt;
    int n;
} uze_manifest;

/* Parse a manifest file. 0 on success; -1 with a message in err (FILE:LINE: reason). A language
 * code is valid when it is "mixed" or 2-3 lower-case ASCII letters (the engine checks it exists). */
int uze_manifest_load(const char *path, uze_manifest *out, char *err, size_t err_size);
/* The same from text; base_dir resolves relative audio paths; name is used in messages. */
int uze_manifest_parse(const char *text, size_t len, const char *base_dir, const char *name, uze_manifest *out,
                       char *err, size_t err_size);
void uze_manifest_free(uze_manifest *m);

#endif
