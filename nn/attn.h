// nn/attn.h: a transformer block over a set of positions (internal to lucid: the token
// dynamics and the benchmarks use it): pre-layer-norm multi-head self-attention and an MLP,
// each added back to its input (residual). Forward and backward on OpenBLAS sgemm.
// Leaves out: causal masks, dropout, positional encodings (the caller adds its own).
//
// B = batch, T = positions, C = width of the residual stream, NH = heads, HD = head
// dimension, A = NH HD, F = the MLP's hidden width (0: no MLP). Rows are positions:
// in/out (B, T, C).
//
//   y = x + Wo MHSA(LN1(x)) + bo            MHSA: softmax(Q K^T / sqrt(HD)) V per head,
//   out = y + W2 relu(W1 LN2(y) + b1) + b2  Q, K, V = rows of Wqkv LN1(x) + bqkv
#ifndef LC_NN_ATTN_H
#define LC_NN_ATTN_H

#include <stddef.h>

#include "nn/nn.h"

typedef struct lc_attn {
    int C, NH, HD, F;
    int ln1w, ln1b, wqkv, bqkv, wo, bo; // parameter indices: (C) (C) (3A, C) (3A) (C, A) (C)
    int ln2w, ln2b, w1, b1, w2, b2;     // (C) (C) (F, C) (F) (C, F) (C); -1 when F is 0
} lc_attn;

// Registers PREFIX.ln1w, .ln1b, .wqkv, .bqkv, .wo, .bo (and .ln2w, .ln2b, .w1, .b1, .w2,
// .b2 when F > 0) in p.
void lc_attn_define(lc_attn *a, lc_params *p, const char *prefix, int C, int NH, int HD, int F);
// After lc_params_alloc: layer norms at (1, 0), Wqkv and W1 Xavier uniform, the residual
// branches' outputs Wo, W2 at out_gain times Xavier (small: the block starts near identity).
void lc_attn_init(const lc_attn *a, lc_params *p, float out_gain, lc_rng *rng);

// Floats of saved activations for B x T (train: what backward needs, including the
// attention weights (B, NH, T, T); else one (T, T) scratch).
size_t lc_attn_act_size(const lc_attn *a, int B, int T, int train);
// Floats of backward scratch.
size_t lc_attn_work_size(const lc_attn *a, int B, int T);

// out (B, T, C) (not aliasing in); acts from lc_attn_act_size(train).
void lc_attn_forward(const lc_attn *a, const lc_params *p, float *acts, float *out,
                     const float *in, int B, int T, int train);
// Backward of a train forward: grads += into p->grads; din (B, T, C) += (may be NULL).
void lc_attn_backward(const lc_attn *a, lc_params *p, float *work, const float *acts,
                      const float *in, const float *dout, float *din, int B, int T);

#endif
