// tests/test_worldmodel.c: Check suite for worldmodel/: datasets, the ensemble, dream: envs.
// Fits a known linear system, round-trips files, refuses corrupted ones, runs the env
// contract on a dream built from a file alone, and the CartPole flow end to end.
// Leaves out: the full >= 475 CartPole result (lucid demo and bench/bench_dream.c).
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"
#include "tests/helpers/env_contract.h"
#include "policy/policy.h"
#include "policy/ppo.h"

// Under valgrind the CartPole flow runs with tiny sizes (memory checks only, no result).
#include "tests/helpers/valgrind.h"
#include "loops/init.h"
#include "tests/helpers/cli.h"
#include <sys/wait.h>

static char tmpdir[256];
static char cartpole_model[512]; // a small CartPole model written in main for the contract

static void tmp_path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

// ---------------------------------------------------------------- helpers

// x' = A x + B u, O = 3, a 1-D continuous action in [-1, 1]; K envs of T steps.
static const float LA[3][3] = {{0.9f, 0.1f, 0.0f}, {0.0f, 0.95f, 0.1f}, {0.05f, 0.0f, 0.9f}};
static const float LB[3] = {0.1f, 0.0f, 0.2f};

static void linear_spaces(lc_space *os, lc_space *as) {
    int so[1] = {3}, sa[1] = {1};
    *os = lc_space_box_scalar(LC_F32, 1, so, -INFINITY, INFINITY);
    *as = lc_space_box_scalar(LC_F32, 1, sa, -1.0f, 1.0f);
}

static void linear_dataset(lc_dataset *ds, int T, int K, uint64_t seed) {
    lc_space os, as;
    linear_spaces(&os, &as);
    lc_error err = {0};
    ck_assert_int_eq(lc_dataset_init(ds, "Linear-v0", &os, &as, T, &err), LC_OK);
    size_t rows = (size_t)T * K;
    float *obs = malloc(rows * 3 * sizeof(float)), *next = malloc(rows * 3 * sizeof(float));
    float *act = malloc(rows * sizeof(float)), *rew = malloc(rows * sizeof(float));
    uint8_t *term = calloc(rows, 1), *trunc = calloc(rows, 1);
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0);
    float x[64][3];
    for (int k = 0; k < K; k++)
        for (int j = 0; j < 3; j++) x[k][j] = (float)lc_rng_uniform(&rng, -1, 1);
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) {
            size_t r = (size_t)t * K + k;
            float u = (float)lc_rng_uniform(&rng, -1, 1);
            float nx[3];
            for (int i = 0; i < 3; i++) {
                nx[i] = LB[i] * u;
                for (int j = 0; j < 3; j++) nx[i] += LA[i][j] * x[k][j];
            }
            memcpy(obs + r * 3, x[k], sizeof nx);
            memcpy(next + r * 3, nx, sizeof nx);
            act[r] = u;
            rew[r] = -(x[k][0] * x[k][0]) - 0.1f * u * u;
            trunc[r] = t == T - 1;
            memcpy(x[k], nx, sizeof nx);
        }
    ck_assert_int_eq(lc_dataset_add_run(ds, T, K, obs, act, rew, term, trunc, next, NULL, &err), LC_OK);
    free(obs);
    free(next);
    free(act);
    free(rew);
    free(term);
    free(trunc);
}

static lc_wm_config small_config(void) {
    lc_wm_config c = lc_wm_config_default();
    c.members = 3;
    c.elites = 2;
    c.hidden = 64;
    c.layers = 2;
    c.epochs = 60;
    c.patience = 15;
    c.batch = 64;
    c.lr = 2e-3f;
    c.seed = 7;
    return c;
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void truncate_copy(const char *src, const char *dst, long keep) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    for (long i = 0; i < keep; i++) {
        int c = fgetc(in);
        if (c == EOF) break;
        fputc(c, out);
    }
    fclose(in);
    fclose(out);
}

static void flip_copy(const char *src, const char *dst, long at) {
    truncate_copy(src, dst, file_size(src));
    FILE *f = fopen(dst, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

// ---------------------------------------------------------------- datasets

START_TEST(test_dataset_run_order) {
    // Two envs, three steps, time-major in: env 1 ends at t = 0.
    lc_space os, as;
    int so[1] = {1};
    os = lc_space_box_scalar(LC_F32, 1, so, -INFINITY, INFINITY);
    as = lc_space_discrete(2);
    lc_dataset ds;
    lc_error err = {0};
    ck_assert_int_eq(lc_dataset_init(&ds, "Toy-v0", &os, &as, 0, &err), LC_OK);
    float obs[6] = {0, 10, 1, 20, 2, 21}, next[6] = {1, 11, 2, 21, 3, 22};
    int32_t act[6] = {0, 1, 1, 0, 0, 1};
    float rew[6] = {1, 2, 3, 4, 5, 6};
    uint8_t term[6] = {0, 1, 0, 0, 0, 0}, trunc[6] = {0};
    ck_assert_int_eq(lc_dataset_add_run(&ds, 3, 2, obs, act, rew, term, trunc, next, NULL, &err), LC_OK);
    ck_assert_uint_eq(ds.n, 6);
    float want_obs[6] = {0, 1, 2, 10, 20, 21};
    uint8_t want_start[6] = {1, 0, 0, 1, 1, 0};
    for (int r = 0; r < 6; r++) {
        ck_assert_float_eq(ds.obs[r], want_obs[r]);
        ck_assert_uint_eq(ds.starts[r], want_start[r]);
    }
    ck_assert_uint_eq(lc_dataset_episodes(&ds), 3);
    ck_assert_int_eq(lc_dataset_continues(&ds, 0), 1);
    ck_assert_int_eq(lc_dataset_continues(&ds, 2), 0); // the next row is env 1's
    ck_assert_int_eq(lc_dataset_continues(&ds, 3), 0); // terminated
    ck_assert_int_eq(lc_dataset_validate(&ds, &err), LC_OK);
    // A continuity break is caught.
    ds.obs[1] = 5;
    ck_assert_int_eq(lc_dataset_validate(&ds, &err), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "row 1"));
    ds.obs[1] = 1;
    ((int32_t *)ds.actions)[2] = 7;
    ck_assert_int_eq(lc_dataset_validate(&ds, &err), LC_ERR_ACTION);
    ((int32_t *)ds.actions)[2] = 1;
    ds.terminated[4] = 1;
    ds.truncated[4] = 1;
    ck_assert_int_eq(lc_dataset_validate(&ds, &err), LC_ERR_FORMAT);
    lc_dataset_free(&ds);
}
END_TEST

START_TEST(test_dataset_file_roundtrip_and_merge) {
    lc_dataset a, b, c;
    lc_error err = {0};
    linear_dataset(&a, 20, 3, 1);
    linear_dataset(&b, 10, 2, 2);
    char pa[512], pb[512];
    tmp_path(pa, sizeof pa, "a.lucid");
    tmp_path(pb, sizeof pb, "b.lucid");
    ck_assert_int_eq(lc_dataset_save(&a, pa, &err), LC_OK);
    ck_assert_int_eq(lc_dataset_load(&c, pa, &err), LC_OK);
    ck_assert_uint_eq(c.n, a.n);
    ck_assert_str_eq(c.env_name, "Linear-v0");
    ck_assert_int_eq(c.max_episode_steps, 20);
    ck_assert_int_eq(memcmp(c.obs, a.obs, a.n * 3 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(c.next_obs, a.next_obs, a.n * 3 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(c.actions, a.actions, a.n * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(c.starts, a.starts, a.n), 0);
    // Append = load, merge, save.
    ck_assert_int_eq(lc_dataset_merge(&c, &b, &err), LC_OK);
    ck_assert_uint_eq(c.n, a.n + b.n);
    ck_assert_uint_eq(lc_dataset_episodes(&c), 5);
    ck_assert_int_eq(lc_dataset_validate(&c, &err), LC_OK);
    ck_assert_int_eq(memcmp(c.obs + a.n * 3, b.obs, b.n * 3 * sizeof(float)), 0);
    ck_assert_int_eq(lc_dataset_save(&c, pb, &err), LC_OK);
    lc_dataset d;
    ck_assert_int_eq(lc_dataset_load(&d, pb, &err), LC_OK);
    ck_assert_uint_eq(d.n, a.n + b.n);
    lc_dataset_free(&d);
    // Different spaces are refused.
    lc_dataset e;
    lc_space os, as;
    int so[1] = {2};
    os = lc_space_box_scalar(LC_F32, 1, so, -INFINITY, INFINITY);
    as = lc_space_discrete(2);
    ck_assert_int_eq(lc_dataset_init(&e, "Linear-v0", &os, &as, 0, &err), LC_OK);
    ck_assert_int_eq(lc_dataset_merge(&c, &e, &err), LC_ERR_SHAPE);
    snprintf(e.env_name, sizeof e.env_name, "Other-v0");
    ck_assert_int_eq(lc_dataset_merge(&c, &e, &err), LC_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "different envs"));
    lc_dataset_free(&e);
    lc_dataset_free(&a);
    lc_dataset_free(&b);
    lc_dataset_free(&c);
}
END_TEST

START_TEST(test_dataset_corrupt_refused) {
    lc_dataset a, c;
    lc_error err = {0};
    linear_dataset(&a, 30, 2, 3);
    char pa[512], pbad[512];
    tmp_path(pa, sizeof pa, "c.lucid");
    tmp_path(pbad, sizeof pbad, "c_bad.lucid");
    ck_assert_int_eq(lc_dataset_save(&a, pa, &err), LC_OK);
    long n = file_size(pa);
    ck_assert_int_gt(n, 100);
    long cuts[] = {0, 4, 10, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        truncate_copy(pa, pbad, cuts[i]);
        err.msg[0] = '\0';
        ck_assert_int_ne(lc_dataset_load(&c, pbad, &err), LC_OK);
        ck_assert_ptr_nonnull(strstr(err.msg, "c_bad.lucid"));
    }
    long flips[] = {1, 20, n / 3, n / 2, n - 2};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        flip_copy(pa, pbad, flips[i]);
        err.msg[0] = '\0';
        ck_assert_int_ne(lc_dataset_load(&c, pbad, &err), LC_OK);
        ck_assert(strlen(err.msg) > 0);
    }
    // Well-formed containers with inconsistent contents.
    lc_file *f = lc_file_new("dataset");
    ck_assert_int_eq(lc_dataset_to_file(&a, f, &err), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "n", (int64_t)a.n + 1), LC_OK);
    ck_assert_int_eq(lc_dataset_from_file(&c, f, &err), LC_ERR_SHAPE);
    lc_dataset_free(&c);
    ck_assert_int_eq(lc_file_set_int(f, "n", (int64_t)a.n), LC_OK);
    int64_t sh[1] = {(int64_t)a.n};
    float *bad = calloc(a.n, sizeof(float));
    ck_assert_int_eq(lc_file_add(f, "terminated", LC_F32, 1, sh, bad, &err), LC_OK);
    ck_assert_int_ne(lc_dataset_from_file(&c, f, &err), LC_OK);
    lc_dataset_free(&c);
    uint8_t *flags = calloc(a.n, 1);
    flags[3] = 2;
    ck_assert_int_eq(lc_file_add(f, "terminated", LC_U8, 1, sh, flags, &err), LC_OK);
    ck_assert_int_eq(lc_dataset_from_file(&c, f, &err), LC_ERR_FORMAT);
    lc_dataset_free(&c);
    flags[3] = 0;
    ck_assert_int_eq(lc_file_add(f, "terminated", LC_U8, 1, sh, flags, &err), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "episodes", 5), LC_OK);
    ck_assert_int_eq(lc_dataset_from_file(&c, f, &err), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "episodes"));
    lc_dataset_free(&c);
    lc_file *g = lc_file_new("worldmodel");
    ck_assert_int_eq(lc_dataset_from_file(&c, g, &err), LC_ERR_FORMAT);
    lc_dataset_free(&c);
    lc_file_free(g);
    free(bad);
    free(flags);
    lc_file_free(f);
    lc_dataset_free(&a);
}
END_TEST

// ---------------------------------------------------------------- the ensemble

START_TEST(test_ensemble_fits_linear_system) {
    int quick = lc_test_on_valgrind(); // fewer rows and epochs, the same assertions
    lc_dataset ds;
    linear_dataset(&ds, quick ? 125 : 250, 8, 11);
    lc_wm_config cfg = small_config();
    if (quick) cfg.epochs = 25;
    lc_ensemble *m = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err), LC_OK);
    ck_assert_ptr_nonnull(m);
    // One-step error on held-out rows, relative to the state variance.
    ck_assert_double_lt(m->val.nmse, 1e-3);
    ck_assert_double_lt(m->val.mse, 1e-2 * m->val.mse_trivial);
    // Fresh data from the same system: the model generalises, also over 10 steps.
    lc_dataset test;
    linear_dataset(&test, 50, 4, 99);
    lc_wm_eval ev;
    ck_assert_int_eq(lc_ensemble_evaluate(m, &test, 10, 200, &ev, &err), LC_OK);
    ck_assert_double_lt(ev.nmse, 2e-3);
    ck_assert_uint_gt(ev.windows, 0);
    ck_assert_double_lt(ev.ol_mse, 0.05 * ev.ol_mse_trivial);
    // A known point: x = (0.5, -0.2, 0.1), u = 0.3.
    float x[3] = {0.5f, -0.2f, 0.1f}, u = 0.3f, pred[3], rew;
    float *work = malloc(lc_ensemble_predict_work(m, 1) * sizeof(float));
    lc_ensemble_predict_mean(m, work, x, &u, 1, pred, &rew, NULL);
    for (int i = 0; i < 3; i++) {
        float want = LB[i] * u;
        for (int j = 0; j < 3; j++) want += LA[i][j] * x[j];
        ck_assert_float_eq_tol(pred[i], want, 0.02f);
    }
    free(work);
    lc_ensemble_free(m);
    lc_dataset_free(&test);
    lc_dataset_free(&ds);
}
END_TEST

// Divergence: a learning rate of 1e30 makes the parameters and losses non-finite.
// Training stops with LC_ERR_NAN and hands nothing back; `lucid train-wm` then leaves
// the last good model at --out as it was (same bytes) and says why.
START_TEST(test_ensemble_nan_stops_and_keeps_model) {
    lc_dataset ds;
    linear_dataset(&ds, 40, 4, 5);
    lc_wm_config cfg = small_config();
    cfg.epochs = 3;
    lc_ensemble *m = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err), LC_OK);
    char model[512], data[512];
    tmp_path(model, sizeof model, "good.lucid");
    tmp_path(data, sizeof data, "nan_data.lucid");
    ck_assert_int_eq(lc_ensemble_save(m, model, &err), LC_OK);
    ck_assert_int_eq(lc_dataset_save(&ds, data, &err), LC_OK);
    lc_ensemble_free(m);
    long size0 = file_size(model);

    cfg.lr = 1e30f;
    m = (lc_ensemble *)&err; // must come back NULL
    ck_assert_int_eq(lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err), LC_ERR_NAN);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err.msg, "non-finite") != NULL, "%s", err.msg);

    // A NaN injected into the data the model is trained on is refused before training.
    ds.next_obs[7] = NAN;
    ck_assert_int_eq(lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err), LC_ERR_NAN);
    ck_assert_ptr_null(m);

    char bin[512], cmd[2048], out[4096];
    if (lc_test_lucid_bin(bin, sizeof bin)) {
        FILE *f = fopen(model, "rb");
        char *before = malloc((size_t)size0);
        ck_assert_int_eq(fread(before, 1, (size_t)size0, f), (size_t)size0);
        fclose(f);
        snprintf(cmd, sizeof cmd, "'%s' train-wm --data '%s' --out '%s' --lr 1e30 --epochs 3 "
                 "--members 2 --elites 1 --hidden 16 --layers 1 2>&1", bin, data, model);
        int st = lc_test_run_cmd(cmd, out, sizeof out);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "train-wm succeeded: %s", out);
        ck_assert_msg(strstr(out, "non-finite") != NULL, "%s", out);
        ck_assert_int_eq(file_size(model), size0);
        f = fopen(model, "rb");
        char *after = malloc((size_t)size0);
        ck_assert_int_eq(fread(after, 1, (size_t)size0, f), (size_t)size0);
        fclose(f);
        ck_assert_int_eq(memcmp(before, after, (size_t)size0), 0);
        free(before);
        free(after);
    }
    ck_assert_int_eq(lc_ensemble_load(&m, model, &err), LC_OK);
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
}
END_TEST

START_TEST(test_ensemble_checkpoint_roundtrip) {
    lc_dataset ds;
    linear_dataset(&ds, 40, 4, 5);
    lc_wm_config cfg = small_config();
    cfg.epochs = 3;
    cfg.max_states = 50;
    lc_ensemble *m = NULL, *r = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err), LC_OK);
    char p[512];
    tmp_path(p, sizeof p, "rt.lucid");
    ck_assert_int_eq(lc_ensemble_save(m, p, &err), LC_OK);
    ck_assert_int_eq(lc_ensemble_load(&r, p, &err), LC_OK);
    ck_assert_str_eq(r->env_name, "Linear-v0");
    ck_assert_int_eq(r->max_episode_steps, 40);
    ck_assert_int_eq(r->E, 3);
    ck_assert_int_eq(r->n_elites, 2);
    for (int k = 0; k < 2; k++) ck_assert_int_eq(r->elites[k], m->elites[k]);
    ck_assert_int_eq(memcmp(r->in_mean, m->in_mean, m->in_size * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(r->in_std, m->in_std, m->in_size * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(r->out_mean, m->out_mean, m->Y * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(r->out_std, m->out_std, m->Y * sizeof(float)), 0);
    ck_assert_uint_eq(r->n_starts, 4);
    ck_assert_uint_eq(r->n_states, 50);
    ck_assert_int_eq(memcmp(r->starts, m->starts, 4 * 3 * sizeof(float)), 0);
    ck_assert_double_eq_tol(r->val.mse, m->val.mse, 1e-12);
    // The stats are not trivial and the predictions agree bit for bit.
    ck_assert_float_ne(m->in_std[0], 1.0f);
    float x[6] = {0.1f, 0.2f, 0.3f, -0.4f, 0.5f, 0.6f}, u[2] = {0.5f, -0.5f}, p1[6], p2[6];
    float *w = malloc(lc_ensemble_predict_work(m, 2) * sizeof(float));
    lc_ensemble_predict_mean(m, w, x, u, 2, p1, NULL, NULL);
    lc_ensemble_predict_mean(r, w, x, u, 2, p2, NULL, NULL);
    ck_assert_int_eq(memcmp(p1, p2, sizeof p1), 0);
    free(w);
    lc_ensemble_free(r);
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
}
END_TEST

START_TEST(test_ensemble_corrupt_refused) {
    lc_dataset ds;
    linear_dataset(&ds, 30, 2, 6);
    lc_wm_config cfg = small_config();
    cfg.epochs = 2;
    cfg.hidden = 16;
    lc_ensemble *m = NULL, *r = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err), LC_OK);
    char p[512], pbad[512];
    tmp_path(p, sizeof p, "wm.lucid");
    tmp_path(pbad, sizeof pbad, "wm_bad.lucid");
    ck_assert_int_eq(lc_ensemble_save(m, p, &err), LC_OK);
    long n = file_size(p);
    long cuts[] = {0, 3, 16, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        truncate_copy(p, pbad, cuts[i]);
        err.msg[0] = '\0';
        ck_assert_int_ne(lc_ensemble_load(&r, pbad, &err), LC_OK);
        ck_assert_ptr_null(r);
        ck_assert_ptr_nonnull(strstr(err.msg, "wm_bad.lucid"));
    }
    long flips[] = {0, 9, n / 4, n / 2, (3 * n) / 4, n - 3};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        flip_copy(p, pbad, flips[i]);
        err.msg[0] = '\0';
        ck_assert_int_ne(lc_ensemble_load(&r, pbad, &err), LC_OK);
        ck_assert_ptr_null(r);
        ck_assert(strlen(err.msg) > 0);
    }
    // A dream env of a corrupted file fails to build, with the container's error.
    char name[600];
    snprintf(name, sizeof name, "dream:%s", pbad);
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    ck_assert_int_ne(lc_env_make(&env, name, &o, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "wm_bad.lucid"));
    // Well-formed files with wrong contents.
    lc_file *f = lc_file_new("worldmodel");
    ck_assert_int_eq(lc_ensemble_to_file(m, f, &err), LC_OK);
    int32_t el[2] = {0, 0};
    int64_t sh[1] = {2};
    ck_assert_int_eq(lc_file_add(f, "elites", LC_I32, 1, sh, el, &err), LC_OK);
    ck_assert_int_eq(lc_ensemble_from_file(&r, f, &err), LC_ERR_FORMAT);
    el[1] = 9;
    ck_assert_int_eq(lc_file_add(f, "elites", LC_I32, 1, sh, el, &err), LC_OK);
    ck_assert_int_eq(lc_ensemble_from_file(&r, f, &err), LC_ERR_FORMAT);
    el[1] = 1;
    ck_assert_int_eq(lc_file_add(f, "elites", LC_I32, 1, sh, el, &err), LC_OK);
    float sd[4] = {1, 0, 1, 1};
    int64_t shy[1] = {4};
    ck_assert_int_eq(lc_file_add(f, "norm.out_std", LC_F32, 1, shy, sd, &err), LC_OK);
    ck_assert_int_eq(lc_ensemble_from_file(&r, f, &err), LC_ERR_NAN);
    ck_assert_ptr_nonnull(strstr(err.msg, "norm.out_std"));
    sd[1] = 1;
    ck_assert_int_eq(lc_file_add(f, "norm.out_std", LC_F32, 1, shy, sd, &err), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "hidden", 17), LC_OK);
    ck_assert_int_ne(lc_ensemble_from_file(&r, f, &err), LC_OK);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(lc_file_set_int(f, "hidden", 16), LC_OK);
    ck_assert_int_eq(lc_ensemble_from_file(&r, f, &err), LC_OK);
    lc_ensemble_free(r);
    lc_file_free(f);
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
}
END_TEST

// ---------------------------------------------------------------- dream envs

START_TEST(test_dream_params) {
    lc_dream_params p = lc_dream_params_default();
    lc_error err = {0};
    ck_assert_int_eq(lc_dream_params_parse(&p, "temperature=0.5,penalty=2,branch=1,horizon=10", &err), LC_OK);
    ck_assert_float_eq(p.temperature, 0.5f);
    ck_assert_float_eq(p.penalty, 2.0f);
    ck_assert_int_eq(p.branch, 1);
    ck_assert_int_eq(p.horizon, 10);
    ck_assert_int_eq(lc_dream_params_parse(&p, "", &err), LC_OK);
    ck_assert_int_eq(lc_dream_params_parse(&p, "temp=1", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_dream_params_parse(&p, "temperature=-1", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_dream_params_parse(&p, "horizon=2.5", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_dream_params_parse(&p, "branch", &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_dream_params_parse(&p, "penalty=abc", &err), LC_ERR_ARG);
}
END_TEST

static void make_env(lc_env **env, const char *path, const char *params, int n) {
    char name[600];
    snprintf(name, sizeof name, "dream:%s", path);
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    o.params = params;
    lc_error err = {0};
    int rc = lc_env_make(env, name, &o, &err);
    ck_assert_msg(rc == LC_OK, "%s", err.msg);
}

START_TEST(test_dream_env_behaviour) {
    lc_env *env = NULL;
    lc_error err = {0};
    make_env(&env, cartpole_model, "temperature=0", 8);
    const lc_env_spec *sp = lc_env_get_spec(env);
    ck_assert_int_eq(sp->act_space.kind, LC_SPACE_DISCRETE);
    ck_assert_int_eq(sp->act_space.n, 2);
    ck_assert_int_eq(sp->obs_size, 4);
    ck_assert_int_eq(sp->max_episode_steps, 500);
    ck_assert_int_eq(sp->n_info, 1);
    ck_assert_str_eq(sp->info_names[0], "disagreement");
    const lc_env_buf *b = lc_env_get_buf(env);
    ck_assert_int_eq(lc_env_reset(env, 3, &err), LC_OK);
    // Starts come from the data: CartPole starts lie in [-0.05, 0.05].
    for (int i = 0; i < 8 * 4; i++) ck_assert_float_le(fabsf(((float *)b->obs)[i]), 0.05f);
    int32_t a[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    float before[32];
    memcpy(before, b->obs, sizeof before);
    ck_assert_int_eq(lc_env_step(env, a, &err), LC_OK);
    for (int i = 0; i < 8; i++) {
        ck_assert_float_eq_tol(b->rewards[i], 1.0f, 0.1f);
        ck_assert(b->info[i] >= 0.0f && isfinite(b->info[i]));
        // Pushing right (1) raises the cart velocity, left lowers it.
        float dv = ((float *)b->obs)[i * 4 + 1] - before[i * 4 + 1];
        if (!b->done[i]) ck_assert(a[i] ? dv > 0.05f : dv < -0.05f);
    }
    a[0] = 2;
    ck_assert_int_eq(lc_env_step(env, a, &err), LC_ERR_ACTION);
    lc_env_free(env);

    // Temperature 0 and the same seed: identical runs; horizon=H sets the time limit.
    lc_env *e1 = NULL, *e2 = NULL;
    make_env(&e1, cartpole_model, "temperature=0,horizon=7", 4);
    make_env(&e2, cartpole_model, "temperature=0,horizon=7", 4);
    ck_assert_int_eq(lc_env_get_spec(e1)->max_episode_steps, 7);
    ck_assert_int_eq(lc_env_reset(e1, 5, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset(e2, 5, &err), LC_OK);
    int ended = 0;
    for (int t = 0; t < 7; t++) {
        int32_t aa[4] = {t & 1, 1, 0, (t / 2) & 1};
        ck_assert_int_eq(lc_env_step(e1, aa, &err), LC_OK);
        ck_assert_int_eq(lc_env_step(e2, aa, &err), LC_OK);
        ck_assert_int_eq(memcmp(lc_env_get_buf(e1)->obs, lc_env_get_buf(e2)->obs, 16 * sizeof(float)), 0);
        for (int i = 0; i < 4; i++) ended += lc_env_get_buf(e1)->done[i];
    }
    ck_assert_int_ge(ended, 4); // every env has ended by the horizon
    lc_env_free(e1);
    lc_env_free(e2);

    // Rendering gives a picture with something drawn on it.
    make_env(&env, cartpole_model, "branch=1", 2);
    ck_assert_int_eq(lc_env_reset(env, 1, &err), LC_OK);
    sp = lc_env_get_spec(env);
    uint8_t *rgb = malloc((size_t)sp->render_w * sp->render_h * 3);
    ck_assert_int_eq(lc_env_render(env, 0, rgb, &err), LC_OK);
    size_t dark = 0;
    for (size_t i = 0; i < (size_t)sp->render_w * sp->render_h * 3; i++) dark += rgb[i] < 128;
    ck_assert_uint_gt(dark, 100);
    free(rgb);
    lc_env_free(env);

    // Unknown params and missing files are errors.
    char name[600];
    snprintf(name, sizeof name, "dream:%s", cartpole_model);
    lc_env_opts o = lc_env_opts_default();
    o.params = "warp=9";
    ck_assert_int_eq(lc_env_make(&env, name, &o, &err), LC_ERR_ARG);
    o.params = NULL;
    char missing[512];
    tmp_path(missing, sizeof missing, "nope.lucid");
    snprintf(name, sizeof name, "dream:%s", missing);
    ck_assert_int_ne(lc_env_make(&env, name, &o, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope.lucid"));
}
END_TEST

// dream: reads its model file once per process, keyed by the file's identity: a
// model rewritten in place (another size, inode or time) is read again, so a changed
// or corrupted file is never served from memory.
START_TEST(test_dream_file_read_again_when_changed) {
    char path[512], name[600];
    tmp_path(path, sizeof path, "reread.lucid");
    long n = 0;
    FILE *src = fopen(cartpole_model, "rb");
    ck_assert_ptr_nonnull(src);
    fseek(src, 0, SEEK_END);
    n = ftell(src);
    fseek(src, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)n);
    ck_assert_int_eq(fread(bytes, 1, (size_t)n, src), n);
    fclose(src);
    FILE *dst = fopen(path, "wb");
    ck_assert_int_eq(fwrite(bytes, 1, (size_t)n, dst), n);
    fclose(dst);
    snprintf(name, sizeof name, "dream:%s", path);
    lc_env *env = NULL;
    lc_error err = {0};
    lc_env_opts o = lc_env_opts_default();
    for (int k = 0; k < 3; k++) { // made three times, as lucid train does
        ck_assert_msg(lc_env_make(&env, name, &o, &err) == LC_OK, "%s", err.msg);
        lc_env_free(env);
    }
    // The same path now holds a truncated copy: refused, not served from memory.
    dst = fopen(path, "wb");
    ck_assert_int_eq(fwrite(bytes, 1, (size_t)(n / 2), dst), n / 2);
    fclose(dst);
    ck_assert_int_ne(lc_env_make(&env, name, &o, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "reread.lucid"));
    // Whole again: made again.
    dst = fopen(path, "wb");
    ck_assert_int_eq(fwrite(bytes, 1, (size_t)n, dst), n);
    fclose(dst);
    ck_assert_msg(lc_env_make(&env, name, &o, &err) == LC_OK, "%s", err.msg);
    lc_env_free(env);
    unlink(path);
    ck_assert_int_ne(lc_env_make(&env, name, &o, &err), LC_OK);
    free(bytes);
}
END_TEST

START_TEST(test_dream_penalty_and_step) {
    lc_ensemble *m = NULL;
    lc_error err = {0};
    ck_assert_int_eq(lc_ensemble_load(&m, cartpole_model, &err), LC_OK);
    lc_dream_params p = lc_dream_params_default();
    p.temperature = 0;
    lc_dream *d0 = NULL, *d1 = NULL;
    ck_assert_int_eq(lc_dream_new(&d0, m, 4, &p, &err), LC_OK);
    p.penalty = 10;
    ck_assert_int_eq(lc_dream_new(&d1, m, 4, &p, &err), LC_OK);
    float s0[16] = {0}, s1[16] = {0}, r0[4], r1[4], dis[4];
    uint8_t t0[4], t1[4];
    s0[4] = s1[4] = 1.5f; // far from the data: the elites disagree more
    int32_t a[4] = {0, 1, 1, 0};
    lc_rng g0[4], g1[4];
    for (int i = 0; i < 4; i++) {
        lc_rng_seed(&g0[i], 1, (uint64_t)i);
        g1[i] = g0[i];
    }
    lc_dream_step(d0, s0, a, 4, r0, t0, NULL, g0);
    lc_dream_step(d1, s1, a, 4, r1, t1, dis, g1);
    for (int i = 0; i < 4; i++) {
        ck_assert_float_gt(dis[i], 0.0f);
        ck_assert_float_eq_tol(r1[i], r0[i] - 10 * dis[i], 1e-4f);
    }
    ck_assert_int_eq(memcmp(s0, s1, sizeof s0), 0);
    lc_dream_free(d0);
    lc_dream_free(d1);
    lc_ensemble_free(m);
}
END_TEST

// ---------------------------------------------------------------- CartPole end to end

static int cartpole_dataset(lc_dataset *ds, int64_t steps, int K, uint64_t seed, lc_error *err) {
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = K;
    int rc = lc_env_make(&env, "CartPole-v1", &o, err);
    if (rc) return rc;
    rc = lc_dataset_init_for_env(ds, env, err);
    if (!rc) rc = lc_dataset_collect(ds, env, steps, NULL, NULL, seed, NULL, NULL, err);
    lc_env_free(env);
    return rc;
}

START_TEST(test_collect_cartpole) {
    lc_dataset ds;
    lc_error err = {0};
    ck_assert_int_eq(cartpole_dataset(&ds, 1001, 4, 1, &err), LC_OK);
    ck_assert_uint_eq(ds.n, 1001);
    ck_assert_str_eq(ds.env_name, "CartPole-v1");
    ck_assert_int_eq(ds.max_episode_steps, 500);
    ck_assert_int_eq(lc_dataset_validate(&ds, &err), LC_OK);
    size_t eps = lc_dataset_episodes(&ds), ends = 0;
    for (size_t r = 0; r < ds.n; r++) ends += ds.terminated[r];
    // Random CartPole episodes last about 22 steps.
    ck_assert_uint_gt(eps, 25);
    ck_assert_uint_lt(eps, 100);
    ck_assert_uint_gt(ends, 20);
    // A terminal row's next observation is past a threshold.
    for (size_t r = 0; r < ds.n; r++) {
        if (!ds.terminated[r]) continue;
        const float *x = ds.next_obs + r * 4;
        ck_assert(fabsf(x[0]) > 2.4f || fabsf(x[2]) > 0.2094f);
    }
    // Same seed, same data.
    lc_dataset again;
    ck_assert_int_eq(cartpole_dataset(&again, 1001, 4, 1, &err), LC_OK);
    ck_assert_int_eq(memcmp(ds.obs, again.obs, ds.n * 4 * sizeof(float)), 0);
    lc_dataset_free(&again);
    lc_dataset_free(&ds);
}
END_TEST

// Acts with a policy for lc_dataset_collect (sampling; CartPole needs no obs normalisation).
typedef struct act_ctx {
    lc_policy *p;
    lc_rng rng;
} act_ctx;

static int policy_act(void *ctx, const float *obs, const uint8_t *starts, int N, void *actions,
                      lc_error *err) {
    act_ctx *c = ctx;
    return lc_policy_act(c->p, obs, N, starts, 0, &c->rng, actions, NULL, NULL, err);
}

// Fits a small ensemble to ds, writes it to path and trains PPO in dream:path for steps,
// starting from init's parameters when given.
static lc_ppo *fit_and_dream(const lc_dataset *ds, const char *path, int64_t steps, lc_policy *init,
                             uint64_t seed, int quick, double *val_mse, double *val_trivial) {
    lc_error err = {0};
    lc_wm_config cfg = lc_wm_config_default();
    cfg.members = 4;
    cfg.elites = 3;
    cfg.hidden = quick ? 16 : 128;
    cfg.layers = 2;
    cfg.epochs = quick ? 2 : 60;
    cfg.seed = seed;
    lc_ensemble *m = NULL;
    ck_assert_int_eq(lc_ensemble_train(&m, ds, &cfg, NULL, NULL, &err), LC_OK);
    *val_mse = m->val.mse;
    *val_trivial = m->val.mse_trivial;
    if (!quick) ck_assert_double_gt(m->val.term_acc, 0.97);
    ck_assert_int_eq(lc_ensemble_save(m, path, &err), LC_OK);
    lc_ensemble_free(m);
    char name[600];
    snprintf(name, sizeof name, "dream:%s", path);
    lc_ppo_cfg pc;
    lc_policy_cfg pcfg;
    ck_assert_int_eq(lc_ppo_cfg_for_env(&pc, &pcfg, "CartPole-v1", &err), LC_OK);
    pc.num_envs = 16;
    pc.num_steps = 128;
    pc.total_steps = steps;
    pc.seed = seed + 1;
    lc_ppo *tr = NULL;
    int rc = lc_ppo_new(&tr, name, NULL, &pc, &pcfg, &err);
    ck_assert_msg(rc == LC_OK, "%s", err.msg);
    if (init) lc_params_copy(lc_policy_params(lc_ppo_policy(tr)), lc_policy_params(init));
    rc = lc_ppo_train(tr, NULL, NULL, &err);
    ck_assert_msg(rc == LC_OK, "%s", err.msg);
    return tr;
}

START_TEST(test_cartpole_dream_to_real) {
    // Round 0: 2000 random real steps, a model, PPO only in the dream. Round 1: 2000 real
    // steps with that policy, refit on all 4000, more PPO in the new dream. Then the real test.
    int quick = lc_test_on_valgrind();
    int64_t real_steps = quick ? 200 : 2000;
    lc_dataset ds;
    lc_error err = {0};
    ck_assert_int_eq(cartpole_dataset(&ds, real_steps, 1, 21, &err), LC_OK);
    char path[512];
    tmp_path(path, sizeof path, "e2e.lucid");
    double mse, triv;
    lc_ppo *t0 = fit_and_dream(&ds, path, quick ? 2048 : 150000, NULL, 3, quick, &mse, &triv);
    if (!quick) ck_assert_double_lt(mse, 0.01 * triv);
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    ck_assert_int_eq(lc_env_make(&env, "CartPole-v1", &o, &err), LC_OK);
    act_ctx ac = {lc_ppo_policy(t0), {{0}}};
    lc_rng_seed(&ac.rng, 9, 0);
    ck_assert_int_eq(lc_dataset_collect(&ds, env, real_steps, policy_act, &ac, 22, NULL, NULL, &err), LC_OK);
    lc_env_free(env);
    ck_assert_uint_eq(ds.n, (size_t)(2 * real_steps));
    lc_ppo *t1 = fit_and_dream(&ds, path, quick ? 2048 : 100000, lc_ppo_policy(t0), 5, quick, &mse, &triv);
    lc_eval_result real;
    ck_assert_int_eq(lc_evaluate(lc_ppo_policy(t1), "CartPole-v1", NULL, quick ? 2 : 20, 77, 1, &real, &err), LC_OK);
    fprintf(stderr, "cartpole flow: %lld real steps, model val MSE %.3g (nothing-changes %.3g), real "
            "return %.1f after PPO in the dream%s\n", (long long)(2 * real_steps), mse, triv, real.mean,
            quick ? " (valgrind: tiny sizes, not asserted)" : "");
    // Random play scores about 22.
    if (!quick) ck_assert_msg(real.mean >= 150.0, "real return %.1f after training in the dream", real.mean);
    lc_ppo_free(t0);
    lc_ppo_free(t1);
    lc_dataset_free(&ds);
}
END_TEST

// ---------------------------------------------------------------- suite

static Suite *suite(void) {
    Suite *s = suite_create("worldmodel");
    TCase *tc = tcase_create("dataset");
    tcase_add_test(tc, test_dataset_run_order);
    tcase_add_test(tc, test_dataset_file_roundtrip_and_merge);
    tcase_add_test(tc, test_dataset_corrupt_refused);
    tcase_add_test(tc, test_collect_cartpole);
    suite_add_tcase(s, tc);
    tc = tcase_create("ensemble");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ensemble_fits_linear_system);
    tcase_add_test(tc, test_ensemble_checkpoint_roundtrip);
    tcase_add_test(tc, test_ensemble_nan_stops_and_keeps_model);
    tcase_add_test(tc, test_ensemble_corrupt_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("dream");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dream_params);
    tcase_add_test(tc, test_dream_env_behaviour);
    tcase_add_test(tc, test_dream_penalty_and_step);
    tcase_add_test(tc, test_dream_file_read_again_when_changed);
    suite_add_tcase(s, tc);
    static char contract_name[600];
    snprintf(contract_name, sizeof contract_name, "dream:%s", cartpole_model);
    suite_add_tcase(s, lc_contract_tcase(contract_name, NULL));
    tc = tcase_create("cartpole_flow");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_cartpole_dream_to_real);
    suite_add_tcase(s, tc);
    return s;
}

// A small CartPole model that the dream tests and the env contract load from a file.
static int make_cartpole_model(void) {
    lc_dataset ds;
    lc_error err = {0};
    int quick = lc_test_on_valgrind();
    if (cartpole_dataset(&ds, quick ? 1000 : 1500, 2, 5, &err)) {
        fprintf(stderr, "test_worldmodel: %s\n", err.msg);
        return -1;
    }
    lc_wm_config cfg = lc_wm_config_default();
    cfg.members = 3;
    cfg.elites = 2;
    cfg.hidden = 32;
    cfg.layers = 2;
    cfg.epochs = quick ? 10 : 20;
    cfg.term_hidden = 16;
    cfg.max_states = 500;
    lc_ensemble *m = NULL;
    int rc = lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err);
    if (!rc) rc = lc_ensemble_save(m, cartpole_model, &err);
    if (rc) fprintf(stderr, "test_worldmodel: %s\n", err.msg);
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
    return rc ? -1 : 0;
}

static void remove_tmpdir(void) {
    const char *names[] = {"a.lucid", "b.lucid", "c.lucid", "c_bad.lucid", "rt.lucid", "wm.lucid",
                           "wm_bad.lucid", "cartpole.lucid", "e2e.lucid"};
    char p[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tmp_path(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

int main(void) {
    lc_nn_set_threads(1); // small products: a second OpenBLAS thread costs more than it saves
    lc_init();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lucid_test_wm_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    tmp_path(cartpole_model, sizeof cartpole_model, "cartpole.lucid");
    if (make_cartpole_model() != 0) {
        remove_tmpdir();
        return 1;
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tmpdir();
    return failed ? 1 : 0;
}
