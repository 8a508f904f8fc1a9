// env/cartpole.c: CartPole-v1 exactly as Gymnasium 1.x (Euler integrator, float64 state,
// float32 observations, +1 on every step including the terminating one), stepped W envs
// at a time in SIMD. Leaves out: the semi-implicit integrator, reset bounds options.
//
// Letters: N = num_envs, W = SIMD lanes (8 doubles: one AVX-512 register).
// The state is structure-of-arrays in double. Every lane does Gymnasium's operations in
// Gymnasium's order (no FMA contraction: -std=c11 keeps -ffp-contract=off), so a lane's
// result is what the scalar Python code computes in IEEE double, given the same sin
// and cos. Ours are correctly rounded (vsincos below); numpy's np.sin/np.cos are not:
// they are glibc's (within 0.55 ulp, wrongly rounded for 0.3% of CartPole's angles) or,
// on AVX-512 machines, SVML loops (within 4 ulp, not the nearest double for most), so
// Gymnasium itself differs by an ulp from machine to machine.
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env/classic.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
// Every vector function here is static: the ABI note for 64-byte vectors on targets
// without AVX-512 does not concern it.
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define W 8
typedef double vd __attribute__((vector_size(W * 8)));
typedef int64_t vl __attribute__((vector_size(W * 8)));
typedef int32_t vi __attribute__((vector_size(W * 4)));
typedef float vf __attribute__((vector_size(W * 4)));
typedef uint8_t vb __attribute__((vector_size(W)));

// Gymnasium's constants, combined in its order.
#define GRAVITY 9.8
#define MASSCART 1.0
#define MASSPOLE 0.1
#define TOTAL_MASS (MASSPOLE + MASSCART)
#define LENGTH 0.5 // half the pole's length
#define POLEMASS_LENGTH (MASSPOLE * LENGTH)
#define FORCE_MAG 10.0
#define TAU 0.02
#define THETA_THRESHOLD (12 * 2 * M_PI / 360)
#define X_THRESHOLD 2.4
#define RESET_BOUND 0.05
#define MAX_STEPS 500
#define RENDER_W 600
#define RENDER_H 400

typedef struct cartpole {
    lc_classic_head head;
    int sutton_barto;                     // reward 0 per step, -1 on termination
    double *x, *x_dot, *theta, *theta_dot; // (N) each, in one allocation
} cartpole;

// ---------------------------------------------------------------- vector helpers

static inline vd splat(double v) { return (vd){v, v, v, v, v, v, v, v}; }

static inline vd vfma(vd a, vd b, vd c) { // a * b + c, rounded once
#if defined(__AVX512F__)
    return _mm512_fmadd_pd(a, b, c);
#else
    vd r;
    for (int k = 0; k < W; k++) r[k] = fma(a[k], b[k], c[k]);
    return r;
#endif
}

static inline vd vabs(vd a) { return (vd)((vl)a & ((vl){0} + INT64_MAX)); }

static inline int vany(vl m) {
    int64_t r = 0;
    for (int k = 0; k < W; k++) r |= m[k];
    return r != 0;
}

static inline vd vload(const double *p) {
    vd v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vstore(double *p, vd v) { memcpy(p, &v, sizeof v); }

// ---------------------------------------------------------------- sin and cos

// Taylor coefficients: sin x = x (1 + A1 z + A2 z^2 + ... + A7 z^7), cos x = 1 + B1 z +
// ... + B8 z^8, z = x^2. A1, A2, B2 and B3 are double-double (H + L); B1 = -1/2 is exact.
#define A1H -0x1.5555555555555p-3
#define A1L -0x1.5555555555555p-57
#define A2H 0x1.1111111111111p-7
#define A2L 0x1.1111111111111p-63
#define A3 -0x1.a01a01a01a01ap-13
#define A4 0x1.71de3a556c734p-19
#define A5 -0x1.ae64567f544e4p-26
#define A6 0x1.6124613a86d09p-33
#define A7 -0x1.ae7f3e733b81fp-41
#define B2H 0x1.5555555555555p-5
#define B2L 0x1.5555555555555p-59
#define B3H -0x1.6c16c16c16c17p-10
#define B3L 0x1.f49f49f49f49fp-65
#define B4 0x1.a01a01a01a01ap-16
#define B5 -0x1.27e4fb7789f5cp-22
#define B6 0x1.1eed8eff8d898p-29
#define B7 -0x1.93974a8c07c9dp-37
#define B8 0x1.ae7f3e733b81fp-45

// One double-double Horner step: (th + tl) = c (+ cl) + (zh + zl) * (ph + pl), where
// |c| > |z p|, so the sum is a Fast2Sum.
static inline __attribute__((always_inline)) void dd_step(vd *th, vd *tl, double c, double cl, vd zh, vd zl, vd ph,
                                                           vd pl) {
    vd qh = zh * ph;
    vd ql = vfma(zh, ph, -qh) + (zh * pl + zl * ph);
    vd c_ = splat(c);
    *th = c_ + qh;
    *tl = ((c_ - *th) + qh) + (ql + splat(cl));
}

// sin and cos of |x| <= LC_CARTPOLE_SINCOS_MAX, correctly rounded: the last Horner steps
// (two for sin, three for cos) and the final sums are double-double, the rest of the
// series plain double; errors stay near 2^-77 relative, truncation below 2^-80. Checked
// against quad-precision sinq/cosq on 10^8 arguments: no wrongly rounded result (glibc's
// sin: 0.3%, cos: 0.02%).
static inline __attribute__((always_inline)) void vsincos(vd x, vd *s, vd *c) {
    vd zh = x * x;
    vd zl = vfma(x, x, -zh); // x^2 = zh + zl exactly
    vd zero = splat(0.0), th, tl, eh, el;

    vd r = vfma(zh, vfma(zh, vfma(zh, vfma(zh, splat(A7), splat(A6)), splat(A5)), splat(A4)), splat(A3));
    dd_step(&th, &tl, A2H, A2L, zh, zero, r, zero);
    dd_step(&th, &tl, A1H, A1L, zh, zl, th, tl);
    eh = zh * th; // E = z T1, then x + x E
    el = vfma(zh, th, -eh) + (zh * tl + zl * th);
    vd ph = x * eh;
    vd pl = vfma(x, eh, -ph) + x * el;
    vd sum = x + ph;
    *s = sum + (((x - sum) + ph) + pl);

    r = vfma(zh, vfma(zh, vfma(zh, vfma(zh, splat(B8), splat(B7)), splat(B6)), splat(B5)), splat(B4));
    dd_step(&th, &tl, B3H, B3L, zh, zero, r, zero);
    dd_step(&th, &tl, B2H, B2L, zh, zl, th, tl);
    dd_step(&th, &tl, -0.5, 0.0, zh, zl, th, tl);
    eh = zh * th; // C = z T1, then 1 + C
    el = vfma(zh, th, -eh) + (zh * tl + zl * th);
    sum = 1.0 + eh;
    *c = sum + (((1.0 - sum) + eh) + el);
}

// sin and cos of x, lanes out of the polynomial's range (or not finite) from libm.
static inline __attribute__((always_inline)) void vsincos_any(vd x, vd *s, vd *c) {
    vsincos(x, s, c);
    vl big = ~(vabs(x) <= splat(LC_CARTPOLE_SINCOS_MAX));
    if (vany(big))
        for (int k = 0; k < W; k++)
            if (big[k]) {
                (*s)[k] = sin(x[k]);
                (*c)[k] = cos(x[k]);
            }
}

void lc_cartpole_sincos(double x, double *s, double *c) {
    vd vs, vc;
    vsincos_any(splat(x), &vs, &vc);
    *s = vs[0];
    *c = vc[0];
}

// ---------------------------------------------------------------- step

#define CHUNK 256 // envs per pass: their sin and cos stay in L1

// sin and cos of theta for envs [0, n) of the pointers (n a multiple of W).
static void sincos_pass(const double *theta, double *sn, double *cs, int n) {
    vl big = {0};
    for (int i = 0; i < n; i += W) {
        vd th = vload(theta + i), s, c;
        vsincos(th, &s, &c);
        big |= ~(vabs(th) <= splat(LC_CARTPOLE_SINCOS_MAX));
        vstore(sn + i, s);
        vstore(cs + i, c);
    }
    if (vany(big)) // rare: out of the polynomial's range or not finite
        for (int i = 0; i < n; i++)
            if (!(fabs(theta[i]) <= LC_CARTPOLE_SINCOS_MAX)) {
                sn[i] = sin(theta[i]);
                cs[i] = cos(theta[i]);
            }
}

// Steps W envs whose rows start at the given pointers: state (in place), its sin and cos,
// actions, obs (W, 4), rewards, terminated.
static inline __attribute__((always_inline)) void step_block(double *px, double *pxd, double *pth, double *pthd,
                                                             const double *psin, const double *pcos,
                                                             const int32_t *pa, float *po, float *pr, uint8_t *pt,
                                                             int sutton_barto) {
    vd x = vload(px), x_dot = vload(pxd), theta = vload(pth), theta_dot = vload(pthd);
    vd sintheta = vload(psin), costheta = vload(pcos);
    vi a;
    memcpy(&a, pa, sizeof a);
    // force_mag if action == 1 else -force_mag (actions are 0 or 1: validated by env.c)
    vd force = __builtin_convertvector(a + a - 1, vd) * FORCE_MAG;

    vd temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
    vd thetaacc = (GRAVITY * sintheta - costheta * temp) /
                  (LENGTH * (4.0 / 3.0 - MASSPOLE * (costheta * costheta) / TOTAL_MASS));
    vd xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;

    x = x + TAU * x_dot; // euler
    x_dot = x_dot + TAU * xacc;
    theta = theta + TAU * theta_dot;
    theta_dot = theta_dot + TAU * thetaacc;
    vstore(px, x);
    vstore(pxd, x_dot);
    vstore(pth, theta);
    vstore(pthd, theta_dot);

    vl term = (x < -X_THRESHOLD) | (x > X_THRESHOLD) | (theta < -THETA_THRESHOLD) | (theta > THETA_THRESHOLD);
    vb t8 = __builtin_convertvector(term & 1, vb);
    memcpy(pt, &t8, sizeof t8);
    vf rew = sutton_barto ? __builtin_convertvector(term, vf) : (vf){0} + 1.0f; // -1 or 0 : +1
    memcpy(pr, &rew, sizeof rew);

    vf fx = __builtin_convertvector(x, vf), fxd = __builtin_convertvector(x_dot, vf);
    vf fth = __builtin_convertvector(theta, vf), fthd = __builtin_convertvector(theta_dot, vf);
#if defined(__has_builtin) && __has_builtin(__builtin_shufflevector)
    typedef float vf2 __attribute__((vector_size(2 * W * 4)));
    vf2 a01 = __builtin_shufflevector(fx, fxd, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    vf2 a23 = __builtin_shufflevector(fth, fthd, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    vf2 lo = __builtin_shufflevector(a01, a23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    vf2 hi = __builtin_shufflevector(a01, a23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    memcpy(po, &lo, sizeof lo);
    memcpy(po + 2 * W, &hi, sizeof hi);
#else
    for (int k = 0; k < W; k++) {
        po[4 * k] = fx[k];
        po[4 * k + 1] = fxd[k];
        po[4 * k + 2] = fth[k];
        po[4 * k + 3] = fthd[k];
    }
#endif
}

static void cartpole_step(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                          uint8_t *terminated, float *info, lc_rng *rngs) {
    (void)info;
    (void)rngs;
    cartpole *d = data;
    const int32_t *a = actions;
    float *o = obs;
    int sb = d->sutton_barto;
    double sn[CHUNK], cs[CHUNK];
    int i = i0;
    while (i1 - i >= W) { // whole blocks, a chunk at a time
        int n = (i1 - i) / W * W;
        if (n > CHUNK) n = CHUNK;
        sincos_pass(d->theta + i, sn, cs, n);
        for (int k = 0; k < n; k += W, i += W)
            step_block(d->x + i, d->x_dot + i, d->theta + i, d->theta_dot + i, sn + k, cs + k, a + i,
                       o + (size_t)4 * i, rewards + i, terminated + i, sb);
    }
    if (i == i1) return;
    // The last n < W envs go through lane buffers, so nothing outside [i0, i1) is touched.
    int n = i1 - i;
    double x[W] = {0}, xd[W] = {0}, th[W] = {0}, thd[W] = {0};
    int32_t ab[W] = {0};
    float ob[4 * W], rb[W];
    uint8_t tb[W];
    memcpy(x, d->x + i, n * sizeof *x);
    memcpy(xd, d->x_dot + i, n * sizeof *xd);
    memcpy(th, d->theta + i, n * sizeof *th);
    memcpy(thd, d->theta_dot + i, n * sizeof *thd);
    memcpy(ab, a + i, n * sizeof *ab);
    sincos_pass(th, sn, cs, W);
    step_block(x, xd, th, thd, sn, cs, ab, ob, rb, tb, sb);
    memcpy(d->x + i, x, n * sizeof *x);
    memcpy(d->x_dot + i, xd, n * sizeof *xd);
    memcpy(d->theta + i, th, n * sizeof *th);
    memcpy(d->theta_dot + i, thd, n * sizeof *thd);
    memcpy(o + (size_t)4 * i, ob, (size_t)4 * n * sizeof *ob);
    memcpy(rewards + i, rb, n * sizeof *rb);
    memcpy(terminated + i, tb, n * sizeof *tb);
}

// ---------------------------------------------------------------- reset, state

static void cartpole_observe(const void *data, int i, float *o) {
    const cartpole *d = data;
    o[0] = (float)d->x[i];
    o[1] = (float)d->x_dot[i];
    o[2] = (float)d->theta[i];
    o[3] = (float)d->theta_dot[i];
}

static void cartpole_reset(void *data, int i, lc_rng *rng, void *obs_row) {
    (void)rng;
    cartpole *d = data;
    lc_pcg64 *g = &d->head.np_random[i]; // np_random.uniform(-.05, .05, size=(4,)), float64
    d->x[i] = lc_pcg64_uniform(g, -RESET_BOUND, RESET_BOUND);
    d->x_dot[i] = lc_pcg64_uniform(g, -RESET_BOUND, RESET_BOUND);
    d->theta[i] = lc_pcg64_uniform(g, -RESET_BOUND, RESET_BOUND);
    d->theta_dot[i] = lc_pcg64_uniform(g, -RESET_BOUND, RESET_BOUND);
    cartpole_observe(d, i, obs_row);
}

static void cartpole_get_state(const void *data, int i, double *s) {
    const cartpole *d = data;
    s[0] = d->x[i];
    s[1] = d->x_dot[i];
    s[2] = d->theta[i];
    s[3] = d->theta_dot[i];
}

static void cartpole_set_state(void *data, int i, const double *s) {
    cartpole *d = data;
    d->x[i] = s[0];
    d->x_dot[i] = s[1];
    d->theta[i] = s[2];
    d->theta_dot[i] = s[3];
}

static void cartpole_destroy(void *data) {
    cartpole *d = data;
    if (!d) return;
    free(d->x);
    lc_classic_head_free(&d->head);
    free(d);
}

int lc_cartpole_make(lc_env_impl *impl, const char *name, int num_envs, const lc_env_opts *opts, lc_error *err) {
    assert(num_envs >= 1);
    static const char *const keys[] = {"sutton_barto_reward"};
    double vals[1] = {0.0};
    int rc = lc_classic_params(name, opts ? opts->params : NULL, keys, vals, 1, err);
    if (rc) return rc;
    cartpole *d = calloc(1, sizeof *d);
    if (!d) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    if ((rc = lc_classic_head_init(&d->head, LC_CLASSIC_CARTPOLE, num_envs, 4, cartpole_get_state,
                                   cartpole_set_state, cartpole_observe, name, err))) {
        free(d);
        return rc;
    }
    size_t np = ((size_t)num_envs + W - 1) / W * W; // padded to whole blocks
    double *state = aligned_alloc(64, 4 * np * sizeof(double));
    if (!state) {
        cartpole_destroy(d);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for %d envs", name, num_envs);
    }
    memset(state, 0, 4 * np * sizeof(double));
    d->sutton_barto = vals[0] != 0.0;
    d->x = state;
    d->x_dot = state + np;
    d->theta = state + 2 * np;
    d->theta_dot = state + 3 * np;

    memset(impl, 0, sizeof *impl);
    // Box(-high, high): high = [x_threshold * 2, inf, theta_threshold_radians * 2, inf] as float32
    float high[4] = {(float)(X_THRESHOLD * 2), INFINITY, (float)(THETA_THRESHOLD * 2), INFINITY};
    float low[4] = {-high[0], -high[1], -high[2], -high[3]};
    impl->obs_space = lc_space_box(LC_F32, 1, (int[]){4}, low, high);
    impl->act_space = lc_space_discrete(2);
    impl->max_episode_steps = MAX_STEPS;
    impl->can_split = 1;
    impl->render_w = RENDER_W;
    impl->render_h = RENDER_H;
    impl->data = d;
    impl->reset = cartpole_reset;
    impl->seed = lc_classic_seed;
    impl->step = cartpole_step;
    impl->render = lc_cartpole_render;
    impl->destroy = cartpole_destroy;
    return LC_OK;
}
