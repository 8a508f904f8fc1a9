// nn/conv.c: 2-D convolution and transposed convolution, NCHW, square kernels,
// one image at a time through im2col / col2im and an sgemm. Backward adds (+=).
// Leaves out: dilation, groups, non-square kernels or strides, output padding.
//
// B = batch, C = input channels, H, W = input height and width, OC = output
// channels, K = kernel size, OH, OW = output height and width.
#include <assert.h>
#include <cblas.h>
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

// col (C K K, OH OW) from one image im (C, H, W); zero where the window hangs
// over the padding.
static void im2col(float *col, const float *im, int C, int H, int W, int K, int s, int p, int OH,
                   int OW) {
    for (int c = 0; c < C; c++) {
        const float *ic = im + (size_t)c * H * W;
        for (int ki = 0; ki < K; ki++) {
            for (int kj = 0; kj < K; kj++) {
                float *row = col + ((size_t)(c * K + ki) * K + kj) * OH * OW;
                // ow range whose input column iw = ow s - p + kj lies in [0, W)
                int lo = p - kj > 0 ? (p - kj + s - 1) / s : 0;
                int hi = (W - 1 + p - kj) >= 0 ? (W - 1 + p - kj) / s + 1 : 0;
                if (hi > OW) hi = OW;
                if (lo > hi) lo = hi;
                for (int oh = 0; oh < OH; oh++) {
                    float *r = row + (size_t)oh * OW;
                    int ih = oh * s - p + ki;
                    if (ih < 0 || ih >= H) {
                        memset(r, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    // input column of ow is ow s - p + kj; src is the one of lo
                    for (int ow = 0; ow < lo; ow++) r[ow] = 0.0f;
                    if (hi > lo) {
                        const float *src = ic + (size_t)ih * W + (size_t)(lo * s - p + kj);
                        if (s == 1) memcpy(r + lo, src, (size_t)(hi - lo) * sizeof(float));
                        else
                            for (int ow = lo; ow < hi; ow++) r[ow] = src[(size_t)(ow - lo) * s];
                    }
                    for (int ow = hi; ow < OW; ow++) r[ow] = 0.0f;
                }
            }
        }
    }
}

// im (C, H, W) += the scatter of col (C K K, OH OW), the adjoint of im2col.
static void col2im(float *im, const float *col, int C, int H, int W, int K, int s, int p, int OH,
                   int OW) {
    for (int c = 0; c < C; c++) {
        float *ic = im + (size_t)c * H * W;
        for (int ki = 0; ki < K; ki++) {
            for (int kj = 0; kj < K; kj++) {
                const float *row = col + ((size_t)(c * K + ki) * K + kj) * OH * OW;
                int lo = p - kj > 0 ? (p - kj + s - 1) / s : 0;
                int hi = (W - 1 + p - kj) >= 0 ? (W - 1 + p - kj) / s + 1 : 0;
                if (hi > OW) hi = OW;
                for (int oh = 0; oh < OH; oh++) {
                    int ih = oh * s - p + ki;
                    if (ih < 0 || ih >= H) continue;
                    const float *r = row + (size_t)oh * OW;
                    if (hi <= lo) continue;
                    float *dst = ic + (size_t)ih * W + (size_t)(lo * s - p + kj);
                    for (int ow = lo; ow < hi; ow++) dst[(size_t)(ow - lo) * s] += r[ow];
                }
            }
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

void lc_conv2d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                       int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    int OH = lc_conv_out(H, K, stride, pad), OW = lc_conv_out(W, K, stride, pad);
    assert(OH > 0 && OW > 0);
    int CKK = C * K * K, OHW = OH * OW;
    for (int i = 0; i < B; i++) {
        const float *im = in + (size_t)i * C * H * W;
        float *o = out + (size_t)i * OC * OHW;
        const float *cm = im;
        if (!is_pointwise(K, stride, pad)) {
            im2col(col, im, C, H, W, K, stride, pad, OH, OW);
            cm = col;
        }
        if (b) fill_bias(o, b, OC, (size_t)OHW);
        // out (OC, OH OW) = w (OC, C K K) @ col (C K K, OH OW)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, OHW, CKK, 1.0f, w, CKK, cm, OHW,
                    b ? 1.0f : 0.0f, o, OHW);
    }
}

void lc_conv2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                        const float *in, const float *w, int B, int C, int H, int W, int OC, int K,
                        int stride, int pad) {
    int OH = lc_conv_out(H, K, stride, pad), OW = lc_conv_out(W, K, stride, pad);
    assert(OH > 0 && OW > 0);
    int CKK = C * K * K, OHW = OH * OW;
    int pw = is_pointwise(K, stride, pad);
    for (int i = 0; i < B; i++) {
        const float *im = in + (size_t)i * C * H * W;
        const float *d = dout + (size_t)i * OC * OHW;
        if (db) sum_bias(db, d, OC, (size_t)OHW);
        const float *cm = im;
        if (!pw) {
            im2col(col, im, C, H, W, K, stride, pad, OH, OW);
            cm = col;
        }
        // dw (OC, C K K) += dout (OC, OH OW) @ col^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, OHW, 1.0f, d, OHW, cm, OHW,
                    1.0f, dw, CKK);
        if (!din) continue;
        float *di = din + (size_t)i * C * H * W;
        if (pw) { // din (C, H W) += w^T (C, OC) @ dout (OC, H W)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, OHW, OC, 1.0f, w, CKK, d,
                        OHW, 1.0f, di, OHW);
            continue;
        }
        // dcol (C K K, OH OW) = w^T @ dout, then scattered back into din
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, OHW, OC, 1.0f, w, CKK, d, OHW,
                    0.0f, col, OHW);
        col2im(di, col, C, H, W, K, stride, pad, OH, OW);
    }
}

// The transposed convolution maps in (C, H, W) to out (OC, OH, OW) as the input
// gradient of a conv2d from (OC, OH, OW) to (C, H, W) with the same weights.
void lc_convt2d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                        int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    int OH = lc_convt_out(H, K, stride, pad), OW = lc_convt_out(W, K, stride, pad);
    assert(OH > 0 && OW > 0);
    int OKK = OC * K * K, HW = H * W;
    size_t OHW = (size_t)OH * OW;
    int pw = is_pointwise(K, stride, pad);
    for (int i = 0; i < B; i++) {
        const float *x = in + (size_t)i * C * HW;
        float *o = out + (size_t)i * OC * OHW;
        fill_bias(o, b, OC, OHW);
        if (pw) { // out (OC, H W) += w^T (OC, C) @ in (C, H W)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OKK, HW, C, 1.0f, w, OKK, x, HW,
                        1.0f, o, HW);
            continue;
        }
        // col (OC K K, H W) = w^T (OC K K, C) @ in (C, H W)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OKK, HW, C, 1.0f, w, OKK, x, HW, 0.0f,
                    col, HW);
        col2im(o, col, OC, OH, OW, K, stride, pad, H, W);
    }
}

void lc_convt2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                         const float *in, const float *w, int B, int C, int H, int W, int OC,
                         int K, int stride, int pad) {
    int OH = lc_convt_out(H, K, stride, pad), OW = lc_convt_out(W, K, stride, pad);
    assert(OH > 0 && OW > 0);
    int OKK = OC * K * K, HW = H * W;
    size_t OHW = (size_t)OH * OW;
    int pw = is_pointwise(K, stride, pad);
    for (int i = 0; i < B; i++) {
        const float *x = in + (size_t)i * C * HW;
        const float *d = dout + (size_t)i * OC * OHW;
        if (db) sum_bias(db, d, OC, OHW);
        const float *cm = d;
        if (!pw) { // col (OC K K, H W) = im2col of dout (OC, OH, OW)
            im2col(col, d, OC, OH, OW, K, stride, pad, H, W);
            cm = col;
        }
        // dw (C, OC K K) += in (C, H W) @ col^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, OKK, HW, 1.0f, x, HW, cm, HW, 1.0f,
                    dw, OKK);
        // din (C, H W) += w (C, OC K K) @ col
        if (din)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, HW, OKK, 1.0f, w, OKK, cm,
                        HW, 1.0f, din + (size_t)i * C * HW, HW);
    }
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
            argmax[(size_t)b * C + c] = am;
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
