/*
 * peft_config.h - PEFT's LoRA adapter_config.json (whisper-facts §8.2): parsed, checked, and the
 * rules that say which modules it selects and with which rank and alpha, as PEFT applies them
 * (tuners_utils.check_target_module_exists, utils.other.get_pattern_key). Regexes are PCRE2,
 * which agrees with Python's re on the patterns adapters use.
 */
#ifndef UZW_PEFT_CONFIG_H
#define UZW_PEFT_CONFIG_H

#include <stddef.h>

enum { UZW_PEFT_BIAS_NONE, UZW_PEFT_BIAS_ALL, UZW_PEFT_BIAS_LORA_ONLY };

typedef struct {
    char **items;   /* owned strings */
    void **re;      /* compiled patterns (pcre2_code *), for pattern lists */
    double *value;  /* rank/alpha patterns: the value of each key */
    int n;
} uzw_peft_list;

typedef struct {
    int r;
    double alpha;
    int use_rslora;
    int bias;                       /* UZW_PEFT_BIAS_* */
    int lora_bias;
    int all_linear;                 /* target_modules = "all-linear" */
    void *target_re;                /* target_modules as a regex (full match), or NULL */
    uzw_peft_list targets;          /* target_modules as a list */
    void *exclude_re;
    uzw_peft_list exclude;
    uzw_peft_list modules_to_save;  /* re: (^|.*\.)m($|\..*) */
    int *layers;                    /* layers_to_transform, n_layers (0: all) */
    int n_layers;
    uzw_peft_list layers_pattern;
    uzw_peft_list rank_pattern;     /* re: (.*\.)?(key)$ */
    uzw_peft_list alpha_pattern;
} uzw_peft_config;

/* Parse a LoRA adapter_config.json object. Returns 0, or -1 with a message; unsupported is set to
 * 1 when the config is valid but asks for something this engine does not do (DoRA, ...). */
struct json_t;
int uzw_peft_config_parse(const struct json_t *cfg, uzw_peft_config *c, int *unsupported, char *err, size_t err_size);
void uzw_peft_config_free(uzw_peft_config *c);

/* Does the config put a LoRA on module `key` (a module path of the HF model, e.g.
 * "model.decoder.layers.3.encoder_attn.q_proj")? 1 or 0. */
int uzw_peft_selects(const uzw_peft_config *c, const char *key);
/* Is module `key` one of modules_to_save (or inside one)? 1 or 0. */
int uzw_peft_saves_module(const uzw_peft_config *c, const char *key);
/* Rank and alpha of module `key` after rank_pattern / alpha_pattern. */
void uzw_peft_rank_alpha(const uzw_peft_config *c, const char *key, int *r, double *alpha);

#endif
