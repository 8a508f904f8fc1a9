// bench/bench_env.c: env steps per second for every registered env at num_envs 1, 64
// and 1024 with 1 and 2 threads, beside a naive scalar CartPole loop (double, an array
// of structs, simple autoreset) measured in the same run. Leaves out: dream: envs.
//
// Letters: N = num_envs. Actions are random valid ones, drawn before timing.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "env/env.h"
#include "loops/init.h"

#define REPS 5         // timed blocks per figure: the median [min-max] is printed
#define BLOCK_S 0.05   // seconds per block (at least)
#define NBATCH 16      // pre-drawn action batches, cycled

static clockid_t bench_clock = CLOCK_MONOTONIC; // the MinAtar rows count CPU time (shared cores)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill_actions(const lc_env_spec *sp, lc_rng *rng, void *act) {
    const lc_space *s = &sp->act_space;
    for (int i = 0; i < sp->num_envs; i++)
        for (int j = 0; j < sp->act_size; j++) {
            size_t k = (size_t)i * sp->act_size + j;
            if (s->kind == LC_SPACE_DISCRETE) ((int32_t *)act)[k] = (int32_t)lc_rng_below(rng, (uint32_t)s->n);
            else if (s->kind == LC_SPACE_MULTI_DISCRETE) ((int32_t *)act)[k] = (int32_t)lc_rng_below(rng, (uint32_t)s->nvec[j]);
            else ((float *)act)[k] = (float)lc_rng_uniform(rng, lc_space_low(s, j), lc_space_high(s, j));
        }
}

// Env steps per second (N per vector step) over REPS blocks; med < 0 on failure.
static bench_stat bench_env(const char *name, int N, int threads, int *used_threads) {
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.num_threads = threads;
    lc_env *e = NULL;
    lc_error err = {0};
    if (lc_env_make(&e, name, &o, &err)) {
        fprintf(stderr, "bench_env: %s: %s\n", name, err.msg);
        return (bench_stat){-1, -1, -1, 0};
    }
    const lc_env_spec *sp = lc_env_get_spec(e);
    size_t row = (size_t)N * sp->act_size * 4;
    char *acts = malloc(row * NBATCH);
    lc_rng rng;
    lc_rng_seed(&rng, 1, 2);
    for (int k = 0; k < NBATCH; k++) fill_actions(sp, &rng, acts + row * k);
    bench_stat rate = {-1, -1, -1, 0};
    double rates[REPS];
    if (lc_env_reset(e, 1, &err)) goto out;
    for (int t = 0; t < 3; t++)
        if (lc_env_step(e, acts + row * (t % NBATCH), &err)) goto out;
    long steps = 0;
    int chunk = N >= 1024 ? 4 : N >= 64 ? 64 : 1024;
    for (int rep = 0; rep < REPS; rep++) {
        long s0 = steps;
        double t0 = now_s(), t1 = t0;
        while (t1 - t0 < BLOCK_S) {
            for (int k = 0; k < chunk; k++, steps++)
                if (lc_env_step(e, acts + row * (steps % NBATCH), &err)) goto out;
            t1 = now_s();
        }
        rates[rep] = (double)(steps - s0) * N / (t1 - t0);
    }
    rate = bench_stat_of(rates, REPS);
    *used_threads = lc_env_threads_in_use(e);
out:
    if (rate.med < 0) fprintf(stderr, "bench_env: %s: %s\n", name, err.msg);
    free(acts);
    lc_env_free(e);
    return rate;
}

// ---------------------------------------------------------------- the reference
// Gymnasium's CartPole-v1 (euler) written the plain way: doubles, one struct per env.

typedef struct cp {
    double x, x_dot, theta, theta_dot;
    int steps;
} cp;

static uint64_t xs_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double xs_uniform(uint64_t *s, double lo, double hi) {
    return lo + (hi - lo) * (double)(xs_next(s) >> 11) * 0x1.0p-53;
}

static void cp_reset(cp *c, uint64_t *s) {
    c->x = xs_uniform(s, -0.05, 0.05);
    c->x_dot = xs_uniform(s, -0.05, 0.05);
    c->theta = xs_uniform(s, -0.05, 0.05);
    c->theta_dot = xs_uniform(s, -0.05, 0.05);
    c->steps = 0;
}

static bench_stat bench_reference(int N) {
    const double gravity = 9.8, masscart = 1.0, masspole = 0.1, total_mass = masspole + masscart;
    const double length = 0.5, polemass_length = masspole * length, force_mag = 10.0, tau = 0.02;
    const double theta_threshold = 12 * 2 * M_PI / 360, x_threshold = 2.4;
    cp *envs = malloc((size_t)N * sizeof *envs);
    float *obs = malloc((size_t)N * 4 * sizeof(float)), *rew = malloc((size_t)N * sizeof(float));
    uint8_t *term = malloc((size_t)N), *trunc = malloc((size_t)N);
    int32_t *acts = malloc((size_t)N * NBATCH * sizeof(int32_t));
    uint64_t s = 88172645463325252ULL;
    for (int i = 0; i < N * NBATCH; i++) acts[i] = (int32_t)(xs_next(&s) >> 63);
    for (int i = 0; i < N; i++) cp_reset(&envs[i], &s);
    long steps = 0;
    double rates[REPS];
    int chunk = N >= 1024 ? 4 : N >= 64 ? 64 : 1024;
    for (int rep = 0; rep < REPS; rep++) {
        long s0 = steps;
        double t0 = now_s(), t1 = t0;
        while (t1 - t0 < BLOCK_S) {
            for (int k = 0; k < chunk; k++, steps++) {
                const int32_t *a = acts + (size_t)(steps % NBATCH) * N;
                for (int i = 0; i < N; i++) {
                    cp *c = &envs[i];
                    double force = a[i] == 1 ? force_mag : -force_mag;
                    double ct = cos(c->theta), st = sin(c->theta);
                    double temp = (force + polemass_length * c->theta_dot * c->theta_dot * st) / total_mass;
                    double thetaacc =
                        (gravity * st - ct * temp) / (length * (4.0 / 3.0 - masspole * ct * ct / total_mass));
                    double xacc = temp - polemass_length * thetaacc * ct / total_mass;
                    c->x += tau * c->x_dot;
                    c->x_dot += tau * xacc;
                    c->theta += tau * c->theta_dot;
                    c->theta_dot += tau * thetaacc;
                    c->steps++;
                    term[i] = c->x < -x_threshold || c->x > x_threshold || c->theta < -theta_threshold ||
                              c->theta > theta_threshold;
                    trunc[i] = !term[i] && c->steps >= 500;
                    rew[i] = 1.0f;
                    if (term[i] || trunc[i]) cp_reset(c, &s);
                    float *o = obs + (size_t)i * 4;
                    o[0] = (float)c->x;
                    o[1] = (float)c->x_dot;
                    o[2] = (float)c->theta;
                    o[3] = (float)c->theta_dot;
                }
            }
            t1 = now_s();
        }
        rates[rep] = (double)(steps - s0) * N / (t1 - t0);
    }
    volatile float sink = obs[0] + rew[0] + term[0] + trunc[0];
    (void)sink;
    free(envs);
    free(obs);
    free(rew);
    free(term);
    free(trunc);
    free(acts);
    return bench_stat_of(rates, REPS);
}

// "1.23M [1.10-1.30]" (median [min-max]) or "failed".
static void fmt_rate(char *buf, size_t n, bench_stat r) {
    if (r.med < 0) snprintf(buf, n, "failed");
    else if (r.med >= 1e6) snprintf(buf, n, "%.2f [%.2f-%.2f]M", r.med / 1e6, r.min / 1e6, r.max / 1e6);
    else snprintf(buf, n, "%.1f [%.1f-%.1f]k", r.med / 1e3, r.min / 1e3, r.max / 1e3);
}

// ---------------------------------------------------------------- MinAtar
// The five games beside the reference, minatar 1.0.15's Gymnasium env stepped in Python
// (BUILD/venv, made by `make test`) with random actions, autoreset, in the same run.

#define MZ_REPEATS 5

static const char *MZ_PY =
    "import sys, time, numpy as np\n"
    "from minatar.gym import BaseEnv\n"
    "env = BaseEnv(sys.argv[1]); env.reset(seed=1)\n"
    "acts = np.random.RandomState(2).randint(6, size=4096)\n"
    "for rep in range(%d):\n"
    "    n, t0 = 0, time.process_time()\n"
    "    while time.process_time() - t0 < %g:\n"
    "        for k in range(256):\n"
    "            if env.step(acts[(n + k) %% 4096])[2]: env.reset()\n"
    "        n += 256\n"
    "    print(n / (time.process_time() - t0))\n";

// The reference's steps per second (MZ_REPEATS figures), 0 when it cannot run.
static int mz_reference(const char *python, const char *game, double *rates) {
    char script[1024], cmd[4096];
    snprintf(script, sizeof script, MZ_PY, MZ_REPEATS, 0.5);
    snprintf(cmd, sizeof cmd, "%s -W ignore -c '%s' %s 2>/dev/null", python, script, game);
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    int k = 0;
    while (k < MZ_REPEATS && fscanf(p, "%lf", &rates[k]) == 1) k++;
    return pclose(p) == 0 && k == MZ_REPEATS;
}

static void bench_minatar(const char *python) {
    static const char *const games[5][2] = {{"Asterix", "asterix"}, {"Breakout", "breakout"}, {"Freeway", "freeway"},
                                            {"Seaquest", "seaquest"}, {"SpaceInvaders", "space_invaders"}};
    bench_clock = CLOCK_PROCESS_CPUTIME_ID;
    printf("\nMinAtar, 1 thread, steps per CPU second (both sides: the cores are shared): median [min-max] of "
           "%d blocks; reference: minatar 1.0.15 (Python, BaseEnv.step + reset), %s\n", MZ_REPEATS, python);
    printf("%-26s %8s %30s %30s %10s\n", "env", "num_envs", "lucid", "reference", "ratio");
    for (int g = 0; g < 5; g++) {
        char name[64];
        snprintf(name, sizeof name, "MinAtar/%s-v0", games[g][0]);
        double ref[MZ_REPEATS];
        int have_ref = mz_reference(python, games[g][1], ref);
        bench_stat rs = have_ref ? bench_stat_of(ref, MZ_REPEATS) : (bench_stat){-1, -1, -1, 0};
        for (int N = 1; N <= 64; N *= 64) {
            int used = 1;
            bench_stat s = bench_env(name, N, 1, &used);
            char a[64], b[64] = "not available";
            fmt_rate(a, sizeof a, s);
            if (have_ref) fmt_rate(b, sizeof b, rs);
            printf("%-26s %8d %30s %30s %9.0fx\n", name, N, a, b, have_ref && s.med > 0 ? s.med / rs.med : 0.0);
            fflush(stdout);
        }
    }
    bench_clock = CLOCK_MONOTONIC;
    printf("ratio: lucid's median / the reference's median (the reference is one env, one core)\n");
}

int main(int argc, char **argv) {
    (void)argc;
    lc_init();
    static const int sizes[3] = {1, 64, 1024};
    double t_start = now_s();
    printf("env steps per second (num_envs x vector steps / s): median [min-max] of %d blocks of "
           ">= %.0f ms; noisy: shared cores\n", REPS, BLOCK_S * 1e3);
    printf("%-26s %8s %24s %24s %28s %24s\n", "env", "num_envs", "1 thread", "2 threads", "auto", "reference");
    int n = lc_env_registry_count();
    for (int r = 0; r < n; r++) {
        const char *name = lc_env_registry_name(r);
        size_t len = strlen(name);
        if (len && name[len - 1] == ':') continue; // families (dream:) need a file
        if (strncmp(name, "MinAtar/", 8) == 0) continue; // bench_minatar below
        for (int k = 0; k < 3; k++) {
            int N = sizes[k], used1 = 1, used2 = 1;
            char a[48], b[48], c[48] = "", d[48];
            fmt_rate(a, sizeof a, bench_env(name, N, 1, &used1));
            if (N > 1) {
                bench_stat r2 = bench_env(name, N, 2, &used2);
                fmt_rate(b, sizeof b, r2);
                if (used2 < 2) snprintf(b, sizeof b, "(no split)");
            } else {
                snprintf(b, sizeof b, "-");
            }
            int used0 = 1;
            bench_stat r0 = bench_env(name, N, 0, &used0);
            fmt_rate(d, sizeof d, r0);
            if (r0.med >= 0) snprintf(d + strlen(d), sizeof d - strlen(d), " (%d)", used0);
            if (strcmp(name, "CartPole-v1") == 0) fmt_rate(c, sizeof c, bench_reference(N));
            printf("%-26s %8d %24s %24s %28s %24s\n", name, N, a, b, d, c);
            fflush(stdout);
        }
    }
    printf("auto: num_threads 0, (k) = threads it settled on after its trial steps\n");
    printf("reference: naive scalar CartPole loop in double over an array of structs, same dynamics,\n"
           "autoreset and float obs/reward/flag writes, 1 thread. total %.1f s\n",
           now_s() - t_start);
    // The reference's python: LUCID_PYTHON, else the venv beside this program (BUILD/bench/..).
    char python[1024];
    const char *lp = getenv("LUCID_PYTHON");
    const char *slash = strrchr(argv[0], '/');
    if (lp) snprintf(python, sizeof python, "%s", lp);
    else snprintf(python, sizeof python, "%.*s/../venv/bin/python", slash ? (int)(slash - argv[0]) : 1,
                  slash ? argv[0] : ".");
    bench_minatar(python);
    return 0;
}
