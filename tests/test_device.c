/* Device selection (uzw_context_set_device) on any machine: devices the context cannot use are
 * refused with a status and a message naming them, and the context stays usable on the CPU. The
 * CUDA forward pass itself is checked in tests/gpu/test_gpu_forward.c. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "uzwhisper.h"

Test(device, bad_device_names_fail_cleanly) {
    char dir[128] = "", path[256] = "", err[1024];
    if (tu_tmp_with_tiny_model("uzw-device", dir, sizeof dir, path, sizeof path) != 0) cr_skip_test("fixture absent");
    uzw_model *m = NULL;
    uzw_context *ctx = NULL;
    cr_assert_eq(uzw_model_load(path, NULL, &m, err, sizeof err), UZW_OK, "%s", err);
    cr_assert_eq(uzw_context_create(m, &ctx), UZW_OK);
    cr_expect_str_eq(uzw_context_device(ctx), "cpu");
    cr_expect_eq(uzw_context_set_device(ctx, "tpu"), UZW_ERR_INVALID_ARG);
    cr_expect(strstr(uzw_last_error(ctx), "tpu") != NULL, "message: %s", uzw_last_error(ctx));
    cr_expect_eq(uzw_context_set_device(ctx, "cuda:-1"), UZW_ERR_INVALID_ARG);
    cr_expect_eq(uzw_context_set_device(ctx, "cuda:1x"), UZW_ERR_INVALID_ARG);
    /* no machine has 100 GPUs; a build without CUDA says so instead */
    cr_expect_eq(uzw_context_set_device(ctx, "cuda:99"), UZW_ERR_DEVICE);
    cr_expect(strstr(uzw_last_error(ctx), "cuda:99") != NULL, "message: %s", uzw_last_error(ctx));
    cr_expect_str_eq(uzw_context_device(ctx), "cpu");
    cr_expect_eq(uzw_context_set_device(ctx, "cpu"), UZW_OK);
    cr_expect_str_eq(uzw_status_string(UZW_ERR_DEVICE), "GPU device error");
    uzw_context_free(ctx);
    uzw_model_free(m);
    tu_rmtree(dir);
}
