// loops/dyna.c: the model-based (Dyna) loop behind `lucid dyna` and `lucid demo`:
// collect real data, refit the ensemble, PPO only in the dream, evaluate in reality.
// Leaves out: warm-starting the ensemble between rounds (each round refits).
#include "loops/dyna.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "loops/actor.h"
#include "loops/init.h"

// ---------------------------------------------------------------- defaults

int lc_dyna_defaults(lc_dyna_cfg *c, const char *env, lc_error *err) {
    memset(c, 0, sizeof *c);
    c->env = env;
    c->dir = "runs/dyna";
    c->seed = 1;
    c->max_rounds = 8;
    c->eval_episodes = 100;
    c->collect_envs = 1;
    c->wm = lc_wm_config_default();
    c->dream_params = "temperature=1";
    c->pcfg = lc_policy_cfg_default();
    int rc = lc_ppo_cfg_for_env(&c->ppo, &c->pcfg, env, err);
    if (rc) return rc;
    if (strcmp(env, "Pendulum-v1") == 0) {
        c->budget = 15000;
        c->init_steps = 2000;
        c->round_steps = 2000;
        c->target = -250;
        c->ppo.num_envs = 16;
        c->ppo.num_steps = 256;
        c->ppo.num_minibatches = 32;
        c->ppo.total_steps = 1000000;
        c->ppo_round_steps = 500000;
        c->dream_params = "temperature=1";
    } else if (strcmp(env, "Acrobot-v1") == 0) {
        c->budget = 20000;
        c->init_steps = 5000;
        c->round_steps = 3000;
        c->target = -100;
        c->ppo.num_envs = 16;
        c->ppo.num_steps = 128;
        c->ppo.total_steps = 500000;
        c->ppo_round_steps = 250000;
    } else {
        // Rounds of 1,000 policy steps (up to 12 rounds within the budget): on CartPole
        // seeds 1-3 reach 475 with 4,000, 3,000 and 4,000 real steps, where rounds of
        // 2,000 reached it with seed 3 only (6,000; seeds 1 and 2 stopped at 472.9, 299.8).
        c->budget = 10000;
        c->init_steps = 2000;
        c->round_steps = 1000;
        c->max_rounds = 12;
        c->target = strcmp(env, "CartPole-v1") == 0 ? 475 : INFINITY;
        c->ppo.num_envs = 16;
        c->ppo.num_steps = 128;
        c->ppo.total_steps = 300000;
        c->ppo_round_steps = 200000;
    }
    return LC_OK;
}

// ---------------------------------------------------------------- the loop

void lc_dyna_result_free(lc_dyna_result *res) {
    if (!res) return;
    free(res->curve_x);
    free(res->curve_y);
    lc_ppo_free(res->trainer);
    lc_ensemble_free(res->model);
    lc_dataset_free(&res->data);
    memset(res, 0, sizeof *res);
}

lc_policy *lc_dyna_policy(lc_dyna_result *res) {
    return res->trainer ? lc_ppo_policy(res->trainer) : NULL;
}

typedef struct ppo_ctx {
    lc_dyna_result *res;
    int64_t offset;
    FILE *log;
    lc_progress *prog;
    int64_t total;
} ppo_ctx;

static int on_ppo(void *ctx, const lc_ppo_stats *s) {
    ppo_ctx *c = ctx;
    lc_dyna_result *r = c->res;
    if (isfinite(s->episode_return)) {
        if (r->ncurve == r->capcurve) {
            int cap = r->capcurve ? 2 * r->capcurve : 256;
            double *x = realloc(r->curve_x, (size_t)cap * sizeof(double));
            if (x) r->curve_x = x;
            double *y = realloc(r->curve_y, (size_t)cap * sizeof(double));
            if (y) r->curve_y = y;
            if (!x || !y) return 1;
            r->capcurve = cap;
        }
        r->curve_x[r->ncurve] = (double)(c->offset + s->global_step);
        r->curve_y[r->ncurve] = s->episode_return;
        r->ncurve++;
    }
    if (c->prog) {
        char extra[64];
        snprintf(extra, sizeof extra, "dream return %.1f", s->episode_return);
        lc_progress_update(c->prog, s->global_step, extra);
    }
    return 0;
}

typedef struct wm_ctx {
    lc_progress *prog;
} wm_ctx;

static int on_wm(void *ctx, const lc_wm_epoch *e) {
    wm_ctx *c = ctx;
    if (c->prog) {
        char extra[64];
        snprintf(extra, sizeof extra, "val %.4f", e->best_val);
        lc_progress_update(c->prog, e->epoch, extra);
    }
    return 0;
}

int lc_dyna_run(const lc_dyna_cfg *cfg, lc_dyna_result *res, lc_error *err) {
    memset(res, 0, sizeof *res);
    int rc;
    lc_init();
    if (cfg->max_rounds < 1 || cfg->max_rounds > LC_DYNA_MAX_ROUNDS)
        return lc_fail(err, LC_ERR_ARG, "dyna: rounds must be in [1, %d]", LC_DYNA_MAX_ROUNDS);
    if (cfg->budget < 10 || cfg->init_steps < 10 || cfg->round_steps < 1)
        return lc_fail(err, LC_ERR_ARG, "dyna: the real-step budget and the steps per round must be positive");
    snprintf(res->data_path, sizeof res->data_path, "%s/data.lucid", cfg->dir);
    snprintf(res->model_path, sizeof res->model_path, "%s/model.lucid", cfg->dir);
    snprintf(res->policy_path, sizeof res->policy_path, "%s/policy.lucid", cfg->dir);
    char dream_name[600];
    snprintf(dream_name, sizeof dream_name, "dream:%s", res->model_path);

    lc_env *real = NULL;
    lc_env_opts ro = lc_env_opts_default();
    ro.num_envs = cfg->collect_envs;
    if ((rc = lc_env_make(&real, cfg->env, &ro, err))) return rc;
    if ((rc = lc_dataset_init_for_env(&res->data, real, err))) goto done;

    int64_t learn = 0, evals = 0, dream = 0;
    for (int round = 0; round < cfg->max_rounds && learn < cfg->budget; round++) {
        double t0 = lc_now();
        lc_dyna_round *R = &res->r[round];
        // 1. Real data: random actions first, then the current policy (sampling).
        int64_t want = round == 0 ? cfg->init_steps : cfg->round_steps;
        if (want > cfg->budget - learn) want = cfg->budget - learn;
        lc_actor *actor = NULL;
        lc_policy *pol = lc_dyna_policy(res);
        if (pol && (rc = lc_actor_wrap(&actor, pol, cfg->seed * 1000 + (uint64_t)round, 0, err)))
            goto done;
        size_t before = res->data.n;
        rc = lc_dataset_collect(&res->data, real, want, actor ? lc_actor_act : NULL, actor,
                                cfg->seed * 7919 + (uint64_t)round, NULL, NULL, err);
        lc_actor_free(actor);
        if (rc) goto done;
        learn += (int64_t)(res->data.n - before);
        if ((rc = lc_dataset_save(&res->data, res->data_path, err))) goto done;
        if (cfg->log)
            fprintf(cfg->log, "round %d: %lld real steps (%s), %zu rows in %s\n", round,
                    (long long)(res->data.n - before), round == 0 ? "random" : "policy",
                    res->data.n, res->data_path);

        // 2. Refit the ensemble on everything.
        lc_wm_config wc = cfg->wm;
        wc.seed = cfg->wm.seed + (uint64_t)round * 101 + cfg->seed * 7;
        wm_ctx wctx = {cfg->log ? lc_progress_new(cfg->log, "  world model epochs", wc.epochs) : NULL};
        lc_ensemble *m = NULL;
        rc = lc_ensemble_train(&m, &res->data, &wc, on_wm, &wctx, err);
        if (wctx.prog) lc_progress_finish(wctx.prog, rc ? "failed" : NULL);
        if (rc) goto done;
        lc_ensemble_free(res->model);
        res->model = m;
        if ((rc = lc_ensemble_save(m, res->model_path, err))) goto done;
        R->wm_mse = m->val.mse;
        R->wm_mse_trivial = m->val.mse_trivial;
        R->wm_epochs = m->epochs_run;

        // 3. PPO only in the dream, continuing from the last round's policy.
        lc_ppo_cfg pc = cfg->ppo;
        pc.seed = cfg->seed * 31 + (uint64_t)round;
        if (round > 0 && cfg->ppo_round_steps > 0) pc.total_steps = cfg->ppo_round_steps;
        lc_env_opts dopts = lc_env_opts_default();
        dopts.params = cfg->dream_params;
        lc_ppo *tr = NULL;
        if ((rc = lc_ppo_new(&tr, dream_name, &dopts, &pc, &cfg->pcfg, err))) goto done;
        if (pol && (rc = lc_ppo_init_from(tr, pol, 0, err))) {
            lc_ppo_free(tr);
            goto done;
        }
        lc_ppo_free(res->trainer);
        res->trainer = tr;
        ppo_ctx pctx = {res, dream, cfg->log, NULL, pc.total_steps};
        if (cfg->log) pctx.prog = lc_progress_new(cfg->log, "  PPO in the dream", pc.total_steps);
        rc = lc_ppo_train(tr, on_ppo, &pctx, err);
        if (pctx.prog) lc_progress_finish(pctx.prog, rc ? "failed" : NULL);
        if (rc) goto done;
        dream += lc_ppo_global_step(tr);
        pol = lc_ppo_policy(tr);
        lc_policy_set_env_name(pol, cfg->env);
        if ((rc = lc_policy_capture_obs_norm(pol, lc_ppo_env(tr), err))) goto done;
        if ((rc = lc_policy_save(pol, res->policy_path, err))) goto done;

        // 4. Evaluate: in the dream, then in reality (deterministic actions).
        lc_eval_result de, re;
        if ((rc = lc_evaluate(pol, dream_name, &dopts, cfg->eval_episodes < 20 ? cfg->eval_episodes : 20,
                              cfg->seed + 17 + (uint64_t)round, 1, &de, err)))
            goto done;
        if ((rc = lc_evaluate(pol, cfg->env, NULL, cfg->eval_episodes, cfg->seed * 1000003 + (uint64_t)round,
                              1, &re, err)))
            goto done;
        evals += (int64_t)llround(re.mean_length * re.episodes);
        R->rows = (int64_t)res->data.n;
        R->real_learn = learn;
        R->real_eval = evals;
        R->dream_steps = dream;
        R->dream_return = de.mean;
        R->real_return = re.mean;
        R->real_std = re.std;
        R->seconds = lc_now() - t0;
        res->rounds = round + 1;
        if (cfg->log)
            fprintf(cfg->log, "round %d: model val MSE %.3g (nothing-changes %.3g), dream return %.1f, "
                    "real return %.1f +- %.1f (%d episodes), %.0f s\n", round, R->wm_mse,
                    R->wm_mse_trivial, de.mean, re.mean, re.std, re.episodes, R->seconds);
        if (re.mean >= cfg->target) {
            res->reached = 1;
            break;
        }
    }
done:
    lc_env_free(real);
    return rc;
}
