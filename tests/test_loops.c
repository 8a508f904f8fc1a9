// tests/test_loops.c: the Dyna loop as a library call (loops/dyna.h) on a tiny budget
// (step accounting, files, the policy it returns, bad arguments) and a policy as a
// collector (loops/actor.h). With LUCID_LONG: lucid demo's loop reaches CartPole's 475.
// Leaves out: the harness (tests/test_stats.c), the CLI's printing.
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loops/actor.h"
#include "loops/dyna.h"
#include "worldmodel/worldmodel.h"

#include "tests/helpers/valgrind.h"
#include "loops/init.h"

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

// A loop small enough for a test: 2 rounds of a few hundred real steps, a 2-member
// ensemble of 32 units, a few PPO iterations in the dream.
static void tiny(lc_dyna_cfg *c, const char *dir) {
    lc_error err = {0};
    ck_assert_msg(lc_dyna_defaults(c, "CartPole-v1", &err) == LC_OK, "%s", err.msg);
    c->dir = dir;
    c->seed = 3;
    c->budget = 500;
    c->init_steps = 300;
    c->round_steps = 200;
    c->max_rounds = 3;
    c->target = INFINITY;
    c->eval_episodes = 3;
    c->wm.members = 2;
    c->wm.elites = 1;
    c->wm.hidden = 32;
    c->wm.layers = 2;
    c->wm.epochs = lc_test_on_valgrind() ? 1 : 5;
    c->ppo.num_envs = 4;
    c->ppo.num_steps = 32;
    c->ppo.total_steps = lc_test_on_valgrind() ? 128 : 1024;
    c->ppo_round_steps = 256;
    c->dream_params = "temperature=1,horizon=100";
}

START_TEST(test_dyna_tiny_loop) {
    char dir[] = "/tmp/lucid_dyna_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    lc_dyna_cfg cfg;
    tiny(&cfg, dir);
    lc_dyna_result res;
    lc_error err = {0};
    ck_assert_msg(lc_dyna_run(&cfg, &res, &err) == LC_OK, "%s", err.msg);
    // The budget (500) ends the loop after round 1: 300 random + 200 policy steps.
    ck_assert_int_eq(res.rounds, 2);
    ck_assert(!res.reached);
    ck_assert_int_eq(res.r[0].real_learn, 300);
    ck_assert_int_eq(res.r[1].real_learn, 500);
    ck_assert_int_eq(res.r[1].rows, 500);
    ck_assert_uint_eq(res.data.n, 500);
    // PPO: total_steps in round 0 (whole iterations of 4 x 32), ppo_round_steps later.
    ck_assert_int_eq(res.r[0].dream_steps, cfg.ppo.total_steps);
    ck_assert_int_eq(res.r[1].dream_steps, cfg.ppo.total_steps + 256);
    ck_assert_int_gt(res.r[1].real_eval, res.r[0].real_eval);
    for (int i = 0; i < res.rounds; i++) {
        ck_assert(isfinite(res.r[i].wm_mse) && res.r[i].wm_mse >= 0);
        ck_assert(isfinite(res.r[i].real_return) && res.r[i].real_return >= 1);
        ck_assert(isfinite(res.r[i].dream_return));
    }
    // The files are where the result says, and the policy file loads and fits the env.
    ck_assert_int_eq(access(res.data_path, R_OK), 0);
    ck_assert_int_eq(access(res.model_path, R_OK), 0);
    ck_assert_int_eq(access(res.policy_path, R_OK), 0);
    ck_assert_ptr_nonnull(lc_dyna_policy(&res));
    ck_assert_ptr_nonnull(res.model);
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    ck_assert_msg(lc_env_make(&env, "CartPole-v1", &o, &err) == LC_OK, "%s", err.msg);
    lc_actor *a = NULL;
    ck_assert_msg(lc_actor_load(&a, res.policy_path, env, 1, &err) == LC_OK, "%s", err.msg);
    lc_dataset ds;
    ck_assert_msg(lc_dataset_init_for_env(&ds, env, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_dataset_collect(&ds, env, 50, lc_actor_act, a, 5, NULL, NULL, &err) == LC_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(ds.n, 50);
    lc_dataset_free(&ds);
    lc_actor_free(a);
    lc_env_free(env);
    // A policy for another env's spaces is refused with a message.
    ck_assert_msg(lc_env_make(&env, "Pendulum-v1", &o, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_actor_load(&a, res.policy_path, env, 1, &err), LC_ERR_SHAPE);
    ck_assert_ptr_null(a);
    ck_assert_ptr_nonnull(strstr(err.msg, "Pendulum-v1"));
    lc_env_free(env);
    lc_dyna_result_free(&res);
    rm_rf(dir);
}
END_TEST

START_TEST(test_dyna_bad_arguments) {
    lc_dyna_cfg cfg;
    lc_dyna_result res;
    lc_error err = {0};
    tiny(&cfg, "/tmp");
    cfg.max_rounds = 0;
    ck_assert_int_eq(lc_dyna_run(&cfg, &res, &err), LC_ERR_ARG);
    lc_dyna_result_free(&res);
    tiny(&cfg, "/tmp");
    cfg.max_rounds = LC_DYNA_MAX_ROUNDS + 1;
    ck_assert_int_eq(lc_dyna_run(&cfg, &res, &err), LC_ERR_ARG);
    lc_dyna_result_free(&res);
    tiny(&cfg, "/tmp");
    cfg.budget = 5;
    ck_assert_int_eq(lc_dyna_run(&cfg, &res, &err), LC_ERR_ARG);
    lc_dyna_result_free(&res);
    tiny(&cfg, "/tmp");
    cfg.env = "NoSuchEnv-v0";
    ck_assert_int_ne(lc_dyna_run(&cfg, &res, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "NoSuchEnv-v0"));
    lc_dyna_result_free(&res);
    // A directory that does not exist: a clear error, not a crash.
    tiny(&cfg, "/tmp/lucid_no_such_dir_for_dyna/x");
    ck_assert_int_ne(lc_dyna_run(&cfg, &res, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "lucid_no_such_dir_for_dyna"));
    lc_dyna_result_free(&res);
    ck_assert_int_ne(lc_dyna_defaults(&cfg, "NoSuchEnv-v0", &err), LC_OK);
}
END_TEST

// lucid demo's loop, as the library runs it: CartPole-v1's 475 within 10,000 real steps.
START_TEST(test_dyna_demo_reaches_target) {
    if (!getenv("LUCID_LONG")) return;
    char dir[] = "/tmp/lucid_dyna_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    lc_dyna_cfg cfg;
    lc_error err = {0};
    ck_assert_msg(lc_dyna_defaults(&cfg, "CartPole-v1", &err) == LC_OK, "%s", err.msg);
    cfg.dir = dir;
    cfg.seed = 1;
    lc_dyna_result res;
    ck_assert_msg(lc_dyna_run(&cfg, &res, &err) == LC_OK, "%s", err.msg);
    ck_assert(res.reached);
    ck_assert_int_le(res.r[res.rounds - 1].real_learn, cfg.budget);
    ck_assert_double_ge(res.r[res.rounds - 1].real_return, 475);
    lc_dyna_result_free(&res);
    rm_rf(dir);
}
END_TEST

static Suite *loops_suite(void) {
    Suite *s = suite_create("loops");
    TCase *t = tcase_create("dyna");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_dyna_tiny_loop);
    tcase_add_test(t, test_dyna_bad_arguments);
    tcase_add_test(t, test_dyna_demo_reaches_target);
    suite_add_tcase(s, t);
    return s;
}

int main(void) {
    lc_init();
    lc_nn_set_threads(1);
    SRunner *sr = srunner_create(loops_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
