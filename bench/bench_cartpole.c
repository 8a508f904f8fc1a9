// bench/bench_cartpole.c: CartPole-v1 steps per second, lucid's SIMD step beside a naive
// scalar loop of the same dynamics (array of structs, libm sin/cos) measured in the same
// run; the backend alone and through the lc_env vector layer. Leaves out: other envs.
//
// Letters: N = num_envs. Every variant resets ended envs in the same step (the naive
// loop and the bare backend in their own loop), so all of them step live episodes with
// |theta| < 12 degrees. Actions are random, drawn before timing. Each figure is the
// median rate over REPS blocks of >= BLOCK_S seconds, with the slowest and fastest
// block in brackets (bench/bench_util.h); the variants alternate block by block so
// that all see the same load of the shared machine.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "env/classic.h"
#include "env/env.h"

#define REPS 7        // timed blocks per figure
#define BLOCK_S 0.05  // seconds per block (at least; whole vector steps)
#define NBATCH 16     // pre-drawn action batches, cycled

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

// ---------------------------------------------------------------- the variants

enum { NAIVE, BACKEND, VEC1, VEC2, NVAR };

// One variant's state between its timed blocks.
typedef struct variant {
    int kind, N, t;
    const int32_t *acts;       // (NBATCH, N)
    naive_env *s;              // NAIVE: (N)
    lc_rng *rngs;              // NAIVE, BACKEND: (N)
    float *obs, *rew;          // NAIVE, BACKEND: (N, 4), (N)
    uint8_t *term;             // BACKEND: (N)
    lc_env_impl im;            // BACKEND: lucid's backend alone
    lc_env *e;                 // VEC1, VEC2: through lc_env
    int threads_used;
} variant;

static int variant_init(variant *v, int kind, int N, const int32_t *acts) {
    memset(v, 0, sizeof *v);
    v->kind = kind, v->N = N, v->acts = acts;
    lc_error err = {0};
    if (kind == VEC1 || kind == VEC2) {
        lc_env_opts o = lc_env_opts_default();
        o.num_envs = N;
        o.num_threads = kind == VEC1 ? 1 : 2;
        if (lc_env_make(&v->e, "CartPole-v1", &o, &err) || lc_env_reset(v->e, 1, &err)) {
            fprintf(stderr, "bench_cartpole: %s\n", err.msg);
            return -1;
        }
        v->threads_used = lc_env_num_threads(v->e);
        return 0;
    }
    v->rngs = malloc(sizeof *v->rngs * N);
    v->obs = malloc(sizeof *v->obs * 4 * N), v->rew = malloc(sizeof *v->rew * N);
    v->term = malloc(N);
    if (kind == NAIVE) v->s = malloc(sizeof *v->s * N);
    if (kind == BACKEND && lc_cartpole_make(&v->im, "CartPole-v1", N, NULL, &err)) {
        fprintf(stderr, "bench_cartpole: %s\n", err.msg);
        return -1;
    }
    for (int i = 0; i < N; i++) {
        lc_rng_seed(&v->rngs[i], 1, (uint64_t)i);
        if (kind == NAIVE) naive_reset(&v->s[i], &v->rngs[i]);
        else v->im.reset(v->im.data, i, &v->rngs[i], v->obs + 4 * i);
    }
    return 0;
}

static void variant_free(variant *v) {
    if (v->im.destroy) v->im.destroy(v->im.data);
    lc_env_free(v->e);
    free(v->s), free(v->rngs), free(v->obs), free(v->rew), free(v->term);
}

// One vector step of every env (ended envs reset in the same step); 0 or -1.
static int variant_step(variant *v) {
    const int32_t *a = v->acts + (size_t)(v->t++ % NBATCH) * v->N;
    int N = v->N;
    if (v->kind == NAIVE) {
        for (int i = 0; i < N; i++)
            if (naive_step(&v->s[i], a[i], v->obs + 4 * i, v->rew + i)) naive_reset(&v->s[i], &v->rngs[i]);
    } else if (v->kind == BACKEND) {
        v->im.step(v->im.data, 0, N, a, v->obs, v->rew, v->term, NULL, v->rngs);
        for (int i = 0; i < N; i++)
            if (v->term[i]) v->im.reset(v->im.data, i, &v->rngs[i], v->obs + 4 * i);
    } else {
        lc_error err = {0};
        if (lc_env_step(v->e, a, &err)) {
            fprintf(stderr, "bench_cartpole: %s\n", err.msg);
            return -1;
        }
    }
    return 0;
}

// Env steps per second of one block of >= BLOCK_S seconds; -1 on failure.
static double variant_block(variant *v) {
    long steps = 0;
    double t0 = bench_now(), t;
    do {
        for (int k = 0; k < 8; k++, steps += v->N)
            if (variant_step(v)) return -1;
        t = bench_now() - t0;
    } while (t < BLOCK_S);
    return steps / t;
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
    printf("CartPole-v1 steps per second (one core unless noted): median [min-max] over %d blocks "
           "of >= %.0f ms,\nthe variants alternating block by block (a shared machine: the spread "
           "is its noise)\n", REPS, BLOCK_S * 1e3);
    printf("%6s %22s %22s %8s %22s %22s\n", "N", "naive scalar", "lucid backend", "speedup",
           "lc_env 1 thr", "lc_env 2 thr");
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        int N = sizes[k];
        int32_t *acts = malloc(sizeof *acts * N * NBATCH);
        lc_rng rng;
        lc_rng_seed(&rng, 3, 0);
        for (int j = 0; j < N * NBATCH; j++) acts[j] = (int32_t)lc_rng_below(&rng, 2);
        variant v[NVAR];
        double rate[NVAR][REPS];
        for (int j = 0; j < NVAR; j++)
            if (variant_init(&v[j], j, N, acts)) return 1;
        for (int rep = 0; rep < REPS; rep++)
            for (int j = 0; j < NVAR; j++)
                if ((rate[j][rep] = variant_block(&v[j])) < 0) return 1;
        bench_stat st[NVAR];
        char f[NVAR][48];
        for (int j = 0; j < NVAR; j++) {
            st[j] = bench_stat_of(rate[j], REPS);
            bench_fmt(f[j], sizeof f[j], st[j], 1e-6, 1);
        }
        printf("%6d %21sM %21sM %7.2fx %21sM %21sM%s\n", N, f[NAIVE], f[BACKEND],
               st[BACKEND].med / st[NAIVE].med, f[VEC1], f[VEC2],
               v[VEC2].threads_used == 2 ? "" : " (1 thread)");
        for (int j = 0; j < NVAR; j++) variant_free(&v[j]);
        if (N == 1024)
            printf("       bit-different next states, naive (libm sin/cos) vs lucid: %.4f%% of %d steps\n",
                   100 * bit_mismatch(N, acts, 200), N * 200);
        free(acts);
    }
    return 0;
}
