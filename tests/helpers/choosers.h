// tests/helpers/choosers.h: choosers (lc_genie_chooser, worldmodel/genie.h) for the tests of
// the dream beside the real game and of real episodes through the latent->real map, shared
// by the pixel and token suites. Leaves out: policies (lc_policy_sample_cb).
#ifndef LC_TESTS_CHOOSERS_H
#define LC_TESTS_CHOOSERS_H

#include <stdint.h>

#include "core/error.h"

// What a chooser was shown, and what it plays: action everywhere, failing (LC_ERR_NAN) at
// call fail_at (-1: never); seen (when not NULL) receives the first call's M game frames
// (M, 64, 64, 3).
typedef struct chooser_log {
    int action, fail_at, calls, firsts;
    uint8_t *seen;
} chooser_log;
// ctx: a chooser_log. Touches the last byte of the M frames (ASan: they are all there).
int count_chooser(void *ctx, const uint8_t *obs, int M, const uint8_t *first, int32_t *actions,
                  lc_error *err);
// ctx: an int, the action every env plays.
int fixed_chooser(void *ctx, const uint8_t *obs, int M, const uint8_t *first, int32_t *actions,
                  lc_error *err);

#endif
