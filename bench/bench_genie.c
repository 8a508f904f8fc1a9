// bench/bench_genie.c: costs of the Genie-style world on this CPU: LAM and dynamics training
// steps at model sides 16 and 32 (why frames are downsampled), dream frames/s through the
// env API beside the real Breakout-v0 and a bare cblas_sgemm of the same shapes.
// Leaves out: accuracy (lucid eval-genie measures it). Timings are noisy on shared cores.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "core/progress.h"
#include "loops/init.h"
#include "env/env.h"
#include "nn/nn.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/worldmodel.h"

// Frames per second through the env API: "MED [MIN-MAX]" over 5 blocks of >= 0.2 s.
static const char *env_fps(char *buf, size_t cap, const char *name, int N, int n_actions) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.num_threads = 1;
    if (lc_env_make(&env, name, &o, &err) || lc_env_reset(env, 1, &err)) {
        fprintf(stderr, "bench_genie: %s\n", err.msg);
        lc_env_free(env);
        return "failed";
    }
    int32_t *a = calloc((size_t)N, sizeof(int32_t));
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    double fps[5];
    for (int rep = 0; rep < 5; rep++) {
        int steps = 0;
        double t0 = bench_now();
        while (bench_now() - t0 < 0.2) {
            for (int i = 0; i < N; i++) a[i] = (int32_t)lc_rng_below(&rng, (uint32_t)n_actions);
            lc_env_step(env, a, &err);
            steps++;
        }
        fps[rep] = (double)N * steps / (bench_now() - t0);
    }
    free(a);
    lc_env_free(env);
    return bench_fmt(buf, cap, bench_stat_of(fps, 5), 1, 0);
}

int main(void) {
    lc_init();
    lc_nn_set_threads(1);
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 8;
    lc_frames fr;
    if (lc_env_make(&env, "Breakout-v0", &o, &err) ||
        lc_frames_collect(&fr, env, 3000, 0, 1, &err)) {
        fprintf(stderr, "bench_genie: %s\n", err.msg);
        return 1;
    }
    lc_env_free(env);
    char path[64];
    snprintf(path, sizeof path, "/tmp/lucid_bench_genie_%d.lucid", (int)getpid());
    printf("training cost per step (batch 64, 1 BLAS thread):\n");
    for (int res = 16; res <= 32; res *= 2) {
        lc_genie_cfg c = lc_genie_cfg_default();
        c.res = res;
        c.lam_steps = 100;
        c.dyn_steps = 100;
        lc_genie *g = NULL;
        float *X = NULL;
        if (lc_genie_new(&g, &c, fr.C, &fr, &err) || lc_genie_prep_all(g, &fr, &X, &err) ||
            lc_genie_train(g, &fr, X, NULL, NULL, &err)) {
            fprintf(stderr, "bench_genie: %s\n", err.msg);
            return 1;
        }
        printf("  res %2d (P = %5d): LAM %.2f ms/step, dynamics %.2f ms/step, params %zu + %zu\n",
               res, g->P, 1e3 * g->lam_train_s / 100, 1e3 * g->dyn_train_s / 100, g->lam.n,
               g->dyn.n);
        // Reference: the dynamics' convolutions (3x3 same, batch 64) as bare cblas_sgemm of
        // the same shapes with the whole batch in one product (what im2col could reach).
        int B = 64, S = res * res, Hc = c.dyn_hidden, IC = 2 * g->C, OC = g->C;
        int mk[3][2] = {{Hc, IC * 9}, {Hc, Hc * 9}, {OC, Hc * 9}};
        double flops = 0, ref_s = 0;
        for (int l = 0; l < 3; l++) {
            int M = mk[l][0], Kk = mk[l][1], N = B * S;
            float *A = calloc((size_t)M * Kk, sizeof(float)), *Bm = calloc((size_t)Kk * N, sizeof(float));
            float *Cm = calloc((size_t)M * N, sizeof(float));
            double t0 = lc_now();
            int reps = 0;
            while (lc_now() - t0 < 0.2) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, Kk, 1.0f, A, Kk, Bm, N,
                            0.0f, Cm, N);
                reps++;
            }
            ref_s += (lc_now() - t0) / reps;
            flops += 2.0 * M * N * Kk;
            free(A), free(Bm), free(Cm);
        }
        printf("    reference: the dynamics' 3 convs (batch 64) as bare cblas_sgemm: %.3f ms "
               "forward (%.1f GFLOP/s); training does forward + backward = ~3x that\n",
               1e3 * ref_s, flops / ref_s * 1e-9);
        if (res == 16 && lc_genie_save(g, path, &err)) {
            fprintf(stderr, "bench_genie: %s\n", err.msg);
            return 1;
        }
        free(X);
        lc_genie_free(g);
    }
    char name[128], halting[160], relabel[160];
    snprintf(name, sizeof name, "dream:%s", path);
    snprintf(halting, sizeof halting, "dream:%s?halt=1", path);
    snprintf(relabel, sizeof relabel, "dream:%s?relabel=1", path);
    printf("frames per second through the env API (1 thread, 64x64x3 observations; median "
           "[min-max] of 5 blocks):\n");
    for (int N = 1; N <= 64; N *= 8) {
        char f[4][64];
        printf("  %2d envs: genie dream %s (halt=1: %s, relabel=1: %s)   reference: "
               "real Breakout-v0 %s\n", N, env_fps(f[0], 64, name, N, 8), env_fps(f[1], 64, halting, N, 8),
               env_fps(f[2], 64, relabel, N, 8), env_fps(f[3], 64, "Breakout-v0", N, 3));
    }
    unlink(path);
    lc_frames_free(&fr);
    return 0;
}
