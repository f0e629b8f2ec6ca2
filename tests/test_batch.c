/* `uzwhisper transcribe -o DIR` as an operator runs it over folders: recursion and output naming
 * (equal base names in different folders), manifests, a bad file in the middle of a batch, resume
 * after kill -9 (no partial final output, nothing redone), SIGINT (exit 130, files in flight
 * finished), one run per output folder, and 2 workers writing what 1 worker writes. Uses the tiny
 * random fixture model (converted per test) with few tokens per window, so each file takes < 1 s. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char tmp[256], model[512];

static int run(const char *cmd, char *out, size_t cap) { return tu_run(cmd, out, cap); }

static const char *bin(void) { return tu_build("uzwhisper"); }

static void setup(void) { tu_tmp_with_tiny_model("uzw-batch", tmp, sizeof tmp, model, sizeof model); }

static void teardown(void) { tu_rmtree(tmp); }

static void need_model(void) {
    if (!model[0]) cr_skip_test("tests/fixtures/tiny-random/hf is missing (run tests/reference/make_golden.py)");
}

TestSuite(batch, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- helpers */
static const char *P(const char *rel) {
    static char b[8][1024];
    static int k;
    char *s = b[k++ & 7];
    snprintf(s, sizeof b[0], "%s/%s", tmp, rel);
    return s;
}

static void mkdirs(const char *rel) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", P(rel));
    cr_assert_eq(system(cmd), 0);
}

static void link_clip(const char *shared_rel, const char *rel) {
    cr_assert_eq(symlink(tu_shared(shared_rel), P(rel)), 0, "symlink %s: %s", rel, strerror(errno));
}

/* The files under dir (relative, sorted, one per line) into out. */
static void list_rec(const char *dir, const char *rel, char names[][256], int *n, int cap) {
    char p[2048];
    snprintf(p, sizeof p, "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(p);
    cr_assert(d, "opendir %s", p);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[512], full[2600];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat st;
        cr_assert_eq(lstat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) list_rec(dir, sub, names, n, cap);
        else if (*n < cap) snprintf(names[(*n)++], 256, "%.255s", sub);
    }
    closedir(d);
}
static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }
static void list_files(const char *dir, char *out, size_t cap) {
    static char names[512][256];
    int n = 0;
    list_rec(dir, "", names, &n, 512);
    qsort(names, (size_t)n, 256, cmp_names);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        strncat(out, names[i], cap - strlen(out) - 2);
        strcat(out, "\n");
    }
}

static int count_tmp(const char *listing) {
    int n = 0;
    for (const char *p = listing; (p = strstr(p, ".tmp.")); p++) n++;
    return n;
}

/* Start the command in the background, stdout+stderr to log; returns its pid (the binary itself). */
static pid_t spawn(const char *cmd, const char *log) {
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        char full[8192];
        snprintf(full, sizeof full, "exec %s", cmd);
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until DIR holds a final (renamed) file ending in suffix; 1 if it did within timeout_s. */
static int wait_for_output(const char *dir, const char *suffix, double timeout_s) {
    static char listing[65536];
    for (int t = 0; t < timeout_s * 200; t++) {
        struct stat st;
        if (stat(dir, &st) == 0) {
            list_files(dir, listing, sizeof listing);
            for (char *line = listing; *line;) {
                char *nl = strchr(line, '\n');
                *nl = 0;
                size_t n = strlen(line), k = strlen(suffix);
                if (n > k && !strcmp(line + n - k, suffix)) return 1;
                line = nl + 1;
            }
        }
        sleep_ms(5);
    }
    return 0;
}

/* waitpid with a timeout; returns the exit code (128+sig if killed, -1 on timeout). */
static int wait_exit(pid_t pid, double timeout_s) {
    for (int t = 0; t < timeout_s * 100; t++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static const char *clips[] = {"data/ru/deepspeech_ru.wav", "data/uz/usc/1131474547_2_29207_1.wav",
                              "data/uz/usc/1131474547_2_29208_1.wav", "data/uz/usc/1131474547_2_29210_1.wav"};

/* in/NN.wav for N files, links to real clips */
static void make_folder(const char *rel, int n) {
    mkdirs(rel);
    char name[256];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s/%02d.wav", rel, i);
        link_clip(clips[i % 4], name);
    }
}

static struct stat stat_of(const char *path) {
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "missing %s", path);
    return st;
}

#define TRANSCRIBE "%s transcribe -m %s -l en --max-tokens 2 --no-progress "

/* ---------------------------------------------------------------- tests */
Test(batch, folders_recurse_and_mirror_names) {
    need_model();
    mkdirs("in/a");
    mkdirs("in/b/c");
    link_clip(clips[0], "in/a/x.wav");
    link_clip(clips[1], "in/b/x.wav");                   /* same base name, other folder */
    link_clip(clips[2], "in/b/c/y.WAV");                 /* upper-case extension */
    link_clip("data/en/jfk.flac", "in/b/c/z.flac");
    link_clip(clips[3], "in/.hidden.wav");               /* skipped */
    cr_assert_eq(tu_write_file(P("in/notes.txt"), "x", 1), 0); /* not audio: skipped */
    char cmd[4096], out[16384], ls[8192];
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-w 1 -o %s -f txt,srt %s", bin(), model, P("out"), P("in"));
    int rc = run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    list_files(P("out"), ls, sizeof ls);
    cr_expect_str_eq(ls, ".uzwhisper.lock\na/x.srt\na/x.txt\nb/c/y.srt\nb/c/y.txt\nb/c/z.srt\nb/c/z.txt\nb/x.srt\nb/x.txt\nfailures.jsonl\n");
    /* files are taken in sorted path order: with one worker the log lines show it */
    const char *a = strstr(out, "in/a/x.wav"), *b = strstr(out, "in/b/c/y.WAV"), *c = strstr(out, "in/b/x.wav");
    cr_expect(a && b && c && a < b && b < c, "%s", out);
    cr_expect(strstr(out, "4 transcribed, 0 skipped") != NULL, "%s", out);

    /* two file arguments with one base name are refused before any work... */
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-o %s %s %s", bin(), model, P("out2"), P("in/a/x.wav"), P("in/b/x.wav"));
    rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 1, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "would both be written as 'x.*'") != NULL, "%s", out);
    cr_expect(!tu_exists(P("out2/x.txt")));
    /* ...and so are x.wav and x.flac in one folder, unless --keep-ext */
    link_clip("data/en/jfk.flac", "in/a/x.flac");
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-o %s %s", bin(), model, P("out3"), P("in/a"));
    cr_expect_eq(run(cmd, out, sizeof out), 1, "%s", out);
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-o %s --keep-ext %s", bin(), model, P("out3"), P("in/a"));
    cr_expect_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(tu_exists(P("out3/x.wav.txt")) && tu_exists(P("out3/x.flac.txt")));
}

Test(batch, manifest_ids_paths_and_languages) {
    need_model();
    mkdirs("m/clips");
    link_clip(clips[0], "m/clips/one.wav");
    link_clip(clips[1], "m/clips/two.wav");
    char man[4096];
    snprintf(man, sizeof man,
             "{\"audio\": \"clips/one.wav\", \"id\": \"spk1/utt1\", \"language\": \"ru\"}\n"
             "\n"
             "{\"audio\": \"clips/two.wav\"}\n"
             "{\"audio\": \"%s\", \"id\": \"kennedy\"}\n",
             tu_shared("data/en/jfk.flac"));
    cr_assert_eq(tu_write_file(P("m/list.jsonl"), man, strlen(man)), 0);
    char cmd[4096], out[16384];
    /* no -l: the manifest's language for one file, detection for the others */
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --max-tokens 2 --no-progress -o %s -f json --manifest %s", bin(), model,
             P("out"), P("m/list.jsonl"));
    int rc = run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    json_error_t je;
    json_t *o = json_load_file(P("out/spk1/utt1.json"), 0, &je);
    cr_assert(o, "%s", je.text);
    cr_expect_str_eq(json_string_value(json_object_get(o, "language")), "ru");
    cr_expect(json_is_false(json_object_get(o, "language_detected")));
    cr_expect_str_eq(json_string_value(json_object_get(o, "id")), "spk1/utt1");
    json_decref(o);
    o = json_load_file(P("out/clips/two.json"), 0, &je);
    cr_assert(o, "%s", je.text);
    cr_expect(json_is_true(json_object_get(o, "language_detected")));
    cr_expect(strstr(json_string_value(json_object_get(o, "file")), "m/clips/two.wav") != NULL);
    json_decref(o);
    cr_expect(tu_exists(P("out/kennedy.json")));

    /* a bad line is named and nothing runs */
    const char *bad[] = {"{\"audio\": \"clips/one.wav\"}\n{\"id\": \"x\"}\n", "{\"audio\": \"clips/one.wav\", \"id\": \"../escape\"}\n",
                         "{\"audio\": \"clips/one.wav\"}\nnot json\n"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(tu_write_file(P("m/bad.jsonl"), bad[i], strlen(bad[i])), 0);
        snprintf(cmd, sizeof cmd, TRANSCRIBE "-o %s --manifest %s", bin(), model, P("outbad"), P("m/bad.jsonl"));
        rc = run(cmd, out, sizeof out);
        cr_expect_eq(rc, 1, "case %d: exit %d: %s", i, rc, out);
        cr_expect(strstr(out, "bad.jsonl:") != NULL, "case %d: %s", i, out);
        cr_expect(!tu_exists(P("outbad")), "case %d made outputs", i);
    }
}

Test(batch, shards_split_the_inputs_disjointly_and_completely) {
    need_model();
    mkdirs("s/clips");
    char man[8192] = "", line[512];
    for (int i = 0; i < 7; i++) {
        snprintf(line, sizeof line, "s/clips/c%d.wav", i);
        link_clip(clips[i % 2], line);
        snprintf(line, sizeof line, "{\"audio\": \"clips/c%d.wav\", \"id\": \"c%d\"}\n%s", i, i, i == 3 ? "\n" : "");
        strcat(man, line);
    }
    cr_assert_eq(tu_write_file(P("s/list.jsonl"), man, strlen(man)), 0);
    char cmd[4096], out[8192];
    int seen[7] = {0};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, TRANSCRIBE "-o %s/shard-%d --shard %d/3 --manifest %s", bin(), model, P("s/out"), k, k,
                 P("s/list.jsonl"));
        int rc = run(cmd, out, sizeof out);
        cr_assert_eq(rc, 0, "shard %d: exit %d: %s", k, rc, out);
        for (int i = 0; i < 7; i++) {
            char f[64];
            snprintf(f, sizeof f, "s/out/shard-%d/c%d.txt", k, i);
            if (tu_exists(P(f))) {
                seen[i]++;
                cr_expect_eq(i % 3, k, "c%d landed in shard %d", i, k);
            }
        }
    }
    for (int i = 0; i < 7; i++) cr_expect_eq(seen[i], 1, "c%d transcribed %d times", i, seen[i]);
    const char *bad[] = {"3/3", "1", "-1/2", "a/b", "0/0"};
    for (int i = 0; i < 5; i++) {
        snprintf(cmd, sizeof cmd, TRANSCRIBE "-o %s --shard %s --manifest %s", bin(), model, P("s/bad"), bad[i], P("s/list.jsonl"));
        cr_expect_eq(run(cmd, out, sizeof out), 1, "--shard %s: %s", bad[i], out);
    }
}

Test(batch, a_bad_file_in_the_middle_does_not_stop_the_batch) {
    need_model();
    make_folder("in", 4);
    cr_assert_eq(unlink(P("in/01.wav")), 0);
    cr_assert_eq(tu_write_file(P("in/01.wav"), "this is text, not audio\n", 24), 0);
    size_t n;
    uint8_t *w = tu_read_file(tu_shared("data/ru/deepspeech_ru.wav"), &n);
    cr_assert(w);
    cr_assert_eq(tu_write_file(P("in/02b.wav"), w, 30), 0); /* a header cut short */
    free(w);
    char cmd[4096], out[16384];
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-o %s -f txt,json %s", bin(), model, P("out"), P("in"));
    int rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "2 of 5 files failed") != NULL, "%s", out);
    for (int i = 0; i < 4; i++) {
        char f[64];
        snprintf(f, sizeof f, "out/%02d.json", i);
        cr_expect_eq(tu_exists(P(f)), i != 1, "%s", f);
    }
    char *fl = (char *)tu_read_file(P("out/failures.jsonl"), NULL);
    cr_assert(fl);
    int lines = 0;
    for (char *line = fl, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
        *nl = 0;
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        cr_assert(o, "line %d: %s", lines, je.text);
        const char *path = json_string_value(json_object_get(o, "path"));
        cr_expect(path && (strstr(path, "in/01.wav") || strstr(path, "in/02b.wav")), "%s", line);
        cr_expect(json_string_length(json_object_get(o, "error")) > 10, "%s", line);
        cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "audio");
        json_decref(o);
    }
    cr_expect_eq(lines, 2);
    free(fl);
    /* a rerun retries only the failed ones */
    rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "2 to transcribe, 3 already complete") != NULL, "%s", out);
}

Test(batch, resume_after_kill_9_redoes_nothing_finished) {
    need_model();
    make_folder("in", 8);
    char cmd[4096], out[16384], log[600];
    snprintf(log, sizeof log, "%s/run1.log", tmp);
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-w 1 -o %s -f txt,json,srt %s", bin(), model, P("out"), P("in"));
    pid_t pid = spawn(cmd, log);
    int seen = wait_for_output(P("out"), ".json", 60);
    /* while it runs, a second run on the same folder is refused */
    char cmd2[4096];
    snprintf(cmd2, sizeof cmd2, TRANSCRIBE "-o %s %s", bin(), model, P("out"), P("in"));
    int rc2 = run(cmd2, out, sizeof out);
    kill(pid, SIGKILL);
    int rc = wait_exit(pid, 10);
    cr_assert(seen, "no output appeared within 60 s");
    cr_expect_eq(rc, 128 + SIGKILL);
    cr_expect_eq(rc2, 1, "second run: exit %d: %s", rc2, out);
    cr_expect(strstr(out, "another uzwhisper transcribe is writing to") != NULL, "%s", out);

    /* after the kill: final names hold complete files only */
    static char ls[65536];
    const char *ext[] = {"txt", "json", "srt"};
    struct stat before[8][3];
    int complete = 0;
    for (int i = 0; i < 8; i++) {
        int have = 0;
        for (int k = 0; k < 3; k++) {
            char f[64];
            snprintf(f, sizeof f, "out/%02d.%s", i, ext[k]);
            memset(&before[i][k], 0, sizeof before[i][k]);
            if (stat(P(f), &before[i][k]) != 0) continue;
            have++;
            if (k == 1) {
                json_error_t je;
                json_t *o = json_load_file(P(f), 0, &je);
                cr_expect(o != NULL, "partial %s: %s", f, je.text);
                json_decref(o);
            }
        }
        complete += have == 3;
    }
    cr_expect(complete >= 1 && complete < 8, "%d of 8 complete when killed", complete);

    sleep_ms(20); /* mtimes of rewritten files would differ */
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-w 1 -o %s -f txt,json,srt %s", bin(), model, P("out"), P("in"));
    rc = run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "rerun: exit %d: %s", rc, out);
    char want[64];
    snprintf(want, sizeof want, "%d already complete", complete);
    cr_expect(strstr(out, want) != NULL, "%s\n%s", want, out);
    list_files(P("out"), ls, sizeof ls);
    cr_expect_eq(count_tmp(ls), 0, "%s", ls);
    /* sorted: ".uzwhisper.lock", "00.json" ... "07.txt", "failures.jsonl" */
    char sorted[4096] = ".uzwhisper.lock\n";
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 3; k++) {
            char line[32];
            snprintf(line, sizeof line, "%02d.%s\n", i, (const char *[]){"json", "srt", "txt"}[k]);
            strcat(sorted, line);
        }
    strcat(sorted, "failures.jsonl\n");
    cr_expect_str_eq(ls, sorted, "every output exactly once");
    /* what was complete before was not rewritten */
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 3; k++) {
            if (!before[i][k].st_ino) continue;
            char f[64];
            snprintf(f, sizeof f, "out/%02d.%s", i, ext[k]);
            struct stat now = stat_of(P(f));
            cr_expect(now.st_ino == before[i][k].st_ino && now.st_mtim.tv_sec == before[i][k].st_mtim.tv_sec &&
                          now.st_mtim.tv_nsec == before[i][k].st_mtim.tv_nsec,
                      "%s was redone", f);
        }
}

Test(batch, sigint_finishes_files_in_flight_and_exits_130) {
    need_model();
    make_folder("in", 8);
    char cmd[4096], log[600];
    snprintf(log, sizeof log, "%s/run.log", tmp);
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-w 1 -o %s -f json,vtt %s", bin(), model, P("out"), P("in"));
    pid_t pid = spawn(cmd, log);
    int seen = wait_for_output(P("out"), ".vtt", 60);
    kill(pid, SIGINT);
    int rc = wait_exit(pid, 30);
    cr_assert(seen, "no output appeared within 60 s");
    char *text = (char *)tu_read_file(log, NULL);
    cr_expect_eq(rc, 130, "exit %d: %s", rc, text);
    cr_expect(text && strstr(text, "interrupted") && strstr(text, "summary:"), "%s", text);
    free(text);
    static char ls[65536];
    list_files(P("out"), ls, sizeof ls);
    cr_expect_eq(count_tmp(ls), 0, "%s", ls);
    int done = 0;
    for (int i = 0; i < 8; i++) {
        char j[64], v[64];
        snprintf(j, sizeof j, "out/%02d.json", i);
        snprintf(v, sizeof v, "out/%02d.vtt", i);
        cr_expect_eq(tu_exists(P(j)), tu_exists(P(v)), "%02d: one format without the other", i);
        done += tu_exists(P(j));
    }
    cr_expect(done >= 1 && done < 8, "%d of 8 done", done);
}

/* a equals b; reals within atol + rtol * |b| (0 and 0: exactly) */
static int json_close(json_t *a, json_t *b, double atol, double rtol) {
    if (json_is_real(a) && json_is_real(b)) {
        double x = json_real_value(a), y = json_real_value(b);
        return x == y || (rtol > 0 && (x - y <= atol + rtol * (y < 0 ? -y : y)) && (y - x <= atol + rtol * (y < 0 ? -y : y)));
    }
    if (json_typeof(a) != json_typeof(b)) return 0;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_close(json_array_get(a, i), json_array_get(b, i), atol, rtol)) return 0;
        return 1;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b)) return 0;
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v) {
            json_t *w = json_object_get(b, k);
            if (!w || !json_close(v, w, atol, rtol)) return 0;
        }
        return 1;
    }
    return json_equal(a, b);
}

/* every output of dir a equals dir b's: txt and srt byte for byte, JSON without its timings and
 * with numbers within rtol (0: exactly) */
static void same_outputs(const char *a, const char *b, int n, double rtol) {
    const char *ext[] = {"txt", "srt", "json"};
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            char fa[1024], fb[1024];
            snprintf(fa, sizeof fa, "%s/%02d.%s", a, i, ext[k]);
            snprintf(fb, sizeof fb, "%s/%02d.%s", b, i, ext[k]);
            if (k < 2) {
                char *x = (char *)tu_read_file(fa, NULL), *y = (char *)tu_read_file(fb, NULL);
                cr_assert(x && y, "%s / %s missing", fa, fb);
                cr_expect_str_eq(x, y, "%s", fa);
                free(x);
                free(y);
            } else {
                json_error_t je;
                json_t *x = json_load_file(fa, 0, &je), *y = json_load_file(fb, 0, &je);
                cr_assert(x && y);
                json_object_del(x, "timings_ms");
                json_object_del(y, "timings_ms");
                cr_expect(json_close(x, y, 1e-6, rtol), "%s differs from %s", fa, fb);
                json_decref(x);
                json_decref(y);
            }
        }
}

/* The engine's numbers depend on the thread count in their last digits (BLAS and OpenMP split
 * reductions by thread), never on how many workers run beside each other: at one thread count
 * 1 and 2 workers write identical files; sized to the machine (1 x all cores vs 2 x half) the
 * transcripts are identical and the probabilities agree to 1e-3. */
Test(batch, two_workers_write_what_one_worker_writes) {
    need_model();
    make_folder("in", 4);
    char cmd[4096], out[16384];
    const char *runs[][2] = {{"-w 1 -t 1", "out1"}, {"-w 2 -t 1", "out2"}, {"-w 1", "out3"}, {"-w 2", "out4"}};
    for (int r = 0; r < 4; r++) {
        /* auto language: detection runs too */
        snprintf(cmd, sizeof cmd, "%s transcribe -m %s --max-tokens 3 --no-progress %s -o %s -f txt,srt,json %s", bin(), model,
                 runs[r][0], P(runs[r][1]), P("in"));
        cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
        if (r % 2) cr_expect(strstr(out, "2 workers") != NULL, "%s", out);
    }
    same_outputs(P("out1"), P("out2"), 4, 0);
    same_outputs(P("out3"), P("out4"), 4, 1e-3);
    /* stdout mode keeps input order whatever order the workers finish in */
    char o1[65536], o2[65536];
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --max-tokens 3 -w 1 -t 1 --json %s/*.wav 2>/dev/null", bin(), model, P("in"));
    cr_assert_eq(run(cmd, o1, sizeof o1), 0, "%s", o1);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --max-tokens 3 -w 3 -t 1 --json %s/*.wav 2>/dev/null", bin(), model, P("in"));
    cr_assert_eq(run(cmd, o2, sizeof o2), 0, "%s", o2);
    json_t *a = json_array(), *b = json_array();
    for (int pass = 0; pass < 2; pass++)
        for (char *line = pass ? o2 : o1, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
            *nl = 0;
            json_t *o = json_loads(line, 0, NULL);
            cr_assert(o, "%s", line);
            json_object_del(o, "timings_ms");
            json_array_append_new(pass ? b : a, o);
        }
    cr_expect_eq(json_array_size(a), 4);
    cr_expect(json_equal(a, b), "stdout JSON differs between 1 and 3 workers");
    json_decref(a);
    json_decref(b);
}

Test(batch, an_output_that_cannot_be_written_stops_the_batch_with_exit_4) {
    need_model();
    make_folder("in/sub", 3);
    mkdirs("out");
    cr_assert_eq(tu_write_file(P("out/sub"), "in the way", 10), 0); /* a file where the sub-folder must go */
    char cmd[4096], out[16384];
    snprintf(cmd, sizeof cmd, TRANSCRIBE "-w 1 -o %s %s", bin(), model, P("out"), P("in"));
    int rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 4, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "outputs cannot be written") && strstr(out, "2 not started"), "%s", out);
    char *fl = (char *)tu_read_file(P("out/failures.jsonl"), NULL);
    cr_assert(fl);
    cr_expect(strstr(fl, "\"status\":\"write\"") && strstr(fl, "cannot create folder"), "%s", fl);
    free(fl);
}
