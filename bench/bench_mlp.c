// bench/bench_mlp.c: speed of lc_mlp (6 -> 256 -> 256 -> 5, tanh) beside a bare
// cblas_sgemm of the same three shapes, measured in the same run, for 1 and 2 threads.
// Leaves out: layer norm, other widths, accuracy (tests/test_nn.c checks the maths).
//
// B = batch. Forward flops = 2 B (6*256 + 256*256 + 256*5). Each figure is the median
// of 21 blocks of >= 10 ms with [min-max] (the machine is shared: the spread is its
// noise); the bare sgemm and the forward pass alternate block by block.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "core/rng.h"
#include "nn/nn.h"

#define NL 3
static const int SIZES[NL + 1] = {6, 256, 256, 5};

typedef struct bench {
    lc_mlp m;
    lc_params p;
    lc_adam opt;
    float *acts, *work, *in, *dout;
    float *bw[NL], *bo[NL]; // bare sgemm weights and outputs
    int B;
} bench;

typedef void (*op_fn)(bench *b);

static void op_bare(bench *b) {
    const float *x = b->in;
    for (int i = 0; i < NL; i++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b->B, SIZES[i + 1], SIZES[i], 1.0f, x,
                    SIZES[i], b->bw[i], SIZES[i], 0.0f, b->bo[i], SIZES[i + 1]);
        x = b->bo[i];
    }
}

static void op_forward(bench *b) { lc_mlp_forward(&b->m, &b->p, b->acts, b->in, b->B); }

static void op_train(bench *b) {
    lc_mlp_forward(&b->m, &b->p, b->acts, b->in, b->B);
    lc_params_zero_grad(&b->p);
    lc_mlp_backward(&b->m, &b->p, b->work, b->acts, b->in, b->dout, NULL, b->B);
    lc_adam_step(&b->p, &b->opt);
}

static int calibrate(op_fn f, bench *b) {
    int iters = 1;
    for (;;) {
        double t0 = bench_now();
        for (int i = 0; i < iters; i++) f(b);
        if (bench_now() - t0 >= 0.01) return iters;
        iters *= 2;
    }
}

// Seconds per call of f and g: blocks of >= 10 ms of each, alternated REPS times, so
// that both see the same (shared, noisy) machine; the median block with min and max.
#define REPS 21
static void time_pair(op_fn f, op_fn g, bench *b, bench_stat *tf, bench_stat *tg) {
    int nf = calibrate(f, b), ng = g ? calibrate(g, b) : 0;
    double sf[REPS], sg[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = bench_now();
        for (int i = 0; i < nf; i++) f(b);
        sf[rep] = (bench_now() - t0) / nf;
        if (!g) continue;
        t0 = bench_now();
        for (int i = 0; i < ng; i++) g(b);
        sg[rep] = (bench_now() - t0) / ng;
    }
    *tf = bench_stat_of(sf, REPS);
    if (g) *tg = bench_stat_of(sg, REPS);
}

static float *randv(size_t n, lc_rng *r) {
    float *x = malloc(n * sizeof(float));
    if (!x) {
        fprintf(stderr, "bench_mlp: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) x[i] = (float)lc_rng_uniform(r, -1, 1);
    return x;
}

// GFLOP/s of a square 1024^3 sgemm over 5 calls.
static bench_stat square_peak(void) {
    enum { N = 1024 };
    lc_rng r;
    lc_rng_seed(&r, 2, 0);
    float *a = randv((size_t)N * N, &r), *b = randv((size_t)N * N, &r), *c = randv((size_t)N * N, &r);
    double t[5];
    for (int rep = 0; rep < 5; rep++) {
        double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
        t[rep] = bench_now() - t0;
    }
    free(a), free(b), free(c);
    return bench_rate(bench_stat_of(t, 5), 2.0 * N * N * N * 1e-9);
}

int main(void) {
    static const int batches[] = {16, 256, 1024, 4096};
    double flops_per_sample = 0;
    for (int i = 0; i < NL; i++) flops_per_sample += 2.0 * SIZES[i] * SIZES[i + 1];
    printf("lc_mlp 6 -> 256 -> 256 -> 5 (tanh), OpenBLAS %s\n", openblas_get_corename());
    printf("forward: %.0f flops per sample; figures are the median [min-max] of %d blocks "
           "(shared CPU: noisy)\n", flops_per_sample, REPS);
    for (int threads = 1; threads <= 2; threads++) {
        lc_nn_set_threads(threads);
        char pk[64];
        printf("\n== %d thread%s: sgemm 1024^3 %s GFLOP/s\n", threads, threads > 1 ? "s" : "",
               bench_fmt(pk, sizeof pk, square_peak(), 1, 1));
        printf("%6s | %24s %8s | %20s %6s | %24s | %s\n", "batch", "fwd samples/s", "GFLOP/s",
               "bare sgemm GFLOP/s", "% bare", "train samples/s", "overhead/layer (median)");
        for (size_t k = 0; k < sizeof batches / sizeof *batches; k++) {
            bench b;
            memset(&b, 0, sizeof b);
            b.B = batches[k];
            lc_rng r;
            lc_rng_seed(&r, 1, 0);
            lc_params_init(&b.p);
            lc_mlp_define(&b.m, &b.p, "mlp", NL, SIZES, LC_ACT_TANH, 0);
            lc_error err;
            if (lc_params_alloc(&b.p, &err)) {
                fprintf(stderr, "bench_mlp: %s\n", err.msg);
                return 1;
            }
            lc_mlp_init(&b.m, &b.p, 1.41421356f, 0.01f, &r);
            b.opt = lc_adam_default(1e-4f);
            size_t na = lc_mlp_act_size(&b.m, b.B);
            b.acts = randv(na, &r), b.work = randv(na, &r);
            b.in = randv((size_t)b.B * SIZES[0], &r);
            b.dout = randv((size_t)b.B * SIZES[NL], &r);
            for (int i = 0; i < NL; i++) {
                b.bw[i] = randv((size_t)SIZES[i] * SIZES[i + 1], &r);
                b.bo[i] = randv((size_t)b.B * SIZES[i + 1], &r);
            }
            bench_stat tb, tf, tt;
            time_pair(op_bare, op_forward, &b, &tb, &tf);
            time_pair(op_train, NULL, &b, &tt, NULL);
            double fl = flops_per_sample * b.B;
            char f1[64], f2[64], f3[64];
            printf("%6d | %24s %8.1f | %20s %5.0f%% | %24s |", b.B,
                   bench_fmt(f1, sizeof f1, bench_rate(tf, b.B), 1, 0), fl / tf.med * 1e-9,
                   bench_fmt(f2, sizeof f2, bench_rate(tb, fl * 1e-9), 1, 1), 100.0 * tb.med / tf.med,
                   bench_fmt(f3, sizeof f3, bench_rate(tt, b.B), 1, 0));
            if (b.B == 16)
                printf(" %.2f us (forward %.2f us, bare sgemm %.2f us)", (tf.med - tb.med) / NL * 1e6,
                       tf.med * 1e6, tb.med * 1e6);
            printf("\n");
            for (int i = 0; i < NL; i++) free(b.bw[i]), free(b.bo[i]);
            free(b.acts), free(b.work), free(b.in), free(b.dout);
            lc_params_free(&b.p);
        }
    }
    return 0;
}
