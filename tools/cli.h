/* cli.h - shared pieces of the uzwhisper subcommands. */
#ifndef UZW_CLI_H
#define UZW_CLI_H

#include <stddef.h>

#include "uzwhisper.h"

/* Exit codes every subcommand uses (documented in README.md). */
enum {
    UZW_EXIT_OK = 0,
    UZW_EXIT_USAGE = 1,   /* bad command line                                  */
    UZW_EXIT_MODEL = 2,   /* model missing, corrupt or of a wrong version       */
    UZW_EXIT_INPUT = 3,   /* at least one input file could not be processed     */
    UZW_EXIT_INTERNAL = 4 /* out of memory, failed write, or an internal error  */
};

int cmd_transcribe(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_stream(int argc, char **argv);

/* The default model: $UZWHISPER_MODEL, else <exe dir>/../models/default.uzw, else the source
 * tree's models/default.uzw, else ~/.local/share/uzwhisper/default.uzw. Writes the first
 * candidate that exists (or the first candidate if none does) into out; returns 1 if it exists. */
int cli_default_model(char *out, size_t out_size);

/* The engine's log callback for the commands: warnings and errors always, the rest when *(int *)user
 * (the --verbose flag) is set. */
void cli_log_to_stderr(uzw_log_level level, const char *msg, void *user);
/* A whole decimal integer in [lo, hi] into *out: 0, or -1 (out untouched). */
int cli_parse_int(const char *s, int lo, int hi, int *out);
/* A whole decimal number in [lo, hi] (NaN never is) into *out: 0, or -1 (out untouched). */
int cli_parse_double(const char *s, double lo, double hi, double *out);

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
