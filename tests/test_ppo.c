// tests/test_ppo.c: Check suite for policy/ppo.h against real envs: fixed-seed
// CartPole-v1 and Pendulum-v1 training to a learned result, exact resume from a
// checkpoint, NaN stops that keep the last good file, evaluation of a loaded policy,
// rollout bookkeeping (truncation bootstraps, episode starts), the partially observed
// CartPole. Under valgrind the training runs shrink to a few iterations (memory checks
// only). Leaves out: timing (bench/bench_ppo.c), the GRU training run (bench).
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/ppo.h"

#include "tests/helpers/valgrind.h"
#include "loops/init.h"

// The fast CartPole layout of bench/bench_ppo.c: 64 envs x 16 steps, 32x32 tanh.
static void cartpole_cfg(lc_ppo_cfg *c, lc_policy_cfg *pc, int64_t total, uint64_t seed) {
    *c = lc_ppo_cfg_default();
    *pc = lc_policy_cfg_default();
    c->num_envs = 64;
    c->num_steps = 16;
    c->lr = 2.5e-3f;
    c->total_steps = total;
    c->seed = seed;
    c->num_threads = 1;
    pc->hidden[0] = pc->hidden[1] = 32;
}

static void tmp_path(char *buf, size_t n, const char *tag) {
    snprintf(buf, n, "/tmp/lucid_test_ppo_%s_%d.lucid", tag, (int)getpid());
}

static void train_all(lc_ppo *t) {
    lc_error err = {0};
    while (!lc_ppo_done(t)) ck_assert_msg(lc_ppo_iterate(t, NULL, &err) == LC_OK, "%s", err.msg);
}

static unsigned char *slurp(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n);
    ck_assert(fread(b, 1, (size_t)*n, f) == (size_t)*n);
    fclose(f);
    return b;
}

// Under valgrind (about 4000x slower here: OpenBLAS and vector maths are emulated)
// the training runs shrink to a few iterations and only memory errors are checked.
static int quick(void) {
    return lc_test_on_valgrind();
}

// ---------------------------------------------------------------- learning

// One fixed-seed CartPole run checks learning and exact resume at once: run A trains
// 500k steps uninterrupted (checkpointing halfway, with obs and reward normalisation
// so their statistics must come back too); run B resumes from that file. B must
// continue bit-identically, and the policy must solve CartPole (mean of 100
// deterministic episodes >= 475; a random policy averages ~22, a broken update never
// gets near). The saved and reloaded policy evaluates the same.
START_TEST(test_cartpole_solves_and_resumes_bit_identically) {
    const int64_t total = quick() ? 2048 : 500000;
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    lc_error err = {0};
    char path[256], ppath[256];
    tmp_path(path, sizeof path, "resume");
    tmp_path(ppath, sizeof ppath, "policy");
    cartpole_cfg(&c, &pc, total, 3);
    c.normalize_obs = 1;
    c.normalize_reward = 1;
    lc_ppo *a;
    ck_assert_msg(lc_ppo_new(&a, "CartPole-v1", NULL, &c, &pc, &err) == LC_OK, "%s", err.msg);
    int64_t half = lc_ppo_num_iterations(a) / 2;
    while (lc_ppo_iteration(a) < half) ck_assert(lc_ppo_iterate(a, NULL, &err) == LC_OK);
    ck_assert_msg(lc_ppo_checkpoint(a, path, &err) == LC_OK, "%s", err.msg);
    lc_params *PA = lc_policy_params(lc_ppo_policy(a));
    size_t n = PA->n;
    float *snap = malloc(3 * n * sizeof(float));
    memcpy(snap, PA->params, n * sizeof(float));
    memcpy(snap + n, PA->m, n * sizeof(float));
    memcpy(snap + 2 * n, PA->v, n * sizeof(float));
    int64_t adam_step = PA->step, gstep = lc_ppo_global_step(a);
    double count_a;
    const double *mean_a, *var_a;
    lc_policy_obs_norm(lc_ppo_policy(a), &count_a, &mean_a, &var_a, NULL);
    double mean_snap[4], var_snap[4];
    memcpy(mean_snap, mean_a, sizeof mean_snap);
    memcpy(var_snap, var_a, sizeof var_snap);
    // Run B: resumed from the file: the same state...
    lc_ppo *b;
    ck_assert_msg(lc_ppo_resume(&b, path, 0, &err) == LC_OK, "%s", err.msg);
    lc_params *PB = lc_policy_params(lc_ppo_policy(b));
    ck_assert_uint_eq(PB->n, n);
    ck_assert(memcmp(PB->params, snap, n * sizeof(float)) == 0);
    ck_assert(memcmp(PB->m, snap + n, n * sizeof(float)) == 0);
    ck_assert(memcmp(PB->v, snap + 2 * n, n * sizeof(float)) == 0);
    ck_assert_int_eq(PB->step, adam_step);
    ck_assert_int_eq(lc_ppo_global_step(b), gstep);
    ck_assert_int_eq(lc_ppo_iteration(b), half);
    double count_b;
    const double *mean_b, *var_b;
    lc_policy_obs_norm(lc_ppo_policy(b), &count_b, &mean_b, &var_b, NULL);
    ck_assert_double_eq(count_b, count_a);
    ck_assert(memcmp(mean_b, mean_snap, sizeof mean_snap) == 0);
    ck_assert(memcmp(var_b, var_snap, sizeof var_snap) == 0);
    // ...and the same future, bit for bit (the RNG streams and the reward scaling
    // state came back too, or the trajectories would differ).
    train_all(a);
    train_all(b);
    ck_assert_int_eq(lc_ppo_global_step(a), lc_ppo_global_step(b));
    ck_assert_int_eq(PA->step, PB->step);
    ck_assert(memcmp(PA->params, PB->params, n * sizeof(float)) == 0);
    ck_assert(memcmp(PA->m, PB->m, n * sizeof(float)) == 0);
    ck_assert(memcmp(PA->v, PB->v, n * sizeof(float)) == 0);
    lc_policy_obs_norm(lc_ppo_policy(a), &count_a, &mean_a, NULL, NULL);
    lc_policy_obs_norm(lc_ppo_policy(b), &count_b, &mean_b, NULL, NULL);
    ck_assert_double_eq(count_b, count_a);
    ck_assert(memcmp(mean_a, mean_b, 4 * sizeof(double)) == 0);
    // The resumed run solves the task.
    int episodes = quick() ? 5 : 100;
    lc_eval_result r;
    ck_assert(lc_evaluate(lc_ppo_policy(b), "CartPole-v1", NULL, episodes, 777, 1, &r, &err) ==
              LC_OK);
    ck_assert_int_eq(r.episodes, episodes);
    if (!quick()) ck_assert_msg(r.mean >= 475.0, "mean eval return %.1f (min %.1f)", r.mean, r.min);
    // A saved and reloaded policy (with its obs statistics) evaluates the same.
    ck_assert_msg(lc_policy_save(lc_ppo_policy(b), ppath, &err) == LC_OK, "%s", err.msg);
    lc_policy *p;
    ck_assert_msg(lc_policy_load(&p, ppath, &err) == LC_OK, "%s", err.msg);
    ck_assert_str_eq(lc_policy_env_name(p), "CartPole-v1");
    ck_assert(lc_policy_has_obs_norm(p));
    lc_eval_result r2;
    ck_assert(lc_evaluate(p, "CartPole-v1", NULL, episodes, 777, 1, &r2, &err) == LC_OK);
    ck_assert_double_eq(r2.mean, r.mean);
    ck_assert_double_eq(r2.min, r.min);
    lc_policy_free(p);
    free(snap);
    lc_ppo_free(a);
    lc_ppo_free(b);
    unlink(path);
    unlink(ppath);
}
END_TEST

START_TEST(test_pendulum_learns) {
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    lc_error err = {0};
    ck_assert(lc_ppo_cfg_for_env(&c, &pc, "Pendulum-v1", &err) == LC_OK);
    ck_assert(c.normalize_obs && c.normalize_reward); // ppo_continuous_action.py defaults
    c.num_envs = 8;
    c.num_steps = 256;
    c.num_minibatches = 8;
    c.lr = 1e-3f;
    c.total_steps = 200000;
    c.seed = 1;
    c.num_threads = 1;
    if (quick()) {
        c.num_steps = 32;
        c.total_steps = 512;
        c.update_epochs = 2;
    }
    lc_ppo *t;
    ck_assert_msg(lc_ppo_new(&t, "Pendulum-v1", NULL, &c, &pc, &err) == LC_OK, "%s", err.msg);
    train_all(t);
    lc_policy *p = lc_ppo_policy(t);
    ck_assert(lc_policy_has_obs_norm(p)); // evaluation reuses the training statistics
    lc_eval_result r;
    ck_assert_msg(lc_evaluate(p, "Pendulum-v1", NULL, quick() ? 2 : 100, 99, 1, &r, &err) == LC_OK,
                  "%s", err.msg);
    // Random torques average about -1200; -250 needs a swing-up.
    if (!quick()) ck_assert_msg(r.mean >= -250.0, "mean eval return %.1f", r.mean);
    lc_ppo_free(t);
}
END_TEST

// ---------------------------------------------------------------- resume

START_TEST(test_resume_rejects_bad_files) {
    lc_error err = {0};
    lc_ppo *t;
    ck_assert_int_ne(lc_ppo_resume(&t, "/nonexistent/ckpt.lucid", 0, &err), LC_OK);
    ck_assert(t == NULL);
    // A plain policy file has no trainer state.
    lc_space os;
    int sh[1] = {4};
    os = lc_space_box_scalar(LC_F32, 1, sh, -1, 1);
    lc_space as = lc_space_discrete(2);
    lc_policy_cfg pc = lc_policy_cfg_default();
    lc_policy *p;
    ck_assert(lc_policy_new(&p, &os, &as, &pc, 1, &err) == LC_OK);
    char path[256];
    tmp_path(path, sizeof path, "plain");
    ck_assert(lc_policy_save(p, path, &err) == LC_OK);
    ck_assert_int_eq(lc_ppo_resume(&t, path, 0, &err), LC_ERR_NOTFOUND);
    ck_assert(strstr(err.msg, path) != NULL);
    lc_policy_free(p);
    unlink(path);
}
END_TEST

// ---------------------------------------------------------------- NaN safety

START_TEST(test_nan_parameter_stops_and_keeps_checkpoint) {
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    cartpole_cfg(&c, &pc, 200000, 4);
    char path[256];
    tmp_path(path, sizeof path, "nan");
    c.checkpoint_path = path;
    c.checkpoint_every = 2;
    lc_ppo *t;
    lc_error err = {0};
    ck_assert(lc_ppo_new(&t, "CartPole-v1", NULL, &c, &pc, &err) == LC_OK);
    for (int i = 0; i < 3; i++) ck_assert(lc_ppo_iterate(t, NULL, &err) == LC_OK);
    ck_assert(lc_ppo_checkpoint(t, path, &err) == LC_OK);
    long n0;
    unsigned char *good = slurp(path, &n0);
    lc_policy_params(lc_ppo_policy(t))->params[5] = NAN;
    ck_assert_int_eq(lc_ppo_iterate(t, NULL, &err), LC_ERR_NAN);
    // Poisoned: no more iterations, no checkpoint over the good file.
    ck_assert_int_eq(lc_ppo_iterate(t, NULL, &err), LC_ERR_NAN);
    ck_assert_int_eq(lc_ppo_checkpoint(t, path, &err), LC_ERR_NAN);
    ck_assert_int_eq(lc_ppo_train(t, NULL, NULL, &err), LC_ERR_NAN);
    long n1;
    unsigned char *now = slurp(path, &n1);
    ck_assert_int_eq(n0, n1);
    ck_assert(memcmp(good, now, (size_t)n0) == 0);
    // The file on disk is still a good checkpoint.
    lc_ppo *r;
    ck_assert_msg(lc_ppo_resume(&r, path, 0, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_ppo_iteration(r), 3);
    ck_assert(lc_ppo_iterate(r, NULL, &err) == LC_OK);
    lc_ppo_free(r);
    free(good), free(now);
    lc_ppo_free(t);
    unlink(path);
}
END_TEST

START_TEST(test_nan_loss_stops_training_loop) {
    // An absurd learning rate blows the parameters up inside one update: the loss
    // turns non-finite, the update is undone and lc_ppo_train stops with LC_ERR_NAN
    // before its checkpoint, so the earlier checkpoint file stays as it was.
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    cartpole_cfg(&c, &pc, 200000, 5);
    c.lr = 3e38f;
    c.max_grad_norm = 0;
    c.anneal_lr = 0;
    char path[256];
    tmp_path(path, sizeof path, "nanloss");
    lc_ppo *t;
    lc_error err = {0};
    ck_assert(lc_ppo_new(&t, "CartPole-v1", NULL, &c, &pc, &err) == LC_OK);
    ck_assert(lc_ppo_checkpoint(t, path, &err) == LC_OK);
    long n0;
    unsigned char *good = slurp(path, &n0);
    lc_params *P = lc_policy_params(lc_ppo_policy(t));
    float *before = malloc(P->n * sizeof(float));
    memcpy(before, P->params, P->n * sizeof(float));
    int rc = lc_ppo_train(t, NULL, NULL, &err);
    ck_assert_int_eq(rc, LC_ERR_NAN);
    ck_assert(strstr(err.msg, "non-finite") != NULL);
    // The update that failed was rolled back: parameters are finite.
    ck_assert(lc_all_finite(P->params, P->n));
    long n1;
    unsigned char *now = slurp(path, &n1);
    ck_assert(n0 == n1 && memcmp(good, now, (size_t)n0) == 0);
    free(before), free(good), free(now);
    lc_ppo_free(t);
    unlink(path);
}
END_TEST

// ---------------------------------------------------------------- rollouts and eval

START_TEST(test_rollout_truncation_bootstrap) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 3;
    o.max_episode_steps = 7; // every episode that survives 7 steps is truncated
    o.num_threads = 1;
    lc_env *e;
    lc_error err = {0};
    ck_assert(lc_env_make(&e, "CartPole-v1", &o, &err) == LC_OK);
    const lc_env_spec *s = lc_env_get_spec(e);
    lc_policy_cfg pc = lc_policy_cfg_default();
    lc_policy *p;
    ck_assert(lc_policy_new(&p, &s->obs_space, &s->act_space, &pc, 2, &err) == LC_OK);
    lc_rollout r;
    ck_assert(lc_rollout_init(&r, 20, 3, &s->obs_space, &s->act_space, 0, &err) == LC_OK);
    ck_assert(lc_env_reset(e, 1, &err) == LC_OK);
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    lc_episode_stats eps;
    lc_episode_stats_clear(&eps);
    ck_assert(lc_rollout_collect(&r, p, e, &rng, &eps, &err) == LC_OK);
    int ntrunc = 0;
    for (int t = 0; t < 20; t++) {
        for (int i = 0; i < 3; i++) {
            int k = t * 3 + i;
            ck_assert(!(r.terminated[k] && r.truncated[k]));
            if (t == 0) ck_assert_int_eq(r.starts[k], 1);
            else ck_assert_int_eq(r.starts[k], r.terminated[k - 3] | r.truncated[k - 3]);
            if (r.truncated[k]) {
                ntrunc++;
                ck_assert(r.final_values[k] != 0.0f); // V(final_obs) of an untrained critic
                // The bootstrap is the value of the final observation, not of the
                // next episode's first one.
                ck_assert(t == 19 || r.final_values[k] != r.values[k + 3]);
            } else {
                ck_assert_double_eq(r.final_values[k], 0.0);
            }
        }
    }
    ck_assert(ntrunc > 0);
    ck_assert(eps.episodes >= ntrunc);
    // Episode starts carry over into the next rollout.
    uint8_t carry[3];
    memcpy(carry, r.next_start, 3);
    ck_assert(lc_rollout_collect(&r, p, e, &rng, NULL, &err) == LC_OK);
    ck_assert(memcmp(carry, r.starts, 3) == 0);
    lc_rollout_free(&r);
    lc_policy_free(p);
    lc_env_free(e);
}
END_TEST

START_TEST(test_evaluate_counts_and_errors) {
    lc_init();
    lc_env_opts o = lc_env_opts_default();
    o.num_threads = 1;
    lc_env *e;
    lc_error err = {0};
    ck_assert(lc_env_make(&e, "CartPole-v1", &o, &err) == LC_OK);
    const lc_env_spec *s = lc_env_get_spec(e);
    lc_policy_cfg pc = lc_policy_cfg_default();
    lc_policy *p;
    ck_assert(lc_policy_new(&p, &s->obs_space, &s->act_space, &pc, 2, &err) == LC_OK);
    lc_eval_result r;
    ck_assert(lc_evaluate(p, "CartPole-v1", NULL, 7, 1, 0, &r, &err) == LC_OK);
    ck_assert_int_eq(r.episodes, 7);
    ck_assert(r.min <= r.mean && r.mean <= r.max && r.min >= 8 && r.max <= 500);
    ck_assert(r.std >= 0);
    // Deterministic evaluation is reproducible.
    lc_eval_result a, b;
    ck_assert(lc_evaluate(p, "CartPole-v1", NULL, 5, 3, 1, &a, &err) == LC_OK);
    ck_assert(lc_evaluate(p, "CartPole-v1", NULL, 5, 3, 1, &b, &err) == LC_OK);
    ck_assert_double_eq(a.mean, b.mean);
    // A policy for other spaces is refused.
    ck_assert_int_eq(lc_evaluate(p, "Pendulum-v1", NULL, 3, 1, 1, &r, &err), LC_ERR_SHAPE);
    ck_assert_int_eq(lc_evaluate(p, "CartPole-v1", NULL, 0, 1, 1, &r, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_evaluate(p, "NoSuchEnv-v0", NULL, 3, 1, 1, &r, &err), LC_ERR_NOTFOUND);
    lc_policy_free(p);
    lc_env_free(e);
}
END_TEST

START_TEST(test_cartpole_novel) {
    lc_init();
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 2;
    o.num_threads = 1;
    lc_env *a, *b;
    lc_error err = {0};
    ck_assert_msg(lc_env_make(&a, "CartPoleNoVel-v1", &o, &err) == LC_OK, "%s", err.msg);
    ck_assert(lc_env_make(&b, "CartPole-v1", &o, &err) == LC_OK);
    ck_assert_int_eq(lc_env_get_spec(a)->obs_size, 2);
    ck_assert_int_eq(lc_env_get_spec(a)->max_episode_steps, 500);
    ck_assert(lc_env_reset(a, 9, &err) == LC_OK);
    ck_assert(lc_env_reset(b, 9, &err) == LC_OK);
    int32_t act[2] = {1, 0};
    for (int t = 0; t < 30; t++) {
        const float *oa = lc_env_get_buf(a)->obs, *ob = lc_env_get_buf(b)->obs;
        for (int i = 0; i < 2; i++) {
            ck_assert_double_eq(oa[i * 2], ob[i * 4]);         // x
            ck_assert_double_eq(oa[i * 2 + 1], ob[i * 4 + 2]); // theta
        }
        ck_assert(lc_env_step(a, act, &err) == LC_OK);
        ck_assert(lc_env_step(b, act, &err) == LC_OK);
        ck_assert(memcmp(lc_env_get_buf(a)->terminated, lc_env_get_buf(b)->terminated, 2) == 0);
    }
    lc_env_free(a);
    lc_env_free(b);
}
END_TEST

START_TEST(test_config_defaults) {
    lc_ppo_cfg c = lc_ppo_cfg_default();
    ck_assert_float_eq_tol(c.lr, 2.5e-4, 1e-9);
    ck_assert_int_eq(c.num_envs, 4);
    ck_assert_int_eq(c.num_steps, 128);
    ck_assert_int_eq(c.update_epochs, 4);
    lc_policy_cfg pc;
    lc_error err = {0};
    ck_assert(lc_ppo_cfg_for_env(&c, &pc, "Pendulum-v1", &err) == LC_OK);
    ck_assert_int_eq(c.num_steps, 2048);
    ck_assert_int_eq(c.num_minibatches, 32);
    ck_assert_int_eq(c.update_epochs, 10);
    ck_assert_double_eq(c.ent_coef, 0.0);
    ck_assert(lc_ppo_cfg_for_env(&c, &pc, "Breakout-v0", &err) == LC_OK);
    ck_assert_str_eq(pc.arch, "cnn");
    ck_assert_int_eq(lc_ppo_cfg_for_env(&c, &pc, "NoSuchEnv-v0", &err), LC_ERR_NOTFOUND);
    // Bad configurations are errors, not crashes.
    lc_ppo *t;
    cartpole_cfg(&c, &pc, 1000, 1);
    c.num_minibatches = 0;
    ck_assert_int_eq(lc_ppo_new(&t, "CartPole-v1", NULL, &c, &pc, &err), LC_ERR_ARG);
    cartpole_cfg(&c, &pc, 1000, 1);
    c.num_minibatches = 100000; // more minibatches than samples
    ck_assert(lc_ppo_new(&t, "CartPole-v1", NULL, &c, &pc, &err) == LC_OK);
    ck_assert_int_eq(lc_ppo_iterate(t, NULL, &err), LC_ERR_ARG);
    lc_ppo_free(t);
}
END_TEST

// The trainer owns num_envs, threads and normalisation: env options that disagree are
// refused, not silently overwritten; env options equal to the trainer's are fine.
START_TEST(test_env_opts_owned_by_trainer) {
    lc_error err = {0};
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    lc_ppo *t = NULL;
    cartpole_cfg(&c, &pc, 1000, 1);
    lc_env_opts eo = lc_env_opts_default();
    eo.num_envs = 3;
    ck_assert_int_eq(lc_ppo_new(&t, "CartPole-v1", &eo, &c, &pc, &err), LC_ERR_ARG);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err.msg, "num_envs"));
    eo = lc_env_opts_default();
    eo.normalize_reward = 1;
    ck_assert_int_eq(lc_ppo_new(&t, "CartPole-v1", &eo, &c, &pc, &err), LC_ERR_ARG);
    eo = lc_env_opts_default();
    eo.autoreset = LC_AUTORESET_NEXT_STEP;
    ck_assert_int_eq(lc_ppo_new(&t, "CartPole-v1", &eo, &c, &pc, &err), LC_ERR_ARG);
    eo = lc_env_opts_default();
    eo.num_envs = c.num_envs; // agrees: fine
    eo.max_episode_steps = 50;
    ck_assert_msg(lc_ppo_new(&t, "CartPole-v1", &eo, &c, &pc, &err) == LC_OK, "%s", err.msg);
    lc_ppo_free(t);
}
END_TEST

// lc_ppo_init_from: a trainer started from another's policy acts exactly as that
// policy (weights and obs statistics copied); a policy of another shape is refused.
START_TEST(test_init_from_policy) {
    lc_error err = {0};
    lc_ppo_cfg c;
    lc_policy_cfg pc;
    cartpole_cfg(&c, &pc, 4096, 3);
    c.normalize_obs = 1;
    lc_ppo *a = NULL, *b = NULL, *x = NULL;
    ck_assert_msg(lc_ppo_new(&a, "CartPole-v1", NULL, &c, &pc, &err) == LC_OK, "%s", err.msg);
    for (int i = 0; i < 2; i++) ck_assert(lc_ppo_iterate(a, NULL, &err) == LC_OK);
    lc_policy *pa = lc_ppo_policy(a);
    ck_assert(lc_policy_capture_obs_norm(pa, lc_ppo_env(a), &err) == LC_OK);
    c.seed = 99;
    ck_assert(lc_ppo_new(&b, "CartPole-v1", NULL, &c, &pc, &err) == LC_OK);
    ck_assert_msg(lc_ppo_init_from(b, pa, 0, &err) == LC_OK, "%s", err.msg);
    const lc_params *P = lc_policy_params(lc_ppo_policy(b)), *Q = lc_policy_params(pa);
    ck_assert_int_eq(memcmp(P->params, Q->params, P->n * sizeof(float)), 0);
    double *cb, *mb, *cc, *ma;
    ck_assert(lc_env_obs_stats(lc_ppo_env(b), &cb, &mb, NULL) == LC_OK);
    ck_assert(lc_env_obs_stats(lc_ppo_env(a), &cc, &ma, NULL) == LC_OK);
    ck_assert_double_eq(*cb, *cc);
    ck_assert_double_eq(mb[2], ma[2]);
    ck_assert(lc_ppo_iterate(b, NULL, &err) == LC_OK); // the stats keep learning
    ck_assert_double_gt(*cb, *cc);
    // Another hidden size: refused; statistics into a trainer without normalisation too.
    lc_ppo_cfg c2 = c;
    lc_policy_cfg pc2 = pc;
    pc2.hidden[0] = 16;
    ck_assert(lc_ppo_new(&x, "CartPole-v1", NULL, &c2, &pc2, &err) == LC_OK);
    ck_assert_int_eq(lc_ppo_init_from(x, pa, 0, &err), LC_ERR_SHAPE);
    lc_ppo_free(x);
    c2.normalize_obs = 0;
    ck_assert(lc_ppo_new(&x, "CartPole-v1", NULL, &c2, &pc, &err) == LC_OK);
    ck_assert_int_eq(lc_ppo_init_from(x, pa, 0, &err), LC_ERR_STATE);
    lc_ppo_free(x);
    lc_ppo_free(a);
    lc_ppo_free(b);
}
END_TEST

static Suite *ppo_suite(void) {
    Suite *s = suite_create("ppo");
    TCase *tc = tcase_create("learning");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_cartpole_solves_and_resumes_bit_identically);
    tcase_add_test(tc, test_pendulum_learns);
    tcase_add_test(tc, test_resume_rejects_bad_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("nan");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_nan_parameter_stops_and_keeps_checkpoint);
    tcase_add_test(tc, test_nan_loss_stops_training_loop);
    suite_add_tcase(s, tc);
    tc = tcase_create("rollouts");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rollout_truncation_bootstrap);
    tcase_add_test(tc, test_evaluate_counts_and_errors);
    tcase_add_test(tc, test_cartpole_novel);
    tcase_add_test(tc, test_config_defaults);
    tcase_add_test(tc, test_env_opts_owned_by_trainer);
    tcase_add_test(tc, test_init_from_policy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    // Small matrices: one OpenBLAS thread is fastest and keeps the shared cores free.
    lc_nn_set_threads(1);
    SRunner *sr = srunner_create(ppo_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
