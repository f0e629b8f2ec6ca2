/* cli_adapters.h - the adapter options of the commands (docs/adapters.md):
 *   --adapter DIR        merged: a LoRA is merged into the loaded weights, a bottleneck adapter
 *                        (non-linear) runs with every input; repeated, they stack in order
 *   --adapter NAME=DIR   resident, unmerged: loaded once, chosen per input with --use-adapter NAME
 *                        or a manifest line's "adapter": NAME (NAME: letters, digits, _ - .)
 *   --use-adapter NAME   the named adapter inputs run with unless their manifest line says otherwise */
#ifndef UZW_CLI_ADAPTERS_H
#define UZW_CLI_ADAPTERS_H

#include <stddef.h>

#include "uzwhisper.h"

#define CLI_MAX_ADAPTERS 16

typedef struct cli_adapters_s {
    const char *merged_dirs[CLI_MAX_ADAPTERS]; /* --adapter DIR, in order */
    int n_merged;
    struct {
        char name[64];
        const char *dir;
        uzw_adapter *a;
    } named[CLI_MAX_ADAPTERS];                 /* --adapter NAME=DIR */
    int n_named;
    const char *use;                           /* --use-adapter NAME, or NULL */
    uzw_adapter *always[CLI_MAX_ADAPTERS];     /* merged-mode bottleneck adapters: run with every input */
    int n_always;
} cli_adapters;

/* One --adapter argument. 0, or -1 with a message. */
int cli_adapters_arg(cli_adapters *c, const char *arg, char *err, size_t err_size);
/* Load everything against model: merge the LoRA dirs into it, keep the rest. UZW_OK or a status with a message. */
uzw_status cli_adapters_load(cli_adapters *c, uzw_model *model, int verbose, char *err, size_t err_size);
/* The adapters an input runs with: the merged-mode bottleneck ones, then the named one (name, or
 * --use-adapter when name is NULL). 0, or -1 with a message for an unknown name. */
int cli_adapters_for(const cli_adapters *c, const char *name, const uzw_adapter **out, int *n, char *err, size_t err_size);
/* The adapter given as --adapter NAME=DIR, or NULL. */
const uzw_adapter *cli_adapters_named(const cli_adapters *c, const char *name);
/* How outputs name an adapter: its NAME from --adapter NAME=DIR, else the adapter's own name. */
const char *cli_adapter_label(const cli_adapters *c, const uzw_adapter *a);
void cli_adapters_free(cli_adapters *c);

#endif
