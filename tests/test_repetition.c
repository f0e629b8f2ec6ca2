/* The repetition-loop guard on hand-made token sequences (ids >= 100 play timestamps, EOT = 100). */
#include <criterion/criterion.h>

#include "decode/repetition.h"

#define EOT 100

Test(repetition, no_loop_keeps_everything) {
    int32_t t[] = {1, 2, 3, 4, 5, 1, 2, 3, 6, 7};
    cr_expect_eq(uzw_repetition_cut(t, 10, EOT), 10);
    int32_t laugh[] = {9, 9, 9, 9, 5}; /* "ha ha ha ha": a single token 4 times is speech */
    cr_expect_eq(uzw_repetition_cut(laugh, 5, EOT), 5);
    cr_expect_eq(uzw_repetition_cut(t, 0, EOT), 0);
}

Test(repetition, single_token_loop) {
    int32_t t[20] = {1, 2};
    for (int i = 2; i < 20; i++) t[i] = 7; /* 18 times */
    cr_expect_eq(uzw_repetition_cut(t, 20, EOT), 3); /* 1 2 7 */
}

Test(repetition, phrase_loop_with_timestamps) {
    /* <ts> a b c <ts><ts> a b c <ts><ts> a b c <ts> ... : text a b c repeated 5 times */
    int32_t t[64];
    int n = 0;
    t[n++] = 150;
    t[n++] = 5; t[n++] = 6; t[n++] = 7; /* a different first sentence */
    t[n++] = 160; t[n++] = 160;
    for (int r = 0; r < 5; r++) {
        t[n++] = 11; t[n++] = 12; t[n++] = 13;
        t[n++] = 170 + r; t[n++] = 170 + r;
    }
    int keep = uzw_repetition_cut(t, n, EOT);
    /* kept: 150 5 6 7 160 160 11 12 13 170 */
    cr_expect_eq(keep, 10, "kept %d", keep);
    cr_expect_eq(t[keep - 1], 170);
}

Test(repetition, period_needs_enough_repeats) {
    int32_t t[] = {1, 2, 1, 2, 1, 2, 3}; /* period 2 three times: below the 6 needed */
    cr_expect_eq(uzw_repetition_cut(t, 7, EOT), 7);
    int32_t u[] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 9};
    cr_expect_eq(uzw_repetition_cut(u, 13, EOT), 2);
}
