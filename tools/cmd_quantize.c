/* cmd_quantize.c - `uzwhisper quantize`: a float .uzw file to an INT8 one (weights/quantize.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "quantize.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: uzwhisper quantize IN.uzw OUT.uzw --scheme w8a16|w8a8 [--keep PATTERNS]\n"
            "  Stores every linear-layer weight and the token embedding as INT8 with one scale per output\n"
            "  row (symmetric, per output channel); everything else is copied unchanged.\n"
            "  --scheme w8a16  INT8 weights, float activations everywhere\n"
            "           w8a8   INT8 activations (a dynamic scale per token) in the encoder and the\n"
            "                  cross-attention K/V projections; W8A16 for the decoder steps\n"
            "  --keep PATTERNS matrices kept in f16: comma-separated names, prefixes or globs,\n"
            "                  e.g. dec.tok_emb,enc.0 or '*.fc2.weight' (docs/quantization.md)\n");
}

int cmd_quantize(int argc, char **argv) {
    static const struct option opts[] = {{"scheme", required_argument, 0, 's'}, {"keep", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    uzw_quant_opts o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (!strcmp(optarg, "w8a16")) o.scheme = 1;
            else if (!strcmp(optarg, "w8a8")) o.scheme = 2;
            else { cli_error("--scheme must be w8a16 or w8a8, not '%s'", optarg); return UZW_EXIT_USAGE; }
            break;
        case 'k': o.keep = optarg; break;
        case 'h': help(stdout); return UZW_EXIT_OK;
        default: help(stderr); return UZW_EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || !o.scheme) {
        if (!o.scheme && argc - optind == 2) cli_error("--scheme is required (w8a16 or w8a8)");
        help(stderr);
        return UZW_EXIT_USAGE;
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    uzw_quant_report r;
    char err[1024] = "";
    if (uzw_quantize_file(in, out, &o, &r, err, sizeof err) != 0) {
        cli_error("%s", err);
        return strstr(err, "--keep") || strstr(err, "already int8") || strstr(err, "nothing to quantise")
                   ? UZW_EXIT_USAGE
                   : UZW_EXIT_MODEL;
    }
    printf("%s: %d matrices int8 (%s), %d kept f16, %d tensors copied; tensor data %.1f MiB -> %.1f MiB\n", out,
           r.n_quantised, o.scheme == 2 ? "w8a8" : "w8a16", r.n_kept, r.n_copied, r.bytes_in / 1048576.0,
           r.bytes_out / 1048576.0);
    printf("weight error ||w - q*s|| / ||w||: mean %.2e, worst %.2e (%s)\n", r.mean_rel_err, r.worst_rel_err,
           r.worst_name);
    return UZW_EXIT_OK;
}
