// nn/gru.c: GRU cell and GRU sequence with episode resets, forward and backward
// through time, PyTorch gate order (r, z, n) and semantics; products are sgemm.
// Leaves out: multi-layer and bidirectional GRUs, dropout, truncation of BPTT.
//
// T = time steps, B = batch, C = input features, H = hidden size.
// Forward cache row (4H): [r | z | n | ghn] with ghn = h Whn + bhn (before r).
#include <assert.h>
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "nn/fastmath.h"
#include "nn/nn.h"

// ---------------------------------------------------------------- forward

// Gate maths for one row: c (4H) holds the pre-activations [ar | az | xn | ghn]
// (xn without bxn when bxn != NULL); hp is the (masked) previous state (NULL = 0).
static void gru_row_forward(float *h_out, float *c, const float *hp, const float *bxn, int H) {
    float *cr = c, *cz = c + H, *cn = c + 2 * H, *gh = c + 3 * H;
    int j = 0;
    for (; j + LC_VB <= H; j += LC_VB) {
        float r[LC_VB], z[LC_VB], n[LC_VB], o[LC_VB], a[LC_VB], b[LC_VB], g[LC_VB], h[LC_VB];
        memcpy(a, cr + j, sizeof a);
        memcpy(b, cz + j, sizeof b);
        memcpy(n, cn + j, sizeof n);
        memcpy(g, gh + j, sizeof g);
        if (hp) memcpy(h, hp + j, sizeof h);
        else memset(h, 0, sizeof h);
        if (bxn)
            for (int k = 0; k < LC_VB; k++) n[k] += bxn[j + k];
        for (int k = 0; k < LC_VB; k++) {
            r[k] = lcx_sigmoid(a[k]);
            z[k] = lcx_sigmoid(b[k]);
            n[k] = lcx_tanh(n[k] + r[k] * g[k]);
            o[k] = (1.0f - z[k]) * n[k] + z[k] * h[k];
        }
        memcpy(cr + j, r, sizeof r);
        memcpy(cz + j, z, sizeof z);
        memcpy(cn + j, n, sizeof n);
        memcpy(h_out + j, o, sizeof o);
    }
    for (; j < H; j++) {
        float r = lcx_sigmoid(cr[j]), z = lcx_sigmoid(cz[j]);
        float n = lcx_tanh(cn[j] + (bxn ? bxn[j] : 0.0f) + r * gh[j]);
        float h = hp ? hp[j] : 0.0f;
        cr[j] = r;
        cz[j] = z;
        cn[j] = n;
        h_out[j] = (1.0f - z) * n + z * h;
    }
}

// One step for B rows. reset (B) or NULL: rows with reset[b] != 0 start from zero.
// With resets, the masked state is staged in the cache's n block until the h
// products are done; h_out may alias h_in.
static void gru_step(float *h_out, float *cache, const float *x, const float *h_in,
                     const uint8_t *reset, const float *wx, const float *wh, const float *bx,
                     const float *bh, int B, int C, int H) {
    const int G = 4 * H;
    for (int b = 0; b < B; b++) {
        float *c = cache + (size_t)b * G;
        for (int j = 0; j < 2 * H; j++) c[j] = (bx ? bx[j] : 0.0f) + (bh ? bh[j] : 0.0f);
        for (int j = 0; j < H; j++) c[3 * H + j] = bh ? bh[2 * H + j] : 0.0f;
        if (reset) {
            if (reset[b]) memset(c + 2 * H, 0, (size_t)H * sizeof(float));
            else memcpy(c + 2 * H, h_in + (size_t)b * H, (size_t)H * sizeof(float));
        } else {
            for (int j = 0; j < H; j++) c[2 * H + j] = bx ? bx[2 * H + j] : 0.0f;
        }
    }
    const float *he = reset ? cache + 2 * H : h_in;
    int lde = reset ? G : H;
    // [ar | az] += he @ Wh[r,z]^T ; ghn += he @ Whn^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, 2 * H, H, 1.0f, he, lde, wh, H, 1.0f,
                cache, G);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1.0f, he, lde,
                wh + (size_t)2 * H * H, H, 1.0f, cache + 3 * H, G);
    if (reset) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, 2 * H, C, 1.0f, x, C, wx, C, 1.0f,
                    cache, G);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, C, 1.0f, x, C,
                    wx + (size_t)2 * H * C, C, 0.0f, cache + 2 * H, G);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, 3 * H, C, 1.0f, x, C, wx, C, 1.0f,
                    cache, G);
    }
    const float *bxn = reset && bx ? bx + 2 * H : NULL;
    for (int b = 0; b < B; b++) {
        const float *hp = reset && reset[b] ? NULL : h_in + (size_t)b * H;
        gru_row_forward(h_out + (size_t)b * H, cache + (size_t)b * G, hp, bxn, H);
    }
}

void lc_gru_forward(float *h_out, float *cache, const float *x, const float *h_in, const float *wx,
                    const float *wh, const float *bx, const float *bh, int B, int C, int H) {
    assert(B >= 0 && C > 0 && H > 0);
    if (B == 0) return;
    gru_step(h_out, cache, x, h_in, NULL, wx, wh, bx, bh, B, C, H);
}

void lc_gru_seq_forward(float *h, float *cache, const float *x, const uint8_t *reset,
                        const float *wx, const float *wh, const float *bx, const float *bh, int T,
                        int B, int C, int H) {
    assert(T >= 0 && B >= 0 && C > 0 && H > 0);
    if (B == 0) return;
    for (int t = 0; t < T; t++) {
        const uint8_t *rs = reset ? reset + (size_t)t * B : NULL;
        int any = 0;
        for (int b = 0; rs && b < B; b++) any |= rs[b] != 0;
        gru_step(h + (size_t)(t + 1) * B * H, cache + (size_t)t * B * 4 * H,
                 x + (size_t)t * B * C, h + (size_t)t * B * H, any ? rs : NULL, wx, wh, bx, bh, B,
                 C, H);
    }
}

// ---------------------------------------------------------------- backward

// One step for B rows. g (B, H) = dL/dh_out. dG (B, 3H) is scratch. Adds into
// dh_prev (may be NULL) dL/dh_in masked by the reset (the gradient that flows
// to the previous step's output), and into dx, dwx, dwh, dbx, dbh.
static void gru_step_backward(float *dx, float *dh_prev, float *dwx, float *dwh, float *dbx,
                              float *dbh, const float *g, const float *cache, const float *x,
                              const float *h_in, const uint8_t *reset, const float *wx,
                              const float *wh, int B, int C, int H, float *dG) {
    const int G = 4 * H, G3 = 3 * H;
    for (int b = 0; b < B; b++) {
        const float *c = cache + (size_t)b * G;
        const float *r = c, *z = c + H, *n = c + 2 * H, *gh = c + 3 * H;
        const float *gb = g + (size_t)b * H;
        const float *hp = reset && reset[b] ? NULL : h_in + (size_t)b * H;
        float *d = dG + (size_t)b * G3;
        for (int j = 0; j < H; j++) {
            float hv = hp ? hp[j] : 0.0f;
            float dn = gb[j] * (1.0f - z[j]);
            float dz = gb[j] * (hv - n[j]);
            float dan = dn * (1.0f - n[j] * n[j]);
            float dr = dan * gh[j];
            d[j] = dr * r[j] * (1.0f - r[j]);
            d[H + j] = dz * z[j] * (1.0f - z[j]);
            d[2 * H + j] = dan;
        }
    }
    // Input side: dG = [dar | daz | dan].
    if (dbx)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < G3; j++) dbx[j] += dG[(size_t)b * G3 + j];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G3, C, B, 1.0f, dG, G3, x, C, 1.0f, dwx, C);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, G3, 1.0f, dG, G3, wx, C, 1.0f,
                    dx, C);
    // Hidden side: the n gate sees h only through r * (h Whn + bhn).
    for (int b = 0; b < B; b++) {
        const float *r = cache + (size_t)b * G;
        float *d = dG + (size_t)b * G3 + 2 * H;
        for (int j = 0; j < H; j++) d[j] *= r[j];
    }
    if (dbh)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < G3; j++) dbh[j] += dG[(size_t)b * G3 + j];
    // A reset row saw a zero state: no gradient to Wh or to the previous step.
    if (reset)
        for (int b = 0; b < B; b++)
            if (reset[b]) memset(dG + (size_t)b * G3, 0, (size_t)G3 * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G3, H, B, 1.0f, dG, G3, h_in, H, 1.0f, dwh,
                H);
    if (dh_prev) {
        for (int b = 0; b < B; b++) {
            if (reset && reset[b]) continue;
            const float *z = cache + (size_t)b * G + H;
            const float *gb = g + (size_t)b * H;
            float *dp = dh_prev + (size_t)b * H;
            for (int j = 0; j < H; j++) dp[j] += gb[j] * z[j];
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G3, 1.0f, dG, G3, wh, H, 1.0f,
                    dh_prev, H);
    }
}

size_t lc_gru_work_size(int B, int H) { return (size_t)B * 3 * H; }
size_t lc_gru_seq_work_size(int B, int H) { return (size_t)B * 5 * H; }

void lc_gru_backward_ws(float *dx, float *dh_in, float *dwx, float *dwh, float *dbx, float *dbh,
                        const float *dh_out, const float *cache, const float *x, const float *h_in,
                        const float *wx, const float *wh, int B, int C, int H, float *work) {
    assert(B >= 0 && C > 0 && H > 0);
    if (B == 0) return;
    gru_step_backward(dx, dh_in, dwx, dwh, dbx, dbh, dh_out, cache, x, h_in, NULL, wx, wh, B, C, H,
                      work);
}

// Backward through time for rows [b0, b0 + nb) of a batch of B (rows are
// independent, so a batch can be processed in row chunks). work: nb * 5H.
static void gru_seq_backward_rows(float *dx, float *dh0, float *dwx, float *dwh, float *dbx,
                                  float *dbh, const float *dh, const float *h, const float *cache,
                                  const float *x, const uint8_t *reset, const float *wx,
                                  const float *wh, int T, int B, int C, int H, int b0, int nb,
                                  float *work) {
    float *dG = work, *g = work + (size_t)nb * 3 * H, *carry = g + (size_t)nb * H;
    size_t nh = (size_t)nb * H;
    memset(carry, 0, nh * sizeof(float));
    for (int t = T - 1; t >= 0; t--) {
        size_t row = (size_t)t * B + b0;
        const float *dht = dh + row * H;
        for (size_t i = 0; i < nh; i++) g[i] = dht[i] + carry[i];
        memset(carry, 0, nh * sizeof(float));
        const uint8_t *rs = reset ? reset + row : NULL;
        int any = 0;
        for (int b = 0; rs && b < nb; b++) any |= rs[b] != 0;
        gru_step_backward(dx ? dx + row * C : NULL, carry, dwx, dwh, dbx, dbh, g,
                          cache + row * 4 * H, x + row * C, h + row * H, any ? rs : NULL, wx, wh,
                          nb, C, H, dG);
    }
    if (dh0) {
        float *d = dh0 + (size_t)b0 * H;
        for (size_t i = 0; i < nh; i++) d[i] += carry[i];
    }
}

void lc_gru_seq_backward_ws(float *dx, float *dh0, float *dwx, float *dwh, float *dbx, float *dbh,
                            const float *dh, const float *h, const float *cache, const float *x,
                            const uint8_t *reset, const float *wx, const float *wh, int T, int B,
                            int C, int H, float *work) {
    assert(T >= 0 && B >= 0 && C > 0 && H > 0);
    if (B == 0) return;
    gru_seq_backward_rows(dx, dh0, dwx, dwh, dbx, dbh, dh, h, cache, x, reset, wx, wh, T, B, C, H,
                          0, B, work);
}

// The variants without a workspace use the stack for small problems, else
// malloc; if malloc fails they fall back to row chunks that fit the stack buffer.
#define GRU_STACK 4096

void lc_gru_backward(float *dx, float *dh_in, float *dwx, float *dwh, float *dbx, float *dbh,
                     const float *dh_out, const float *cache, const float *x, const float *h_in,
                     const float *wx, const float *wh, int B, int C, int H) {
    assert(B >= 0 && C > 0 && H > 0);
    if (B == 0) return;
    float stackbuf[GRU_STACK];
    size_t need = lc_gru_work_size(B, H);
    float *work = need <= GRU_STACK ? stackbuf : malloc(need * sizeof(float));
    if (work) {
        gru_step_backward(dx, dh_in, dwx, dwh, dbx, dbh, dh_out, cache, x, h_in, NULL, wx, wh, B,
                          C, H, work);
        if (work != stackbuf) free(work);
        return;
    }
    int rows = GRU_STACK / (3 * H);
    assert(rows >= 1 && "out of memory for the GRU backward workspace");
    for (int b0 = 0; b0 < B; b0 += rows) {
        int nb = B - b0 < rows ? B - b0 : rows;
        gru_step_backward(dx ? dx + (size_t)b0 * C : NULL, dh_in ? dh_in + (size_t)b0 * H : NULL,
                          dwx, dwh, dbx, dbh, dh_out + (size_t)b0 * H, cache + (size_t)b0 * 4 * H,
                          x + (size_t)b0 * C, h_in + (size_t)b0 * H, NULL, wx, wh, nb, C, H,
                          stackbuf);
    }
}

void lc_gru_seq_backward(float *dx, float *dh0, float *dwx, float *dwh, float *dbx, float *dbh,
                         const float *dh, const float *h, const float *cache, const float *x,
                         const uint8_t *reset, const float *wx, const float *wh, int T, int B,
                         int C, int H) {
    assert(T >= 0 && B >= 0 && C > 0 && H > 0);
    if (B == 0) return;
    float stackbuf[GRU_STACK];
    size_t need = lc_gru_seq_work_size(B, H);
    float *work = need <= GRU_STACK ? stackbuf : malloc(need * sizeof(float));
    if (work) {
        gru_seq_backward_rows(dx, dh0, dwx, dwh, dbx, dbh, dh, h, cache, x, reset, wx, wh, T, B, C,
                              H, 0, B, work);
        if (work != stackbuf) free(work);
        return;
    }
    int rows = GRU_STACK / (5 * H);
    assert(rows >= 1 && "out of memory for the GRU backward workspace");
    for (int b0 = 0; b0 < B; b0 += rows) {
        int nb = B - b0 < rows ? B - b0 : rows;
        gru_seq_backward_rows(dx, dh0, dwx, dwh, dbx, dbh, dh, h, cache, x, reset, wx, wh, T, B, C,
                              H, b0, nb, stackbuf);
    }
}
