/* bench_targets.c - the accuracy targets the product promises, checked on each set:
 *   wer_uz < 0.25 (WER over the utterances whose language is uz), wer_mixed < 0.30 (over the
 *   "mixed" ones), cer < 0.15, lid > 0.85 (per-utterance language identification), switch_f1 > 0.80;
 * and, off unless set with --target: wer, wer_ru, pier, lid_word. A value of NAN (no utterance of
 * that kind in the set) is "no data", never "met". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void bench_targets_default(bench_targets *t) {
    static const bench_target defaults[BENCH_N_TARGETS] = {
        {"wer_uz", "WER, Uzbek utterances", 0, 0.25, 1},
        {"wer_mixed", "WER, code-switched utterances", 0, 0.30, 1},
        {"cer", "CER, all utterances", 0, 0.15, 1},
        {"lid", "LID accuracy per utterance", 1, 0.85, 1},
        {"switch_f1", "switch-point F1", 1, 0.80, 1},
        {"wer", "WER, all utterances", 0, 0.25, 0},
        {"wer_ru", "WER, Russian utterances", 0, 0.25, 0},
        {"pier", "PIER (errors on switched-in words)", 0, 0.30, 0},
        {"lid_word", "LID accuracy per word", 1, 0.85, 0},
        {"rtf", "real-time factor", 0, 1.0, 0},
    };
    memcpy(t->t, defaults, sizeof defaults);
}

int bench_target_parse(bench_targets *t, const char *arg, char *err, size_t err_size) {
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : 0;
    bench_target *k = NULL;
    for (int i = 0; eq && i < BENCH_N_TARGETS; i++)
        if (strlen(t->t[i].name) == len && !strncmp(arg, t->t[i].name, len)) k = &t->t[i];
    if (!k) {
        char names[256] = "";
        for (int i = 0; i < BENCH_N_TARGETS; i++) {
            strncat(names, t->t[i].name, sizeof names - strlen(names) - 1);
            if (i + 1 < BENCH_N_TARGETS) strncat(names, ", ", sizeof names - strlen(names) - 1);
        }
        snprintf(err, err_size, "bad --target '%s': want NAME=VALUE with NAME one of %s", arg, names);
        return -1;
    }
    const char *v = eq + 1;
    if (!strcmp(v, "off")) {
        k->active = 0;
        return 0;
    }
    char *end;
    double x = strtod(v, &end);
    int percent = *end == '%';
    if (percent) {
        x /= 100.0;
        end++;
    }
    if (!*v || *end || !isfinite(x) || x < 0 || (x > 1 && strcmp(k->name, "rtf") != 0)) {
        snprintf(err, err_size,
                 "bad --target '%s': the value must be a fraction such as 0.25, a percentage such as 25%%, or off", arg);
        return -1;
    }
    k->target = x;
    k->active = 1;
    return 0;
}

double bench_target_value(const bench_target *t, const bench_summary *s) {
    const char *n = t->name;
    if (!strcmp(n, "wer_uz")) return bench_wer_of_utt_lang(s, "uz");
    if (!strcmp(n, "wer_ru")) return bench_wer_of_utt_lang(s, "ru");
    if (!strcmp(n, "wer_mixed")) return bench_wer_of_utt_lang(s, "mixed");
    if (!strcmp(n, "wer")) return bench_rate(&s->wer);
    if (!strcmp(n, "cer")) return bench_rate(&s->cer);
    if (!strcmp(n, "lid")) return bench_lid_utt(s);
    if (!strcmp(n, "lid_word")) return bench_lid_word(s);
    if (!strcmp(n, "pier")) return bench_pier(s);
    if (!strcmp(n, "rtf")) return bench_rtf(s);
    if (!strcmp(n, "switch_f1")) {
        double p, r, f1;
        bench_switch_prf(s, &p, &r, &f1);
        return f1;
    }
    return NAN;
}

int bench_target_met(const bench_target *t, double value) {
    if (!isfinite(value)) return -1;
    return t->higher_is_better ? value > t->target : value < t->target;
}
