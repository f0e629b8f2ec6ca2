/*
 * safetensors_set.c - a checkpoint of one or more safetensors files: dir/model.safetensors, or the
 * shards listed by dir/model.safetensors.index.json ({"weight_map": {tensor: shard file}}).
 */
#include "safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int set_is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

void uzw_st_set_close(uzw_st_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n_files; i++) uzw_st_close(&s->files[i]);
    free(s->files);
    s->files = NULL;
    s->n_files = 0;
}

const uzw_st_entry *uzw_st_set_find(const uzw_st_set *s, const char *name, const uzw_st_file **file) {
    for (int i = 0; i < s->n_files; i++) {
        const uzw_st_entry *e = uzw_st_find(&s->files[i], name);
        if (e) {
            if (file) *file = &s->files[i];
            return e;
        }
    }
    return NULL;
}

static int set_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A shard name must be a plain file name inside dir. */
static int set_shard_name_ok(const char *n) {
    return n[0] != '\0' && n[0] != '.' && strchr(n, '/') == NULL && strlen(n) < 256;
}

/* No tensor may appear in two files. */
static int set_check_unique(const uzw_st_set *s, char *err, size_t err_size) {
    for (int i = 0; i < s->n_files; i++)
        for (int k = 0; k < s->files[i].h.n; k++) {
            const char *name = s->files[i].h.e[k].name;
            for (int j = i + 1; j < s->n_files; j++)
                if (uzw_st_find(&s->files[j], name)) {
                    snprintf(err, err_size, "safetensors: tensor '%s' is stored in both %s and %s", name,
                             s->files[i].path, s->files[j].path);
                    return -1;
                }
        }
    return 0;
}

static int set_open_index(const char *dir, const char *index_path, uzw_st_set *s, char *err, size_t err_size) {
    json_error_t jerr;
    json_t *root = json_load_file(index_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_size, "%s: invalid JSON: %s (line %d)", index_path, jerr.text, jerr.line);
        return -1;
    }
    int rc = -1;
    const char **names = NULL;
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm) || json_object_size(wm) == 0) {
        snprintf(err, err_size, "%s: no 'weight_map' object", index_path);
        goto done;
    }
    /* unique shard names, sorted */
    names = malloc(json_object_size(wm) * sizeof *names);
    if (!names) {
        snprintf(err, err_size, "safetensors: out of memory");
        goto done;
    }
    int n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(wm, key, val) {
        if (!json_is_string(val) || !set_shard_name_ok(json_string_value(val))) {
            snprintf(err, err_size, "%s: weight_map entry '%s' does not name a shard file in the folder", index_path,
                     key);
            goto done;
        }
        names[n++] = json_string_value(val);
    }
    qsort(names, (size_t)n, sizeof *names, set_cmp_str);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || strcmp(names[u - 1], names[i]) != 0) names[u++] = names[i];
    if (u > UZW_ST_MAX_SHARDS) {
        snprintf(err, err_size, "%s: %d shards (at most %d supported)", index_path, u, UZW_ST_MAX_SHARDS);
        goto done;
    }
    s->files = calloc((size_t)u, sizeof *s->files);
    if (!s->files) {
        snprintf(err, err_size, "safetensors: out of memory");
        goto done;
    }
    for (int i = 0; i < u; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (uzw_st_open(path, &s->files[i], err, err_size) != 0) goto done;
        s->n_files++;
    }
    json_object_foreach(wm, key, val) {
        const uzw_st_file *f = NULL;
        const char *want = json_string_value(val);
        if (!uzw_st_set_find(s, key, &f)) {
            snprintf(err, err_size, "%s: tensor '%s' is listed in weight_map but missing from shard %s", index_path,
                     key, want);
            goto done;
        }
        const char *base = strrchr(f->path, '/');
        if (strcmp(base ? base + 1 : f->path, want) != 0) {
            snprintf(err, err_size, "%s: tensor '%s' is mapped to %s but stored in %s", index_path, key, want,
                     f->path);
            goto done;
        }
    }
    rc = set_check_unique(s, err, err_size);
done:
    free(names);
    json_decref(root);
    if (rc != 0) uzw_st_set_close(s);
    return rc;
}

int uzw_st_set_open_dir(const char *dir, uzw_st_set *s, char *err, size_t err_size) {
    memset(s, 0, sizeof *s);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (set_is_file(path)) {
        s->files = calloc(1, sizeof *s->files);
        if (!s->files) {
            snprintf(err, err_size, "safetensors: out of memory");
            return -1;
        }
        if (uzw_st_open(path, &s->files[0], err, err_size) != 0) {
            uzw_st_set_close(s);
            return -1;
        }
        s->n_files = 1;
        return 0;
    }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (set_is_file(path)) return set_open_index(dir, path, s, err, err_size);
    snprintf(err, err_size, "%s: neither model.safetensors nor model.safetensors.index.json found", dir);
    return -1;
}
