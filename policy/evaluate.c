// policy/evaluate.c: a policy's return over K episodes in an env (real or dream:),
// spread evenly over the env copies so that short episodes are not over-counted.
// Leaves out: video recording (cli/eval.c draws frames itself), confidence intervals.
//
// N = env copies, K = episodes asked for, O = obs elements, A = action elements.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ppo.h"

int lc_evaluate_env(lc_policy *p, lc_env *env, int episodes, uint64_t seed, int deterministic,
                    lc_eval_result *res, lc_error *err) {
    memset(res, 0, sizeof *res);
    if (episodes < 1) return lc_fail(err, LC_ERR_ARG, "evaluate: episodes %d must be >= 1", episodes);
    const lc_env_spec *spec = lc_env_get_spec(env);
    const lc_env_buf *buf = lc_env_get_buf(env);
    int N = spec->num_envs;
    if (spec->obs_size != lc_policy_obs_size(p) ||
        spec->act_space.kind != lc_policy_act_space(p)->kind ||
        lc_space_size(&spec->act_space) != lc_space_size(lc_policy_act_space(p)))
        return lc_fail(err, LC_ERR_SHAPE,
                       "evaluate: env %s (obs %d, actions %d) does not fit the policy (obs %d, "
                       "actions %d)", spec->name, spec->obs_size, lc_space_size(&spec->act_space),
                       lc_policy_obs_size(p), lc_space_size(lc_policy_act_space(p)));
    int quota = (episodes + N - 1) / N;
    size_t asz = spec->act_space.kind == LC_SPACE_BOX ? sizeof(float) : sizeof(int32_t);
    void *act = malloc((size_t)N * lc_policy_act_size(p) * asz);
    uint8_t *start = malloc((size_t)N);
    int *count = calloc((size_t)N, sizeof(int));
    double *rets = malloc((size_t)episodes * sizeof(double));
    if (!act || !start || !count || !rets) {
        free(act), free(start), free(count), free(rets);
        return lc_fail(err, LC_ERR_NOMEM, "evaluate: out of memory");
    }
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0x6576616cULL); // "eval"
    int rc = lc_env_reset(env, seed, err);
    lc_policy_reset_state(p);
    memset(start, 1, (size_t)N);
    int got = 0;
    double len_sum = 0;
    // Guards against a policy that never ends an episode in an env without a time limit.
    int64_t steps = 0, max_steps = (int64_t)quota * 10000000;
    while (!rc && got < episodes) {
        if ((rc = lc_policy_act(p, buf->obs, N, start, deterministic, &rng, act, NULL, NULL, err)))
            break;
        if ((rc = lc_env_step(env, act, err))) break;
        for (int i = 0; i < N && got < episodes; i++) {
            if (!buf->done[i] || count[i] >= quota) continue;
            count[i]++;
            rets[got++] = buf->ep_return[i];
            len_sum += buf->ep_length[i];
        }
        memcpy(start, buf->done, (size_t)N);
        if (++steps > max_steps)
            rc = lc_fail(err, LC_ERR_STATE, "evaluate: no episode ended in %lld steps",
                         (long long)steps);
    }
    if (!rc) {
        double s = 0, mn = INFINITY, mx = -INFINITY;
        for (int i = 0; i < got; i++) {
            s += rets[i];
            mn = rets[i] < mn ? rets[i] : mn;
            mx = rets[i] > mx ? rets[i] : mx;
        }
        double mean = s / got, v = 0;
        for (int i = 0; i < got; i++) v += (rets[i] - mean) * (rets[i] - mean);
        res->episodes = got;
        res->mean = mean;
        res->std = sqrt(v / got);
        res->min = mn;
        res->max = mx;
        res->mean_length = len_sum / got;
    }
    free(act), free(start), free(count), free(rets);
    return rc;
}

int lc_evaluate(lc_policy *p, const char *env_name, const lc_env_opts *opts, int episodes,
                uint64_t seed, int deterministic, lc_eval_result *res, lc_error *err) {
    memset(res, 0, sizeof *res);
    if (episodes < 1) return lc_fail(err, LC_ERR_ARG, "evaluate: episodes %d must be >= 1", episodes);
    lc_env_opts o = opts ? *opts : lc_env_opts_default();
    o.num_envs = episodes < 16 ? episodes : 16;
    o.autoreset = LC_AUTORESET_SAME_STEP;
    o.normalize_reward = 0;
    lc_policy_env_opts(p, &o);
    lc_env *env;
    int rc = lc_env_make(&env, env_name, &o, err);
    if (rc) return rc;
    if (!(rc = lc_policy_sync_env(p, env, err)))
        rc = lc_evaluate_env(p, env, episodes, seed, deterministic, res, err);
    lc_env_free(env);
    return rc;
}
