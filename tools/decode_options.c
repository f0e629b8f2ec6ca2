/* decode_options.c - parsing the decoding options of `uzwhisper transcribe`. */
#include "decode_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_BEAM = DECODE_OPT_FIRST, O_BEST_OF, O_PATIENCE, O_LENGTH_PENALTY, O_TEMPERATURE, O_NO_TS, O_CR, O_LOGPROB,
       O_NO_SPEECH, O_SEED, O_WORDS, O_VAD, O_NO_CUT, O_LANGUAGES, O_NO_CS, O_UZ_SCRIPT, O_DEVICE };

const struct option decode_options[DECODE_OPT_COUNT] = {
    {"beam-size", required_argument, 0, O_BEAM},
    {"best-of", required_argument, 0, O_BEST_OF},
    {"patience", required_argument, 0, O_PATIENCE},
    {"length-penalty", required_argument, 0, O_LENGTH_PENALTY},
    {"temperature", required_argument, 0, O_TEMPERATURE},
    {"without-timestamps", no_argument, 0, O_NO_TS},
    {"compression-ratio-threshold", required_argument, 0, O_CR},
    {"logprob-threshold", required_argument, 0, O_LOGPROB},
    {"no-speech-threshold", required_argument, 0, O_NO_SPEECH},
    {"seed", required_argument, 0, O_SEED},
    {"word-timestamps", no_argument, 0, O_WORDS},
    {"vad", no_argument, 0, O_VAD},
    {"keep-repetitions", no_argument, 0, O_NO_CUT},
    {"languages", required_argument, 0, O_LANGUAGES},
    {"no-code-switch", no_argument, 0, O_NO_CS},
    {"uz-script", required_argument, 0, O_UZ_SCRIPT},
    {"device", required_argument, 0, O_DEVICE},
};

void decode_product_defaults(uzw_params *p) {
    p->languages = DECODE_DEFAULT_LANGUAGES;
    p->code_switch = 1;
    p->uz_script = UZW_UZ_SCRIPT_LATIN;
}

void decode_options_help(FILE *f) {
    fprintf(f,
            "decoding (defaults as faster-whisper's transcribe()):\n"
            "      --beam-size N       beam search width at temperature 0 (default 5; 1 = greedy)\n"
            "      --best-of N         samples per window at temperature > 0 (default 5)\n"
            "      --patience F        beam search: stop after round(N*F) finished candidates (default 1)\n"
            "      --length-penalty F  rank candidates by logprob / length^F (default 1)\n"
            "      --temperature LIST  fallback schedule, e.g. 0 or 0,0.2,0.4 (default 0,0.2,0.4,0.6,0.8,1)\n"
            "      --without-timestamps  no timestamp tokens: one segment per 30 s window\n"
            "      --compression-ratio-threshold F  decode again hotter above this gzip ratio (default 2.4)\n"
            "      --logprob-threshold F   ... or below this average log-probability (default -1)\n"
            "      --no-speech-threshold F skip a window as silence above this no-speech probability (0.6)\n"
            "      --seed N            sampling seed (same input and seed, same output)\n"
            "      --vad               transcribe only what the voice-activity detector marks as speech\n"
            "      --keep-repetitions  keep a repetition loop the fallback could not avoid (default: cut it)\n"
            "      --word-timestamps   word start/end times and probabilities (cross-attention + DTW);\n"
            "                          also moves each next window to the end of the last word\n"
            "code-switching (docs/codeswitch.md):\n"
            "      --languages LIST    allowed languages, comma-separated (default " DECODE_DEFAULT_LANGUAGES "; 'any': all);\n"
            "                          with two or more and no --language, every segment and word is\n"
            "                          labelled and switch points are found (implies --word-timestamps)\n"
            "      --no-code-switch    one language per window, picked from --languages\n"
            "      --uz-script S       script of Uzbek text: latin (default), cyrillic or as-decoded\n"
            "device:\n"
            "      --device DEV        cpu (default), cuda or cuda:N: run the model on that GPU (fp16, or the INT8 kernels\n"
            "                          for a quantised model)\n");
}

int decode_option(int c, const char *arg, uzw_params *p, decode_store *store) {
    double v;
    switch (c) {
    case O_BEAM:
        if (cli_parse_double(arg, 1, 64, &v) || v != (int)v) { cli_error("bad --beam-size '%s' (1 to 64)", arg); return -1; }
        p->beam_size = (int)v;
        return 1;
    case O_BEST_OF:
        if (cli_parse_double(arg, 1, 64, &v) || v != (int)v) { cli_error("bad --best-of '%s' (1 to 64)", arg); return -1; }
        p->best_of = (int)v;
        return 1;
    case O_PATIENCE:
        if (cli_parse_double(arg, 0.01, 8, &v)) { cli_error("bad --patience '%s' (0.01 to 8)", arg); return -1; }
        p->patience = (float)v;
        return 1;
    case O_LENGTH_PENALTY:
        if (cli_parse_double(arg, 0, 4, &v)) { cli_error("bad --length-penalty '%s' (0 to 4)", arg); return -1; }
        p->length_penalty = (float)v;
        return 1;
    case O_TEMPERATURE: {
        int n = 0;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", arg);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (n == DECODE_MAX_TEMPS || cli_parse_double(t, 0, 10, &v)) { cli_error("bad --temperature '%s' (up to %d values, 0 to 10)", arg, DECODE_MAX_TEMPS); return -1; }
            store->temps[n++] = (float)v;
        }
        if (!n) { cli_error("--temperature needs at least one value"); return -1; }
        p->temperatures = store->temps;
        p->n_temperatures = n;
        return 1;
    }
    case O_NO_TS: p->without_timestamps = 1; return 1;
    case O_WORDS: p->word_timestamps = 1; return 1;
    case O_VAD: p->vad_filter = 1; return 1;
    case O_NO_CUT: p->cut_repetitions = 0; return 1;
    case O_NO_CS: p->code_switch = 0; return 1;
    case O_LANGUAGES:
        if (!strcmp(arg, "any") || !strcmp(arg, "all")) { p->languages = NULL; return 1; }
        if (!*arg || strlen(arg) >= sizeof store->languages) { cli_error("bad --languages '%s' (e.g. uz,ru or any)", arg); return -1; }
        snprintf(store->languages, sizeof store->languages, "%s", arg);
        p->languages = store->languages;
        return 1;
    case O_DEVICE: {
        int idx;
        char tail;
        if (strcmp(arg, "cpu") && strcmp(arg, "cuda") && (sscanf(arg, "cuda:%d%c", &idx, &tail) != 1 || idx < 0)) {
            cli_error("bad --device '%s' (cpu, cuda or cuda:N)", arg);
            return -1;
        }
        snprintf(store->device, sizeof store->device, "%s", arg);
        return 1;
    }
    case O_UZ_SCRIPT:
        if (!strcmp(arg, "latin")) p->uz_script = UZW_UZ_SCRIPT_LATIN;
        else if (!strcmp(arg, "cyrillic")) p->uz_script = UZW_UZ_SCRIPT_CYRILLIC;
        else if (!strcmp(arg, "as-decoded")) p->uz_script = UZW_UZ_SCRIPT_AS_DECODED;
        else { cli_error("bad --uz-script '%s' (latin, cyrillic or as-decoded)", arg); return -1; }
        return 1;
    case O_CR:
        if (cli_parse_double(arg, 0, 1e9, &v)) { cli_error("bad --compression-ratio-threshold '%s'", arg); return -1; }
        p->compression_ratio_threshold = (float)v;
        return 1;
    case O_LOGPROB:
        if (cli_parse_double(arg, -1e9, 0, &v)) { cli_error("bad --logprob-threshold '%s'", arg); return -1; }
        p->logprob_threshold = (float)v;
        return 1;
    case O_NO_SPEECH:
        if (cli_parse_double(arg, 0, 2, &v)) { cli_error("bad --no-speech-threshold '%s'", arg); return -1; }
        p->no_speech_threshold = (float)v;
        return 1;
    case O_SEED:
        if (cli_parse_double(arg, 0, 1.8e19, &v)) { cli_error("bad --seed '%s'", arg); return -1; }
        p->seed = (uint64_t)v;
        return 1;
    }
    return 0;
}
