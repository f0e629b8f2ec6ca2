/* repetition.c - finding and cutting repetition loops in a window's tokens (see repetition.h). */
#include <stdlib.h>

#include "decode/repetition.h"

#define MAX_PERIOD 32

static int min_repeats(int p) {
    int r = (12 + p - 1) / p;
    return r < 3 ? 3 : r;
}

int uzw_repetition_cut(const int32_t *tok, int n, int32_t text_end) {
    if (n <= 0) return n;
    int *pos = malloc(sizeof(int) * (size_t)n); /* index in tok of the k-th text token */
    int32_t *t = malloc(sizeof(int32_t) * (size_t)n);
    if (!pos || !t) { free(pos); free(t); return n; }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (tok[i] < text_end) { pos[m] = i; t[m++] = tok[i]; }
    int keep = n;
    /* earliest start s and period p such that t[s .. s + p*R) is one block repeated R times */
    for (int s = 0; s < m && keep == n; s++)
        for (int p = 1; p <= MAX_PERIOD && s + p * min_repeats(p) <= m; p++) {
            int need = p * (min_repeats(p) - 1), run = 0;
            while (s + p + run < m && t[s + run] == t[s + p + run] && run < need) run++;
            if (run < need) continue;
            keep = pos[s + p - 1] + 1; /* the first occurrence, in tok's indices */
            if (keep < n && tok[keep] >= text_end) keep++; /* and the timestamp closing it */
            break;
        }
    free(pos);
    free(t);
    return keep;
}
