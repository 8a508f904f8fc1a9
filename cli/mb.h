// cli/mb.h: what the model-based verbs (collect, dyna, demo) share: a policy acting
// as a dataset collector, and the Dyna loop (collect real data, fit the ensemble,
// PPO in the dream, evaluate in the real env) with its per-round figures.
// Leaves out: distributed collection (agents/).
#ifndef LC_CLI_MB_H
#define LC_CLI_MB_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "env/env.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "worldmodel/worldmodel.h"

// ---------------------------------------------------------------- a policy as collector

typedef struct cli_mb_actor cli_mb_actor;
// Loads a policy file and checks it fits env's spaces.
int cli_mb_actor_load(cli_mb_actor **out, const char *path, const lc_env *env, uint64_t seed,
                      lc_error *err);
// Borrows p (keep it alive). deterministic: argmax / mean actions.
int cli_mb_actor_wrap(cli_mb_actor **out, lc_policy *p, uint64_t seed, int deterministic,
                      lc_error *err);
void cli_mb_actor_free(cli_mb_actor *a); // NULL is fine
// An lc_act_fn: applies the policy's observation normalisation, then acts.
int cli_mb_actor_act(void *ctx, const float *obs, const uint8_t *starts, int N, void *actions,
                     lc_error *err);

// ---------------------------------------------------------------- the Dyna loop

#define CLI_DYNA_MAX_ROUNDS 32

typedef struct cli_dyna_cfg {
    const char *env;         // the real env
    const char *dir;         // where data.lucid, model.lucid, policy.lucid are written
    uint64_t seed;
    int64_t budget;          // most real steps used for learning
    int64_t init_steps;      // random-policy steps in round 0
    int64_t round_steps;     // policy steps collected in each later round
    int max_rounds;
    double target;           // stop once the real evaluation mean reaches it
    int eval_episodes;       // real evaluation episodes per round
    int collect_envs;        // envs stepped together while collecting
    lc_wm_config wm;         // the ensemble (seed is offset per round)
    lc_ppo_cfg ppo;          // total_steps: dream steps in round 0
    int64_t ppo_round_steps; // dream steps in later rounds (0 = ppo.total_steps)
    lc_policy_cfg pcfg;
    const char *dream_params; // e.g. "temperature=1"
    FILE *log;               // progress lines (NULL: silent)
} cli_dyna_cfg;

// Defaults for an env (CartPole-v1, Pendulum-v1, Acrobot-v1 are tuned; others get
// CartPole's loop with the PPO defaults for their spaces).
int cli_dyna_defaults(cli_dyna_cfg *cfg, const char *env, lc_error *err);

typedef struct cli_dyna_round {
    int64_t rows;            // dataset rows after this round's collection
    int64_t real_learn;      // cumulative real steps used for learning
    int64_t real_eval;       // cumulative real steps used for evaluation
    int64_t dream_steps;     // cumulative PPO steps in the dream
    double wm_mse, wm_mse_trivial; // held-out one-step MSE (model, nothing-changes)
    int wm_epochs;
    double dream_return;     // the policy evaluated in the dream (deterministic)
    double real_return, real_std; // evaluated in the real env (deterministic)
    double seconds;          // wall time of the round
} cli_dyna_round;

typedef struct cli_dyna_result {
    int rounds;
    cli_dyna_round r[CLI_DYNA_MAX_ROUNDS];
    int reached;             // the target was reached
    // The PPO learning curve in the dream: (cumulative dream steps, mean episode return).
    int ncurve, capcurve;
    double *curve_x, *curve_y;
    lc_ppo *trainer;         // the last round's trainer (its policy is the result)
    lc_ensemble *model;      // the last round's model
    lc_dataset data;         // every real transition used for learning
    char model_path[512], data_path[512], policy_path[512];
} cli_dyna_result;

// Writes s as a JSON string literal (quoted, escaped).
void cli_json_str(FILE *out, const char *s);

// mkdir -p; 0 on success (defined in cli/dyna.c).
int cli_mkdirs(const char *path);

int cli_dyna_run(const cli_dyna_cfg *cfg, cli_dyna_result *res, lc_error *err);
void cli_dyna_result_free(cli_dyna_result *res);
lc_policy *cli_dyna_policy(cli_dyna_result *res);

#endif
