/* bench_plots.c - the PNG plots of `uzwhisper bench`, drawn by gnuplot (fed through popen):
 *   wer_by_language.png  WER per utterance language and overall, uzwhisper (and faster-whisper),
 *                        the targets as dashed lines
 *   latency_cdf.png      the distribution of per-utterance latency and time to first token
 *   rtf_vs_length.png    real-time factor against audio length, one point per utterance
 *   phases.png           where uzwhisper's time goes, per phase, summed over all utterances
 * The script, data inline, is piped to gnuplot and kept as DIR/bench_plots.gp (run `gnuplot DIR/bench_plots.gp` to
 * redraw). Terminal: pngcairo when gnuplot has it, else png. No gnuplot: a warning, no plots.
 * $UZWHISPER_GNUPLOT names another gnuplot binary. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bench.h"

static const char *gnuplot_bin(void) {
    const char *g = getenv("UZWHISPER_GNUPLOT");
    return g && *g ? g : "gnuplot";
}

static int have_gnuplot(void) {
    char cmd[PATH_MAX + 64]; /* the name is single-quoted for the shell (one holding a quote is refused) */
    snprintf(cmd, sizeof cmd, "'%s' --version >/dev/null 2>&1", gnuplot_bin());
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* text safe inside a gnuplot double-quoted string */
static void gp_str(char *dst, size_t n, const char *src) {
    size_t o = 0;
    for (; *src && o + 1 < n; src++) dst[o++] = (*src == '"' || *src == '\\' || *src == '\n') ? '_' : *src;
    dst[o] = 0;
}

static void val(FILE *f, double v, double scale) {
    if (isfinite(v)) fprintf(f, " %.6g", v * scale);
    else fprintf(f, " n/a");
}

static void terminal(FILE *f, const char *dir, const char *name) {
    fprintf(f, "\nreset\nset datafile missing \"n/a\"\n"
               "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) { set terminal pngcairo size 960,600 noenhanced "
               "font \"sans,11\" } else { set terminal png size 960,600 noenhanced }\n"
               "set output \"%s/%s\"\nset grid ytics lc rgb \"#dddddd\"\nset key top left\n",
            dir, name);
}

static const bench_target *find_target(const bench_config *cfg, const char *name) {
    for (int i = 0; i < BENCH_N_TARGETS; i++)
        if (cfg->targets.t[i].active && !strcmp(cfg->targets.t[i].name, name)) return &cfg->targets.t[i];
    return NULL;
}

static void plot_wer(FILE *f, const char *dir, const bench_config *cfg, const bench_summary *all, const bench_summary *fw) {
    terminal(f, dir, "wer_by_language.png");
    fprintf(f, "$wer << EOD\n");
    for (int l = 0; l <= all->n_by_utt; l++) {
        const char *lang = l < all->n_by_utt ? all->by_utt[l].lang : "all";
        double o = l < all->n_by_utt ? bench_rate(&all->by_utt[l].c) : bench_rate(&all->wer);
        double t = NAN;
        if (fw) t = l < all->n_by_utt ? bench_wer_of_utt_lang(fw, lang) : bench_rate(&fw->wer);
        fprintf(f, "%s", lang);
        val(f, o, 100);
        val(f, t, 100);
        fprintf(f, "\n");
    }
    fprintf(f, "EOD\n");
    /* targets as dashed lines over their bars (x of category l is l) */
    for (int l = 0; l <= all->n_by_utt; l++) {
        const char *lang = l < all->n_by_utt ? all->by_utt[l].lang : "all";
        char name[32];
        snprintf(name, sizeof name, "wer_%s", l < all->n_by_utt ? lang : "");
        if (l == all->n_by_utt) snprintf(name, sizeof name, "wer");
        const bench_target *t = find_target(cfg, name);
        if (t)
            fprintf(f, "set arrow from %d-0.45, first %g to %d+0.45, first %g nohead dt 2 lw 2 lc rgb \"#d62728\" front\n", l,
                    100 * t->target, l, 100 * t->target);
    }
    /* boxes at explicit x (category l at x = l, the two systems side by side) so the targets line up */
    const char *ours_x = fw ? "($0-0.2)" : "($0)", *width = fw ? "0.4" : "0.6";
    fprintf(f, "set title \"WER per utterance language (after normalisation; dashed red: target)\"\n"
               "set xlabel \"utterance language (reference)\"\nset ylabel \"WER (%%)\"\nset yrange [0:*]\n"
               "set offsets 0.6, 0.6, graph 0.1, 0\nset style fill solid 0.85 border -1\nset xtics scale 0\n"
               "plot $wer using %s:2:(%s):xtic(1) with boxes lc rgb \"#1f77b4\" title \"uzwhisper\", "
               "'' using %s:2:(sprintf(\"%%.1f\", $2)) with labels offset 0,0.7 notitle",
            ours_x, width, ours_x);
    if (fw)
        fprintf(f, ", '' using ($0+0.2):3:(0.4) with boxes lc rgb \"#ff7f0e\" title \"faster-whisper\", "
                   "'' using ($0+0.2):3:(sprintf(\"%%.1f\", $3)) with labels offset 0,0.7 notitle");
    fprintf(f, "\n");
}

/* the empirical distribution of sorted values as a step curve */
static void cdf_block(FILE *f, const char *name, const double *v, int n) {
    fprintf(f, "$%s << EOD\n", name);
    if (n > 0) fprintf(f, "%.6g 0\n", v[0]);
    for (int i = 0; i < n; i++) fprintf(f, "%.6g %.6g\n", v[i], (double)(i + 1) / n);
    if (n == 0) fprintf(f, "n/a n/a\n");
    fprintf(f, "EOD\n");
}

/* labelled 1-2-5 tics over [lo, hi] on a log axis ("x" or "y"); gnuplot alone labels only decades */
static void log_tics(FILE *f, const char *axis, double lo, double hi) {
    static const int steps[3] = {1, 2, 5};
    fprintf(f, "set %stics (", axis);
    int first = 1;
    for (int e = (int)floor(log10(lo)) - 1; e <= (int)ceil(log10(hi)); e++)
        for (int k = 0; k < 3; k++) {
            double v = steps[k] * pow(10.0, e);
            if (v < lo || v > hi) continue;
            fprintf(f, "%s\"%g\" %g", first ? "" : ", ", v, v);
            first = 0;
        }
    fprintf(f, ")\n");
}

/* the smallest and largest positive value of sorted v[n] */
static void span(const double *v, int n, double *lo, double *hi) {
    for (int i = 0; i < n; i++)
        if (v[i] > 0) {
            if (v[i] < *lo) *lo = v[i];
            if (v[i] > *hi) *hi = v[i];
        }
}

static void plot_latency(FILE *f, const char *dir, const bench_summary *all, const bench_summary *fw) {
    terminal(f, dir, "latency_cdf.png");
    cdf_block(f, "lat", all->latency, all->n_times);
    cdf_block(f, "ttft", all->ttft, all->n_times);
    double lo = INFINITY, hi = 0;
    span(all->latency, all->n_times, &lo, &hi);
    span(all->ttft, all->n_times, &lo, &hi);
    if (fw) {
        cdf_block(f, "fwlat", fw->latency, fw->n_times);
        cdf_block(f, "fwttft", fw->ttft, fw->n_times);
        span(fw->latency, fw->n_times, &lo, &hi);
        span(fw->ttft, fw->n_times, &lo, &hi);
    }
    /* times that spread over more than 20x read better on a log axis */
    int logx = hi > 0 && hi / lo > 20;
    if (logx) {
        fprintf(f, "set logscale x\nset xrange [%g:%g]\nset xlabel \"milliseconds (log scale)\"\n", lo / 1.5, hi * 1.5);
        log_tics(f, "x", lo / 1.5, hi * 1.5);
    } else fprintf(f, "set xrange [0:*]\nset xlabel \"milliseconds\"\nset offsets 0, graph 0.05, 0, 0\n");
    fprintf(f, "set title \"Latency distribution over %d utterances\"\n"
               "set ylabel \"fraction of utterances done within x\"\nset yrange [0:1.05]\nset key bottom right\n"
               "plot $lat using 1:2 with steps lw 2 lc rgb \"#1f77b4\" title \"uzwhisper: whole utterance\", "
               "$ttft using 1:2 with steps lw 2 dt 2 lc rgb \"#1f77b4\" title \"uzwhisper: first token\"",
            all->n_times);
    if (fw)
        fprintf(f, ", $fwlat using 1:2 with steps lw 2 lc rgb \"#ff7f0e\" title \"faster-whisper: whole utterance\", "
                   "$fwttft using 1:2 with steps lw 2 dt 2 lc rgb \"#ff7f0e\" title \"faster-whisper: first segment\"");
    fprintf(f, "\n");
}

/* one point per utterance that ran; *xmax, *ymax grow to the largest length and RTF */
static void rtf_block(FILE *f, const char *name, const bench_set *sets, int n_sets, int theirs, double *xmax, double *ymin,
                      double *ymax) {
    fprintf(f, "$%s << EOD\n", name);
    int any = 0;
    for (int k = 0; k < n_sets; k++) {
        const bench_hyp *h = theirs ? sets[k].fw : sets[k].ours;
        for (int i = 0; h && i < sets[k].m.n; i++)
            if (h[i].ok && h[i].duration_s > 0) {
                double rtf = h[i].total_ms / 1e3 / h[i].duration_s;
                fprintf(f, "%.6g %.6g\n", h[i].duration_s, rtf);
                if (h[i].duration_s > *xmax) *xmax = h[i].duration_s;
                if (rtf > *ymax) *ymax = rtf;
                if (rtf > 0 && rtf < *ymin) *ymin = rtf;
                any = 1;
            }
    }
    if (!any) fprintf(f, "n/a n/a\n");
    fprintf(f, "EOD\n");
}

static void plot_rtf(FILE *f, const char *dir, const bench_set *sets, int n_sets, int fw) {
    terminal(f, dir, "rtf_vs_length.png");
    double xmax = 1, ymin = 1, ymax = 1; /* the real-time line always shows */
    rtf_block(f, "rtf", sets, n_sets, 0, &xmax, &ymin, &ymax);
    if (fw) rtf_block(f, "fwrtf", sets, n_sets, 1, &xmax, &ymin, &ymax);
    if (ymax / ymin > 20) { /* RTFs that spread over more than 20x: a log axis */
        fprintf(f, "set logscale y\nset yrange [%g:%g]\nset ylabel \"RTF = processing time / audio time (log scale)\"\n",
                ymin / 1.5, ymax * 1.5);
        log_tics(f, "y", ymin / 1.5, ymax * 1.5);
    } else fprintf(f, "set yrange [0:%g]\nset ylabel \"RTF = processing time / audio time\"\n", ymax * 1.2);
    fprintf(f, "set title \"Real-time factor against audio length (below 1: faster than real time)\"\n"
               "set xlabel \"audio length (s)\"\nset xrange [0:%g]\nset key top right\n"
               "plot $rtf using 1:2 with points pt 7 ps 1.5 lc rgb \"#1f77b4\" title \"uzwhisper\"%s, "
               "1 with lines dt 2 lc rgb \"#888888\" title \"real time (RTF 1)\"\n",
            xmax * 1.1, fw ? ", $fwrtf using 1:2 with points pt 5 ps 1.5 lc rgb \"#ff7f0e\" title \"faster-whisper\"" : "");
}

static void plot_phases(FILE *f, const char *dir, const bench_summary *all) {
    terminal(f, dir, "phases.png");
    fprintf(f, "$ph << EOD\n\"audio decode\" %.6g\nmel %.6g\nencoder %.6g\n\"language ID\" %.6g\ndecoder %.6g\n"
               "detokenize %.6g\ncode-switch %.6g\nEOD\n",
            all->ph_audio, all->ph_mel, all->ph_encoder, all->ph_language, all->ph_decoder, all->ph_detok, all->ph_codeswitch);
    fprintf(f, "set title \"uzwhisper: time per phase, summed over %d utterances (%.1f s of audio)\"\n"
               "set xlabel \"phase\"\nset ylabel \"milliseconds\"\nset yrange [0:*]\nset offsets 0.5, 0.5, graph 0.1, 0\n"
               "set style fill solid 0.85 border -1\nset xtics scale 0\nset key off\n"
               "plot $ph using 0:2:(0.6):xtic(1) with boxes lc rgb \"#1f77b4\", "
               "'' using 0:2:(sprintf(\"%%.0f\", $2)) with labels offset 0,0.7\n",
            all->n_times, all->audio_s);
}

int bench_write_plots(const char *dir, const bench_config *cfg, const bench_set *sets, int n_sets,
                      const bench_summary *all, const bench_summary *fw_all, char *err, size_t err_size) {
    if (strchr(gnuplot_bin(), '\'') || !have_gnuplot()) {
        fprintf(stderr, "uzwhisper: warning: bench: gnuplot not found (%s); no plots drawn (install gnuplot, "
                        "e.g. apt-get install gnuplot-nox)\n", gnuplot_bin());
        return 1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "cannot create the plot folder %s: %s", dir, strerror(errno));
        return -1;
    }
    char absdir[PATH_MAX], safe[PATH_MAX], script[PATH_MAX + 32];
    if (!realpath(dir, absdir)) {
        snprintf(err, err_size, "cannot resolve the plot folder %s: %s", dir, strerror(errno));
        return -1;
    }
    gp_str(safe, sizeof safe, absdir);
    snprintf(script, sizeof script, "%s/bench_plots.gp", absdir);
    /* the script in memory, then to the kept file and to gnuplot's stdin */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    fprintf(f, "# bench_plots.gp - written by `uzwhisper bench`; redraw with: gnuplot %s\n", script);
    plot_wer(f, safe, cfg, all, fw_all);
    plot_latency(f, safe, all, fw_all);
    plot_rtf(f, safe, sets, n_sets, fw_all != NULL);
    plot_phases(f, safe, all);
    fprintf(f, "unset output\n");
    if (fclose(f) != 0 || !text) {
        free(text);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    FILE *sf = fopen(script, "w");
    int bad = !sf || fwrite(text, 1, len, sf) != len;
    if (sf && fclose(sf) != 0) bad = 1;
    if (bad) {
        free(text);
        snprintf(err, err_size, "cannot write %s", script);
        return -1;
    }
    char cmd[PATH_MAX + 8];
    snprintf(cmd, sizeof cmd, "'%s'", gnuplot_bin());
    FILE *p = popen(cmd, "w");
    if (!p) {
        free(text);
        snprintf(err, err_size, "cannot run gnuplot: %s", strerror(errno));
        return -1;
    }
    fwrite(text, 1, len, p);
    free(text);
    int st = pclose(p);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, err_size, "gnuplot failed on %s (its messages are above)", script);
        return -1;
    }
    return 0;
}
