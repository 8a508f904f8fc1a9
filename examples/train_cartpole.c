// examples/train_cartpole.c: PPO through the library API: a trainer on
// CartPole-v1 with CleanRL's defaults, a callback printing progress, then an
// evaluation of the policy over 100 episodes. Leaves out: checkpoints (lucid train).
#include <math.h>
#include <stdio.h>

#include "lucid.h"

static int on_iteration(void *ctx, const lc_ppo_stats *s) {
    (void)ctx;
    if (s->iteration % 20 == 0 && !isnan(s->episode_return))
        printf("step %7lld  return %6.1f  sps %.0f\n", (long long)s->global_step,
               s->episode_return, s->sps);
    return 0;
}

int main(void) {
    lc_error err = {0};
    lc_ppo_cfg cfg;
    lc_policy_cfg pcfg;
    lc_env_register_builtin();
    if (lc_ppo_cfg_for_env(&cfg, &pcfg, "CartPole-v1", &err)) goto fail;
    cfg.num_envs = 16;
    cfg.num_steps = 32;
    cfg.total_steps = 200000;
    cfg.lr = 1e-3f;
    cfg.seed = 1;
    lc_ppo *ppo = NULL;
    if (lc_ppo_new(&ppo, "CartPole-v1", NULL, &cfg, &pcfg, &err)) goto fail;
    if (lc_ppo_train(ppo, on_iteration, NULL, &err)) {
        lc_ppo_free(ppo);
        goto fail;
    }
    lc_eval_result r;
    int rc = lc_evaluate(lc_ppo_policy(ppo), "CartPole-v1", NULL, 100, 7, 1, &r, &err);
    lc_ppo_free(ppo);
    if (rc) goto fail;
    printf("evaluation over %d episodes: mean %.1f std %.1f min %.0f max %.0f\n", r.episodes,
           r.mean, r.std, r.min, r.max);
    return 0;
fail:
    fprintf(stderr, "train_cartpole: %s\n", err.msg);
    return 1;
}
