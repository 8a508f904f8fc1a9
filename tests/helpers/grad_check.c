// tests/helpers/grad_check.c: finite-difference gradient checks (grad_check.h).
// Leaves out: choosing which entries to check beyond a fixed stride.
#include "tests/helpers/grad_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lc_test_fd_check(lc_params *p, int which, lc_test_loss_fn loss, void *ctx) {
    double l0 = loss(ctx);
    if (!isfinite(l0)) {
        fprintf(stderr, "grad %s: the loss is not finite\n", p->t[which].name);
        return 1;
    }
    size_t n = p->t[which].size;
    float *an = malloc(n * sizeof(float));
    if (!an) return 1;
    memcpy(an, lc_grad(p, which), n * sizeof(float));
    float *w = lc_param(p, which);
    int bad = 0;
    for (int k = 0; k < 6; k++) {
        size_t i = (size_t)k * 7919 % n;
        double num = 0;
        int ok = 0;
        for (int hs = 0; hs < 2 && !ok; hs++) {
            float old = w[i], h = hs ? 5e-4f : 2e-3f;
            w[i] = old + h;
            double lp = loss(ctx);
            w[i] = old - h;
            double lm = loss(ctx);
            w[i] = old;
            num = (lp - lm) / (2 * h);
            ok = fabs(num - an[i]) <= 1e-3 + 0.05 * fabs(num) * (hs ? 2 : 1);
        }
        if (!ok) {
            fprintf(stderr, "grad %s[%zu]: numeric %g analytic %g\n", p->t[which].name, i, num,
                    an[i]);
            bad++;
        }
    }
    free(an);
    return bad;
}
