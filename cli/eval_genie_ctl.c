// cli/eval_genie_ctl.c: `lucid eval-genie`'s controller half, for either design: the dream
// beside the real game in lockstep, and a policy trained in dream:MODEL played in the real
// game through the latent->real map, beside uniform random play and the best fixed action.
// Leaves out: held-out metrics (eval_genie_pixels.c, eval_genie_tokens.c).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/eval_genie.h"
#include "policy/policy.h"
#include "worldmodel/genie_world.h"

// The policy at path, checked to observe the world's frames and to act among its latent
// actions (all K, or the played codes); NULL after printing why.
static lc_policy *load_policy(const char *path, const lc_genie *g) {
    lc_error err = {0};
    lc_policy *pp = NULL;
    int played[256], n_played = lc_genie_played_codes(g, played);
    if (lc_policy_load(&pp, path, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: --policy: %s\n", err.msg);
        return NULL;
    }
    const lc_space *os = lc_policy_obs_space(pp), *as = lc_policy_act_space(pp);
    int obs_ok = os->kind == LC_SPACE_BOX && os->dtype == LC_U8 && os->ndim == 3 &&
                 os->shape[0] == g->game_h && os->shape[1] == g->game_w &&
                 os->shape[2] == g->game_c;
    if (!obs_ok || as->kind != LC_SPACE_DISCRETE || (as->n != g->cfg.n_codes && as->n != n_played)) {
        fprintf(stderr, "lucid eval-genie: --policy: %s\n",
                !obs_ok ? "it does not observe this model's frames"
                        : "its actions are not this model's latent actions");
        lc_policy_free(pp);
        return NULL;
    }
    return pp;
}

int eg_controller(const eg_args *a, const int *map, eg_ctl *out) {
    memset(out, 0, sizeof *out);
    out->pol_mean = out->pol_sd = out->rnd_mean = out->rnd_sd = out->fix_mean = NAN;
    out->fix_action = -1;
    out->has_policy = a->policy != NULL;
    out->episodes = a->episodes < 1 ? 1 : a->episodes;
    lc_error err = {0};
    lc_gworld *w = NULL;
    if (lc_gworld_load(&w, a->model, &err) != LC_OK) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        return 1;
    }
    const lc_genie *g = lc_gworld_lam(w);
    char params[64], *dp = NULL; // the rollouts' temperature, where asked (token worlds)
    if (a->temp >= 0 && strcmp(lc_gworld_design(w), "tokens") == 0)
        snprintf(params, sizeof params, "temp=%g", a->temp), dp = params;
    // ---- the dream beside the real game under the dream's own (random) play
    // (skipped, with a note, where the game is not one this program can make)
    if (lc_gworld_lockstep(w, map, 512, EG_ROLL_T, a->seed, dp, NULL, NULL, 0, &out->ls, &err)) {
        fprintf(stderr, "lucid eval-genie: no lockstep with the real game: %s\n", err.msg);
        out->ls.windows = 0;
    }
    if (!a->policy) {
        lc_gworld_free(w);
        return 0;
    }
    // ---- a controller trained in the dream, in the real game through the latent->real map
    lc_policy *pp = load_policy(a->policy, g);
    if (!pp) {
        lc_gworld_free(w);
        return 1;
    }
    const int n_act = lc_policy_act_space(pp)->n;
    lc_policy_sampler pc = {.p = pp}, pr = {.p = pp};
    lc_rng_seed(&pc.rng, a->seed, 0xc0);
    lc_rng_seed(&pr.rng, a->seed, 0x5eed);
    int rc = 0;
    for (int k = 0; k < g->n_real_actions && !rc; k++) { // the best fixed action: a policy
        double m, sd;                                       // that learnt one action scores this
        rc = lc_gworld_play_real(w, map, NULL, NULL, 0, k, out->episodes, a->seed, &m, &sd, &err);
        if (!rc && (k == 0 || m > out->fix_mean)) out->fix_mean = m, out->fix_action = k;
    }
    if (rc ||
        lc_gworld_play_real(w, map, lc_policy_sample_cb, &pr, n_act, -1, out->episodes, a->seed,
                            &out->pol_mean, &out->pol_sd, &err) ||
        lc_gworld_play_real(w, map, NULL, NULL, 0, -1, out->episodes, a->seed, &out->rnd_mean,
                            &out->rnd_sd, &err)) {
        fprintf(stderr, "lucid eval-genie: %s\n", err.msg);
        rc = 1;
    }
    // 256 copies of the real game may be more than it can give (a remote: server's cap on
    // envs, e.g. ALE's): then the policy's lockstep is skipped with a note, as the one above
    if (!rc && lc_gworld_lockstep(w, map, 256, EG_ROLL_T, a->seed, dp, lc_policy_sample_cb, &pc,
                                  n_act, &out->pls, &err)) {
        fprintf(stderr, "lucid eval-genie: no lockstep under the policy: %s\n", err.msg);
        out->pls.windows = 0;
    }
    lc_policy_free(pp);
    lc_gworld_free(w);
    return rc ? 1 : 0;
}

void eg_ctl_json(const eg_ctl *c) {
    char b[14][32];
    const int p = c->has_policy, l = c->ls.windows > 0, pl = p && c->pls.windows > 0;
    printf(",\"real_episodes\":%d,\"policy_return\":%s,\"policy_return_sd\":%s,"
           "\"random_return\":%s,\"random_return_sd\":%s,"
           "\"lockstep_windows\":%d,\"lockstep_steps\":%d,\"lockstep_real_return\":%s,"
           "\"lockstep_dream_return\":%s,\"lockstep_agree\":%s,\"lockstep_end_agree\":%s,"
           "\"policy_lockstep_windows\":%d,\"policy_lockstep_real_return\":%s,"
           "\"policy_lockstep_dream_return\":%s,\"policy_lockstep_agree\":%s,"
           "\"policy_lockstep_end_agree\":%s,\"fixed_action\":%d,\"fixed_action_return\":%s",
           p ? c->episodes : 0, eg_num(b[0], c->pol_mean), eg_num(b[1], c->pol_sd),
           eg_num(b[2], c->rnd_mean), eg_num(b[3], c->rnd_sd), c->ls.windows, EG_ROLL_T,
           eg_num(b[4], l ? c->ls.real_ret : NAN), eg_num(b[5], l ? c->ls.dream_ret : NAN),
           eg_num(b[6], l ? c->ls.agree : NAN), eg_num(b[7], l ? c->ls.end_agree : NAN),
           c->pls.windows, eg_num(b[8], pl ? c->pls.real_ret : NAN),
           eg_num(b[9], pl ? c->pls.dream_ret : NAN), eg_num(b[10], pl ? c->pls.agree : NAN),
           eg_num(b[11], pl ? c->pls.end_agree : NAN), c->fix_action, eg_num(b[12], c->fix_mean));
}

void eg_ctl_text(const eg_ctl *c, const char *env_name) {
    const lc_genie_lockstep *ls = &c->ls, *pls = &c->pls;
    if (ls->windows)
        printf("dream beside the real game under the dream's own play (%d windows of <= %d "
               "steps from real starts, random latent actions mapped to real ones): return "
               "%.3f in the dream vs %.3f real; returns agree (|diff| < 0.5) in %.1f%%, "
               "ends in %.1f%%\n", ls->windows, EG_ROLL_T, ls->dream_ret, ls->real_ret,
               100 * ls->agree, 100 * ls->end_agree);
    if (!c->has_policy) return;
    if (pls->windows)
        printf("the policy in the dream beside the real game (%d windows of <= %d steps, "
               "it sees the dream's frames, the game takes the mapped actions): return %.3f "
               "in the dream vs %.3f real; returns agree in %.1f%%, ends in %.1f%%\n",
               pls->windows, EG_ROLL_T, pls->dream_ret, pls->real_ret, 100 * pls->agree,
               100 * pls->end_agree);
    printf("real %s, %d episodes: dream-trained policy via the latent->real map %.2f +- "
           "%.2f, uniform random %.2f +- %.2f, the best fixed action (%d) %.2f\n",
           env_name, c->episodes, c->pol_mean, c->pol_sd, c->rnd_mean, c->rnd_sd,
           c->fix_action, c->fix_mean);
}
