/* The uzwhisper command as a script sees it: exit codes and messages for good and bad inputs
 * (corrupt model, truncated WAV, a text file named .wav, an empty file), convert + inspect + info. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[256];
static char model[512];

/* Run a shell command; capture stdout+stderr into out; return the exit status. */
static int run(const char *cmd, char *out, size_t cap) { return tu_run(cmd, out, cap); }

static const char *bin(void) { return tu_build("uzwhisper"); }

static void setup(void) { tu_tmp_with_tiny_model("uzw-cli", tmpdir, sizeof tmpdir, model, sizeof model); }

static void teardown(void) { tu_rmtree(tmpdir); }

static void need_model(void) {
    if (!model[0]) cr_skip_test("tests/fixtures/tiny-random/hf is missing (run tests/reference/make_golden.py)");
}

TestSuite(cli, .init = setup, .fini = teardown);

Test(cli, transcribes_real_clip_and_prints_json) {
    need_model();
    char cmd[2048], out[65536];
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --language en --max-tokens 8 --json %s", bin(), model, tu_shared("data/en/jfk.flac"));
    int rc = run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "\"language\":\"en\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"timings_ms\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"segments\"") != NULL, "%s", out);
}

Test(cli, corrupt_model_is_a_clear_error) {
    need_model();
    char bad[600], cmd[2048], out[8192];
    /* flip one byte inside the metadata: the CRC must catch it */
    snprintf(bad, sizeof bad, "%s/corrupt.uzw", tmpdir);
    size_t n;
    uint8_t *b = tu_read_file(model, &n);
    cr_assert(b);
    b[300] ^= 0x5a;
    cr_assert_eq(tu_write_file(bad, b, n), 0);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s", bin(), bad, tu_shared("data/en/jfk.flac"));
    int rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 2, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "error") && strstr(out, "corrupt.uzw"), "%s", out);
    /* truncated to half */
    snprintf(bad, sizeof bad, "%s/truncated.uzw", tmpdir);
    cr_assert_eq(tu_write_file(bad, b, n / 2), 0);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s", bin(), bad, tu_shared("data/en/jfk.flac"));
    rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 2, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "truncated") != NULL, "%s", out);
    free(b);
    /* not a model at all */
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s", bin(), tu_shared("data/en/jfk.txt"), tu_shared("data/en/jfk.flac"));
    rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 2, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "not a uzwhisper weight file") != NULL, "%s", out);
}

Test(cli, bad_audio_inputs_are_clear_errors) {
    need_model();
    char path[600], cmd[4096], out[8192];
    /* a text file renamed .wav */
    snprintf(path, sizeof path, "%s/text.wav", tmpdir);
    cr_assert_eq(tu_write_file(path, "hello, this is not audio\n", 25), 0);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s", bin(), model, path);
    int rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "text.wav") != NULL, "%s", out);
    /* an empty file */
    snprintf(path, sizeof path, "%s/empty.wav", tmpdir);
    cr_assert_eq(tu_write_file(path, "", 0), 0);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s", bin(), model, path);
    rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    /* a real WAV cut in half */
    size_t n;
    uint8_t *w = tu_read_file(tu_shared("data/ru/deepspeech_ru.wav"), &n);
    cr_assert(w);
    snprintf(path, sizeof path, "%s/truncated.wav", tmpdir);
    cr_assert_eq(tu_write_file(path, w, n / 2), 0);
    free(w);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s %s", bin(), model, path);
    rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "truncated") != NULL, "%s", out);
    /* a missing file among good ones: the batch goes on, exit 3 */
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --max-tokens 2 %s/missing.wav %s", bin(), model, tmpdir, tu_shared("data/ru/deepspeech_ru.wav"));
    rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "1 of 2 files failed") != NULL, "%s", out);
}

Test(cli, usage_errors_and_info) {
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "%s frobnicate", bin());
    cr_expect_eq(run(cmd, out, sizeof out), 1, "%s", out);
    snprintf(cmd, sizeof cmd, "%s transcribe", bin());
    cr_expect_eq(run(cmd, out, sizeof out), 1, "%s", out);
    snprintf(cmd, sizeof cmd, "%s info", bin());
    cr_expect_eq(run(cmd, out, sizeof out), 0, "%s", out);
    const char *keys[] = {"version: ", "backends: ", "cpu_features: ", "gpu: ", "model: "};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) cr_expect(strstr(out, keys[i]) != NULL, "missing '%s' in %s", keys[i], out);
}

Test(cli, inspect_and_language_errors) {
    need_model();
    char cmd[2048], out[65536];
    snprintf(cmd, sizeof cmd, "%s inspect --verify %s", bin(), model);
    cr_expect_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "enc.conv1.weight") && strstr(out, "data checksum: ok") && strstr(out, "token.eot"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s transcribe -m %s --language xx %s", bin(), model, tu_shared("data/en/jfk.flac"));
    int rc = run(cmd, out, sizeof out);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "unknown language 'xx'") != NULL, "%s", out);
}
