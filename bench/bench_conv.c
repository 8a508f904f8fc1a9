// bench/bench_conv.c: speed of lc_conv2d one image per sgemm (the plain functions)
// against the batched _ws variants (one sgemm per chunk of images), forward and
// forward+backward, 1 and 2 OpenBLAS threads, beside bare cblas_sgemm of the same
// shapes and FLOPs in the same run. `bench_conv chunks` also sweeps the workspace
// given, in images (chunks past nn/conv.c's cap, ~256 columns a thread, run at it).
// Leaves out: transposed convs, accuracy (tests/test_nn.c checks the maths).
//
// B = batch, C/OC = channels, H/W = image, K = kernel, S = stride, P = pad,
// OHW = output pixels, CKK = C K K. Forward flops = 2 OC CKK B OHW, forward+backward
// 3 times that (dw and din products). Each figure is the median of REPS blocks of
// >= 20 ms with [min-max], the ops of one row alternating block by block (the CPU is
// shared: the spread is its noise).
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_util.h"
#include "core/rng.h"
#include "nn/nn.h"

typedef struct conv_case {
    const char *name;
    int B, C, H, W, OC, K, S, P;
} conv_case;

// The Genie world model's dynamics convs and the cnn policy's Nature-DQN trunk on
// 64x64x3 frames (policy/arch_cnn.c), at PPO minibatch sizes.
static const conv_case CASES[] = {
    {"genie 16x16 32->32 3x3 s1 p1", 64, 32, 16, 16, 32, 3, 1, 1},
    {"cnn1 64x64 3->32 8x8 s4", 64, 3, 64, 64, 32, 8, 4, 0},
    {"cnn2 15x15 32->64 4x4 s2", 64, 32, 15, 15, 64, 4, 2, 0},
    {"cnn3 6x6 64->64 3x3 s1", 64, 64, 6, 6, 64, 3, 1, 0},
    {"cnn1 64x64 3->32 8x8 s4", 256, 3, 64, 64, 32, 8, 4, 0},
    {"cnn2 15x15 32->64 4x4 s2", 256, 32, 15, 15, 64, 4, 2, 0},
    {"cnn3 6x6 64->64 3x3 s1", 256, 64, 6, 6, 64, 3, 1, 0},
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

typedef struct bench {
    conv_case c;
    int OHW, CKK;
    float *in, *w, *b, *out, *dout, *din, *dw, *db, *col, *ws;
    size_t ncol, nws;
    float *bcol, *bres; // bare sgemm operands: (CKK, B OHW) and (OC, B OHW)
} bench;

typedef void (*op_fn)(bench *b);

static void op_bare_fwd(bench *b) {
    int N = b->c.B * b->OHW;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b->c.OC, N, b->CKK, 1.0f, b->w, b->CKK,
                b->bcol, N, 0.0f, b->bres, N);
}

static void op_bare_train(bench *b) {
    int N = b->c.B * b->OHW;
    op_bare_fwd(b);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b->c.OC, b->CKK, N, 1.0f, b->bres, N,
                b->bcol, N, 1.0f, b->dw, b->CKK);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, b->CKK, N, b->c.OC, 1.0f, b->w, b->CKK,
                b->bres, N, 0.0f, b->bcol, N);
}

static void fwd(bench *b, float *ws, size_t nws) {
    const conv_case *c = &b->c;
    lc_conv2d_forward_ws(b->out, ws, nws, b->in, b->w, b->b, c->B, c->C, c->H, c->W, c->OC, c->K,
                         c->S, c->P);
}

static void bwd(bench *b, float *ws, size_t nws) {
    const conv_case *c = &b->c;
    lc_conv2d_backward_ws(b->din, b->dw, b->db, ws, nws, b->dout, b->in, b->w, c->B, c->C, c->H,
                          c->W, c->OC, c->K, c->S, c->P);
}

static void op_fwd_plain(bench *b) {
    const conv_case *c = &b->c;
    lc_conv2d_forward(b->out, b->col, b->in, b->w, b->b, c->B, c->C, c->H, c->W, c->OC, c->K, c->S,
                      c->P);
}

static void op_train_plain(bench *b) {
    const conv_case *c = &b->c;
    op_fwd_plain(b);
    lc_conv2d_backward(b->din, b->dw, b->db, b->col, b->dout, b->in, b->w, c->B, c->C, c->H, c->W,
                       c->OC, c->K, c->S, c->P);
}

static void op_fwd_batch(bench *b) { fwd(b, b->ws, b->nws); }

static void op_train_batch(bench *b) {
    fwd(b, b->ws, b->nws);
    bwd(b, b->ws, b->nws);
}

// Seconds per call of each of the n ops: blocks of >= 20 ms of each (sized from a
// first, warm-up call), alternated REPS times; the median block with min and max.
#define REPS 7
static void time_ops(op_fn *f, bench_stat *t, int n, bench *b) {
    int iters[8];
    double s[8][REPS];
    for (int k = 0; k < n; k++) {
        double t0 = bench_now();
        f[k](b);
        double one = bench_now() - t0;
        iters[k] = one >= 0.02 ? 1 : (int)(0.02 / one) + 1;
    }
    for (int rep = 0; rep < REPS; rep++)
        for (int k = 0; k < n; k++) {
            double t0 = bench_now();
            for (int i = 0; i < iters[k]; i++) f[k](b);
            s[k][rep] = (bench_now() - t0) / iters[k];
        }
    for (int k = 0; k < n; k++) t[k] = bench_stat_of(s[k], REPS);
}

static float *randv(size_t n, lc_rng *r) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    if (!x) {
        fprintf(stderr, "bench_conv: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) x[i] = (float)lc_rng_uniform(r, -1, 1);
    return x;
}

static void bench_make(bench *b, const conv_case *c, lc_rng *r) {
    memset(b, 0, sizeof *b);
    b->c = *c;
    int OH = lc_conv_out(c->H, c->K, c->S, c->P), OW = lc_conv_out(c->W, c->K, c->S, c->P);
    b->OHW = OH * OW, b->CKK = c->C * c->K * c->K;
    size_t ni = (size_t)c->B * c->C * c->H * c->W, no = (size_t)c->B * c->OC * b->OHW;
    size_t nw = (size_t)c->OC * b->CKK, N = (size_t)c->B * b->OHW;
    b->ncol = lc_conv2d_col_size(c->C, c->H, c->W, c->K, c->S, c->P);
    b->nws = lc_conv2d_ws_size(c->B, c->C, c->H, c->W, c->OC, c->K, c->S, c->P);
    b->in = randv(ni, r), b->w = randv(nw, r), b->b = randv((size_t)c->OC, r);
    b->out = randv(no, r), b->dout = randv(no, r), b->din = randv(ni, r);
    b->dw = randv(nw, r), b->db = randv((size_t)c->OC, r);
    b->col = randv(b->ncol, r), b->ws = randv(b->nws, r);
    b->bcol = randv((size_t)b->CKK * N, r), b->bres = randv((size_t)c->OC * N, r);
}

static void bench_free(bench *b) {
    free(b->in), free(b->w), free(b->b), free(b->out), free(b->dout), free(b->din);
    free(b->dw), free(b->db), free(b->col), free(b->ws), free(b->bcol), free(b->bres);
}

// Batched times against the chunk size (images per sgemm) at the current threads.
static void sweep(lc_rng *r) {
    static const int chunks[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    printf("\n== chunk sweep, %d thread(s): forward / forward+backward ms per batch (median of 3)\n",
           lc_nn_get_threads());
    for (int k = 0; k < NCASES; k++) {
        bench b;
        bench_make(&b, &CASES[k], r);
        printf("%-30s B=%3d |", b.c.name, b.c.B);
        size_t per = lc_conv2d_ws_size(1, b.c.C, b.c.H, b.c.W, b.c.OC, b.c.K, b.c.S, b.c.P);
        for (size_t j = 0; j < sizeof chunks / sizeof *chunks && chunks[j] <= b.c.B; j++) {
            size_t nws = per * (size_t)chunks[j];
            double tf[3], tb[3];
            for (int rep = 0; rep < 3; rep++) {
                double t0 = bench_now();
                fwd(&b, b.ws, nws);
                double t1 = bench_now();
                bwd(&b, b.ws, nws);
                double t2 = bench_now();
                tf[rep] = t1 - t0;
                tb[rep] = t2 - t0;
            }
            double best[2] = {bench_stat_of(tf, 3).med, bench_stat_of(tb, 3).med};
            printf(" %d: %.2f/%.2f", chunks[j], best[0] * 1e3, best[1] * 1e3);
        }
        printf("\n");
        bench_free(&b);
    }
}

int main(int argc, char **argv) {
    int do_sweep = argc > 1 && strcmp(argv[1], "chunks") == 0;
    lc_rng r;
    lc_rng_seed(&r, 1, 0);
    printf("lc_conv2d: one sgemm per image (plain) vs one per batch (_ws), OpenBLAS %s\n",
           openblas_get_corename());
    printf("GFLOP/s and ms per batch, the median of %d blocks (GFLOP/s [min-max] below it; shared\n"
           "CPU: noisy); bare = cblas_sgemm of the batched shapes and the same flops\n",
           REPS);
    for (int threads = 1; threads <= 2; threads++) {
        lc_nn_set_threads(threads);
        printf("\n== %d thread%s\n", threads, threads > 1 ? "s" : "");
        printf("%-30s %4s | %-28s | %-28s\n", "", "", "forward", "forward + backward");
        printf("%-30s %4s | %6s %7s %7s %5s | %6s %7s %7s %5s\n", "case", "B", "bare",
               "plain", "batched", "x", "bare", "plain", "batched", "x");
        for (int k = 0; k < NCASES; k++) {
            bench b;
            bench_make(&b, &CASES[k], &r);
            op_fn ops[6] = {op_bare_fwd,   op_fwd_plain,   op_fwd_batch,
                            op_bare_train, op_train_plain, op_train_batch};
            bench_stat st[6];
            time_ops(ops, st, 6, &b);
            double t[6];
            for (int j = 0; j < 6; j++) t[j] = st[j].med;
            double fl = 2.0 * b.c.OC * b.CKK * (double)b.c.B * b.OHW * 1e-9;
            printf("%-30s %4d | %6.1f %7.1f %7.1f %5.1f | %6.1f %7.1f %7.1f %5.1f   GFLOP/s\n",
                   b.c.name, b.c.B, fl / t[0], fl / t[1], fl / t[2], t[1] / t[2], 3 * fl / t[3],
                   3 * fl / t[4], 3 * fl / t[5], t[4] / t[5]);
            printf("%-30s %4s | %6.2f %7.2f %7.2f %5s | %6.2f %7.2f %7.2f %5s   ms\n", "", "",
                   t[0] * 1e3, t[1] * 1e3, t[2] * 1e3, "", t[3] * 1e3, t[4] * 1e3, t[5] * 1e3, "");
            printf("%-30s %4s |", "", "");
            for (int j = 0; j < 6; j++) {
                char f[48];
                bench_fmt(f, sizeof f, bench_rate(st[j], j < 3 ? fl : 3 * fl), 1, 1);
                printf(" %s%s", f, j == 2 ? " |" : "");
            }
            printf("   GFLOP/s range\n");
            bench_free(&b);
        }
        if (do_sweep) sweep(&r);
    }
    return 0;
}
