/* cli_adapters.c - the --adapter / --use-adapter options of transcribe and convert. */
#include <stdio.h>
#include <string.h>

#include "cli_adapters.h"

static int valid_name(const char *s, size_t n) {
    if (n == 0 || n >= sizeof ((cli_adapters *)0)->named[0].name) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
              ch == '.'))
            return 0;
    }
    return 1;
}

int cli_adapters_arg(cli_adapters *c, const char *arg, char *err, size_t es) {
    const char *eq = strchr(arg, '=');
    if (c->n_merged + c->n_named >= CLI_MAX_ADAPTERS) {
        snprintf(err, es, "at most %d --adapter options", CLI_MAX_ADAPTERS);
        return -1;
    }
    if (eq && !memchr(arg, '/', (size_t)(eq - arg))) {
        size_t n = (size_t)(eq - arg);
        if (!valid_name(arg, n) || !eq[1]) {
            snprintf(err, es, "--adapter NAME=DIR: '%s' needs a name of letters, digits, '_', '-' or '.' and a folder", arg);
            return -1;
        }
        for (int i = 0; i < c->n_named; i++)
            if (strlen(c->named[i].name) == n && strncmp(c->named[i].name, arg, n) == 0) {
                snprintf(err, es, "--adapter: the name '%.*s' is given twice", (int)n, arg);
                return -1;
            }
        snprintf(c->named[c->n_named].name, sizeof c->named[0].name, "%.*s", (int)n, arg);
        c->named[c->n_named++].dir = eq + 1;
        return 0;
    }
    c->merged_dirs[c->n_merged++] = arg;
    return 0;
}

uzw_status cli_adapters_load(cli_adapters *c, uzw_model *model, int verbose, char *err, size_t es) {
    char msg[2048];
    for (int i = 0; i < c->n_merged; i++) {
        uzw_adapter *a = NULL;
        uzw_status st = uzw_adapter_load(model, c->merged_dirs[i], &a, msg, sizeof msg);
        if (st != UZW_OK) { snprintf(err, es, "%s", msg); return st; }
        if (uzw_adapter_get_int(a, "mergeable") == 1) {
            st = uzw_model_merge_adapter(model, a, msg, sizeof msg);
            if (verbose && st == UZW_OK)
                fprintf(stderr, "uzwhisper: merged LoRA adapter %s (%lld parameters)\n", uzw_adapter_get_str(a, "name"),
                        (long long)uzw_adapter_get_int(a, "n_params"));
            uzw_adapter_free(a);
            if (st != UZW_OK) { snprintf(err, es, "%s", msg); return st; }
        } else {
            c->always[c->n_always++] = a; /* non-linear: runs with every input */
            if (verbose)
                fprintf(stderr, "uzwhisper: bottleneck adapter %s runs with every input\n", uzw_adapter_get_str(a, "name"));
        }
    }
    for (int i = 0; i < c->n_named; i++) {
        uzw_status st = uzw_adapter_load(model, c->named[i].dir, &c->named[i].a, msg, sizeof msg);
        if (st != UZW_OK) { snprintf(err, es, "%s", msg); return st; }
        if (uzw_adapter_get_int(c->named[i].a, "unmerged_ok") != 1) {
            snprintf(err, es, "adapter %s (%s) replaces whole tensors (modules_to_save or bias \"all\"), which only merging "
                     "can do: pass it as --adapter DIR", c->named[i].name, c->named[i].dir);
            return UZW_ERR_UNSUPPORTED;
        }
    }
    if (c->use) {
        const uzw_adapter *tmp[CLI_MAX_ADAPTERS * 2];
        int n;
        if (cli_adapters_for(c, c->use, tmp, &n, err, es) != 0) return UZW_ERR_INVALID_ARG;
    }
    return UZW_OK;
}

int cli_adapters_for(const cli_adapters *c, const char *name, const uzw_adapter **out, int *n, char *err, size_t es) {
    *n = 0;
    for (int i = 0; i < c->n_always; i++) out[(*n)++] = c->always[i];
    if (!name) name = c->use;
    if (!name || !*name) return 0;
    const uzw_adapter *a = cli_adapters_named(c, name);
    if (a) {
        out[(*n)++] = a;
        return 0;
    }
    size_t o = (size_t)snprintf(err, es, "no adapter named '%s' (loaded:", name);
    for (int i = 0; i < c->n_named && o < es; i++) o += (size_t)snprintf(err + o, es - o, " %s", c->named[i].name);
    if (o < es) snprintf(err + o, es - o, "%s); give it with --adapter %s=DIR", c->n_named ? "" : " none", name);
    return -1;
}

const uzw_adapter *cli_adapters_named(const cli_adapters *c, const char *name) {
    for (int i = 0; i < c->n_named; i++)
        if (strcmp(c->named[i].name, name) == 0) return c->named[i].a;
    return NULL;
}

const char *cli_adapter_label(const cli_adapters *c, const uzw_adapter *a) {
    for (int i = 0; i < c->n_named; i++)
        if (c->named[i].a == a) return c->named[i].name;
    return uzw_adapter_get_str(a, "name");
}

void cli_adapters_free(cli_adapters *c) {
    for (int i = 0; i < c->n_named; i++) uzw_adapter_free(c->named[i].a);
    for (int i = 0; i < c->n_always; i++) uzw_adapter_free(c->always[i]);
    memset(c, 0, sizeof *c);
}
