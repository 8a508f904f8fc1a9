// bench/bench_dream.c: dream env throughput: env steps/s at num_envs 1, 16 and 1024,
// per-step latency at 1 and 16, and at 1024 the GFLOP/s of the model's matrix products
// beside a bare cblas_sgemm of the same layer shapes measured in the same run.
// Leaves out: multi-process scaling. Timings on a shared machine are noisy.
//
// Letters: N = envs, K = elites, H = hidden, IN = model input, OUT = model output.
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "core/progress.h"
#include "loops/init.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"

static int make_model(const char *path, int hidden, int layers, lc_act act) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 4;
    lc_dataset ds;
    int rc = lc_env_make(&env, "CartPole-v1", &o, &err);
    if (!rc) rc = lc_dataset_init_for_env(&ds, env, &err);
    if (!rc) rc = lc_dataset_collect(&ds, env, 2000, NULL, NULL, 1, NULL, NULL, &err);
    lc_env_free(env);
    lc_wm_config cfg = lc_wm_config_default();
    cfg.hidden = hidden;
    cfg.layers = layers;
    cfg.act = act;
    cfg.epochs = 2;
    lc_ensemble *m = NULL;
    if (!rc) rc = lc_ensemble_train(&m, &ds, &cfg, NULL, NULL, &err);
    if (!rc) rc = lc_ensemble_save(m, path, &err);
    if (rc) fprintf(stderr, "bench_dream: %s\n", err.msg);
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
    return rc;
}

typedef struct dream_run {
    lc_env *env;
    int N;
    int32_t *a;
    lc_rng rng;
} dream_run;

static int dream_open(dream_run *d, const char *path, int N) {
    char name[600];
    snprintf(name, sizeof name, "dream:%s", path);
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    lc_error err = {0};
    d->N = N;
    d->env = NULL;
    d->a = malloc((size_t)N * sizeof(int32_t));
    lc_rng_seed(&d->rng, 2, 0);
    if (!d->a || lc_env_make(&d->env, name, &o, &err) || lc_env_reset(d->env, 1, &err)) {
        fprintf(stderr, "bench_dream: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void dream_close(dream_run *d) {
    lc_env_free(d->env);
    free(d->a);
}

// Steps for at least min_s seconds (random actions); returns seconds per vector step.
static double dream_time(dream_run *d, double min_s, int *steps_out) {
    lc_error err = {0};
    int steps = 0;
    double t0 = lc_now(), t;
    do {
        for (int r = 0; r < 5; r++, steps++) {
            for (int i = 0; i < d->N; i++) d->a[i] = (int32_t)lc_rng_below(&d->rng, 2);
            lc_env_step(d->env, d->a, &err);
        }
        t = lc_now() - t0;
    } while (t < min_s);
    if (steps_out) *steps_out += steps;
    return t / steps;
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    lc_init();
    char path[256];
    snprintf(path, sizeof path, "/tmp/lucid_bench_dream_%d.lucid", (int)getpid());
    int hidden = 200, layers = 3;
    lc_act act = lc_wm_config_default().act;
    if (make_model(path, hidden, layers, act)) return 1;
    lc_ensemble *m = NULL;
    lc_error err = {0};
    if (lc_ensemble_load(&m, path, &err)) {
        fprintf(stderr, "bench_dream: %s\n", err.msg);
        return 1;
    }
    int K = m->n_elites, IN = m->in_size, OUT = m->OUT;
    printf("dream:CartPole model: %d members, %d elites, %d hidden layers of %d (%s), input %d, output %d\n",
           m->E, K, layers, hidden, lc_act_name(act), IN, OUT);
    printf("(timings on a shared 2-core machine are noisy)\n\n");

    int Ns[2] = {1, 16}, def_threads = lc_nn_get_threads();
    for (int k = 0; k < 2; k++)
        for (int tt = 1; tt <= 2; tt++) {
            int th = tt == 1 ? 1 : def_threads;
            if (tt == 2 && th == 1) break;
            lc_nn_set_threads(th);
            dream_run d;
            int steps = 0;
            if (dream_open(&d, path, Ns[k])) return 1;
            dream_time(&d, 0.2, NULL); // warm up
            double sb[7];
            for (int rep = 0; rep < 7; rep++) sb[rep] = dream_time(&d, 0.15, &steps);
            dream_close(&d);
            bench_stat st = bench_stat_of(sb, 7);
            char f1[64], f2[64];
            printf("num_envs %5d, %d OpenBLAS thread%s: %s env steps/s, latency %s us per step "
                   "(median [min-max] of 7 blocks, %d steps)\n", Ns[k], th, th == 1 ? " " : "s",
                   bench_fmt(f1, sizeof f1, bench_rate(st, Ns[k]), 1, 0),
                   bench_fmt(f2, sizeof f2, st, 1e6, 1), steps);
        }
    lc_nn_set_threads(def_threads);
    dream_run big;
    if (dream_open(&big, path, 1024)) return 1;
    dream_time(&big, 0.2, NULL);
    // Matrix-product work of one step at N = 1024: every elite runs every layer, then the
    // termination classifier runs once on the sampled next observations.
    int N = 1024, nprod = 0, pin[3 * LC_MLP_MAX_LAYERS], pout[3 * LC_MLP_MAX_LAYERS];
    for (int k = 0; k < K; k++)
        for (int l = 0; l < m->mlp[0].nlayers; l++, nprod++) {
            pin[nprod] = m->mlp[0].sizes[l];
            pout[nprod] = m->mlp[0].sizes[l + 1];
        }
    for (int l = 0; l < m->term.nlayers; l++, nprod++) {
        pin[nprod] = m->term.sizes[l];
        pout[nprod] = m->term.sizes[l + 1];
    }
    double flops = 0;
    int maxd = 1;
    for (int q = 0; q < nprod; q++) {
        flops += 2.0 * N * pin[q] * pout[q];
        if (pin[q] > maxd) maxd = pin[q];
        if (pout[q] > maxd) maxd = pout[q];
    }

    // The same products with bare cblas_sgemm (out = in @ w^T), timed in windows that
    // alternate with the dream's so both see the same load; the median window of each.
    float *in = malloc((size_t)N * maxd * sizeof(float)), *out = malloc((size_t)N * maxd * sizeof(float));
    float *w = malloc((size_t)maxd * maxd * sizeof(float));
    for (size_t i = 0; i < (size_t)N * maxd; i++) in[i] = (float)((i % 7) - 3) * 0.1f;
    for (size_t i = 0; i < (size_t)maxd * maxd; i++) w[i] = (float)((i % 5) - 2) * 0.01f;
    // Both at 1 OpenBLAS thread (the steadiest on a shared machine) and at the default.
    int nthreads[2] = {1, def_threads};
    for (int tt = 0; tt < 2; tt++) {
        if (tt == 1 && nthreads[1] == 1) break;
        lc_nn_set_threads(nthreads[tt]);
        enum { ROUNDS = 7 };
        double t_dream[ROUNDS], t_sgemm[ROUNDS];
        int big_steps = 0;
        dream_time(&big, 0.1, NULL);
        for (int round = 0; round < ROUNDS; round++) {
            t_dream[round] = dream_time(&big, 0.25, &big_steps);
            int reps = 0;
            double t0 = lc_now(), t;
            do {
                for (int q = 0; q < nprod; q++)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, pout[q], pin[q], 1.0f, in,
                                pin[q], w, pin[q], 0.0f, out, pout[q]);
                reps++;
                t = lc_now() - t0;
            } while (t < 0.25);
            t_sgemm[round] = t / reps;
        }
        bench_stat sd = bench_stat_of(t_dream, ROUNDS), ss = bench_stat_of(t_sgemm, ROUNDS);
        bench_stat gd = bench_rate(sd, flops / 1e9), gs = bench_rate(ss, flops / 1e9);
        char f1[64], f2[64], f3[64], f4[64];
        printf("\nnum_envs  1024, %d OpenBLAS thread%s: %s env steps/s, %s ms per step (median "
               "[min-max] of %d windows, %d steps)\n", nthreads[tt], nthreads[tt] == 1 ? " " : "s",
               bench_fmt(f1, sizeof f1, bench_rate(sd, N), 1, 0), bench_fmt(f2, sizeof f2, sd, 1e3, 2),
               ROUNDS, big_steps);
        printf("  model matrix products %s GFLOP/s in the dream step, bare cblas_sgemm of the same "
               "shapes %s GFLOP/s: %.0f%% of the medians (target >= 70%%)\n",
               bench_fmt(f3, sizeof f3, gd, 1, 1), bench_fmt(f4, sizeof f4, gs, 1, 1),
               100.0 * gd.med / gs.med);
    }
    dream_close(&big);
    printf("(%.1f MFLOP per step: %d elites x (", flops / 1e6, K);
    for (int l = 0; l < m->mlp[0].nlayers; l++) printf("%s%dx%d", l ? " " : "", m->mlp[0].sizes[l + 1], m->mlp[0].sizes[l]);
    printf(") + termination classifier (");
    for (int l = 0; l < m->term.nlayers; l++) printf("%s%dx%d", l ? " " : "", m->term.sizes[l + 1], m->term.sizes[l]);
    printf("), rows of %d)\n", N);
    free(in);
    free(out);
    free(w);
    lc_ensemble_free(m);
    unlink(path);
    return 0;
}
