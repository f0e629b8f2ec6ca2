/*
 * test_serve_metrics.c - the Prometheus metrics of `uzwhisper serve` (tools/serve/metrics_registry.h):
 *   - the exact text of a small registry against a golden written here by hand;
 *   - escaping of label values (\ " newline) and help texts (\ newline), number formatting;
 *   - histogram bucket math (le inclusive, +Inf, cumulative output, sum and count);
 *   - the cardinality cap, refused updates, registration errors;
 *   - concurrent updates from several threads sum exactly, while a render thread checks that
 *     every scrape sees a self-consistent histogram;
 *   - the server's standard set (asr_*) and its helpers;
 *   - the rendered text parsed by the official Prometheus Python parser
 *     (tests/reference/check_metrics.py; skipped with a message when prometheus_client is not
 *     importable: pip install prometheus_client), label values and help compared after its
 *     unescaping.
 * (Not test_metrics.c: that name belongs to the bench's WER metrics.)
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_registry.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static uzs_metric *reg(uzs_metrics *m, uzs_metric_type type, const char *name, const char *help,
                       const char *const *labels, int n_labels, const double *buckets, int n_buckets, int max_series) {
    uzs_metric_desc d = {type, name, help, labels, n_labels, buckets, n_buckets, max_series};
    char err[256] = "";
    uzs_metric *f = uzs_metrics_register(m, &d, err, sizeof err);
    cr_assert(f, "register %s: %s", name, err);
    return f;
}

static void expect_refused(uzs_metrics *m, uzs_metric_desc d, const char *why) {
    char err[256] = "";
    cr_expect_null(uzs_metrics_register(m, &d, err, sizeof err), "%s was accepted", d.name ? d.name : "(null)");
    cr_expect(strstr(err, why), "error \"%s\" does not say \"%s\"", err, why);
}

static char *render(uzs_metrics *m) {
    size_t len = 0;
    char *t = uzs_metrics_render(m, &len);
    cr_assert(t, "render failed");
    cr_assert_eq(strlen(t), len);
    return t;
}

/* Run check_metrics.py on text; returns its JSON (skips the test without prometheus_client). */
static json_t *prom_parse(const char *text, const char *expect_args) {
    char dir[] = "/tmp/uzs-metrics-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/metrics.txt", dir);
    cr_assert_eq(tu_write_file(path, text, strlen(text)), 0);
    snprintf(cmd, sizeof cmd, "python3 %s %s < %s", tu_src("tests/reference/check_metrics.py"),
             expect_args ? expect_args : "", path);
    static char out[1 << 18];
    int rc = tu_run(cmd, out, sizeof out);
    tu_rmtree(dir);
    if (rc == 77 || rc == 127)
        cr_skip_test("prometheus_client is not importable by python3 (pip install prometheus_client): %s", out);
    cr_assert_eq(rc, 0, "the Prometheus parser check failed (rc %d):\n%s\n--- text:\n%s", rc, out, text);
    json_error_t jerr;
    json_t *js = json_loads(out, 0, &jerr);
    cr_assert(js, "check_metrics.py printed no JSON: %s (%s)", jerr.text, out);
    return js;
}

static json_t *find_family(json_t *js, const char *name) {
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(js, "families"), i, f) if (strcmp(json_string_value(json_object_get(f, "name")),
                                                                         name) == 0) return f;
    return NULL;
}

/* The sample of a family with that name whose label `key` equals `value` (key NULL: the first). */
static json_t *find_sample(json_t *fam, const char *name, const char *key, const char *value) {
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(fam, "samples"), i, s) {
        if (strcmp(json_string_value(json_object_get(s, "name")), name) != 0) continue;
        if (!key) return s;
        json_t *v = json_object_get(json_object_get(s, "labels"), key);
        if (v && strcmp(json_string_value(v), value) == 0) return s;
    }
    return NULL;
}

static double sample_value(json_t *s) { return strtod(json_string_value(json_object_get(s, "value")), NULL); }

/* ---------------------------------------------------------------- golden text */

static const char *const l_mc[] = {"method", "code"};
static const char *const l_path[] = {"path"};
static const char *const l_version[] = {"version"};
static const double small_buckets[] = {0.25, 0.5, 1};

static uzs_metrics *small_registry(void) {
    uzs_metrics *m = uzs_metrics_new();
    cr_assert(m);
    uzs_metric *c = reg(m, UZS_METRIC_COUNTER, "http_requests_total", "Requests.", l_mc, 2, NULL, 0, 0);
    uzs_metric *g = reg(m, UZS_METRIC_GAUGE, "temperature_celsius", "A gauge.", NULL, 0, NULL, 0, 0);
    uzs_metric *h = reg(m, UZS_METRIC_HISTOGRAM, "latency_seconds", "Latency.", l_path, 1, small_buckets, 3, 0);
    uzs_metric *i = reg(m, UZS_METRIC_INFO, "build_info", "Build.", l_version, 1, NULL, 0, 0);
    const char *get200[] = {"get", "200"}, *post500[] = {"post", "500"}, *pa[] = {"/a"}, *v[] = {"1.2.3"};
    cr_assert_eq(uzs_metric_add(c, get200, 1), 0);
    cr_assert_eq(uzs_metric_add(c, get200, 2), 0);
    cr_assert_eq(uzs_metric_add(c, post500, 1.5), 0);
    cr_assert_eq(uzs_metric_set(g, NULL, -3.25), 0);
    double obs[] = {0.125, 0.25, 0.75, 3};
    for (int k = 0; k < 4; k++) cr_assert_eq(uzs_metric_observe(h, pa, obs[k]), 0);
    cr_assert_eq(uzs_metric_info_set(i, v), 0);
    return m;
}

static const char *const small_golden = "# HELP http_requests_total Requests.\n"
                                        "# TYPE http_requests_total counter\n"
                                        "http_requests_total{method=\"get\",code=\"200\"} 3\n"
                                        "http_requests_total{method=\"post\",code=\"500\"} 1.5\n"
                                        "# HELP temperature_celsius A gauge.\n"
                                        "# TYPE temperature_celsius gauge\n"
                                        "temperature_celsius -3.25\n"
                                        "# HELP latency_seconds Latency.\n"
                                        "# TYPE latency_seconds histogram\n"
                                        "latency_seconds_bucket{path=\"/a\",le=\"0.25\"} 2\n"
                                        "latency_seconds_bucket{path=\"/a\",le=\"0.5\"} 2\n"
                                        "latency_seconds_bucket{path=\"/a\",le=\"1\"} 3\n"
                                        "latency_seconds_bucket{path=\"/a\",le=\"+Inf\"} 4\n"
                                        "latency_seconds_sum{path=\"/a\"} 4.125\n"
                                        "latency_seconds_count{path=\"/a\"} 4\n"
                                        "# HELP build_info Build.\n"
                                        "# TYPE build_info gauge\n"
                                        "build_info{version=\"1.2.3\"} 1\n";

Test(metrics_render, golden_small_registry) {
    uzs_metrics *m = small_registry();
    char *t = render(m);
    cr_expect_str_eq(t, small_golden);
    free(t);
    uzs_metrics_free(m);
}

Test(metrics_render, empty_and_fresh) {
    uzs_metrics *m = uzs_metrics_new();
    char *t = render(m);
    cr_expect_str_eq(t, "");
    free(t);
    /* a family without labels is exported at 0 from the start; one with labels has no sample yet */
    reg(m, UZS_METRIC_COUNTER, "events_total", "", NULL, 0, NULL, 0, 0);
    reg(m, UZS_METRIC_HISTOGRAM, "h", "H.", NULL, 0, small_buckets, 1, 0);
    reg(m, UZS_METRIC_GAUGE, "g", "G.", l_path, 1, NULL, 0, 0);
    t = render(m);
    cr_expect_str_eq(t, "# HELP events_total\n# TYPE events_total counter\nevents_total 0\n"
                        "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.25\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\n"
                        "h_count 0\n"
                        "# HELP g G.\n# TYPE g gauge\n");
    free(t);
    uzs_metrics_free(m);
}

Test(metrics_render, escaping) {
    uzs_metrics *m = uzs_metrics_new();
    uzs_metric *g = reg(m, UZS_METRIC_GAUGE, "esc", "Back\\slash, \"quotes\" and\nnewline.", l_path, 1, NULL, 0, 0);
    const char *v[] = {"a\\b\"c\nd"};
    cr_assert_eq(uzs_metric_set(g, v, 1), 0);
    const char *u[] = {"ўзбек тили, русский"};
    cr_assert_eq(uzs_metric_set(g, u, 2), 0);
    char *t = render(m);
    cr_expect_str_eq(t, "# HELP esc Back\\\\slash, \"quotes\" and\\nnewline.\n"
                        "# TYPE esc gauge\n"
                        "esc{path=\"a\\\\b\\\"c\\nd\"} 1\n"
                        "esc{path=\"ўзбек тили, русский\"} 2\n");
    free(t);
    uzs_metrics_free(m);
}

Test(metrics_render, numbers) {
    uzs_metrics *m = uzs_metrics_new();
    uzs_metric *g = reg(m, UZS_METRIC_GAUGE, "n", "N.", l_path, 1, NULL, 0, 0);
    struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},        {1.0 / 3.0, "0.33333333333333331"}, {1e21, "1e+21"},       {-7, "-7"},
        {INFINITY, "+Inf"},  {-INFINITY, "-Inf"},                 {123456789012, "123456789012"},
        {5e-324, "4.94065645841247e-324"} /* %.15g reads back exactly here */,
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        char name[8];
        snprintf(name, sizeof name, "c%zu", i);
        const char *v[] = {name};
        cr_assert_eq(uzs_metric_set(g, v, cases[i].v), 0);
    }
    char *t = render(m);
    for (size_t i = 0; i < n; i++) {
        char line[96];
        snprintf(line, sizeof line, "n{path=\"c%zu\"} %s\n", i, cases[i].text);
        cr_expect(strstr(t, line), "missing line %s in:\n%s", line, t);
    }
    free(t);
    uzs_metrics_free(m);
}

/* ---------------------------------------------------------------- histograms */

Test(metrics_histogram, bucket_math) {
    uzs_metrics *m = uzs_metrics_new();
    const double b[] = {-1, 0, 0.5, 2};
    uzs_metric *h = reg(m, UZS_METRIC_HISTOGRAM, "hist", "H.", NULL, 0, b, 4, 0);
    /* value -> bucket index (first bound >= value; 4 = +Inf) */
    struct {
        double v;
        int bucket;
    } obs[] = {{-5, 0}, {-1, 0}, {-0.5, 1}, {0, 1}, {1e-300, 2}, {0.5, 2}, {0.5000001, 3},
               {2, 3},  {2.0000001, 4}, {1e9, 4}, {INFINITY, 4}, {-INFINITY, 0}};
    unsigned long long want[5] = {0};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) {
        cr_assert_eq(uzs_metric_observe(h, NULL, obs[i].v), 0);
        want[obs[i].bucket]++;
    }
    cr_expect_eq(uzs_metric_observe(h, NULL, NAN), UZS_METRIC_ERR_VALUE);
    unsigned long long got[5], count;
    double sum;
    cr_assert_eq(uzs_metric_get_histogram(h, NULL, &count, &sum, got), 0);
    for (int k = 0; k < 5; k++) cr_expect_eq(got[k], want[k], "bucket %d: %llu, expected %llu", k, got[k], want[k]);
    cr_expect_eq(count, 12);
    cr_expect(isnan(sum), "+Inf and -Inf observed: the sum is NaN, got %g", sum);
    char *t = render(m);
    cr_expect(strstr(t, "hist_bucket{le=\"-1\"} 3\nhist_bucket{le=\"0\"} 5\nhist_bucket{le=\"0.5\"} 7\n"
                        "hist_bucket{le=\"2\"} 9\nhist_bucket{le=\"+Inf\"} 12\nhist_sum NaN\nhist_count 12\n"),
              "%s", t);
    free(t);
    /* a plain sum */
    uzs_metric *h2 = reg(m, UZS_METRIC_HISTOGRAM, "hist2", "H.", NULL, 0, b, 4, 0);
    for (int k = 1; k <= 100; k++) uzs_metric_observe(h2, NULL, k * 0.25);
    cr_assert_eq(uzs_metric_get_histogram(h2, NULL, &count, &sum, got), 0);
    cr_expect_eq(count, 100);
    cr_expect_float_eq(sum, 0.25 * 5050, 0);
    cr_expect(got[0] == 0 && got[1] == 0 && got[2] == 2 && got[3] == 6 && got[4] == 92, "%llu %llu %llu %llu %llu",
              got[0], got[1], got[2], got[3], got[4]);
    uzs_metrics_free(m);
}

/* ---------------------------------------------------------------- limits and errors */

Test(metrics_limits, cardinality_cap) {
    uzs_metrics *m = uzs_metrics_new();
    uzs_metric *c = reg(m, UZS_METRIC_COUNTER, "capped_total", "C.", l_path, 1, NULL, 0, 3);
    const char *a[] = {"a"}, *b[] = {"b"}, *cc[] = {"c"}, *d[] = {"d"};
    cr_expect_eq(uzs_metric_add(c, a, 1), 0);
    cr_expect_eq(uzs_metric_add(c, b, 1), 0);
    cr_expect_eq(uzs_metric_add(c, cc, 1), 0);
    cr_expect_eq(uzs_metric_add(c, d, 1), UZS_METRIC_ERR_CARDINALITY);
    cr_expect_eq(uzs_metric_touch(c, d), UZS_METRIC_ERR_CARDINALITY);
    cr_expect_eq(uzs_metric_add(c, a, 1), 0, "an existing series must still update at the cap");
    cr_expect_eq(uzs_metric_n_series(c), 3);
    cr_expect_eq(uzs_metric_refused(c), 2);
    double v = 0;
    cr_expect_eq(uzs_metric_get(c, d, &v), -1);
    cr_expect_eq(uzs_metric_get(c, a, &v), 0);
    cr_expect_float_eq(v, 2, 0);
    /* removing a series makes room */
    cr_expect_eq(uzs_metric_remove(c, b), 0);
    cr_expect_eq(uzs_metric_remove(c, b), 0, "removing an absent series is fine");
    cr_expect_eq(uzs_metric_add(c, d, 5), 0);
    char *t = render(m);
    cr_expect_str_eq(t, "# HELP capped_total C.\n# TYPE capped_total counter\ncapped_total{path=\"a\"} 2\n"
                        "capped_total{path=\"c\"} 1\ncapped_total{path=\"d\"} 5\n");
    free(t);
    /* the default cap */
    uzs_metric *g = reg(m, UZS_METRIC_GAUGE, "default_cap", "G.", l_path, 1, NULL, 0, 0);
    int ok = 0;
    for (int i = 0; i < UZS_METRICS_DEFAULT_SERIES + 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        const char *vv[] = {name};
        ok += uzs_metric_set(g, vv, i) == 0;
    }
    cr_expect_eq(ok, UZS_METRICS_DEFAULT_SERIES);
    cr_expect_eq(uzs_metric_refused(g), 10);
    uzs_metrics_free(m);
}

Test(metrics_limits, bad_updates) {
    uzs_metrics *m = uzs_metrics_new();
    uzs_metric *c = reg(m, UZS_METRIC_COUNTER, "c_total", "C.", l_path, 1, NULL, 0, 0);
    uzs_metric *g = reg(m, UZS_METRIC_GAUGE, "g", "G.", NULL, 0, NULL, 0, 0);
    uzs_metric *i = reg(m, UZS_METRIC_INFO, "i_info", "I.", l_path, 1, NULL, 0, 0);
    const char *ok[] = {"ok"}, *nul[] = {NULL}, *bad_utf8[] = {"\xc3\x28"}, *overlong[] = {"\xc0\xaf"},
               *surrogate[] = {"\xed\xa0\x80"}, *truncated[] = {"\xe2\x82"};
    cr_expect_eq(uzs_metric_add(c, ok, -1), UZS_METRIC_ERR_VALUE);
    cr_expect_eq(uzs_metric_add(c, ok, NAN), UZS_METRIC_ERR_VALUE);
    cr_expect_eq(uzs_metric_add(c, ok, INFINITY), UZS_METRIC_ERR_VALUE);
    cr_expect_eq(uzs_metric_set(c, ok, 1), UZS_METRIC_ERR_TYPE);
    cr_expect_eq(uzs_metric_observe(c, ok, 1), UZS_METRIC_ERR_TYPE);
    cr_expect_eq(uzs_metric_info_set(c, ok), UZS_METRIC_ERR_TYPE);
    cr_expect_eq(uzs_metric_add(c, NULL, 1), UZS_METRIC_ERR_LABEL);
    cr_expect_eq(uzs_metric_add(c, nul, 1), UZS_METRIC_ERR_LABEL);
    cr_expect_eq(uzs_metric_add(c, bad_utf8, 1), UZS_METRIC_ERR_LABEL);
    cr_expect_eq(uzs_metric_add(c, overlong, 1), UZS_METRIC_ERR_LABEL);
    cr_expect_eq(uzs_metric_add(c, surrogate, 1), UZS_METRIC_ERR_LABEL);
    cr_expect_eq(uzs_metric_add(c, truncated, 1), UZS_METRIC_ERR_LABEL);
    char longv[UZS_METRICS_MAX_VALUE_LEN + 2];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    const char *lv[] = {longv};
    cr_expect_eq(uzs_metric_add(c, lv, 1), UZS_METRIC_ERR_LABEL);
    longv[UZS_METRICS_MAX_VALUE_LEN] = 0; /* exactly the limit: fine */
    cr_expect_eq(uzs_metric_add(c, lv, 1), 0);
    cr_expect_eq(uzs_metric_n_series(c), 1, "a refused update created a series");
    cr_expect_eq(uzs_metric_set(g, NULL, NAN), UZS_METRIC_ERR_VALUE);
    cr_expect_eq(uzs_metric_add(g, NULL, -2.5), 0, "a gauge may go down");
    cr_expect_eq(uzs_metric_touch(i, ok), UZS_METRIC_ERR_TYPE);
    cr_expect_eq(uzs_metric_add(NULL, NULL, 1), UZS_METRIC_ERR_ARG);
    cr_expect(strstr(uzs_metric_error_str(UZS_METRIC_ERR_CARDINALITY), "too many"));
    /* clear: labelled families drop their series, a plain one goes back to 0 */
    cr_expect_eq(uzs_metric_info_set(i, ok), 0);
    cr_expect_eq(uzs_metric_clear(i), 0);
    cr_expect_eq(uzs_metric_n_series(i), 0);
    cr_expect_eq(uzs_metric_clear(g), 0);
    double v = 1;
    cr_expect_eq(uzs_metric_get(g, NULL, &v), 0);
    cr_expect_float_eq(v, 0, 0);
    uzs_metrics_free(m);
}

Test(metrics_limits, registration_errors) {
    uzs_metrics *m = uzs_metrics_new();
    const double b[] = {1, 2}, unsorted[] = {2, 1}, nan_b[] = {1, NAN}, inf_b[] = {1, INFINITY};
    const char *const le[] = {"le"}, *const dup[] = {"a", "a"}, *const dunder[] = {"__x"}, *const dash[] = {"a-b"};
    reg(m, UZS_METRIC_HISTOGRAM, "req_seconds", "H.", NULL, 0, b, 2, 0);
    reg(m, UZS_METRIC_COUNTER, "ok_total", "C.", NULL, 0, NULL, 0, 0);
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_COUNTER, "ok_total", "", NULL, 0, NULL, 0, 0}, "clashes");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "req_seconds_count", "", NULL, 0, NULL, 0, 0}, "clashes");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "req_seconds_bucket", "", NULL, 0, NULL, 0, 0}, "clashes");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "ok", "", NULL, 0, NULL, 0, 0}, "clashes");
    reg(m, UZS_METRIC_GAUGE, "ok_total_bytes", "G.", NULL, 0, NULL, 0, 0); /* no clash */
    reg(m, UZS_METRIC_GAUGE, "temp", "G.", NULL, 0, NULL, 0, 0);
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_COUNTER, "temp_total", "", NULL, 0, NULL, 0, 0}, "clashes");
    uzs_metrics_free(m);
    m = uzs_metrics_new();
    reg(m, UZS_METRIC_COUNTER, "x_sum", "C.", NULL, 0, NULL, 0, 0);
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_HISTOGRAM, "x", "", NULL, 0, b, 2, 0}, "clashes");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "1abc", "", NULL, 0, NULL, 0, 0}, "metric name");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "a-b", "", NULL, 0, NULL, 0, 0}, "metric name");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "", "", NULL, 0, NULL, 0, 0}, "metric name");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, NULL, "", NULL, 0, NULL, 0, 0}, "metric name");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "g", "bad \xff help", NULL, 0, NULL, 0, 0}, "UTF-8");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_HISTOGRAM, "h", "", le, 1, b, 2, 0}, "le");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "g", "", dup, 2, NULL, 0, 0}, "twice");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "g", "", dunder, 1, NULL, 0, 0}, "__");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "g", "", dash, 1, NULL, 0, 0}, "label name");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "g", "", dup, UZS_METRICS_MAX_LABELS + 1, NULL, 0, 0},
                   "label names");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_HISTOGRAM, "h", "", NULL, 0, unsorted, 2, 0}, "increasing");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_HISTOGRAM, "h", "", NULL, 0, nan_b, 2, 0}, "finite");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_HISTOGRAM, "h", "", NULL, 0, inf_b, 2, 0}, "finite");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_HISTOGRAM, "h", "", NULL, 0, NULL, 0, 0}, "buckets");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "g", "", NULL, 0, b, 2, 0}, "only a histogram");
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "g", "", NULL, 0, NULL, 0, UZS_METRICS_MAX_SERIES + 1},
                   "max_series");
    expect_refused(m, (uzs_metric_desc){(uzs_metric_type)42, "g", "", NULL, 0, NULL, 0, 0}, "type");
    reg(m, UZS_METRIC_GAUGE, "ns:sub_g", "colons are allowed in metric names", NULL, 0, NULL, 0, 0);
    cr_expect_not_null(uzs_metrics_find(m, "ns:sub_g"));
    cr_expect_null(uzs_metrics_find(m, "nope"));
    /* the family limit */
    int n = 2; /* x_sum and ns:sub_g */
    for (; n < UZS_METRICS_MAX_FAMILIES; n++) {
        char name[32];
        snprintf(name, sizeof name, "fam_%d", n);
        reg(m, UZS_METRIC_GAUGE, name, "", NULL, 0, NULL, 0, 0);
    }
    expect_refused(m, (uzs_metric_desc){UZS_METRIC_GAUGE, "one_too_many", "", NULL, 0, NULL, 0, 0}, "more than");
    uzs_metrics_free(m);
}

/* ---------------------------------------------------------------- threads */

#define N_THREADS 6
#define N_UPDATES 20000

typedef struct {
    uzs_metric *c, *g, *h;
    int id;
    int errors;
} worker_arg;

static void *worker(void *p) {
    worker_arg *w = p;
    const char *even[] = {"even"}, *odd[] = {"odd"};
    for (int i = 0; i < N_UPDATES; i++) {
        w->errors += uzs_metric_add(w->c, (i & 1) ? odd : even, 1) != 0;
        w->errors += uzs_metric_add(w->g, NULL, +1) != 0;
        w->errors += uzs_metric_observe(w->h, NULL, (double)(i % 4)) != 0; /* 0, 1, 2, 3 */
        w->errors += uzs_metric_add(w->g, NULL, -1) != 0;
    }
    return NULL;
}

typedef struct {
    uzs_metrics *m;
    atomic_int stop;
    int renders, inconsistent;
    char first_bad[512];
} render_arg;

/* every scrape must see count == the +Inf bucket: histograms are copied under their lock */
static void *renderer(void *p) {
    render_arg *r = p;
    while (!r->stop) {
        char *t = uzs_metrics_render(r->m, NULL);
        if (!t) continue;
        const char *inf = strstr(t, "work_seconds_bucket{le=\"+Inf\"} ");
        const char *cnt = strstr(t, "work_seconds_count ");
        if (!inf || !cnt || strtoull(inf + 31, NULL, 10) != strtoull(cnt + 19, NULL, 10)) {
            if (!r->inconsistent++) snprintf(r->first_bad, sizeof r->first_bad, "%s", t);
        }
        r->renders++;
        free(t);
    }
    return NULL;
}

Test(metrics_threads, concurrent_updates_sum_exactly) {
    uzs_metrics *m = uzs_metrics_new();
    const double b[] = {0.5, 1.5, 2.5};
    uzs_metric *c = reg(m, UZS_METRIC_COUNTER, "work_total", "W.", l_path, 1, NULL, 0, 0);
    uzs_metric *g = reg(m, UZS_METRIC_GAUGE, "work_in_flight", "W.", NULL, 0, NULL, 0, 0);
    uzs_metric *h = reg(m, UZS_METRIC_HISTOGRAM, "work_seconds", "W.", NULL, 0, b, 3, 0);
    pthread_t th[N_THREADS], rt;
    worker_arg args[N_THREADS];
    render_arg ra = {.m = m};
    cr_assert_eq(pthread_create(&rt, NULL, renderer, &ra), 0);
    for (int i = 0; i < N_THREADS; i++) {
        args[i] = (worker_arg){c, g, h, i, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(args[i].errors, 0, "thread %d had %d failed updates", i, args[i].errors);
    }
    ra.stop = 1;
    pthread_join(rt, NULL);
    cr_expect_eq(ra.inconsistent, 0, "%d of %d scrapes had count != +Inf bucket; first:\n%s", ra.inconsistent,
                 ra.renders, ra.first_bad);
    const char *even[] = {"even"}, *odd[] = {"odd"};
    double v;
    cr_assert_eq(uzs_metric_get(c, even, &v), 0);
    cr_expect_float_eq(v, N_THREADS * N_UPDATES / 2.0, 0);
    cr_assert_eq(uzs_metric_get(c, odd, &v), 0);
    cr_expect_float_eq(v, N_THREADS * N_UPDATES / 2.0, 0);
    cr_assert_eq(uzs_metric_get(g, NULL, &v), 0);
    cr_expect_float_eq(v, 0, 0);
    unsigned long long got[4], count;
    double sum;
    cr_assert_eq(uzs_metric_get_histogram(h, NULL, &count, &sum, got), 0);
    unsigned long long quarter = N_THREADS * N_UPDATES / 4;
    cr_expect_eq(count, 4 * quarter);
    for (int k = 0; k < 4; k++) cr_expect_eq(got[k], quarter, "bucket %d: %llu", k, got[k]);
    cr_expect_float_eq(sum, (0 + 1 + 2 + 3) * (double)quarter, 0);
    uzs_metrics_free(m);
}

/* ---------------------------------------------------------------- the server's set */

/* A registry with the standard set and a few events of each kind. */
static uzs_metrics *filled_server_metrics(uzs_server_metrics *out) {
    uzs_server_metrics sm_;
    uzs_server_metrics *sm = &sm_;
    char err[256] = "";
    uzs_metrics *m = uzs_metrics_new();
    cr_assert_eq(uzs_server_metrics_register(m, sm, err, sizeof err), 0, "%s", err);
    cr_expect_eq(uzs_server_metrics_request(sm, "transcribe", "200", 1.2), 0);
    cr_expect_eq(uzs_server_metrics_request(sm, "transcribe", "200", 0.04), 0);
    cr_expect_eq(uzs_server_metrics_request(sm, "transcribe", "401", -1), 0); /* refused before timing */
    cr_expect_eq(uzs_server_metrics_request(sm, "stream", "ok", 130), 0);
    cr_expect_eq(uzs_server_metrics_audio(sm, 10, 2.5), 0);
    cr_expect_eq(uzs_server_metrics_audio(sm, 20, 2), 0);
    cr_expect_eq(uzs_server_metrics_audio(sm, 0, 1), 0); /* no audio: no RTF */
    cr_expect_eq(uzs_server_metrics_connection(sm, "tcp", +1), 0);
    cr_expect_eq(uzs_server_metrics_connection(sm, "tcp", +1), 0);
    cr_expect_eq(uzs_server_metrics_connection(sm, "tcp", -1), 0);
    cr_expect_eq(uzs_server_metrics_connection(sm, "websocket", +1), 0);
    cr_expect_eq(uzs_server_metrics_set_model(sm, "old", "f32", "cpu"), 0);
    cr_expect_eq(uzs_server_metrics_set_model(sm, "whisper-small-uz", "int8", "cpu"), 0);
    const char *ad[] = {"uz-lora", "lora"};
    cr_expect_eq(uzs_metric_info_set(sm->adapter_info, ad), 0);
    cr_expect_eq(uzs_server_metrics_set_gpu_memory(sm, 3.5e9, 80e9), 0);
    cr_expect_eq(uzs_metric_set(sm->queue_depth, NULL, 3), 0);
    const char *why[] = {"expired"};
    cr_expect_eq(uzs_metric_add(sm->auth_failures, why, 1), 0);

    *out = *sm;
    return m;
}

Test(metrics_server, standard_set) {
    uzs_metrics *m = uzs_metrics_new();
    uzs_server_metrics sm;
    char err[256] = "";
    cr_assert_eq(uzs_server_metrics_register(m, &sm, err, sizeof err), 0, "%s", err);
    cr_expect_eq(uzs_server_metrics_register(m, &sm, err, sizeof err), -1, "registered twice");
    cr_expect(strstr(err, "clashes"), "%s", err);
    uzs_metrics_free(m);

    m = filled_server_metrics(&sm);
    double v;
    const char *t200[] = {"transcribe", "200"}, *tcp[] = {"tcp"}, *http[] = {"http"}, *tr[] = {"transcribe"};
    cr_assert_eq(uzs_metric_get(sm.requests, t200, &v), 0);
    cr_expect_float_eq(v, 2, 0);
    cr_assert_eq(uzs_metric_get(sm.active_connections, tcp, &v), 0);
    cr_expect_float_eq(v, 1, 0);
    cr_assert_eq(uzs_metric_get(sm.active_connections, http, &v), 0, "http not pre-created");
    cr_expect_float_eq(v, 0, 0);
    cr_assert_eq(uzs_metric_get(sm.audio_seconds, NULL, &v), 0);
    cr_expect_float_eq(v, 30, 0);
    unsigned long long count, got[16];
    double sum;
    cr_assert_eq(uzs_metric_get_histogram(sm.request_duration, tr, &count, &sum, got), 0);
    cr_expect_eq(count, 2);
    cr_expect_eq(got[0], 1, "0.04 s belongs to le=0.05");
    cr_assert_eq(uzs_metric_get_histogram(sm.realtime_factor, NULL, &count, &sum, got), 0);
    cr_expect_eq(count, 2);
    cr_expect_float_eq(sum, 0.25 + 0.1, 1e-15);
    cr_expect_eq(uzs_metric_n_series(sm.model_info), 1, "set_model must replace the model series");

    char *t = render(m);
    cr_expect(strstr(t, "asr_model_info{model=\"whisper-small-uz\",dtype=\"int8\",device=\"cpu\"} 1\n"), "%s", t);
    cr_expect(strstr(t, "asr_gpu_memory_bytes{kind=\"total\"} 80000000000\n"), "%s", t);
    cr_expect(strstr(t, "asr_request_duration_seconds_bucket{endpoint=\"stream\",le=\"120\"} 0\n"
                        "asr_request_duration_seconds_bucket{endpoint=\"stream\",le=\"+Inf\"} 1\n"),
              "%s", t);
    free(t);
    uzs_metrics_free(m);
}

Test(metrics_server, buckets_span_asr_latencies) {
    cr_expect_float_eq(uzs_duration_buckets[0], 0.05, 0);
    cr_expect_float_eq(uzs_duration_buckets[uzs_n_duration_buckets - 1], 120, 0);
    for (int i = 1; i < uzs_n_duration_buckets; i++) cr_expect(uzs_duration_buckets[i] > uzs_duration_buckets[i - 1]);
    for (int i = 1; i < uzs_n_rtf_buckets; i++) cr_expect(uzs_rtf_buckets[i] > uzs_rtf_buckets[i - 1]);
}

/* ---------------------------------------------------------------- the real Prometheus parser */

Test(metrics_parser, standard_set_parses) {
    uzs_server_metrics sm;
    uzs_metrics *m = filled_server_metrics(&sm);
    char *t = render(m);
    json_t *js = prom_parse(t, "--expect asr_requests:counter --expect asr_request_duration_seconds:histogram "
                               "--expect asr_active_connections:gauge --expect asr_audio_seconds:counter "
                               "--expect asr_realtime_factor:histogram --expect asr_queue_depth:gauge "
                               "--expect asr_model_info:gauge --expect asr_adapter_info:gauge "
                               "--expect asr_gpu_memory_bytes:gauge --expect asr_auth_failures:counter");
    json_t *req = find_family(js, "asr_requests");
    cr_assert(req);
    json_t *s = find_sample(req, "asr_requests_total", "status", "401");
    cr_assert(s, "no 401 sample");
    cr_expect_float_eq(sample_value(s), 1, 0);
    json_t *dur = find_family(js, "asr_request_duration_seconds");
    cr_assert(dur);
    s = find_sample(dur, "asr_request_duration_seconds_bucket", "le", "0.05");
    cr_assert(s, "no le=0.05 bucket");
    cr_expect_float_eq(sample_value(s), 1, 0);
    json_decref(js);
    free(t);
    uzs_metrics_free(m);
}

Test(metrics_parser, golden_and_escapes_round_trip) {
    uzs_metrics *m = small_registry();
    const char *help = "Tricky: back\\slash, \"quote\", newline\nand ўзбек.";
    uzs_metric *g = reg(m, UZS_METRIC_GAUGE, "tricky", help, l_mc, 2, NULL, 0, 0);
    const char *values[][2] = {
        {"a\\b", "q\"q"}, {"line1\nline2", "}{,="}, {"ўзбек тили", "русский"}, {"", "ends with \\"},
    };
    for (int k = 0; k < 4; k++) cr_assert_eq(uzs_metric_set(g, values[k], k - 1.5), 0);
    const char *inf_v[] = {"inf", "x"};
    cr_assert_eq(uzs_metric_set(g, inf_v, INFINITY), 0);
    char *t = render(m);
    json_t *js = prom_parse(t, "--expect http_requests:counter --expect latency_seconds:histogram "
                               "--expect build_info:gauge --expect tricky:gauge");
    json_t *fam = find_family(js, "tricky");
    cr_assert(fam);
    cr_expect_str_eq(json_string_value(json_object_get(fam, "help")), help, "help after the parser's unescaping");
    for (int k = 0; k < 4; k++) {
        json_t *s = find_sample(fam, "tricky", "method", values[k][0]);
        cr_assert(s, "no sample with method=%s after the round trip", values[k][0]);
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(s, "labels"), "code")), values[k][1]);
        cr_expect_float_eq(sample_value(s), k - 1.5, 0);
    }
    json_t *s = find_sample(fam, "tricky", "method", "inf");
    cr_assert(s);
    cr_expect(isinf(sample_value(s)) && sample_value(s) > 0);
    /* the golden's histogram as the parser sees it */
    json_t *lat = find_family(js, "latency_seconds");
    cr_assert(lat);
    json_t *sum = find_sample(lat, "latency_seconds_sum", NULL, NULL);
    cr_assert(sum);
    cr_expect_float_eq(sample_value(sum), 4.125, 0);
    json_t *b = find_sample(lat, "latency_seconds_bucket", "le", "1");
    if (!b) b = find_sample(lat, "latency_seconds_bucket", "le", "1.0"); /* newer parsers normalise le */
    cr_assert(b, "no le=1 bucket");
    cr_expect_float_eq(sample_value(b), 3, 0);
    json_decref(js);
    free(t);
    uzs_metrics_free(m);
}

Test(metrics_parser, the_check_can_fail) {
    /* the checker itself must catch a broken histogram (else a passing check proves little) */
    char dir[] = "/tmp/uzs-metrics-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256], cmd[1024], out[4096];
    snprintf(path, sizeof path, "%s/bad.txt", dir);
    const char *bad = "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n";
    cr_assert_eq(tu_write_file(path, bad, strlen(bad)), 0);
    snprintf(cmd, sizeof cmd, "python3 %s < %s", tu_src("tests/reference/check_metrics.py"), path);
    int rc = tu_run(cmd, out, sizeof out);
    tu_rmtree(dir);
    if (rc == 77 || rc == 127)
        cr_skip_test("prometheus_client is not importable by python3 (pip install prometheus_client)");
    cr_expect_eq(rc, 1, "a non-cumulative histogram passed the check: %s", out);
    cr_expect(strstr(out, "cumulative"), "%s", out);
}
