/* bench_fw.c - the faster-whisper side of `uzwhisper bench --compare faster-whisper`: write a
 * request (the model folder, the thread count, the bench's decoding options, the utterances) for
 * bench/fw_bench.py, run it with python3 ($UZWHISPER_PYTHON overrides), read back its transcripts
 * and times, and score them with the same code as ours (bench_score.c). */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"
#include "output.h"

extern char **environ;

static json_t *request_json(const bench_config *cfg, const bench_set *sets, int n_sets) {
    int bad = 0;
    json_t *o = json_object(), *utts = json_array();
    json_t *opts = bench_options_json(cfg, &bad);
    if (!o || !utts || !opts || bad) goto fail;
    /* word timings as ours had them: asked for, or turned on by code-switching */
    int words = cfg->params.word_timestamps;
    for (int k = 0; k < n_sets; k++)
        for (int i = 0; i < sets[k].m.n; i++) words |= sets[k].ours[i].has_words;
    if (json_object_set_new(opts, "word_timestamps", json_boolean(words))) goto fail;
    for (int k = 0; k < n_sets; k++)
        for (int i = 0; i < sets[k].m.n; i++) {
            json_t *u = json_object();
            if (!u || json_array_append_new(utts, u) || json_object_set_new(u, "id", out_json_string(sets[k].m.utt[i].id)) ||
                json_object_set_new(u, "audio", out_json_string(sets[k].m.utt[i].audio)))
                goto fail;
        }
    if (json_object_set_new(o, "model", json_string(cfg->fw_model)) || json_object_set_new(o, "threads", json_integer(cfg->threads)) ||
        json_object_set_new(o, "warmup", json_boolean(cfg->warmup)) || json_object_set_new(o, "quiet", json_boolean(cfg->quiet)) ||
        json_object_set_new(o, "options", opts) || json_object_set_new(o, "utterances", utts))
        goto fail_owned;
    return o;
fail:
    json_decref(opts);
    json_decref(utts);
fail_owned:
    json_decref(o);
    return NULL;
}

/* Run python3 SCRIPT REQ OUT; 0 when it exited 0. */
static int run_script(const bench_config *cfg, const char *req, const char *out, char *err, size_t err_size) {
    const char *py = getenv("UZWHISPER_PYTHON");
    if (!py || !*py) py = "python3";
    char *argv[] = {(char *)py, (char *)cfg->fw_script, (char *)req, (char *)out, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, py, NULL, NULL, argv, environ);
    if (rc != 0) {
        snprintf(err, err_size, "cannot run %s: %s", py, strerror(rc));
        return -1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, err_size, "waitpid: %s", strerror(errno));
            return -1;
        }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
        snprintf(err, err_size, "faster-whisper is not installed for %s (pip install faster-whisper)", py);
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, err_size, "%s %s failed (%s %d; its messages are above)", py, cfg->fw_script,
                 WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        return -1;
    }
    return 0;
}

static double get_num(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static int add_unit(bench_hyp *h, int *cap, const char *text, const char *lang) {
    if (h->n_units == *cap) {
        int c = *cap * 2 + 16;
        bench_unit *u = realloc(h->units, sizeof *u * (size_t)c);
        if (!u) return -1;
        h->units = u;
        *cap = c;
    }
    bench_unit *u = &h->units[h->n_units];
    if (!(u->text = strdup(text ? text : ""))) return -1;
    snprintf(u->lang, BENCH_LANG, "%s", lang ? lang : "");
    h->n_units++;
    return 0;
}

/* One utterance of OUT.json as a bench_hyp. 0, -1 out of memory. */
static int hyp_from_json(const json_t *r, bench_hyp *h) {
    memset(h, 0, sizeof *h);
    if (!json_is_true(json_object_get(r, "ok"))) {
        const char *e = json_string_value(json_object_get(r, "error"));
        h->error = strdup(e ? e : "faster-whisper failed on this utterance");
        return h->error ? 0 : -1;
    }
    const char *lang = json_string_value(json_object_get(r, "language"));
    const char *text = json_string_value(json_object_get(r, "text"));
    snprintf(h->language, BENCH_LANG, "%s", lang ? lang : "");
    if (!(h->text = strdup(text ? text : ""))) return -1;
    h->duration_s = get_num(r, "duration");
    h->total_ms = get_num(r, "total_ms");
    h->ttft_ms = get_num(r, "ttft_ms");
    h->peak_rss_mb = get_num(r, "peak_rss_mb");
    h->t.audio_ms = get_num(r, "audio_ms");
    const json_t *segs = json_object_get(r, "segments");
    size_t i;
    const json_t *seg;
    int cap = 0;
    json_array_foreach(segs, i, seg) {
        const json_t *words = json_object_get(seg, "words");
        if (json_is_array(words) && json_array_size(words) > 0) {
            size_t j;
            const json_t *w;
            h->has_words = 1;
            json_array_foreach(words, j, w) if (add_unit(h, &cap, json_string_value(json_object_get(w, "word")), lang)) return -1;
        } else if (add_unit(h, &cap, json_string_value(json_object_get(seg, "text")), lang)) {
            return -1;
        }
    }
    h->ok = 1;
    return 0;
}

int bench_run_fw(bench_config *cfg, bench_set *sets, int n_sets, const char *work_dir, char *err, size_t err_size) {
    char req[4096], out[4096];
    snprintf(req, sizeof req, "%s/fw_request.json", work_dir);
    snprintf(out, sizeof out, "%s/fw_result.json", work_dir);
    json_t *rq = request_json(cfg, sets, n_sets);
    if (!rq) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    int rc = json_dump_file(rq, req, JSON_INDENT(1));
    json_decref(rq);
    if (rc != 0) {
        snprintf(err, err_size, "cannot write %s", req);
        return -1;
    }
    if (!cfg->quiet) fprintf(stderr, "bench: running faster-whisper (%s, model %s)\n", cfg->fw_script, cfg->fw_model);
    if (run_script(cfg, req, out, err, err_size) != 0) return -1;
    json_error_t je;
    json_t *doc = json_load_file(out, 0, &je);
    if (!doc) {
        snprintf(err, err_size, "%s: %s (line %d)", out, je.text, je.line);
        return -1;
    }
    const json_t *utts = json_object_get(doc, "utterances");
    size_t total = 0;
    for (int k = 0; k < n_sets; k++) total += (size_t)sets[k].m.n;
    if (!json_is_array(utts) || json_array_size(utts) != total) {
        snprintf(err, err_size, "%s: expected %zu utterances", out, total);
        json_decref(doc);
        return -1;
    }
    const char *ver = json_string_value(json_object_get(doc, "faster_whisper_version"));
    snprintf(cfg->fw_version, sizeof cfg->fw_version, "%s", ver ? ver : "");
    cfg->fw_load_ms = get_num(doc, "load_ms");
    cfg->fw_peak_rss_mb = get_num(doc, "peak_rss_mb");
    size_t idx = 0;
    for (int k = 0; k < n_sets; k++) {
        bench_set *s = &sets[k];
        size_t n = s->m.n ? (size_t)s->m.n : 1;
        s->fw = calloc(n, sizeof *s->fw);
        s->fw_s = calloc(n, sizeof *s->fw_s);
        if (!s->fw || !s->fw_s) goto oom;
        for (int i = 0; i < s->m.n; i++, idx++) {
            bench_hyp *h = &s->fw[i];
            if (hyp_from_json(json_array_get(utts, idx), h) != 0) goto oom;
            if (h->ok && bench_score_utt(&s->m.utt[i], h, cfg->switch_tol, &s->fw_s[i]) != 0) goto oom;
        }
    }
    json_decref(doc);
    return 0;
oom:
    json_decref(doc);
    snprintf(err, err_size, "out of memory");
    return -1;
}
