/* batch_pool.c - the worker threads. Each owns one uzw_context over the shared model, takes the
 * next input in list order, transcribes it, and writes its outputs (files: temp + rename; stdout:
 * kept until every earlier input has been printed). A failing input is recorded and the worker
 * goes on; only a failed output write (disk full), running out of memory, or a bad --language
 * (the same for every file) stops the hand-out of new inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_pool.h"
#include "cli_adapters.h"
#include "cli.h"

static const char *status_name(uzw_status st) {
    switch (st) {
    case UZW_ERR_INVALID_ARG: return "invalid_argument";
    case UZW_ERR_IO: return "io";
    case UZW_ERR_AUDIO: return "audio";
    case UZW_ERR_NO_MEMORY: return "no_memory";
    case UZW_ERR_UNSUPPORTED: return "unsupported";
    case UZW_ERR_LANGUAGE: return "language";
    case UZW_ERR_INTERNAL: return "internal";
    default: return "error";
    }
}

void batch_flush_stdout(batch_pool *P, int all) {
    size_t n = P->items->n;
    for (; P->next_print < n; P->next_print++) {
        size_t i = P->next_print;
        if (!P->finished[i]) {
            if (!all) break;
            continue;
        }
        if (P->out_text[i]) {
            fputs(P->out_text[i], stdout);
            free(P->out_text[i]);
            P->out_text[i] = NULL;
        }
    }
    fflush(stdout);
}

/* What stdout gets for one transcript (malloc'ed), NULL when out of memory. */
static char *render_stdout(const batch_pool *P, const out_result *r) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    int rc = 0;
    if (P->cfg->as_json) rc = out_write_json(f, r, 1);
    else {
        if (P->items->n > 1) fprintf(f, "# %s\n", r->file);
        if (r->mark_switches) rc = out_write_txt(f, r);
        else {
            fputs(r->text ? r->text : "", f);
            fputc('\n', f);
        }
    }
    if (fclose(f) != 0 || rc != 0) { free(buf); return NULL; }
    return buf;
}

typedef struct {
    int ok;
    uzw_status st;
    const char *status;  /* for the failures file */
    char msg[2048];
    double audio_s;
    char *text;          /* stdout mode */
} item_result;

static void transcribe_one(batch_pool *P, uzw_context *ctx, size_t i, item_result *res) {
    const batch_config *cfg = P->cfg;
    const batch_item *it = &P->items->v[i];
    uzw_params p = P->params;
    if (it->language) p.language = it->language;
    memset(res, 0, sizeof *res);
    const uzw_adapter *ads[2 * CLI_MAX_ADAPTERS];
    if (cfg->adapters && cli_adapters_for(cfg->adapters, it->adapter, ads, &p.n_adapters, res->msg, sizeof res->msg) != 0) {
        res->st = UZW_ERR_INVALID_ARG; /* checked before the run; kept for library users of batch_run */
        res->status = status_name(res->st);
        return;
    }
    p.adapters = ads;
    res->st = uzw_transcribe_file(ctx, it->path, &p);
    if (res->st != UZW_OK) {
        const char *e = uzw_last_error(ctx);
        if (strstr(e, it->path)) snprintf(res->msg, sizeof res->msg, "%s (%s)", e, uzw_status_string(res->st));
        else snprintf(res->msg, sizeof res->msg, "%s: %s (%s)", it->path, e, uzw_status_string(res->st));
        res->status = status_name(res->st);
        return;
    }
    out_result r;
    const char *id = it->id ? it->id : (cfg->output_dir ? it->stem : NULL);
    if (out_result_from_ctx(&r, ctx, it->path, id, cfg->model_path) != 0) {
        res->st = UZW_ERR_NO_MEMORY;
        res->status = status_name(res->st);
        snprintf(res->msg, sizeof res->msg, "%s: out of memory while collecting the transcript", it->path);
        return;
    }
    res->audio_s = r.duration;
    r.mark_switches = cfg->mark_switches;
    char names[1024];
    size_t o = (size_t)snprintf(names, sizeof names, "%s", uzw_model_get_str(P->model, "adapters_merged"));
    for (int k = 0; k < p.n_adapters && o < sizeof names; k++)
        o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", o ? "," : "", cli_adapter_label(cfg->adapters, ads[k]));
    r.adapters = names;
    if (cfg->output_dir) {
        char err[1800];
        if (batch_write_outputs(cfg->output_dir, it->stem, P->todo[i], &r, err, sizeof err) != 0) {
            res->st = UZW_ERR_IO;
            res->status = "write";
            snprintf(res->msg, sizeof res->msg, "%s: %s", it->path, err);
        } else res->ok = 1;
    } else {
        res->text = render_stdout(P, &r);
        if (!res->text) {
            res->st = UZW_ERR_NO_MEMORY;
            res->status = status_name(res->st);
            snprintf(res->msg, sizeof res->msg, "%s: out of memory while formatting the transcript", it->path);
        } else res->ok = 1;
    }
    out_result_free(&r);
}

/* Record the outcome of item i (mu held). */
static void record(batch_pool *P, size_t i, item_result *res, double wall_s) {
    const batch_config *cfg = P->cfg;
    const batch_item *it = &P->items->v[i];
    batch_summary *sum = P->sum;
    if (res->ok) {
        sum->done++;
        sum->audio_s += res->audio_s;
    } else {
        sum->failed++;
        if (batch_failures_add(&P->fails, it->path, it->id, res->status, (int)res->st, res->msg) != 0) {
            batch_progress_note(&P->prog, "uzwhisper: error: cannot append to %s\n", P->fails.path);
            sum->internal_error = 1;
        }
        int fatal = res->st == UZW_ERR_NO_MEMORY || res->st == UZW_ERR_INTERNAL || !strcmp(res->status, "write");
        int every_file = res->st == UZW_ERR_LANGUAGE && !it->language;
        if (fatal) sum->internal_error = 1;
        if (!strcmp(res->status, "write") || every_file) {
            atomic_store(&P->stop, 1);
            if (!P->stop_reason_noted++)
                batch_progress_note(&P->prog, "uzwhisper: %s: no new files are started\n",
                                    every_file ? "the language is wrong for every file" : "outputs cannot be written");
        }
    }
    if (cfg->output_dir) batch_progress_file(&P->prog, it->path, res->ok, res->audio_s, wall_s, res->ok ? NULL : res->msg);
    else {
        if (!res->ok) cli_error("%s", res->msg);
        P->out_text[i] = res->text;
        res->text = NULL;
        P->finished[i] = 1;
        batch_flush_stdout(P, 0);
    }
}

void *batch_worker(void *arg) {
    batch_pool *P = arg;
    uzw_context *ctx = NULL;
    uzw_status st = uzw_context_create(P->model, &ctx);
    if (st != UZW_OK) {
        pthread_mutex_lock(&P->mu);
        P->sum->internal_error = 1;
        batch_progress_note(&P->prog, "uzwhisper: error: cannot create a decoding context: %s\n", uzw_status_string(st));
        pthread_mutex_unlock(&P->mu);
        atomic_fetch_sub(&P->workers_left, 1);
        return NULL;
    }
    if (P->cfg->device && *P->cfg->device && uzw_context_set_device(ctx, P->cfg->device) != UZW_OK) {
        pthread_mutex_lock(&P->mu);
        P->sum->internal_error = 1;
        batch_progress_note(&P->prog, "uzwhisper: error: %s\n", uzw_last_error(ctx));
        pthread_mutex_unlock(&P->mu);
        uzw_context_free(ctx);
        atomic_fetch_sub(&P->workers_left, 1);
        return NULL;
    }
    for (;;) {
        if (atomic_load(&P->stop)) break;
        pthread_mutex_lock(&P->mu);
        size_t n = P->items->n;
        while (P->next < n && !P->todo[P->next]) P->next++;
        size_t i = P->next < n ? P->next++ : n;
        if (i < n) P->taken++;
        pthread_mutex_unlock(&P->mu);
        if (i >= n) break;
        item_result res;
        double t0 = batch_now();
        transcribe_one(P, ctx, i, &res);
        double wall = batch_now() - t0;
        pthread_mutex_lock(&P->mu);
        record(P, i, &res, wall);
        pthread_mutex_unlock(&P->mu);
        free(res.text);
    }
    uzw_context_free(ctx);
    atomic_fetch_sub(&P->workers_left, 1);
    return NULL;
}
