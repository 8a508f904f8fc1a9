// bench/bench_ppo.c: PPO speed and results: CartPole-v1 seeds 1-5 (time and steps to
// first reach 475 training return, throughput, final 100-episode evaluation), Acrobot-v1,
// Pendulum-v1, and a GRU against an MLP on the partially observed CartPoleNoVel-v1.
// Leaves out: pixel games (minutes of CPU), distributed training (bench of agents/).
//
// Every figure is printed beside a reference measured in the same run (CleanRL's
// ppo.py layout trained by lucid, bare env stepping) or clearly marked as quoted.
// Timings are wall clock on a shared machine: expect noise.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "core/progress.h"
#include "policy/ppo.h"
#include "loops/init.h"

#define HIST 4096

typedef struct run_result {
    double solve_s;        // wall time until the training return first reached the target (-1: never)
    int64_t solve_steps;
    double wall_s, sps;    // whole run: env steps / wall time, updates included
    lc_eval_result eval;
    int ok;
} run_result;

// Trains to the end; "training return" is the mean over the most recent >= 20
// finished episodes (so one lucky episode does not count as solved).
static run_result train_run(const char *env, const lc_ppo_cfg *c, const lc_policy_cfg *pc,
                            double target) {
    run_result r;
    memset(&r, 0, sizeof r);
    r.solve_s = -1;
    r.solve_steps = -1;
    lc_error err = {0};
    lc_ppo *t;
    if (lc_ppo_new(&t, env, NULL, c, pc, &err) != LC_OK) {
        fprintf(stderr, "bench_ppo: %s\n", err.msg);
        return r;
    }
    static double hs[HIST];
    static int64_t hc[HIST];
    int nh = 0;
    double t0 = lc_now();
    while (!lc_ppo_done(t)) {
        lc_ppo_stats st;
        if (lc_ppo_iterate(t, &st, &err) != LC_OK) {
            fprintf(stderr, "bench_ppo: %s: %s\n", env, err.msg);
            lc_ppo_free(t);
            return r;
        }
        if (st.episodes > 0) {
            hs[nh % HIST] = st.episode_return * (double)st.episodes;
            hc[nh % HIST] = st.episodes;
            nh++;
        }
        double s = 0;
        int64_t n = 0;
        for (int k = nh - 1; k >= 0 && k > nh - HIST && n < 20; k--) s += hs[k % HIST], n += hc[k % HIST];
        if (r.solve_s < 0 && n >= 20 && s / (double)n >= target) {
            r.solve_s = lc_now() - t0;
            r.solve_steps = st.global_step;
        }
    }
    r.wall_s = lc_now() - t0;
    r.sps = (double)lc_ppo_global_step(t) / r.wall_s;
    if (lc_evaluate(lc_ppo_policy(t), env, NULL, 100, 424242, 1, &r.eval, &err) != LC_OK)
        fprintf(stderr, "bench_ppo: eval %s: %s\n", env, err.msg);
    else r.ok = 1;
    lc_ppo_free(t);
    return r;
}

// Bare env stepping with random actions: the ceiling for any trainer; steps per second
// in 5 blocks of steps / 5 env steps each.
static bench_stat env_sps(const char *name, int N, int64_t steps) {
    bench_stat fail = {NAN, NAN, NAN, 0};
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.num_threads = 1;
    lc_env *e;
    lc_error err = {0};
    if (lc_env_make(&e, name, &o, &err) || lc_env_reset(e, 1, &err)) return fail;
    int32_t *a = malloc((size_t)N * sizeof *a);
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    double rate[5];
    for (int rep = 0; rep < 5; rep++) {
        double t0 = lc_now();
        int64_t done = 0;
        while (done < steps / 5) {
            for (int i = 0; i < N; i++) a[i] = (int32_t)lc_rng_below(&rng, 2);
            lc_env_step(e, a, &err);
            done += N;
        }
        rate[rep] = (double)done / (lc_now() - t0);
    }
    free(a);
    lc_env_free(e);
    return bench_stat_of(rate, 5);
}

static void fast_cartpole(lc_ppo_cfg *c, lc_policy_cfg *pc, uint64_t seed) {
    *c = lc_ppo_cfg_default();
    *pc = lc_policy_cfg_default();
    c->num_envs = 64;
    c->num_steps = 16;
    c->lr = 2.5e-3f;
    c->total_steps = 500000;
    c->num_threads = 1;
    c->seed = seed;
    pc->hidden[0] = pc->hidden[1] = 32;
}

int main(void) {
    lc_nn_set_threads(1); // small matrices: one OpenBLAS thread is the fastest
    lc_init();
    double bench_t0 = lc_now();
    printf("PPO benchmarks (1 OpenBLAS thread, env stepping on the calling thread; shared "
           "machine, timings noisy)\n\n");

    // ---------------------------------------------------------------- CartPole
    printf("CartPole-v1, lucid's fast layout: 64 envs x 16 steps, MLP 32x32 tanh (separate "
           "actor and critic),\n  lr 2.5e-3 annealed over 500k steps, 4 minibatches x 4 epochs, "
           "clip 0.2, ent 0.01, gamma 0.99, lambda 0.95\n");
    printf("  solved = mean of the last >= 20 training episodes first >= 475; "
           "eval = 100 deterministic episodes after 500k steps\n");
    printf("  %-5s %9s %12s %8s %10s %10s %9s\n", "seed", "solve_s", "solve_steps", "wall_s",
           "steps/s", "eval_mean", "eval_min");
    double solve[5], sps[5];
    int nsolved = 0, ngood = 0;
    for (int s = 1; s <= 5; s++) {
        lc_ppo_cfg c;
        lc_policy_cfg pc;
        fast_cartpole(&c, &pc, (uint64_t)s);
        run_result r = train_run("CartPole-v1", &c, &pc, 475);
        printf("  %-5d %9.2f %12lld %8.2f %10.0f %10.1f %9.1f\n", s, r.solve_s,
               (long long)r.solve_steps, r.wall_s, r.sps, r.eval.mean, r.eval.min);
        solve[s - 1] = r.solve_s >= 0 ? r.solve_s : INFINITY;
        sps[s - 1] = r.sps;
        nsolved += r.solve_s >= 0;
        ngood += r.ok && r.eval.mean >= 475;
    }
    char f1[64], f2[64];
    printf("  time to 475 over the seeds, median [min-max]: %s s (target < 2 s); training "
           "throughput %s steps/s (target >= 400000)\n",
           bench_fmt(f1, sizeof f1, bench_stat_of(solve, 5), 1, 2),
           bench_fmt(f2, sizeof f2, bench_stat_of(sps, 5), 1, 0));
    printf("  solved %d/5 seeds; final eval >= 475 on %d/5 seeds (target 5/5)\n", nsolved, ngood);
    {
        lc_ppo_cfg c;
        lc_policy_cfg pc;
        lc_error err = {0};
        lc_ppo_cfg_for_env(&c, &pc, "CartPole-v1", &err);
        c.num_threads = 1;
        c.seed = 1;
        run_result r = train_run("CartPole-v1", &c, &pc, 475);
        printf("  reference, measured in this run: CleanRL ppo.py's layout in lucid (4 envs x 128, "
               "64x64 tanh, lr 2.5e-4,\n    500k steps), seed 1: solve %.2f s at %lld steps, "
               "%.0f steps/s, eval %.1f\n", r.solve_s, (long long)r.solve_steps, r.sps, r.eval.mean);
        char f3[64];
        printf("  reference, measured in this run: CartPole-v1 stepping alone (64 envs, random "
               "actions): %s steps/s (median [min-max] of 5 blocks)\n",
               bench_fmt(f3, sizeof f3, env_sps("CartPole-v1", 64, 4000000), 1, 0));
    }
    printf("  quoted, NOT measured here: CleanRL ppo.py on CartPole-v1: 8,400 steps/s, 22 s "
           "median to solve (figures from the issue)\n\n");

    // ---------------------------------------------------------------- Acrobot, Pendulum
    {
        lc_ppo_cfg c;
        lc_policy_cfg pc;
        lc_error err = {0};
        lc_ppo_cfg_for_env(&c, &pc, "Acrobot-v1", &err);
        c.num_envs = 16;
        c.num_steps = 32;
        c.lr = 1e-3f;
        c.total_steps = 300000;
        c.num_threads = 1;
        run_result r = train_run("Acrobot-v1", &c, &pc, 1e9);
        printf("Acrobot-v1: 16 envs x 32 steps, MLP 64x64 tanh, lr 1e-3, 300k steps, seed 1: "
               "%.1f s, %.0f steps/s\n  eval mean %.1f (std %.1f, min %.1f) over 100 episodes "
               "(target >= -100; random policy about -500)\n\n",
               r.wall_s, r.sps, r.eval.mean, r.eval.std, r.eval.min);
    }
    {
        lc_ppo_cfg c;
        lc_policy_cfg pc;
        lc_error err = {0};
        lc_ppo_cfg_for_env(&c, &pc, "Pendulum-v1", &err); // ppo_continuous_action.py
        c.num_envs = 8;
        c.num_steps = 256;
        c.num_minibatches = 8;
        c.lr = 1e-3f;
        c.total_steps = 200000;
        c.num_threads = 1;
        run_result r = train_run("Pendulum-v1", &c, &pc, 1e9);
        printf("Pendulum-v1: ppo_continuous_action.py settings (obs + reward normalisation, 10 "
               "epochs, ent 0) with 8 envs x 256,\n  8 minibatches, lr 1e-3, 200k steps, seed 1: "
               "%.1f s, %.0f steps/s\n  eval mean %.1f (std %.1f, min %.1f) over 100 episodes "
               "(target >= -250; random torques about -1200)\n\n",
               r.wall_s, r.sps, r.eval.mean, r.eval.std, r.eval.min);
    }

    // ---------------------------------------------------------------- GRU vs MLP
    printf("CartPoleNoVel-v1 (CartPole-v1 without velocities: obs (x, theta)), obs normalisation, "
           "32 envs x 32 steps,\n  lr 2.5e-3, 500k steps; GRU: encoder 64x64 -> GRU 64, BPTT "
           "over 32 steps, minibatches of whole env columns\n");
    printf("  %-22s %5s %8s %10s %10s %9s\n", "policy", "seed", "wall_s", "steps/s", "eval_mean",
           "eval_min");
    for (int arch = 0; arch < 2; arch++) {
        for (int s = 1; s <= 2; s++) {
            lc_ppo_cfg c = lc_ppo_cfg_default();
            lc_policy_cfg pc = lc_policy_cfg_default();
            c.num_envs = 32;
            c.num_steps = 32;
            c.lr = 2.5e-3f;
            c.total_steps = 500000;
            c.normalize_obs = 1;
            c.num_threads = 1;
            c.seed = (uint64_t)s;
            if (arch == 0) {
                snprintf(pc.arch, sizeof pc.arch, "gru");
                pc.rnn_hidden = 64;
            }
            run_result r = train_run("CartPoleNoVel-v1", &c, &pc, 1e9);
            printf("  %-22s %5d %8.2f %10.0f %10.1f %9.1f\n",
                   arch == 0 ? "gru (64x64 -> GRU 64)" : "mlp (64x64)", s, r.wall_s, r.sps,
                   r.eval.mean, r.eval.min);
        }
    }
    printf("  (full CartPole-v1 is solved by the MLP above; without velocities a feed-forward "
           "policy cannot balance)\n\n");
    printf("bench_ppo total: %.1f s\n", lc_now() - bench_t0);
    return 0;
}
