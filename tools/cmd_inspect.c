/* cmd_inspect.c - `uzwhisper inspect FILE`: the header, metadata and tensor table of a .uzw file. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "wformat.h"

static const char *type_name(uzw_meta_type t) {
    switch (t) {
    case UZW_MT_U32: return "u32";
    case UZW_MT_I32: return "i32";
    case UZW_MT_F32: return "f32";
    case UZW_MT_STR: return "str";
    case UZW_MT_I32_ARR: return "i32[]";
    case UZW_MT_F32_ARR: return "f32[]";
    case UZW_MT_BYTES_ARR: return "bytes[]";
    }
    return "?";
}

static void print_meta(const uzw_meta *m) {
    printf("  %-24s %-8s ", m->key, type_name(m->type));
    switch (m->type) {
    case UZW_MT_I32: case UZW_MT_U32: {
        int32_t v;
        memcpy(&v, m->value, 4);
        printf("%d", v);
        break;
    }
    case UZW_MT_F32: {
        float v;
        memcpy(&v, m->value, 4);
        printf("%g", v);
        break;
    }
    case UZW_MT_STR: printf("\"%.*s\"", (int)(m->value_bytes < 200 ? m->value_bytes : 200), (const char *)m->value); break;
    case UZW_MT_I32_ARR:
        printf("%u values:", m->count);
        for (uint32_t i = 0; i < m->count && i < 12; i++) printf(" %d", uzw_meta_i32_at(m, i));
        if (m->count > 12) printf(" ...");
        break;
    case UZW_MT_F32_ARR: printf("%u values", m->count); break;
    case UZW_MT_BYTES_ARR: printf("%u items, %" PRIu64 " bytes", m->count, m->value_bytes); break;
    }
    putchar('\n');
}

int inspect_adapter(const char *dir, const char *model_path); /* inspect_adapter.c */

int cmd_inspect(int argc, char **argv) {
    const char *path = NULL, *model = NULL;
    int verify = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verify")) verify = 1;
        else if ((!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: uzwhisper inspect FILE [--verify]\n  --verify  also check the CRC32 of the tensor data\n"
                   "       uzwhisper inspect ADAPTER_DIR [-m MODEL]\n  check an adapter folder against a model and list "
                   "what it changes\n");
            return UZW_EXIT_OK;
        } else if (!path) path = argv[i];
        else { cli_error("inspect takes one file"); return UZW_EXIT_USAGE; }
    }
    if (!path) { cli_error("usage: uzwhisper inspect FILE [--verify] | ADAPTER_DIR [-m MODEL]"); return UZW_EXIT_USAGE; }
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return inspect_adapter(path, model);
    uzw_wfile wf;
    char err[1024];
    if (uzw_wfile_open(path, &wf, err, sizeof err) != 0) {
        cli_error("%s: %s", path, err);
        return UZW_EXIT_MODEL;
    }
    const uzw_wheader *h = &wf.hdr;
    printf("file: %s\nformat_version: %u\nfile_bytes: %" PRIu64 "\nalignment: %u\n", path, h->version, h->file_bytes, h->align);
    printf("metadata: %u records, %" PRIu64 " bytes at %" PRIu64 " (crc32 %08x)\n", h->n_meta, h->meta_bytes, h->meta_off, h->meta_crc32);
    printf("tensors: %u, %" PRIu64 " bytes of data at %" PRIu64 " (crc32 %08x)\n", h->n_tensors, h->data_bytes, h->data_off, h->data_crc32);
    printf("\nmetadata:\n");
    for (uint32_t i = 0; i < h->n_meta; i++) print_meta(&wf.meta[i]);
    printf("\ntensors:\n  %-28s %-5s %-22s %12s %12s\n", "name", "dtype", "shape", "offset", "bytes");
    for (uint32_t i = 0; i < h->n_tensors; i++) {
        const uzw_tensor *t = &wf.tensors[i];
        char shape[64] = "[";
        for (int d = 0; d < t->n_dims; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%" PRId64, d ? ", " : "", t->dims[d]);
        strncat(shape, "]", sizeof shape - strlen(shape) - 1);
        printf("  %-28s %-5s %-22s %12" PRIu64 " %12" PRIu64 "\n", t->name, uzw_dtype_name(t->dtype), shape, t->offset, t->nbytes);
    }
    int rc = UZW_EXIT_OK;
    if (verify) {
        if (uzw_wfile_verify_data(&wf, err, sizeof err) != 0) { cli_error("%s: %s", path, err); rc = UZW_EXIT_MODEL; }
        else printf("\ndata checksum: ok\n");
    }
    uzw_wfile_close(&wf);
    return rc;
}
