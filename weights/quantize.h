/*
 * quantize.h - a float .uzw file to an INT8 one (`uzwhisper quantize`, docs/quantization.md).
 *
 * Every quantisable matrix (uzw_schema_quantisable) becomes int8 with one f32 scale per output row
 * (`X` + `X.scale`, the rule of engine/model/qmat.h), unless a --keep pattern names it: kept
 * matrices are stored as f16. Every other tensor and every metadata record is copied unchanged,
 * except `model.dtype` ("int8") and the new `quant.scheme`, `quant.kept`, `quant.source`.
 */
#ifndef UZW_QUANTIZE_H
#define UZW_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int scheme;          /* 1: w8a16, 2: w8a8 (UZW_QUANT_* of model.h) */
    const char *keep;    /* comma-separated patterns: a tensor name, a prefix ("enc.0"), or an fnmatch
                            glob ("*.fc2.weight"); each must match a quantisable tensor. NULL: none */
} uzw_quant_opts;

typedef struct {
    int n_quantised, n_kept, n_copied;
    uint64_t bytes_in, bytes_out;   /* tensor data */
    double worst_rel_err;           /* ||w - q*scale|| / ||w|| of the worst matrix */
    char worst_name[96];
    double mean_rel_err;            /* over the quantised matrices */
} uzw_quant_report;

/* 0, or -1 with a message (unreadable or already int8 input, unknown scheme, a pattern that
 * matches nothing, a failed write: no output file is left behind). */
int uzw_quantize_file(const char *in_path, const char *out_path, const uzw_quant_opts *opts, uzw_quant_report *rep,
                      char *err, size_t err_size);

#endif
