// tests/helpers/grad_check.h: central finite differences against analytic gradients for
// any loss over a parameter arena (the world-model suites' gradient checks). Leaves out:
// input gradients, second derivatives.
#ifndef LC_TESTS_GRAD_CHECK_H
#define LC_TESTS_GRAD_CHECK_H

#include "nn/nn.h"

// loss(ctx) computes the loss and writes its gradients into the arena's grads.
typedef double (*lc_test_loss_fn)(void *ctx);

// Checks 6 entries of tensor `which` of p: the analytic gradient that loss leaves in
// p->grads against (loss(w + h) - loss(w - h)) / 2h at h = 2e-3, and where that misses
// (a step may cross a relu or max kink) at h = 5e-4 with twice the tolerance; a real error
// shows at both. Returns the number of entries that fail (each printed to stderr).
int lc_test_fd_check(lc_params *p, int which, lc_test_loss_fn loss, void *ctx);

#endif
