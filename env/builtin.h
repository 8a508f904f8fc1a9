// env/builtin.h: the registration entry points of lucid's built-in envs.
// lc_env_register_builtin() (env/registry.c) calls each exactly once (pthread_once).
// Leaves out: the envs themselves (env/cartpole.c and friends, env/pixel*.c).
#ifndef LC_ENV_BUILTIN_H
#define LC_ENV_BUILTIN_H

#include "env/env.h"

// Classic control, Gymnasium-exact: CartPole-v1, Pendulum-v1, MountainCar-v0, Acrobot-v1.
void lc_classic_register(void);
// Pixel games: CoinRun-v0, Breakout-v0, Catch-v0.
void lc_pixel_register(void);
void lc_pomdp_register(void); // CartPoleNoVel-v1 (env/pomdp.c)
// MinAtar (minatar 1.0.15 exact): MinAtar/{Asterix,Breakout,Freeway,Seaquest,SpaceInvaders}-v0|v1.
void lc_minatar_register(void);

#endif
