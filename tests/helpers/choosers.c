// tests/helpers/choosers.c: choosers for the genie tests (choosers.h). Leaves out: policies.
#include "tests/helpers/choosers.h"

#include <string.h>

int count_chooser(void *ctx, const uint8_t *obs, int M, const uint8_t *first, int32_t *actions,
                  lc_error *err) {
    chooser_log *c = ctx;
    volatile uint8_t last = obs[(size_t)M * 64 * 64 * 3 - 1]; // ASan: M game frames are there
    (void)last;
    if (c->seen && c->calls == 0) memcpy(c->seen, obs, (size_t)M * 64 * 64 * 3);
    if (c->calls++ == c->fail_at) return lc_fail(err, LC_ERR_NAN, "chooser failed");
    for (int i = 0; i < M; i++) {
        c->firsts += first[i];
        actions[i] = c->action;
    }
    return LC_OK;
}

int fixed_chooser(void *ctx, const uint8_t *obs, int M, const uint8_t *first, int32_t *actions,
                  lc_error *err) {
    (void)obs, (void)first, (void)err;
    for (int i = 0; i < M; i++) actions[i] = *(const int *)ctx;
    return LC_OK;
}
