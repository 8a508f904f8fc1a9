// tests/test_tokens_flow.c: the Genie loop closed for the token design: a world of either
// design behind one handle (worldmodel/genie_world.h) on a tiny token world of Catch-v0:
// what the dream shows of real frames, the dream beside the real game in lockstep (seeded,
// the chooser's contract, its errors), real episodes through the latent->real map; `lucid
// eval-genie --policy` on a token world prints every key with finite values. LUCID_LONG:
// the whole token flow on Catch-v0 (collect, train-genie --design tokens, PPO in the dream,
// the real game) reaches a real return >= 0.9. Leaves out: the pixel design (test_genie.c).
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/json.h"
#include "env/env.h"
#include "loops/init.h"
#include "nn/nn.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "tests/helpers/choosers.h"
#include "tests/helpers/cli.h"
#include "tests/helpers/tmpdir.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"
#include "worldmodel/genie_world.h"
#include "worldmodel/tokenizer.h"

static char model_path[256], frames_path[256], actions_path[256];
static lc_frames data; // Catch-v0, 64x64 frames of random play

// A tiny token world of Catch-v0 frames, and the frames on disk (runs before the tests:
// failures exit).
static void write_model(void) {
    snprintf(model_path, sizeof model_path, "/tmp/lucid_tokflow_%d.lucid", (int)getpid());
    snprintf(frames_path, sizeof frames_path, "/tmp/lucid_tokflow_fr_%d.lucid", (int)getpid());
    snprintf(actions_path, sizeof actions_path, "/tmp/lucid_tokflow_ac_%d.lucid", (int)getpid());
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 4;
    if (lc_env_make(&env, "Catch-v0", &o, &err) || lc_frames_collect(&data, env, 600, 0, 3, &err) ||
        lc_frames_save(&data, frames_path, actions_path, &err)) {
        fprintf(stderr, "test_tokens_flow: frames: %s\n", err.msg);
        exit(1);
    }
    lc_env_free(env);
    lc_genie_cfg lc = lc_genie_cfg_default();
    lc.enc_ch = 8, lc.lam_hidden = 8, lc.dyn_hidden = 4, lc.batch = 16;
    lc.lam_steps = 30, lc.dyn_steps = 0, lc.max_starts = 16, lc.start_anywhere = 0;
    lc_gtok_cfg tc = lc_gtok_cfg_default();
    tc.tok.hidden = 8, tc.tok.dim = 4, tc.tok.codes = 16, tc.tok.batch = 4, tc.tok.steps = 40;
    tc.emb = 4, tc.hidden = 8, tc.head_emb = 4, tc.head_hidden = 8, tc.batch = 4, tc.steps = 20;
    lc_genie *lam = NULL;
    lc_gtok *g = NULL;
    float *X = NULL;
    if (lc_genie_new(&lam, &lc, data.C, &data, &err) || lc_genie_prep_all(lam, &data, &X, &err) ||
        lc_genie_train(lam, &data, X, NULL, NULL, &err) || lc_gtok_new(&g, &tc, lam, &err) ||
        lc_gtok_train(g, &data, X, 0, NULL, NULL, &err) || lc_gtok_save(g, model_path, &err)) {
        fprintf(stderr, "test_tokens_flow: token world: %s\n", err.msg);
        exit(1);
    }
    lc_gtok_free(g);
    free(X);
}

// ---------------------------------------------------------------- the handle

// The handle reads either kind and refuses others; what the dream shows of a real frame is
// the tokenizer's reconstruction, and that is what a chooser sees of the real game.
START_TEST(test_world_view) {
    lc_error err = {0};
    lc_gworld *w = NULL;
    ck_assert_msg(lc_gworld_load(&w, model_path, &err) == LC_OK, "%s", err.msg);
    ck_assert_str_eq(lc_gworld_design(w), "tokens");
    const lc_genie *g = lc_gworld_lam(w);
    ck_assert_str_eq(g->env_name, "Catch-v0");
    lc_gtok *gt = NULL;
    ck_assert_int_eq(lc_gtok_load(&gt, model_path, &err), LC_OK);
    const int T = lc_gtok_tokens(gt), M = 8;
    const size_t O = 64 * 64 * 3;
    uint8_t *view = malloc(M * O), *rec = malloc(M * O), *seen = malloc(M * O);
    int *toks = malloc((size_t)M * T * sizeof(int));
    ck_assert_int_eq(lc_gworld_view(w, data.frames, M, view, &err), LC_OK);
    ck_assert_int_eq(lc_tok_encode(lc_gtok_tokenizer(gt), data.frames, M, toks, &err), LC_OK);
    ck_assert_int_eq(lc_tok_decode(lc_gtok_tokenizer(gt), toks, M, rec, NULL, &err), LC_OK);
    ck_assert_mem_eq(view, rec, M * O);
    // play_real's chooser sees the game's first frames (8 envs reset from the seed) so
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = M;
    ck_assert_int_eq(lc_env_make(&env, "Catch-v0", &o, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset(env, 11, &err), LC_OK);
    ck_assert_int_eq(lc_gworld_view(w, lc_env_get_buf(env)->obs, M, view, &err), LC_OK);
    lc_env_free(env);
    int map[256];
    for (int k = 0; k < g->cfg.n_codes; k++) map[k] = k % g->n_real_actions;
    chooser_log cl = {.action = 0, .fail_at = -1, .seen = seen};
    double m, sd;
    ck_assert_msg(lc_gworld_play_real(w, map, count_chooser, &cl, g->cfg.n_codes, -1, 4, 11, &m,
                                      &sd, &err) == LC_OK, "%s", err.msg);
    ck_assert_mem_eq(seen, view, M * O);
    ck_assert_int_eq(cl.firsts >= M, 1);
    free(view), free(rec), free(seen), free(toks);
    lc_gtok_free(gt);
    lc_gworld_free(w);
    // other kinds: a clear error
    ck_assert_int_eq(lc_gworld_load(&w, frames_path, &err), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a genie world"));
    ck_assert_ptr_null(w);
    ck_assert_int_ne(lc_gworld_load(&w, "/nonexistent/x.lucid", &err), LC_OK);
}
END_TEST

// The token dream beside the real game: seeded, every window played (Catch never ends at
// its first step), returns and agreements in range; the chooser sees the dream's frames
// once per step, its actions are checked against its space (all K, or the played codes),
// its errors stop the run.
START_TEST(test_token_lockstep) {
    lc_error err = {0};
    lc_gworld *w = NULL;
    ck_assert_msg(lc_gworld_load(&w, model_path, &err) == LC_OK, "%s", err.msg);
    const lc_genie *g = lc_gworld_lam(w);
    const int K = g->cfg.n_codes;
    int map[256], played[256], np = lc_genie_played_codes(g, played);
    for (int k = 0; k < K; k++) map[k] = k % g->n_real_actions;
    lc_genie_lockstep a, b;
    ck_assert_msg(lc_gworld_lockstep(w, map, 32, 8, 5, NULL, NULL, NULL, 0, &a, &err) == LC_OK,
                  "%s", err.msg);
    ck_assert_int_eq(lc_gworld_lockstep(w, map, 32, 8, 5, NULL, NULL, NULL, 0, &b, &err), LC_OK);
    ck_assert(a.windows == b.windows && a.real_ret == b.real_ret && a.dream_ret == b.dream_ret &&
              a.agree == b.agree && a.end_agree == b.end_agree);
    ck_assert_int_eq(a.windows, 32);
    ck_assert(a.real_ret >= -1 && a.real_ret <= 1 && isfinite(a.dream_ret));
    ck_assert(a.agree >= 0 && a.agree <= 1 && a.end_agree >= 0 && a.end_agree <= 1);
    // temperature 0 (argmax) is a dream param: deterministic whatever the seed of the draws
    ck_assert_int_eq(lc_gworld_lockstep(w, map, 32, 8, 5, "temp=0", NULL, NULL, 0, &b, &err), LC_OK);
    ck_assert_int_eq(b.windows, 32);
    ck_assert_int_eq(lc_gworld_lockstep(w, map, 32, 8, 5, "temp=-1", NULL, NULL, 0, &b, &err),
                     LC_ERR_ARG);
    chooser_log cl = {.action = K - 1, .fail_at = -1};
    ck_assert_msg(lc_gworld_lockstep(w, map, 4, 8, 5, NULL, count_chooser, &cl, K, &b, &err) == LC_OK,
                  "%s", err.msg);
    ck_assert_int_eq(cl.calls, 8);
    ck_assert_int_eq(cl.firsts, 4);
    cl = (chooser_log){.action = np - 1, .fail_at = -1}; // the played codes' space
    ck_assert_msg(lc_gworld_lockstep(w, map, 4, 8, 5, NULL, count_chooser, &cl, np, &b, &err) == LC_OK,
                  "%s", err.msg);
    cl = (chooser_log){.action = K, .fail_at = -1};
    ck_assert_int_eq(lc_gworld_lockstep(w, map, 4, 8, 5, NULL, count_chooser, &cl, K, &b, &err),
                     LC_ERR_ACTION);
    cl = (chooser_log){.action = 0, .fail_at = 3};
    ck_assert_int_eq(lc_gworld_lockstep(w, map, 4, 8, 5, NULL, count_chooser, &cl, K, &b, &err),
                     LC_ERR_NAN);
    ck_assert_int_eq(cl.calls, 4);
    ck_assert_int_eq(lc_gworld_lockstep(w, map, 4, 8, 5, NULL, count_chooser, &cl, 0, &b, &err),
                     LC_ERR_ARG);
    ck_assert_int_eq(lc_gworld_lockstep(w, map, 0, 8, 5, NULL, NULL, NULL, 0, &b, &err), LC_ERR_ARG);
    lc_gworld_free(w);
}
END_TEST

// Real episodes through the map: a chooser that always picks latent action k plays the
// episodes of the fixed real action map[code of k] (same seed).
START_TEST(test_token_play_real) {
    lc_error err = {0};
    lc_gworld *w = NULL;
    ck_assert_msg(lc_gworld_load(&w, model_path, &err) == LC_OK, "%s", err.msg);
    const lc_genie *g = lc_gworld_lam(w);
    const int K = g->cfg.n_codes;
    int map[256];
    for (int k = 0; k < K; k++) map[k] = (k * 7 + 1) % g->n_real_actions;
    for (int k = 0; k < K; k++) {
        double m1, s1, m2, s2;
        ck_assert_msg(lc_gworld_play_real(w, map, fixed_chooser, &k, K, -1, 12, 4, &m1, &s1,
                                          &err) == LC_OK, "%s", err.msg);
        int real = map[lc_genie_action_code(g, K, k)];
        ck_assert_int_eq(lc_gworld_play_real(w, map, NULL, NULL, 0, real, 12, 4, &m2, &s2, &err),
                         LC_OK);
        ck_assert_double_eq(m1, m2);
        ck_assert_double_eq(s1, s2);
    }
    double m, sd;
    ck_assert_int_eq(lc_gworld_play_real(w, map, NULL, NULL, 0, 3, 4, 4, &m, &sd, &err), LC_ERR_ARG);
    int bad = K;
    ck_assert_int_eq(lc_gworld_play_real(w, map, fixed_chooser, &bad, K, -1, 4, 4, &m, &sd, &err),
                     LC_ERR_ACTION);
    lc_gworld_free(w);
}
END_TEST

// ---------------------------------------------------------------- the verb

// The number under key in a flat JSON object (NAN for null; -INFINITY when absent or the
// line is not JSON).
static double json_key(const char *line, const char *key) {
    lc_json_reader r = {line, line + strlen(line)};
    char k[128];
    if (lc_json_obj_begin(&r)) return -INFINITY;
    for (int n = 0;; n++) {
        int rc = lc_json_obj_next(&r, n, k, sizeof k);
        if (rc != 1) return -INFINITY;
        if (strcmp(k, key) == 0) {
            double v;
            char c = lc_json_peek(&r);
            if (c == '"' || c == 't' || c == 'f') return -INFINITY;
            return lc_json_read_num(&r, &v) ? -INFINITY : v;
        }
        if (lc_json_skip(&r)) return -INFINITY;
    }
}

// `lucid eval-genie --policy` on a token world (an untrained cnn over the played codes):
// every key genie_flow.sh reads is there with a finite value; without --policy the policy's
// keys are null and the lockstep's are not; a file that is not a policy is refused.
START_TEST(test_cli_eval_genie_tokens) {
    char bin[512], cmd[4096], pol[300], name[320];
    static char out[1 << 16];
    if (!lc_test_lucid_bin(bin, sizeof bin)) return;
    lc_error err = {0};
    snprintf(name, sizeof name, "dream:%s?actions=played", model_path);
    snprintf(pol, sizeof pol, "%s.policy", model_path);
    lc_ppo_cfg pc;
    lc_policy_cfg pcfg;
    ck_assert_msg(lc_ppo_cfg_for_env(&pc, &pcfg, name, &err) == LC_OK, "%s", err.msg);
    pc.num_envs = 2;
    lc_ppo *ppo = NULL;
    ck_assert_msg(lc_ppo_new(&ppo, name, NULL, &pc, &pcfg, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_policy_save(lc_ppo_policy(ppo), pol, &err) == LC_OK, "%s", err.msg);
    lc_ppo_free(ppo);
    const char *fmt = "%s eval-genie --model %s --data %s --actions %s --episodes 8 --threads 1 %s";
    char extra[400];
    snprintf(extra, sizeof extra, "--json --policy %s", pol);
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, extra);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    const char *finite[] = {"consistency", "delta_psnr4", "psnr_rollout_inferred",
                            "psnr_rollout_copy", "rollout_steps", "policy_return",
                            "random_return", "fixed_action_return", "fixed_action",
                            "lockstep_agree", "lockstep_real_return", "lockstep_dream_return",
                            "policy_lockstep_agree", "policy_lockstep_real_return",
                            "policy_lockstep_dream_return", "real_episodes", "frames_per_s"};
    for (size_t i = 0; i < sizeof finite / sizeof finite[0]; i++)
        ck_assert_msg(isfinite(json_key(out, finite[i])), "%s in %s", finite[i], out);
    ck_assert_double_eq(json_key(out, "real_episodes"), 8);
    ck_assert_double_eq(json_key(out, "lockstep_windows"), 512);
    ck_assert_double_eq(json_key(out, "policy_lockstep_windows"), 256);
    ck_assert_ptr_nonnull(strstr(out, "\"design\":\"tokens\""));
    double r = json_key(out, "policy_return");
    ck_assert(r >= -1 && r <= 1);
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, "--json");
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert(isnan(json_key(out, "policy_return")) && isnan(json_key(out, "policy_lockstep_agree")));
    ck_assert(isfinite(json_key(out, "lockstep_agree")));
    snprintf(extra, sizeof extra, "--policy %s", pol); // the text report
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, extra);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "dream beside the real game"));
    ck_assert_ptr_nonnull(strstr(out, "the best fixed action"));
    snprintf(extra, sizeof extra, "--policy %s 2>&1", model_path); // not a policy
    snprintf(cmd, sizeof cmd, fmt, bin, model_path, frames_path, actions_path, extra);
    int rc = lc_test_run_cmd(cmd, out, sizeof out);
    ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) != 0);
    ck_assert_ptr_nonnull(strstr(out, "--policy"));
    unlink(pol);
}
END_TEST

// ---------------------------------------------------------------- LUCID_LONG

// The token flow on Catch-v0 through the verbs, fixed seeds: 20k frames of random play
// without actions -> a token world -> PPO (cnn) inside dream:FILE?horizon=32,actions=played
// -> the real game through the map from 200 labels, 100 episodes: >= 0.9 (random play
// scores about -0.7; a world whose dream does not pay for catches teaches nothing).
START_TEST(test_catch_token_flow) {
    char bin[512], cmd[8192];
    static char out[1 << 16];
    if (!lc_test_lucid_bin(bin, sizeof bin)) return;
    tmpdir_make("tokflow");
    const char *dir = tmpdir;
    snprintf(cmd, sizeof cmd,
             "%s collect --frames-only --env Catch-v0 --steps 20000 --num-envs 8 --seed 1 "
             "--out %s/frames.lucid > /dev/null && "
             "%s train-genie --design tokens --data %s/frames.lucid --out %s/genie.lucid "
             "--lam-steps 3000 --tok-steps 1500 --tdyn-steps 1500 --start-anywhere 0 --quiet && "
             "%s train --env dream:%s/genie.lucid --env-params horizon=32,actions=played "
             "--arch cnn --steps 60000 --num-envs 8 --seed 1 --out %s/policy.lucid --quiet && "
             "%s eval-genie --model %s/genie.lucid --data %s/frames.lucid "
             "--actions %s/frames.actions.lucid --policy %s/policy.lucid --episodes 100 "
             "--threads 1 --json",
             bin, dir, bin, dir, dir, bin, dir, dir, bin, dir, dir, dir, dir);
    ck_assert_int_eq(lc_test_run_cmd(cmd, out, sizeof out), 0);
    fprintf(stderr, "token flow on Catch-v0: %s", out);
    // eval-genie's JSON is the last line that opens an object (train prints its summary first).
    const char *js = out;
    for (const char *p = out; (p = strstr(p, "\n{")) != NULL; p++) js = p + 1;
    double ret = json_key(js, "policy_return"), rnd = json_key(js, "random_return");
    double agree = json_key(js, "policy_lockstep_agree");
    ck_assert_msg(ret >= 0.9, "dream-trained return %.3f (random %.3f)", ret, rnd);
    ck_assert_msg(agree >= 0.9, "policy lockstep agreement %.3f", agree);
    tmpdir_remove();
}
END_TEST

static Suite *tokens_flow_suite(void) {
    Suite *s = suite_create("tokens_flow");
    TCase *tc = tcase_create("world");
    tcase_add_test(tc, test_world_view);
    tcase_add_test(tc, test_token_lockstep);
    tcase_add_test(tc, test_token_play_real);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_test(tc, test_cli_eval_genie_tokens);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    if (getenv("LUCID_LONG")) {
        tc = tcase_create("long");
        tcase_add_test(tc, test_catch_token_flow);
        tcase_set_timeout(tc, 3600); // ~20 minutes alone on 2 cores
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void) {
    lc_init();
    lc_nn_set_threads(1);
    write_model();
    SRunner *sr = srunner_create(tokens_flow_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    unlink(model_path);
    unlink(frames_path);
    unlink(actions_path);
    lc_frames_free(&data);
    return failures ? 1 : 0;
}
