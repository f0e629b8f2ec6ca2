/* peft_config.c - parse and check PEFT's LoRA adapter_config.json; the module-selection rules. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/peft_config.h"
#include "core/util.h"

#define MAX_LIST 4096
#define MAX_LAYER_INDEX 1000000

/* Compile pattern as `pre` + pattern + `post` (the pattern as a group); NULL with a message. */
static void *compile(const char *what, const char *pre, const char *pattern, const char *post, char *err, size_t es) {
    size_t n = strlen(pre) + strlen(pattern) + strlen(post) + 1;
    char *full = malloc(n);
    if (!full) { uzw_errf(err, es, "out of memory"); return NULL; }
    snprintf(full, n, "%s%s%s", pre, pattern, post);
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)full, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &code, &at, NULL);
    free(full);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        uzw_errf(err, es, "adapter_config.json: %s: the regular expression '%.200s' is invalid: %s", what, pattern, (char *)msg);
    }
    return re;
}

/* Whole-subject match. */
static int full_match(const void *re, const char *s) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern((const pcre2_code *)re, NULL);
    if (!md) return 0;
    int rc = pcre2_match((const pcre2_code *)re, (PCRE2_SPTR)s, strlen(s), 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static void list_free(uzw_peft_list *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->items[i]);
        if (l->re) pcre2_code_free((pcre2_code *)l->re[i]);
    }
    free(l->items);
    free(l->re);
    free(l->value);
    memset(l, 0, sizeof *l);
}

static int list_alloc(uzw_peft_list *l, size_t n, int with_re, int with_value, char *err, size_t es) {
    l->items = calloc(n ? n : 1, sizeof *l->items);
    l->re = with_re ? calloc(n ? n : 1, sizeof *l->re) : NULL;
    l->value = with_value ? calloc(n ? n : 1, sizeof *l->value) : NULL;
    if (!l->items || (with_re && !l->re) || (with_value && !l->value)) return uzw_errf(err, es, "out of memory");
    return 0;
}

/* A list of strings (or one string when one_ok): items copied; with pre/post each is also compiled. */
static int read_str_list(const json_t *v, const char *key, uzw_peft_list *l, const char *pre, const char *post, char *err,
                         size_t es) {
    size_t n = json_is_string(v) ? 1 : json_array_size(v);
    if (!json_is_string(v) && !json_is_array(v))
        return uzw_errf(err, es, "adapter_config.json: '%s' must be a list of strings", key);
    if (n > MAX_LIST) return uzw_errf(err, es, "adapter_config.json: '%s' has %zu entries (at most %d)", key, n, MAX_LIST);
    if (list_alloc(l, n, pre != NULL, 0, err, es) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_is_string(v) ? v : json_array_get(v, i);
        if (!json_is_string(s) || json_string_length(s) == 0 || strlen(json_string_value(s)) != json_string_length(s))
            return uzw_errf(err, es, "adapter_config.json: '%s'[%zu] must be a non-empty string", key, i);
        if (!(l->items[i] = strdup(json_string_value(s)))) return uzw_errf(err, es, "out of memory");
        l->n = (int)i + 1;
        if (pre && !(l->re[i] = compile(key, pre, l->items[i], post, err, es))) return -1;
    }
    return 0;
}

/* rank_pattern / alpha_pattern: {pattern: number}, in file order. */
static int read_pattern_map(const json_t *v, const char *key, int integer, uzw_peft_list *l, char *err, size_t es) {
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v)) return uzw_errf(err, es, "adapter_config.json: '%s' must be an object", key);
    size_t n = json_object_size(v);
    if (n > MAX_LIST) return uzw_errf(err, es, "adapter_config.json: '%s' has %zu entries (at most %d)", key, n, MAX_LIST);
    if (list_alloc(l, n, 1, 1, err, es) != 0) return -1;
    const char *k;
    json_t *val;
    int i = 0;
    json_object_foreach((json_t *)v, k, val) {
        double x = json_number_value(val);
        if (!json_is_number(val) || (integer && (!json_is_integer(val) || x < 1 || x > 65536)) || !isfinite(x))
            return uzw_errf(err, es, "adapter_config.json: %s['%.100s'] must be %s", key, k,
                            integer ? "an integer rank in 1..65536" : "a finite number");
        if (!(l->items[i] = strdup(k))) return uzw_errf(err, es, "out of memory");
        l->value[i] = x;
        l->n = i + 1;
        if (!(l->re[i] = compile(key, "(.*\\.)?(", k, ")$", err, es))) return -1;
        i++;
    }
    return 0;
}

/* Options that change what the adapter computes and that this engine does not implement: each
 * must be absent, null, false or empty. */
static const char *const refused_options[][2] = {
    {"use_dora", "DoRA (weight-decomposed LoRA)"},
    {"use_qalora", "QALoRA"},
    {"use_bdlora", "block-diagonal LoRA (BD-LoRA)"},
    {"arrow_config", "Arrow routing"},
    {"kasa_config", "KaSA"},
    {"velora_config", "VeLoRA"},
    {"monteclora_config", "MonteCLoRA"},
    {"alora_invocation_tokens", "activated LoRA (aLoRA)"},
    {"layer_replication", "layer replication"},
    {"target_parameters", "LoRA on parameters (target_parameters)"},
    {"trainable_token_indices", "trainable tokens"},
    {"megatron_config", "Megatron parallel layers"},
    {"fan_in_fan_out", "fan_in_fan_out (Conv1D-style weights; Whisper uses nn.Linear)"},
};

static int is_off(const json_t *v) {
    return !v || json_is_null(v) || json_is_false(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0) || (json_is_string(v) && json_string_length(v) == 0);
}

static int check_refused(const json_t *cfg, int *unsupported, char *err, size_t es) {
    for (size_t i = 0; i < sizeof refused_options / sizeof refused_options[0]; i++) {
        const json_t *v = json_object_get(cfg, refused_options[i][0]);
        if (!is_off(v)) {
            *unsupported = 1;
            return uzw_errf(err, es, "adapter_config.json sets '%s': %s is not supported (plain LoRA only)",
                            refused_options[i][0], refused_options[i][1]);
        }
    }
    /* initialisations that rewrite the base weights (PiSSA, OLoRA, ...) need the rewritten base */
    const json_t *init = json_object_get(cfg, "init_lora_weights");
    if (json_is_string(init) && strcmp(json_string_value(init), "gaussian") != 0) {
        *unsupported = 1;
        return uzw_errf(err, es, "adapter_config.json: init_lora_weights = '%.40s' changes the base weights at "
                        "initialisation; convert the adapter to plain LoRA first (PEFT's "
                        "path_initial_model_for_weight_conversion)", json_string_value(init));
    }
    return 0;
}

static int read_layers(const json_t *cfg, uzw_peft_config *c, char *err, size_t es) {
    const json_t *v = json_object_get(cfg, "layers_to_transform");
    if (!v || json_is_null(v)) return 0;
    size_t n = json_is_integer(v) ? 1 : json_array_size(v);
    if (!json_is_integer(v) && !json_is_array(v))
        return uzw_errf(err, es, "adapter_config.json: 'layers_to_transform' must be an integer or a list of integers");
    if (n > MAX_LIST) return uzw_errf(err, es, "adapter_config.json: 'layers_to_transform' is too long");
    c->layers = malloc(sizeof(int) * (n ? n : 1));
    if (!c->layers) return uzw_errf(err, es, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_is_integer(v) ? v : json_array_get(v, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > MAX_LAYER_INDEX)
            return uzw_errf(err, es, "adapter_config.json: layers_to_transform[%zu] must be a layer index >= 0", i);
        c->layers[i] = (int)json_integer_value(x);
    }
    c->n_layers = (int)n;
    const json_t *lp = json_object_get(cfg, "layers_pattern");
    if (!is_off(lp) && read_str_list(lp, "layers_pattern", &c->layers_pattern, "(?:^|.*?\\.)(?:", ")\\.(\\d+)\\.", err, es) != 0)
        return -1;
    return 0;
}

static int read_targets(const json_t *cfg, const char *key, void **re, uzw_peft_list *list, int *all_linear, char *err,
                        size_t es) {
    const json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v)) {
        if (all_linear && strcmp(json_string_value(v), "all-linear") == 0) {
            *all_linear = 1;
            return 0;
        }
        return (*re = compile(key, "(?:", json_string_value(v), ")", err, es)) ? 0 : -1;
    }
    return read_str_list(v, key, list, NULL, NULL, err, es);
}

int uzw_peft_config_parse(const json_t *cfg, uzw_peft_config *c, int *unsupported, char *err, size_t es) {
    memset(c, 0, sizeof *c);
    *unsupported = 0;
    const json_t *pt = json_object_get(cfg, "peft_type");
    if (!json_is_string(pt)) return uzw_errf(err, es, "adapter_config.json: 'peft_type' is missing or not a string");
    if (strcmp(json_string_value(pt), "LORA") != 0) {
        *unsupported = 1;
        return uzw_errf(err, es, "adapter_config.json: peft_type '%.40s' is not supported (LORA only)", json_string_value(pt));
    }
    if (check_refused(cfg, unsupported, err, es) != 0) return -1;

    const json_t *r = json_object_get(cfg, "r"), *alpha = json_object_get(cfg, "lora_alpha");
    c->r = r ? (int)json_integer_value(r) : 8;
    c->alpha = alpha ? json_number_value(alpha) : 8.0;
    if ((r && !json_is_integer(r)) || c->r < 1 || c->r > 65536)
        return uzw_errf(err, es, "adapter_config.json: 'r' must be an integer rank in 1..65536");
    if ((alpha && !json_is_number(alpha)) || !isfinite(c->alpha))
        return uzw_errf(err, es, "adapter_config.json: 'lora_alpha' must be a finite number");
    const json_t *rs = json_object_get(cfg, "use_rslora"), *lb = json_object_get(cfg, "lora_bias");
    if ((rs && !json_is_boolean(rs)) || (lb && !json_is_boolean(lb)))
        return uzw_errf(err, es, "adapter_config.json: 'use_rslora' and 'lora_bias' must be true or false");
    c->use_rslora = json_is_true(rs);
    c->lora_bias = json_is_true(lb);

    const json_t *bias = json_object_get(cfg, "bias");
    const char *b = json_is_string(bias) ? json_string_value(bias) : bias ? "" : "none";
    if (strcmp(b, "none") == 0) c->bias = UZW_PEFT_BIAS_NONE;
    else if (strcmp(b, "all") == 0) c->bias = UZW_PEFT_BIAS_ALL;
    else if (strcmp(b, "lora_only") == 0) c->bias = UZW_PEFT_BIAS_LORA_ONLY;
    else return uzw_errf(err, es, "adapter_config.json: 'bias' must be \"none\", \"all\" or \"lora_only\"");

    if (read_targets(cfg, "target_modules", &c->target_re, &c->targets, &c->all_linear, err, es) != 0) return -1;
    if (!c->target_re && !c->all_linear && c->targets.n == 0)
        return uzw_errf(err, es, "adapter_config.json: 'target_modules' is missing or empty");
    if (read_targets(cfg, "exclude_modules", &c->exclude_re, &c->exclude, NULL, err, es) != 0) return -1;
    const json_t *ms = json_object_get(cfg, "modules_to_save");
    if (!is_off(ms) && read_str_list(ms, "modules_to_save", &c->modules_to_save, "(?:^|.*\\.)(?:", ")(?:$|\\..*)", err, es) != 0)
        return -1;
    if (read_layers(cfg, c, err, es) != 0) return -1;
    if (read_pattern_map(json_object_get(cfg, "rank_pattern"), "rank_pattern", 1, &c->rank_pattern, err, es) != 0 ||
        read_pattern_map(json_object_get(cfg, "alpha_pattern"), "alpha_pattern", 0, &c->alpha_pattern, err, es) != 0)
        return -1;
    return 0;
}

void uzw_peft_config_free(uzw_peft_config *c) {
    if (!c) return;
    if (c->target_re) pcre2_code_free((pcre2_code *)c->target_re);
    if (c->exclude_re) pcre2_code_free((pcre2_code *)c->exclude_re);
    list_free(&c->targets);
    list_free(&c->exclude);
    list_free(&c->modules_to_save);
    list_free(&c->layers_pattern);
    list_free(&c->rank_pattern);
    list_free(&c->alpha_pattern);
    free(c->layers);
    memset(c, 0, sizeof *c);
}

/* key equals an entry or ends with "." + entry */
static int in_list(const uzw_peft_list *l, const char *key) {
    size_t kl = strlen(key);
    for (int i = 0; i < l->n; i++) {
        size_t il = strlen(l->items[i]);
        if (strcmp(key, l->items[i]) == 0) return 1;
        if (kl > il && key[kl - il - 1] == '.' && strcmp(key + kl - il, l->items[i]) == 0) return 1;
    }
    return 0;
}

/* The layer index PEFT reads from a module key: the first number after a layers_pattern segment,
 * or (no pattern) the first "<segment>.<number>." after the first dot. -1 if none. */
static int layer_index(const uzw_peft_config *c, const char *key) {
    for (int i = 0; i < c->layers_pattern.n; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern((const pcre2_code *)c->layers_pattern.re[i], NULL);
        if (!md) return -1;
        int rc = pcre2_match((const pcre2_code *)c->layers_pattern.re[i], (PCRE2_SPTR)key, strlen(key), 0, PCRE2_ANCHORED, md, NULL);
        int idx = -1;
        uint32_t g = 0; /* the index group is the pattern's last capture group */
        pcre2_pattern_info((const pcre2_code *)c->layers_pattern.re[i], PCRE2_INFO_CAPTURECOUNT, &g);
        if (rc > 0 && g > 0 && (uint32_t)rc > g) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            idx = atoi(key + ov[2 * g]);
        }
        pcre2_match_data_free(md);
        if (idx >= 0) return idx;
    }
    if (c->layers_pattern.n) return -1;
    /* r".*?\.[^.]*\.(\d+)\." : the first segment, after some dot, that is followed by a number segment */
    for (const char *p = strchr(key, '.'); p; p = strchr(p + 1, '.')) {
        const char *seg = p + 1, *dot = strchr(seg, '.');
        if (!dot) continue;
        const char *num = dot + 1;
        const char *e = num;
        while (*e >= '0' && *e <= '9') e++;
        if (e > num && *e == '.') return atoi(num);
    }
    return -1;
}

int uzw_peft_saves_module(const uzw_peft_config *c, const char *key) {
    for (int i = 0; i < c->modules_to_save.n; i++)
        if (full_match(c->modules_to_save.re[i], key)) return 1;
    return 0;
}

int uzw_peft_selects(const uzw_peft_config *c, const char *key) {
    if (c->exclude_re ? full_match(c->exclude_re, key) : in_list(&c->exclude, key)) return 0;
    if (uzw_peft_saves_module(c, key)) return 0;
    if (c->all_linear) return 1;
    if (c->target_re) return full_match(c->target_re, key);
    if (!in_list(&c->targets, key)) return 0;
    if (c->n_layers == 0) return 1;
    int idx = layer_index(c, key);
    for (int i = 0; idx >= 0 && i < c->n_layers; i++)
        if (c->layers[i] == idx) return 1;
    return 0;
}

static int pattern_value(const uzw_peft_list *l, const char *key, double *out) {
    for (int i = 0; i < l->n; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern((const pcre2_code *)l->re[i], NULL);
        if (!md) return 0;
        int rc = pcre2_match((const pcre2_code *)l->re[i], (PCRE2_SPTR)key, strlen(key), 0, PCRE2_ANCHORED, md, NULL);
        pcre2_match_data_free(md);
        if (rc >= 0) {
            *out = l->value[i];
            return 1;
        }
    }
    return 0;
}

void uzw_peft_rank_alpha(const uzw_peft_config *c, const char *key, int *r, double *alpha) {
    double v;
    *r = pattern_value(&c->rank_pattern, key, &v) ? (int)v : c->r;
    *alpha = pattern_value(&c->alpha_pattern, key, &v) ? v : c->alpha;
}
