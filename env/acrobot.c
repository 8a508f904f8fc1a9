// env/acrobot.c: Acrobot-v1 exactly as Gymnasium 1.x: the book's dynamics, one RK4 step
// of dt = 0.2 (Gymnasium's rk4 over t = [0, dt]), angles wrapped to [-pi, pi], velocities
// bounded, torque -1/0/+1 without noise, -1 per step and 0 on reaching the height.
// Leaves out: the NeurIPS-paper dynamics (book_or_nips = "nips"), torque noise, reset options.
//
// Letters: N = num_envs; a state is (theta1, theta2, dtheta1, dtheta2), augmented with
// the torque as a fifth element during integration, as Gymnasium does.
// Reset draws float32 values (np_random.uniform(...).astype(np.float32)); the first
// step integrates them in float64, after which the state is float64. Squares of
// variables are libm pow (Python's x**2 on NumPy scalars), squares of constants exact.
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env/classic.h"

#define DT 0.2
#define LINK_LENGTH_1 1.0
#define LINK_LENGTH_2 1.0
#define LINK_MASS_1 1.0
#define LINK_MASS_2 1.0
#define LINK_COM_POS_1 0.5
#define LINK_COM_POS_2 0.5
#define LINK_MOI 1.0
#define MAX_VEL_1 (4 * M_PI)
#define MAX_VEL_2 (9 * M_PI)
#define RESET_BOUND 0.1
#define MAX_STEPS 500
#define RENDER_SIZE 500

static const double AVAIL_TORQUE[3] = {-1.0, 0.0, +1};

typedef struct acrobot {
    lc_classic_head head;
    double *s; // (N, 4)
} acrobot;

static double py_pow2(double x) { return lc_classic_pow(x, 2); }

// Gymnasium's _dsdt: the derivative of the augmented state y (5) into dy (5).
static void dsdt(const double *y, double *dy) {
    const double m1 = LINK_MASS_1, m2 = LINK_MASS_2, l1 = LINK_LENGTH_1, lc1 = LINK_COM_POS_1,
                 lc2 = LINK_COM_POS_2, I1 = LINK_MOI, I2 = LINK_MOI, g = 9.8;
    double a = y[4];
    double theta1 = y[0], theta2 = y[1], dtheta1 = y[2], dtheta2 = y[3];
    double d1 = m1 * (lc1 * lc1) + m2 * ((l1 * l1) + (lc2 * lc2) + 2 * l1 * lc2 * cos(theta2)) + I1 + I2;
    double d2 = m2 * ((lc2 * lc2) + l1 * lc2 * cos(theta2)) + I2;
    double phi2 = m2 * lc2 * g * cos(theta1 + theta2 - M_PI / 2.0);
    double phi1 = -m2 * l1 * lc2 * py_pow2(dtheta2) * sin(theta2) -
                  2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2) +
                  (m1 * lc1 + m2 * l1) * g * cos(theta1 - M_PI / 2) + phi2;
    // the book's (and the Java implementation's) equation
    double ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * py_pow2(dtheta1) * sin(theta2) - phi2) /
                      (m2 * (lc2 * lc2) + I2 - py_pow2(d2) / d1);
    double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    dy[0] = dtheta1;
    dy[1] = dtheta2;
    dy[2] = ddtheta1;
    dy[3] = ddtheta2;
    dy[4] = 0.0;
}

// Gymnasium's rk4(derivs, y0, [0, dt]): one step; y0 (5) becomes the result.
static void rk4(double *y0) {
    const double t0 = 0, t1 = DT;
    double dt = t1 - t0, dt2 = dt / 2.0;
    double k1[5], k2[5], k3[5], k4[5], y[5];
    dsdt(y0, k1);
    for (int j = 0; j < 5; j++) y[j] = y0[j] + dt2 * k1[j];
    dsdt(y, k2);
    for (int j = 0; j < 5; j++) y[j] = y0[j] + dt2 * k2[j];
    dsdt(y, k3);
    for (int j = 0; j < 5; j++) y[j] = y0[j] + dt * k3[j];
    dsdt(y, k4);
    for (int j = 0; j < 5; j++) y0[j] = y0[j] + dt / 6.0 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
}

static double wrap(double x, double m, double M) {
    double diff = M - m;
    while (x > M) x = x - diff;
    while (x < m) x = x + diff;
    return x;
}

static double bound(double x, double m, double M) { // min(max(x, m), M) with Python's builtins
    double v = m > x ? m : x;
    return M < v ? M : v;
}

static void acrobot_observe(const void *data, int i, float *o) {
    const double *s = ((const acrobot *)data)->s + (size_t)4 * i;
    o[0] = (float)cos(s[0]);
    o[1] = (float)sin(s[0]);
    o[2] = (float)cos(s[1]);
    o[3] = (float)sin(s[1]);
    o[4] = (float)s[2];
    o[5] = (float)s[3];
}

static void acrobot_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                         uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    acrobot *d = data;
    const int32_t *act = actions;
    for (int i = i0; i < i1; i++) {
        double *s = d->s + (size_t)4 * i;
        double y[5] = {s[0], s[1], s[2], s[3], AVAIL_TORQUE[act[i]]}; // np.append(s, torque)
        rk4(y);
        s[0] = wrap(y[0], -M_PI, M_PI);
        s[1] = wrap(y[1], -M_PI, M_PI);
        s[2] = bound(y[2], -MAX_VEL_1, MAX_VEL_1);
        s[3] = bound(y[3], -MAX_VEL_2, MAX_VEL_2);
        int term = -cos(s[0]) - cos(s[1] + s[0]) > 1.0;
        terminated[i] = (uint8_t)term;
        rewards[i] = term ? 0.0f : -1.0f;
        acrobot_observe(d, i, (float *)obs + (size_t)6 * i);
    }
}

static void acrobot_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    acrobot *d = data;
    double *s = d->s + (size_t)4 * i;
    (void)rng; // np_random.uniform(-.1, .1, size=(4,)).astype(np.float32)
    for (int k = 0; k < 4; k++) s[k] = (float)lc_pcg64_uniform(&d->head.np_random[i], -RESET_BOUND, RESET_BOUND);
    acrobot_observe(d, i, obs_row);
}

static void acrobot_get_state(const void *data, int i, double *s) {
    memcpy(s, ((const acrobot *)data)->s + (size_t)4 * i, 4 * sizeof *s);
}

static void acrobot_set_state(void *data, int i, const double *s) {
    memcpy(((acrobot *)data)->s + (size_t)4 * i, s, 4 * sizeof *s);
}

static void acrobot_destroy(void *data) {
    acrobot *d = data;
    if (!d) return;
    free(d->s);
    lc_classic_head_free(&d->head);
    free(d);
}

int lc_acrobot_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts, lc_error *err) {
    assert(num_envs >= 1);
    int rc = lc_classic_params(name, opts ? opts->params : NULL, NULL, NULL, 0, err);
    if (rc) return rc;
    acrobot *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    if ((rc = lc_classic_head_init(&d->head, LC_CLASSIC_ACROBOT, num_envs, 4, acrobot_get_state, acrobot_set_state,
                                   acrobot_observe, name, err))) {
        free(d);
        return rc;
    }
    double *s = calloc((size_t)4 * num_envs, sizeof(double));
    if (!s) {
        acrobot_destroy(d);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    }
    d->s = s;

    memset(impl, 0, sizeof *impl);
    float high[6] = {1.0f, 1.0f, 1.0f, 1.0f, (float)MAX_VEL_1, (float)MAX_VEL_2};
    float low[6];
    for (int k = 0; k < 6; k++) low[k] = -high[k];
    impl->obs_space = lc_space_box(LC_F32, 1, (int[]){6}, low, high);
    impl->act_space = lc_space_discrete(3);
    impl->max_episode_steps = MAX_STEPS;
    impl->can_split = 1;
    impl->render_w = RENDER_SIZE;
    impl->render_h = RENDER_SIZE;
    impl->data = d;
    impl->reset = acrobot_reset;
    impl->seed = lc_classic_seed;
    impl->step = acrobot_step;
    impl->render = lc_acrobot_render;
    impl->destroy = acrobot_destroy;
    return LC_OK;
}
