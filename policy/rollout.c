// policy/rollout.c: rollout buffers (T, N), collecting them with a policy in an env,
// reward scaling, episode statistics, and GAE with truncation bootstrapping.
// Leaves out: the PPO update (policy/ppo.c), serialising buffers for the wire (agents/).
//
// T = steps, N = envs (columns), O = obs elements, A = action elements, S = state.
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env/wrappers.h"
#include "policy/ppo.h"

// ---------------------------------------------------------------- buffers

int lc_rollout_init(lc_rollout *r, int T, int N, const lc_space *obs_space,
                    const lc_space *act_space, int state_size, lc_error *err) {
    memset(r, 0, sizeof *r);
    if (T < 1 || N < 1 || state_size < 0)
        return lc_fail(err, LC_ERR_ARG, "rollout: T %d and N %d must be >= 1", T, N);
    r->T = T;
    r->N = N;
    r->obs_size = lc_space_size(obs_space);
    r->act_size = act_space->kind == LC_SPACE_DISCRETE ? 1 : lc_space_size(act_space);
    r->state_size = state_size;
    r->obs_dtype = obs_space->dtype == LC_U8 ? LC_U8 : LC_F32;
    r->act_dtype = act_space->kind == LC_SPACE_BOX ? LC_F32 : LC_I32;
    size_t TN = (size_t)T * N;
    r->obs = malloc(TN * r->obs_size * lc_dtype_size(r->obs_dtype));
    r->actions = malloc(TN * r->act_size * 4);
    r->logp = malloc(TN * sizeof(float));
    r->values = malloc(TN * sizeof(float));
    r->rewards = malloc(TN * sizeof(float));
    r->terminated = calloc(TN, 1);
    r->truncated = calloc(TN, 1);
    r->final_values = calloc(TN, sizeof(float));
    r->starts = calloc(TN, 1);
    r->state0 = state_size ? calloc((size_t)N * state_size, sizeof(float)) : NULL;
    r->next_value = calloc((size_t)N, sizeof(float));
    r->next_start = malloc((size_t)N);
    r->advantages = calloc(TN, sizeof(float));
    r->returns = calloc(TN, sizeof(float));
    if (!r->obs || !r->actions || !r->logp || !r->values || !r->rewards || !r->terminated ||
        !r->truncated || !r->final_values || !r->starts || (state_size && !r->state0) ||
        !r->next_value || !r->next_start || !r->advantages || !r->returns) {
        lc_rollout_free(r);
        return lc_fail(err, LC_ERR_NOMEM, "rollout: out of memory for %d x %d steps", T, N);
    }
    memset(r->next_start, 1, (size_t)N);
    return LC_OK;
}

void lc_rollout_free(lc_rollout *r) {
    free(r->obs);
    free(r->actions);
    free(r->logp);
    free(r->values);
    free(r->rewards);
    free(r->terminated);
    free(r->truncated);
    free(r->final_values);
    free(r->starts);
    free(r->state0);
    free(r->next_value);
    free(r->next_start);
    free(r->advantages);
    free(r->returns);
    memset(r, 0, sizeof *r);
}

// Copies src (T, sn, w bytes) into columns [col0, col0 + sn) of dst (T, dn, w bytes).
static void copy_cols(void *dst, const void *src, int T, int dn, int sn, int col0, size_t w) {
    for (int t = 0; t < T; t++)
        memcpy((char *)dst + ((size_t)t * dn + col0) * w, (const char *)src + (size_t)t * sn * w,
               (size_t)sn * w);
}

int lc_rollout_copy_columns(lc_rollout *dst, int col0, const lc_rollout *src, lc_error *err) {
    if (src->T != dst->T || src->obs_size != dst->obs_size || src->act_size != dst->act_size ||
        src->state_size != dst->state_size || src->obs_dtype != dst->obs_dtype ||
        src->act_dtype != dst->act_dtype)
        return lc_fail(err, LC_ERR_SHAPE, "rollout: a %d-step buffer does not fit a %d-step one",
                       src->T, dst->T);
    if (col0 < 0 || col0 + src->N > dst->N)
        return lc_fail(err, LC_ERR_SHAPE, "rollout: columns [%d, %d) outside [0, %d)", col0,
                       col0 + src->N, dst->N);
    int T = src->T, dn = dst->N, sn = src->N;
    copy_cols(dst->obs, src->obs, T, dn, sn, col0, (size_t)src->obs_size * lc_dtype_size(src->obs_dtype));
    copy_cols(dst->actions, src->actions, T, dn, sn, col0, (size_t)src->act_size * 4);
    copy_cols(dst->logp, src->logp, T, dn, sn, col0, sizeof(float));
    copy_cols(dst->values, src->values, T, dn, sn, col0, sizeof(float));
    copy_cols(dst->rewards, src->rewards, T, dn, sn, col0, sizeof(float));
    copy_cols(dst->terminated, src->terminated, T, dn, sn, col0, 1);
    copy_cols(dst->truncated, src->truncated, T, dn, sn, col0, 1);
    copy_cols(dst->final_values, src->final_values, T, dn, sn, col0, sizeof(float));
    copy_cols(dst->starts, src->starts, T, dn, sn, col0, 1);
    copy_cols(dst->advantages, src->advantages, T, dn, sn, col0, sizeof(float));
    copy_cols(dst->returns, src->returns, T, dn, sn, col0, sizeof(float));
    if (src->state_size)
        memcpy(dst->state0 + (size_t)col0 * src->state_size, src->state0,
               (size_t)sn * src->state_size * sizeof(float));
    memcpy(dst->next_value + col0, src->next_value, (size_t)sn * sizeof(float));
    memcpy(dst->next_start + col0, src->next_start, (size_t)sn);
    return LC_OK;
}

void lc_episode_stats_clear(lc_episode_stats *s) {
    s->episodes = 0;
    s->return_sum = s->length_sum = 0.0;
    s->last_return = NAN;
}

// ---------------------------------------------------------------- collecting

int lc_rollout_collect(lc_rollout *r, lc_policy *p, lc_env *env, lc_rng *rng,
                       lc_episode_stats *eps, lc_error *err) {
    const lc_env_spec *spec = lc_env_get_spec(env);
    const lc_env_buf *buf = lc_env_get_buf(env);
    int N = r->N, T = r->T, rc;
    if (spec->num_envs != N || spec->obs_size != r->obs_size ||
        lc_policy_obs_size(p) != r->obs_size || lc_policy_act_size(p) != r->act_size ||
        lc_policy_state_size(p) != r->state_size)
        return lc_fail(err, LC_ERR_SHAPE,
                       "rollout: buffer (%d envs, obs %d, act %d) does not match env %s (%d envs, "
                       "obs %d) or the policy", N, r->obs_size, r->act_size, spec->name,
                       spec->num_envs, spec->obs_size);
    size_t orow = (size_t)r->obs_size * lc_dtype_size(r->obs_dtype);
    size_t arow = (size_t)r->act_size * 4;
    if (r->state_size) lc_policy_get_state(p, r->state0, N);
    for (int t = 0; t < T; t++) {
        size_t o = (size_t)t * N;
        memcpy((char *)r->obs + o * orow, buf->obs, (size_t)N * orow);
        memcpy(r->starts + o, r->next_start, (size_t)N);
        void *act = (char *)r->actions + o * arow;
        if ((rc = lc_policy_act(p, buf->obs, N, r->starts + o, 0, rng, act, r->logp + o,
                                r->values + o, err)))
            return rc;
        if ((rc = lc_env_step(env, act, err))) return rc;
        float *rew = r->rewards + o;
        memcpy(rew, buf->rewards, (size_t)N * sizeof(float));
        memcpy(r->terminated + o, buf->terminated, (size_t)N);
        memcpy(r->truncated + o, buf->truncated, (size_t)N);
        int ntrunc = 0;
        for (int i = 0; i < N; i++) ntrunc += buf->truncated[i] != 0;
        if (ntrunc) {
            if ((rc = lc_policy_value(p, buf->final_obs, N, buf->truncated, r->final_values + o, err)))
                return rc;
        } else {
            memset(r->final_values + o, 0, (size_t)N * sizeof(float));
        }
        memcpy(r->next_start, buf->done, (size_t)N);
        if (eps) {
            for (int i = 0; i < N; i++) {
                if (!buf->done[i]) continue;
                eps->episodes++;
                eps->return_sum += buf->ep_return[i];
                eps->length_sum += buf->ep_length[i];
                eps->last_return = buf->ep_return[i];
            }
        }
    }
    // V(obs_T) bootstraps the envs still running (ended ones never use it).
    return lc_policy_value(p, buf->obs, N, NULL, r->next_value, err);
}

// ---------------------------------------------------------------- GAE

void lc_gae(float *adv, float *ret, const float *rewards, const float *values,
            const uint8_t *terminated, const uint8_t *truncated, const float *final_values,
            const float *next_value, int T, int N, float gamma, float lambda) {
    for (int n = 0; n < N; n++) {
        double last = 0.0;
        for (int t = T - 1; t >= 0; t--) {
            size_t i = (size_t)t * N + n;
            int term = terminated[i] != 0, trunc = truncated[i] != 0;
            double nv;
            if (term) nv = 0.0;
            else if (trunc) nv = final_values ? final_values[i] : 0.0;
            else nv = t == T - 1 ? next_value[n] : values[i + N];
            double delta = rewards[i] + (double)gamma * nv - values[i];
            last = delta + (term || trunc ? 0.0 : (double)gamma * lambda * last);
            adv[i] = (float)last;
            ret[i] = (float)(last + values[i]);
        }
    }
}

void lc_rollout_gae(lc_rollout *r, float gamma, float lambda) {
    lc_gae(r->advantages, r->returns, r->rewards, r->values, r->terminated, r->truncated,
           r->final_values, r->next_value, r->T, r->N, gamma, lambda);
}
