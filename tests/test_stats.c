// tests/test_stats.c: run statistics (core/stats.h) against hand-computed values,
// the "attn" policy architecture (finite-difference gradients), and the architecture
// benchmark harness (loops/bench_arch.h) on a tiny grid. Leaves out: long grids.
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loops/bench_arch.h"
#include "core/file.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "core/stats.h"
#include "worldmodel/worldmodel.h"

#include "tests/helpers/valgrind.h"
#include "loops/init.h"

// Under valgrind (thousands of times slower: OpenBLAS is emulated) the harness tests
// shrink to one env and seed and a single PPO iteration: memory checks only.
static int quick(void) {
    return lc_test_on_valgrind();
}

// ---------------------------------------------------------------- summaries

START_TEST(test_mean_median_std) {
    double x[] = {4, 1, 3, 2};
    ck_assert_double_eq_tol(lc_stats_mean(x, 4), 2.5, 1e-12);
    ck_assert_double_eq_tol(lc_stats_median(x, 4), 2.5, 1e-12);
    ck_assert_double_eq_tol(lc_stats_median(x, 3), 3, 1e-12);
    // sample std of {1,2,3,4}: sqrt(5/3)
    ck_assert_double_eq_tol(lc_stats_std(x, 4), sqrt(5.0 / 3.0), 1e-12);
    ck_assert(isnan(lc_stats_mean(x, 0)));
    ck_assert(isnan(lc_stats_iqm(x, 0)));
    ck_assert_double_eq(lc_stats_std(x, 1), 0);
    // the input is not reordered by the const versions
    ck_assert_double_eq(x[0], 4);
}
END_TEST

START_TEST(test_iqm_hand_values) {
    double a[] = {8, 1, 7, 2, 6, 3, 5, 4};
    ck_assert_double_eq_tol(lc_stats_iqm(a, 8), 4.5, 1e-12); // mean {3,4,5,6}
    // n = 5: window [1.25, 3.75): 0.75 * 2 + 3 + 0.75 * 4 over 2.5
    double b[] = {5, 4, 3, 2, 1};
    ck_assert_double_eq_tol(lc_stats_iqm(b, 5), 3.0, 1e-12);
    // n = 9 (Wikipedia's example): window [2.25, 6.75)
    double c[] = {1, 3, 5, 7, 9, 11, 13, 15, 17};
    ck_assert_double_eq_tol(lc_stats_iqm(c, 9), 9.0, 1e-12);
    // skewed, n = 6: window [1.5, 4.5): 0.5*2 + 3 + 4 + 0.5*100 over 3
    double d[] = {1, 2, 3, 4, 100, 1000};
    ck_assert_double_eq_tol(lc_stats_iqm(d, 6), (1.0 + 3 + 4 + 50) / 3.0, 1e-12);
    // one and two values: their mean
    ck_assert_double_eq_tol(lc_stats_iqm(d, 1), 1, 1e-12);
    ck_assert_double_eq_tol(lc_stats_iqm(d, 2), 1.5, 1e-12);
    // outliers do not move it: n = 4, middle two
    double e[] = {-1e9, 10, 20, 1e9};
    ck_assert_double_eq_tol(lc_stats_iqm(e, 4), 15, 1e-9);
}
END_TEST

START_TEST(test_quantile) {
    double s[] = {0, 10, 20, 30, 40};
    ck_assert_double_eq_tol(lc_stats_quantile_sorted(s, 5, 0.5), 20, 1e-12);
    ck_assert_double_eq_tol(lc_stats_quantile_sorted(s, 5, 0.1), 4, 1e-12); // pos 0.4
    ck_assert_double_eq(lc_stats_quantile_sorted(s, 5, 0), 0);
    ck_assert_double_eq(lc_stats_quantile_sorted(s, 5, 1), 40);
    ck_assert_str_eq(lc_stat_name(LC_STAT_IQM), "iqm");
}
END_TEST

// ---------------------------------------------------------------- bootstrap

START_TEST(test_bootstrap_constant_is_point) {
    double x[7];
    for (int i = 0; i < 7; i++) x[i] = 0.1;
    size_t n = 7;
    lc_ci c;
    lc_error err = {0};
    for (int s = 0; s < LC_STAT_COUNT; s++) {
        ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, (lc_stat)s, 500, 0.95, 3, &c, &err), LC_OK);
        ck_assert(c.lo == c.point && c.hi == c.point);
        ck_assert_double_eq_tol(c.point, 0.1, 1e-15);
    }
}
END_TEST

START_TEST(test_bootstrap_two_points) {
    // Resampled means of {0, 1} are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4:
    // the 2.5% and 97.5% quantiles are 0 and 1.
    double x[] = {0, 1};
    size_t n = 2;
    lc_ci c;
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_MEAN, 2000, 0.95, 1, &c, NULL), LC_OK);
    ck_assert_double_eq_tol(c.point, 0.5, 1e-15);
    ck_assert_double_eq_tol(c.lo, 0, 1e-15);
    ck_assert_double_eq_tol(c.hi, 1, 1e-15);
    // A 40% interval lies inside (the middle of the distribution is 0.5).
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_MEAN, 2000, 0.4, 1, &c, NULL), LC_OK);
    ck_assert_double_eq_tol(c.lo, 0.5, 1e-15);
    ck_assert_double_eq_tol(c.hi, 0.5, 1e-15);
}
END_TEST

START_TEST(test_bootstrap_covers_and_is_seeded) {
    double x[20];
    lc_rng r;
    lc_rng_seed(&r, 9, 0);
    for (int i = 0; i < 20; i++) x[i] = 100 + 10 * lc_rng_normal(&r);
    size_t n = 20;
    lc_ci a, b, c;
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_MEAN, 2000, 0.95, 42, &a, NULL), LC_OK);
    ck_assert_double_eq_tol(a.point, lc_stats_mean(x, 20), 1e-9);
    ck_assert(a.lo < a.point && a.point < a.hi);
    // about +-1.96 s / sqrt(n) = +-4.4 for s ~ 10: loosely
    ck_assert(a.hi - a.lo > 4 && a.hi - a.lo < 14);
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_MEAN, 2000, 0.95, 42, &b, NULL), LC_OK);
    ck_assert(a.lo == b.lo && a.hi == b.hi);
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_MEAN, 2000, 0.95, 43, &c, NULL), LC_OK);
    ck_assert(a.lo != c.lo || a.hi != c.hi);
    // IQM interval covers the IQM
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_IQM, 1000, 0.95, 42, &c, NULL), LC_OK);
    ck_assert_double_eq_tol(c.point, lc_stats_iqm(x, 20), 1e-9);
    ck_assert(c.lo <= c.point && c.point <= c.hi);
}
END_TEST

START_TEST(test_bootstrap_stratified) {
    // Two tasks, each constant within itself: resampling within tasks keeps three 0s
    // and three 10s in every resample, so the pooled mean is always 5. Pooled
    // (unstratified) resampling of the same six values varies.
    double x[] = {0, 0, 0, 10, 10, 10};
    size_t sizes[2] = {3, 3}, all = 6;
    lc_ci s, p;
    ck_assert_int_eq(lc_stats_bootstrap(x, sizes, 2, LC_STAT_MEAN, 1000, 0.95, 5, &s, NULL), LC_OK);
    ck_assert_double_eq_tol(s.point, 5, 1e-12);
    ck_assert_double_eq_tol(s.lo, 5, 1e-12);
    ck_assert_double_eq_tol(s.hi, 5, 1e-12);
    ck_assert_int_eq(lc_stats_bootstrap(x, &all, 1, LC_STAT_MEAN, 1000, 0.95, 5, &p, NULL), LC_OK);
    ck_assert(p.lo < 5 && p.hi > 5);
    // A custom statistic: the fraction above a threshold.
    double tau = 5;
    ck_assert_int_eq(lc_stats_bootstrap_fn(x, sizes, 2, lc_stat_frac_above, &tau, 200, 0.95, 5,
                                           &s, NULL),
                     LC_OK);
    ck_assert_double_eq_tol(s.point, 0.5, 1e-12);
    ck_assert_double_eq_tol(s.lo, 0.5, 1e-12);
}
END_TEST

START_TEST(test_bootstrap_errors) {
    double x[] = {1, 2};
    size_t n = 2, zero = 0;
    lc_ci c;
    lc_error err = {0};
    ck_assert_int_eq(lc_stats_bootstrap(x, &zero, 1, LC_STAT_MEAN, 10, 0.95, 1, &c, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_MEAN, 0, 0.95, 1, &c, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_stats_bootstrap(x, &n, 1, LC_STAT_MEAN, 10, 1.0, 1, &c, &err), LC_ERR_ARG);
    ck_assert(strstr(err.msg, "confidence") != NULL);
    // a single value: the interval is the point
    ck_assert_int_eq(lc_stats_bootstrap(x, (size_t[]){1}, 1, LC_STAT_IQM, 10, 0.95, 1, &c, &err), LC_OK);
    ck_assert(c.lo == 1 && c.hi == 1 && c.point == 1);
}
END_TEST

// ---------------------------------------------------------------- curves and profiles

START_TEST(test_auc_and_threshold) {
    double xs[] = {0, 1, 2};
    double ys[] = {0, 1, 1};
    // area 0.5 + 1 over a span of 2
    ck_assert_double_eq_tol(lc_stats_auc(xs, ys, 3), 0.75, 1e-12);
    // uneven steps: trapezoids (10 * (0+10)/2 + 30 * (10+30)/2) / 40
    double x2[] = {0, 10, 40}, y2[] = {0, 10, 30};
    ck_assert_double_eq_tol(lc_stats_auc(x2, y2, 3), (50.0 + 600.0) / 40.0, 1e-12);
    // non-finite points are left out: the curve starts at x = 10
    double y3[] = {NAN, 10, 30};
    ck_assert_double_eq_tol(lc_stats_auc(x2, y3, 3), 20, 1e-12);
    double y4[] = {NAN, 7, NAN};
    ck_assert_double_eq(lc_stats_auc(x2, y4, 3), 7);
    double y5[] = {NAN, NAN, NAN};
    ck_assert(isnan(lc_stats_auc(x2, y5, 3)));
    // a constant curve has its value as mean height
    double y6[] = {5, 5, 5};
    ck_assert_double_eq_tol(lc_stats_auc(x2, y6, 3), 5, 1e-12);

    double sx[] = {100, 200, 300, 400}, sy[] = {1, NAN, 5, 9};
    ck_assert_double_eq(lc_stats_steps_to(sx, sy, 4, 5), 300);
    ck_assert_double_eq(lc_stats_steps_to(sx, sy, 4, 0), 100);
    ck_assert(isnan(lc_stats_steps_to(sx, sy, 4, 9.5)));
    // negative returns (Acrobot): -100 reached at -90
    double ay[] = {-500, -300, -90, -80};
    ck_assert_double_eq(lc_stats_steps_to(sx, ay, 4, -100), 300);
}
END_TEST

START_TEST(test_profile) {
    double s[] = {0.1, 0.5, 0.5, 0.9};
    double taus[] = {0, 0.1, 0.5, 0.8, 1};
    double f[5];
    lc_stats_profile(s, 4, taus, 5, f);
    ck_assert_double_eq(f[0], 1.0);
    ck_assert_double_eq(f[1], 0.75); // strictly greater
    ck_assert_double_eq(f[2], 0.25);
    ck_assert_double_eq(f[3], 0.25);
    ck_assert_double_eq(f[4], 0);
    double tau = 0.5, copy[4];
    memcpy(copy, s, sizeof s);
    ck_assert_double_eq(lc_stat_frac_above(copy, 4, &tau), 0.25);
}
END_TEST

// ---------------------------------------------------------------- the attn architecture

// d(sum of c1 logp + c2 entropy + c3 value)/d(params) against central differences.
static double attn_grad_error(int shared) {
    lc_error err = {0};
    int O = 5, T = 3, B = 2, R = T * B;
    lc_space os = lc_space_box_scalar(LC_F32, 1, (int[]){O}, -INFINITY, INFINITY);
    lc_space as = lc_space_discrete(3);
    lc_policy_cfg cfg = lc_policy_cfg_default();
    snprintf(cfg.arch, sizeof cfg.arch, "attn");
    cfg.hidden[0] = 8;
    cfg.hidden[1] = 6;
    cfg.shared = shared;
    cfg.pi_gain = 1.0f; // larger logits than PPO's 0.01, so the policy gradient is visible
    lc_policy *p = NULL;
    ck_assert_int_eq(lc_policy_new(&p, &os, &as, &cfg, 3, &err), LC_OK);
    float obs[30], logp[6], ent[6], val[6], dl[6], dv[6], de[6];
    int32_t act[6];
    lc_rng rng;
    lc_rng_seed(&rng, 1, 2);
    for (int i = 0; i < R * O; i++) obs[i] = (float)lc_rng_normal(&rng);
    for (int i = 0; i < R; i++) {
        act[i] = i % 3;
        dl[i] = 0.3f + 0.1f * i;
        dv[i] = 1.0f - 0.2f * i;
        de[i] = 0.05f * i;
    }
    lc_params *pp = lc_policy_params(p);
    lc_params_zero_grad(pp);
    ck_assert_int_eq(lc_policy_evaluate(p, obs, act, NULL, NULL, T, B, logp, ent, val, &err), LC_OK);
    lc_policy_backward(p, dl, de, dv);
    float *g = malloc(pp->n * sizeof(float));
    memcpy(g, pp->grads, pp->n * sizeof(float));
    double worst = 0;
    int checked = 0;
    for (int ti = 0; ti < pp->ntensors; ti++) {
        if (strncmp(pp->t[ti].name, "trunk", 5) != 0) continue;
        for (size_t k = 0; k < pp->t[ti].size; k += 1 + pp->t[ti].size / 5) {
            float *w = pp->params + pp->t[ti].offset + k, old = *w;
            double eps = 1e-2, L[2];
            for (int s = 0; s < 2; s++) {
                *w = old + (float)(s ? -eps : eps);
                lc_policy_evaluate(p, obs, act, NULL, NULL, T, B, logp, ent, val, &err);
                L[s] = 0;
                for (int i = 0; i < R; i++) L[s] += dl[i] * logp[i] + dv[i] * val[i] + de[i] * ent[i];
            }
            *w = old;
            double fd = (L[0] - L[1]) / (2 * eps), an = g[pp->t[ti].offset + k];
            // absolute floor: the key bias has an exactly zero gradient (softmax shift)
            double e = fabs(fd - an) / (fabs(fd) + fabs(an) + 1e-2);
            if (e > worst) worst = e;
            checked++;
        }
    }
    ck_assert_int_gt(checked, 30);
    free(g);
    lc_policy_free(p);
    return worst;
}

START_TEST(test_attn_gradients) {
    ck_assert_double_lt(attn_grad_error(0), 2e-2);
    ck_assert_double_lt(attn_grad_error(1), 2e-2);
}
END_TEST

START_TEST(test_attn_spaces) {
    lc_error err = {0};
    lc_policy_cfg cfg = lc_policy_cfg_default();
    snprintf(cfg.arch, sizeof cfg.arch, "attn");
    lc_policy *p = NULL;
    lc_space img = lc_space_box_scalar(LC_U8, 3, (int[]){8, 8, 3}, 0, 255);
    lc_space as = lc_space_discrete(2);
    ck_assert_int_eq(lc_policy_new(&p, &img, &as, &cfg, 1, &err), LC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(p);
    lc_space big = lc_space_box_scalar(LC_F32, 1, (int[]){65}, -1, 1);
    ck_assert_int_eq(lc_policy_new(&p, &big, &as, &cfg, 1, &err), LC_ERR_UNSUPPORTED);
    lc_space ok = lc_space_box_scalar(LC_F32, 1, (int[]){4}, -1, 1);
    ck_assert_int_eq(lc_policy_new(&p, &ok, &as, &cfg, 1, &err), LC_OK);
    // Acting: the same seed gives the same parameters and outputs.
    float obs[8] = {0.1f, -0.2f, 0.3f, 0.0f, 1.0f, 0.5f, -0.5f, 0.2f}, v[2];
    int32_t a[2];
    ck_assert_int_eq(lc_policy_act(p, obs, 2, NULL, 1, NULL, a, NULL, v, &err), LC_OK);
    ck_assert(isfinite(v[0]) && isfinite(v[1]) && a[0] >= 0 && a[0] < 2);
    ck_assert_ptr_nonnull(lc_policy_arch_find("attn"));
    lc_policy_free(p);
}
END_TEST

// ---------------------------------------------------------------- the harness

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static int exists(const char *dir, const char *name) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 && st.st_size > 0;
}

static int is_png(const char *dir, const char *name) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "rb");
    if (!fp) return 0;
    unsigned char sig[8] = {0};
    size_t n = fread(sig, 1, 8, fp);
    fclose(fp);
    return n == 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8);
}

static char *slurp(const char *dir, const char *name) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, fp) != (size_t)n) n = 0;
    if (s) s[n] = '\0';
    fclose(fp);
    return s;
}

// Python's json module, when there is a Python with it, parses the file and checks
// an expression over it (d).
static int python_check(const char *path, const char *expr) {
    const char *py = getenv("LUCID_PYTHON");
    if (!py) py = "/usr/bin/python3";
    if (access(py, X_OK) != 0) return 1; // no python here: nothing to check
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s -c 'import json,sys,math; d=json.load(open(sys.argv[1])); sys.exit(0 if (%s) "
             "else 3)' %s",
             py, expr, path);
    return system(cmd) == 0;
}

typedef struct counts {
    int ev[LC_BENCH_WROTE + 1];
} counts;

static int count_event(void *ctx, const lc_bench_event *ev) {
    counts *c = ctx;
    c->ev[ev->kind]++;
    if (ev->kind == LC_BENCH_DONE) ck_assert(isfinite(ev->final_return));
    return 0;
}

START_TEST(test_grid_runs_summarises_and_resumes) {
    char dir[] = "/tmp/lucid_bench_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int Q = quick();
    lc_bench_cfg cfg = lc_bench_cfg_default();
    cfg.archs[0] = "mlp";
    cfg.archs[1] = "attn";
    cfg.archs[2] = "cnn"; // incompatible with vector observations: left out
    cfg.narchs = 3;
    cfg.envs[0] = "CartPole-v1";
    cfg.envs[1] = "Acrobot-v1";
    cfg.nenvs = Q ? 1 : 2;
    cfg.seeds = Q ? 1 : 2;
    cfg.steps = Q ? 512 : 1024;
    cfg.eval_episodes = Q ? 1 : 2;
    cfg.jobs = 2;
    cfg.curve_points = 8;
    cfg.resamples = Q ? 20 : 200;
    cfg.out_dir = dir;
    int runs = 2 * cfg.nenvs * cfg.seeds;
    counts c = {{0}};
    cfg.on_event = count_event;
    cfg.event_ctx = &c;
    lc_error err = {0};
    ck_assert_msg(lc_bench_arch_run(&cfg, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(c.ev[LC_BENCH_NOTE], cfg.nenvs);
    ck_assert_int_eq(c.ev[LC_BENCH_START], runs);
    ck_assert_int_eq(c.ev[LC_BENCH_DONE], runs);
    ck_assert_int_eq(c.ev[LC_BENCH_FAIL], 0);
    ck_assert_int_eq(c.ev[LC_BENCH_WROTE], cfg.nenvs + 3);
    ck_assert(exists(dir, "runs/CartPole-v1__mlp__seed1.json"));
    ck_assert(exists(dir, "runs/CartPole-v1__attn__seed1.json"));
    ck_assert(exists(dir, "runs/CartPole-v1__attn__seed1.csv"));
    ck_assert(!exists(dir, "runs/CartPole-v1__cnn__seed1.json"));
    ck_assert(is_png(dir, "curves_CartPole-v1.png"));
    ck_assert(is_png(dir, "profile.png"));
    char *md = slurp(dir, "summary.md");
    ck_assert_ptr_nonnull(md);
    ck_assert(strstr(md, "## CartPole-v1") && strstr(md, "steps to 250"));
    ck_assert(strstr(md, "| mlp | ") && strstr(md, "| attn | "));
    ck_assert(strstr(md, "cnn on CartPole-v1"));
    free(md);
    char *js = slurp(dir, "summary.json");
    ck_assert_ptr_nonnull(js);
    ck_assert(strstr(js, "\"cells\"") && strstr(js, "\"aggregate\"") && strstr(js, "\"profile\""));
    free(js);
    char path[1024];
    if (!Q) {
        ck_assert(exists(dir, "runs/Acrobot-v1__attn__seed2.json"));
        ck_assert(is_png(dir, "curves_Acrobot-v1.png"));
        md = slurp(dir, "summary.md");
        ck_assert(md && strstr(md, "## Acrobot-v1") && strstr(md, "steps to -250"));
        free(md);
        snprintf(path, sizeof path, "%s/summary.json", dir);
        // Content sanity: 4 cells of 2 runs, returns within the envs' ranges, the IQM
        // inside its interval, 2 skipped pairs, profile fractions in [0, 1].
        ck_assert(python_check(
            path, "len(d[\"cells\"]) == 4 and all(c[\"runs\"] == 2 and c[\"nparams\"] > 0 and "
                  "c[\"final_iqm_lo\"] <= c[\"final_iqm\"] <= c[\"final_iqm_hi\"] and "
                  "all((0 < r <= 500) if c[\"env\"] == \"CartPole-v1\" else (-500 <= r <= 0) "
                  "for r in c[\"final_returns\"]) and len(c[\"curve\"][\"mean\"]) == 8 "
                  "for c in d[\"cells\"]) and len(d[\"skipped\"]) == 2 and "
                  "all(0 <= f <= 1 for a in d[\"profile\"][\"archs\"] for f in a[\"frac\"] "
                  "if f is not None) "
                  "and d[\"aggregate\"][2][\"runs\"] == 0"));
        snprintf(path, sizeof path, "%s/runs/CartPole-v1__attn__seed1.json", dir);
        ck_assert(python_check(path, "d[\"status\"] == \"ok\" and d[\"steps\"] >= 1024 and "
                                     "len(d[\"curve_steps\"]) == len(d[\"curve_return\"]) > 0 and "
                                     "d[\"real_env\"] == \"\" and d[\"real_return\"] is None"));
    }

    // A second call finds every run on disk and starts none.
    memset(&c, 0, sizeof c);
    ck_assert_msg(lc_bench_arch_run(&cfg, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(c.ev[LC_BENCH_SKIP], runs);
    ck_assert_int_eq(c.ev[LC_BENCH_START], 0);
    // A deleted run is rerun (in this process with jobs 0), the rest are kept.
    snprintf(path, sizeof path, "%s/runs/CartPole-v1__mlp__seed1.json", dir);
    ck_assert_int_eq(unlink(path), 0);
    memset(&c, 0, sizeof c);
    cfg.jobs = 0;
    ck_assert_msg(lc_bench_arch_run(&cfg, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(c.ev[LC_BENCH_SKIP], runs - 1);
    ck_assert_int_eq(c.ev[LC_BENCH_DONE], 1);
    ck_assert(exists(dir, "runs/CartPole-v1__mlp__seed1.json"));
    // More steps than recorded: the old runs do not count as finished.
    cfg.steps += 1;
    cfg.envs[1] = NULL;
    cfg.nenvs = 1;
    cfg.narchs = 1;
    cfg.seeds = 1;
    memset(&c, 0, sizeof c);
    ck_assert_msg(lc_bench_arch_run(&cfg, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(c.ev[LC_BENCH_SKIP], 0);
    ck_assert_int_eq(c.ev[LC_BENCH_DONE], 1);
    rm_rf(dir);
}
END_TEST

START_TEST(test_grid_errors) {
    lc_bench_cfg cfg = lc_bench_cfg_default();
    lc_error err = {0};
    cfg.archs[0] = "nope";
    cfg.narchs = 1;
    cfg.envs[0] = "CartPole-v1";
    cfg.nenvs = 1;
    cfg.out_dir = "/tmp/lucid_bench_never";
    ck_assert_int_eq(lc_bench_arch_run(&cfg, &err), LC_ERR_NOTFOUND);
    ck_assert(strstr(err.msg, "nope") && strstr(err.msg, "attn"));
    cfg.archs[0] = "mlp";
    cfg.envs[0] = "NoSuchEnv-v0";
    ck_assert_int_eq(lc_bench_arch_run(&cfg, &err), LC_ERR_NOTFOUND);
    cfg.envs[0] = "CartPole-v1";
    cfg.seeds = 0;
    ck_assert_int_eq(lc_bench_arch_run(&cfg, &err), LC_ERR_ARG);
    char stem[256];
    lc_bench_run_stem(stem, sizeof stem, "dream:/x/y/m.lucid?temperature=0.5", "gru", 3);
    ck_assert_str_eq(stem, "dream_m.lucid_temperature_0.5__gru__seed3");
    lc_bench_run_stem(stem, sizeof stem, "CartPole-v1", "mlp-ln", 12);
    ck_assert_str_eq(stem, "CartPole-v1__mlp-ln__seed12");
    double lo, hi;
    ck_assert(lc_bench_env_range("Acrobot-v1", &lo, &hi) && lo == -500 && hi == 0);
    ck_assert(!lc_bench_env_range("Breakout-v0", &lo, &hi));
    ck_assert_double_eq(lc_bench_env_threshold("CartPole-v1"), 250);
    ck_assert_double_eq(lc_bench_env_threshold("Acrobot-v1"), -250);
    ck_assert(isnan(lc_bench_env_threshold("Breakout-v0")));
}
END_TEST

// A dream env: both the dream return and the real-env return are reported.
START_TEST(test_grid_dream) {
    char dir[] = "/tmp/lucid_bench_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    lc_init();
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 4;
    ck_assert_int_eq(lc_env_make(&env, "CartPole-v1", &o, &err), LC_OK);
    lc_dataset ds;
    ck_assert_int_eq(lc_dataset_init_for_env(&ds, env, &err), LC_OK);
    ck_assert_int_eq(lc_dataset_collect(&ds, env, quick() ? 400 : 3000, NULL, NULL, 1, NULL, NULL,
                                        &err),
                     LC_OK);
    lc_env_free(env);
    lc_wm_config wc = lc_wm_config_default();
    wc.members = 2;
    wc.elites = 1;
    wc.hidden = 32;
    wc.layers = 2;
    wc.epochs = quick() ? 1 : 3;
    wc.term_hidden = 16;
    lc_ensemble *m = NULL;
    ck_assert_msg(lc_ensemble_train(&m, &ds, &wc, NULL, NULL, &err) == LC_OK, "%s", err.msg);
    char model[512], name[600];
    snprintf(model, sizeof model, "%s/cp.lucid", dir);
    ck_assert_int_eq(lc_ensemble_save(m, model, &err), LC_OK);
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
    snprintf(name, sizeof name, "dream:%s?horizon=100", model); // short dream episodes

    lc_bench_cfg cfg = lc_bench_cfg_default();
    cfg.archs[0] = "mlp";
    cfg.narchs = 1;
    cfg.envs[0] = name;
    cfg.nenvs = 1;
    cfg.seeds = 1;
    cfg.steps = quick() ? 512 : 1024;
    cfg.eval_episodes = quick() ? 1 : 2;
    cfg.jobs = 1;
    cfg.resamples = 50;
    cfg.out_dir = dir;
    ck_assert_msg(lc_bench_arch_run(&cfg, &err) == LC_OK, "%s", err.msg);
    ck_assert(exists(dir, "runs/dream_cp.lucid_horizon_100__mlp__seed1.json"));
    ck_assert(is_png(dir, "curves_dream_cp.lucid_horizon_100.png"));
    char path[1024];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    ck_assert(python_check(path, "d[\"cells\"][0][\"real_env\"] == \"CartPole-v1\" and "
                                 "d[\"cells\"][0][\"real_mean\"] is not None and "
                                 "0 < d[\"cells\"][0][\"real_mean\"] <= 500 and "
                                 "d[\"cells\"][0][\"threshold\"] == 250"));
    char *md = slurp(dir, "summary.md");
    ck_assert(md && strstr(md, "A dream of CartPole-v1") && strstr(md, "real IQM"));
    free(md);
    rm_rf(dir);
}
END_TEST

static Suite *stats_suite(void) {
    Suite *s = suite_create("stats");
    TCase *t = tcase_create("summaries");
    tcase_add_test(t, test_mean_median_std);
    tcase_add_test(t, test_iqm_hand_values);
    tcase_add_test(t, test_quantile);
    suite_add_tcase(s, t);
    t = tcase_create("bootstrap");
    tcase_add_test(t, test_bootstrap_constant_is_point);
    tcase_add_test(t, test_bootstrap_two_points);
    tcase_add_test(t, test_bootstrap_covers_and_is_seeded);
    tcase_add_test(t, test_bootstrap_stratified);
    tcase_add_test(t, test_bootstrap_errors);
    suite_add_tcase(s, t);
    t = tcase_create("curves");
    tcase_add_test(t, test_auc_and_threshold);
    tcase_add_test(t, test_profile);
    suite_add_tcase(s, t);
    t = tcase_create("attn");
    tcase_add_test(t, test_attn_gradients);
    tcase_add_test(t, test_attn_spaces);
    suite_add_tcase(s, t);
    t = tcase_create("harness");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_grid_errors);
    tcase_add_test(t, test_grid_runs_summarises_and_resumes);
    tcase_add_test(t, test_grid_dream);
    suite_add_tcase(s, t);
    return s;
}

int main(void) {
    lc_init();
    SRunner *sr = srunner_create(stats_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
