// loops/bench_arch.h: the controller-architecture benchmark: PPO runs over a grid
// of architectures x envs x seeds in forked worker processes, resumable (one JSON
// per finished run), summarised with robust statistics (core/stats.h) into a
// Markdown table, a JSON file, learning-curve and performance-profile pictures.
// Leaves out: hyper-parameter sweeps (every run uses the env family's PPO defaults
// with only the architecture changed), remote workers, per-arch tuning.
//
// Layout of cfg->out_dir:
//   runs/ENV__ARCH__seedS.json  one finished run (written atomically, last), ENV with
//                               every character outside [A-Za-z0-9._-] made '_'
//   runs/ENV__ARCH__seedS.csv   its per-iteration metrics (written before the JSON)
//   runs/ENV__ARCH__seedS.err   the error of a failed run (removed when it succeeds)
//   summary.md, summary.json, curves_ENV.png (one per env), profile.png
// A run whose JSON exists, says "status": "ok" and matches the env, arch, seed and
// step count is skipped, so an interrupted grid continues where it stopped.
//
// Each run: lc_ppo_cfg_for_env defaults for the env, policy arch replaced, seed S,
// total_steps; then a deterministic evaluation of eval_episodes episodes in the env
// (and, for a dream: env, in the real env named in the world-model file). The
// learning curve is the mean return of the last (at least) 10 finished training
// episodes after each iteration (the sampling policy, so below its evaluation).
// Derived per run: AUC (lc_stats_auc of that curve: its mean height, i.e. normalised
// by the steps it spans) and steps to threshold (the first step the curve reached it).
//
// Scores for the cross-env aggregate and the performance profile are normalised per
// env to [0, 1] by a return range: CartPole-v1 / CartPoleNoVel-v1 [0, 500],
// Acrobot-v1 [-500, 0], MountainCar-v0 [-200, 0], Pendulum-v1 [-1600, 0]; other envs
// use the lowest and highest final return among the grid's runs in that env. A dream:
// env is scored by its policies' returns in the real env (its range is the real env's).
#ifndef LC_LOOPS_BENCH_ARCH_H
#define LC_LOOPS_BENCH_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define LC_BENCH_MAX_ARCHS 16
#define LC_BENCH_MAX_ENVS 16
#define LC_BENCH_MAX_SEEDS 1000

typedef enum lc_bench_event_kind {
    LC_BENCH_START = 0, // a run was started (in a worker)
    LC_BENCH_DONE,      // a run finished: final_return, real_return, wall_s set
    LC_BENCH_SKIP,      // a finished run was found on disk
    LC_BENCH_FAIL,      // a run failed: msg says why
    LC_BENCH_NOTE,      // an (env, arch) pair was left out (incompatible): msg says why
    LC_BENCH_WROTE,     // a summary file was written: msg is its path
} lc_bench_event_kind;

typedef struct lc_bench_event {
    lc_bench_event_kind kind;
    const char *env, *arch; // NULL for WROTE
    int64_t seed;
    int finished, total;    // runs finished (done, skipped or failed) so far / in the grid
    double final_return;    // DONE / SKIP: the evaluation in the training env
    double real_return;     // DONE / SKIP for dream: envs (NAN otherwise)
    double wall_s;          // DONE / SKIP: training wall time
    const char *msg;
} lc_bench_event;
// Called in the parent process only; a non-zero return stops starting new runs
// (running ones finish), and lc_bench_arch_run then returns LC_ERR_STATE.
typedef int (*lc_bench_event_fn)(void *ctx, const lc_bench_event *ev);

typedef struct lc_bench_cfg {
    const char *archs[LC_BENCH_MAX_ARCHS];
    int narchs;
    const char *envs[LC_BENCH_MAX_ENVS];
    int nenvs;
    // Per env: the learning-curve threshold for "steps to threshold"; NAN = the middle
    // of the env's return range (CartPole-v1 250, Acrobot-v1 -250, MountainCar-v0 -100,
    // Pendulum-v1 -800; a dream: env its real env's; none for other envs). The
    // Gymnasium reward thresholds (475, -100) are rarely met by the training curve of
    // a stochastic policy in a short run, so they say little; pass them to ask anyway.
    // Applied when the summary is written, so it may change without rerunning.
    double thresholds[LC_BENCH_MAX_ENVS];
    int seeds;             // runs per (env, arch): seeds seed0 .. seed0 + seeds - 1 (5)
    int64_t seed0;         // 1
    int64_t steps;         // env steps per run (100000)
    const char *out_dir;   // "results"
    int jobs;              // worker processes at once (1)
    int eval_episodes;     // deterministic evaluation episodes per run (20)
    int curve_points;      // points of the summary's learning curves (50)
    int resamples;         // bootstrap resamples (LC_STATS_RESAMPLES)
    double conf;           // confidence level of the intervals (0.95)
    int save_policies;     // 1: also write runs/ENV__ARCH__seedS.policy.lucid (0)
    int force;             // 1: rerun finished runs too (0)
    lc_bench_event_fn on_event; // may be NULL
    void *event_ctx;
} lc_bench_cfg;

lc_bench_cfg lc_bench_cfg_default(void);

// Runs the missing runs of the grid (cfg->jobs forked workers), then writes the
// summary (lc_bench_arch_summarize). Unknown envs or archs are LC_ERR_NOTFOUND
// before anything runs; incompatible (env, arch) pairs are left out with a NOTE.
// Failed runs are reported (FAIL) and listed in the summary; the call still succeeds
// when at least the summary could be written. Children print nothing.
int lc_bench_arch_run(const lc_bench_cfg *cfg, lc_error *err);
// One run in this process (what a worker does); writes its files in cfg->out_dir/runs.
int lc_bench_arch_one(const lc_bench_cfg *cfg, int env_index, int arch_index, int64_t seed,
                      lc_error *err);
// Reads the grid's finished runs from cfg->out_dir/runs and writes summary.md,
// summary.json, curves_ENV.png and profile.png. Missing runs are counted, not errors.
int lc_bench_arch_summarize(const lc_bench_cfg *cfg, lc_error *err);

// The file stem of a run: "ENV__ARCH__seedS" with ENV sanitised as above.
void lc_bench_run_stem(char *out, size_t cap, const char *env, const char *arch, int64_t seed);
// The return range used to normalise an env's scores; 0 when the env has none built in.
int lc_bench_env_range(const char *env, double *lo, double *hi);
// The default threshold of an env (NAN when none).
double lc_bench_env_threshold(const char *env);

#endif
