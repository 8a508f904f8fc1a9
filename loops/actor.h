// loops/actor.h: a policy as a dataset collector (an lc_act_fn of
// worldmodel/dataset.h): applies the policy's observation normalisation, then acts.
// Leaves out: distributed collection (agents/).
#ifndef LC_LOOPS_ACTOR_H
#define LC_LOOPS_ACTOR_H

#include <stdint.h>

#include "core/error.h"
#include "env/env.h"
#include "policy/policy.h"

typedef struct lc_actor lc_actor;
// Loads a policy file and checks it fits env's spaces.
int lc_actor_load(lc_actor **out, const char *path, const lc_env *env, uint64_t seed,
                  lc_error *err);
// Borrows p (keep it alive). deterministic: argmax / mean actions.
int lc_actor_wrap(lc_actor **out, lc_policy *p, uint64_t seed, int deterministic,
                  lc_error *err);
void lc_actor_free(lc_actor *a); // NULL is fine
// An lc_act_fn: applies the policy's observation normalisation, then acts.
int lc_actor_act(void *ctx, const float *obs, const uint8_t *starts, int N, void *actions,
                 lc_error *err);

#endif
