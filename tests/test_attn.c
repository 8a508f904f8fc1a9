// tests/test_attn.c: the transformer block of nn/attn.h: its forward against a plain
// double-precision reference (layer norms, heads, softmax, residuals, MLP), inference equal
// to training's forward, and finite-difference gradients of every parameter and of the
// input, with and without the MLP. Leaves out: speed (bench_genie), the token dynamics
// that use it (test_tokens).
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/attn.h"
#include "nn/nn.h"
#include "tests/helpers/grad_check.h"

// Shapes: T = 19 covers the softmax's vector blocks and its scalar tail.
enum { B = 2, T = 19, C = 8, NH = 2, HD = 3, A = NH * HD };

typedef struct fixture {
    lc_params p;
    lc_attn a;
    int xi; // the input x (B, T, C) as a tensor of the arena: its gradient is checked too
    float *acts, *work, *out, *r;
} fixture;

static void setup(fixture *f, int F) {
    lc_params_init(&f->p);
    int sx[3] = {B, T, C};
    f->xi = lc_params_add(&f->p, "x", 3, sx);
    lc_attn_define(&f->a, &f->p, "blk", C, NH, HD, F);
    ck_assert_int_eq(lc_params_alloc(&f->p, NULL), LC_OK);
    lc_rng rng;
    lc_rng_seed(&rng, 11, (uint64_t)F);
    lc_attn_init(&f->a, &f->p, 1.0f, &rng);
    // layer norms and biases away from their identity starts, so every term matters
    int vary[] = {f->a.ln1w, f->a.ln1b, f->a.bqkv, f->a.bo, f->a.ln2w, f->a.ln2b, f->a.b1, f->a.b2};
    for (size_t k = 0; k < sizeof vary / sizeof vary[0]; k++) {
        if (vary[k] < 0) continue;
        float *w = lc_param(&f->p, vary[k]);
        for (size_t i = 0; i < f->p.t[vary[k]].size; i++) w[i] += 0.3f * (lc_rng_float(&rng) - 0.5f);
    }
    lc_init_normal(lc_param(&f->p, f->xi), (size_t)B * T * C, 1.0f, &rng);
    f->acts = malloc(lc_attn_act_size(&f->a, B, T, 1) * sizeof(float));
    f->work = malloc(lc_attn_work_size(&f->a, B, T) * sizeof(float));
    f->out = malloc((size_t)B * T * C * sizeof(float));
    f->r = malloc((size_t)B * T * C * sizeof(float));
    for (int i = 0; i < B * T * C; i++) f->r[i] = lc_rng_float(&rng) - 0.5f;
}

static void teardown(fixture *f) {
    free(f->acts), free(f->work), free(f->out), free(f->r);
    lc_params_free(&f->p);
}

// loss = sum(out * r) with all gradients, the input's in the arena's grads of x.
static double loss(void *ctx) {
    fixture *f = ctx;
    lc_params_zero_grad(&f->p);
    lc_attn_forward(&f->a, &f->p, f->acts, f->out, lc_param(&f->p, f->xi), B, T, 1);
    double l = 0;
    for (int i = 0; i < B * T * C; i++) l += (double)f->out[i] * f->r[i];
    lc_attn_backward(&f->a, &f->p, f->work, f->acts, lc_param(&f->p, f->xi), f->r,
                     lc_grad(&f->p, f->xi), B, T);
    return l;
}

static void check_gradients(int F) {
    fixture f;
    setup(&f, F);
    int bad = 0;
    for (int k = 0; k < f.p.ntensors; k++) bad += lc_test_fd_check(&f.p, k, loss, &f);
    ck_assert_int_eq(f.p.ntensors, F > 0 ? 13 : 7);
    ck_assert_int_eq(bad, 0);
    // without an input gradient the parameters' gradients are the same
    loss(&f);
    size_t n = f.p.n;
    float *g1 = malloc(n * sizeof(float));
    memcpy(g1, f.p.grads, n * sizeof(float));
    lc_params_zero_grad(&f.p);
    lc_attn_forward(&f.a, &f.p, f.acts, f.out, lc_param(&f.p, f.xi), B, T, 1);
    lc_attn_backward(&f.a, &f.p, f.work, f.acts, lc_param(&f.p, f.xi), f.r, NULL, B, T);
    size_t x0 = f.p.t[f.xi].offset + f.p.t[f.xi].size;
    for (size_t i = x0; i < n; i++) ck_assert_float_eq_tol(f.p.grads[i], g1[i], 1e-6f);
    free(g1);
    teardown(&f);
}

START_TEST(test_gradients_mlp) { check_gradients(6); }
END_TEST

START_TEST(test_gradients_no_mlp) { check_gradients(0); }
END_TEST

// Layer norm of row x (C) with weight w, bias b, in double.
static void ref_ln(double *o, const double *x, const float *w, const float *b) {
    double m = 0, v = 0;
    for (int c = 0; c < C; c++) m += x[c];
    m /= C;
    for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
    v /= C;
    for (int c = 0; c < C; c++) o[c] = (x[c] - m) / sqrt(v + 1e-5) * w[c] + b[c];
}

// y (C) = W (OC, IC) x + b
static void ref_lin(double *y, const double *x, const float *W, const float *b, int IC, int OC) {
    for (int o = 0; o < OC; o++) {
        double s = b[o];
        for (int c = 0; c < IC; c++) s += (double)W[o * IC + c] * x[c];
        y[o] = s;
    }
}

START_TEST(test_forward_reference) {
    const int F = 6;
    fixture f;
    setup(&f, F);
    const lc_params *p = &f.p;
    const lc_attn *a = &f.a;
    lc_attn_forward(a, p, f.acts, f.out, lc_param(p, f.xi), B, T, 1);
    // inference keeps no weights but gives the same output
    float *acts0 = malloc(lc_attn_act_size(a, B, T, 0) * sizeof(float));
    float *out0 = malloc((size_t)B * T * C * sizeof(float));
    ck_assert(lc_attn_act_size(a, B, T, 0) < lc_attn_act_size(a, B, T, 1));
    lc_attn_forward(a, p, acts0, out0, lc_param(p, f.xi), B, T, 0);
    for (int i = 0; i < B * T * C; i++) ck_assert_float_eq(out0[i], f.out[i]);
    const float *x = lc_param(p, f.xi);
    static double xn[T][C], qkv[T][3 * A], att[T][A], y[T][C];
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            double xr[C];
            for (int c = 0; c < C; c++) xr[c] = x[(b * T + t) * C + c];
            ref_ln(xn[t], xr, lc_param(p, a->ln1w), lc_param(p, a->ln1b));
            ref_lin(qkv[t], xn[t], lc_param(p, a->wqkv), lc_param(p, a->bqkv), C, 3 * A);
        }
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                double s[T], m = -1e300, z = 0;
                for (int u = 0; u < T; u++) {
                    s[u] = 0;
                    for (int d = 0; d < HD; d++) s[u] += qkv[t][h * HD + d] * qkv[u][A + h * HD + d];
                    s[u] /= sqrt(HD);
                    m = fmax(m, s[u]);
                }
                for (int u = 0; u < T; u++) z += s[u] = exp(s[u] - m);
                for (int d = 0; d < HD; d++) {
                    double o = 0;
                    for (int u = 0; u < T; u++) o += s[u] / z * qkv[u][2 * A + h * HD + d];
                    att[t][h * HD + d] = o;
                }
            }
        for (int t = 0; t < T; t++) {
            double o[C], yn[C], hh[F], m2[C];
            ref_lin(o, att[t], lc_param(p, a->wo), lc_param(p, a->bo), A, C);
            for (int c = 0; c < C; c++) y[t][c] = o[c] + x[(b * T + t) * C + c];
            ref_ln(yn, y[t], lc_param(p, a->ln2w), lc_param(p, a->ln2b));
            ref_lin(hh, yn, lc_param(p, a->w1), lc_param(p, a->b1), C, F);
            for (int k = 0; k < F; k++) hh[k] = hh[k] > 0 ? hh[k] : 0;
            ref_lin(m2, hh, lc_param(p, a->w2), lc_param(p, a->b2), F, C);
            for (int c = 0; c < C; c++)
                ck_assert_double_eq_tol(f.out[(b * T + t) * C + c], y[t][c] + m2[c], 1e-4);
        }
    }
    free(acts0), free(out0);
    teardown(&f);
}
END_TEST

static Suite *attn_suite(void) {
    Suite *s = suite_create("attn");
    TCase *tc = tcase_create("block");
    tcase_add_test(tc, test_forward_reference);
    tcase_add_test(tc, test_gradients_mlp);
    tcase_add_test(tc, test_gradients_no_mlp);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    lc_nn_set_threads(1);
    SRunner *sr = srunner_create(attn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
