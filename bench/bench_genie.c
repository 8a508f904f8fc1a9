// bench/bench_genie.c: costs of the Genie-style world on this CPU: LAM and dynamics training
// steps at model sides 16 and 32 (why frames are downsampled), dream frames/s through the
// env API beside the real Breakout-v0 and a bare cblas_sgemm of the same shapes; for the
// token design, tokenizer and token dynamics steps (median, min, max over repeats, wall and
// CPU time) beside sgemm of their shapes, and token dream frames/s at 64 envs.
// Leaves out: accuracy (lucid eval-genie measures it). Timings are noisy on shared cores.
// `bench_genie tokens` runs the token design's rows only.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/progress.h"
#include "env/env.h"
#include "nn/nn.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"
#include "worldmodel/worldmodel.h"
#include "loops/init.h"

static double cpu_now(void);

// Frames per wall second of N envs under random actions (and, when cpu_fps is not NULL, per
// CPU second of this process: what the model costs, whatever else the cores run).
static double env_fps(const char *name, int N, int n_actions, double *cpu_fps) {
    lc_error err = {0};
    lc_env *env = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = N;
    o.num_threads = 1;
    if (lc_env_make(&env, name, &o, &err) || lc_env_reset(env, 1, &err)) {
        fprintf(stderr, "bench_genie: %s\n", err.msg);
        return 0;
    }
    int32_t *a = calloc((size_t)N, sizeof(int32_t));
    lc_rng rng;
    lc_rng_seed(&rng, 1, 0);
    int steps = 0;
    double t0 = lc_now(), c0 = cpu_now();
    while (lc_now() - t0 < 1.0 || steps < 2) {
        for (int i = 0; i < N; i++) a[i] = (int32_t)lc_rng_below(&rng, (uint32_t)n_actions);
        lc_env_step(env, a, &err);
        steps++;
    }
    double fps = (double)N * steps / (lc_now() - t0);
    if (cpu_fps) *cpu_fps = (double)N * steps / (cpu_now() - c0);
    free(a);
    lc_env_free(env);
    return fps;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// "median (min .. max)" of n values, in place.
static const char *stats(char *buf, size_t len, double *v, int n, double scale) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    snprintf(buf, len, "%.2f (%.2f .. %.2f)", scale * v[n / 2], scale * v[0], scale * v[n - 1]);
    return buf;
}

// Seconds of one sgemm (M, K) x (K, N), median of repeats.
static double sgemm_s(int M, int N, int Kk) {
    float *A = calloc((size_t)M * Kk, sizeof(float)), *Bm = calloc((size_t)Kk * N, sizeof(float));
    float *Cm = calloc((size_t)M * N, sizeof(float));
    double v[5];
    for (int r = 0; r < 5; r++) {
        double t0 = lc_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, Kk, 1.0f, A, Kk, Bm, N, 0.0f,
                    Cm, N);
        v[r] = lc_now() - t0;
    }
    free(A), free(Bm), free(Cm);
    qsort(v, 5, sizeof *v, cmp_d);
    return v[2];
}

// The token design: training steps of the tokenizer and of the token dynamics (REPS
// repeats of STEPS steps each, wall and CPU ms per step), then the token dream's frames/s;
// the same for MaskGIT dynamics (MG_STEPS decoding steps) and for dynamics with ATTN
// transformer blocks after the conv stack (one pass and MaskGIT).
#define REPS 5
#define STEPS 10
#define MG_STEPS 8
#define ATTN 1

// Wall and CPU seconds per step of the token dynamics' training (STEPS steps), into w, c.
static int dyn_step_s(lc_gtok *g, const lc_frames *fr, const float *X, double *w, double *c,
                      lc_error *err) {
    // (the dynamics' time excludes encoding the frames and the LAM's codes)
    double c0 = cpu_now(), w0 = lc_now();
    if (lc_gtok_train(g, fr, X, 1, NULL, NULL, err)) return 1;
    double all_w = lc_now() - w0, all_c = cpu_now() - c0, dyn_w = lc_gtok_train_seconds(g, 2);
    *w = dyn_w / STEPS;
    *c = all_c * (dyn_w / all_w) / STEPS; // the dynamics' share of the CPU time
    return 0;
}

// Frames/s rows of dream:PATH at 64 envs, temperature 1 and 0, labelled.
static void dream_rows(const char *path, const char *label) {
    char b1[64], b2[64];
    const char *modes[2] = {"temp=1", "temp=0"};
    for (int m = 0; m < 2; m++) {
        char nm[320];
        snprintf(nm, sizeof nm, "dream:%s?%s", path, modes[m]);
        double fw[REPS], fc[REPS];
        for (int r = 0; r < REPS; r++) fw[r] = env_fps(nm, 64, 8, &fc[r]);
        printf("  %s, %s: %s frames/s wall, %s frames per CPU second\n", label, modes[m],
               stats(b1, 64, fw, REPS, 1), stats(b2, 64, fc, REPS, 1));
    }
}

static int bench_tokens(const lc_frames *fr) {
    lc_error err = {0};
    lc_genie_cfg lc = lc_genie_cfg_default();
    lc.lam_steps = 10;
    lc.dyn_steps = 0;
    lc_genie *lam = NULL;
    float *X = NULL;
    lc_gtok *g = NULL;
    lc_gtok_cfg tc = lc_gtok_cfg_default();
    tc.tok.steps = STEPS;
    tc.steps = STEPS;
    if (lc_genie_new(&lam, &lc, fr->C, fr, &err) || lc_genie_prep_all(lam, fr, &X, &err) ||
        lc_genie_train(lam, fr, X, NULL, NULL, &err) || lc_gtok_new(&g, &tc, lam, &err)) {
        fprintf(stderr, "bench_genie: %s\n", err.msg);
        return 1;
    }
    double tw[REPS], tcpu[REPS], dw[REPS], dcpu[REPS];
    for (int r = 0; r < REPS; r++) {
        double c0 = cpu_now();
        if (lc_tok_train(lc_gtok_tokenizer_mut(g), fr->frames, fr->n, NULL, NULL, &err)) break;
        tcpu[r] = (cpu_now() - c0) / STEPS;
        tw[r] = lc_gtok_train_seconds(g, 0) / STEPS;
        if (dyn_step_s(g, fr, X, &dw[r], &dcpu[r], &err)) break;
    }
    if (err.code) {
        fprintf(stderr, "bench_genie: %s\n", err.msg);
        return 1;
    }
    const lc_tok_cfg *k = &tc.tok;
    char b1[64], b2[64], b3[64], b4[64];
    printf("token design, training cost per step (1 BLAS thread, median (min .. max) of %d x %d "
           "steps):\n", REPS, STEPS);
    printf("  tokenizer (64x64x3 -> 16x16 tokens, E %d, D %d, %d codes, batch %d): %s ms wall, "
           "%s ms CPU\n", k->hidden, k->dim, k->codes, k->batch, stats(b1, 64, tw, REPS, 1e3),
           stats(b2, 64, tcpu, REPS, 1e3));
    printf("  token dynamics + heads (De %d, HC %d, batch %d, 256 tokens): %s ms wall, %s ms "
           "CPU\n", tc.emb, tc.hidden, tc.batch, stats(b3, 64, dw, REPS, 1e3),
           stats(b4, 64, dcpu, REPS, 1e3));
    // Reference: the same layers' products as bare sgemm over the whole batch (forward).
    int S = 64, E = k->hidden, D = k->dim, B = k->batch, H = S / 2, G = S / 4;
    double tref = sgemm_s(E, B * H * H, 3 * 16) + sgemm_s(E, B * G * G, E * 16) +
                  sgemm_s(D, B * G * G, E) + sgemm_s(E, B * G * G, D * 9) +
                  sgemm_s(E * 16, B * G * G, E) + sgemm_s(3 * 16, B * H * H, E);
    int HC = tc.hidden, De = tc.emb, N = tc.batch * 256;
    double dref = sgemm_s(HC, N, 2 * De * 9) + 2 * sgemm_s(HC, N, HC * 9) + sgemm_s(256, N, HC);
    printf("  reference, bare cblas_sgemm of the same shapes (forward; a training step is about "
           "3x): tokenizer %.2f ms, token dynamics %.2f ms\n", 1e3 * tref, 1e3 * dref);
    // the other dynamics over the same tokenizer and LAM: MaskGIT, attention, both
    const char *kinds[4] = {"gtok", "gtokmg", "gtokat", "gtokatmg"};
    const char *labels[3] = {"MaskGIT token dynamics + heads (the same sizes, + the next frame's tokens)",
                             "token dynamics + heads with attention (the same, + 1 block: 2 heads, MLP 2 HC)",
                             "MaskGIT token dynamics + heads with attention"};
    char paths[4][64];
    for (int v = 0; v < 4; v++)
        snprintf(paths[v], sizeof paths[v], "/tmp/lucid_bench_%s_%d.lucid", kinds[v], (int)getpid());
    int rc = lc_gtok_save(g, paths[0], &err);
    for (int v = 1; v < 4 && !rc; v++) {
        tc.maskgit = v & 1 ? MG_STEPS : 0;
        tc.dyn_attn = v >= 2 ? ATTN : 0;
        rc = lc_gtok_reset_dynamics(g, &tc, &err);
        for (int r = 0; r < REPS && !rc; r++) rc = dyn_step_s(g, fr, X, &dw[r], &dcpu[r], &err);
        if (!rc) rc = lc_gtok_save(g, paths[v], &err);
        if (!rc)
            printf("  %s: %s ms wall, %s ms CPU\n", labels[v - 1], stats(b3, 64, dw, REPS, 1e3),
                   stats(b4, 64, dcpu, REPS, 1e3));
    }
    lc_gtok_free(g);
    free(X);
    if (rc) {
        fprintf(stderr, "bench_genie: %s\n", err.msg);
        for (int v = 0; v < 4; v++) unlink(paths[v]);
        return 1;
    }
    // Reference: one attention block's products (batch tc.batch, 256 positions, forward) as
    // bare sgemm: QKV, per (sample, head) scores and weighted sums, output, MLP.
    const int NH = tc.attn_heads, HD = HC / NH, A = NH * HD, F = 2 * HC, Tt = 256;
    double aref = sgemm_s(N, 3 * A, HC) + sgemm_s(N, HC, A) + sgemm_s(N, F, HC) +
                  sgemm_s(N, HC, F) +
                  (double)tc.batch * NH * (sgemm_s(Tt, Tt, HD) + sgemm_s(Tt, HD, Tt));
    printf("  reference, bare cblas_sgemm of one attention block's products (forward): %.2f ms "
           "(+ the conv dynamics' %.2f ms)\n", 1e3 * aref, 1e3 * dref);
    printf("token dream frames per second at 64 envs (sampled tokens decoded to 64x64x3; "
           "median (min .. max) of %d runs of ~1 s):\n", REPS);
    char label[64];
    for (int v = 0; v < 4; v++) {
        if (v & 1) snprintf(label, sizeof label, "MaskGIT %d steps%s", MG_STEPS, v >= 2 ? ", attention" : "");
        else snprintf(label, sizeof label, "one pass%s", v >= 2 ? ", attention" : "");
        dream_rows(paths[v], label);
    }
    double rf[REPS];
    for (int r = 0; r < REPS; r++) rf[r] = env_fps("Breakout-v0", 64, 3, NULL);
    printf("  reference: real Breakout-v0 %s frames/s\n", stats(b3, 64, rf, REPS, 1));
    for (int v = 0; v < 4; v++) unlink(paths[v]);
    return 0;
}

// `bench_genie tokens`: the token design's rows only.
int main(int argc, char **argv) {
    const int tokens_only = argc > 1 && strcmp(argv[1], "tokens") == 0;
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
    if (tokens_only) {
        int rc = bench_tokens(&fr);
        lc_frames_free(&fr);
        return rc;
    }
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
           "(min .. max) of %d runs of ~1 s):\n", REPS);
    for (int N = 1; N <= 64; N *= 8) {
        const char *names[4] = {name, halting, relabel, "Breakout-v0"};
        char out[4][64];
        for (int k = 0; k < 4; k++) {
            double f[REPS];
            for (int r = 0; r < REPS; r++) f[r] = env_fps(names[k], N, k == 3 ? 3 : 8, NULL);
            stats(out[k], 64, f, REPS, 1);
        }
        printf("  %2d envs: genie dream %s (halt=1: %s, relabel=1: %s)   reference: "
               "real Breakout-v0 %s\n", N, out[0], out[1], out[2], out[3]);
    }
    unlink(path);
    int rc = bench_tokens(&fr);
    lc_frames_free(&fr);
    return rc;
}
