// env/classic.c: registers the classic control envs (CartPole-v1, Pendulum-v1,
// MountainCar-v0, MountainCarContinuous-v0, Acrobot-v1), parses their params and
// dispatches state access. Leaves out: the envs themselves (env/cartpole.c and friends).
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/builtin.h"
#include "env/classic.h"

#include "core/settings.h"

void lc_classic_register(void) {
    lc_env_register("CartPole-v1", lc_cartpole_make,
                    "Gymnasium CartPole-v1: obs (x, x_dot, theta, theta_dot), Discrete(2) push left/right, "
                    "+1 per step, 500 steps; params sutton_barto_reward=0|1");
    lc_env_register("Pendulum-v1", lc_pendulum_make,
                    "Gymnasium Pendulum-v1: obs (cos th, sin th, th_dot), Box(-2, 2, (1,)) torque, "
                    "reward -(th^2 + .1 th_dot^2 + .001 u^2), 200 steps; params g=10");
    lc_env_register("MountainCar-v0", lc_mountaincar_make,
                    "Gymnasium MountainCar-v0: obs (position, velocity), Discrete(3) push left/none/right, "
                    "-1 per step, 200 steps; params goal_velocity=0");
    lc_env_register("MountainCarContinuous-v0", lc_mountaincar_make,
                    "Gymnasium MountainCarContinuous-v0: obs (position, velocity), Box(-1, 1, (1,)) force, "
                    "+100 at the goal - 0.1 a^2, 999 steps; params goal_velocity=0");
    lc_env_register("Acrobot-v1", lc_acrobot_make,
                    "Gymnasium Acrobot-v1: obs (cos t1, sin t1, cos t2, sin t2, t1_dot, t2_dot), Discrete(3) "
                    "torque -1/0/+1, -1 per step, 500 steps");
}

int lc_classic_params(const char *env_name, const char *params, const char *const *keys, double *vals, int nkeys,
                      lc_error *err) {
    // The one key=value parser (core/settings.c) over a table of the env's numbers.
    lc_setting rows[8];
    if (nkeys > 8) return lc_fail(err, LC_ERR_ARG, "%s: too many params", env_name);
    for (int k = 0; k < nkeys; k++)
        rows[k] = (lc_setting){keys[k], LC_SET_DOUBLE, (size_t)k * sizeof(double), vals[k], 1, 0, 1, "", NULL};
    lc_settings table = {env_name, rows, nkeys};
    return lc_settings_parse(&table, vals, params, err);
}

double lc_classic_pow(double x, double y) { return pow(x, y); }
float lc_classic_powf(float x, float y) { return powf(x, y); }

void lc_classic_seed(void *data, int i, uint64_t seed) {
    lc_classic_head *h = data;
    lc_pcg64_seed(&h->np_random[i], seed, (uint64_t)i); // seeding.np_random(seed + i)
}

int lc_classic_head_init(lc_classic_head *h, lc_classic_kind kind, int num_envs,
                         int state_size, void (*get_state)(const void *, int, double *),
                         void (*set_state)(void *, int, const double *),
                         void (*observe)(const void *, int, float *), const char *name, lc_error *err) {
    *h = (lc_classic_head){kind, num_envs, state_size, get_state, set_state, observe, NULL};
    h->np_random = malloc((size_t)num_envs * sizeof *h->np_random);
    if (!h->np_random) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    for (int i = 0; i < num_envs; i++) lc_classic_seed(h, i, 0);
    return LC_OK;
}

void lc_classic_head_free(lc_classic_head *h) {
    free(h->np_random);
    h->np_random = NULL;
}

int lc_classic_state_size(const void *data) { return ((const lc_classic_head *)data)->state_size; }

void lc_classic_get_state(const void *data, int i, double *state) {
    const lc_classic_head *h = data;
    assert(i >= 0 && i < h->num_envs);
    h->get_state(data, i, state);
}

void lc_classic_set_state(void *data, int i, const double *state) {
    const lc_classic_head *h = data;
    assert(i >= 0 && i < h->num_envs);
    h->set_state(data, i, state);
}

void lc_classic_observe(const void *data, int i, float *obs_row) {
    const lc_classic_head *h = data;
    assert(i >= 0 && i < h->num_envs);
    h->observe(data, i, obs_row);
}
