/*
 * bench_tokenizer.c - time the tokenizer's phases: .tiktoken load, merge derivation, table build,
 * encode (10 KB of mixed Uzbek/Russian/English text) and decode. Best of N after a warm-up.
 *   bench_tokenizer ../shared/data/whisper-assets/multilingual.tiktoken [reps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer/tiktoken_file.h"
#include "core/util.h" /* uzw_now_s */
#include "tokenizer/tokenizer.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.tiktoken [reps]\n", argv[0]);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 200;
    if (reps < 1) reps = 1;
    char err[256] = "";
    uzw_tiktoken tk;
    double t0 = uzw_now_s();
    if (uzw_tiktoken_load(argv[1], &tk, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t_load = uzw_now_s() - t0;
    int32_t *merges = NULL;
    int n_merges = 0;
    t0 = uzw_now_s();
    if (uzw_tokenizer_derive_merges(tk.n, tk.tok, tk.len, &merges, &n_merges, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        uzw_tiktoken_free(&tk);
        return 1;
    }
    double t_derive = uzw_now_s() - t0;
    uzw_tokenizer *t = NULL;
    t0 = uzw_now_s();
    if (uzw_tokenizer_new(tk.n, tk.tok, tk.len, merges, n_merges, &t, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        free(merges);
        uzw_tiktoken_free(&tk);
        return 1;
    }
    double t_build = uzw_now_s() - t0;

    static const char *parts[] = {"O\u2018zbekiston Respublikasi \u2014 Markaziy Osiyodagi davlat. ",
                                  "\u041f\u043e\u0433\u043e\u0434\u0430 \u0441\u0435\u0433\u043e\u0434\u043d\u044f "
                                  "\u0445\u043e\u0440\u043e\u0448\u0430\u044f, 25\u00b0C. ",
                                  "The quick brown fox jumps over 13 lazy dogs!\n", "  g'alaba, ma\u2019no;  "};
    char text[10240 + 256];
    size_t len = 0;
    for (int i = 0; len < 10240; i++) {
        size_t k = strlen(parts[i % 4]);
        memcpy(text + len, parts[i % 4], k);
        len += k;
    }
    static int32_t ids[16384];
    int n = 0;
    double best_enc = 1e9, best_dec = 1e9;
    for (int r = 0; r < reps + 5; r++) { /* the first 5 are warm-up */
        t0 = uzw_now_s();
        n = uzw_tokenizer_encode(t, text, len, ids, 16384);
        double dt = uzw_now_s() - t0;
        if (r >= 5 && dt < best_enc) best_enc = dt;
        t0 = uzw_now_s();
        char *s = uzw_tokenizer_decode(t, ids, n);
        dt = uzw_now_s() - t0;
        if (r >= 5 && dt < best_dec) best_dec = dt;
        free(s);
    }
    printf("load %.1f ms | derive %d merges %.1f ms | build tables+regex %.1f ms\n", t_load * 1e3, n_merges,
           t_derive * 1e3, t_build * 1e3);
    printf("encode %zu bytes -> %d ids: %.3f ms (%.1f MB/s) | decode %.4f ms (best of %d)\n", len, n, best_enc * 1e3,
           len / best_enc / 1e6, best_dec * 1e3, reps);
    uzw_tokenizer_free(t);
    free(merges);
    uzw_tiktoken_free(&tk);
    return 0;
}
