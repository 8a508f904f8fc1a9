// env/pendulum.c: Pendulum-v1 exactly as Gymnasium 1.x with NumPy 2 (float64 state,
// float32 torque, reward -(angle_normalize(th)^2 + .1 th_dot^2 + .001 u^2), no termination).
// Leaves out: reset bounds options (x_init, y_init).
//
// Letters: N = num_envs.
// Types follow NumPy 2's promotion (NEP 50): the torque u is a float32 scalar, so
// u**2, 0.001 * u**2 and 3.0 * u are float32 operations (a Python float is "weak");
// th and th_dot are float64. (NumPy 1.x promoted those scalar products to float64.)
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env/classic.h"

#define MAX_SPEED 8
#define MAX_TORQUE 2.0
#define DT 0.05
#define MASS 1.0
#define LEN 1.0
#define DEFAULT_G 10.0
#define MAX_STEPS 200
#define RENDER_SIZE 500

typedef struct pendulum {
    lc_classic_head head;
    double g;
    double *th, *thdot, *last_u; // (N) each; last_u NAN until the first step (rendering)
} pendulum;

// ((x + pi) % (2 pi)) - pi with Python's (and numpy's) float modulo: the result takes
// the sign of the divisor.
static double angle_normalize(double x) {
    double b = 2 * M_PI, m = fmod(x + M_PI, b);
    if (m != 0.0) {
        if ((m < 0) != (b < 0)) m += b;
    } else {
        m = copysign(0.0, b);
    }
    return m - M_PI;
}

static void pendulum_observe(const void *data, int i, float *o) {
    const pendulum *d = data;
    o[0] = (float)cos(d->th[i]);
    o[1] = (float)sin(d->th[i]);
    o[2] = (float)d->thdot[i];
}

static void pendulum_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                          uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    pendulum *d = data;
    const float *a = actions;
    float *o = obs;
    const double g = d->g, m = MASS, l = LEN, dt = DT;
    for (int i = i0; i < i1; i++) {
        double th = d->th[i], thdot = d->thdot[i];
        float u = a[i]; // np.clip(u, -max_torque, max_torque)[0]: float32
        u = u < (float)-MAX_TORQUE ? (float)-MAX_TORQUE : u > (float)MAX_TORQUE ? (float)MAX_TORQUE : u;
        d->last_u[i] = u;
        double an = angle_normalize(th);
        float cu = 0.001f * lc_classic_powf(u, 2.0f); // 0.001 * (u**2): float32 (NumPy 2)
        double costs = lc_classic_pow(an, 2.0) + 0.1 * lc_classic_pow(thdot, 2.0) + (double)cu;

        float tu = (float)(3.0 / (m * lc_classic_pow(l, 2.0))) * u; // 3.0 / (m * l**2) * u: float32
        double newthdot = thdot + (3 * g / (2 * l) * sin(th) + (double)tu) * dt;
        newthdot = newthdot < -MAX_SPEED ? -MAX_SPEED : newthdot > MAX_SPEED ? MAX_SPEED : newthdot;
        double newth = th + newthdot * dt;

        d->th[i] = newth;
        d->thdot[i] = newthdot;
        pendulum_observe(d, i, o + (size_t)3 * i);
        rewards[i] = (float)-costs;
        terminated[i] = 0;
    }
}

static void pendulum_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    (void)rng;
    pendulum *d = data;
    lc_pcg64 *g = &d->head.np_random[i]; // np_random.uniform(low=[-pi, -1], high=[pi, 1])
    d->th[i] = lc_pcg64_uniform(g, -M_PI, M_PI);
    d->thdot[i] = lc_pcg64_uniform(g, -1.0, 1.0);
    d->last_u[i] = NAN;
    pendulum_observe(d, i, obs_row);
}

static void pendulum_get_state(const void *data, int i, double *s) {
    const pendulum *d = data;
    s[0] = d->th[i];
    s[1] = d->thdot[i];
    s[2] = d->last_u[i];
}

static void pendulum_set_state(void *data, int i, const double *s) {
    pendulum *d = data;
    d->th[i] = s[0];
    d->thdot[i] = s[1];
}

static void pendulum_destroy(void *data) {
    pendulum *d = data;
    if (!d) return;
    free(d->th);
    lc_classic_head_free(&d->head);
    free(d);
}

int lc_pendulum_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts, lc_error *err) {
    assert(num_envs >= 1);
    static const char *const keys[] = {"g"};
    double vals[1] = {DEFAULT_G};
    int rc = lc_classic_params(name, opts ? opts->params : NULL, keys, vals, 1, err);
    if (rc) return rc;
    pendulum *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    if ((rc = lc_classic_head_init(&d->head, LC_CLASSIC_PENDULUM, num_envs, 3, pendulum_get_state,
                                   pendulum_set_state, pendulum_observe, name, err))) {
        free(d);
        return rc;
    }
    double *state = calloc((size_t)3 * num_envs, sizeof(double));
    if (!state) {
        pendulum_destroy(d);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    }
    d->g = vals[0];
    d->th = state;
    d->thdot = state + num_envs;
    d->last_u = state + 2 * (size_t)num_envs;
    for (int i = 0; i < num_envs; i++) d->last_u[i] = NAN;

    memset(impl, 0, sizeof *impl);
    float high[3] = {1.0f, 1.0f, (float)MAX_SPEED};
    float low[3] = {-1.0f, -1.0f, -(float)MAX_SPEED};
    impl->obs_space = lc_space_box(LC_F32, 1, (int[]){3}, low, high);
    impl->act_space = lc_space_box_scalar(LC_F32, 1, (int[]){1}, (float)-MAX_TORQUE, (float)MAX_TORQUE);
    impl->max_episode_steps = MAX_STEPS;
    impl->can_split = 1;
    impl->render_w = RENDER_SIZE;
    impl->render_h = RENDER_SIZE;
    impl->data = d;
    impl->reset = pendulum_reset;
    impl->seed = lc_classic_seed;
    impl->step = pendulum_step;
    impl->render = lc_pendulum_render;
    impl->destroy = pendulum_destroy;
    return LC_OK;
}
