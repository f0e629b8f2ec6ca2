/* decode_options.h - the decoding options of `uzwhisper transcribe` (search, timestamps, fallback). */
#ifndef UZW_DECODE_OPTIONS_H
#define UZW_DECODE_OPTIONS_H

#include <getopt.h>
#include <stdio.h>

#include "uzwhisper.h"

#define DECODE_OPT_FIRST 512
#define DECODE_OPT_COUNT 17
#define DECODE_DEFAULT_LANGUAGES "uz,ru"
#define DECODE_MAX_TEMPS 16

/* getopt_long entries for the decoding options (codes DECODE_OPT_FIRST + i). */
extern const struct option decode_options[DECODE_OPT_COUNT];

/* Storage the parsed options point into (the temperature schedule). */
typedef struct {
    float temps[DECODE_MAX_TEMPS];
    char languages[512];
    char device[32];          /* --device: "cpu" (also when empty), "cuda", "cuda:N" */
} decode_store;

/* The product's defaults on top of uzw_default_params(): allowed languages uz,ru,
 * code-switch detection on, Uzbek written in Latin. */
void decode_product_defaults(uzw_params *p);

/* Handle option code c with argument arg: 1 handled, 0 not a decoding option, -1 bad value
 * (message printed). */
int decode_option(int c, const char *arg, uzw_params *p, decode_store *store);
void decode_options_help(FILE *f);

#endif
