/* cli_common.c - default model lookup and error printing for the subcommands. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#ifndef UZW_DEFAULT_MODEL_DIR
#define UZW_DEFAULT_MODEL_DIR "models"
#endif

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("uzwhisper: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int cli_default_model(char *out, size_t n) {
    char cand[4][PATH_MAX];
    int k = 0;
    const char *env = getenv("UZWHISPER_MODEL");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return exists(out);
    }
    char exe[PATH_MAX - 32];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(cand[k++], PATH_MAX, "%s/../models/default.uzw", exe);
        }
    }
    snprintf(cand[k++], PATH_MAX, "%s/default.uzw", UZW_DEFAULT_MODEL_DIR);
    const char *home = getenv("HOME");
    if (home) snprintf(cand[k++], PATH_MAX, "%s/.local/share/uzwhisper/default.uzw", home);
    for (int i = 0; i < k; i++)
        if (exists(cand[i])) {
            char *r = realpath(cand[i], NULL);
            snprintf(out, n, "%s", r ? r : cand[i]);
            free(r);
            return 1;
        }
    snprintf(out, n, "%s", k > 1 ? cand[1] : cand[0]);
    return 0;
}

void cli_log_to_stderr(uzw_log_level level, const char *msg, void *user) {
    int verbose = user ? *(int *)user : 0;
    if (level <= UZW_LOG_WARN || verbose) fprintf(stderr, "uzwhisper: %s\n", msg);
}

int cli_parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}
