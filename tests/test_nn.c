// tests/test_nn.c: Check suite for nn/: every layer's backward against central
// finite differences, forward values checked by hand, optimizers, init, the arena,
// checkpoints, and two tiny training runs. Leaves out: timing (bench/bench_mlp.c).
//
// Gradient checks: the forward runs in float, the objective sum(out * R) (R random)
// is accumulated in double, the derivative is (f(x + e) - f(x - e)) / (2 e) with
// e = 1e-2 (the step actually taken in float), and every element must satisfy
//     |analytic - numeric| / max(1e-2, |analytic| + |numeric|) < 1e-2
// (observed worst about 2e-3). Why not e = 1e-3: each float output carries ~6e-8
// relative rounding, so a sum over ~100 outputs moves by ~5e-7 between two forward
// passes; divided by 2e that is ~2.5e-4 at e = 1e-3, as large as the error allowed
// for a small gradient, while at e = 1e-2 both that noise and the truncation error
// (e^2 f''' / 6) are ~1e-5. A wrong gradient is off by far more than either.
// Letters: B batch, C/OC channels, H/W image size or hidden size, K kernel or codes,
// D code dimension, T time, V classes.
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/rng.h"
#include "nn/nn.h"

#define GC_EPS 1e-2
#define GC_TOL 1e-2

// ---------------------------------------------------------------- helpers

static float *fa(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    ck_assert_ptr_nonnull(p);
    return p;
}

static void fill(float *x, size_t n, float lo, float hi, lc_rng *r) {
    for (size_t i = 0; i < n; i++) x[i] = (float)lc_rng_uniform(r, lo, hi);
}

static double dot_obj(const float *out, const float *R, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * R[i];
    return s;
}

typedef double (*obj_fn)(void *ctx);

// Max over elements of the relative error of analytic gradient ga w.r.t. x.
static double grad_err(obj_fn f, void *ctx, float *x, const float *ga, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float s = x[i];
        float xp = (float)(s + GC_EPS), xm = (float)(s - GC_EPS);
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = s;
        double num = (fp - fm) / ((double)xp - (double)xm);
        double den = fabs(ga[i]) + fabs(num);
        double e = fabs(ga[i] - num) / (den > 1e-2 ? den : 1e-2);
        if (getenv("LC_TEST_VERBOSE") && e > 1e-3)
            fprintf(stderr, "  [%zu] analytic %.8g numeric %.8g err %.3g\n", i, ga[i], num, e);
        if (e > worst) worst = e;
    }
    f(ctx); // leave the forward state as it was
    return worst;
}

#define CHECK_GRAD(f, ctx, x, ga, n)                                                               \
    do {                                                                                           \
        double e_ = grad_err(f, ctx, x, ga, n);                                                    \
        ck_assert_msg(e_ < GC_TOL, "gradient of %s: relative error %g", #x, e_);                   \
    } while (0)

// ---------------------------------------------------------------- linear

START_TEST(test_linear_forward_values) {
    float in[6] = {1, 2, 3, 4, 5, 6};
    float w[6] = {1, 0, -1, 0.5f, 0.5f, 0.5f};
    float b[2] = {0.1f, -0.2f};
    float out[4];
    lc_linear_forward(out, in, w, b, 2, 3, 2);
    ck_assert_float_eq_tol(out[0], -1.9f, 1e-6f);
    ck_assert_float_eq_tol(out[1], 2.8f, 1e-6f);
    ck_assert_float_eq_tol(out[2], -1.9f, 1e-6f);
    ck_assert_float_eq_tol(out[3], 7.3f, 1e-6f);
    lc_linear_forward(out, in, w, NULL, 2, 3, 2);
    ck_assert_float_eq_tol(out[0], -2.0f, 1e-6f);
    ck_assert_float_eq_tol(out[3], 7.5f, 1e-6f);
}
END_TEST

typedef struct lin_ctx {
    float *out, *in, *w, *b, *R;
    int B, C, OC;
} lin_ctx;

static double lin_obj(void *p) {
    lin_ctx *c = p;
    lc_linear_forward(c->out, c->in, c->w, c->b, c->B, c->C, c->OC);
    return dot_obj(c->out, c->R, (size_t)c->B * c->OC);
}

START_TEST(test_linear_grad) {
    lc_rng r;
    lc_rng_seed(&r, 1, 0);
    lin_ctx c = {0};
    c.B = 5, c.C = 7, c.OC = 4;
    size_t ni = 35, nw = 28, no = 20;
    c.out = fa(no), c.in = fa(ni), c.w = fa(nw), c.b = fa(4), c.R = fa(no);
    fill(c.in, ni, -1, 1, &r), fill(c.w, nw, -1, 1, &r), fill(c.b, 4, -1, 1, &r);
    fill(c.R, no, -1, 1, &r);
    float *din = fa(ni), *dw = fa(nw), *db = fa(4);
    lc_linear_backward(din, dw, db, c.R, c.in, c.w, c.B, c.C, c.OC);
    CHECK_GRAD(lin_obj, &c, c.in, din, ni);
    CHECK_GRAD(lin_obj, &c, c.w, dw, nw);
    CHECK_GRAD(lin_obj, &c, c.b, db, 4);
    // Backward adds: a second call doubles every gradient.
    float d0 = din[3], w0 = dw[5], b0 = db[1];
    lc_linear_backward(din, dw, db, c.R, c.in, c.w, c.B, c.C, c.OC);
    ck_assert_float_eq_tol(din[3], 2 * d0, 1e-5f);
    ck_assert_float_eq_tol(dw[5], 2 * w0, 1e-5f);
    ck_assert_float_eq_tol(db[1], 2 * b0, 1e-5f);
    free(c.out), free(c.in), free(c.w), free(c.b), free(c.R), free(din), free(dw), free(db);
}
END_TEST

// ---------------------------------------------------------------- activations

static double ref_act(lc_act a, double x) {
    switch (a) {
    case LC_ACT_RELU: return x > 0 ? x : 0;
    case LC_ACT_TANH: return tanh(x);
    case LC_ACT_SILU: return x / (1 + exp(-x));
    case LC_ACT_GELU: // 0.5 x (1 + tanh u) written as x sigmoid(2 u), exact in the tail
        return x / (1 + exp(-2 * sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    default: return x;
    }
}

START_TEST(test_act_forward_values) {
    enum { N = 2001 };
    float *x = fa(N), *y = fa(N);
    for (int i = 0; i < N; i++) x[i] = -20.0f + 40.0f * i / (N - 1);
    x[7] = 1e-6f, x[8] = -3e-5f, x[9] = 0.6249f, x[10] = 0.6251f, x[11] = 100.0f, x[12] = -100.0f;
    for (int a = LC_ACT_NONE; a <= LC_ACT_GELU; a++) {
        lc_act_forward((lc_act)a, y, x, N);
        for (int i = 0; i < N; i++) {
            double ref = ref_act((lc_act)a, x[i]);
            // A few float ulps of the double reference; tanh (a rational fit) 3e-7
            // absolute. silu and gelu take exp of a float argument g, whose rounding
            // (|g| 2^-24) becomes a relative error of the result.
            double g = a == LC_ACT_SILU ? x[i]
                       : a == LC_ACT_GELU ? 1.6 * (x[i] + 0.044715 * x[i] * x[i] * x[i]) : 0.0;
            double tol = (4e-7 + 1.2e-7 * fabs(g)) * fabs(ref) + (a == LC_ACT_TANH ? 3e-7 : 1e-30);
            ck_assert_msg(fabs(y[i] - ref) <= tol, "%s(%g) = %.9g, expected %.9g",
                          lc_act_name((lc_act)a), x[i], y[i], ref);
        }
    }
    // in and out may alias
    memcpy(y, x, N * sizeof(float));
    lc_tanh_forward(y, y, N);
    ck_assert_float_eq_tol(y[1500], tanhf(x[1500]), 1e-6f);
    free(x), free(y);
}
END_TEST

START_TEST(test_act_names) {
    lc_act a;
    for (int i = LC_ACT_NONE; i <= LC_ACT_GELU; i++) {
        ck_assert_int_eq(lc_act_parse(lc_act_name((lc_act)i), &a), LC_OK);
        ck_assert_int_eq(a, i);
    }
    ck_assert_str_eq(lc_act_name(LC_ACT_TANH), "tanh");
    ck_assert_int_eq(lc_act_parse("sigmoidal", &a), LC_ERR_ARG);
}
END_TEST

typedef struct act_ctx {
    lc_act a;
    float *out, *in, *R;
    size_t n;
} act_ctx;

static double act_obj(void *p) {
    act_ctx *c = p;
    lc_act_forward(c->a, c->out, c->in, c->n);
    return dot_obj(c->out, c->R, c->n);
}

START_TEST(test_act_grad) {
    lc_act a = (lc_act)_i;
    lc_rng r;
    lc_rng_seed(&r, 2, (uint64_t)a);
    act_ctx c = {a, NULL, NULL, NULL, 53}; // 53: blocks and a tail
    c.out = fa(c.n), c.in = fa(c.n), c.R = fa(c.n);
    fill(c.in, c.n, -4, 4, &r), fill(c.R, c.n, -1, 1, &r);
    for (size_t i = 0; i < c.n; i++) // keep relu's kink out of the FD stencil
        if (fabsf(c.in[i]) < 0.05f) c.in[i] = 0.3f;
    float *din = fa(c.n);
    act_obj(&c);
    lc_act_backward(a, din, c.R, c.in, c.out, c.n);
    CHECK_GRAD(act_obj, &c, c.in, din, c.n);
    free(c.out), free(c.in), free(c.R), free(din);
}
END_TEST

// ---------------------------------------------------------------- layer norm

typedef struct ln_ctx {
    float *out, *mean, *rstd, *in, *w, *b, *R;
    int B, C;
} ln_ctx;

static double ln_obj(void *p) {
    ln_ctx *c = p;
    lc_layernorm_forward(c->out, c->mean, c->rstd, c->in, c->w, c->b, c->B, c->C);
    return dot_obj(c->out, c->R, (size_t)c->B * c->C);
}

START_TEST(test_layernorm) {
    lc_rng r;
    lc_rng_seed(&r, 3, 0);
    ln_ctx c = {0};
    c.B = 4, c.C = 19;
    size_t n = 76;
    c.out = fa(n), c.mean = fa(4), c.rstd = fa(4), c.in = fa(n), c.w = fa(19), c.b = fa(19);
    c.R = fa(n);
    fill(c.in, n, -2, 3, &r), fill(c.R, n, -1, 1, &r);
    for (int j = 0; j < 19; j++) c.w[j] = 1.0f;
    ln_obj(&c);
    for (int i = 0; i < 4; i++) { // unit weights: mean 0, variance ~1 per row
        double m = 0, v = 0;
        for (int j = 0; j < 19; j++) m += c.out[i * 19 + j];
        m /= 19;
        for (int j = 0; j < 19; j++) v += (c.out[i * 19 + j] - m) * (c.out[i * 19 + j] - m);
        v /= 19;
        ck_assert_double_eq_tol(m, 0.0, 1e-6);
        ck_assert_double_eq_tol(v, 1.0, 1e-3);
    }
    fill(c.w, 19, 0.5f, 1.5f, &r), fill(c.b, 19, -1, 1, &r);
    ln_obj(&c);
    float *din = fa(n), *dw = fa(19), *db = fa(19);
    lc_layernorm_backward(din, dw, db, c.R, c.in, c.w, c.mean, c.rstd, c.B, c.C);
    CHECK_GRAD(ln_obj, &c, c.in, din, n);
    CHECK_GRAD(ln_obj, &c, c.w, dw, 19);
    CHECK_GRAD(ln_obj, &c, c.b, db, 19);
    free(c.out), free(c.mean), free(c.rstd), free(c.in), free(c.w), free(c.b), free(c.R);
    free(din), free(dw), free(db);
}
END_TEST

// ---------------------------------------------------------------- softmax and losses

START_TEST(test_softmax_values) {
    float logits[6] = {0.0f, logf(2.0f), logf(3.0f), 1000.0f, 1000.0f, -1000.0f};
    float p[6], lp[6];
    lc_softmax(p, logits, 2, 3);
    lc_log_softmax(lp, logits, 2, 3);
    ck_assert_float_eq_tol(p[0], 1.0f / 6, 1e-6f);
    ck_assert_float_eq_tol(p[1], 2.0f / 6, 1e-6f);
    ck_assert_float_eq_tol(p[2], 3.0f / 6, 1e-6f);
    ck_assert_float_eq_tol(lp[2], logf(0.5f), 1e-6f);
    ck_assert_float_eq_tol(p[3], 0.5f, 1e-6f); // huge logits stay finite
    ck_assert_float_eq_tol(p[5], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(lp[3], -logf(2.0f), 1e-5f);
    ck_assert_float_eq_tol(lp[5], -2000.0f - logf(2.0f), 1e-2f);
}
END_TEST

typedef struct loss_ctx {
    float *a, *b, *t, *probs;
    int *targets;
    int B, D;
    size_t n;
} loss_ctx;

static double xent_obj(void *p) {
    loss_ctx *c = p;
    return lc_xent_forward(c->probs, c->a, c->targets, c->B, c->D);
}

START_TEST(test_xent) {
    // hand value: logits (0, ln 2, ln 3), target 2 -> -ln(1/2)
    float l1[3] = {0.0f, logf(2.0f), logf(3.0f)}, p1[3];
    int t1 = 2;
    ck_assert_float_eq_tol(lc_xent_forward(p1, l1, &t1, 1, 3), logf(2.0f), 1e-6f);
    ck_assert_float_eq_tol(p1[0], 1.0f / 6, 1e-6f);
    lc_rng r;
    lc_rng_seed(&r, 4, 0);
    loss_ctx c = {0};
    c.B = 4, c.D = 5;
    int targets[4] = {0, 3, 4, 1};
    c.targets = targets;
    c.a = fa(20), c.probs = fa(20);
    fill(c.a, 20, -3, 3, &r);
    xent_obj(&c);
    float *d = fa(20);
    lc_xent_backward(d, c.probs, targets, 4, 5, 1.0f / 4);
    CHECK_GRAD(xent_obj, &c, c.a, d, 20);
    free(c.a), free(c.probs), free(d);
}
END_TEST

static double mse_obj(void *p) {
    loss_ctx *c = p;
    return lc_mse_forward(c->a, c->t, c->n);
}

START_TEST(test_mse) {
    float a[2] = {1, 2}, t[2] = {0, 4};
    ck_assert_float_eq_tol(lc_mse_forward(a, t, 2), 2.5f, 1e-6f);
    lc_rng r;
    lc_rng_seed(&r, 5, 0);
    loss_ctx c = {0};
    c.n = 21;
    c.a = fa(21), c.t = fa(21);
    fill(c.a, 21, -2, 2, &r), fill(c.t, 21, -2, 2, &r);
    float *d = fa(21);
    lc_mse_backward(d, c.a, c.t, 21, 1.0f);
    CHECK_GRAD(mse_obj, &c, c.a, d, 21);
    free(c.a), free(c.t), free(d);
}
END_TEST

static double gauss_obj(void *p) {
    loss_ctx *c = p;
    return lc_gauss_nll_forward(c->a, c->b, c->t, c->B, c->D);
}

START_TEST(test_gauss_nll) {
    // mu 0, logvar 0, target 1: 0.5 (0 + 1 + log 2pi); logvar ln 4, target 2: 0.5 (ln 4 + 1 + log 2pi)
    float mu[2] = {0, 0}, lv[2] = {0, logf(4.0f)}, t[2] = {1, 2};
    double l2pi = log(2 * M_PI);
    ck_assert_float_eq_tol(lc_gauss_nll_forward(mu, lv, t, 1, 1), 0.5 * (1 + l2pi), 1e-6);
    ck_assert_float_eq_tol(lc_gauss_nll_forward(mu, lv, t, 1, 2),
                           0.5 * (1 + l2pi) + 0.5 * (log(4.0) + 1 + l2pi), 1e-5);
    ck_assert_float_eq_tol(lc_gauss_nll_forward(mu, lv, t, 2, 1),
                           (0.5 * (1 + l2pi) + 0.5 * (log(4.0) + 1 + l2pi)) / 2, 1e-5);
    lc_rng r;
    lc_rng_seed(&r, 6, 0);
    loss_ctx c = {0};
    c.B = 3, c.D = 4;
    c.a = fa(12), c.b = fa(12), c.t = fa(12);
    fill(c.a, 12, -1, 1, &r), fill(c.b, 12, -1.5f, 1.5f, &r), fill(c.t, 12, -2, 2, &r);
    float *dmu = fa(12), *dlv = fa(12);
    lc_gauss_nll_backward(dmu, dlv, c.a, c.b, c.t, 3, 4, 1.0f);
    CHECK_GRAD(gauss_obj, &c, c.a, dmu, 12);
    CHECK_GRAD(gauss_obj, &c, c.b, dlv, 12);
    free(c.a), free(c.b), free(c.t), free(dmu), free(dlv);
}
END_TEST

static double bce_obj(void *p) {
    loss_ctx *c = p;
    return lc_bce_logits_forward(c->a, c->t, c->n);
}

START_TEST(test_bce) {
    float x[3] = {0.0f, 100.0f, -100.0f}, t[3] = {1.0f, 0.0f, 0.0f};
    ck_assert_float_eq_tol(lc_bce_logits_forward(x, t, 1), logf(2.0f), 1e-6f);
    ck_assert_float_eq_tol(lc_bce_logits_forward(x + 1, t + 1, 1), 100.0f, 1e-4f); // no overflow
    ck_assert_float_eq_tol(lc_bce_logits_forward(x + 2, t + 2, 1), 0.0f, 1e-6f);
    float d[3] = {0};
    lc_bce_logits_backward(d, x, t, 3, 3.0f);
    ck_assert_float_eq_tol(d[0], -0.5f, 1e-6f);
    ck_assert_float_eq_tol(d[1], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(d[2], 0.0f, 1e-6f);
    lc_rng r;
    lc_rng_seed(&r, 7, 0);
    loss_ctx c = {0};
    c.n = 17;
    c.a = fa(17), c.t = fa(17);
    fill(c.a, 17, -4, 4, &r), fill(c.t, 17, 0, 1, &r);
    float *g = fa(17);
    lc_bce_logits_backward(g, c.a, c.t, 17, 1.0f);
    CHECK_GRAD(bce_obj, &c, c.a, g, 17);
    free(c.a), free(c.t), free(g);
}
END_TEST

// ---------------------------------------------------------------- GRU

typedef struct gru_ctx {
    float *h, *cache, *x, *h0, *wx, *wh, *bx, *bh, *R;
    uint8_t *reset;
    int T, B, C, H;
} gru_ctx;

static void gru_alloc(gru_ctx *c, int T, int B, int C, int H, lc_rng *r) {
    c->T = T, c->B = B, c->C = C, c->H = H;
    c->h = fa((size_t)(T + 1) * B * H), c->cache = fa((size_t)T * B * LC_GRU_CACHE(H));
    c->x = fa((size_t)T * B * C), c->h0 = fa((size_t)B * H);
    c->wx = fa((size_t)3 * H * C), c->wh = fa((size_t)3 * H * H), c->bx = fa(3 * H);
    c->bh = fa(3 * H), c->R = fa((size_t)T * B * H), c->reset = calloc((size_t)T * B, 1);
    fill(c->x, (size_t)T * B * C, -1, 1, r), fill(c->h0, (size_t)B * H, -0.8f, 0.8f, r);
    fill(c->wx, (size_t)3 * H * C, -0.6f, 0.6f, r), fill(c->wh, (size_t)3 * H * H, -0.6f, 0.6f, r);
    fill(c->bx, 3 * H, -0.5f, 0.5f, r), fill(c->bh, 3 * H, -0.5f, 0.5f, r);
    fill(c->R, (size_t)T * B * H, -1, 1, r);
}

static void gru_free(gru_ctx *c) {
    free(c->h), free(c->cache), free(c->x), free(c->h0), free(c->wx), free(c->wh);
    free(c->bx), free(c->bh), free(c->R), free(c->reset);
}

static double gru_cell_obj(void *p) {
    gru_ctx *c = p;
    lc_gru_forward(c->h + (size_t)c->B * c->H, c->cache, c->x, c->h0, c->wx, c->wh, c->bx, c->bh,
                   c->B, c->C, c->H);
    return dot_obj(c->h + (size_t)c->B * c->H, c->R, (size_t)c->B * c->H);
}

static double sigm(double x) { return 1 / (1 + exp(-x)); }

START_TEST(test_gru_cell_forward) {
    lc_rng r;
    lc_rng_seed(&r, 8, 0);
    gru_ctx c = {0};
    gru_alloc(&c, 1, 3, 5, 4, &r);
    gru_cell_obj(&c);
    int H = 4, C = 5;
    for (int b = 0; b < 3; b++) { // PyTorch's equations in double
        for (int j = 0; j < H; j++) {
            double g[3][2];
            for (int k = 0; k < 3; k++) {
                double sx = c.bx[k * H + j], sh = c.bh[k * H + j];
                for (int i = 0; i < C; i++) sx += (double)c.x[b * C + i] * c.wx[(k * H + j) * C + i];
                for (int i = 0; i < H; i++) sh += (double)c.h0[b * H + i] * c.wh[(k * H + j) * H + i];
                g[k][0] = sx, g[k][1] = sh;
            }
            double rr = sigm(g[0][0] + g[0][1]), z = sigm(g[1][0] + g[1][1]);
            double n = tanh(g[2][0] + rr * g[2][1]);
            double h = (1 - z) * n + z * c.h0[b * H + j];
            ck_assert_double_eq_tol(c.h[3 * H + b * H + j], h, 2e-6);
        }
    }
    gru_free(&c);
}
END_TEST

START_TEST(test_gru_cell_grad) {
    lc_rng r;
    lc_rng_seed(&r, 9, 0);
    gru_ctx c = {0};
    gru_alloc(&c, 1, 3, 5, 4, &r);
    gru_cell_obj(&c);
    float *dx = fa(15), *dh = fa(12), *dwx = fa(60), *dwh = fa(48), *dbx = fa(12), *dbh = fa(12);
    lc_gru_backward(dx, dh, dwx, dwh, dbx, dbh, c.R, c.cache, c.x, c.h0, c.wx, c.wh, 3, 5, 4);
    CHECK_GRAD(gru_cell_obj, &c, c.x, dx, 15);
    CHECK_GRAD(gru_cell_obj, &c, c.h0, dh, 12);
    CHECK_GRAD(gru_cell_obj, &c, c.wx, dwx, 60);
    CHECK_GRAD(gru_cell_obj, &c, c.wh, dwh, 48);
    CHECK_GRAD(gru_cell_obj, &c, c.bx, dbx, 12);
    CHECK_GRAD(gru_cell_obj, &c, c.bh, dbh, 12);
    // The workspace variant adds the same values.
    float *work = fa(lc_gru_work_size(3, 4)), *dwx2 = fa(60);
    lc_gru_backward_ws(NULL, NULL, dwx2, dwh, NULL, NULL, c.R, c.cache, c.x, c.h0, c.wx, c.wh, 3, 5,
                       4, work);
    for (int i = 0; i < 60; i++) ck_assert_float_eq_tol(dwx2[i], dwx[i], 1e-6f);
    free(dx), free(dh), free(dwx), free(dwh), free(dbx), free(dbh), free(work), free(dwx2);
    gru_free(&c);
}
END_TEST

static double gru_seq_obj(void *p) {
    gru_ctx *c = p;
    memcpy(c->h, c->h0, (size_t)c->B * c->H * sizeof(float));
    lc_gru_seq_forward(c->h, c->cache, c->x, c->reset, c->wx, c->wh, c->bx, c->bh, c->T, c->B, c->C,
                       c->H);
    return dot_obj(c->h + (size_t)c->B * c->H, c->R, (size_t)c->T * c->B * c->H);
}

START_TEST(test_gru_seq_reset) {
    lc_rng r;
    lc_rng_seed(&r, 10, 0);
    gru_ctx c = {0};
    int T = 5, B = 3, C = 4, H = 6;
    gru_alloc(&c, T, B, C, H, &r);
    c.reset[2 * B + 1] = 1; // env 1 starts a new episode before step 2
    c.reset[3 * B + 0] = 1;
    gru_seq_obj(&c);
    // Forward equals cells stepped by hand with the state zeroed at resets.
    float *hs = fa((size_t)B * H), *hn = fa((size_t)B * H), *cache = fa((size_t)B * 4 * H);
    memcpy(hs, c.h0, (size_t)B * H * sizeof(float));
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++)
            if (c.reset[t * B + b]) memset(hs + b * H, 0, (size_t)H * sizeof(float));
        lc_gru_forward(hn, cache, c.x + (size_t)t * B * C, hs, c.wx, c.wh, c.bx, c.bh, B, C, H);
        for (int i = 0; i < B * H; i++)
            ck_assert_float_eq_tol(c.h[(size_t)(t + 1) * B * H + i], hn[i], 1e-6f);
        memcpy(hs, hn, (size_t)B * H * sizeof(float));
    }
    // The state before a reset is left in h: resets act on the way into a step.
    ck_assert_float_ne(c.h[(size_t)2 * B * H + 1 * H], 0.0f);
    // Backward through time, every input and parameter.
    float *dx = fa((size_t)T * B * C), *dh0 = fa((size_t)B * H), *dwx = fa((size_t)3 * H * C);
    float *dwh = fa((size_t)3 * H * H), *dbx = fa(3 * H), *dbh = fa(3 * H);
    lc_gru_seq_backward(dx, dh0, dwx, dwh, dbx, dbh, c.R, c.h, c.cache, c.x, c.reset, c.wx, c.wh, T,
                        B, C, H);
    CHECK_GRAD(gru_seq_obj, &c, c.x, dx, (size_t)T * B * C);
    CHECK_GRAD(gru_seq_obj, &c, c.h0, dh0, (size_t)B * H);
    CHECK_GRAD(gru_seq_obj, &c, c.wx, dwx, (size_t)3 * H * C);
    CHECK_GRAD(gru_seq_obj, &c, c.wh, dwh, (size_t)3 * H * H);
    CHECK_GRAD(gru_seq_obj, &c, c.bx, dbx, 3 * H);
    CHECK_GRAD(gru_seq_obj, &c, c.bh, dbh, 3 * H);
    // The workspace variant adds the same gradients.
    float *dwh2 = fa((size_t)3 * H * H), *work = fa(lc_gru_seq_work_size(B, H));
    lc_gru_seq_backward_ws(NULL, NULL, dwx, dwh2, NULL, NULL, c.R, c.h, c.cache, c.x, c.reset, c.wx,
                           c.wh, T, B, C, H, work);
    for (int i = 0; i < 3 * H * H; i++) ck_assert_float_eq_tol(dwh2[i], dwh[i], 1e-5f);
    free(hs), free(hn), free(cache), free(dx), free(dh0), free(dwx), free(dwh), free(dbx), free(dbh);
    free(dwh2), free(work);
    gru_free(&c);
}
END_TEST

START_TEST(test_gru_seq_reset_cuts_gradient) {
    // With a reset at step 1 for every env, nothing flows back to h0 past step 0.
    lc_rng r;
    lc_rng_seed(&r, 11, 0);
    gru_ctx c = {0};
    int T = 3, B = 2, C = 3, H = 4;
    gru_alloc(&c, T, B, C, H, &r);
    c.reset[1 * B + 0] = c.reset[1 * B + 1] = 1;
    memset(c.R, 0, (size_t)B * H * sizeof(float)); // no loss on step 0's output
    gru_seq_obj(&c);
    float *dwx = fa((size_t)3 * H * C), *dwh = fa((size_t)3 * H * H), *dh0 = fa((size_t)B * H);
    lc_gru_seq_backward(NULL, dh0, dwx, dwh, NULL, NULL, c.R, c.h, c.cache, c.x, c.reset, c.wx,
                        c.wh, T, B, C, H);
    for (int i = 0; i < B * H; i++) ck_assert_float_eq(dh0[i], 0.0f);
    free(dwx), free(dwh), free(dh0);
    gru_free(&c);
}
END_TEST

// ---------------------------------------------------------------- convolutions

// Direct NCHW convolution in double for reference.
static void conv_ref(double *out, const float *in, const float *w, const float *b, int B, int C,
                     int H, int W, int OC, int K, int s, int p) {
    int OH = lc_conv_out(H, K, s, p), OW = lc_conv_out(W, K, s, p);
    for (int n = 0; n < B; n++)
        for (int o = 0; o < OC; o++)
            for (int i = 0; i < OH; i++)
                for (int j = 0; j < OW; j++) {
                    double acc = b ? b[o] : 0;
                    for (int c = 0; c < C; c++)
                        for (int ki = 0; ki < K; ki++)
                            for (int kj = 0; kj < K; kj++) {
                                int ih = i * s - p + ki, iw = j * s - p + kj;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += (double)in[((n * C + c) * H + ih) * W + iw] *
                                       w[((o * C + c) * K + ki) * K + kj];
                            }
                    out[((n * OC + o) * OH + i) * OW + j] = acc;
                }
}

START_TEST(test_conv_forward_values) {
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, 1}, b[1] = {1}, out[4];
    float col[16];
    ck_assert_uint_eq(lc_conv2d_col_size(1, 3, 3, 2, 1, 0), 16);
    lc_conv2d_forward(out, col, in, w, b, 1, 1, 3, 3, 1, 2, 1, 0);
    ck_assert_float_eq_tol(out[0], 7, 1e-6f);
    ck_assert_float_eq_tol(out[1], 9, 1e-6f);
    ck_assert_float_eq_tol(out[2], 13, 1e-6f);
    ck_assert_float_eq_tol(out[3], 15, 1e-6f);
    // stride 2, pad 1, 3x3 kernel of ones on the same image: 2x2 output of window sums
    float w1[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, col2[36];
    ck_assert_int_eq(lc_conv_out(3, 3, 2, 1), 2);
    lc_conv2d_forward(out, col2, in, w1, NULL, 1, 1, 3, 3, 1, 3, 2, 1);
    ck_assert_float_eq_tol(out[0], 1 + 2 + 4 + 5, 1e-6f);
    ck_assert_float_eq_tol(out[1], 2 + 3 + 5 + 6, 1e-6f);
    ck_assert_float_eq_tol(out[2], 4 + 5 + 7 + 8, 1e-6f);
    ck_assert_float_eq_tol(out[3], 5 + 6 + 8 + 9, 1e-6f);
    // Larger shapes against the direct loops, including 1x1 and uneven sizes.
    int cases[][7] = {{2, 3, 7, 6, 4, 3, 2}, {1, 2, 5, 5, 3, 1, 1}, {2, 4, 6, 5, 3, 3, 1},
                      {1, 2, 8, 8, 2, 4, 2}};
    int pads[] = {1, 0, 1, 1};
    lc_rng r;
    lc_rng_seed(&r, 12, 0);
    for (int k = 0; k < 4; k++) {
        int B = cases[k][0], C = cases[k][1], H = cases[k][2], W = cases[k][3], OC = cases[k][4];
        int K = cases[k][5], s = cases[k][6], p = pads[k];
        int OH = lc_conv_out(H, K, s, p), OW = lc_conv_out(W, K, s, p);
        size_t ni = (size_t)B * C * H * W, nw = (size_t)OC * C * K * K, no = (size_t)B * OC * OH * OW;
        float *x = fa(ni), *ww = fa(nw), *bb = fa(OC), *o = fa(no);
        float *cl = fa(lc_conv2d_col_size(C, H, W, K, s, p));
        double *ref = calloc(no, sizeof(double));
        fill(x, ni, -1, 1, &r), fill(ww, nw, -1, 1, &r), fill(bb, OC, -1, 1, &r);
        lc_conv2d_forward(o, cl, x, ww, bb, B, C, H, W, OC, K, s, p);
        conv_ref(ref, x, ww, bb, B, C, H, W, OC, K, s, p);
        for (size_t i = 0; i < no; i++) ck_assert_double_eq_tol(o[i], ref[i], 1e-5);
        free(x), free(ww), free(bb), free(o), free(cl), free(ref);
    }
}
END_TEST

typedef struct conv_ctx {
    float *out, *col, *in, *w, *b, *R;
    int B, C, H, W, OC, K, s, p, transposed;
    size_t no, nws; // nws: workspace of the _ws variants; 0 = the plain functions
} conv_ctx;

// Forward and backward of a conv_ctx's layer (conv or transposed, plain or _ws).
static void conv_fwd(const conv_ctx *c) {
    if (c->transposed && c->nws)
        lc_convt2d_forward_ws(c->out, c->col, c->nws, c->in, c->w, c->b, c->B, c->C, c->H, c->W,
                              c->OC, c->K, c->s, c->p);
    else if (c->transposed)
        lc_convt2d_forward(c->out, c->col, c->in, c->w, c->b, c->B, c->C, c->H, c->W, c->OC, c->K,
                           c->s, c->p);
    else if (c->nws)
        lc_conv2d_forward_ws(c->out, c->col, c->nws, c->in, c->w, c->b, c->B, c->C, c->H, c->W,
                             c->OC, c->K, c->s, c->p);
    else
        lc_conv2d_forward(c->out, c->col, c->in, c->w, c->b, c->B, c->C, c->H, c->W, c->OC, c->K,
                          c->s, c->p);
}

static void conv_bwd(const conv_ctx *c, float *din, float *dw, float *db, const float *dout) {
    if (c->transposed && c->nws)
        lc_convt2d_backward_ws(din, dw, db, c->col, c->nws, dout, c->in, c->w, c->B, c->C, c->H,
                               c->W, c->OC, c->K, c->s, c->p);
    else if (c->transposed)
        lc_convt2d_backward(din, dw, db, c->col, dout, c->in, c->w, c->B, c->C, c->H, c->W, c->OC,
                            c->K, c->s, c->p);
    else if (c->nws)
        lc_conv2d_backward_ws(din, dw, db, c->col, c->nws, dout, c->in, c->w, c->B, c->C, c->H,
                              c->W, c->OC, c->K, c->s, c->p);
    else
        lc_conv2d_backward(din, dw, db, c->col, dout, c->in, c->w, c->B, c->C, c->H, c->W, c->OC,
                           c->K, c->s, c->p);
}

static double conv_obj(void *q) {
    conv_ctx *c = q;
    conv_fwd(c);
    return dot_obj(c->out, c->R, c->no);
}

// Sets up c (random in, w, b, R) for a layer; batched: the _ws variants with room
// for every image at once. conv_ctx_free releases it.
static void conv_ctx_make(conv_ctx *c, int transposed, int batched, int B, int C, int H, int W,
                          int OC, int K, int s, int p, lc_rng *r) {
    memset(c, 0, sizeof *c);
    c->B = B, c->C = C, c->H = H, c->W = W, c->OC = OC, c->K = K, c->s = s, c->p = p;
    c->transposed = transposed;
    int OH = transposed ? lc_convt_out(H, K, s, p) : lc_conv_out(H, K, s, p);
    int OW = transposed ? lc_convt_out(W, K, s, p) : lc_conv_out(W, K, s, p);
    size_t ni = (size_t)B * C * H * W, nw = (size_t)OC * C * K * K;
    c->no = (size_t)B * OC * OH * OW;
    size_t ncol = transposed ? lc_conv2d_col_size(OC, OH, OW, K, s, p)
                             : lc_conv2d_col_size(C, H, W, K, s, p);
    if (batched)
        c->nws = ncol = transposed ? lc_convt2d_ws_size(B, C, H, W, OC, K, s, p)
                                   : lc_conv2d_ws_size(B, C, H, W, OC, K, s, p);
    c->out = fa(c->no), c->col = fa(ncol), c->in = fa(ni), c->w = fa(nw), c->b = fa(OC);
    c->R = fa(c->no);
    fill(c->in, ni, -1, 1, r), fill(c->w, nw, -1, 1, r), fill(c->b, OC, -1, 1, r);
    fill(c->R, c->no, -1, 1, r);
}

static void conv_ctx_free(conv_ctx *c) {
    free(c->out), free(c->col), free(c->in), free(c->w), free(c->b), free(c->R);
}

static void conv_gradcheck(int transposed, int B, int C, int H, int W, int OC, int K, int s, int p,
                           uint64_t seed) {
    lc_rng r;
    lc_rng_seed(&r, seed, 0);
    for (int batched = 0; batched < 2; batched++) {
        conv_ctx c;
        conv_ctx_make(&c, transposed, batched, B, C, H, W, OC, K, s, p, &r);
        size_t ni = (size_t)B * C * H * W, nw = (size_t)OC * C * K * K;
        conv_obj(&c);
        float *din = fa(ni), *dw = fa(nw), *db = fa(OC);
        conv_bwd(&c, din, dw, db, c.R);
        CHECK_GRAD(conv_obj, &c, c.in, din, ni);
        CHECK_GRAD(conv_obj, &c, c.w, dw, nw);
        CHECK_GRAD(conv_obj, &c, c.b, db, OC);
        conv_ctx_free(&c);
        free(din), free(dw), free(db);
    }
}

START_TEST(test_conv_grad) {
    conv_gradcheck(0, 2, 3, 7, 6, 4, 3, 2, 1, 13); // stride 2, pad 1, uneven
    conv_gradcheck(0, 2, 2, 5, 5, 3, 3, 1, 0, 14); // stride 1, no pad
    conv_gradcheck(0, 2, 3, 4, 4, 2, 1, 1, 0, 15); // pointwise
    conv_gradcheck(0, 2, 2, 8, 8, 2, 4, 2, 1, 16); // even kernel
    conv_gradcheck(0, 3, 2, 12, 12, 2, 8, 4, 0, 22); // the cnn policy's 8x8 stride 4
}
END_TEST

START_TEST(test_convt_grad) {
    conv_gradcheck(1, 2, 3, 4, 3, 2, 3, 2, 1, 17); // stride 2, pad 1
    conv_gradcheck(1, 2, 2, 3, 3, 3, 4, 2, 1, 18); // the usual 2x upsampler
    conv_gradcheck(1, 2, 3, 3, 3, 2, 1, 1, 0, 19); // pointwise
    conv_gradcheck(1, 1, 2, 4, 5, 2, 3, 1, 0, 20); // stride 1
}
END_TEST

// The _ws variants against the plain (one image at a time) functions, with room for
// every image, for chunks of 2 and 3 with a shorter last one, and for one image
// only; outputs against the double reference too. Backward adds into din/dw/db
// that start non-zero.
static void conv_batch_case(int transposed, int B, int C, int H, int W, int OC, int K, int s,
                            int p, lc_rng *r) {
    conv_ctx c;
    conv_ctx_make(&c, transposed, 0, B, C, H, W, OC, K, s, p, r);
    size_t ni = (size_t)B * C * H * W, nw = (size_t)OC * C * K * K;
    // g[0..2]: din, dw, db of the plain run; g[3..5] the same of the _ws run
    size_t gn[6] = {ni, nw, (size_t)OC, ni, nw, (size_t)OC};
    float *g[6], *out0 = fa(c.no);
    for (int i = 0; i < 6; i++) g[i] = fa(gn[i]);
    conv_fwd(&c);
    memcpy(out0, c.out, c.no * sizeof(float));
    if (!transposed) {
        double *ref = calloc(c.no, sizeof(double));
        conv_ref(ref, c.in, c.w, c.b, B, C, H, W, OC, K, s, p);
        for (size_t i = 0; i < c.no; i++) ck_assert_double_eq_tol(out0[i], ref[i], 1e-5);
        free(ref);
    }
    size_t (*ws_size)(int, int, int, int, int, int, int, int) =
        transposed ? lc_convt2d_ws_size : lc_conv2d_ws_size;
    size_t sizes[4] = {ws_size(B, C, H, W, OC, K, s, p), ws_size(2, C, H, W, OC, K, s, p),
                       ws_size(3, C, H, W, OC, K, s, p) - 1, ws_size(1, C, H, W, OC, K, s, p)};
    for (int k = 0; k < 4; k++) {
        conv_ctx cb = c;
        cb.col = fa(sizes[k]), cb.nws = sizes[k];
        conv_fwd(&cb);
        for (size_t i = 0; i < c.no; i++)
            ck_assert_float_eq_tol(cb.out[i], out0[i], 1e-5f * (1 + fabsf(out0[i])));
        for (int i = 0; i < 3; i++) { // the same non-zero start for both runs
            fill(g[i], gn[i], -1, 1, r);
            memcpy(g[i + 3], g[i], gn[i] * sizeof(float));
        }
        conv_bwd(&c, g[0], g[1], g[2], c.R);
        conv_bwd(&cb, g[3], g[4], g[5], c.R);
        // dw sums B OH OW products of values in [-1, 1]: rounding grows with that count
        for (int i = 0; i < 3; i++)
            for (size_t j = 0; j < gn[i]; j++)
                ck_assert_float_eq_tol(g[i + 3][j], g[i][j], 1e-4f * (1 + fabsf(g[i][j])));
        free(cb.col);
    }
    conv_ctx_free(&c);
    for (int i = 0; i < 6; i++) free(g[i]);
    free(out0);
}

// Chunks follow the OpenBLAS threads (a few hundred columns on one, thousands on
// more): both are run.
START_TEST(test_conv_batch_matches_per_image) {
    lc_nn_set_threads(_i);
    lc_rng r;
    lc_rng_seed(&r, 23, 0);
    static const int cases[][8] = {
        // B, C, H, W, OC, K, stride, pad
        {5, 3, 7, 6, 4, 3, 2, 1},   {4, 6, 16, 16, 8, 3, 1, 1}, {5, 4, 5, 5, 3, 1, 1, 0},
        {3, 3, 20, 20, 8, 8, 4, 0}, {4, 8, 9, 9, 6, 4, 2, 0},   {3, 2, 8, 8, 2, 4, 2, 1},
        {4, 3, 6, 7, 5, 1, 2, 0},   {1, 3, 6, 6, 4, 3, 1, 1},   {5, 2, 20, 20, 3, 3, 1, 1},
        {2, 2, 36, 36, 2, 5, 1, 2}, // wide outputs: chunks of 2, then of 1
        {2, 2, 5, 9, 3, 4, 2, 0},   {2, 2, 9, 4, 3, 4, 3, 1}, // one output row, one column
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int *q = cases[k];
        conv_batch_case(0, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], &r);
        // the transposed conv of the same numbers (in channels q[1], out q[4])
        if (lc_convt_out(q[2], q[5], q[6], q[7]) > 0)
            conv_batch_case(1, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], &r);
    }
    // The workspace asked for stays modest however large the batch.
    ck_assert_uint_le(lc_conv2d_ws_size(1 << 20, 3, 64, 64, 32, 8, 4, 0), (size_t)16 << 20);
    ck_assert_uint_le(lc_convt2d_ws_size(1 << 20, 32, 8, 8, 16, 4, 2, 1), (size_t)16 << 20);
    lc_nn_set_threads(1);
}
END_TEST

START_TEST(test_convt_is_conv_adjoint) {
    // <conv(x; w), y> = <x, convt(y; w)>: conv maps (C, H, W) -> (OC, OH, OW)
    // with w (OC, C, K, K); convt with in channels OC and out channels C uses the same w.
    lc_rng r;
    lc_rng_seed(&r, 21, 0);
    int B = 2, C = 3, H = 7, W = 9, OC = 4, K = 3, s = 2, p = 1;
    int OH = lc_conv_out(H, K, s, p), OW = lc_conv_out(W, K, s, p);
    ck_assert_int_eq(lc_convt_out(OH, K, s, p), H);
    ck_assert_int_eq(lc_convt_out(OW, K, s, p), W);
    size_t nx = (size_t)B * C * H * W, ny = (size_t)B * OC * OH * OW, nw = (size_t)OC * C * K * K;
    float *x = fa(nx), *y = fa(ny), *w = fa(nw), *cx = fa(ny), *ty = fa(nx);
    float *col = fa(lc_conv2d_col_size(C, H, W, K, s, p));
    fill(x, nx, -1, 1, &r), fill(y, ny, -1, 1, &r), fill(w, nw, -1, 1, &r);
    lc_conv2d_forward(cx, col, x, w, NULL, B, C, H, W, OC, K, s, p);
    lc_convt2d_forward(ty, col, y, w, NULL, B, OC, OH, OW, C, K, s, p);
    double a = dot_obj(cx, y, ny), b = dot_obj(x, ty, nx);
    ck_assert_double_eq_tol(a, b, 1e-4 * (fabs(a) + 1));
    free(x), free(y), free(w), free(cx), free(ty), free(col);
}
END_TEST

typedef struct gpool_ctx {
    float *out, *in, *R;
    int *am, B, C, S;
} gpool_ctx;

static double gpool_obj(void *q) {
    gpool_ctx *c = q;
    lc_gpool_forward(c->out, c->am, c->in, c->B, c->C, c->S);
    return dot_obj(c->out, c->R, (size_t)c->B * 2 * c->C);
}

START_TEST(test_gpool) {
    // Values: mean and max per channel, the max's position.
    float in[2 * 3] = {1, 5, 3, -2, -4, -1}, out[4], din[6] = {0};
    int am[2];
    lc_gpool_forward(out, am, in, 1, 2, 3);
    ck_assert_float_eq_tol(out[0], 3.0f, 1e-6f);
    ck_assert_float_eq_tol(out[1], -7.0f / 3.0f, 1e-6f);
    ck_assert_float_eq(out[2], 5.0f);
    ck_assert_float_eq(out[3], -1.0f);
    ck_assert_int_eq(am[0], 1);
    ck_assert_int_eq(am[1], 2);
    float g[4] = {3, 0, 1, 2};
    lc_gpool_backward(din, g, am, 1, 2, 3);
    ck_assert_float_eq_tol(din[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(din[1], 2.0f, 1e-6f);
    ck_assert_float_eq_tol(din[5], 2.0f, 1e-6f);
    // Finite differences on random inputs (distinct values: the max is locally linear).
    lc_rng r;
    lc_rng_seed(&r, 22, 0);
    gpool_ctx c = {0};
    c.B = 3, c.C = 4, c.S = 9;
    size_t ni = (size_t)c.B * c.C * c.S, no = (size_t)c.B * 2 * c.C;
    c.in = fa(ni), c.out = fa(no), c.R = fa(no);
    c.am = malloc((size_t)c.B * c.C * sizeof(int));
    fill(c.in, ni, -1, 1, &r), fill(c.R, no, -1, 1, &r);
    gpool_obj(&c);
    float *d = fa(ni);
    lc_gpool_backward(d, c.R, c.am, c.B, c.C, c.S);
    CHECK_GRAD(gpool_obj, &c, c.in, d, ni);
    free(c.in), free(c.out), free(c.R), free(c.am), free(d);
}
END_TEST

// ---------------------------------------------------------------- embedding and VQ

START_TEST(test_embedding) {
    float table[6] = {1, 2, 3, 4, 5, 6}, out[6], dt[6] = {0};
    int ids[3] = {2, 0, 2};
    lc_embedding_forward(out, ids, table, 3, 3, 2);
    ck_assert_float_eq(out[0], 5);
    ck_assert_float_eq(out[1], 6);
    ck_assert_float_eq(out[2], 1);
    float g[6] = {1, 1, 2, 2, 3, 3};
    lc_embedding_backward(dt, g, ids, 3, 3, 2);
    ck_assert_float_eq(dt[0], 2);
    ck_assert_float_eq(dt[2], 0);
    ck_assert_float_eq(dt[4], 4);
}
END_TEST

typedef struct vq_ctx {
    float *zq, *z, *cb;
    int *codes;
    int B, K, D, which; // which: 0 codebook loss, 1 commitment loss
} vq_ctx;

static double vq_obj(void *p) {
    vq_ctx *c = p;
    lc_vq_losses l = lc_vq_forward(c->zq, c->codes, c->z, c->cb, c->B, c->K, c->D);
    return c->which ? l.commit : l.codebook;
}

START_TEST(test_vq) {
    lc_rng r;
    lc_rng_seed(&r, 22, 0);
    int B = 9, K = 5, D = 3;
    vq_ctx c = {0};
    c.B = B, c.K = K, c.D = D;
    c.zq = fa(B * D), c.z = fa(B * D), c.cb = fa(K * D), c.codes = calloc(B, sizeof(int));
    fill(c.cb, K * D, -2, 2, &r);
    for (int b = 0; b < B; b++) // z near code b % K, so the argmin is clear
        for (int j = 0; j < D; j++)
            c.z[b * D + j] = c.cb[(b % K) * D + j] + (float)lc_rng_uniform(&r, -0.2, 0.2);
    lc_vq_losses l = lc_vq_forward(c.zq, c.codes, c.z, c.cb, B, K, D);
    double s = 0;
    for (int b = 0; b < B; b++) {
        int best = 0;
        double bd = 1e30;
        for (int k = 0; k < K; k++) {
            double d = 0;
            for (int j = 0; j < D; j++) d += pow(c.z[b * D + j] - c.cb[k * D + j], 2);
            if (d < bd) bd = d, best = k;
        }
        ck_assert_int_eq(c.codes[b], best);
        for (int j = 0; j < D; j++) ck_assert_float_eq(c.zq[b * D + j], c.cb[best * D + j]);
        s += bd;
    }
    ck_assert_double_eq_tol(l.codebook, s / (B * D), 1e-6);
    ck_assert_double_eq_tol(l.commit, s / (B * D), 1e-6);
    // Straight-through: dz = dzq + beta * d(commit)/dz; dcodebook = d(codebook)/de.
    float *dzq = fa(B * D), *dz = fa(B * D), *dcb = fa(K * D), *dcommit = fa(B * D);
    fill(dzq, B * D, -1, 1, &r);
    float beta = 0.25f;
    lc_vq_backward(dz, dcb, dzq, c.z, c.cb, c.codes, B, K, D, beta);
    // the commitment gradient alone: no dzq, beta = 1
    lc_vq_backward(dcommit, NULL, NULL, c.z, c.cb, c.codes, B, K, D, 1.0f);
    c.which = 1;
    CHECK_GRAD(vq_obj, &c, c.z, dcommit, B * D);
    for (int i = 0; i < B * D; i++) ck_assert_float_eq_tol(dz[i], dzq[i] + beta * dcommit[i], 1e-6f);
    c.which = 0;
    CHECK_GRAD(vq_obj, &c, c.cb, dcb, K * D);
    free(c.zq), free(c.z), free(c.cb), free(c.codes), free(dzq), free(dz), free(dcb), free(dcommit);
}
END_TEST

START_TEST(test_vq_many_codes) {
    // A codebook larger than the sgemm scratch uses the direct search; both agree.
    lc_rng r;
    lc_rng_seed(&r, 23, 0);
    int B = 40, D = 4;
    for (int K = 100; K <= 5000; K += 4900) {
        float *z = fa(B * D), *cb = fa((size_t)K * D), *zq = fa(B * D);
        int *codes = calloc(B, sizeof(int));
        fill(z, B * D, -1, 1, &r), fill(cb, (size_t)K * D, -1, 1, &r);
        lc_vq_forward(zq, codes, z, cb, B, K, D);
        for (int b = 0; b < B; b++) {
            double bd = 1e30, dc = 0;
            for (int k = 0; k < K; k++) {
                double d = 0;
                for (int j = 0; j < D; j++) d += pow(z[b * D + j] - cb[k * D + j], 2);
                if (d < bd) bd = d;
            }
            for (int j = 0; j < D; j++) dc += pow(z[b * D + j] - cb[codes[b] * D + j], 2);
            ck_assert_double_le(dc, bd + 1e-5); // the chosen code is (one of) the nearest
        }
        free(z), free(cb), free(zq), free(codes);
    }
}
END_TEST

// ---------------------------------------------------------------- arena and init

START_TEST(test_params_arena) {
    lc_params p;
    lc_params_init(&p);
    int s1[2] = {3, 4}, s2[1] = {5};
    int a = lc_params_add(&p, "w", 2, s1), b = lc_params_add(&p, "b", 1, s2);
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, 1);
    ck_assert_uint_eq(p.n, 17);
    ck_assert_int_eq(lc_params_find(&p, "b"), 1);
    ck_assert_int_eq(lc_params_find(&p, "nope"), -1);
    lc_error err = {0};
    ck_assert_int_eq(lc_params_alloc(&p, &err), LC_OK);
    ck_assert_ptr_eq(lc_param(&p, 1), p.params + 12);
    ck_assert_ptr_eq(lc_grad(&p, 1), p.grads + 12);
    for (size_t i = 0; i < p.n; i++) ck_assert_float_eq(p.params[i], 0.0f);
    lc_grad(&p, 1)[2] = 3.0f;
    lc_params_zero_grad(&p);
    ck_assert_float_eq(p.grads[14], 0.0f);
    lc_params q;
    lc_params_init(&q);
    lc_params_add(&q, "w", 2, s1), lc_params_add(&q, "b", 1, s2);
    ck_assert_int_eq(lc_params_alloc(&q, &err), LC_OK);
    p.params[16] = 7.0f;
    lc_params_copy(&q, &p);
    ck_assert_float_eq(q.params[16], 7.0f);
    lc_params_free(&p), lc_params_free(&q);
    ck_assert_ptr_null(p.params);
}
END_TEST

static void check_orthonormal(const float *w, int rows, int cols, float gain) {
    // rows <= cols: W W^T = gain^2 I; rows > cols: W^T W = gain^2 I.
    int n = rows <= cols ? rows : cols, len = rows <= cols ? cols : rows;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double d = 0;
            for (int j = 0; j < len; j++)
                d += rows <= cols ? (double)w[i * cols + j] * w[k * cols + j]
                                  : (double)w[j * cols + i] * w[j * cols + k];
            ck_assert_double_eq_tol(d, i == k ? gain * gain : 0.0, 1e-5 * gain * gain);
        }
}

START_TEST(test_init_orthogonal) {
    lc_rng r;
    lc_rng_seed(&r, 24, 0);
    int shapes[][2] = {{64, 64}, {20, 70}, {70, 20}, {1, 9}, {9, 1}};
    for (int k = 0; k < 5; k++) {
        int R = shapes[k][0], C = shapes[k][1];
        float *w = fa((size_t)R * C);
        lc_init_orthogonal(w, R, C, 1.0f, &r);
        check_orthonormal(w, R, C, 1.0f);
        lc_init_orthogonal(w, R, C, sqrtf(2.0f), &r);
        check_orthonormal(w, R, C, sqrtf(2.0f));
        free(w);
    }
}
END_TEST

START_TEST(test_init_random) {
    lc_rng r;
    lc_rng_seed(&r, 25, 0);
    enum { N = 20000 };
    float *w = fa(N);
    lc_init_xavier_uniform(w, 30, 70, N, &r);
    float a = sqrtf(6.0f / 100), mx = 0;
    for (int i = 0; i < N; i++) mx = fabsf(w[i]) > mx ? fabsf(w[i]) : mx;
    ck_assert_float_le(mx, a);
    ck_assert_float_ge(mx, 0.99f * a);
    lc_init_kaiming_uniform(w, 24, N, &r);
    a = sqrtf(6.0f / 24), mx = 0;
    for (int i = 0; i < N; i++) mx = fabsf(w[i]) > mx ? fabsf(w[i]) : mx;
    ck_assert_float_le(mx, a);
    ck_assert_float_ge(mx, 0.99f * a);
    lc_init_normal(w, N, 0.5f, &r);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++) m += w[i];
    m /= N;
    for (int i = 0; i < N; i++) v += (w[i] - m) * (w[i] - m);
    v /= N;
    ck_assert_double_eq_tol(m, 0.0, 0.02);
    ck_assert_double_eq_tol(sqrt(v), 0.5, 0.01);
    lc_init_uniform(w, N, 2.0f, 3.0f, &r);
    for (int i = 0; i < N; i++) ck_assert(w[i] >= 2.0f && w[i] < 3.0f);
    free(w);
}
END_TEST

// ---------------------------------------------------------------- optimizer

START_TEST(test_adam_step) {
    lc_params p;
    lc_params_init(&p);
    int s[1] = {2};
    lc_params_add(&p, "x", 1, s);
    lc_error err = {0};
    ck_assert_int_eq(lc_params_alloc(&p, &err), LC_OK);
    p.params[0] = 1.0f, p.params[1] = -2.0f;
    lc_adam opt = lc_adam_default(0.1f);
    ck_assert_float_eq(opt.beta1, 0.9f);
    ck_assert_float_eq(opt.beta2, 0.999f);
    // Step 1: bias-corrected m/sqrt(v) = g/|g|, so each parameter moves by lr against g.
    p.grads[0] = 0.5f, p.grads[1] = -0.1f;
    lc_adam_step(&p, &opt);
    ck_assert_int_eq(p.step, 1);
    ck_assert_float_eq_tol(p.params[0], 0.9f, 1e-6f);
    ck_assert_float_eq_tol(p.params[1], -1.9f, 1e-6f);
    // Step 2 by hand: m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g^2,
    // p -= lr / (1 - 0.9^2) * m / (sqrt(v / (1 - 0.999^2)) + eps).
    p.grads[0] = 0.2f, p.grads[1] = 0.3f;
    lc_adam_step(&p, &opt);
    double g1[2] = {0.5, -0.1}, g2[2] = {0.2, 0.3}, p1[2] = {0.9, -1.9};
    for (int i = 0; i < 2; i++) {
        double m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i];
        double v = 0.999 * (0.001 * g1[i] * g1[i]) + 0.001 * g2[i] * g2[i];
        double want = p1[i] - 0.1 / (1 - 0.81) * m / (sqrt(v / (1 - 0.999 * 0.999)) + 1e-8);
        ck_assert_double_eq_tol(p.params[i], want, 1e-5);
    }
    // AdamW: decoupled decay multiplies by (1 - lr wd) before the Adam update.
    lc_params_free(&p);
    lc_params_init(&p);
    lc_params_add(&p, "x", 1, s);
    ck_assert_int_eq(lc_params_alloc(&p, &err), LC_OK);
    p.params[0] = 2.0f, p.grads[0] = 1.0f;
    opt.weight_decay = 0.5f;
    lc_adam_step(&p, &opt);
    ck_assert_float_eq_tol(p.params[0], 2.0f * (1 - 0.05f) - 0.1f, 1e-6f);
    ck_assert_float_eq_tol(p.params[1], -0.0f, 1e-7f); // zero grad, zero param: unchanged
    lc_params_free(&p);
}
END_TEST

START_TEST(test_adam_long_arena) {
    // A 1003-value arena (blocks plus a tail) matches a scalar double Adam.
    lc_params p;
    lc_params_init(&p);
    int s[1] = {1003};
    lc_params_add(&p, "x", 1, s);
    ck_assert_int_eq(lc_params_alloc(&p, NULL), LC_OK);
    lc_rng r;
    lc_rng_seed(&r, 26, 0);
    fill(p.params, 1003, -1, 1, &r);
    double *x = calloc(1003, sizeof(double)), *m = calloc(1003, sizeof(double));
    double *v = calloc(1003, sizeof(double));
    for (int i = 0; i < 1003; i++) x[i] = p.params[i];
    lc_adam opt = lc_adam_default(0.01f);
    for (int t = 1; t <= 5; t++) {
        fill(p.grads, 1003, -1, 1, &r);
        lc_adam_step(&p, &opt);
        for (int i = 0; i < 1003; i++) {
            double g = p.grads[i];
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            x[i] -= 0.01 / (1 - pow(0.9, t)) * m[i] / (sqrt(v[i] / (1 - pow(0.999, t))) + 1e-8);
        }
    }
    for (int i = 0; i < 1003; i++) ck_assert_double_eq_tol(p.params[i], x[i], 1e-5);
    free(x), free(m), free(v);
    lc_params_free(&p);
}
END_TEST

START_TEST(test_clip_and_finite) {
    float g[2] = {3, 4};
    ck_assert_float_eq_tol(lc_grad_norm(g, 2), 5.0f, 1e-6f);
    ck_assert_float_eq_tol(lc_clip_grad_norm(g, 2, 10.0f), 5.0f, 1e-6f);
    ck_assert_float_eq(g[0], 3.0f); // under the limit: unchanged
    ck_assert_float_eq_tol(lc_clip_grad_norm(g, 2, 1.0f), 5.0f, 1e-6f);
    ck_assert_float_eq_tol(g[0], 0.6f, 1e-6f);
    ck_assert_float_eq_tol(g[1], 0.8f, 1e-6f);
    ck_assert_float_eq_tol(lc_grad_norm(g, 2), 1.0f, 1e-6f);
    float x[40] = {0};
    x[5] = 1e30f;
    ck_assert_int_eq(lc_all_finite(x, 40), 1);
    x[37] = INFINITY;
    ck_assert_int_eq(lc_all_finite(x, 40), 0);
    x[37] = 0;
    x[3] = NAN;
    ck_assert_int_eq(lc_all_finite(x, 40), 0);
    ck_assert_int_eq(lc_all_finite(x + 4, 36), 1);
}
END_TEST

START_TEST(test_lr_schedules) {
    ck_assert_float_eq(lc_lr_at(LC_SCHED_CONST, 0.1f, 50, 100, 0), 0.1f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_LINEAR, 0.1f, 0, 100, 0), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_LINEAR, 0.1f, 50, 100, 0), 0.05f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_LINEAR, 0.1f, 99, 100, 0), 0.001f, 1e-7f);
    ck_assert_float_eq(lc_lr_at(LC_SCHED_LINEAR, 0.1f, 100, 100, 0), 0.0f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_COSINE, 0.1f, 0, 100, 0), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_COSINE, 0.1f, 50, 100, 0), 0.05f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_COSINE, 0.1f, 75, 100, 0),
                           0.05f * (1 + cosf(0.75f * (float)M_PI)), 1e-7f);
    // warmup: (step + 1) / warmup of base, then the schedule over the rest
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_COSINE, 0.1f, 0, 110, 10), 0.01f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_COSINE, 0.1f, 9, 110, 10), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_COSINE, 0.1f, 10, 110, 10), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_COSINE, 0.1f, 60, 110, 10), 0.05f, 1e-7f);
    ck_assert_float_eq_tol(lc_lr_at(LC_SCHED_CONST, 0.1f, 4, 110, 10), 0.05f, 1e-7f);
}
END_TEST

// ---------------------------------------------------------------- MLP

typedef struct mlp_ctx {
    lc_mlp m;
    lc_params p;
    float *acts, *in, *R, *out;
    int B;
} mlp_ctx;

static double mlp_obj(void *q) {
    mlp_ctx *c = q;
    c->out = lc_mlp_forward(&c->m, &c->p, c->acts, c->in, c->B);
    return dot_obj(c->out, c->R, (size_t)c->B * c->m.sizes[c->m.nlayers]);
}

static void mlp_gradcheck(lc_act act, int layernorm, uint64_t seed) {
    lc_rng r;
    lc_rng_seed(&r, seed, 0);
    mlp_ctx c;
    memset(&c, 0, sizeof c);
    int sizes[4] = {5, 7, 6, 3};
    c.B = 4;
    lc_params_init(&c.p);
    lc_mlp_define(&c.m, &c.p, "mlp", 3, sizes, act, layernorm);
    ck_assert_int_eq(lc_params_alloc(&c.p, NULL), LC_OK);
    ck_assert_int_ge(lc_params_find(&c.p, "mlp.w2"), 0);
    ck_assert_int_eq(lc_params_find(&c.p, "mlp.lnw0") >= 0, layernorm != 0);
    lc_mlp_init(&c.m, &c.p, sqrtf(2.0f), 1.0f, &r);
    fill(c.p.params, c.p.n, -0.8f, 0.8f, &r); // non-trivial biases and norms too
    c.acts = fa(lc_mlp_act_size(&c.m, c.B));
    c.in = fa(20), c.R = fa(12);
    fill(c.in, 20, -1, 1, &r), fill(c.R, 12, -1, 1, &r);
    mlp_obj(&c);
    float *work = fa(lc_mlp_act_size(&c.m, c.B)), *din = fa(20);
    lc_mlp_backward(&c.m, &c.p, work, c.acts, c.in, c.R, din, c.B);
    CHECK_GRAD(mlp_obj, &c, c.in, din, 20);
    float *g = fa(c.p.n);
    memcpy(g, c.p.grads, c.p.n * sizeof(float));
    for (int t = 0; t < c.p.ntensors; t++) {
        double e = grad_err(mlp_obj, &c, c.p.params + c.p.t[t].offset, g + c.p.t[t].offset,
                            c.p.t[t].size);
        ck_assert_msg(e < GC_TOL, "%s act %s ln %d: relative error %g", c.p.t[t].name,
                      lc_act_name(act), layernorm, e);
    }
    free(c.acts), free(c.in), free(c.R), free(work), free(din), free(g);
    lc_params_free(&c.p);
}

START_TEST(test_mlp_grad) {
    mlp_gradcheck(LC_ACT_TANH, 0, 30);
    mlp_gradcheck(LC_ACT_TANH, 1, 31);
    mlp_gradcheck(LC_ACT_GELU, 0, 32);
    mlp_gradcheck(LC_ACT_SILU, 1, 33);
    mlp_gradcheck(LC_ACT_NONE, 1, 34);
    mlp_gradcheck(LC_ACT_NONE, 0, 35);
}
END_TEST

START_TEST(test_mlp_forward_values) {
    // A 2 -> 2 -> 1 relu MLP by hand.
    lc_params p;
    lc_params_init(&p);
    lc_mlp m;
    int sizes[3] = {2, 2, 1};
    lc_mlp_define(&m, &p, "", 2, sizes, LC_ACT_RELU, 0);
    ck_assert_int_eq(lc_params_find(&p, "w0"), 0);
    ck_assert_int_eq(lc_params_alloc(&p, NULL), LC_OK);
    float w0[4] = {1, -1, 2, 1}, b0[2] = {0, -1}, w1[2] = {3, 0.5f}, b1[1] = {0.25f};
    memcpy(lc_param(&p, m.w[0]), w0, sizeof w0), memcpy(lc_param(&p, m.b[0]), b0, sizeof b0);
    memcpy(lc_param(&p, m.w[1]), w1, sizeof w1), memcpy(lc_param(&p, m.b[1]), b1, sizeof b1);
    float in[4] = {1, 2, 3, 0}, *acts = fa(lc_mlp_act_size(&m, 2));
    const float *out = lc_mlp_forward(&m, &p, acts, in, 2);
    // row 0: h = relu(-1, 3) = (0, 3); y = 1.5 + 0.25. row 1: h = (3, 5); y = 9 + 2.5 + 0.25
    ck_assert_float_eq_tol(out[0], 1.75f, 1e-6f);
    ck_assert_float_eq_tol(out[1], 11.75f, 1e-6f);
    free(acts);
    lc_params_free(&p);
}
END_TEST

START_TEST(test_mlp_fits_sine) {
    // 1 -> 32 -> 32 -> 1 tanh MLP, Adam 3e-3, 3000 steps of 64 points on [-pi, pi].
    // sin has variance 0.5 on that range: we require MSE < 0.005 on a fixed grid.
    lc_rng r;
    lc_rng_seed(&r, 40, 0);
    lc_params p;
    lc_params_init(&p);
    lc_mlp m;
    int sizes[4] = {1, 32, 32, 1};
    lc_mlp_define(&m, &p, "f", 3, sizes, LC_ACT_TANH, 0);
    ck_assert_int_eq(lc_params_alloc(&p, NULL), LC_OK);
    lc_mlp_init(&m, &p, 1.0f, 1.0f, &r);
    enum { B = 64 };
    float x[B], y[B], d[B], *acts = fa(lc_mlp_act_size(&m, B)), *work = fa(lc_mlp_act_size(&m, B));
    lc_adam opt = lc_adam_default(3e-3f);
    for (int it = 0; it < 3000; it++) {
        for (int i = 0; i < B; i++) x[i] = (float)lc_rng_uniform(&r, -M_PI, M_PI), y[i] = sinf(x[i]);
        const float *out = lc_mlp_forward(&m, &p, acts, x, B);
        memset(d, 0, sizeof d);
        lc_mse_backward(d, out, y, B, 1.0f);
        lc_params_zero_grad(&p);
        lc_mlp_backward(&m, &p, work, acts, x, d, NULL, B);
        lc_adam_step(&p, &opt);
    }
    for (int i = 0; i < B; i++) x[i] = (float)(-M_PI + 2 * M_PI * i / (B - 1)), y[i] = sinf(x[i]);
    float mse = lc_mse_forward(lc_mlp_forward(&m, &p, acts, x, B), y, B);
    if (getenv("LC_TEST_VERBOSE")) fprintf(stderr, "sine fit MSE %g\n", mse);
    ck_assert_msg(mse < 0.005f, "sine fit MSE %g", mse);
    free(acts), free(work);
    lc_params_free(&p);
}
END_TEST

// Three interleaved spirals in 2-D, labels 0..2.
static void spirals(float *x, int *y, int n, lc_rng *r) {
    for (int i = 0; i < n; i++) {
        int k = (int)lc_rng_below(r, 3);
        double t = lc_rng_uniform(r, 0.0, 1.0);
        double a = 2.0 * M_PI * k / 3 + 4.0 * t;
        x[2 * i] = (float)(t * cos(a) + 0.02 * lc_rng_normal(r));
        x[2 * i + 1] = (float)(t * sin(a) + 0.02 * lc_rng_normal(r));
        y[i] = k;
    }
}

START_TEST(test_mlp_classifies_spirals) {
    // 2 -> 64 -> 64 -> 3 relu MLP with layer norm, cross-entropy, Adam 1e-2, 1500
    // steps of 128. Chance is 1/3; we require >= 95% accuracy on 600 fresh points.
    lc_rng r;
    lc_rng_seed(&r, 41, 0);
    lc_params p;
    lc_params_init(&p);
    lc_mlp m;
    int sizes[4] = {2, 64, 64, 3};
    lc_mlp_define(&m, &p, "clf", 3, sizes, LC_ACT_RELU, 1);
    ck_assert_int_eq(lc_params_alloc(&p, NULL), LC_OK);
    lc_mlp_init(&m, &p, sqrtf(2.0f), 0.01f, &r);
    enum { B = 128, NT = 600 };
    float x[2 * NT], probs[3 * NT], d[3 * B];
    int y[NT];
    float *acts = fa(lc_mlp_act_size(&m, NT)), *work = fa(lc_mlp_act_size(&m, B));
    lc_adam opt = lc_adam_default(1e-2f);
    for (int it = 0; it < 1500; it++) {
        opt.lr = lc_lr_at(LC_SCHED_COSINE, 1e-2f, it, 1500, 50);
        spirals(x, y, B, &r);
        const float *out = lc_mlp_forward(&m, &p, acts, x, B);
        lc_xent_forward(probs, out, y, B, 3);
        memset(d, 0, sizeof d);
        lc_xent_backward(d, probs, y, B, 3, 1.0f / B);
        lc_params_zero_grad(&p);
        lc_mlp_backward(&m, &p, work, acts, x, d, NULL, B);
        lc_clip_grad_norm(p.grads, p.n, 5.0f);
        lc_adam_step(&p, &opt);
    }
    spirals(x, y, NT, &r);
    const float *out = lc_mlp_forward(&m, &p, acts, x, NT);
    int right = 0;
    for (int i = 0; i < NT; i++) {
        int best = 0;
        for (int k = 1; k < 3; k++)
            if (out[3 * i + k] > out[3 * i + best]) best = k;
        right += best == y[i];
    }
    double acc = (double)right / NT;
    if (getenv("LC_TEST_VERBOSE")) fprintf(stderr, "spiral accuracy %g\n", acc);
    ck_assert_msg(acc >= 0.95, "spiral accuracy %g", acc);
    free(acts), free(work);
    lc_params_free(&p);
}
END_TEST

// ---------------------------------------------------------------- checkpoints

static void two_layer(lc_params *p, lc_mlp *m, int hidden) {
    lc_params_init(p);
    int sizes[3] = {3, hidden, 2};
    lc_mlp_define(m, p, "pi", 2, sizes, LC_ACT_TANH, 1);
    ck_assert_int_eq(lc_params_alloc(p, NULL), LC_OK);
}

START_TEST(test_params_save_load) {
    lc_rng r;
    lc_rng_seed(&r, 50, 0);
    lc_params a, b;
    lc_mlp ma, mb;
    two_layer(&a, &ma, 8);
    fill(a.params, a.n, -1, 1, &r), fill(a.m, a.n, -1, 1, &r), fill(a.v, a.n, 0, 1, &r);
    a.step = 42;
    lc_error err = {0};
    lc_file *f = lc_file_new("test");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(lc_params_to_file(&a, f, "agent", 1, &err), LC_OK);
    ck_assert_ptr_nonnull(lc_file_tensor(f, "agent.pi.w0"));
    ck_assert_ptr_nonnull(lc_file_tensor(f, "agent.pi.lnw0.m"));
    ck_assert_ptr_nonnull(lc_file_tensor(f, "agent.pi.b1.v"));
    // Through the encoded bytes, as a checkpoint on disk would go.
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(lc_file_encode(f, &buf, &len, &err), LC_OK);
    lc_file *g = NULL;
    ck_assert_int_eq(lc_file_decode(buf, len, &g, &err), LC_OK);
    two_layer(&b, &mb, 8);
    ck_assert_int_eq(lc_params_from_file(&b, g, "agent", 1, &err), LC_OK);
    ck_assert_int_eq(b.step, 42);
    ck_assert_int_eq(memcmp(a.params, b.params, a.n * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a.m, b.m, a.n * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a.v, b.v, a.n * sizeof(float)), 0);
    // Without the optimizer state: params only, step untouched.
    lc_params_free(&b);
    two_layer(&b, &mb, 8);
    ck_assert_int_eq(lc_params_from_file(&b, g, "agent", 0, &err), LC_OK);
    ck_assert_int_eq(b.step, 0);
    ck_assert_int_eq(memcmp(a.params, b.params, a.n * sizeof(float)), 0);
    ck_assert_float_eq(b.m[0], 0.0f);
    // A wrong shape is refused and leaves the arena as it was.
    lc_params c;
    lc_mlp mc;
    two_layer(&c, &mc, 9);
    lc_error_clear(&err);
    int rc = lc_params_from_file(&c, g, "agent", 1, &err);
    ck_assert_int_ne(rc, LC_OK);
    ck_assert_int_eq(rc, LC_ERR_SHAPE);
    ck_assert_msg(strstr(err.msg, "agent.pi.w0") != NULL, "message names the tensor: %s", err.msg);
    for (size_t i = 0; i < c.n; i++) ck_assert_float_eq(c.params[i], 0.0f);
    // A missing prefix is a missing tensor.
    lc_error_clear(&err);
    ck_assert_int_eq(lc_params_from_file(&b, g, "other", 0, &err), LC_ERR_NOTFOUND);
    // A file saved without optimizer state cannot fill one.
    lc_file *h = lc_file_new("test");
    ck_assert_int_eq(lc_params_to_file(&a, h, "agent", 0, &err), LC_OK);
    ck_assert_int_ne(lc_params_from_file(&b, h, "agent", 1, &err), LC_OK);
    lc_file_free(f), lc_file_free(g), lc_file_free(h);
    free(buf);
    lc_params_free(&a), lc_params_free(&b), lc_params_free(&c);
}
END_TEST

// ---------------------------------------------------------------- suite

static Suite *nn_suite(void) {
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("linear");
    tcase_add_test(tc, test_linear_forward_values);
    tcase_add_test(tc, test_linear_grad);
    suite_add_tcase(s, tc);

    tc = tcase_create("activations");
    tcase_add_test(tc, test_act_forward_values);
    tcase_add_test(tc, test_act_names);
    tcase_add_loop_test(tc, test_act_grad, LC_ACT_NONE, LC_ACT_GELU + 1);
    tcase_add_test(tc, test_layernorm);
    suite_add_tcase(s, tc);

    tc = tcase_create("losses");
    tcase_add_test(tc, test_softmax_values);
    tcase_add_test(tc, test_xent);
    tcase_add_test(tc, test_mse);
    tcase_add_test(tc, test_gauss_nll);
    tcase_add_test(tc, test_bce);
    suite_add_tcase(s, tc);

    tc = tcase_create("gru");
    tcase_add_test(tc, test_gru_cell_forward);
    tcase_add_test(tc, test_gru_cell_grad);
    tcase_add_test(tc, test_gru_seq_reset);
    tcase_add_test(tc, test_gru_seq_reset_cuts_gradient);
    suite_add_tcase(s, tc);

    tc = tcase_create("conv");
    tcase_add_test(tc, test_conv_forward_values);
    tcase_add_test(tc, test_conv_grad);
    tcase_add_test(tc, test_convt_grad);
    tcase_add_test(tc, test_convt_is_conv_adjoint);
    tcase_add_loop_test(tc, test_conv_batch_matches_per_image, 1, 3); // 1 and 2 threads
    tcase_add_test(tc, test_gpool);
    suite_add_tcase(s, tc);

    tc = tcase_create("embedding_vq");
    tcase_add_test(tc, test_embedding);
    tcase_add_test(tc, test_vq);
    tcase_add_test(tc, test_vq_many_codes);
    suite_add_tcase(s, tc);

    tc = tcase_create("params");
    tcase_add_test(tc, test_params_arena);
    tcase_add_test(tc, test_init_orthogonal);
    tcase_add_test(tc, test_init_random);
    tcase_add_test(tc, test_params_save_load);
    suite_add_tcase(s, tc);

    tc = tcase_create("optim");
    tcase_add_test(tc, test_adam_step);
    tcase_add_test(tc, test_adam_long_arena);
    tcase_add_test(tc, test_clip_and_finite);
    tcase_add_test(tc, test_lr_schedules);
    suite_add_tcase(s, tc);

    tc = tcase_create("mlp");
    tcase_add_test(tc, test_mlp_forward_values);
    tcase_add_test(tc, test_mlp_grad);
    suite_add_tcase(s, tc);

    tc = tcase_create("training");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_mlp_fits_sine);
    tcase_add_test(tc, test_mlp_classifies_spirals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    lc_nn_set_threads(1); // tiny shapes: one OpenBLAS thread (the results do not depend on it)
    SRunner *sr = srunner_create(nn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
