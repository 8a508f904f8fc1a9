// cli/dyna.c: `lucid dyna`: the model-based loop: collect real data with the current
// policy, refit the ensemble, train PPO only in the dream, evaluate in the real env;
// until the real return reaches the target or the real-step budget runs out.
// Leaves out: pixel envs (the Genie verbs), restarting an interrupted loop.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/progress.h"

#include "cli/cli.h"
#include "cli/mb.h"
#include "loops/init.h"

// mkdir -p for a relative or absolute directory path.
int cli_mkdirs(const char *path) {
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

int cmd_dyna(int argc, char **argv) {
    const char *env = NULL, *dir = "runs/dyna", *dream_params = NULL;
    int64_t budget = 0, seed = 1, init_steps = 0, round_steps = 0, dream_steps = 0, dream_round = 0;
    float target = NAN;
    int rounds = 0, eval_episodes = 0, members = 0, elites = 0, hidden = 0, layers = 0, json = 0, quiet = 0;
    int threads = 1;
    cli_opt opts[] = {
        {"env", CLI_STR, &env, "the real env (CartPole-v1, Pendulum-v1, Acrobot-v1 are tuned)"},
        {"real-steps-budget", CLI_I64, &budget, "most real steps used for learning (0 = the env's default)"},
        {"target", CLI_FLOAT, &target, "stop when the real evaluation return reaches this (nan = the env's target)"},
        {"seed", CLI_I64, &seed, "random seed"},
        {"dir", CLI_STR, &dir, "directory for data.lucid, model.lucid, policy.lucid"},
        {"rounds", CLI_INT, &rounds, "most rounds (0 = the env's default: 12 for CartPole, 8 otherwise)"},
        {"init-steps", CLI_I64, &init_steps, "random-policy real steps in round 0 (0 = default)"},
        {"round-steps", CLI_I64, &round_steps, "policy real steps per later round (0 = default)"},
        {"dream-steps", CLI_I64, &dream_steps, "PPO steps in the dream in round 0 (0 = default)"},
        {"dream-round-steps", CLI_I64, &dream_round, "PPO steps in the dream in later rounds (0 = default)"},
        {"dream-params", CLI_STR, &dream_params, "dream env params (temperature=T,penalty=L,...)"},
        {"eval-episodes", CLI_INT, &eval_episodes, "real evaluation episodes per round (0 = 100)"},
        {"members", CLI_INT, &members, "ensemble members (0 = 5)"},
        {"elites", CLI_INT, &elites, "ensemble elites (0 = 3)"},
        {"hidden", CLI_INT, &hidden, "model hidden units (0 = 200)"},
        {"layers", CLI_INT, &layers, "model hidden layers (0 = 3)"},
        {"threads", CLI_INT, &threads, "OpenBLAS threads (small models run best on 1)"},
        {"json", CLI_FLAG, &json, "print the rounds as JSON"},
        {"quiet", CLI_FLAG, &quiet, "no progress output"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid dyna --env ENV [--real-steps-budget N] [--target R] [--seed S] [options]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!env) {
        fprintf(stderr, "lucid dyna: --env is required (see --help)\n");
        return 2;
    }
    lc_error err = {0};
    lc_init();
    lc_nn_set_threads(threads);
    lc_dyna_cfg cfg;
    if (lc_dyna_defaults(&cfg, env, &err) != LC_OK) {
        fprintf(stderr, "lucid dyna: %s\n", err.msg);
        return 1;
    }
    cfg.dir = dir;
    cfg.seed = (uint64_t)seed;
    if (budget) cfg.budget = budget;
    if (!isnan(target)) cfg.target = target;
    if (rounds) cfg.max_rounds = rounds;
    if (init_steps) cfg.init_steps = init_steps;
    if (round_steps) cfg.round_steps = round_steps;
    if (dream_steps) cfg.ppo.total_steps = dream_steps;
    if (dream_round) cfg.ppo_round_steps = dream_round;
    if (dream_params) cfg.dream_params = dream_params;
    if (eval_episodes) cfg.eval_episodes = eval_episodes;
    if (members) cfg.wm.members = members;
    if (elites) cfg.wm.elites = elites;
    if (hidden) cfg.wm.hidden = hidden;
    if (layers) cfg.wm.layers = layers;
    if (cfg.budget < 10 || cfg.eval_episodes < 1 || cfg.max_rounds < 1) {
        fprintf(stderr, "lucid dyna: budget, rounds and evaluation episodes must be positive\n");
        return 2;
    }
    if (cli_mkdirs(dir) != 0) {
        fprintf(stderr, "lucid dyna: cannot create directory %s\n", dir);
        return 1;
    }
    cfg.log = quiet ? NULL : stderr;
    if (!quiet)
        fprintf(stderr, "dyna: %s, real-step budget %lld, target %g, seed %lld\n", env,
                (long long)cfg.budget, cfg.target, (long long)seed);
    lc_dyna_result res;
    double t0 = lc_now();
    rc = lc_dyna_run(&cfg, &res, &err);
    double secs = lc_now() - t0;
    if (rc != LC_OK) {
        fprintf(stderr, "lucid dyna: %s\n", err.msg);
        lc_dyna_result_free(&res);
        return 1;
    }
    const lc_dyna_round *last = &res.r[res.rounds - 1];
    if (json) {
        printf("{\n  \"env\": ");
        lc_json_fstr(stdout, env);
        printf(",\n  \"seed\": %lld,\n  \"target\": %g,\n  \"reached\": %s,\n", (long long)seed,
               cfg.target, res.reached ? "true" : "false");
        printf("  \"real_steps_learning\": %lld,\n  \"real_steps_evaluation\": %lld,\n",
               (long long)last->real_learn, (long long)last->real_eval);
        printf("  \"seconds\": %.1f,\n  \"rounds\": [\n", secs);
        for (int i = 0; i < res.rounds; i++) {
            const lc_dyna_round *r = &res.r[i];
            printf("    {\"real_steps_learning\": %lld, \"real_steps_evaluation\": %lld, "
                   "\"dream_steps\": %lld, \"model_val_mse\": %.6g, \"model_val_mse_trivial\": %.6g, "
                   "\"dream_return\": %.2f, \"real_return\": %.2f, \"real_return_std\": %.2f}%s\n",
                   (long long)r->real_learn, (long long)r->real_eval, (long long)r->dream_steps,
                   r->wm_mse, r->wm_mse_trivial, r->dream_return, r->real_return, r->real_std,
                   i + 1 < res.rounds ? "," : "");
        }
        printf("  ]\n}\n");
    } else {
        printf("%-6s %12s %12s %12s %22s %12s %16s\n", "round", "real learn", "real eval",
               "dream steps", "model MSE (trivial)", "dream ret", "real ret");
        for (int i = 0; i < res.rounds; i++) {
            const lc_dyna_round *r = &res.r[i];
            char mse[40];
            snprintf(mse, sizeof mse, "%.2e (%.2e)", r->wm_mse, r->wm_mse_trivial);
            printf("%-6d %12lld %12lld %12lld %22s %12.1f %9.1f +- %4.1f\n", i,
                   (long long)r->real_learn, (long long)r->real_eval, (long long)r->dream_steps, mse,
                   r->dream_return, r->real_return, r->real_std);
        }
        printf("%s: target %g %s with %lld real steps for learning (%lld more for evaluation only), "
               "%.0f s\nfiles: %s %s %s\n", env, cfg.target, res.reached ? "reached" : "NOT reached",
               (long long)last->real_learn, (long long)last->real_eval, secs, res.data_path,
               res.model_path, res.policy_path);
    }
    lc_dyna_result_free(&res);
    return 0;
}
