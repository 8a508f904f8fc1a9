// bench/bench_cartpole.c: CartPole-v1 steps per second, lucid's SIMD step beside a naive
// scalar loop of the same dynamics (array of structs, libm sin/cos) measured in the same
// run; the backend alone and through the lc_env vector layer. Leaves out: other envs.
//
// Letters: N = num_envs. Every variant resets ended envs in the same step (the naive
// loop and the bare backend in their own loop), so all of them step live episodes with
// |theta| < 12 degrees. Actions are random, drawn before timing. Each figure is the rate
// of the fastest window of WINDOW vector steps within BUDGET_S seconds.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "env/classic.h"
#include "env/env.h"

#define BUDGET_S 0.3 // timed seconds per figure, in windows of WINDOW vector steps
#define WINDOW 16     // a figure is the rate of the fastest window: on a shared machine
                      // that filters out the time the scheduler gave to other processes
#define NBATCH 16     // pre-drawn action batches, cycled

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// ---------------------------------------------------------------- the naive loop

typedef struct naive_env {
    double x, x_dot, theta, theta_dot;
} naive_env;

static void naive_reset(naive_env *s, lc_rng *rng) {
    s->x = lc_rng_uniform(rng, -0.05, 0.05);
    s->x_dot = lc_rng_uniform(rng, -0.05, 0.05);
    s->theta = lc_rng_uniform(rng, -0.05, 0.05);
    s->theta_dot = lc_rng_uniform(rng, -0.05, 0.05);
}

// Gymnasium's step, one env at a time, with libm's sin and cos.
static int naive_step(naive_env *s, int action, float *obs, float *reward) {
    const double gravity = 9.8, masscart = 1.0, masspole = 0.1, total_mass = masspole + masscart, length = 0.5,
                 polemass_length = masspole * length, force_mag = 10.0, tau = 0.02,
                 theta_threshold = 12 * 2 * M_PI / 360, x_threshold = 2.4;
    double force = action == 1 ? force_mag : -force_mag;
    double costheta = cos(s->theta), sintheta = sin(s->theta);
    double temp = (force + polemass_length * (s->theta_dot * s->theta_dot) * sintheta) / total_mass;
    double thetaacc = (gravity * sintheta - costheta * temp) /
                      (length * (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass));
    double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
    s->x = s->x + tau * s->x_dot;
    s->x_dot = s->x_dot + tau * xacc;
    s->theta = s->theta + tau * s->theta_dot;
    s->theta_dot = s->theta_dot + tau * thetaacc;
    obs[0] = (float)s->x;
    obs[1] = (float)s->x_dot;
    obs[2] = (float)s->theta;
    obs[3] = (float)s->theta_dot;
    *reward = 1.0f;
    return s->x < -x_threshold || s->x > x_threshold || s->theta < -theta_threshold || s->theta > theta_threshold;
}

static double bench_naive(int N, const int32_t *acts) {
    naive_env *s = malloc(sizeof *s * N);
    lc_rng *rngs = malloc(sizeof *rngs * N);
    float *obs = malloc(sizeof *obs * 4 * N), *rew = malloc(sizeof *rew * N);
    for (int i = 0; i < N; i++) {
        lc_rng_seed(&rngs[i], 1, (uint64_t)i);
        naive_reset(&s[i], &rngs[i]);
    }
    double best = 0, start = now_s();
    for (int t = 0; now_s() - start < BUDGET_S;) {
        long steps = 0;
        double t0 = now_s(), t1;
        for (int k = 0; k < WINDOW; k++, t++) {
            const int32_t *a = acts + (size_t)(t % NBATCH) * N;
            for (int i = 0; i < N; i++)
                if (naive_step(&s[i], a[i], obs + 4 * i, rew + i)) naive_reset(&s[i], &rngs[i]);
            steps += N;
        }
        t1 = now_s();
        if (steps / (t1 - t0) > best) best = steps / (t1 - t0);
    }
    volatile float sink = obs[0] + rew[0];
    (void)sink;
    free(s);
    free(rngs);
    free(obs);
    free(rew);
    return best;
}

// ---------------------------------------------------------------- lucid's backend alone

static double bench_backend(int N, const int32_t *acts) {
    lc_env_impl im;
    lc_error err = {0};
    if (lc_cartpole_make(&im, "CartPole-v1", N, NULL, &err)) {
        fprintf(stderr, "bench_cartpole: %s\n", err.msg);
        return -1;
    }
    lc_rng *rngs = malloc(sizeof *rngs * N);
    float *obs = malloc(sizeof *obs * 4 * N), *rew = malloc(sizeof *rew * N);
    uint8_t *term = malloc(N);
    for (int i = 0; i < N; i++) {
        lc_rng_seed(&rngs[i], 1, (uint64_t)i);
        im.reset(im.data, i, &rngs[i], obs + 4 * i);
    }
    double best = 0, start = now_s();
    for (int t = 0; now_s() - start < BUDGET_S;) {
        long steps = 0;
        double t0 = now_s(), t1;
        for (int k = 0; k < WINDOW; k++, t++) {
            im.step(im.data, 0, N, acts + (size_t)(t % NBATCH) * N, obs, rew, term, NULL, rngs);
            for (int i = 0; i < N; i++)
                if (term[i]) im.reset(im.data, i, &rngs[i], obs + 4 * i);
            steps += N;
        }
        t1 = now_s();
        if (steps / (t1 - t0) > best) best = steps / (t1 - t0);
    }
    im.destroy(im.data);
    free(rngs);
    free(obs);
    free(rew);
    free(term);
    return best;
}

// ---------------------------------------------------------------- through lc_env

static double bench_vector(int N, int threads, const int32_t *acts, int *used) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.num_threads = threads;
    lc_env *e = NULL;
    lc_error err = {0};
    if (lc_env_make(&e, "CartPole-v1", &o, &err) || lc_env_reset(e, 1, &err)) {
        fprintf(stderr, "bench_cartpole: %s\n", err.msg);
        lc_env_free(e);
        return -1;
    }
    *used = lc_env_num_threads(e);
    double best = 0, start = now_s();
    for (int t = 0; now_s() - start < BUDGET_S;) {
        long steps = 0;
        double t0 = now_s(), t1;
        for (int k = 0; k < WINDOW; k++, t++) {
            if (lc_env_step(e, acts + (size_t)(t % NBATCH) * N, &err)) {
                fprintf(stderr, "bench_cartpole: %s\n", err.msg);
                lc_env_free(e);
                return -1;
            }
            steps += N;
        }
        t1 = now_s();
        if (steps / (t1 - t0) > best) best = steps / (t1 - t0);
    }
    lc_env_free(e);
    return best;
}

// ---------------------------------------------------------------- exactness

// From the same states, the fraction of single steps whose next state differs in any bit
// between the naive loop (libm sin/cos) and lucid (correctly rounded sin/cos).
static double bit_mismatch(int N, const int32_t *acts, int T) {
    lc_env_impl im;
    lc_error err = {0};
    if (lc_cartpole_make(&im, "CartPole-v1", N, NULL, &err)) return -1;
    naive_env *s = malloc(sizeof *s * N);
    lc_rng *rngs = malloc(sizeof *rngs * N);
    float *obs = malloc(sizeof *obs * 4 * N), *rew = malloc(sizeof *rew * N), nobs[4], nrew;
    uint8_t *term = malloc(N);
    long diff = 0, total = 0;
    for (int i = 0; i < N; i++) {
        lc_rng_seed(&rngs[i], 7, (uint64_t)i);
        im.reset(im.data, i, &rngs[i], obs + 4 * i);
    }
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < N; i++) {
            double st[4];
            lc_classic_get_state(im.data, i, st);
            s[i] = (naive_env){st[0], st[1], st[2], st[3]};
        }
        im.step(im.data, 0, N, acts + (size_t)(t % NBATCH) * N, obs, rew, term, NULL, rngs);
        for (int i = 0; i < N; i++) {
            naive_step(&s[i], acts[(size_t)(t % NBATCH) * N + i], nobs, &nrew);
            double st[4];
            lc_classic_get_state(im.data, i, st);
            diff += memcmp(st, &s[i], sizeof st) != 0;
            total++;
            if (term[i]) im.reset(im.data, i, &rngs[i], obs + 4 * i);
        }
    }
    im.destroy(im.data);
    free(s);
    free(rngs);
    free(obs);
    free(rew);
    free(term);
    return (double)diff / total;
}

int main(void) {
    static const int sizes[] = {64, 1024, 4096};
    printf("CartPole-v1 steps per second (one core unless noted; a shared machine: figures are noisy)\n");
    printf("%6s %14s %14s %8s %14s %14s\n", "N", "naive scalar", "lucid backend", "speedup", "lc_env 1 thr",
           "lc_env 2 thr");
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        int N = sizes[k];
        int32_t *acts = malloc(sizeof *acts * N * NBATCH);
        lc_rng rng;
        lc_rng_seed(&rng, 3, 0);
        for (int j = 0; j < N * NBATCH; j++) acts[j] = (int32_t)lc_rng_below(&rng, 2);
        int used1 = 0, used2 = 0;
        double naive = bench_naive(N, acts), backend = bench_backend(N, acts);
        double vec1 = bench_vector(N, 1, acts, &used1), vec2 = bench_vector(N, 2, acts, &used2);
        printf("%6d %13.1fM %13.1fM %7.2fx %13.1fM %13.1fM%s\n", N, naive / 1e6, backend / 1e6, backend / naive,
               vec1 / 1e6, vec2 / 1e6, used2 == 2 ? "" : " (1 thread)");
        if (N == 1024)
            printf("       bit-different next states, naive (libm sin/cos) vs lucid: %.4f%% of %d steps\n",
                   100 * bit_mismatch(N, acts, 200), N * 200);
        free(acts);
    }
    return 0;
}
