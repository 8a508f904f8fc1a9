// env/classic.h: internal header of lucid's classic control envs (Gymnasium 1.x exact):
// their constructors, state access for tests and rendering, the shared params parser
// and CartPole's vector sin/cos. Leaves out: the vector layer (env/env.c) and drawing.
#ifndef LC_ENV_CLASSIC_H
#define LC_ENV_CLASSIC_H

#include <stdint.h>

#include "core/pcg64.h"
#include "env/env.h"

// lc_classic_register() (declared in env/builtin.h) registers every env below by name.

// Every classic backend's data starts with this, so the state functions below can
// tell which env a data pointer holds.
typedef enum lc_classic_kind {
    LC_CLASSIC_CARTPOLE = 1,
    LC_CLASSIC_PENDULUM,
    LC_CLASSIC_MOUNTAINCAR,            // MountainCar-v0 (Discrete(3))
    LC_CLASSIC_MOUNTAINCAR_CONTINUOUS, // MountainCarContinuous-v0 (Box(-1, 1, (1,)))
    LC_CLASSIC_ACROBOT,
} lc_classic_kind;

typedef struct lc_classic_head {
    lc_classic_kind kind;
    int num_envs;
    int state_size; // doubles in one env's state (below)
    void (*get_state)(const void *data, int i, double *state);
    void (*set_state)(void *data, int i, const double *state);
    void (*observe)(const void *data, int i, float *obs_row);
    lc_pcg64 *np_random; // (N) env i's generator: Gymnasium's self.np_random
} lc_classic_head;

// Seeding follows Gymnasium: env i's np_random is PCG64(SeedSequence(seed + i)) after a
// vector reset with seed, and resets without a seed (autoreset, reset_mask) continue it,
// so CartPole-v1 reset with seed 0 starts where gymnasium.make("CartPole-v1").reset(seed=0)
// does. Before any seeded reset env i's generator is seeded with i (as by a reset with 0).
// Fills h (its np_random allocated). LC_ERR_NOMEM naming the env.
int lc_classic_head_init(lc_classic_head *h, lc_classic_kind kind, int num_envs,
                         int state_size, void (*get_state)(const void *, int, double *),
                         void (*set_state)(void *, int, const double *),
                         void (*observe)(const void *, int, float *), const char *name, lc_error *err);
void lc_classic_head_free(lc_classic_head *h);
// The envs' impl->seed: env i's np_random = PCG64(SeedSequence(seed + i)).
void lc_classic_seed(void *data, int i, uint64_t seed);

// Constructors (lc_env_ctor). MountainCar handles both of its names.
int lc_cartpole_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts, lc_error *err);
int lc_pendulum_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts, lc_error *err);
int lc_mountaincar_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts,
                        lc_error *err);
int lc_acrobot_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts, lc_error *err);

// The state of env i, in Gymnasium's order and in double:
//   CartPole      (x, x_dot, theta, theta_dot)          4
//   Pendulum      (theta, theta_dot, last_u)            3 (last_u: NAN before any step; for rendering)
//   MountainCar   (position, velocity)                  2 (both variants)
//   Acrobot       (theta1, theta2, dtheta1, dtheta2)    4
// set_state writes it as if a reset had drawn it (MountainCarContinuous then runs its
// next step in float64, as Gymnasium does after reset; Pendulum ignores last_u).
#define LC_CLASSIC_MAX_STATE 4
int lc_classic_state_size(const void *data);
void lc_classic_get_state(const void *data, int i, double *state);
void lc_classic_set_state(void *data, int i, const double *state);
// The observation of env i's current state (as step and reset write it).
void lc_classic_observe(const void *data, int i, float *obs_row);

// Renderers (env/render_classic.c): env i as RGB (h, w, 3). 0 on success.
int lc_cartpole_render(void *data, int i, uint8_t *rgb, int w, int h);
int lc_pendulum_render(void *data, int i, uint8_t *rgb, int w, int h);
int lc_mountaincar_render(void *data, int i, uint8_t *rgb, int w, int h);
int lc_acrobot_render(void *data, int i, uint8_t *rgb, int w, int h);

// Parses params "key=value,key=value" (NULL or "" = none) into vals[k] for keys[k]
// (vals keep their defaults where a key is absent). Unknown keys and values that are not
// finite numbers are LC_ERR_ARG naming the env and listing the keys it knows.
int lc_classic_params(const char *env_name, const char *params, const char *const *keys, double *vals, int nkeys,
                      lc_error *err);

// x ** y as Python and NumPy compute it on scalars: libm's pow (glibc's pow(x, 2) differs
// from x * x in about 1 case in 1200; compilers fold pow(x, 2.0) into x * x, so the envs
// call these, which live in another translation unit). np.square is x * x.
double lc_classic_pow(double x, double y);
float lc_classic_powf(float x, float y);

// CartPole's sin and cos: correctly rounded for |x| <= LC_CARTPOLE_SINCOS_MAX (a
// double-double Taylor evaluation, vectorized over the envs), libm's sin/cos beyond.
#define LC_CARTPOLE_SINCOS_MAX 0.25
void lc_cartpole_sincos(double x, double *s, double *c);

#endif
