// loops/actor.c: a policy (loaded from a file or borrowed) acting as an lc_act_fn for
// dataset collection: the policy's observation normalisation, then its actions.
// Leaves out: recurrent state across calls beyond what lc_policy_act keeps.
#include "loops/actor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lc_actor {
    lc_policy *p;
    int owned, deterministic;
    lc_rng rng;
    float *norm; // (N, O) normalised observations
    int cap;
};

void lc_actor_free(lc_actor *a) {
    if (!a) return;
    if (a->owned) lc_policy_free(a->p);
    free(a->norm);
    free(a);
}

int lc_actor_wrap(lc_actor **out, lc_policy *p, uint64_t seed, int deterministic,
                      lc_error *err) {
    *out = NULL;
    lc_actor *a = calloc(1, sizeof *a);
    if (!a) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
    a->p = p;
    a->deterministic = deterministic;
    lc_rng_seed(&a->rng, seed, 0xac7);
    *out = a;
    return LC_OK;
}

int lc_actor_load(lc_actor **out, const char *path, const lc_env *env, uint64_t seed,
                      lc_error *err) {
    *out = NULL;
    lc_policy *p = NULL;
    int rc = lc_policy_load(&p, path, err);
    if (rc) return rc;
    const lc_env_spec *sp = lc_env_get_spec(env);
    if (lc_policy_obs_size(p) != sp->obs_size || lc_policy_act_size(p) != sp->act_size ||
        lc_policy_act_space(p)->kind != sp->act_space.kind ||
        (sp->act_space.kind == LC_SPACE_DISCRETE && lc_policy_act_space(p)->n != sp->act_space.n)) {
        lc_policy_free(p);
        return lc_fail(err, LC_ERR_SHAPE, "%s: the policy's spaces do not fit %s", path, sp->name);
    }
    if ((rc = lc_actor_wrap(out, p, seed, 0, err))) {
        lc_policy_free(p);
        return rc;
    }
    (*out)->owned = 1;
    return LC_OK;
}

int lc_actor_act(void *ctx, const float *obs, const uint8_t *starts, int N, void *actions,
                     lc_error *err) {
    lc_actor *a = ctx;
    const float *in = obs;
    if (lc_policy_has_obs_norm(a->p)) {
        int O = lc_policy_obs_size(a->p);
        if (N > a->cap) {
            float *q = realloc(a->norm, (size_t)N * O * sizeof(float));
            if (!q) return lc_fail(err, LC_ERR_NOMEM, "out of memory");
            a->norm = q;
            a->cap = N;
        }
        double count;
        const double *mean, *var;
        float clip;
        lc_policy_obs_norm(a->p, &count, &mean, &var, &clip);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < O; j++) {
                double z = (obs[(size_t)i * O + j] - mean[j]) / sqrt(var[j] + 1e-8);
                if (z > clip) z = clip;
                if (z < -clip) z = -clip;
                a->norm[(size_t)i * O + j] = (float)z;
            }
        in = a->norm;
    }
    return lc_policy_act(a->p, in, N, starts, a->deterministic, &a->rng, actions, NULL, NULL, err);
}
