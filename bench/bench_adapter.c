/* bench_adapter.c - what unmerged adapters cost at decode time, against the same model without
 * them, in one run (docs/performance.md "Adapters"):
 *   build/bench_adapter [MODEL.uzw] [--rank R] [--threads T] [--reps N] [--tokens K]
 * Writes random PEFT LoRA adapters of rank R on every linear layer (q, k, v, out, fc1, fc2 of the
 * encoder, the decoder's self- and cross-attention) and one AdapterHub-style bottleneck adapter
 * (width D/16 after every MLP) at the model's shapes into a temporary folder, loads them, then
 * times the encoder per 30 s window and the decoder per token (greedy steps after a 4-token
 * prompt, median over reps) for: no adapter, 1 resident and active, 4 resident with 1 active,
 * 4 stacked and active, the LoRA merged into the weights, and the bottleneck adapter. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "model/forward.h"
#include "bench_time.h"
#include "model/ops.h"


static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float urand(float scale) { /* uniform in [-scale, scale) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return scale * (2.0f * (float)((rng >> 40) * (1.0 / 16777216.0)) - 1.0f);
}

/* ---------------------------------------------------------------- writing adapters */
typedef struct {
    FILE *hdr;           /* header JSON being built (a memstream) */
    char *hbuf;
    size_t hlen;
    float *data;
    size_t n, cap;
    int first;
} st_writer;

static void st_begin(st_writer *w) {
    memset(w, 0, sizeof *w);
    w->hdr = open_memstream(&w->hbuf, &w->hlen);
    fputc('{', w->hdr);
    w->first = 1;
}

static void st_add(st_writer *w, const char *name, int rows, int cols, float scale) {
    size_t n = (size_t)rows * (cols ? cols : 1);
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2;
        w->data = realloc(w->data, sizeof(float) * w->cap);
        if (!w->data) { fprintf(stderr, "out of memory\n"); exit(1); }
    }
    for (size_t i = 0; i < n; i++) w->data[w->n + i] = urand(scale);
    if (cols) fprintf(w->hdr, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}", w->first ? "" : ",",
                      name, rows, cols, 4 * w->n, 4 * (w->n + n));
    else fprintf(w->hdr, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}", w->first ? "" : ",", name,
                 rows, 4 * w->n, 4 * (w->n + n));
    w->first = 0;
    w->n += n;
}

static void st_end(st_writer *w, const char *path) {
    fputc('}', w->hdr);
    fclose(w->hdr);
    FILE *f = fopen(path, "wb");
    uint64_t hl = w->hlen;
    if (!f || fwrite(&hl, 8, 1, f) != 1 || fwrite(w->hbuf, 1, w->hlen, f) != w->hlen ||
        fwrite(w->data, sizeof(float), w->n, f) != w->n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
    free(w->hbuf);
    free(w->data);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
    fclose(f);
}

static void write_lora(const char *dir, const uzw_dims *d, int r) {
    static const char *const mods[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                                       "encoder_attn.q_proj", "encoder_attn.k_proj", "encoder_attn.v_proj",
                                       "encoder_attn.out_proj", "fc1", "fc2"};
    char path[700], name[256], cfg[512];
    mkdir(dir, 0755);
    snprintf(cfg, sizeof cfg, "{\"peft_type\": \"LORA\", \"r\": %d, \"lora_alpha\": %d, \"target_modules\": [\"q_proj\", "
             "\"k_proj\", \"v_proj\", \"out_proj\", \"fc1\", \"fc2\"], \"bias\": \"none\"}\n", r, 2 * r);
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    write_text(path, cfg);
    st_writer w;
    st_begin(&w);
    int D = d->n_text_state, F = 4 * D;
    for (int side = 0; side < 2; side++)
        for (int l = 0; l < (side ? d->n_text_layer : d->n_audio_layer); l++)
            for (int k = 0; k < 10; k++) {
                if (!side && k >= 4 && k < 8) continue; /* the encoder has no cross-attention */
                int in = k == 9 ? F : D, out = k == 8 ? F : D;
                snprintf(name, sizeof name, "base_model.model.model.%s.layers.%d.%s.lora_A.weight", side ? "decoder" : "encoder",
                         l, mods[k]);
                st_add(&w, name, r, in, 1.0f / sqrtf((float)in));
                snprintf(name, sizeof name, "base_model.model.model.%s.layers.%d.%s.lora_B.weight", side ? "decoder" : "encoder",
                         l, mods[k]);
                st_add(&w, name, out, r, 0.01f);
            }
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    st_end(&w, path);
}

static void write_bottleneck(const char *dir, const uzw_dims *d) {
    char path[700], name[256], cfg[512];
    int D = d->n_text_state, w16 = D / 16;
    mkdir(dir, 0755);
    snprintf(cfg, sizeof cfg, "{\"config\": {\"architecture\": \"bottleneck\", \"mh_adapter\": false, \"output_adapter\": true, "
             "\"reduction_factor\": 16, \"non_linearity\": \"relu\", \"original_ln_before\": true}, \"hidden_size\": %d, "
             "\"model_type\": \"whisper\", \"name\": \"bn\"}\n", D);
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    write_text(path, cfg);
    st_writer w;
    st_begin(&w);
    for (int side = 0; side < 2; side++)
        for (int l = 0; l < (side ? d->n_text_layer : d->n_audio_layer); l++) {
            const char *s = side ? "decoder" : "encoder";
            snprintf(name, sizeof name, "model.%s.layers.%d.output_adapters.adapters.bn.adapter_down.0.weight", s, l);
            st_add(&w, name, w16, D, 1.0f / sqrtf((float)D));
            snprintf(name, sizeof name, "model.%s.layers.%d.output_adapters.adapters.bn.adapter_down.0.bias", s, l);
            st_add(&w, name, w16, 0, 0.01f);
            snprintf(name, sizeof name, "model.%s.layers.%d.output_adapters.adapters.bn.adapter_up.weight", s, l);
            st_add(&w, name, D, w16, 0.01f);
            snprintf(name, sizeof name, "model.%s.layers.%d.output_adapters.adapters.bn.adapter_up.bias", s, l);
            st_add(&w, name, D, 0, 0.01f);
        }
    snprintf(path, sizeof path, "%s/adapter.safetensors", dir);
    st_end(&w, path);
}

/* ---------------------------------------------------------------- timing */
/* One case: its own forward state, adapters, and the times of each window. rotate: window r runs
 * with ads[r % n] alone (requests taking turns among resident adapters). */
typedef struct {
    const char *what;
    const uzw_model *m;
    const uzw_adapter *const *a;
    int n, rotate;
    uzw_fwd_state st;
    double enc[32], tok[32];
} bench_case;

static void case_init(bench_case *c) {
    char err[256];
    if (uzw_fwd_init(&c->st, c->m, 1, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); exit(1); }
    for (int i = 0; i < c->n; i++) c->st.adapters[i] = c->a[i];
    c->st.n_adapters = c->n;
    size_t M = (size_t)c->m->dims.n_mels * 2 * c->m->dims.n_audio_ctx;
    for (size_t i = 0; i < M; i++) c->st.mel_win[i] = urand(1.0f);
}

/* Window r of a case: encoder time, and the median decoder step over `tokens` greedy-sized steps. */
static void case_window(bench_case *c, int r, int tokens) {
    const uzw_model *m = c->m;
    uzw_fwd_state *st = &c->st;
    if (c->rotate) st->adapters[0] = c->a[r % c->n], st->n_adapters = 1;
    const int32_t prompt[4] = {m->sp.sot, m->sp.first_lang, m->sp.transcribe, m->sp.no_timestamps};
    double t0 = bench_now_ms();
    uzw_encode(m, st);
    c->enc[r] = bench_now_ms() - t0;
    uzw_decoder_begin(m, st);
    uzw_decoder_step(m, st, prompt, 4);
    double steps[256];
    for (int k = 0; k < tokens; k++) {
        int32_t t = 220 + k; /* a fixed token stream: the cost does not depend on the ids */
        double s0 = bench_now_ms();
        uzw_decoder_step(m, st, &t, 1);
        steps[k] = bench_now_ms() - s0;
    }
    uzw_sort_f64(steps, (size_t)tokens);
    c->tok[r] = steps[tokens / 2] * 1e3;
}

int main(int argc, char **argv) {
    const char *path = "models/default.uzw";
    int rank = 16, threads = 2, reps = 5, tokens = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rank") && i + 1 < argc) rank = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) tokens = atoi(argv[++i]);
        else if (argv[i][0] != '-') path = argv[i];
        else { fprintf(stderr, "usage: bench_adapter [MODEL.uzw] [--rank R] [--threads T] [--reps N] [--tokens K]\n"); return 2; }
    }
    if (rank < 1 || reps < 1 || reps > 32 || tokens < 1 || tokens > 200) { fprintf(stderr, "bad --rank/--reps/--tokens\n"); return 2; }
    uzw_ops_set_threads(threads);
    char err[2048];
    uzw_model *m = NULL, *mm = NULL;
    if (uzw_model_load(path, NULL, &m, err, sizeof err) != UZW_OK || uzw_model_load(path, NULL, &mm, err, sizeof err) != UZW_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char dir[] = "/tmp/uzw-bench-adapter-XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    uzw_adapter *lora[4], *bn;
    for (int i = 0; i < 4; i++) {
        char sub[600];
        snprintf(sub, sizeof sub, "%s/lora%d", dir, i);
        write_lora(sub, &m->dims, rank);
        if (uzw_adapter_load(m, sub, &lora[i], err, sizeof err) != UZW_OK) { fprintf(stderr, "%s\n", err); return 1; }
    }
    char sub[600];
    snprintf(sub, sizeof sub, "%s/bn", dir);
    write_bottleneck(sub, &m->dims);
    if (uzw_adapter_load(m, sub, &bn, err, sizeof err) != UZW_OK) { fprintf(stderr, "%s\n", err); return 1; }
    int can_merge = uzw_model_merge_adapter(mm, lora[0], err, sizeof err) == UZW_OK; /* not into int8 */

    const uzw_adapter *one[1] = {lora[0]}, *four[4] = {lora[0], lora[1], lora[2], lora[3]}, *bns[1] = {bn};
    printf("model %s (%s, %d+%d layers, D %d), LoRA rank %d on every linear layer (%lld parameters each, %.1f MiB), "
           "bottleneck width %d; %d threads, median of %d windows x %d tokens\n\n",
           path, m->type, m->dims.n_audio_layer, m->dims.n_text_layer, m->dims.n_text_state, rank,
           (long long)uzw_adapter_get_int(lora[0], "n_params"), uzw_adapter_get_int(lora[0], "n_params") * 4.0 / (1 << 20),
           m->dims.n_text_state / 16, threads, reps, tokens);
    static bench_case cases[6];
    const bench_case init[6] = {
        {.what = "no adapter", .m = m, .a = NULL, .n = 0, .rotate = 0},
        {.what = "1 LoRA resident, active", .m = m, .a = one, .n = 1, .rotate = 0},
        {.what = "4 LoRA resident, each window another one", .m = m, .a = four, .n = 4, .rotate = 1},
        {.what = "4 LoRA stacked, all active", .m = m, .a = four, .n = 4, .rotate = 0},
        {.what = "1 LoRA merged into the weights", .m = mm, .a = NULL, .n = 0, .rotate = 0},
        {.what = "1 bottleneck (D/16, after each MLP)", .m = m, .a = bns, .n = 1, .rotate = 0},
    };
    int nc = 0;
    for (int i = 0; i < 6; i++)
        if (init[i].m != mm || can_merge) cases[nc] = init[i], case_init(&cases[nc++]);
    /* windows of all cases interleaved, so drift in the machine's speed hits every case alike */
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < nc; i++) case_window(&cases[i], r, tokens);
    printf("| case | encoder ms / 30 s window | vs none | decoder us / token | vs none |\n|---|---:|---:|---:|---:|\n");
    double e0 = bench_median(cases[0].enc, reps), t0 = bench_median(cases[0].tok, reps);
    for (int i = 0; i < nc; i++) {
        double e = bench_median(cases[i].enc, reps), t = bench_median(cases[i].tok, reps);
        printf("| %s | %.1f | %.3f | %.0f | %.3f |\n", cases[i].what, e, e / e0, t, t / t0);
        uzw_fwd_free(&cases[i].st);
    }
    for (int i = 0; i < 4; i++) uzw_adapter_free(lora[i]);
    uzw_adapter_free(bn);
    uzw_model_free(m);
    uzw_model_free(mm);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
