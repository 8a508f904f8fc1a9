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

#include "core/progress.h"
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

// Steps a dream of N envs for at least min_s seconds; returns seconds per step.
static double time_dream(const char *path, int N, double min_s, int *steps_out) {
    char name[600];
    snprintf(name, sizeof name, "dream:%s", path);
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    lc_env *env = NULL;
    lc_error err = {0};
    if (lc_env_make(&env, name, &o, &err) || lc_env_reset(env, 1, &err)) {
        fprintf(stderr, "bench_dream: %s\n", err.msg);
        lc_env_free(env);
        return NAN;
    }
    int32_t *a = malloc((size_t)N * sizeof(int32_t));
    lc_rng rng;
    lc_rng_seed(&rng, 2, 0);
    for (int w = 0; w < 3; w++) {
        for (int i = 0; i < N; i++) a[i] = (int32_t)lc_rng_below(&rng, 2);
        lc_env_step(env, a, &err);
    }
    int steps = 0;
    double t0 = lc_now(), t;
    do {
        for (int r = 0; r < 10; r++, steps++) {
            for (int i = 0; i < N; i++) a[i] = (int32_t)lc_rng_below(&rng, 2);
            lc_env_step(env, a, &err);
        }
        t = lc_now() - t0;
    } while (t < min_s);
    free(a);
    lc_env_free(env);
    *steps_out = steps;
    return t / steps;
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    lc_env_register_builtin();
    lc_worldmodel_register();
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

    int Ns[3] = {1, 16, 1024};
    double sps[3];
    for (int k = 0; k < 3; k++) {
        int steps = 0;
        double s = time_dream(path, Ns[k], 1.5, &steps);
        sps[k] = Ns[k] / s;
        if (Ns[k] <= 16)
            printf("num_envs %5d: %12.0f env steps/s   latency %8.1f us per step (%d steps)\n", Ns[k],
                   sps[k], s * 1e6, steps);
        else
            printf("num_envs %5d: %12.0f env steps/s   %8.2f ms per step (%d steps)\n", Ns[k], sps[k],
                   s * 1e3, steps);
    }

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
    double dream_gflops = flops * (sps[2] / N) / 1e9;

    // The same products with bare cblas_sgemm (out = in @ w^T).
    float *in = malloc((size_t)N * maxd * sizeof(float)), *out = malloc((size_t)N * maxd * sizeof(float));
    float *w = malloc((size_t)maxd * maxd * sizeof(float));
    for (size_t i = 0; i < (size_t)N * maxd; i++) in[i] = (float)((i % 7) - 3) * 0.1f;
    for (size_t i = 0; i < (size_t)maxd * maxd; i++) w[i] = (float)((i % 5) - 2) * 0.01f;
    int reps = 0;
    double t0 = lc_now(), t;
    do {
        for (int q = 0; q < nprod; q++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, pout[q], pin[q], 1.0f, in, pin[q],
                        w, pin[q], 0.0f, out, pout[q]);
        reps++;
        t = lc_now() - t0;
    } while (t < 1.5);
    double sgemm_gflops = flops * reps / t / 1e9;
    printf("\nnum_envs 1024: model matrix products %.1f GFLOP/s in the dream step, bare cblas_sgemm "
           "of the same shapes %.1f GFLOP/s: %.0f%% (target >= 70%%)\n",
           dream_gflops, sgemm_gflops, 100.0 * dream_gflops / sgemm_gflops);
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
