// loops/dyna.h: the Dyna loop as a library call: collect real data (random actions,
// then the current policy), fit the ensemble world model, train PPO only in the
// `dream:` env, evaluate in the real env; until the real return reaches the target
// or the real-step budget runs out. Per-round figures come back in lc_dyna_result.
// Leaves out: pixel envs (the Genie flow), restarting an interrupted loop.
#ifndef LC_LOOPS_DYNA_H
#define LC_LOOPS_DYNA_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "env/env.h"
#include "policy/policy.h"
#include "policy/ppo.h"
#include "worldmodel/worldmodel.h"

#define LC_DYNA_MAX_ROUNDS 32

typedef struct lc_dyna_cfg {
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
} lc_dyna_cfg;

// Defaults for an env (CartPole-v1, Pendulum-v1, Acrobot-v1 are tuned; others get
// CartPole's loop with the PPO defaults for their spaces).
int lc_dyna_defaults(lc_dyna_cfg *cfg, const char *env, lc_error *err);

typedef struct lc_dyna_round {
    int64_t rows;            // dataset rows after this round's collection
    int64_t real_learn;      // cumulative real steps used for learning
    int64_t real_eval;       // cumulative real steps used for evaluation
    int64_t dream_steps;     // cumulative PPO steps in the dream
    double wm_mse, wm_mse_trivial; // held-out one-step MSE (model, nothing-changes)
    int wm_epochs;
    double dream_return;     // the policy evaluated in the dream (deterministic)
    double real_return, real_std; // evaluated in the real env (deterministic)
    double seconds;          // wall time of the round
} lc_dyna_round;

typedef struct lc_dyna_result {
    int rounds;
    lc_dyna_round r[LC_DYNA_MAX_ROUNDS];
    int reached;             // the target was reached
    // The PPO learning curve in the dream: (cumulative dream steps, mean episode return).
    int ncurve, capcurve;
    double *curve_x, *curve_y;
    lc_ppo *trainer;         // the last round's trainer (its policy is the result)
    lc_ensemble *model;      // the last round's model
    lc_dataset data;         // every real transition used for learning
    char model_path[512], data_path[512], policy_path[512];
} lc_dyna_result;

// Runs the loop; cfg->dir must exist (its data.lucid, model.lucid, policy.lucid are
// rewritten each round). res is filled even on failure (the rounds done so far) and
// must be freed with lc_dyna_result_free either way. Registers the dream: env.
int lc_dyna_run(const lc_dyna_cfg *cfg, lc_dyna_result *res, lc_error *err);
void lc_dyna_result_free(lc_dyna_result *res);
// The last round's policy (owned by res; NULL before any round finished).
lc_policy *lc_dyna_policy(lc_dyna_result *res);

#endif
