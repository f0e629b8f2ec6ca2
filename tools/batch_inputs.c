/* batch_inputs.c - the list of files to transcribe and the output name of each:
 *   FILE      -> its base name                     (/data/a/x.wav -> x)
 *   FOLDER    -> its audio files, recursively, sorted by path, each mirroring its place under the
 *                folder (FOLDER/day1/x.wav -> day1/x), so equal base names in different
 *                sub-folders never share an output
 *   manifest  -> "id" when given, else the audio path relative to the manifest's folder
 * The extension is dropped unless keep_ext is set. Two inputs with one output name are refused
 * (batch_check_names) before any work starts. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "batch.h"

#define MAX_DEPTH 64

static const char *const audio_ext[] = {"wav", "flac", "ogg", "oga", "opus", "mp3", "aiff", "aif", "au", "caf", "w64"};

int batch_is_audio_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (size_t i = 0; i < sizeof audio_ext / sizeof audio_ext[0]; i++)
        if (!strcasecmp(dot + 1, audio_ext[i])) return 1;
    return 0;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* rel without its extension (unless keep_ext); malloc'ed. */
static char *make_stem(const char *rel, int keep_ext) {
    size_t n = strlen(rel);
    const char *dot = strrchr(rel, '.');
    const char *base = base_name(rel);
    if (!keep_ext && dot && dot > base) n = (size_t)(dot - rel);
    if (n == 0 || rel[n - 1] == '/') return strdup("audio"); /* "dir/" or "": a name all the same */
    char *s = malloc(n + 1);
    if (s) { memcpy(s, rel, n); s[n] = 0; }
    return s;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Append an item taking ownership of path and stem. */
static int push(batch_list *l, char *path, char *stem, const char *id, const char *lang, const char *adapter, char *err,
                size_t es) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        batch_item *v = realloc(l->v, sizeof *v * cap);
        if (!v) goto oom;
        l->v = v;
        l->cap = cap;
    }
    batch_item *it = &l->v[l->n];
    it->path = path;
    it->stem = stem;
    it->id = dup_or_null(id);
    it->language = dup_or_null(lang);
    it->adapter = dup_or_null(adapter);
    if (!path || !stem || (id && !it->id) || (lang && !it->language) || (adapter && !it->adapter)) {
        free(it->id);
        free(it->language);
        free(it->adapter);
        goto oom;
    }
    l->n++;
    return 0;
oom:
    free(path);
    free(stem);
    snprintf(err, es, "out of memory while listing inputs");
    return -1;
}

static char *join(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 2);
    if (!s) return NULL;
    memcpy(s, a, na);
    size_t o = na;
    if (o && s[o - 1] != '/') s[o++] = '/';
    memcpy(s + o, b, nb + 1);
    return s;
}

static int cmp_item_path(const void *a, const void *b) {
    return strcmp(((const batch_item *)a)->path, ((const batch_item *)b)->path);
}

/* Walk dir (root + "/" + rel), appending its audio files. */
static int walk(batch_list *l, const char *root, const char *rel, int depth, int keep_ext, char *err, size_t es) {
    char *dir = *rel ? join(root, rel) : strdup(root);
    if (!dir) { snprintf(err, es, "out of memory while listing inputs"); return -1; }
    if (depth > MAX_DEPTH) {
        snprintf(err, es, "%s: folders nested more than %d deep", dir, MAX_DEPTH);
        free(dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, es, "cannot read folder %s: %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden files, macOS "._x.wav" */
        char *full = join(dir, e->d_name), *sub = *rel ? join(rel, e->d_name) : strdup(e->d_name);
        struct stat st;
        if (!full || !sub) { snprintf(err, es, "out of memory while listing inputs"); rc = -1; }
        else if (lstat(full, &st) != 0) { snprintf(err, es, "cannot stat %s: %s", full, strerror(errno)); rc = -1; }
        else if (S_ISDIR(st.st_mode)) rc = walk(l, root, sub, depth + 1, keep_ext, err, es);
        else if (batch_is_audio_name(e->d_name) && (S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && stat(full, &st) == 0 && S_ISREG(st.st_mode)))) {
            char *stem = make_stem(sub, keep_ext);
            rc = push(l, full, stem, NULL, NULL, NULL, err, es);
            full = NULL;
        }
        free(full);
        free(sub);
        errno = 0;
    }
    if (rc == 0 && errno) { snprintf(err, es, "cannot read folder %s: %s", dir, strerror(errno)); rc = -1; }
    closedir(d);
    free(dir);
    return rc;
}

int batch_add_path(batch_list *l, const char *arg, int keep_ext, char *err, size_t es) {
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t first = l->n;
        if (walk(l, arg, "", 0, keep_ext, err, es) != 0) return -1;
        qsort(l->v + first, l->n - first, sizeof *l->v, cmp_item_path);
        if (l->n == first) fprintf(stderr, "uzwhisper: warning: no audio files under %s\n", arg);
        return 0;
    }
    /* a file, or something missing: it fails later with the engine's message, per file */
    return push(l, strdup(arg), make_stem(base_name(arg), keep_ext), NULL, NULL, NULL, err, es);
}

/* An id is a relative path of ordinary components: no "", ".", "..", no control characters. */
static int valid_id(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > 1024 || id[0] == '/' || id[n - 1] == '/') return 0;
    for (const char *c = id; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) return 0;
    for (const char *p = id; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return 0;
        p += len + (e ? 1 : 0);
    }
    return 1;
}

/* Output name of a manifest's audio path: the relative path without "." parts; the base name when
 * it is absolute or climbs out with "..". */
static char *manifest_stem(const char *audio, int keep_ext) {
    if (audio[0] == '/' || strstr(audio, "..")) return make_stem(base_name(audio), keep_ext);
    while (audio[0] == '.' && audio[1] == '/') audio += 2;
    while (*audio == '/') audio++;
    char *clean = strdup(audio), *o = clean;
    if (!clean) return NULL;
    for (const char *p = audio; *p; p++) { /* collapse "//" and "/./" */
        if (*p == '/' && (p[1] == '/' || (p[1] == '.' && p[2] == '/'))) continue;
        *o++ = *p;
    }
    *o = 0;
    char *s = make_stem(clean, keep_ext);
    free(clean);
    return s;
}

static int manifest_line(batch_list *l, const char *mdir, const char *mpath, size_t lineno, const char *line, int keep_ext,
                         char *err, size_t es) {
    json_error_t je;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    int rc = -1;
    if (!o) { snprintf(err, es, "%s:%zu: not valid JSON: %s", mpath, lineno, je.text); return -1; }
    json_t *a = json_object_get(o, "audio"), *id = json_object_get(o, "id"), *lang = json_object_get(o, "language");
    json_t *ad = json_object_get(o, "adapter");
    if (!json_is_object(o)) snprintf(err, es, "%s:%zu: each line must be a JSON object", mpath, lineno);
    else if (!json_is_string(a) || !*json_string_value(a)) snprintf(err, es, "%s:%zu: \"audio\" (a non-empty string) is missing", mpath, lineno);
    else if (id && !json_is_null(id) && (!json_is_string(id) || !valid_id(json_string_value(id))))
        snprintf(err, es, "%s:%zu: \"id\" must be a relative name without '..', '.', '//' or control characters", mpath, lineno);
    else if (lang && !json_is_null(lang) && (!json_is_string(lang) || !*json_string_value(lang) || json_string_length(lang) > 15))
        snprintf(err, es, "%s:%zu: \"language\" must be a language code such as \"uz\"", mpath, lineno);
    else if (ad && !json_is_null(ad) && (!json_is_string(ad) || !*json_string_value(ad) || json_string_length(ad) > 63))
        snprintf(err, es, "%s:%zu: \"adapter\" must be the name of a --adapter NAME=DIR", mpath, lineno);
    else {
        const char *audio = json_string_value(a);
        const char *ids = json_is_string(id) ? json_string_value(id) : NULL;
        char *path = audio[0] == '/' ? strdup(audio) : join(mdir, audio);
        char *stem = ids ? strdup(ids) : manifest_stem(audio, keep_ext);
        rc = push(l, path, stem, ids, json_is_string(lang) ? json_string_value(lang) : NULL,
                  json_is_string(ad) ? json_string_value(ad) : NULL, err, es);
    }
    json_decref(o);
    return rc;
}

int batch_add_manifest(batch_list *l, const char *manifest, int keep_ext, char *err, size_t es) {
    FILE *f = fopen(manifest, "r");
    if (!f) { snprintf(err, es, "cannot open manifest %s: %s", manifest, strerror(errno)); return -1; }
    const char *slash = strrchr(manifest, '/');
    char *mdir = slash ? strndup(manifest, (size_t)(slash - manifest) + 1) : strdup("");
    if (!mdir) { fclose(f); snprintf(err, es, "out of memory"); return -1; }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) != -1) {
        lineno++;
        size_t k = 0;
        while (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n') k++;
        if (!line[k]) continue;
        if (strlen(line) != (size_t)len) { snprintf(err, es, "%s:%zu: a NUL byte inside the line", manifest, lineno); rc = -1; break; }
        rc = manifest_line(l, mdir, manifest, lineno, line, keep_ext, err, es);
    }
    if (rc == 0 && ferror(f)) { snprintf(err, es, "cannot read manifest %s: %s", manifest, strerror(errno)); rc = -1; }
    free(line);
    free(mdir);
    fclose(f);
    return rc;
}

static int cmp_stem(const void *a, const void *b) {
    const batch_item *x = *(const batch_item *const *)a, *y = *(const batch_item *const *)b;
    return strcmp(x->stem, y->stem);
}

int batch_check_names(const batch_list *l, char *err, size_t es) {
    if (l->n < 2) return 0;
    const batch_item **v = malloc(sizeof *v * l->n);
    if (!v) { snprintf(err, es, "out of memory"); return -1; }
    for (size_t i = 0; i < l->n; i++) v[i] = &l->v[i];
    qsort(v, l->n, sizeof *v, cmp_stem);
    int rc = 0;
    for (size_t i = 1; i < l->n && rc == 0; i++)
        if (!strcmp(v[i - 1]->stem, v[i]->stem)) {
            snprintf(err, es,
                     "%s and %s would both be written as '%s.*'; pass their common parent folder (outputs mirror "
                     "sub-folders), add --keep-ext (outputs named 'name.wav.srt'), or give them distinct \"id\"s in a "
                     "--manifest",
                     v[i - 1]->path, v[i]->path, v[i]->stem);
            rc = -1;
        }
    free(v);
    return rc;
}

void batch_list_free(batch_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].stem);
        free(l->v[i].id);
        free(l->v[i].language);
        free(l->v[i].adapter);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

void batch_keep_shard(batch_list *l, int k, int n) {
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (i % (size_t)n == (size_t)k) {
            l->v[o++] = l->v[i];
            continue;
        }
        free(l->v[i].path);
        free(l->v[i].stem);
        free(l->v[i].id);
        free(l->v[i].language);
        free(l->v[i].adapter);
    }
    l->n = o;
}
