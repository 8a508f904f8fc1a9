// tests/test_bc.c: behaviour cloning (policy/bc.c) and `lucid train-bc`: BC learns a known
// policy, folding a latent head through a map keeps its probabilities, warm starts copy
// weights only between policies of one shape, and the verbs refuse bad inputs clearly
// (--labels 0 / too many, a genie model of another game, frames of another size, --init
// with a policy of other spaces). With LUCID_LONG: the Catch-v0 study (three seeds, 100
// real episodes each), latent BC with 200 labels >= 90% of the oracle's return.
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/env.h"
#include "loops/init.h"
#include "nn/nn.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "tests/helpers/cli.h"
#include "tests/helpers/tmpdir.h"
#include "worldmodel/frames.h"

// ---------------------------------------------------------------- a synthetic latent policy

// N rows of 4 uniform features in [-1, 1]; the known policy picks the largest (K = 4).
static void synth(float *obs, int32_t *lab, int N, uint64_t seed) {
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0);
    for (int i = 0; i < N; i++) {
        int best = 0;
        for (int j = 0; j < 4; j++) {
            obs[i * 4 + j] = (float)lc_rng_uniform(&rng, -1.0, 1.0);
            if (obs[i * 4 + j] > obs[i * 4 + best]) best = j;
        }
        lab[i] = best;
    }
}

static lc_policy *mlp_policy(int n_actions) {
    int shape[1] = {4};
    lc_space os = lc_space_box_scalar(LC_F32, 1, shape, -1.0f, 1.0f), as = lc_space_discrete(n_actions);
    lc_policy_cfg c = lc_policy_cfg_default();
    lc_policy *p = NULL;
    lc_error err = {0};
    ck_assert_msg(lc_policy_new(&p, &os, &as, &c, 3, &err) == LC_OK, "%s", err.msg);
    return p;
}

START_TEST(test_bc_learns_known_policy) {
    enum { N = 4000, NH = 1000 };
    float *obs = malloc(sizeof(float) * 4 * N), *ho = malloc(sizeof(float) * 4 * NH);
    int32_t *lab = malloc(sizeof(int32_t) * N), *hl = malloc(sizeof(int32_t) * NH);
    synth(obs, lab, N, 1);
    synth(ho, hl, NH, 2);
    lc_policy *p = mlp_policy(4);
    lc_error err = {0};
    double before, after;
    ck_assert_int_eq(lc_bc_accuracy(p, ho, NULL, hl, NH, &before, &err), LC_OK);
    lc_bc_cfg c = lc_bc_cfg_default();
    c.steps = 600;
    c.lr = 3e-3f;
    ck_assert_msg(lc_bc_train(p, obs, NULL, lab, NULL, N, &c, NULL, NULL, &err) == LC_OK, "%s",
                  err.msg);
    ck_assert_int_eq(lc_bc_accuracy(p, ho, NULL, hl, NH, &after, &err), LC_OK);
    // Chance is 25%; an untrained (or wrong-signed) clone stays near it.
    ck_assert_msg(before < 0.5 && after > 0.9, "held-out accuracy %.3f -> %.3f", before, after);
    // A subset through rows: the odd rows only, labels aligned with them.
    size_t *rows = malloc(sizeof(size_t) * (N / 2));
    int32_t *sub = malloc(sizeof(int32_t) * (N / 2));
    for (int i = 0; i < N / 2; i++) rows[i] = 2 * i + 1, sub[i] = lab[2 * i + 1];
    double acc;
    ck_assert_int_eq(lc_bc_accuracy(p, obs, rows, sub, N / 2, &acc, &err), LC_OK);
    ck_assert(acc > 0.9);
    // Labels out of the action space are refused.
    lab[7] = 4;
    ck_assert_int_eq(lc_bc_train(p, obs, NULL, lab, NULL, N, &c, NULL, NULL, &err), LC_ERR_ARG);
    // Folding {0, 1} -> 0 and {2, 3} -> 1 gives the "first or second half" policy.
    int map[4] = {0, 0, 1, 1};
    double mass[4] = {1, 1, 1, 1};
    lc_policy *q = NULL;
    int exact = 1;
    ck_assert_int_eq(lc_policy_fold_actions(&q, p, map, mass, 2, &exact, &err), LC_OK);
    ck_assert_int_eq(exact, 0);
    for (int i = 0; i < NH; i++) hl[i] = map[hl[i]];
    double approx;
    ck_assert_int_eq(lc_bc_accuracy(q, ho, NULL, hl, NH, &approx, &err), LC_OK);
    // two codes per action: the head fitted to the exact fold on the training rows
    ck_assert_int_eq(lc_policy_fold_refine(q, p, map, obs, NULL, N, 400, 1, &err), LC_OK);
    ck_assert_int_eq(lc_bc_accuracy(q, ho, NULL, hl, NH, &acc, &err), LC_OK);
    ck_assert_msg(acc > 0.9, "folded accuracy %.3f (before refining %.3f)", acc, approx);
    lc_policy_free(q);
    free(obs), free(ho), free(lab), free(hl), free(rows), free(sub);
    lc_policy_free(p);
}
END_TEST

// A one-to-one map folds exactly: the folded log-probabilities are the latent ones, moved.
// An action no code with mass maps to is never taken.
START_TEST(test_fold_exact) {
    lc_policy *p = mlp_policy(4), *q = NULL;
    lc_error err = {0};
    lc_rng rng;
    lc_rng_seed(&rng, 5, 0);
    lc_params *pp = lc_policy_params(p);
    for (size_t i = 0; i < pp->n; i++) pp->params[i] = 0.3f * (float)lc_rng_normal(&rng);
    int map[4] = {2, 0, 3, 1};
    double mass[4] = {5, 1, 2, 3};
    int exact = 0;
    ck_assert_int_eq(lc_policy_fold_actions(&q, p, map, mass, 4, &exact, &err), LC_OK);
    ck_assert_int_eq(exact, 1);
    float obs[4 * 8];
    int32_t a[8], b[8];
    for (int i = 0; i < 32; i++) obs[i] = (float)lc_rng_uniform(&rng, -1.0, 1.0);
    float lp[8], lq[8];
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 8; i++) a[i] = k, b[i] = map[k];
        ck_assert_int_eq(lc_policy_evaluate(p, obs, a, NULL, NULL, 1, 8, lp, NULL, NULL, &err), 0);
        ck_assert_int_eq(lc_policy_evaluate(q, obs, b, NULL, NULL, 1, 8, lq, NULL, NULL, &err), 0);
        for (int i = 0; i < 8; i++) ck_assert_float_eq_tol(lp[i], lq[i], 1e-5);
    }
    lc_policy_free(q);
    // Codes without mass: action 1 (only code 3 maps to it) is never chosen.
    double mass2[4] = {1, 1, 1, 0};
    ck_assert_int_eq(lc_policy_fold_actions(&q, p, map, mass2, 4, &exact, &err), LC_OK);
    ck_assert_int_eq(lc_policy_act(q, obs, 8, NULL, 1, NULL, a, NULL, NULL, &err), LC_OK);
    for (int i = 0; i < 8; i++) ck_assert_int_ne(a[i], 1);
    lc_policy_free(q);
    // A map outside the real actions is refused.
    int badmap[4] = {0, 1, 2, 4};
    ck_assert_int_eq(lc_policy_fold_actions(&q, p, badmap, mass, 4, NULL, &err), LC_ERR_ARG);
    ck_assert_ptr_null(q);
    lc_policy_free(p);
}
END_TEST

START_TEST(test_copy_params) {
    lc_policy *a = mlp_policy(4), *b = mlp_policy(4), *c = mlp_policy(3);
    lc_error err = {0};
    lc_params *pa = lc_policy_params(a);
    for (size_t i = 0; i < pa->n; i++) pa->params[i] = (float)i * 1e-4f;
    ck_assert_int_eq(lc_policy_copy_params(b, a, &err), LC_OK);
    ck_assert_mem_eq(lc_policy_params(b)->params, pa->params, pa->n * sizeof(float));
    ck_assert_int_eq(lc_policy_copy_params(c, a, &err), LC_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "action space"));
    lc_policy_free(a), lc_policy_free(b), lc_policy_free(c);
}
END_TEST

// ---------------------------------------------------------------- the verbs

static char bin[256], cmd[4096], out[8192];

// Runs a command line (stderr into the output); returns its exit status.
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    int st = lc_test_run_cmd(cmd, out, sizeof out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *TINY = "--res 8 --codes 4 --code-dim 4 --enc-ch 4 --lam-hidden 4 --dyn-hidden 4 "
                          "--batch 8 --lam-steps 20 --dyn-steps 5 --quiet";

START_TEST(test_cli_train_bc) {
    if (!lc_test_lucid_bin(bin, sizeof bin)) return;
    tmpdir_make("bc");
    char f[300], g[300], p[300], pl[300], e[300], gb[300], fb[300], fs[300], cp[300];
    path_in(f, sizeof f, "f.lucid");
    path_in(g, sizeof g, "g.lucid");
    path_in(p, sizeof p, "p.lucid");
    path_in(pl, sizeof pl, "pl.lucid");
    path_in(e, sizeof e, "e.lucid");
    path_in(gb, sizeof gb, "gb.lucid");
    path_in(fb, sizeof fb, "fb.lucid");
    path_in(fs, sizeof fs, "fs.lucid");
    path_in(cp, sizeof cp, "cp.lucid");
    ck_assert_msg(run("%s collect --frames-only --env Catch-v0 --steps 300 --num-envs 2 --seed 2 "
                      "--out %s --quiet", bin, f) == 0, "%s", out);
    ck_assert_msg(run("%s train-genie --data %s --out %s %s", bin, f, g, TINY) == 0, "%s", out);
    const char *fast = "--steps 4 --batch 8 --threads 1";
    // --labels 0 and more labels than the frames hold are refused, clearly.
    ck_assert_int_eq(run("%s train-bc --model %s --data %s --out %s --labels 0 %s", bin, g, f, p,
                         fast), 2);
    ck_assert_msg(strstr(out, "--labels must be >= 1"), "%s", out);
    ck_assert_int_eq(run("%s train-bc --model %s --data %s --out %s --labels 100000 %s", bin, g, f,
                         p, fast), 1);
    ck_assert_msg(strstr(out, "hold only"), "%s", out);
    ck_assert_int_ne(access(p, F_OK), 0);
    // A latent clone: a real-action policy file `lucid eval` runs on the game, and the
    // latent one, foldable again with other labels.
    ck_assert_msg(run("%s train-bc --model %s --data %s --out %s --latent-out %s --labels 50 %s "
                      "--json", bin, g, f, p, pl, fast) == 0, "%s", out);
    ck_assert_msg(strstr(out, "\"mode\":\"latent\"") && strstr(out, "\"labels\":50"), "%s", out);
    ck_assert_msg(run("%s eval --policy %s --episodes 3 --json", bin, p) == 0, "%s", out);
    ck_assert_msg(strstr(out, "Catch-v0"), "%s", out);
    ck_assert_msg(run("%s train-bc --model %s --data %s --out %s --from-latent %s --labels 10 "
                      "--json", bin, g, f, p, pl) == 0, "%s", out);
    ck_assert_msg(strstr(out, "\"labels\":10"), "%s", out);
    // The oracle: the true actions, the same kind of file.
    char acts[300];
    path_in(acts, sizeof acts, "f.actions.lucid");
    ck_assert_msg(run("%s train-bc --oracle %s --data %s --out %s %s", bin, acts, f, p, fast) == 0,
                  "%s", out);
    // The clone as an expert: its play recorded as frames, actions apart.
    ck_assert_msg(run("%s collect --frames-only --env Catch-v0 --policy %s --steps 40 --out %s",
                      bin, p, e) == 0, "%s", out);
    ck_assert_msg(strstr(out, p), "%s", out);
    // A genie model of another game, frames of another size: clear errors.
    ck_assert_msg(run("%s collect --frames-only --env Breakout-v0 --steps 200 --num-envs 2 "
                      "--out %s --quiet", bin, fb) == 0, "%s", out);
    ck_assert_msg(run("%s train-genie --data %s --out %s %s", bin, fb, gb, TINY) == 0, "%s", out);
    ck_assert_int_eq(run("%s train-bc --model %s --data %s --out %s %s", bin, gb, f, p, fast), 1);
    ck_assert_msg(strstr(out, "models Breakout-v0") && strstr(out, "Catch-v0"), "%s", out);
    {
        lc_error err = {0};
        lc_env *env = NULL;
        lc_env_opts o = lc_env_opts_default();
        lc_frames fr;
        char fsa[300];
        path_in(fsa, sizeof fsa, "fs.actions.lucid");
        ck_assert_int_eq(lc_env_make(&env, "Catch-v0", &o, &err), LC_OK);
        ck_assert_int_eq(lc_frames_collect(&fr, env, 100, 32, 1, &err), LC_OK);
        ck_assert_int_eq(lc_frames_save(&fr, fs, fsa, &err), LC_OK);
        lc_frames_free(&fr);
        lc_env_free(env);
    }
    ck_assert_int_eq(run("%s train-bc --model %s --data %s --out %s %s", bin, g, fs, p, fast), 1);
    ck_assert_msg(strstr(out, "64x64x3") && strstr(out, "32x32x3"), "%s", out);
    // Not a genie file at all.
    ck_assert_int_eq(run("%s train-bc --model %s --data %s --out %s %s", bin, f, f, p, fast), 1);
    // --init: a warm start from the clone; refused for another game's policy shape.
    ck_assert_msg(run("%s train --env Catch-v0 --arch cnn --init %s --steps 32 --num-envs 2 "
                      "--num-steps 16 --eval-episodes 1 --quiet --out %s", bin, p, cp) == 0,
                  "%s", out);
    ck_assert_int_eq(run("%s train --env CartPole-v1 --init %s --steps 64 --quiet --out %s", bin, p,
                         cp), 1);
    ck_assert_msg(strstr(out, "--init") && strstr(out, "architecture is cnn"), "%s", out);
    ck_assert_int_eq(run("%s train --env Catch-v0 --arch cnn --init %s --steps 32 --num-envs 2 "
                         "--num-steps 16 --quiet --out %s", bin, pl, cp), 1);
    ck_assert_msg(strstr(out, "action space"), "%s", out);
    // An expert that cannot play the game is refused before recording.
    ck_assert_int_eq(run("%s collect --frames-only --env Breakout-v0 --policy %s --steps 10 "
                         "--out %s", bin, pl, e), 1);
    ck_assert_msg(strstr(out, "cannot play"), "%s", out);
    tmpdir_remove();
}
END_TEST

// ---------------------------------------------------------------- the Catch study (long)

// examples/genie_bc.sh's study (seed 1: the expert, the genie model, the expert's frames),
// then latent BC and the oracle again with seeds 2 and 3 on the same frames: on each seed,
// latent BC with 200 labels reaches >= 90% of the oracle's return over 100 real episodes.
static double eval_mean(const char *policy, int seed) {
    ck_assert_msg(run("%s eval --policy %s --episodes 100 --seed %d --json", bin, policy,
                      seed + 100) == 0, "%s", out);
    const char *m = strstr(out, "\"mean\": ");
    ck_assert_msg(m != NULL, "%s", out);
    return atof(m + 8);
}

START_TEST(test_catch_study) {
    if (!lc_test_lucid_bin(bin, sizeof bin)) return;
    tmpdir_make("bc_long");
    char dir[300], log[400];
    snprintf(dir, sizeof dir, "%s", tmpdir);
    snprintf(log, sizeof log, "%s/study.log", dir);
    ck_assert_msg(run("LUCID=%s FT_STEPS=4096 sh examples/genie_bc.sh %s > %s", bin, dir, log) == 0,
                  "%s", out);
    ck_assert_int_eq(run("tail -1 %s", log), 0);
    fprintf(stderr, "catch study, seed 1: %s", out);
    for (int seed = 1; seed <= 3; seed++) {
        char lat[400], ora[400];
        snprintf(lat, sizeof lat, "%s/bc_200.lucid", dir);
        snprintf(ora, sizeof ora, "%s/oracle.lucid", dir);
        if (seed > 1) {
            snprintf(lat, sizeof lat, "%s/lat_s%d.lucid", dir, seed);
            snprintf(ora, sizeof ora, "%s/ora_s%d.lucid", dir, seed);
            ck_assert_msg(run("%s train-bc --model %s/genie.lucid --data %s/expert_frames.lucid "
                              "--out %s --labels 200 --seed %d --quiet", bin, dir, dir, lat,
                              seed) == 0, "%s", out);
            ck_assert_msg(run("%s train-bc --oracle %s/expert_frames.actions.lucid --data "
                              "%s/expert_frames.lucid --out %s --seed %d --quiet", bin, dir, dir,
                              ora, seed) == 0, "%s", out);
        }
        double lv = eval_mean(lat, seed), ov = eval_mean(ora, seed);
        fprintf(stderr, "catch study seed %d: latent BC (200 labels) %.3f, oracle %.3f\n", seed,
                lv, ov);
        // Catch pays +1 or -1 per episode: 90% of the oracle's return where it is positive.
        ck_assert_msg(ov > 0 && lv >= 0.9 * ov, "seed %d: latent %.3f < 90%% of oracle %.3f",
                      seed, lv, ov);
    }
    tmpdir_remove();
}
END_TEST

static Suite *bc_suite(void) {
    Suite *s = suite_create("bc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bc_learns_known_policy);
    tcase_add_test(tc, test_fold_exact);
    tcase_add_test(tc, test_copy_params);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_test(tc, test_cli_train_bc);
    tcase_set_timeout(tc, 600); // 15 s of CPU; 179 s wall on a machine at load 20, longer with ASan
    suite_add_tcase(s, tc);
    if (getenv("LUCID_LONG")) {
        tc = tcase_create("long");
        tcase_add_test(tc, test_catch_study);
        tcase_set_timeout(tc, 1800);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void) {
    lc_init();
    lc_nn_set_threads(1);
    SRunner *sr = srunner_create(bc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
