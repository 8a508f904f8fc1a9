// env/pomdp.h: partially observed variants of registered envs, for recurrent
// policies: "CartPoleNoVel-v1" (CartPole-v1 with the velocities removed, obs
// (x, theta)). Leaves out: noise or flicker variants.
#ifndef LC_ENV_POMDP_H
#define LC_ENV_POMDP_H

#include "core/api.h"
#include "env/env.h"

LC_API_BEGIN

// Registers "CartPoleNoVel-v1" (made from CartPole-v1 through the registry).
// Idempotent and thread-safe.
void lc_env_register_pomdp(void);

LC_API_END

#endif
