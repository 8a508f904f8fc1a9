// tests/test_classic.c: Check suite for the classic control envs (env/classic.h): one
// step of each env from a known state against Gymnasium's equations written out here,
// termination and truncation rules, spaces, reset distributions, Gymnasium's seeding (golden
// values of Gymnasium 1.4: start states, vector seeds, whole episodes), params, rendering.
// Leaves out: timing (bench/bench_cartpole.c), training on these envs (policy suites).
//
// Letters: N = num_envs. Backends are made directly (lc_*_make) where a test sets a
// state through lc_classic_set_state, and by name through lc_env_make otherwise.
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/builtin.h"
#include "env/classic.h"
#include "env/env.h"
#include "tests/helpers/env_contract.h"
#include "loops/init.h"

#define OBS_TOL 1e-6

// ---------------------------------------------------------------- helpers

typedef struct backend {
    lc_env_impl im;
    int n, obs_size;
    lc_rng *rngs;    // (N)
    float *obs;      // (N, obs_size)
    float *rewards;  // (N)
    uint8_t *term;   // (N)
} backend;

static void backend_make(backend *b, const char *name, int n, const char *params) {
    lc_env_ctor ctor;
    lc_error err = {0};
    ck_assert_int_eq(lc_env_lookup(name, &ctor, &err), LC_OK);
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    o.params = params;
    ck_assert_msg(ctor(&b->im, name, n, &o, &err) == LC_OK, "%s", err.msg);
    b->n = n;
    b->obs_size = lc_space_size(&b->im.obs_space);
    b->rngs = calloc((size_t)n, sizeof *b->rngs);
    b->obs = calloc((size_t)n * b->obs_size, sizeof *b->obs);
    b->rewards = calloc((size_t)n, sizeof *b->rewards);
    b->term = calloc((size_t)n, 1);
    for (int i = 0; i < n; i++) {
        lc_rng_seed(&b->rngs[i], 11, (uint64_t)i);
        b->im.reset(b->im.data, i, &b->rngs[i], b->obs + (size_t)i * b->obs_size);
    }
}

static void backend_free(backend *b) {
    b->im.destroy(b->im.data);
    free(b->rngs);
    free(b->obs);
    free(b->rewards);
    free(b->term);
}

static void backend_step(backend *b, int i0, int i1, const void *actions) {
    b->im.step(b->im.data, i0, i1, actions, b->obs, b->rewards, b->term, NULL, b->rngs);
}

static void check_obs(const float *got, const double *want, int n) {
    for (int k = 0; k < n; k++) ck_assert_float_eq_tol(got[k], (float)want[k], OBS_TOL);
}

// The first n elements of env i's state equal want bit for bit (n = 0: all of them).
static void check_state_exact(const backend *b, int i, const double *want, int n) {
    double s[LC_CLASSIC_MAX_STATE];
    lc_classic_get_state(b->im.data, i, s);
    if (n == 0) n = lc_classic_state_size(b->im.data);
    for (int k = 0; k < n; k++)
        ck_assert_msg(s[k] == want[k], "state[%d] = %.17g, want %.17g", k, s[k], want[k]);
}

// ---------------------------------------------------------------- CartPole-v1

// Gymnasium's CartPoleEnv.step in double, Euler; sin and cos given.
static int cartpole_ref(double *s, int action, double sintheta, double costheta) {
    const double gravity = 9.8, masscart = 1.0, masspole = 0.1, total_mass = masspole + masscart, length = 0.5,
                 polemass_length = masspole * length, force_mag = 10.0, tau = 0.02;
    double x = s[0], x_dot = s[1], theta = s[2], theta_dot = s[3];
    double force = action == 1 ? force_mag : -force_mag;
    double temp = (force + polemass_length * (theta_dot * theta_dot) * sintheta) / total_mass;
    double thetaacc = (gravity * sintheta - costheta * temp) /
                      (length * (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass));
    double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
    x = x + tau * x_dot;
    x_dot = x_dot + tau * xacc;
    theta = theta + tau * theta_dot;
    theta_dot = theta_dot + tau * thetaacc;
    s[0] = x;
    s[1] = x_dot;
    s[2] = theta;
    s[3] = theta_dot;
    double th = 12 * 2 * M_PI / 360;
    return x < -2.4 || x > 2.4 || theta < -th || theta > th;
}

START_TEST(test_cartpole_hand_step) {
    backend b;
    backend_make(&b, "CartPole-v1", 1, NULL);
    double s0[4] = {0.01, -0.2, 0.03, 0.4};
    lc_classic_set_state(b.im.data, 0, s0);
    float o[4];
    lc_classic_observe(b.im.data, 0, o);
    for (int k = 0; k < 4; k++) ck_assert(o[k] == (float)s0[k]);
    int32_t a = 1;
    backend_step(&b, 0, 1, &a);
    // By hand (libm sin/cos): force = 10, sin(.03) = .0299955, cos(.03) = .99955
    double sn = sin(0.03), cs = cos(0.03);
    double temp = (10.0 + 0.05 * 0.16 * sn) / 1.1;
    double thetaacc = (9.8 * sn - cs * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cs * cs / 1.1));
    double xacc = temp - 0.05 * thetaacc * cs / 1.1;
    double want[4] = {0.01 + 0.02 * -0.2, -0.2 + 0.02 * xacc, 0.03 + 0.02 * 0.4, 0.4 + 0.02 * thetaacc};
    check_obs(b.obs, want, 4);
    ck_assert_float_eq_tol(want[1], -0.00532, 1e-5); // temp 9.0911, thetaacc -14.154, xacc 9.7342
    ck_assert_float_eq_tol(want[3], 0.11692, 1e-5);
    ck_assert_float_eq(b.rewards[0], 1.0f);
    ck_assert_int_eq(b.term[0], 0);
    backend_free(&b);
}
END_TEST

// Every lane of the SIMD step (whole blocks and the tail) equals the scalar equations
// bit for bit, with lucid's sin and cos; a sub-range step touches only its rows.
START_TEST(test_cartpole_simd_exact) {
    enum { N = 37 };
    backend b;
    backend_make(&b, "CartPole-v1", N, NULL);
    lc_rng r;
    lc_rng_seed(&r, 5, 0);
    double want[N][4];
    int32_t act[N];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 4; k++) want[i][k] = lc_rng_uniform(&r, -0.2, 0.2);
        if (i == 7) want[i][2] = 0.9; // beyond the polynomial's range: libm's sin and cos
        lc_classic_set_state(b.im.data, i, want[i]);
        act[i] = (int32_t)lc_rng_below(&r, 2);
    }
    for (int i = 0; i < N; i++) b.obs[(size_t)4 * i] = 77.0f; // marks rows the step must not touch
    int i0 = 3, i1 = 29;
    backend_step(&b, i0, i1, act);
    for (int i = 0; i < N; i++) {
        if (i < i0 || i >= i1) {
            ck_assert_float_eq(b.obs[(size_t)4 * i], 77.0f);
            check_state_exact(&b, i, want[i], 0);
            continue;
        }
        double sn, cs, s[4];
        memcpy(s, want[i], sizeof s);
        lc_cartpole_sincos(s[2], &sn, &cs);
        if (i == 7) {
            ck_assert(sn == sin(0.9) && cs == cos(0.9));
        }
        int t = cartpole_ref(s, act[i], sn, cs);
        check_state_exact(&b, i, s, 0);
        for (int k = 0; k < 4; k++) ck_assert(b.obs[(size_t)4 * i + k] == (float)s[k]);
        ck_assert_int_eq(b.term[i], t);
        ck_assert_float_eq(b.rewards[i], 1.0f);
    }
    backend_free(&b);
}
END_TEST

START_TEST(test_cartpole_termination) {
    backend b;
    backend_make(&b, "CartPole-v1", 6, NULL);
    double states[6][4] = {
        {2.39, 1.0, 0.0, 0.0},   // x: 2.41 > 2.4
        {-2.39, -1.0, 0.0, 0.0}, // x: -2.41 < -2.4
        {0.0, 0.0, 0.2, 0.5},    // theta: .21 > 12 degrees (.20944)
        {0.0, 0.0, -0.2, -0.5},  // theta: -.21
        {2.3, 0.0, 0.0, 0.0},    // inside
        {0.0, 0.0, 0.2, 0.4},    // theta .208 < .20944: inside
    };
    int32_t act[6] = {1, 0, 1, 0, 1, 1};
    for (int i = 0; i < 6; i++) lc_classic_set_state(b.im.data, i, states[i]);
    backend_step(&b, 0, 6, act);
    uint8_t want[6] = {1, 1, 1, 1, 0, 0};
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(b.term[i] == want[i], "env %d: terminated %d", i, b.term[i]);
        ck_assert_float_eq(b.rewards[i], 1.0f); // +1 on the terminating step too
    }
    backend_free(&b);
}
END_TEST

START_TEST(test_cartpole_sutton_barto_reward) {
    backend b;
    backend_make(&b, "CartPole-v1", 2, "sutton_barto_reward=1");
    double s0[4] = {2.39, 1.0, 0.0, 0.0}, s1[4] = {0, 0, 0, 0};
    lc_classic_set_state(b.im.data, 0, s0);
    lc_classic_set_state(b.im.data, 1, s1);
    int32_t act[2] = {1, 1};
    backend_step(&b, 0, 2, act);
    ck_assert_int_eq(b.term[0], 1);
    ck_assert_float_eq(b.rewards[0], -1.0f);
    ck_assert_int_eq(b.term[1], 0);
    ck_assert_float_eq(b.rewards[1], 0.0f);
    backend_free(&b);
}
END_TEST

// lucid's sin and cos are the doubles nearest the true values (long double reference,
// allowing for its own 2^-63 error).
static int nearest(double v, long double ref) {
    long double e = fabsl((long double)v - ref), tol = fabsl(ref) * 0x1p-61L;
    long double up = nextafter(v, INFINITY), dn = nextafter(v, -INFINITY);
    return e <= fabsl(up - ref) + tol && e <= fabsl(dn - ref) + tol;
}

START_TEST(test_cartpole_sincos_correctly_rounded) {
    // The reference needs long double wider than double (x87), which valgrind does not give.
    volatile long double one = 1.0L, eps = LDBL_EPSILON;
    int wide = LDBL_MANT_DIG > DBL_MANT_DIG && one + eps != one;
    lc_rng r;
    lc_rng_seed(&r, 9, 0);
    for (int k = 0; k < 40000; k++) {
        double x;
        if (k < 30000) x = lc_rng_uniform(&r, -LC_CARTPOLE_SINCOS_MAX, LC_CARTPOLE_SINCOS_MAX);
        else x = (k & 1 ? 1 : -1) * LC_CARTPOLE_SINCOS_MAX * exp2(-60.0 * lc_rng_double(&r)); // small
        if (k == 0) x = 0.0;
        if (k == 1) x = LC_CARTPOLE_SINCOS_MAX;
        if (k == 2) x = -LC_CARTPOLE_SINCOS_MAX;
        double s, c;
        lc_cartpole_sincos(x, &s, &c);
        if (!wide) {
            ck_assert(fabs(s - sin(x)) <= 1e-15 * fabs(x) && fabs(c - cos(x)) <= 2e-16);
            continue;
        }
        ck_assert_msg(nearest(s, sinl(x)), "sin(%a) = %a", x, s);
        ck_assert_msg(nearest(c, cosl(x)), "cos(%a) = %a", x, c);
    }
    double s, c; // beyond the range: libm's
    lc_cartpole_sincos(2.5, &s, &c);
    ck_assert(s == sin(2.5) && c == cos(2.5));
    lc_cartpole_sincos(NAN, &s, &c);
    ck_assert(isnan(s) && isnan(c));
}
END_TEST

// ---------------------------------------------------------------- Pendulum-v1

START_TEST(test_pendulum_hand_step) {
    backend b;
    backend_make(&b, "Pendulum-v1", 1, NULL);
    double s0[3] = {0.5, -0.3, 0.0};
    lc_classic_set_state(b.im.data, 0, s0);
    float u = 1.5f;
    backend_step(&b, 0, 1, &u);
    // newthdot = thdot + (3 g / (2 l) sin th + 3 / (m l^2) u) dt, newth = th + newthdot dt
    double newthdot = -0.3 + (15.0 * sin(0.5) + 3.0 * 1.5) * 0.05; // -.3 + (7.1914 + 4.5) .05 = .28457
    double newth = 0.5 + newthdot * 0.05;
    double want[3] = {cos(newth), sin(newth), newthdot};
    check_obs(b.obs, want, 3);
    ck_assert_float_eq_tol(newthdot, 0.28457, 1e-4);
    double costs = 0.5 * 0.5 + 0.1 * 0.09 + 0.001 * 2.25; // .25 + .009 + .00225 (from the old state)
    ck_assert_float_eq_tol(b.rewards[0], -costs, 1e-6);
    ck_assert_int_eq(b.term[0], 0);
    // NumPy 2: 3.0 * u is a float32 product; the state matches that bit for bit
    float tu = 3.0f * 1.5f;
    double nt = -0.3 + (15.0 * sin(0.5) + (double)tu) * 0.05;
    double exact[2] = {0.5 + nt * 0.05, nt};
    check_state_exact(&b, 0, exact, 2); // th and thdot (last_u is 1.5)
    backend_free(&b);
}
END_TEST

START_TEST(test_pendulum_float32_torque) {
    // 3 * 0.1f is not a float: NumPy 2 rounds 3.0 * u to float32 before adding it in float64.
    backend b;
    backend_make(&b, "Pendulum-v1", 1, NULL);
    double s0[3] = {0.25, 0.5, 0.0};
    lc_classic_set_state(b.im.data, 0, s0);
    float u = 0.1f;
    backend_step(&b, 0, 1, &u);
    float tu = 3.0f * u;
    ck_assert((double)tu != 3.0 * (double)u);
    double nt = 0.5 + (15.0 * sin(0.25) + (double)tu) * 0.05;
    double exact[2] = {0.25 + nt * 0.05, nt};
    double s[3];
    lc_classic_get_state(b.im.data, 0, s);
    ck_assert(s[0] == exact[0] && s[1] == exact[1]);
    ck_assert(s[2] == (double)0.1f); // last_u
    backend_free(&b);
}
END_TEST

START_TEST(test_pendulum_clip_and_normalize) {
    backend b;
    backend_make(&b, "Pendulum-v1", 3, NULL);
    double st[3][3] = {{1.5, 7.9, 0}, {4.0, 0.0, 0}, {-4.0, 0.0, 0}};
    float u[3] = {2.0f, 5.0f, -7.0f}; // out of range torques are clipped to +-2
    for (int i = 0; i < 3; i++) lc_classic_set_state(b.im.data, i, st[i]);
    backend_step(&b, 0, 3, u);
    double s[3];
    lc_classic_get_state(b.im.data, 0, s);
    ck_assert(s[1] == 8.0);                       // clipped speed
    ck_assert(s[0] == 1.5 + 8.0 * 0.05);          // newth uses the clipped speed
    ck_assert(b.obs[2] == 8.0f);                  // obs theta_dot
    // angle_normalize(4) = 4 - 2 pi, angle_normalize(-4) = 2 pi - 4; u clipped to 2
    double an = 4.0 - 2 * M_PI, cost = an * an + 0.001 * 4.0;
    ck_assert_float_eq_tol(b.rewards[1], -cost, 1e-5);
    ck_assert_float_eq_tol(b.rewards[2], -cost, 1e-5);
    lc_classic_get_state(b.im.data, 1, s);
    ck_assert(s[2] == 2.0); // last_u clipped
    for (int i = 0; i < 3; i++) ck_assert_int_eq(b.term[i], 0); // Pendulum never terminates
    backend_free(&b);
}
END_TEST

START_TEST(test_pendulum_gravity_param) {
    backend b1, b2;
    backend_make(&b1, "Pendulum-v1", 1, NULL);
    backend_make(&b2, "Pendulum-v1", 1, "g=9.81");
    double s0[3] = {1.0, 0.0, 0};
    lc_classic_set_state(b1.im.data, 0, s0);
    lc_classic_set_state(b2.im.data, 0, s0);
    float u = 0.0f;
    backend_step(&b1, 0, 1, &u);
    backend_step(&b2, 0, 1, &u);
    ck_assert_float_eq_tol(b1.obs[2], 15.0 * sin(1.0) * 0.05, 1e-6);
    ck_assert_float_eq_tol(b2.obs[2], 3 * 9.81 / 2 * sin(1.0) * 0.05, 1e-6);
    backend_free(&b1);
    backend_free(&b2);
}
END_TEST

// ---------------------------------------------------------------- MountainCar

START_TEST(test_mountaincar_hand_step) {
    backend b;
    backend_make(&b, "MountainCar-v0", 3, NULL);
    double st[3][2] = {{-0.5, 0.01}, {-1.19, -0.05}, {-0.5, 0.0695}};
    int32_t act[3] = {2, 0, 2};
    for (int i = 0; i < 3; i++) lc_classic_set_state(b.im.data, i, st[i]);
    backend_step(&b, 0, 3, act);
    // velocity += (action - 1) * force + cos(3 position) * (-gravity); position += velocity
    double v = 0.01 + (1 * 0.001 + cos(3 * -0.5) * (-0.0025)), want0[2] = {-0.5 + v, v};
    check_state_exact(&b, 0, want0, 0); // v = .01 + .001 - .0025 cos(1.5) = .0108232
    ck_assert_float_eq_tol(v, 0.0108232, 1e-7);
    check_obs(b.obs, want0, 2);
    double want1[2] = {-1.2, 0.0}; // the left wall: position clipped, velocity zeroed
    check_state_exact(&b, 1, want1, 0);
    double s[2];
    lc_classic_get_state(b.im.data, 2, s);
    ck_assert(s[1] == 0.07); // velocity .0703 clipped to max_speed
    ck_assert(s[0] == -0.5 + 0.07);
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(b.rewards[i], -1.0f);
        ck_assert_int_eq(b.term[i], 0);
    }
    backend_free(&b);
}
END_TEST

START_TEST(test_mountaincar_termination) {
    backend b, g;
    backend_make(&b, "MountainCar-v0", 3, NULL);
    backend_make(&g, "MountainCar-v0", 1, "goal_velocity=0.05");
    double st[3][2] = {{0.49, 0.02}, {0.45, 0.02}, {0.55, -0.07}};
    int32_t act[3] = {2, 2, 0};
    for (int i = 0; i < 3; i++) lc_classic_set_state(b.im.data, i, st[i]);
    backend_step(&b, 0, 3, act);
    ck_assert_int_eq(b.term[0], 1); // position >= .5 and velocity >= 0
    ck_assert_float_eq(b.rewards[0], -1.0f);
    ck_assert_int_eq(b.term[1], 0); // short of the goal
    ck_assert_int_eq(b.term[2], 0); // past it but moving back (velocity < 0)
    lc_classic_set_state(g.im.data, 0, st[0]);
    backend_step(&g, 0, 1, act);
    ck_assert_int_eq(g.term[0], 0); // velocity .021 < goal_velocity .05
    backend_free(&b);
    backend_free(&g);
}
END_TEST

START_TEST(test_mountaincar_continuous_hand_step) {
    backend b;
    backend_make(&b, "MountainCarContinuous-v0", 2, NULL);
    double st[2][2] = {{-0.5, 0.0}, {0.44, 0.02}};
    float act[2] = {0.7f, 1.0f};
    for (int i = 0; i < 2; i++) lc_classic_set_state(b.im.data, i, st[i]);
    backend_step(&b, 0, 2, act);
    // First step after a reset: float64 state, float32 action (NumPy 2):
    // velocity += force * power - 0.0025 cos(3 position), the right side float32.
    float dv = 0.7f * 0.0015f - (float)(0.0025 * cos(3 * -0.5));
    double v = 0.0 + (double)dv, p = -0.5 + v;
    double want[2] = {(float)p, (float)v}; // stored as float32
    check_state_exact(&b, 0, want, 0);
    check_obs(b.obs, want, 2);
    ck_assert_float_eq_tol(v, 0.7 * 0.0015 - 0.0025 * cos(-1.5), 1e-9);
    ck_assert_float_eq_tol(b.rewards[0], -0.1 * 0.7 * 0.7, 1e-7); // -0.1 a^2
    ck_assert_int_eq(b.term[0], 0);
    // Reaching the goal (0.45): +100 - 0.1 a^2
    ck_assert_int_eq(b.term[1], 1);
    ck_assert_float_eq_tol(b.rewards[1], 99.9, 1e-5);
    // Second step: the state is float32, so is the arithmetic.
    float a2 = -0.3f;
    backend_step(&b, 0, 1, (float[]){a2, 0.0f});
    float pf = (float)want[0], vf = (float)want[1];
    float dv2 = a2 * 0.0015f - (float)(0.0025 * cos((double)(3.0f * pf)));
    float v2 = vf + dv2, p2 = pf + v2;
    double want2[2] = {p2, v2};
    check_state_exact(&b, 0, want2, 0);
    backend_free(&b);
}
END_TEST

START_TEST(test_mountaincar_continuous_walls) {
    backend b;
    backend_make(&b, "MountainCarContinuous-v0", 2, NULL);
    double st[2][2] = {{-1.19, -0.05}, {-0.5, 0.0695}};
    float act[2] = {-1.0f, 1.0f};
    for (int i = 0; i < 2; i++) lc_classic_set_state(b.im.data, i, st[i]);
    backend_step(&b, 0, 2, act);
    double want0[2] = {(float)-1.2, 0.0};
    check_state_exact(&b, 0, want0, 0);
    double s[2];
    lc_classic_get_state(b.im.data, 1, s);
    ck_assert(s[1] == (float)0.07);
    backend_free(&b);
}
END_TEST

// ---------------------------------------------------------------- Acrobot-v1

// Gymnasium's _dsdt (book) and rk4 over [0, 0.2], written out again.
static void acro_dsdt(const double *y, double *dy) {
    double a = y[4], t1 = y[0], t2 = y[1], dt1 = y[2], dt2 = y[3], g = 9.8;
    double d1 = 0.25 + (1.25 + cos(t2)) + 1.0 + 1.0;
    double d2 = (0.25 + 0.5 * cos(t2)) + 1.0;
    double phi2 = 4.9 * cos(t1 + t2 - M_PI / 2);
    double phi1 = -0.5 * dt2 * dt2 * sin(t2) - dt2 * dt1 * sin(t2) + 1.5 * g * cos(t1 - M_PI / 2) + phi2;
    double ddt2 = (a + d2 / d1 * phi1 - 0.5 * dt1 * dt1 * sin(t2) - phi2) / (1.25 - d2 * d2 / d1);
    double ddt1 = -(d2 * ddt2 + phi1) / d1;
    dy[0] = dt1;
    dy[1] = dt2;
    dy[2] = ddt1;
    dy[3] = ddt2;
    dy[4] = 0;
}

static void acro_ref(double *s, double torque) {
    double y0[5] = {s[0], s[1], s[2], s[3], torque}, k1[5], k2[5], k3[5], k4[5], y[5];
    acro_dsdt(y0, k1);
    for (int j = 0; j < 5; j++) y[j] = y0[j] + 0.1 * k1[j];
    acro_dsdt(y, k2);
    for (int j = 0; j < 5; j++) y[j] = y0[j] + 0.1 * k2[j];
    acro_dsdt(y, k3);
    for (int j = 0; j < 5; j++) y[j] = y0[j] + 0.2 * k3[j];
    acro_dsdt(y, k4);
    for (int j = 0; j < 4; j++) s[j] = y0[j] + 0.2 / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    for (int j = 0; j < 2; j++) {
        while (s[j] > M_PI) s[j] -= 2 * M_PI;
        while (s[j] < -M_PI) s[j] += 2 * M_PI;
    }
    s[2] = fmin(fmax(s[2], -4 * M_PI), 4 * M_PI);
    s[3] = fmin(fmax(s[3], -9 * M_PI), 9 * M_PI);
}

START_TEST(test_acrobot_hand_step) {
    backend b;
    backend_make(&b, "Acrobot-v1", 4, NULL);
    double st[4][4] = {
        {0.05, -0.08, 0.02, -0.1},  // near the bottom, torque +1
        {3.1, 0.0, 2.0, 0.0},       // theta1 wraps past pi
        {0.0, 0.0, 12.5, -28.2},    // velocities bounded at 4 pi, 9 pi
        {1.0, 0.5, -1.0, 3.0},
    };
    int32_t act[4] = {2, 1, 0, 0};
    double torque[3] = {-1.0, 0.0, 1.0};
    for (int i = 0; i < 4; i++) lc_classic_set_state(b.im.data, i, st[i]);
    backend_step(&b, 0, 4, act);
    for (int i = 0; i < 4; i++) {
        double s[4];
        memcpy(s, st[i], sizeof s);
        acro_ref(s, torque[act[i]]);
        double got[4];
        lc_classic_get_state(b.im.data, i, got);
        for (int k = 0; k < 4; k++) ck_assert_float_eq_tol(got[k], s[k], 1e-12);
        double want[6] = {cos(s[0]), sin(s[0]), cos(s[1]), sin(s[1]), s[2], s[3]};
        check_obs(b.obs + 6 * i, want, 6);
        int term = -cos(s[0]) - cos(s[1] + s[0]) > 1.0;
        ck_assert_int_eq(b.term[i], term);
        ck_assert_float_eq(b.rewards[i], term ? 0.0f : -1.0f);
    }
    double got[4];
    lc_classic_get_state(b.im.data, 1, got);
    ck_assert(got[0] < 0); // wrapped from above pi to near -pi
    lc_classic_get_state(b.im.data, 2, got);
    ck_assert(fabs(got[2]) <= 4 * M_PI && fabs(got[3]) <= 9 * M_PI);
    backend_free(&b);
}
END_TEST

START_TEST(test_acrobot_termination) {
    backend b;
    backend_make(&b, "Acrobot-v1", 2, NULL);
    double up[4] = {3.0, 0.0, 0.0, 0.0}, down[4] = {0.0, 0.0, 0.0, 0.0};
    lc_classic_set_state(b.im.data, 0, up);
    lc_classic_set_state(b.im.data, 1, down);
    int32_t act[2] = {1, 1};
    backend_step(&b, 0, 2, act);
    ck_assert_int_eq(b.term[0], 1); // -cos(t1) - cos(t2 + t1) > 1: the tip is above the bar
    ck_assert_float_eq(b.rewards[0], 0.0f);
    ck_assert_int_eq(b.term[1], 0);
    ck_assert_float_eq(b.rewards[1], -1.0f);
    backend_free(&b);
}
END_TEST

// ---------------------------------------------------------------- through lc_env

static lc_env *make_env(const char *name, int n, const char *params) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = n;
    o.params = params;
    lc_env *e = NULL;
    lc_error err = {0};
    ck_assert_msg(lc_env_make(&e, name, &o, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(lc_env_reset(e, 3, &err), LC_OK);
    return e;
}

START_TEST(test_spaces) {
    lc_env *e = make_env("CartPole-v1", 1, NULL);
    const lc_env_spec *sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->obs_size, 4);
    ck_assert_int_eq(sp->act_space.kind, LC_SPACE_DISCRETE);
    ck_assert_int_eq(sp->act_space.n, 2);
    ck_assert_int_eq(sp->max_episode_steps, 500);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 0), 4.8f);
    ck_assert(isinf(lc_space_high(&sp->obs_space, 1)) && isinf(lc_space_low(&sp->obs_space, 3)));
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 2), (float)(24 * M_PI / 180));
    ck_assert_float_eq(lc_space_low(&sp->obs_space, 2), -(float)(24 * M_PI / 180));
    ck_assert_int_eq(sp->render_w, 600);
    ck_assert_int_eq(sp->render_h, 400);
    lc_env_free(e);

    e = make_env("Pendulum-v1", 1, NULL);
    sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->obs_size, 3);
    ck_assert_int_eq(sp->act_space.kind, LC_SPACE_BOX);
    ck_assert_int_eq(sp->act_size, 1);
    ck_assert_float_eq(lc_space_low(&sp->act_space, 0), -2.0f);
    ck_assert_float_eq(lc_space_high(&sp->act_space, 0), 2.0f);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 0), 1.0f);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 2), 8.0f);
    ck_assert_float_eq(lc_space_low(&sp->obs_space, 2), -8.0f);
    ck_assert_int_eq(sp->max_episode_steps, 200);
    ck_assert_int_eq(sp->render_w, 500);
    lc_env_free(e);

    e = make_env("MountainCar-v0", 1, NULL);
    sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->obs_size, 2);
    ck_assert_int_eq(sp->act_space.n, 3);
    ck_assert_float_eq(lc_space_low(&sp->obs_space, 0), -1.2f);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 0), 0.6f);
    ck_assert_float_eq(lc_space_low(&sp->obs_space, 1), -0.07f);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 1), 0.07f);
    ck_assert_int_eq(sp->max_episode_steps, 200);
    lc_env_free(e);

    e = make_env("MountainCarContinuous-v0", 1, NULL);
    sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->act_space.kind, LC_SPACE_BOX);
    ck_assert_float_eq(lc_space_low(&sp->act_space, 0), -1.0f);
    ck_assert_float_eq(lc_space_high(&sp->act_space, 0), 1.0f);
    ck_assert_int_eq(sp->max_episode_steps, 999);
    lc_env_free(e);

    e = make_env("Acrobot-v1", 1, NULL);
    sp = lc_env_get_spec(e);
    ck_assert_int_eq(sp->obs_size, 6);
    ck_assert_int_eq(sp->act_space.n, 3);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 3), 1.0f);
    ck_assert_float_eq(lc_space_high(&sp->obs_space, 4), (float)(4 * M_PI));
    ck_assert_float_eq(lc_space_low(&sp->obs_space, 5), -(float)(9 * M_PI));
    ck_assert_int_eq(sp->max_episode_steps, 500);
    ck_assert_int_eq(sp->render_w, 500);
    lc_env_free(e);
}
END_TEST

// Steps envs with a fixed policy until step `limit`: nothing ends before it and every
// env is truncated (not terminated) on it.
typedef void (*policy_fn)(const float *obs, int i, void *act);

static void pol_balance(const float *o, int i, void *a) { // keeps CartPole up for 500 steps
    const float *q = o + 4 * i;
    ((int32_t *)a)[i] = q[2] + 0.5f * q[3] + 0.05f * q[0] + 0.15f * q[1] > 0;
}
static void pol_zero_f(const float *o, int i, void *a) {
    (void)o;
    ((float *)a)[i] = 0.0f;
}
static void pol_one_i(const float *o, int i, void *a) {
    (void)o;
    ((int32_t *)a)[i] = 1;
}

static void check_truncation(const char *name, int limit, policy_fn pol) {
    enum { N = 4 };
    lc_env *e = make_env(name, N, NULL);
    const lc_env_buf *b = lc_env_get_buf(e);
    ck_assert_int_eq(lc_env_get_spec(e)->max_episode_steps, limit);
    char act[N * 4];
    lc_error err = {0};
    for (int t = 1; t <= limit; t++) {
        for (int i = 0; i < N; i++) pol(b->obs, i, act);
        ck_assert_int_eq(lc_env_step(e, act, &err), LC_OK);
        for (int i = 0; i < N; i++) {
            ck_assert_msg(b->terminated[i] == 0, "%s: env %d terminated at step %d", name, i, t);
            ck_assert_msg(b->truncated[i] == (t == limit), "%s: env %d truncated %d at step %d", name, i,
                          b->truncated[i], t);
        }
    }
    for (int i = 0; i < N; i++) ck_assert_int_eq(b->ep_length[i], limit);
    lc_env_free(e);
}

START_TEST(test_time_limits) {
    check_truncation("CartPole-v1", 500, pol_balance);
    check_truncation("Pendulum-v1", 200, pol_zero_f);
    check_truncation("MountainCar-v0", 200, pol_one_i);
    check_truncation("MountainCarContinuous-v0", 999, pol_zero_f);
    check_truncation("Acrobot-v1", 500, pol_one_i);
}
END_TEST

START_TEST(test_reset_distributions) {
    enum { N = 512 };
    lc_env *e = make_env("CartPole-v1", N, NULL);
    const float *o = lc_env_get_buf(e)->obs;
    for (int k = 0; k < 4; k++) {
        float lo = 1, hi = -1;
        double mean = 0;
        for (int i = 0; i < N; i++) {
            float v = o[4 * i + k];
            ck_assert(v >= -0.05f && v <= 0.05f);
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
            mean += v / N;
        }
        ck_assert(lo < -0.045f && hi > 0.045f);
        ck_assert_float_eq_tol(mean, 0.0, 0.006);
    }
    lc_env_free(e);

    e = make_env("Pendulum-v1", N, NULL);
    o = lc_env_get_buf(e)->obs;
    int quadrant[4] = {0};
    for (int i = 0; i < N; i++) {
        ck_assert_float_eq_tol(o[3 * i] * o[3 * i] + o[3 * i + 1] * o[3 * i + 1], 1.0, 1e-5);
        ck_assert(o[3 * i + 2] >= -1.0f && o[3 * i + 2] <= 1.0f);
        quadrant[(o[3 * i] > 0) * 2 + (o[3 * i + 1] > 0)]++;
    }
    for (int q = 0; q < 4; q++) ck_assert_int_gt(quadrant[q], N / 8); // theta spans (-pi, pi)
    lc_env_free(e);

    const char *mc[2] = {"MountainCar-v0", "MountainCarContinuous-v0"};
    for (int m = 0; m < 2; m++) {
        e = make_env(mc[m], N, NULL);
        o = lc_env_get_buf(e)->obs;
        float lo = 0, hi = -1;
        for (int i = 0; i < N; i++) {
            ck_assert(o[2 * i] >= -0.6f && o[2 * i] <= -0.4f);
            ck_assert(o[2 * i + 1] == 0.0f);
            lo = fminf(lo, o[2 * i]);
            hi = fmaxf(hi, o[2 * i]);
        }
        ck_assert(lo < -0.59f && hi > -0.41f);
        lc_env_free(e);
    }

    e = make_env("Acrobot-v1", N, NULL);
    o = lc_env_get_buf(e)->obs;
    for (int i = 0; i < N; i++) {
        const float *q = o + 6 * i;
        ck_assert(fabsf(atan2f(q[1], q[0])) <= 0.1001f && fabsf(atan2f(q[3], q[2])) <= 0.1001f);
        ck_assert(fabsf(q[4]) <= 0.1f && fabsf(q[5]) <= 0.1f);
    }
    lc_env_free(e);
}
END_TEST

// Random actions for many steps: every observation stays inside its space.
START_TEST(test_observation_bounds) {
    const char *names[] = {"CartPole-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0",
                           "Acrobot-v1"};
    enum { N = 16, T = 1500 };
    lc_rng r;
    lc_rng_seed(&r, 21, 0);
    for (int k = 0; k < 5; k++) {
        lc_env *e = make_env(names[k], N, NULL);
        const lc_env_spec *sp = lc_env_get_spec(e);
        const lc_env_buf *b = lc_env_get_buf(e);
        char act[N * 4];
        lc_error err = {0};
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < N; i++) {
                if (sp->act_space.kind == LC_SPACE_DISCRETE)
                    ((int32_t *)act)[i] = (int32_t)lc_rng_below(&r, (uint32_t)sp->act_space.n);
                else
                    ((float *)act)[i] = (float)lc_rng_uniform(&r, lc_space_low(&sp->act_space, 0),
                                                              lc_space_high(&sp->act_space, 0));
            }
            ck_assert_int_eq(lc_env_step(e, act, &err), LC_OK);
            const float *rows[2] = {b->obs, b->final_obs};
            for (int w = 0; w < 2; w++)
                for (int i = 0; i < N; i++) {
                    if (w == 1 && !b->done[i]) continue;
                    for (int j = 0; j < sp->obs_size; j++) {
                        float v = rows[w][i * sp->obs_size + j];
                        ck_assert_msg(v >= lc_space_low(&sp->obs_space, j) && v <= lc_space_high(&sp->obs_space, j),
                                      "%s: obs[%d] = %g out of its space", names[k], j, (double)v);
                    }
                }
        }
        lc_env_free(e);
    }
}
END_TEST

START_TEST(test_params_rejected) {
    lc_env_opts o = lc_env_opts_default();
    lc_env *e = NULL;
    lc_error err = {0};
    o.params = "gravity=3";
    ck_assert_int_eq(lc_env_make(&e, "Pendulum-v1", &o, &err), LC_ERR_ARG);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err.msg, "gravity"));
    o.params = "g=abc";
    ck_assert_int_eq(lc_env_make(&e, "Pendulum-v1", &o, &err), LC_ERR_ARG);
    o.params = "g";
    ck_assert_int_eq(lc_env_make(&e, "Pendulum-v1", &o, &err), LC_ERR_ARG);
    o.params = "anything=1";
    ck_assert_int_eq(lc_env_make(&e, "Acrobot-v1", &o, &err), LC_ERR_ARG);
    o.params = "g=9.81,";
    ck_assert_int_eq(lc_env_make(&e, "Pendulum-v1", &o, &err), LC_OK);
    lc_env_free(e);
    double v[2] = {1, 2};
    const char *keys[2] = {"a", "bb"};
    ck_assert_int_eq(lc_classic_params("X", "bb=-0.5,,a=3e2", keys, v, 2, &err), LC_OK);
    ck_assert(v[0] == 300.0 && v[1] == -0.5);
    ck_assert_int_eq(lc_classic_params("X", "a=inf", keys, v, 2, &err), LC_ERR_ARG);
}
END_TEST

START_TEST(test_registered) {
    const char *names[] = {"CartPole-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0",
                           "Acrobot-v1"};
    for (int k = 0; k < 5; k++) {
        lc_env_ctor c;
        ck_assert_msg(lc_env_lookup(names[k], &c, NULL) == LC_OK, "%s", names[k]);
    }
}
END_TEST

// ---------------------------------------------------------------- rendering

// Pixels of colour rgb in the frame, and their mean column and row.
static int color_stats(const uint8_t *f, int w, int h, uint32_t rgb, double *mx, double *my) {
    int n = 0;
    double sx = 0, sy = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = f + ((size_t)y * w + x) * 3;
            if (p[0] == (rgb >> 16 & 255) && p[1] == (rgb >> 8 & 255) && p[2] == (rgb & 255)) {
                n++;
                sx += x;
                sy += y;
            }
        }
    if (mx) *mx = n ? sx / n : -1;
    if (my) *my = n ? sy / n : -1;
    return n;
}

static int non_white(const uint8_t *f, int w, int h) {
    int n = 0;
    for (size_t k = 0; k < (size_t)w * h; k++) n += f[3 * k] != 255 || f[3 * k + 1] != 255 || f[3 * k + 2] != 255;
    return n;
}

// Renders env 0 of a backend in state s at w x h.
static uint8_t *render_state(backend *b, const double *s, int w, int h) {
    lc_classic_set_state(b->im.data, 0, s);
    uint8_t *f = malloc((size_t)w * h * 3);
    memset(f, 7, (size_t)w * h * 3);
    ck_assert_int_eq(b->im.render(b->im.data, 0, f, w, h), 0);
    return f;
}

START_TEST(test_render_follows_state) {
    backend b;
    double mx1, mx2, my1, my2;
    backend_make(&b, "CartPole-v1", 1, NULL);
    uint8_t *f1 = render_state(&b, (double[]){-1.5, 0, 0, 0}, 600, 400);
    uint8_t *f2 = render_state(&b, (double[]){1.5, 0, 0.2, 0}, 600, 400);
    ck_assert_int_gt(color_stats(f1, 600, 400, 0xca9865, &mx1, &my1), 500); // the pole
    ck_assert_int_gt(color_stats(f2, 600, 400, 0xca9865, &mx2, &my2), 500);
    ck_assert_float_eq_tol(mx2 - mx1, 3.0 * 125, 30); // 125 pixels per unit of x
    ck_assert(my1 < 300);                             // the pole stands up from the cart
    ck_assert_int_gt(color_stats(f1, 600, 400, 0x000000, NULL, NULL), 50 * 30);
    free(f1);
    free(f2);
    backend_free(&b);

    backend_make(&b, "Pendulum-v1", 1, NULL);
    f1 = render_state(&b, (double[]){0, 0, 0}, 500, 500); // upright
    f2 = render_state(&b, (double[]){M_PI, 0, 0}, 500, 500);
    ck_assert_int_gt(color_stats(f1, 500, 500, 0xcc4d4d, &mx1, &my1), 1000);
    color_stats(f2, 500, 500, 0xcc4d4d, &mx2, &my2);
    ck_assert(my1 < 250 && my2 > 250);
    free(f1);
    free(f2);
    backend_free(&b);

    backend_make(&b, "MountainCar-v0", 1, NULL);
    f1 = render_state(&b, (double[]){-1.0, 0}, 600, 400);
    f2 = render_state(&b, (double[]){0.3, 0}, 600, 400);
    ck_assert_int_gt(color_stats(f1, 600, 400, 0x808080, &mx1, NULL), 50); // wheels
    color_stats(f2, 600, 400, 0x808080, &mx2, NULL);
    ck_assert_float_eq_tol(mx2 - mx1, 1.3 * 600 / 1.8, 30);
    ck_assert_int_gt(color_stats(f1, 600, 400, 0xcccc00, NULL, NULL), 50); // the flag
    free(f1);
    free(f2);
    backend_free(&b);

    backend_make(&b, "Acrobot-v1", 1, NULL);
    f1 = render_state(&b, (double[]){0, 0, 0, 0}, 500, 500); // hanging down
    f2 = render_state(&b, (double[]){M_PI, 0, 0, 0}, 500, 500);
    ck_assert_int_gt(color_stats(f1, 500, 500, 0x00cccc, &mx1, &my1), 1000);
    color_stats(f2, 500, 500, 0x00cccc, &mx2, &my2);
    ck_assert(my1 > 250 && my2 < 250);
    ck_assert_int_gt(color_stats(f1, 500, 500, 0xcccc00, NULL, NULL), 100); // joints
    free(f1);
    free(f2);
    backend_free(&b);
}
END_TEST

START_TEST(test_render_sizes) {
    const char *names[] = {"CartPole-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0",
                           "Acrobot-v1"};
    int sizes[3][2] = {{0, 0}, {64, 48}, {17, 123}};
    for (int k = 0; k < 5; k++)
        for (int z = 0; z < 3; z++) {
            lc_env_opts o = lc_env_opts_default();
            o.num_envs = 2;
            o.render_w = sizes[z][0];
            o.render_h = sizes[z][1];
            lc_env *e = NULL;
            lc_error err = {0};
            ck_assert_int_eq(lc_env_make(&e, names[k], &o, &err), LC_OK);
            ck_assert_int_eq(lc_env_reset(e, 1, &err), LC_OK);
            const lc_env_spec *sp = lc_env_get_spec(e);
            int w = sp->render_w, h = sp->render_h;
            uint8_t *f = malloc((size_t)w * h * 3);
            ck_assert_int_eq(lc_env_render(e, 1, f, &err), LC_OK);
            int nw = non_white(f, w, h);
            ck_assert_msg(nw > w * h / 200 && nw < w * h, "%s at %dx%d: %d drawn pixels", names[k], w, h, nw);
            free(f);
            lc_env_free(e);
        }
}
END_TEST

// ---------------------------------------------------------------- suite

// ---------------------------------------------------------------- Gymnasium's seeding

// The state gymnasium 1.x draws in env.reset(seed=0), then in the reset() after it (the
// generator continued), printed by Gymnasium 1.4 with numpy 1.24 (float.hex of env.unwrapped.state).
typedef struct seeded_case {
    const char *name;
    int n; // state elements drawn
    double first[4], second[4];
} seeded_case;

static const seeded_case SEEDED[] = {
    {"CartPole-v1", 4,
     {0x1.c0cbca647ced0p-7, -0x1.792e736320f47p-6, -0x1.7808d4489d6d2p-5, -0x1.8c0f80ec8f29dp-5},
     {0x1.00a187e6f5faap-5, 0x1.52211e5214006p-5, 0x1.5d6c9279a57c0p-7, 0x1.7801d59969aa4p-6}},
    {"Pendulum-v1", 2, {0x1.b89ac06c69d18p-1, -0x1.d77a103be9318p-2}, {-0x1.712bc66ce71ddp+1, -0x1.ef136127b2f44p-1}},
    {"MountainCar-v0", 2, {-0x1.e3f34359b8314p-2, 0}, {-0x1.1792e736320f4p-1, 0}},
    {"MountainCarContinuous-v0", 2, {-0x1.e3f34359b8314p-2, 0}, {-0x1.1792e736320f4p-1, 0}},
    {"Acrobot-v1", 4, {0x1.c0cbca0000000p-6, -0x1.792e740000000p-5, -0x1.7808d40000000p-4, -0x1.8c0f800000000p-4},
     {0x1.00a1880000000p-4, 0x1.52211e0000000p-4, 0x1.5d6c920000000p-6, 0x1.7801d60000000p-5}},
};
#define N_SEEDED (int)(sizeof SEEDED / sizeof *SEEDED)

// reset(seed=0) draws Gymnasium's start state bit for bit; a reset without a seed continues.
START_TEST(test_gymnasium_seeded_reset_state) {
    const seeded_case *c = &SEEDED[_i];
    backend b;
    backend_make(&b, c->name, 2, NULL);
    ck_assert_ptr_nonnull(b.im.seed);
    for (int i = 0; i < 2; i++) b.im.seed(b.im.data, i, 0);
    b.im.reset(b.im.data, 0, &b.rngs[0], b.obs);
    check_state_exact(&b, 0, c->first, c->n);
    b.im.reset(b.im.data, 0, &b.rngs[0], b.obs);
    check_state_exact(&b, 0, c->second, c->n);
    // env 1 of a vector seeded with 0 is env 0 seeded with 1 (seed + i)
    backend one;
    backend_make(&one, c->name, 1, NULL);
    one.im.seed(one.im.data, 0, 1);
    one.im.reset(one.im.data, 0, &one.rngs[0], one.obs);
    b.im.reset(b.im.data, 1, &b.rngs[1], b.obs + b.obs_size);
    double s1[LC_CLASSIC_MAX_STATE];
    lc_classic_get_state(one.im.data, 0, s1);
    check_state_exact(&b, 1, s1, c->n);
    backend_free(&one);
    backend_free(&b);
}
END_TEST

static void check_rows_equal(const lc_env *a, int ia, const lc_env *b, int ib) {
    int n = lc_env_get_spec(a)->obs_size;
    const float *oa = (const float *)lc_env_get_buf(a)->obs + (size_t)ia * n;
    const float *ob = (const float *)lc_env_get_buf(b)->obs + (size_t)ib * n;
    for (int k = 0; k < n; k++) ck_assert_msg(oa[k] == ob[k], "obs[%d]: %.9g vs %.9g", k, oa[k], ob[k]);
}

// Through lc_env: env i of a vector reset with seed s is a single env reset with s + i;
// reset_mask and autoreset continue each env's own generator.
START_TEST(test_gymnasium_vector_seeding) {
    const seeded_case *c = &SEEDED[_i];
    enum { N = 3 };
    lc_error err = {0};
    lc_env *v = make_env(c->name, N, NULL), *one[N];
    ck_assert_int_eq(lc_env_reset(v, 5, &err), LC_OK);
    for (int i = 0; i < N; i++) {
        one[i] = make_env(c->name, 1, NULL);
        ck_assert_int_eq(lc_env_reset(one[i], 5 + (uint64_t)i, &err), LC_OK);
        check_rows_equal(v, i, one[i], 0);
    }
    uint8_t mask[N] = {0, 1, 0}, all = 1;
    ck_assert_int_eq(lc_env_reset_mask(v, mask, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset_mask(one[1], &all, &err), LC_OK);
    check_rows_equal(v, 1, one[1], 0);
    check_rows_equal(v, 0, one[0], 0); // unmasked rows stay
    // Autoreset: step env 0 to its first episode end; its next start is the generator's next draw.
    const lc_space *as = &lc_env_get_spec(v)->act_space;
    int32_t ai[N] = {0};
    float af[N] = {0};
    const void *act = as->kind == LC_SPACE_DISCRETE ? (const void *)ai : (const void *)af;
    const lc_env_buf *B = lc_env_get_buf(v);
    while (!B->done[0]) ck_assert_int_eq(lc_env_step(v, act, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset_mask(one[0], &all, &err), LC_OK);
    check_rows_equal(v, 0, one[0], 0);
    lc_env_free(v);
    for (int i = 0; i < N; i++) lc_env_free(one[i]);
}
END_TEST

// Whole seeded episodes as Gymnasium 1.4 with NumPy 2.4 plays them (Pendulum's float32
// torque arithmetic follows NumPy 2): reset(seed=123), then action (t * 7 + t // 3) % n
// (discrete) or [sin(0.3 t) * 0.9 * high] as float32 (continuous, inside the box: lucid clips
// actions, while Gymnasium's MountainCarContinuous charges 0.1 a^2 on the unclipped a).
typedef struct episode_case {
    const char *name;
    int length, terminated;
    double ret;
    float last_obs[6];
} episode_case;

static const episode_case EPISODES[] = {
    {"CartPole-v1", 17, 1, 17.0, {-0.17644453048706055f, -1.028687596321106f, 0.23190203309059143f, 1.6569534540176392f}},
    {"Pendulum-v1", 200, 0, -1113.4166408509964, {-0.9326469302177429f, -0.3607904016971588f, -4.684993743896484f}},
    {"MountainCar-v0", 200, 0, -200.0, {-0.52134108543396f, 0.004099248442798853f}},
    {"MountainCarContinuous-v0", 999, 0, -40.383744335950915, {-0.5724382400512695f, 0.006158782634884119f}},
    {"Acrobot-v1", 500, 0, -500.0,
     {0.9978889226913452f, -0.06494339555501938f, 0.9917550683021545f, 0.12814776599407196f, -0.39021775126457214f,
      0.6659602522850037f}},
};

START_TEST(test_gymnasium_seeded_episodes) {
    const episode_case *c = &EPISODES[_i];
    lc_error err = {0};
    lc_env *e = make_env(c->name, 1, NULL);
    ck_assert_int_eq(lc_env_reset(e, 123, &err), LC_OK);
    const lc_env_spec *sp = lc_env_get_spec(e);
    const lc_env_buf *B = lc_env_get_buf(e);
    int t = 0;
    while (!B->done[0]) {
        int32_t ai = sp->act_space.kind == LC_SPACE_DISCRETE ? (t * 7 + t / 3) % sp->act_space.n : 0;
        float af = (float)(sin(0.3 * t) * 0.9 * sp->act_space.high[0]);
        ck_assert_int_eq(lc_env_step(e, sp->act_space.kind == LC_SPACE_DISCRETE ? (void *)&ai : (void *)&af, &err),
                         LC_OK);
        t++;
    }
    ck_assert_int_eq(t, c->length);
    ck_assert_int_eq(B->ep_length[0], c->length);
    ck_assert_int_eq(B->terminated[0], c->terminated);
    ck_assert_int_eq(B->truncated[0], !c->terminated);
    ck_assert_float_eq_tol(B->ep_return[0], c->ret, 1e-3);
    const float *fo = B->final_obs;
    for (int k = 0; k < sp->obs_size; k++) ck_assert_float_eq_tol(fo[k], c->last_obs[k], 1e-6);
    lc_env_free(e);
}
END_TEST

// NEXT_STEP autoreset (Gymnasium's default) is N single envs driven by hand: an env that
// ended keeps its last observation; the next step resets it (reward 0, flags 0) and skips
// its action, while the others step. With frame_stack 2 the stack restarts on the reset.
START_TEST(test_next_step_autoreset) {
    enum { N = 5, T = 700 };
    const char *name = _i ? "Acrobot-v1" : "CartPole-v1";
    lc_error err = {0};
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.autoreset = LC_AUTORESET_NEXT_STEP;
    o.frame_stack = 2;
    o.max_episode_steps = 60;
    lc_env *v = NULL, *one[N];
    ck_assert_msg(lc_env_make(&v, name, &o, &err) == LC_OK, "%s", err.msg);
    o.num_envs = 1;
    o.autoreset = LC_AUTORESET_DISABLED;
    for (int i = 0; i < N; i++) ck_assert_int_eq(lc_env_make(&one[i], name, &o, &err), LC_OK);
    ck_assert_int_eq(lc_env_reset(v, 9, &err), LC_OK);
    for (int i = 0; i < N; i++) ck_assert_int_eq(lc_env_reset(one[i], 9 + (uint64_t)i, &err), LC_OK);
    const lc_env_buf *B = lc_env_get_buf(v);
    int O = lc_env_get_spec(v)->obs_size, n_act = lc_env_get_spec(v)->act_space.n, ends = 0;
    uint8_t ended[N] = {0}, all = 1;
    lc_rng r;
    lc_rng_seed(&r, 4, 0);
    for (int t = 0; t < T; t++) {
        int32_t a[N];
        for (int i = 0; i < N; i++) a[i] = (int32_t)lc_rng_below(&r, (uint32_t)n_act);
        ck_assert_int_eq(lc_env_step(v, a, &err), LC_OK);
        for (int i = 0; i < N; i++) {
            const lc_env_buf *b = lc_env_get_buf(one[i]);
            if (ended[i]) {
                ck_assert_int_eq(lc_env_reset_mask(one[i], &all, &err), LC_OK);
                ended[i] = 0;
            } else {
                ck_assert_int_eq(lc_env_step(one[i], &a[i], &err), LC_OK);
                ended[i] = b->done[0];
                ends += b->done[0];
            }
            ck_assert_msg(memcmp((const float *)B->obs + (size_t)i * O, b->obs, O * sizeof(float)) == 0,
                          "t %d env %d", t, i);
            ck_assert(B->rewards[i] == b->rewards[0]);
            ck_assert_int_eq(B->terminated[i], b->terminated[0]);
            ck_assert_int_eq(B->truncated[i], b->truncated[0]);
            if (B->done[i]) {
                ck_assert(B->ep_return[i] == b->ep_return[0]);
                ck_assert_int_eq(B->ep_length[i], b->ep_length[0]);
                ck_assert(memcmp((const float *)B->final_obs + (size_t)i * O, b->final_obs, O * sizeof(float)) == 0);
            }
        }
    }
    ck_assert_int_gt(ends, 2 * N);
    lc_env_free(v);
    for (int i = 0; i < N; i++) lc_env_free(one[i]);
    // NEXT_STEP with action_repeat is refused
    o.autoreset = LC_AUTORESET_NEXT_STEP;
    o.action_repeat = 2;
    ck_assert_int_eq(lc_env_make(&v, name, &o, &err), LC_ERR_UNSUPPORTED);
}
END_TEST

static Suite *classic_suite(void) {
    Suite *s = suite_create("classic");
    TCase *tc = tcase_create("cartpole");
    tcase_add_test(tc, test_cartpole_hand_step);
    tcase_add_test(tc, test_cartpole_simd_exact);
    tcase_add_test(tc, test_cartpole_termination);
    tcase_add_test(tc, test_cartpole_sutton_barto_reward);
    tcase_add_test(tc, test_cartpole_sincos_correctly_rounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("pendulum");
    tcase_add_test(tc, test_pendulum_hand_step);
    tcase_add_test(tc, test_pendulum_float32_torque);
    tcase_add_test(tc, test_pendulum_clip_and_normalize);
    tcase_add_test(tc, test_pendulum_gravity_param);
    suite_add_tcase(s, tc);

    tc = tcase_create("mountaincar");
    tcase_add_test(tc, test_mountaincar_hand_step);
    tcase_add_test(tc, test_mountaincar_termination);
    tcase_add_test(tc, test_mountaincar_continuous_hand_step);
    tcase_add_test(tc, test_mountaincar_continuous_walls);
    suite_add_tcase(s, tc);

    tc = tcase_create("acrobot");
    tcase_add_test(tc, test_acrobot_hand_step);
    tcase_add_test(tc, test_acrobot_termination);
    suite_add_tcase(s, tc);

    tc = tcase_create("vector");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_registered);
    tcase_add_test(tc, test_spaces);
    tcase_add_test(tc, test_time_limits);
    tcase_add_test(tc, test_reset_distributions);
    tcase_add_test(tc, test_observation_bounds);
    tcase_add_test(tc, test_params_rejected);
    suite_add_tcase(s, tc);

    tc = tcase_create("gymnasium_seeding");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_gymnasium_seeded_reset_state, 0, N_SEEDED);
    tcase_add_loop_test(tc, test_gymnasium_vector_seeding, 0, N_SEEDED);
    tcase_add_loop_test(tc, test_gymnasium_seeded_episodes, 0, (int)(sizeof EPISODES / sizeof *EPISODES));
    tcase_add_loop_test(tc, test_next_step_autoreset, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("render");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_render_follows_state);
    tcase_add_test(tc, test_render_sizes);
    suite_add_tcase(s, tc);

    // The env contract on the names and params test_env does not cover.
    suite_add_tcase(s, lc_contract_tcase("MountainCarContinuous-v0", NULL));
    suite_add_tcase(s, lc_contract_tcase("CartPole-v1", "sutton_barto_reward=1"));
    suite_add_tcase(s, lc_contract_tcase("Pendulum-v1", "g=9.81"));
    return s;
}

int main(void) {
    lc_init();
    SRunner *sr = srunner_create(classic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
