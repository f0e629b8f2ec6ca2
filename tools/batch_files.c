/* batch_files.c - everything the batch writes to disk, written so that nothing is ever half there:
 *   outputs   DIR/stem.ext.tmp.PID -> fsync -> rename to DIR/stem.ext -> fsync(folder)
 *   lock      DIR/.uzwhisper.lock (flock): one run per output folder, so any *.tmp.PID found at
 *             start belongs to a dead run and is removed
 *   failures  one JSON object a line, fdatasync'ed per line */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"

int batch_output_path(char *buf, size_t size, const char *dir, const char *stem, const char *ext) {
    int n = snprintf(buf, size, "%s/%s.%s", dir, stem, ext);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

unsigned batch_missing_formats(const char *dir, const char *stem, unsigned formats) {
    unsigned missing = 0;
    char p[8192];
    for (int i = 0; i < OUT_N_FORMATS; i++) {
        if (!(formats & (1u << i))) continue;
        struct stat st;
        if (batch_output_path(p, sizeof p, dir, stem, out_format_ext(i)) != 0 || stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            missing |= 1u << i;
    }
    return missing;
}

int batch_mkdirs(const char *dir, char *err, size_t es) {
    char p[8192];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) { snprintf(err, es, "path too long: %s", dir); return -1; }
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = 0;
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            snprintf(err, es, "cannot create folder %s: %s", p, strerror(errno));
            return -1;
        }
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, es, "cannot create folder %s: a file of that name is in the way", p);
            return -1;
        }
        *s = c;
        if (!c) break;
    }
    return 0;
}

int batch_lock_dir(const char *dir, char *err, size_t es) {
    char p[8192];
    if (snprintf(p, sizeof p, "%s/.uzwhisper.lock", dir) >= (int)sizeof p) { snprintf(err, es, "path too long: %s", dir); return -1; }
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) { snprintf(err, es, "cannot create %s: %s", p, strerror(errno)); return -1; }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) snprintf(err, es, "another uzwhisper transcribe is writing to %s (it holds %s)", dir, p);
        else snprintf(err, es, "cannot lock %s: %s", p, strerror(e));
        return -1;
    }
    return fd;
}

/* "x.srt.tmp.1234" and the like. */
static int is_stale_tmp(const char *name) {
    const char *t = strstr(name, ".tmp.");
    if (!t) return 0;
    const char *last;
    while ((last = strstr(t + 1, ".tmp.")) != NULL) t = last;
    const char *d = t + 5;
    if (!*d) return 0;
    for (const char *c = d; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    for (int i = 0; i < OUT_N_FORMATS; i++) {
        size_t n = strlen(out_format_ext(i));
        if ((size_t)(t - name) > n + 1 && t[-(long)n - 1] == '.' && !strncmp(t - n, out_format_ext(i), n)) return 1;
    }
    return 0;
}

static long remove_tmp_in(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d || depth > 64) { if (d) closedir(d); return 0; }
    long n = 0;
    struct dirent *e;
    char p[8192];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        struct stat st;
        if (lstat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) n += remove_tmp_in(p, depth + 1);
        else if (S_ISREG(st.st_mode) && is_stale_tmp(e->d_name) && unlink(p) == 0) n++;
    }
    closedir(d);
    return n;
}

long batch_remove_stale_tmp(const char *dir) { return remove_tmp_in(dir, 0); }

static int fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write one format to tmp; 0 ok, else -1 with err set (the tmp file may remain: the caller removes it). */
static int write_one(const char *tmp, unsigned fmt, const out_result *r, char *err, size_t es) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) { snprintf(err, es, "cannot create %s: %s", tmp, strerror(errno)); return -1; }
    FILE *f = fdopen(fd, "w");
    if (!f) { snprintf(err, es, "cannot open %s: %s", tmp, strerror(errno)); close(fd); return -1; }
    errno = 0;
    int rc = out_write(f, fmt, r);
    if (rc == 0 && fflush(f) != 0) rc = -1;
    if (rc == 0 && fsync(fd) != 0) rc = -1;
    int e = errno;
    if (fclose(f) != 0 && rc == 0) { rc = -1; e = errno; }
    if (rc != 0) snprintf(err, es, "cannot write %s: %s", tmp, e ? strerror(e) : "out of memory");
    return rc;
}

int batch_write_outputs(const char *dir, const char *stem, unsigned formats, const out_result *r, char *err, size_t es) {
    char final[OUT_N_FORMATS][8192], tmp[OUT_N_FORMATS][8256], parent[8192];
    int made[OUT_N_FORMATS] = {0}, rc = 0;
    if (batch_output_path(parent, sizeof parent, dir, stem, "x") != 0) { snprintf(err, es, "output path too long for %s", stem); return -1; }
    *strrchr(parent, '/') = 0; /* DIR/sub of DIR/sub/name */
    if (batch_mkdirs(parent, err, es) != 0) return -1;
    for (int i = 0; i < OUT_N_FORMATS && rc == 0; i++) {
        if (!(formats & (1u << i))) continue;
        if (batch_output_path(final[i], sizeof final[i], dir, stem, out_format_ext(i)) != 0) {
            snprintf(err, es, "output path too long for %s", stem);
            rc = -1;
            break;
        }
        snprintf(tmp[i], sizeof tmp[i], "%s.tmp.%ld", final[i], (long)getpid());
        made[i] = 1;
        rc = write_one(tmp[i], 1u << i, r, err, es);
    }
    /* every format is complete on disk: only now do they take their final names */
    for (int i = 0; i < OUT_N_FORMATS && rc == 0; i++)
        if (made[i] && rename(tmp[i], final[i]) != 0) {
            snprintf(err, es, "cannot rename %s to %s: %s", tmp[i], final[i], strerror(errno));
            rc = -1;
        } else if (made[i]) made[i] = 0;
    if (rc == 0 && fsync_dir(parent) != 0) { snprintf(err, es, "cannot sync folder %s: %s", parent, strerror(errno)); rc = -1; }
    for (int i = 0; i < OUT_N_FORMATS; i++)
        if (made[i]) unlink(tmp[i]);
    return rc;
}

int batch_failures_open(batch_failures *f, const char *path, char *err, size_t es) {
    f->path = path;
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
    if (f->fd < 0) { snprintf(err, es, "cannot create the failures file %s: %s", path, strerror(errno)); return -1; }
    return 0;
}

int batch_failures_add(batch_failures *f, const char *path, const char *id, const char *status_name, int code, const char *message) {
    if (f->fd < 0) return 0;
    char when[32];
    time_t now = time(NULL);
    struct tm tmv;
    if (!gmtime_r(&now, &tmv) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv)) when[0] = 0;
    json_t *o = json_object();
    if (!o) return -1;
    int bad = json_object_set_new(o, "path", out_json_string(path)) != 0;
    if (id) bad |= json_object_set_new(o, "id", out_json_string(id)) != 0;
    bad |= json_object_set_new(o, "status", json_string(status_name)) != 0;
    bad |= json_object_set_new(o, "code", json_integer(code)) != 0;
    bad |= json_object_set_new(o, "error", out_json_string(message)) != 0;
    bad |= json_object_set_new(o, "time", json_string(when)) != 0;
    if (bad) { json_decref(o); return -1; }
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!line) return -1;
    size_t n = strlen(line);
    line[n] = '\n'; /* the NUL goes; we write n + 1 bytes and never use it as a string again */
    int rc = 0;
    for (size_t off = 0; off < n + 1;) {
        ssize_t w = write(f->fd, line + off, n + 1 - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { rc = -1; break; }
        off += (size_t)w;
    }
    free(line);
    if (rc == 0 && fdatasync(f->fd) != 0) rc = -1;
    return rc;
}

void batch_failures_close(batch_failures *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}
