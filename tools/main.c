/* main.c - the uzwhisper command: one binary, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "uzwhisper.h"

static void usage(FILE *f) {
    fprintf(f,
            "uzwhisper %s - Whisper speech recognition for Uzbek, Russian and code-switched speech\n\n"
            "usage: uzwhisper <command> [options]\n\n"
            "commands:\n"
            "  transcribe [-m MODEL] FILE|FOLDER... [--manifest F] [-o DIR -f txt,json,srt,vtt]\n"
            "                                  transcribe files or folders (text, JSON, subtitles)\n"
            "  convert [--from hf|ct2|ggml] [--dtype f32|f16] SRC OUT.uzw\n"
            "                                  convert a HuggingFace, CTranslate2 or ggml model\n"
            "  quantize IN.uzw OUT.uzw --scheme w8a16|w8a8 [--keep PATTERNS]\n"
            "                                  INT8 weights, one scale per output row\n"
            "  bench MANIFEST... [--json OUT] [--md OUT] [--plots DIR] [--compare faster-whisper]\n"
            "                                  WER, CER, language ID, switch points and speed against references\n"
            "  serve [--tcp-port N] [--api-keys FILE] [--adapter NAME=DIR]...\n"
            "                                  live transcription for many clients over raw TCP (docs/protocol.md)\n"
            "  stream HOST:PORT FILE|- [--fast] [--connections N]\n"
            "                                  the streaming client (and load test)\n"
            "  inspect FILE [--verify]         print a weight file's header and tensor table\n"
            "  info                            print version, backends, CPU features and the default model\n\n"
            "Run 'uzwhisper <command> --help' for the options of a command.\n",
            uzw_version());
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return UZW_EXIT_USAGE; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { usage(stdout); return UZW_EXIT_OK; }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) { printf("uzwhisper %s\n", uzw_version()); return 0; }
    if (!strcmp(cmd, "transcribe")) return cmd_transcribe(argc - 1, argv + 1);
    if (!strcmp(cmd, "convert")) return cmd_convert(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "inspect")) return cmd_inspect(argc - 1, argv + 1);
    if (!strcmp(cmd, "quantize")) return cmd_quantize(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "stream")) return cmd_stream(argc - 1, argv + 1);
    cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return UZW_EXIT_USAGE;
}
