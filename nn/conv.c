// nn/conv.c: 2-D convolution and transposed convolution, NCHW, square kernels,
// through im2col / col2im and sgemm, a chunk of images per product. Backward adds (+=).
// Leaves out: dilation, groups, non-square kernels or strides, output padding.
//
// B = batch, C = input channels, H, W = input height and width, OC = output
// channels, K = kernel size, OH, OW = output height and width, n = images in a
// chunk, N = n OH OW (conv) or n H W (convt): the columns of a chunk's products.
//
// Chunks: the _ws variants lay the cols (C K K, OH OW) of n images side by side in
// one (C K K, N) (image j in columns j OH OW on), run ONE sgemm per chunk, and deal
// the (OC, N) result back into NCHW (backward gathers dout the same way). n is
// what the workspace holds, at most about 256 columns per OpenBLAS thread. These
// thin products (OC = 32..64 rows) run fastest at a few hundred columns a thread and
// slow down past a thousand as col leaves the cache (bench_conv chunks: a 16x16 3x3
// 32->32 conv, 64 images, forward+backward on one thread: 14 ms one image at a
// time, 17 ms in chunks of 16), so a chunk is one image with 16x16 outputs but 7
// with 6x6 (up to 10% faster than one by one). What chunks save is calls: on several
// threads each call wakes and syncs the others, which on a busy 2-core machine cost
// the cnn policy's PPO up to three quarters of its time (2 threads, 20k steps of
// Breakout: 126 steps/s and 75 s of system time one image per call, 500 to 580
// steps/s and 2 to 8 s in chunks); larger chunks (1024 or 2048 columns a thread)
// trained slower there.
#include <assert.h>
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "nn/nn.h"

int lc_conv_out(int H, int K, int stride, int pad) {
    assert(stride >= 1 && pad >= 0 && K >= 1);
    return (H + 2 * pad - K) / stride + 1;
}

int lc_convt_out(int H, int K, int stride, int pad) {
    assert(stride >= 1 && pad >= 0 && K >= 1);
    return (H - 1) * stride - 2 * pad + K;
}

size_t lc_conv2d_col_size(int C, int H, int W, int K, int stride, int pad) {
    int OH = lc_conv_out(H, K, stride, pad), OW = lc_conv_out(W, K, stride, pad);
    assert(OH > 0 && OW > 0);
    return (size_t)C * K * K * OH * OW;
}

#define MOST_COLS 4096 // the chunk of 16 threads and more

// Columns per chunk for the current OpenBLAS threads (see the top of the file).
static size_t chunk_cols(void) {
    int t = lc_nn_get_threads();
    return t <= 1 ? 256 : t < 16 ? (size_t)256 * (size_t)t : MOST_COLS;
}

// Images per chunk: as many as nws floats hold at per floats each, at most B, about
// cols columns (L per image) and few enough that N stays an int for sgemm.
static int chunk_size(size_t nws, size_t per, size_t L, size_t cols, int B) {
    size_t n = nws / per, most = cols / L;
    if (n > most) n = most;
    if (n > INT_MAX / L) n = INT_MAX / L;
    return n >= (size_t)B ? B : n < 1 ? 1 : (int)n;
}

// Workspace floats per image of a chunk: its col plus its share of the (OC, N)
// result (conv) or of the gathered (C, N) input (convt); room for the largest chunk.
size_t lc_conv2d_ws_size(int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    int OH = lc_conv_out(H, K, stride, pad), OW = lc_conv_out(W, K, stride, pad);
    assert(B >= 1 && OH > 0 && OW > 0);
    size_t L = (size_t)OH * OW, per = L * ((size_t)C * K * K + (size_t)OC);
    return (size_t)chunk_size(SIZE_MAX, per, L, MOST_COLS, B) * per;
}

size_t lc_convt2d_ws_size(int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    assert(B >= 1 && lc_convt_out(H, K, stride, pad) > 0 && lc_convt_out(W, K, stride, pad) > 0);
    size_t L = (size_t)H * W, per = L * ((size_t)OC * K * K + (size_t)C);
    return (size_t)chunk_size(SIZE_MAX, per, L, MOST_COLS, B) * per;
}

// d[0, n) = s[0, n) for the short runs of im2col: blocks of 8 or 4 floats of a
// constant size (one vector move each), the last one overlapping; scalars under 4.
static inline void copy_run(float *restrict d, const float *restrict s, int n) {
    if (n >= 8) {
        for (int i = 0; i + 8 < n; i += 8) memcpy(d + i, s + i, 8 * sizeof(float));
        memcpy(d + n - 8, s + n - 8, 8 * sizeof(float));
    } else if (n >= 4) {
        memcpy(d, s, 4 * sizeof(float));
        memcpy(d + n - 4, s + n - 4, 4 * sizeof(float));
    } else {
        for (int i = 0; i < n; i++) d[i] = s[i];
    }
}

// d[0, n) += s[0, n): blocks of 8 with a constant trip count (gcc -O2 vectorises
// those), then scalars. (Blocks of 4 lose: col2im's runs for kj and kj + 1 overlap,
// and a short vector load right after an overlapping store stalls.)
static inline void add_run(float *restrict d, const float *restrict s, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) d[i + j] += s[i + j];
    for (; i < n; i++) d[i] += s[i];
}

// A conv's geometry: input (C, H, W), kernel K, stride s, pad p, output (OH, OW).
typedef struct geom {
    int C, H, W, K, s, p, OH, OW;
} geom;

// col rows (c, ki, kj) of one image im (C, H, W), row r at col + r ld (ld = N
// inside a chunk); zero where the window hangs over the padding. Each row holds
// the padded image's pixels (oh s - p + ki, ow s - p + kj), so for ki >= s it is the
// row of ki - s moved up one output row, and for kj >= s the row of kj - s moved
// left one output column: contiguous copies of rows already built, leaving one
// output row (or column) to read from the image, which at stride > 1 is a gather.
static void im2col(float *col, size_t ld, const float *im, const geom *g) {
    int H = g->H, W = g->W, K = g->K, s = g->s, p = g->p, OH = g->OH, OW = g->OW;
    for (int c = 0; c < g->C; c++) {
        const float *ic = im + (size_t)c * H * W;
        for (int ki = 0; ki < K; ki++) {
            for (int kj = 0; kj < K; kj++) {
                float *row = col + (size_t)((c * K + ki) * K + kj) * ld;
                // ow range whose input column iw = ow s - p + kj lies in [0, W)
                int lo = p - kj > 0 ? (p - kj + s - 1) / s : 0;
                int hi = (W - 1 + p - kj) >= 0 ? (W - 1 + p - kj) / s + 1 : 0;
                if (hi > OW) hi = OW;
                if (lo > hi) lo = hi;
                int oh = 0;
                if (ki >= s) {
                    const float *up = row - (size_t)s * K * ld; // row (c, ki - s, kj)
                    memcpy(row, up + OW, (size_t)(OH - 1) * OW * sizeof(float));
                    oh = OH - 1;
                }
                for (; oh < OH; oh++) {
                    float *r = row + (size_t)oh * OW;
                    int ih = oh * s - p + ki;
                    if (ih < 0 || ih >= H) {
                        memset(r, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    const float *ir = ic + (size_t)ih * W;
                    if (s > 1 && kj >= s) { // row (c, ki, kj - s), one column on
                        copy_run(r, r - (size_t)s * ld + 1, OW - 1);
                        r[OW - 1] = OW - 1 >= lo && OW - 1 < hi ? ir[(OW - 1) * s - p + kj] : 0.0f;
                        continue;
                    }
                    // input column of ow is ow s - p + kj; src is the one of lo
                    for (int ow = 0; ow < lo; ow++) r[ow] = 0.0f;
                    if (hi > lo) {
                        const float *src = ir + (lo * s - p + kj);
                        if (s == 1) copy_run(r + lo, src, hi - lo);
                        else
                            for (int ow = lo; ow < hi; ow++) r[ow] = src[(size_t)(ow - lo) * s];
                    }
                    for (int ow = hi; ow < OW; ow++) r[ow] = 0.0f;
                }
            }
        }
    }
}

// im (C, H, W) += the scatter of col rows (row stride ld), the adjoint of im2col,
// which also MODIFIES col: rows go last to first, each handing what im2col copied
// (ki >= s: all but its last output row; kj >= s: all but its last column at
// stride > 1) to the row it was copied from, with contiguous adds, and scattering
// only the rest into im.
static void col2im(float *im, float *col, size_t ld, const geom *g) {
    int H = g->H, W = g->W, K = g->K, s = g->s, p = g->p, OH = g->OH, OW = g->OW;
    for (int c = g->C - 1; c >= 0; c--) {
        float *ic = im + (size_t)c * H * W;
        for (int ki = K - 1; ki >= 0; ki--) {
            for (int kj = K - 1; kj >= 0; kj--) {
                float *row = col + (size_t)((c * K + ki) * K + kj) * ld;
                int lo = p - kj > 0 ? (p - kj + s - 1) / s : 0;
                int hi = (W - 1 + p - kj) >= 0 ? (W - 1 + p - kj) / s + 1 : 0;
                if (hi > OW) hi = OW;
                int oh = 0;
                if (ki >= s) {
                    add_run(row - (size_t)s * K * ld + OW, row, (OH - 1) * OW);
                    oh = OH - 1;
                }
                for (; oh < OH; oh++) {
                    int ih = oh * s - p + ki;
                    float *r = row + (size_t)oh * OW;
                    if (s > 1 && kj >= s) {
                        add_run(r - (size_t)s * ld + 1, r, OW - 1);
                        if (ih >= 0 && ih < H && OW - 1 >= lo && OW - 1 < hi)
                            ic[(size_t)ih * W + (OW - 1) * s - p + kj] += r[OW - 1];
                        continue;
                    }
                    if (ih < 0 || ih >= H || hi <= lo) continue;
                    float *dst = ic + (size_t)ih * W + (size_t)(lo * s - p + kj);
                    if (s == 1) add_run(dst, r + lo, hi - lo);
                    else
                        for (int ow = lo; ow < hi; ow++) dst[(size_t)(ow - lo) * s] += r[ow];
                }
            }
        }
    }
}

// The col (C K K, N) of the n images at im, side by side.
static void cols_of(float *col, const float *im, int n, const geom *g) {
    size_t L = (size_t)g->OH * g->OW, img = (size_t)g->C * g->H * g->W;
    for (int j = 0; j < n; j++) im2col(col + (size_t)j * L, (size_t)n * L, im + (size_t)j * img, g);
}

// The n images at im += the scatter of a chunk's col (which it modifies), the
// adjoint of cols_of.
static void cols_to(float *im, float *col, int n, const geom *g) {
    size_t L = (size_t)g->OH * g->OW, img = (size_t)g->C * g->H * g->W;
    for (int j = 0; j < n; j++) col2im(im + (size_t)j * img, col + (size_t)j * L, (size_t)n * L, g);
}

// dst (R, n L) from src (n, R, L): the n images' rows side by side.
static void gather(float *dst, const float *src, int n, int R, size_t L) {
    size_t N = (size_t)n * L;
    for (int j = 0; j < n; j++)
        for (int r = 0; r < R; r++)
            memcpy(dst + (size_t)r * N + (size_t)j * L, src + ((size_t)j * R + r) * L,
                   L * sizeof(float));
}

// dst (n, R, L) = src (R, n L) + b (R) (b NULL: none), or += src when add.
static void deal(float *dst, const float *src, const float *b, int add, int n, int R, size_t L) {
    size_t N = (size_t)n * L;
    for (int j = 0; j < n; j++)
        for (int r = 0; r < R; r++) {
            float *d = dst + ((size_t)j * R + r) * L;
            const float *s = src + (size_t)r * N + (size_t)j * L;
            if (add)
                for (size_t i = 0; i < L; i++) d[i] += s[i];
            else {
                float v = b ? b[r] : 0.0f;
                for (size_t i = 0; i < L; i++) d[i] = s[i] + v;
            }
        }
}

static void fill_bias(float *out, const float *b, int OC, size_t hw) {
    for (int o = 0; o < OC; o++) {
        float *d = out + (size_t)o * hw;
        float v = b ? b[o] : 0.0f;
        for (size_t i = 0; i < hw; i++) d[i] = v;
    }
}

static void sum_bias(float *db, const float *dout, int OC, size_t hw) {
    for (int o = 0; o < OC; o++) {
        const float *d = dout + (size_t)o * hw;
        float s = 0.0f;
        for (size_t i = 0; i < hw; i++) s += d[i];
        db[o] += s;
    }
}

static int is_pointwise(int K, int stride, int pad) { return K == 1 && stride == 1 && pad == 0; }

void lc_conv2d_forward_ws(float *out, float *ws, size_t nws, const float *in, const float *w,
                          const float *b, int B, int C, int H, int W, int OC, int K, int stride,
                          int pad) {
    geom g = {C, H, W, K, stride, pad, lc_conv_out(H, K, stride, pad),
              lc_conv_out(W, K, stride, pad)};
    assert(g.OH > 0 && g.OW > 0 && nws >= lc_conv2d_col_size(C, H, W, K, stride, pad));
    int CKK = C * K * K, OHW = g.OH * g.OW;
    int nb = chunk_size(nws, (size_t)OHW * (CKK + OC), (size_t)OHW, chunk_cols(), B);
    for (int i = 0; i < B; i += nb) {
        int n = B - i < nb ? B - i : nb, N = n * OHW;
        const float *im = in + (size_t)i * C * H * W, *col = ws;
        float *o = out + (size_t)i * OC * OHW;
        if (n == 1 && is_pointwise(K, stride, pad)) col = im; // its own col
        else cols_of(ws, im, n, &g);
        // res (OC, N) = w (OC, C K K) @ col (+ b); one image's res is its out
        float *res = o;
        if (n > 1) res = ws + (size_t)CKK * N;
        else if (b) fill_bias(o, b, OC, (size_t)OHW);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, N, CKK, 1.0f, w, CKK, col, N,
                    n == 1 && b ? 1.0f : 0.0f, res, N);
        if (n > 1) deal(o, res, b, 0, n, OC, (size_t)OHW);
    }
}

void lc_conv2d_backward_ws(float *din, float *dw, float *db, float *ws, size_t nws,
                           const float *dout, const float *in, const float *w, int B, int C, int H,
                           int W, int OC, int K, int stride, int pad) {
    geom g = {C, H, W, K, stride, pad, lc_conv_out(H, K, stride, pad),
              lc_conv_out(W, K, stride, pad)};
    assert(g.OH > 0 && g.OW > 0 && nws >= lc_conv2d_col_size(C, H, W, K, stride, pad));
    int CKK = C * K * K, OHW = g.OH * g.OW, pw = is_pointwise(K, stride, pad);
    int nb = chunk_size(nws, (size_t)OHW * (CKK + OC), (size_t)OHW, chunk_cols(), B);
    for (int i = 0; i < B; i += nb) {
        int n = B - i < nb ? B - i : nb, N = n * OHW;
        const float *im = in + (size_t)i * C * H * W, *col = ws;
        const float *d = dout + (size_t)i * OC * OHW, *dg = d; // dg: dout (OC, N)
        if (n == 1 && pw) col = im;
        else cols_of(ws, im, n, &g);
        if (n > 1) {
            float *t = ws + (size_t)CKK * N;
            gather(t, d, n, OC, (size_t)OHW);
            dg = t;
        }
        if (db) sum_bias(db, dg, OC, (size_t)N);
        // dw (OC, C K K) += dout (OC, N) @ col^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, N, 1.0f, dg, N, col, N, 1.0f,
                    dw, CKK);
        if (!din) continue;
        float *di = din + (size_t)i * C * H * W;
        if (n == 1 && pw) { // din (C, H W) += w^T (C, OC) @ dout (OC, H W)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, OHW, OC, 1.0f, w, CKK, d,
                        OHW, 1.0f, di, OHW);
            continue;
        }
        // dcol (C K K, N) = w^T @ dout, then scattered back into each image of din
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, N, OC, 1.0f, w, CKK, dg, N, 0.0f,
                    ws, N);
        cols_to(di, ws, n, &g);
    }
}

void lc_conv2d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                       int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    lc_conv2d_forward_ws(out, col, lc_conv2d_col_size(C, H, W, K, stride, pad), in, w, b, B, C, H,
                         W, OC, K, stride, pad);
}

void lc_conv2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                        const float *in, const float *w, int B, int C, int H, int W, int OC, int K,
                        int stride, int pad) {
    lc_conv2d_backward_ws(din, dw, db, col, lc_conv2d_col_size(C, H, W, K, stride, pad), dout, in,
                          w, B, C, H, W, OC, K, stride, pad);
}

// The transposed convolution maps in (C, H, W) to out (OC, OH, OW) as the input
// gradient of a conv2d from (OC, OH, OW) to (C, H, W) with the same weights (geometry
// g below).
void lc_convt2d_forward_ws(float *out, float *ws, size_t nws, const float *in, const float *w,
                           const float *b, int B, int C, int H, int W, int OC, int K, int stride,
                           int pad) {
    int OH = lc_convt_out(H, K, stride, pad), OW = lc_convt_out(W, K, stride, pad);
    geom g = {OC, OH, OW, K, stride, pad, H, W};
    assert(OH > 0 && OW > 0 && nws >= lc_conv2d_col_size(OC, OH, OW, K, stride, pad));
    int OKK = OC * K * K, HW = H * W;
    size_t OHW = (size_t)OH * OW;
    int nb = chunk_size(nws, (size_t)HW * (OKK + C), (size_t)HW, chunk_cols(), B);
    for (int i = 0; i < B; i += nb) {
        int n = B - i < nb ? B - i : nb, N = n * HW;
        const float *x = in + (size_t)i * C * HW, *xg = x; // xg: in (C, N)
        float *o = out + (size_t)i * OC * OHW;
        for (int j = 0; j < n; j++) fill_bias(o + (size_t)j * OC * OHW, b, OC, OHW);
        if (n == 1 && is_pointwise(K, stride, pad)) { // out (OC, H W) += w^T (OC, C) @ in
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OKK, HW, C, 1.0f, w, OKK, x, HW,
                        1.0f, o, HW);
            continue;
        }
        if (n > 1) {
            float *t = ws + (size_t)OKK * N;
            gather(t, x, n, C, (size_t)HW);
            xg = t;
        }
        // col (OC K K, N) = w^T (OC K K, C) @ in (C, N), scattered into each image of out
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OKK, N, C, 1.0f, w, OKK, xg, N, 0.0f,
                    ws, N);
        cols_to(o, ws, n, &g);
    }
}

void lc_convt2d_backward_ws(float *din, float *dw, float *db, float *ws, size_t nws,
                            const float *dout, const float *in, const float *w, int B, int C,
                            int H, int W, int OC, int K, int stride, int pad) {
    int OH = lc_convt_out(H, K, stride, pad), OW = lc_convt_out(W, K, stride, pad);
    geom g = {OC, OH, OW, K, stride, pad, H, W};
    assert(OH > 0 && OW > 0 && nws >= lc_conv2d_col_size(OC, OH, OW, K, stride, pad));
    int OKK = OC * K * K, HW = H * W;
    size_t OHW = (size_t)OH * OW;
    int nb = chunk_size(nws, (size_t)HW * (OKK + C), (size_t)HW, chunk_cols(), B);
    for (int i = 0; i < B; i += nb) {
        int n = B - i < nb ? B - i : nb, N = n * HW;
        const float *x = in + (size_t)i * C * HW, *xg = x; // xg: in (C, N)
        const float *d = dout + (size_t)i * OC * OHW, *col = ws;
        float *t = n > 1 ? ws + (size_t)OKK * N : NULL;
        if (db)
            for (int j = 0; j < n; j++) sum_bias(db, d + (size_t)j * OC * OHW, OC, OHW);
        if (n == 1 && is_pointwise(K, stride, pad)) col = d; // dout is its own col
        else cols_of(ws, d, n, &g); // col (OC K K, N) of dout
        if (t) {
            gather(t, x, n, C, (size_t)HW);
            xg = t;
        }
        // dw (C, OC K K) += in (C, N) @ col^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, OKK, N, 1.0f, xg, N, col, N, 1.0f,
                    dw, OKK);
        if (!din) continue;
        // din (C, N) += w (C, OC K K) @ col: straight into one image, dealt from t for more
        float *di = din + (size_t)i * C * HW;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, N, OKK, 1.0f, w, OKK, col, N,
                    t ? 0.0f : 1.0f, t ? t : di, N);
        if (t) deal(di, t, NULL, 1, n, C, (size_t)HW);
    }
}

void lc_convt2d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                        int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    int OH = lc_convt_out(H, K, stride, pad), OW = lc_convt_out(W, K, stride, pad);
    lc_convt2d_forward_ws(out, col, lc_conv2d_col_size(OC, OH, OW, K, stride, pad), in, w, b, B, C,
                          H, W, OC, K, stride, pad);
}

void lc_convt2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                         const float *in, const float *w, int B, int C, int H, int W, int OC,
                         int K, int stride, int pad) {
    int OH = lc_convt_out(H, K, stride, pad), OW = lc_convt_out(W, K, stride, pad);
    lc_convt2d_backward_ws(din, dw, db, col, lc_conv2d_col_size(OC, OH, OW, K, stride, pad), dout,
                           in, w, B, C, H, W, OC, K, stride, pad);
}

// ---------------------------------------------------------------- global pooling

void lc_gpool_forward(float *out, int *argmax, const float *in, int B, int C, int S) {
    assert(S >= 1);
    const float inv = 1.0f / (float)S;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            const float *x = in + ((size_t)b * C + c) * S;
            float sum = 0.0f, mx = x[0];
            int am = 0;
            for (int s = 0; s < S; s++) {
                sum += x[s];
                if (x[s] > mx) mx = x[s], am = s;
            }
            out[(size_t)b * 2 * C + c] = sum * inv;
            out[(size_t)b * 2 * C + C + c] = mx;
            if (argmax) argmax[(size_t)b * C + c] = am;
        }
}

void lc_gpool_backward(float *din, const float *dout, const int *argmax, int B, int C, int S) {
    const float inv = 1.0f / (float)S;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            float *dx = din + ((size_t)b * C + c) * S;
            float dm = dout[(size_t)b * 2 * C + c] * inv;
            for (int s = 0; s < S; s++) dx[s] += dm;
            dx[argmax[(size_t)b * C + c]] += dout[(size_t)b * 2 * C + C + c];
        }
}
