/* cmd_convert.c - `uzwhisper convert`: HuggingFace / CTranslate2 / ggml checkpoints to a .uzw file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "import.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: uzwhisper convert [--from hf|ct2|ggml|auto] [--dtype f32|f16|bf16] [--adapter DIR]... SRC OUT.uzw\n"
            "  SRC is a HuggingFace Whisper directory (config.json + model.safetensors or a sharded index,\n"
            "  tokenizer files), a CTranslate2/faster-whisper directory (model.bin, config.json,\n"
            "  vocabulary.json/.txt) or a whisper.cpp ggml .bin file. Default dtype: f32 (used in place by\n"
            "  the CPU engine); f16 halves the file and is widened to f32 at load.\n"
            "  --adapter DIR merges a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors)\n"
            "  into the weights before they are written; repeat to stack (docs/adapters.md).\n");
}

static int is_file(const char *dir, const char *name) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *detect_format(const char *src) {
    struct stat st;
    if (stat(src, &st) != 0) return NULL;
    if (S_ISDIR(st.st_mode)) {
        if (is_file(src, "model.safetensors") || is_file(src, "model.safetensors.index.json")) return "hf";
        if (is_file(src, "model.bin")) return "ct2";
        return NULL;
    }
    FILE *f = fopen(src, "rb");
    if (!f) return NULL;
    unsigned char m[4] = {0};
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    if (n == 4 && m[0] == 0x6c && m[1] == 0x6d && m[2] == 0x67 && m[3] == 0x67) return "ggml";
    return NULL;
}

int cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {{"from", required_argument, 0, 'f'}, {"dtype", required_argument, 0, 'd'},
                                         {"adapter", required_argument, 0, 'a'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *from = "auto";
    uzw_dtype dtype = UZW_DT_F32;
    const char *adapters[16];
    int n_adapters = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 'd':
            if (uzw_dtype_parse(optarg, &dtype) != 0 || dtype == UZW_DT_I8) {
                cli_error("--dtype must be f32, f16 or bf16, not '%s' (int8 comes with `uzwhisper quantize`)", optarg);
                return UZW_EXIT_USAGE;
            }
            break;
        case 'a':
            if (n_adapters == 16) { cli_error("at most 16 --adapter options"); return UZW_EXIT_USAGE; }
            adapters[n_adapters++] = optarg;
            break;
        case 'h': help(stdout); return UZW_EXIT_OK;
        default: help(stderr); return UZW_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) { help(stderr); return UZW_EXIT_USAGE; }
    const char *src = argv[optind], *out = argv[optind + 1];
    if (!strcmp(from, "auto")) {
        from = detect_format(src);
        if (!from) {
            cli_error("cannot tell the format of '%s' (no model.safetensors, model.bin or ggml magic); use --from", src);
            return UZW_EXIT_INPUT;
        }
    }
    uzw_import im;
    uzw_import_init(&im);
    char err[1024] = "";
    int rc;
    if (!strcmp(from, "hf")) rc = uzw_import_hf(src, &im, err, sizeof err);
    else if (!strcmp(from, "ct2")) rc = uzw_import_ct2(src, &im, err, sizeof err);
    else if (!strcmp(from, "ggml")) rc = uzw_import_ggml(src, &im, err, sizeof err);
    else { cli_error("--from must be hf, ct2, ggml or auto, not '%s'", from); uzw_import_free(&im); return UZW_EXIT_USAGE; }
    if (rc != 0) {
        cli_error("cannot read %s model '%s': %s", from, src, err);
        uzw_import_free(&im);
        return UZW_EXIT_INPUT;
    }
    for (int i = 0; i < n_adapters; i++) {
        int st = uzw_import_merge_adapter(&im, adapters[i], err, sizeof err);
        if (st != 0) {
            cli_error("cannot merge adapter: %s (%s)", err, uzw_status_string((uzw_status)st));
            uzw_import_free(&im);
            return st == UZW_ERR_IO ? UZW_EXIT_INPUT : UZW_EXIT_MODEL;
        }
        fprintf(stderr, "uzwhisper: merged adapter %s\n", adapters[i]);
    }
    rc = uzw_import_write(&im, out, dtype, err, sizeof err);
    uzw_import_free(&im);
    if (rc != 0) {
        cli_error("cannot write '%s': %s", out, err);
        return UZW_EXIT_INTERNAL;
    }
    fprintf(stderr, "uzwhisper: wrote %s (%s, from %s)\n", out, uzw_dtype_name(dtype), from);
    return UZW_EXIT_OK;
}
