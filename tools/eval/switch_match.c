/* switch_match.c - language switch-point matching of the bench harness: predicted switches are
 * matched one-to-one to reference switches of the same direction within +-tol seconds, closest
 * candidate pairs first; then precision, recall and F1 (docs/metrics.md). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rounding slack on the tolerance, so that a distance of exactly tol in decimal still matches. */
#define UZE_SWITCH_EPS 1e-9

typedef struct {
    double dist;
    int r, h;
} cand;

static int cmp_cand(const void *x, const void *y) {
    const cand *a = x, *b = y;
    if (a->dist != b->dist) return a->dist < b->dist ? -1 : 1;
    if (a->r != b->r) return a->r < b->r ? -1 : 1;
    return (a->h > b->h) - (a->h < b->h);
}

static int same_direction(const uze_switch_point *a, const uze_switch_point *b) {
    return a->from && a->to && b->from && b->to && strcmp(a->from, b->from) == 0 && strcmp(a->to, b->to) == 0;
}

int uze_match_switches(const uze_switch_point *ref, int nr, const uze_switch_point *hyp, int nh, double tol,
                       uze_switch_counts *out, int *ref_match) {
    out->tp = out->fp = out->fn = 0;
    /* every candidate pair: same direction, within the tolerance */
    size_t n = 0, cap = 16;
    cand *c = malloc(cap * sizeof *c);
    int *rm = malloc(((size_t)nr + 1) * sizeof *rm), *hm = malloc(((size_t)nh + 1) * sizeof *hm);
    if (!c || !rm || !hm) goto oom;
    for (int i = 0; i < nr; i++) {
        for (int j = 0; j < nh; j++) {
            double d = fabs(ref[i].time - hyp[j].time);
            if (!(d <= tol + UZE_SWITCH_EPS) || !same_direction(&ref[i], &hyp[j])) continue;
            if (n == cap) {
                cand *g = realloc(c, 2 * cap * sizeof *c);
                if (!g) goto oom;
                c = g, cap *= 2;
            }
            c[n++] = (cand){d, i, j};
        }
    }
    qsort(c, n, sizeof *c, cmp_cand);
    /* closest first; a reference or a prediction is used once */
    for (int i = 0; i < nr; i++) rm[i] = -1;
    for (int j = 0; j < nh; j++) hm[j] = -1;
    for (size_t k = 0; k < n; k++) {
        if (rm[c[k].r] >= 0 || hm[c[k].h] >= 0) continue;
        rm[c[k].r] = c[k].h;
        hm[c[k].h] = c[k].r;
        out->tp++;
    }
    out->fn = nr - out->tp;
    out->fp = nh - out->tp;
    if (ref_match) memcpy(ref_match, rm, (size_t)nr * sizeof *rm);
    free(c);
    free(rm);
    free(hm);
    return 0;
oom:
    free(c);
    free(rm);
    free(hm);
    return -1;
}

void uze_switch_prf(const uze_switch_counts *c, double *precision, double *recall, double *f1) {
    /* nothing predicted: precision is 1 when there was also nothing to find, else undefined (0) */
    double p = c->tp + c->fp > 0 ? (double)c->tp / (double)(c->tp + c->fp) : c->fn == 0 ? 1.0 : 0.0;
    double r = c->tp + c->fn > 0 ? (double)c->tp / (double)(c->tp + c->fn) : c->fp == 0 ? 1.0 : 0.0;
    if (precision) *precision = p;
    if (recall) *recall = r;
    if (f1) *f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}
