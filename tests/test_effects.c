// tests/test_effects.c: which actions had the same effect (worldmodel/frame_effects.h): the
// replay of a recording with its true actions (and its refusal of the wrong seed, env count
// or frame size), the file round trip and corrupt files, consistency scored by effect on a
// hand-made case, and eval-genie --effects end to end. Leaves out: the CoinRun figures
// (docs/GENIE.md).
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/file.h"
#include "env/env.h"
#include "env/pixel.h"
#include "loops/init.h"
#include "nn/nn.h"
#include "tests/helpers/cli.h"
#include "tests/helpers/tmpdir.h"
#include "worldmodel/frame_effects.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"

static void record(lc_frames *fr, const char *game, int64_t steps, int K, int size,
                   uint64_t seed) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = K;
    ck_assert_int_eq(lc_env_make(&env, game, &o, &err), LC_OK);
    ck_assert_msg(lc_frames_collect(fr, env, steps, size, seed, &err) == LC_OK, "%s", err.msg);
    lc_env_free(env);
}

static void setup(void) { tmpdir_make("effects"); }
static void teardown(void) { tmpdir_remove(); }

// A replay of 3 envs' blocks (301 steps: the last blocks one step shorter), every class valid,
// the true action's effect reproduced by stepping the game again from the same point.
START_TEST(test_replay_coinrun) {
    lc_frames fr;
    record(&fr, "CoinRun-v0", 301, 3, 0, 5);
    lc_error err = {0};
    lc_frame_effects fx;
    ck_assert_msg(lc_frame_effects_replay(&fx, &fr, 3, 5, &err) == LC_OK, "%s", err.msg);
    ck_assert_uint_eq(fx.n, fr.n);
    ck_assert_int_eq(fx.n_actions, LC_COINRUN_NACTIONS);
    const int A = fx.n_actions;
    size_t merged = 0, steps = 0;
    for (size_t r = 0; r < fr.n; r++) {
        const int32_t *c = fx.cls + r * A;
        if (fr.starts[r]) {
            for (int a = 0; a < A; a++) ck_assert_int_eq(c[a], -1);
            continue;
        }
        steps++;
        for (int a = 0; a < A; a++) {
            ck_assert(c[a] >= 0 && c[a] <= a);
            ck_assert_int_eq(c[c[a]], c[a]);
            merged += c[a] != a;
        }
    }
    ck_assert_uint_eq(steps, 301);
    // Random play spends many steps in the air, where a jump is a no-op.
    ck_assert_uint_gt(merged, 30);
    // The wrong seed, the wrong env count, and frames stored below the game's side.
    lc_frame_effects bad;
    ck_assert_int_eq(lc_frame_effects_replay(&bad, &fr, 3, 6, &err), LC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "row"));
    ck_assert_int_eq(lc_frame_effects_replay(&bad, &fr, 2, 5, &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_frame_effects_replay(&bad, &fr, 0, 5, &err), LC_ERR_ARG);
    lc_frame_effects_free(&fx);
    lc_frames_free(&fr);
    record(&fr, "CoinRun-v0", 50, 1, 32, 5);
    ck_assert_int_eq(lc_frame_effects_replay(&bad, &fr, 1, 5, &err), LC_ERR_SHAPE);
    lc_frames_free(&fr);
    // Breakout serves from the env's RNG: the copies step with a copy of it.
    record(&fr, "Breakout-v0", 400, 2, 0, 9);
    ck_assert_msg(lc_frame_effects_replay(&fx, &fr, 2, 9, &err) == LC_OK, "%s", err.msg);
    lc_frame_effects_free(&fx);
    lc_frames_free(&fr);
}
END_TEST

// Each class is what the game shows: stepping a fresh copy of the recording's env with the
// class's representative gives the frame the data holds for the true action.
START_TEST(test_classes_match_the_game) {
    lc_frames fr;
    record(&fr, "CoinRun-v0", 200, 1, 0, 11);
    lc_error err = {0};
    lc_frame_effects fx;
    ck_assert_int_eq(lc_frame_effects_replay(&fx, &fr, 1, 11, &err), LC_OK);
    const int A = fx.n_actions;
    const size_t FS = (size_t)fr.H * fr.W * fr.C;
    lc_env_opts o = lc_env_opts_default();
    lc_env *env = NULL;
    ck_assert_int_eq(lc_env_make(&env, "CoinRun-v0", &o, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset(env, 11, &err), LC_OK);
    int checked = 0;
    for (size_t r = 1; r < fr.n; r++) {
        if (fr.starts[r]) continue; // the env reset itself with the step before
        int a = fr.actions[r], rep = fx.cls[r * A + a];
        if (rep != a && !fr.terminated[r] && !fr.truncated[r]) {
            // Step a copy: a second env replayed to the same point, with the representative.
            lc_env *twin = NULL;
            ck_assert_int_eq(lc_env_make(&twin, "CoinRun-v0", &o, &err), LC_OK);
            ck_assert_int_eq(lc_env_reset(twin, 11, &err), LC_OK);
            for (size_t q = 1; q < r; q++) {
                if (fr.starts[q]) continue;
                int32_t b = fr.actions[q];
                ck_assert_int_eq(lc_env_step(twin, &b, &err), LC_OK);
            }
            int32_t b = rep;
            ck_assert_int_eq(lc_env_step(twin, &b, &err), LC_OK);
            ck_assert(memcmp(lc_env_get_buf(twin)->obs, fr.frames + r * FS, FS) == 0);
            lc_env_free(twin);
            if (++checked == 5) break;
        }
    }
    ck_assert_int_eq(checked, 5);
    lc_env_free(env);
    lc_frame_effects_free(&fx);
    lc_frames_free(&fr);
}
END_TEST

START_TEST(test_file_roundtrip_and_corruption) {
    lc_frames fr;
    record(&fr, "Catch-v0", 60, 2, 0, 3);
    lc_error err = {0};
    lc_frame_effects fx, back;
    ck_assert_int_eq(lc_frame_effects_replay(&fx, &fr, 2, 3, &err), LC_OK);
    char path[512];
    path_in(path, sizeof path, "e.lucid");
    ck_assert_int_eq(lc_frame_effects_save(&fx, path, &err), LC_OK);
    ck_assert_msg(lc_frame_effects_load(&back, path, &fr, &err) == LC_OK, "%s", err.msg);
    ck_assert_uint_eq(back.n, fx.n);
    ck_assert(memcmp(back.cls, fx.cls, fx.n * fx.n_actions * sizeof(int32_t)) == 0);
    lc_frame_effects_free(&back);
    // Other frames (fewer rows) are refused.
    lc_frames other;
    record(&other, "Catch-v0", 30, 1, 0, 3);
    ck_assert_int_eq(lc_frame_effects_load(&back, path, &other, &err), LC_ERR_ARG);
    lc_frames_free(&other);
    // A class above its action, and a class at an episode start.
    size_t r = 1;
    while (fr.starts[r]) r++;
    const int A = fx.n_actions;
    int32_t keep = fx.cls[r * A];
    fx.cls[r * A] = 1;
    ck_assert_int_eq(lc_frame_effects_save(&fx, path, &err), LC_OK);
    ck_assert_int_eq(lc_frame_effects_load(&back, path, &fr, &err), LC_ERR_FORMAT);
    fx.cls[r * A] = keep;
    fx.cls[0] = 0;
    ck_assert_int_eq(lc_frame_effects_save(&fx, path, &err), LC_OK);
    ck_assert_int_eq(lc_frame_effects_load(&back, path, &fr, &err), LC_ERR_FORMAT);
    // A frames file is not an effects file; a missing file names itself.
    char fpath[512];
    path_in(fpath, sizeof fpath, "f.lucid");
    ck_assert_int_eq(lc_frames_save(&fr, fpath, NULL, &err), LC_OK);
    ck_assert_int_eq(lc_frame_effects_load(&back, fpath, NULL, &err), LC_ERR_FORMAT);
    path_in(fpath, sizeof fpath, "none.lucid");
    ck_assert_int_ne(lc_frame_effects_load(&back, fpath, NULL, &err), LC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "none.lucid"));
    lc_frame_effects_free(&fx);
    lc_frames_free(&fr);
}
END_TEST

// Five steps of a 3-action game with known classes (the figures worked out by hand).
START_TEST(test_score_by_hand) {
    uint8_t starts[6] = {1, 0, 0, 0, 0, 0}, z[6] = {0};
    float rw[6] = {0};
    int32_t actions[6] = {-1, 0, 1, 2, 1, 0};
    lc_frames fr = {0};
    snprintf(fr.env_name, sizeof fr.env_name, "Hand");
    fr.n = 6, fr.n_actions = 3;
    fr.starts = starts, fr.terminated = z, fr.truncated = z, fr.rewards = rw;
    fr.actions = actions;
    int32_t cls[6 * 3] = {-1, -1, -1, // start
                          0, 1, 2,    // all differ; predicted 1 for 0: wrong
                          0, 0, 2,    // 0 = 1; predicted 0 for 1: right
                          0, 0, 0,    // nothing mattered: right, not effective
                          0, 1, 1,    // 1 = 2; predicted 2 for 1: right
                          0, 0, 2};   // 0 = 1; predicted 1 for 0: right
    lc_frame_effects fx = {0};
    snprintf(fx.env_name, sizeof fx.env_name, "Hand");
    fx.n = 6, fx.n_actions = 3, fx.cls = cls;
    size_t rows[5] = {1, 2, 3, 4, 5};
    int pred[5] = {1, 0, 1, 2, 1};
    lc_effects_score sc;
    lc_error err = {0};
    ck_assert_int_eq(lc_frame_effects_score(&fx, &fr, rows, pred, 5, &sc, &err), LC_OK);
    ck_assert_uint_eq(sc.m, 5);
    ck_assert_uint_eq(sc.effective, 4);
    ck_assert_float_eq_tol(sc.effective_frac, 0.8, 1e-12);
    ck_assert_float_eq_tol(sc.consistency_effective, 0.75, 1e-12);
    ck_assert_float_eq_tol(sc.consistency_merged, 0.8, 1e-12);
    // Groups {0}: one 0; {0,1}: one 1 and one 0 (best 1 of 2); {0,1,2}: one 2; {1,2}: one 1.
    ck_assert_float_eq_tol(sc.ceiling, 0.8, 1e-12);
    // The true actions themselves are right everywhere.
    int truth[5] = {0, 1, 2, 1, 0};
    ck_assert_int_eq(lc_frame_effects_score(&fx, &fr, rows, truth, 5, &sc, &err), LC_OK);
    ck_assert_float_eq_tol(sc.consistency_effective, 1.0, 1e-12);
    // A start row or an action out of range is not a scored step.
    size_t bad_rows[1] = {0};
    ck_assert_int_eq(lc_frame_effects_score(&fx, &fr, bad_rows, pred, 1, &sc, &err), LC_ERR_ARG);
    int bad_pred[1] = {3};
    ck_assert_int_eq(lc_frame_effects_score(&fx, &fr, rows, bad_pred, 1, &sc, &err), LC_ERR_ARG);
}
END_TEST

// The command line: frame-effects on a recording, then eval-genie --effects prints the
// figures by effect (null without it); a wrong seed is refused with the row that differs.
START_TEST(test_cli) {
    char bin[512], cmd[4096], out[16384];
    if (!lc_test_lucid_bin(bin, sizeof bin)) return;
    char fp[512], ap[512], ep[512], mp[512];
    path_in(fp, sizeof fp, "f.lucid");
    path_in(ap, sizeof ap, "f.actions.lucid");
    path_in(ep, sizeof ep, "f.effects.lucid");
    path_in(mp, sizeof mp, "g.lucid");
    snprintf(cmd, sizeof cmd, "%s collect --frames-only --env CoinRun-v0 --steps 400 --num-envs 2 "
             "--seed 4 --out %s --quiet && %s frame-effects --data %s --actions %s --num-envs 2 "
             "--seed 4 --out %s", bin, fp, bin, fp, ap, ep);
    int st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "can reach"));
    snprintf(cmd, sizeof cmd, "%s frame-effects --data %s --actions %s --num-envs 2 --seed 5 "
             "--out %s.x 2>&1", bin, fp, ap, ep);
    st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    ck_assert_ptr_nonnull(strstr(out, "differs from the data at row"));
    // frames-cat: the recording twice, with actions and effects; the effects fit the frames.
    char cp[512], cep[512], cap_[512];
    path_in(cp, sizeof cp, "cat.lucid");
    path_in(cep, sizeof cep, "cat.effects.lucid");
    path_in(cap_, sizeof cap_, "cat.actions.lucid");
    snprintf(cmd, sizeof cmd, "%s frames-cat --out %s %s %s", bin, cp, fp, fp);
    st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
    {
        lc_error e2 = {0};
        lc_frames one, two;
        lc_frame_effects f1, f2;
        ck_assert_int_eq(lc_frames_load(&one, fp, ap, &e2), LC_OK);
        ck_assert_int_eq(lc_frames_load(&two, cp, cap_, &e2), LC_OK);
        ck_assert_uint_eq(two.n, 2 * one.n);
        ck_assert_int_eq(lc_frame_effects_load(&f1, ep, &one, &e2), LC_OK);
        ck_assert_msg(lc_frame_effects_load(&f2, cep, &two, &e2) == LC_OK, "%s", e2.msg);
        size_t A = (size_t)f1.n_actions;
        ck_assert(memcmp(f2.cls + one.n * A, f1.cls, one.n * A * sizeof(int32_t)) == 0);
        ck_assert(memcmp(two.frames + one.n * 64 * 64 * 3, one.frames, one.n * 64 * 64 * 3) == 0);
        // Another game does not concatenate.
        lc_frames other;
        record(&other, "Catch-v0", 20, 1, 0, 1);
        ck_assert_int_eq(lc_frames_concat(&two, &other, &e2), LC_ERR_ARG);
        lc_frames_free(&other);
        lc_frame_effects_free(&f1);
        lc_frame_effects_free(&f2);
        lc_frames_free(&one);
        lc_frames_free(&two);
    }
    // A small LAM (a few steps: the figures only have to be there and in range).
    lc_error err = {0};
    lc_frames fr;
    ck_assert_int_eq(lc_frames_load(&fr, fp, ap, &err), LC_OK);
    lc_genie_cfg c = lc_genie_cfg_default();
    c.enc_ch = 4, c.lam_hidden = 4, c.dyn_hidden = 4, c.batch = 8, c.lam_steps = 5;
    c.dyn_steps = 2, c.max_starts = 4, c.holdout = 0.2f;
    lc_genie *g = NULL;
    float *X = NULL;
    ck_assert_int_eq(lc_genie_new(&g, &c, fr.C, &fr, &err), LC_OK);
    ck_assert_int_eq(lc_genie_prep_all(g, &fr, &X, &err), LC_OK);
    ck_assert_msg(lc_genie_train(g, &fr, X, NULL, NULL, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_genie_save(g, mp, &err), LC_OK);
    free(X);
    lc_genie_free(g);
    lc_frames_free(&fr);
    snprintf(cmd, sizeof cmd, "%s eval-genie --model %s --data %s --actions %s --effects %s "
             "--threads 1 --episodes 2 --json", bin, mp, fp, ap, ep);
    st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
    const char *k = strstr(out, "\"consistency_effective\":");
    ck_assert_ptr_nonnull(k);
    double v = strtod(k + strlen("\"consistency_effective\":"), NULL);
    ck_assert(v >= 0 && v <= 1);
    k = strstr(out, "\"consistency_ceiling\":");
    ck_assert_ptr_nonnull(k);
    v = strtod(k + strlen("\"consistency_ceiling\":"), NULL);
    ck_assert(v > 0.2 && v < 1); // random CoinRun play: jumps in the air are no-ops
    snprintf(cmd, sizeof cmd, "%s eval-genie --model %s --data %s --actions %s --threads 1 "
             "--episodes 2 --json", bin, mp, fp, ap);
    st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_ptr_nonnull(strstr(out, "\"consistency_effective\":null"));
    // Effects of other frames are refused with a clear error.
    snprintf(cmd, sizeof cmd, "%s collect --frames-only --env CoinRun-v0 --steps 100 --seed 4 "
             "--out %s.o --quiet && %s eval-genie --model %s --data %s.o --actions %s.o.actions "
             "--effects %s --threads 1 --json 2>&1", bin, fp, bin, mp, fp, fp, ep);
    st = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    ck_assert_ptr_nonnull(strstr(out, "are not those of the frames"));
}
END_TEST

static Suite *effects_suite(void) {
    Suite *s = suite_create("effects");
    TCase *tc = tcase_create("replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_replay_coinrun);
    tcase_add_test(tc, test_classes_match_the_game);
    tcase_add_test(tc, test_file_roundtrip_and_corruption);
    tcase_add_test(tc, test_score_by_hand);
    tcase_add_test(tc, test_cli);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    lc_init();
    lc_nn_set_threads(1);
    SRunner *sr = srunner_create(effects_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
