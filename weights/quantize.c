/* quantize.c - a float .uzw file to an INT8 one (quantize.h). */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/qmat.h"
#include "quantize.h"
#include "schema.h"
#include "wformat.h"

/* Does one pattern name this tensor: exact, prefix + '.', or an fnmatch glob. */
static int pattern_matches(const char *pat, size_t plen, const char *name) {
    char p[128];
    if (plen == 0 || plen >= sizeof p) return 0;
    memcpy(p, pat, plen);
    p[plen] = 0;
    if (strpbrk(p, "*?[")) return fnmatch(p, name, 0) == 0;
    size_t n = strlen(name);
    return !strcmp(p, name) || (n > plen && !strncmp(p, name, plen) && name[plen] == '.');
}

/* Index of the first pattern in `list` matching name, or -1. */
static int keep_index(const char *list, const char *name) {
    if (!list) return -1;
    int k = 0;
    for (const char *s = list; *s; k++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (pattern_matches(s, len, name)) return k;
        s += len + (e ? 1 : 0);
    }
    return -1;
}

/* ||w - q*scale||_2 / ||w||_2 */
static double rel_error(const float *w, const int8_t *q, const float *scale, int O, int I) {
    double num = 0, den = 0;
    for (int o = 0; o < O; o++)
        for (int i = 0; i < I; i++) {
            double v = w[(size_t)o * I + i], d = v - (double)q[(size_t)o * I + i] * scale[o];
            num += d * d;
            den += v * v;
        }
    return den > 0 ? sqrt(num / den) : 0.0;
}

static int quantise_tensor(uzw_wbuild *b, const uzw_tensor *t, const float *w, uzw_quant_report *rep) {
    int O = (int)t->dims[0], I = (int)t->dims[1];
    int8_t *q = malloc((size_t)O * I);
    float *scale = malloc(sizeof(float) * (size_t)O);
    if (!q || !scale) { free(q); free(scale); return -1; }
    uzw_quantize_matrix(w, O, I, q, scale);
    double e = rel_error(w, q, scale, O, I);
    rep->mean_rel_err += e;
    if (e > rep->worst_rel_err) {
        rep->worst_rel_err = e;
        snprintf(rep->worst_name, sizeof rep->worst_name, "%s", t->name);
    }
    char sname[UZW_MAX_NAME + 8];
    snprintf(sname, sizeof sname, "%s.scale", t->name);
    int64_t sd[1] = {O};
    int rc = uzw_wbuild_tensor_raw(b, t->name, UZW_DT_I8, 2, t->dims, q, (uint64_t)O * I);
    if (rc == 0) rc = uzw_wbuild_tensor_f32(b, sname, UZW_DT_F32, 1, sd, scale);
    rep->bytes_out += (uint64_t)O * I + 4u * (uint64_t)O;
    free(q);
    free(scale);
    return rc;
}

static int put_meta(uzw_wbuild *b, const uzw_wfile *wf, const uzw_quant_opts *o, const char *kept) {
    const char *src_dtype = "f32";
    char dt[16] = "";
    for (uint32_t i = 0; i < wf->hdr.n_meta; i++) {
        const uzw_meta *m = &wf->meta[i];
        if (!strcmp(m->key, UZW_K_DTYPE)) {
            if (m->type == UZW_MT_STR) {
                size_t n = m->value_bytes < sizeof dt - 1 ? m->value_bytes : sizeof dt - 1;
                memcpy(dt, m->value, n);
                src_dtype = dt;
            }
            continue;
        }
        if (uzw_wbuild_meta_copy(b, m) != 0) return -1;
    }
    uzw_wbuild_str(b, UZW_K_DTYPE, "int8");
    uzw_wbuild_str(b, UZW_K_QUANT_SCHEME, o->scheme == 2 ? "w8a8" : "w8a16");
    uzw_wbuild_str(b, UZW_K_QUANT_KEPT, kept);
    return uzw_wbuild_str(b, UZW_K_QUANT_SOURCE, src_dtype);
}

int uzw_quantize_file(const char *in_path, const char *out_path, const uzw_quant_opts *o, uzw_quant_report *rep,
                      char *err, size_t es) {
    memset(rep, 0, sizeof *rep);
    if (o->scheme != 1 && o->scheme != 2) return uzw_errf(err, es, "unknown quantisation scheme %d", o->scheme);
    uzw_wfile wf;
    char msg[512];
    if (uzw_wfile_open(in_path, &wf, msg, sizeof msg) != 0) return uzw_errf(err, es, "%s", msg);
    int rc = -1;
    uzw_wbuild *b = uzw_wbuild_new();
    size_t largest = 0, kept_cap = 1;
    for (uint32_t i = 0; i < wf.hdr.n_tensors; i++) {
        const uzw_tensor *t = &wf.tensors[i];
        if (t->dtype == UZW_DT_I8) {
            uzw_errf(err, es, "%s: tensor '%s' is already int8; quantise the float file it came from", in_path, t->name);
            goto out;
        }
        size_t n = t->nbytes / uzw_dtype_size(t->dtype);
        largest = n > largest ? n : largest;
        kept_cap += strlen(t->name) + 1;
    }
    /* every pattern must name at least one quantisable tensor: a typo would otherwise keep nothing */
    int n_pat = 0;
    for (const char *s = o->keep; s && *s; n_pat++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        int hit = 0;
        for (uint32_t i = 0; i < wf.hdr.n_tensors && !hit; i++)
            hit = uzw_schema_quantisable(wf.tensors[i].name) && pattern_matches(s, len, wf.tensors[i].name);
        if (!hit) {
            uzw_errf(err, es, "--keep pattern '%.*s' matches no quantisable tensor (linear weights, dec.tok_emb)",
                     (int)(len < 96 ? len : 96), s);
            goto out;
        }
        s += len + (e ? 1 : 0);
    }
    float *buf = malloc(sizeof(float) * (largest ? largest : 1));
    char *kept = calloc(1, kept_cap);
    if (!b || !buf || !kept) {
        free(buf);
        free(kept);
        uzw_errf(err, es, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < wf.hdr.n_tensors; i++) {
        const uzw_tensor *t = &wf.tensors[i];
        rep->bytes_in += t->nbytes;
        int r;
        if (!uzw_schema_quantisable(t->name) || t->n_dims != 2) {
            r = uzw_wbuild_tensor_raw(b, t->name, t->dtype, t->n_dims, t->dims, t->data, t->nbytes);
            rep->bytes_out += t->nbytes;
            rep->n_copied++;
        } else if (keep_index(o->keep, t->name) >= 0) {
            r = uzw_wbuild_tensor_f32(b, t->name, UZW_DT_F16, t->n_dims, t->dims, uzw_tensor_as_f32(t, buf));
            rep->bytes_out += t->nbytes / uzw_dtype_size(t->dtype) * 2;
            rep->n_kept++;
            if (kept[0]) strcat(kept, ",");
            strcat(kept, t->name);
        } else {
            r = quantise_tensor(b, t, uzw_tensor_as_f32(t, buf), rep);
            rep->n_quantised++;
        }
        if (r != 0) break;
    }
    if (rep->n_quantised) rep->mean_rel_err /= rep->n_quantised;
    free(buf);
    if (rep->n_quantised == 0) {
        uzw_errf(err, es, "%s: every quantisable tensor is kept; nothing to quantise", in_path);
        free(kept);
        goto out;
    }
    put_meta(b, &wf, o, kept);
    free(kept);
    rc = uzw_wbuild_write(b, out_path, msg, sizeof msg); /* reports the builder's first error, if any */
    if (rc != 0) uzw_errf(err, es, "%s", msg);
out:
    uzw_wbuild_free(b);
    uzw_wfile_close(&wf);
    return rc;
}
