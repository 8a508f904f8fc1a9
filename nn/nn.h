// nn/nn.h: float32 neural-network maths on plain arrays, llm.c style.
// Layers are forward/backward pairs; backward ADDS into gradients (+=) so that
// zeroing is one memset of the gradient arena. Every matrix product is OpenBLAS.
// Leaves out: autograd, GPU, mixed precision.
//
// Letters used in shapes: B = batch, T = time, C = input channels/features,
// OC = output channels/features, H = hidden size or height, W = width,
// K = kernel size or number of codes, D = code dimension, V = classes, E = members.
// Row-major everywhere. Linear weights are (OC, C) as in llm.c / PyTorch.
#ifndef LC_NN_NN_H
#define LC_NN_NN_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "core/rng.h"

LC_API_BEGIN

// ---------------------------------------------------------------- threads

// OpenBLAS threads for every product (openblas_set_num_threads; n < 1 means 1).
// Library calls never change it: callers pick, e.g. 1 for batches of a few dozen
// rows, where waking a second thread costs more than it saves.
void lc_nn_set_threads(int n);
int lc_nn_get_threads(void);

// ---------------------------------------------------------------- layers

// out (B, OC) = in (B, C) @ w^T (OC, C) + b (OC); b may be NULL.
void lc_linear_forward(float *out, const float *in, const float *w, const float *b, int B, int C,
                       int OC);
// din (B, C) may be NULL; db may be NULL when there is no bias. All += .
void lc_linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *w, int B, int C, int OC);

// Activations, elementwise over n values. in and out may alias in forward.
// Backward of relu and tanh uses the forward OUTPUT; silu and gelu use the INPUT.
void lc_relu_forward(float *out, const float *in, size_t n);
void lc_relu_backward(float *din, const float *dout, const float *out, size_t n);
void lc_tanh_forward(float *out, const float *in, size_t n);
void lc_tanh_backward(float *din, const float *dout, const float *out, size_t n);
void lc_silu_forward(float *out, const float *in, size_t n);
void lc_silu_backward(float *din, const float *dout, const float *in, size_t n);
void lc_gelu_forward(float *out, const float *in, size_t n); // tanh approximation
void lc_gelu_backward(float *din, const float *dout, const float *in, size_t n);

typedef enum lc_act { LC_ACT_NONE = 0, LC_ACT_RELU, LC_ACT_TANH, LC_ACT_SILU, LC_ACT_GELU } lc_act;
const char *lc_act_name(lc_act a);          // "none", "relu", "tanh", "silu", "gelu"
int lc_act_parse(const char *s, lc_act *a); // LC_OK or LC_ERR_ARG
void lc_act_forward(lc_act a, float *out, const float *in, size_t n);
// Needs both the input and the output of the forward pass.
void lc_act_backward(lc_act a, float *din, const float *dout, const float *in, const float *out,
                     size_t n);

// Layer norm over the last dimension C. mean, rstd: (B) saved for backward.
void lc_layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *w,
                          const float *b, int B, int C);
void lc_layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w, const float *mean, const float *rstd, int B, int C);

// Row-wise log-softmax and softmax (numerically stable). (B, V).
void lc_log_softmax(float *out, const float *logits, int B, int V);
void lc_softmax(float *out, const float *logits, int B, int V);
// Softmax + cross-entropy. probs (B, V) saved for backward; returns the mean loss.
// targets[b] in [0, V).
float lc_xent_forward(float *probs, const float *logits, const int *targets, int B, int V);
// dlogits += scale * (probs - onehot(target)); scale = 1/B for the mean loss.
void lc_xent_backward(float *dlogits, const float *probs, const int *targets, int B, int V,
                      float scale);

// Mean squared error over n values: mean((pred - target)^2).
float lc_mse_forward(const float *pred, const float *target, size_t n);
// dpred += scale * 2 (pred - target) / n.
void lc_mse_backward(float *dpred, const float *pred, const float *target, size_t n, float scale);

// Gaussian negative log-likelihood with a diagonal log-variance, (B, D):
// loss = mean over B of sum over D of 0.5 (logvar + (t - mu)^2 exp(-logvar) + log 2pi).
float lc_gauss_nll_forward(const float *mu, const float *logvar, const float *target, int B, int D);
// dmu, dlogvar += scale * d(loss)/d(.), where loss is the value above (scale 1 = exact).
void lc_gauss_nll_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                           const float *target, int B, int D, float scale);

// Binary cross-entropy with logits over n values, mean. target in [0, 1].
float lc_bce_logits_forward(const float *logits, const float *target, size_t n);
void lc_bce_logits_backward(float *dlogits, const float *logits, const float *target, size_t n,
                            float scale);

// GRU cell (PyTorch gate order r, z, n):
//   r = s(x Wxr + bxr + h Whr + bhr), z = s(x Wxz + bxz + h Whz + bhz)
//   n = tanh(x Wxn + bxn + r * (h Whn + bhn)),  h' = (1 - z) * n + z * h
// wx (3H, C), wh (3H, H), bx (3H), bh (3H). cache (B, LC_GRU_CACHE(H)) saved for backward.
#define LC_GRU_CACHE(H) (4 * (H))
void lc_gru_forward(float *h_out, float *cache, const float *x, const float *h_in, const float *wx,
                    const float *wh, const float *bx, const float *bh, int B, int C, int H);
// dx (B, C) and dh_in (B, H) may be NULL. All +=.
void lc_gru_backward(float *dx, float *dh_in, float *dwx, float *dwh, float *dbx, float *dbh,
                     const float *dh_out, const float *cache, const float *x, const float *h_in,
                     const float *wx, const float *wh, int B, int C, int H);
// h_out may alias h_in. lc_gru_backward takes its scratch from the stack or malloc;
// the _ws variant uses work (lc_gru_work_size floats) and allocates nothing.
size_t lc_gru_work_size(int B, int H);
void lc_gru_backward_ws(float *dx, float *dh_in, float *dwx, float *dwh, float *dbx, float *dbh,
                        const float *dh_out, const float *cache, const float *x, const float *h_in,
                        const float *wx, const float *wh, int B, int C, int H, float *work);
// A sequence with resets: before step t the state is multiplied by (1 - reset[t, b])
// (episode starts). x (T, B, C), h (T + 1, B, H) with h[0] = h0 on input; cache
// (T, B, LC_GRU_CACHE(H)); reset (T, B) or NULL. Backward through time:
// dh (T, B, H) = gradient flowing into each output h[t + 1] from above; dh0 may be NULL.
void lc_gru_seq_forward(float *h, float *cache, const float *x, const uint8_t *reset,
                        const float *wx, const float *wh, const float *bx, const float *bh, int T,
                        int B, int C, int H);
void lc_gru_seq_backward(float *dx, float *dh0, float *dwx, float *dwh, float *dbx, float *dbh,
                         const float *dh, const float *h, const float *cache, const float *x,
                         const uint8_t *reset, const float *wx, const float *wh, int T, int B,
                         int C, int H);
// The same with caller-provided scratch of lc_gru_seq_work_size floats. bx, bh,
// dbx, dbh may be NULL (no biases) in every GRU function.
size_t lc_gru_seq_work_size(int B, int H);
void lc_gru_seq_backward_ws(float *dx, float *dh0, float *dwx, float *dwh, float *dbx, float *dbh,
                            const float *dh, const float *h, const float *cache, const float *x,
                            const uint8_t *reset, const float *wx, const float *wh, int T, int B,
                            int C, int H, float *work);

// 2-D convolution, NCHW. in (B, C, H, W), w (OC, C, K, K), b (OC) or NULL,
// out (B, OC, OH, OW) with OH = lc_conv_out(H, K, stride, pad).
// col: workspace of lc_conv2d_col_size(...) floats (im2col for one image).
int lc_conv_out(int H, int K, int stride, int pad);
size_t lc_conv2d_col_size(int C, int H, int W, int K, int stride, int pad);
void lc_conv2d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                       int B, int C, int H, int W, int OC, int K, int stride, int pad);
void lc_conv2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                        const float *in, const float *w, int B, int C, int H, int W, int OC, int K,
                        int stride, int pad);
// Transposed convolution (the gradient of conv2d with respect to its input),
// in (B, C, H, W), w (C, OC, K, K), out (B, OC, OH, OW), OH = (H - 1) stride - 2 pad + K.
// col: lc_conv2d_col_size(OC, OH, OW, K, stride, pad) floats.
int lc_convt_out(int H, int K, int stride, int pad);
void lc_convt2d_forward(float *out, float *col, const float *in, const float *w, const float *b,
                        int B, int C, int H, int W, int OC, int K, int stride, int pad);
void lc_convt2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                         const float *in, const float *w, int B, int C, int H, int W, int OC,
                         int K, int stride, int pad);

// Batched variants, the same maths with a workspace ws of nws floats: each chunk of
// images goes through ONE sgemm (the chunk's im2col side by side, the result dealt
// back into NCHW) instead of one small product per image, which saves OpenBLAS's
// per-call thread wake-up and sync when it runs on several threads (on one thread
// the two run about as fast). The chunk is what nws holds, at most about 256 output
// pixels per thread (4096 at most), which keeps the thin products in cache.
// lc_conv2d_ws_size (and lc_convt2d_ws_size, same arguments as lc_convt2d_forward)
// gives room for the largest chunk of a batch of B at any thread count: at most
// 4096 (C K K + OC) floats however large B is (10 MB for a 3x3 64->64 conv). Any
// nws from lc_conv2d_col_size up works (the plain functions are these with that
// nws: one image at a time). Results equal the plain functions' up to float
// rounding. Backward uses ws as scratch (col2im modifies the col it reads).
size_t lc_conv2d_ws_size(int B, int C, int H, int W, int OC, int K, int stride, int pad);
void lc_conv2d_forward_ws(float *out, float *ws, size_t nws, const float *in, const float *w,
                          const float *b, int B, int C, int H, int W, int OC, int K, int stride,
                          int pad);
void lc_conv2d_backward_ws(float *din, float *dw, float *db, float *ws, size_t nws,
                           const float *dout, const float *in, const float *w, int B, int C, int H,
                           int W, int OC, int K, int stride, int pad);
size_t lc_convt2d_ws_size(int B, int C, int H, int W, int OC, int K, int stride, int pad);
void lc_convt2d_forward_ws(float *out, float *ws, size_t nws, const float *in, const float *w,
                           const float *b, int B, int C, int H, int W, int OC, int K, int stride,
                           int pad);
void lc_convt2d_backward_ws(float *din, float *dw, float *db, float *ws, size_t nws,
                            const float *dout, const float *in, const float *w, int B, int C,
                            int H, int W, int OC, int K, int stride, int pad);

// Global pooling over space: in (B, C, S) -> out (B, 2C) = [mean over S (C), max over S (C)];
// argmax (B, C, or NULL) receives each max's position in [0, S). Backward: din += dmean / S
// everywhere and dmax at the argmax. Throws away where a feature is, keeps what and how much.
void lc_gpool_forward(float *out, int *argmax, const float *in, int B, int C, int S);
void lc_gpool_backward(float *din, const float *dout, const int *argmax, int B, int C, int S);

// Embedding: out (B, C) = table[ids[b]] with table (V, C). Backward: dtable +=.
void lc_embedding_forward(float *out, const int *ids, const float *table, int B, int V, int C);
void lc_embedding_backward(float *dtable, const float *dout, const int *ids, int B, int V, int C);

// Vector quantisation: codes[b] = argmin_k |z[b] - e[k]|^2, zq[b] = e[codes[b]].
// z (B, D), codebook (K, D). Returns the losses (means over B*D):
//   codebook = |sg(z) - e|^2, commit = |z - sg(e)|^2 (the caller weighs by beta).
typedef struct lc_vq_losses { float codebook, commit; } lc_vq_losses;
lc_vq_losses lc_vq_forward(float *zq, int *codes, const float *z, const float *codebook, int B,
                           int K, int D);
// Straight-through: dz += dzq + beta * d(commit)/dz; dcodebook += d(codebook)/de.
void lc_vq_backward(float *dz, float *dcodebook, const float *dzq, const float *z,
                    const float *codebook, const int *codes, int B, int K, int D, float beta);

// ---------------------------------------------------------------- parameters

// One arena per model: a table of named tensors carves params, grads and the
// two Adam moments, each one contiguous allocation of n floats.
#define LC_MAX_TENSORS 128
typedef struct lc_param_tensor {
    char name[LC_NAME_MAX];
    int ndim;
    int shape[LC_MAX_DIMS];
    size_t offset, size; // in floats
} lc_param_tensor;

typedef struct lc_params {
    int ntensors;
    lc_param_tensor t[LC_MAX_TENSORS];
    size_t n;                   // total floats
    float *params, *grads, *m, *v; // NULL until lc_params_alloc
    int64_t step;               // optimizer steps taken (Adam's t)
} lc_params;

void lc_params_init(lc_params *p);
// Adds a tensor to the table before allocation; returns its index (asserts on overflow).
int lc_params_add(lc_params *p, const char *name, int ndim, const int *shape);
int lc_params_alloc(lc_params *p, lc_error *err); // zero-filled
void lc_params_free(lc_params *p);
float *lc_param(const lc_params *p, int index); // params + t[index].offset
float *lc_grad(const lc_params *p, int index);  // grads + t[index].offset
int lc_params_find(const lc_params *p, const char *name); // index or -1
void lc_params_zero_grad(lc_params *p);
void lc_params_copy(lc_params *dst, const lc_params *src); // same table; params only

// Initialisation.
void lc_init_orthogonal(float *w, int rows, int cols, float gain, lc_rng *rng); // w (rows, cols)
void lc_init_xavier_uniform(float *w, int fan_in, int fan_out, size_t n, lc_rng *rng);
void lc_init_kaiming_uniform(float *w, int fan_in, size_t n, lc_rng *rng);
void lc_init_normal(float *w, size_t n, float std, lc_rng *rng);
void lc_init_uniform(float *w, size_t n, float lo, float hi, lc_rng *rng);

// Optimisers. Adam with bias correction; AdamW (decoupled) when weight_decay > 0.
typedef struct lc_adam {
    float lr, beta1, beta2, eps, weight_decay;
} lc_adam;
lc_adam lc_adam_default(float lr); // beta (0.9, 0.999), eps 1e-8, no decay
void lc_adam_step(lc_params *p, const lc_adam *opt); // increments p->step
float lc_grad_norm(const float *g, size_t n);
// Scales g so its global L2 norm is at most max_norm; returns the norm before.
float lc_clip_grad_norm(float *g, size_t n, float max_norm);
// 1 if every value is finite.
int lc_all_finite(const float *x, size_t n);

typedef enum lc_sched { LC_SCHED_CONST = 0, LC_SCHED_LINEAR, LC_SCHED_COSINE } lc_sched;
// Learning rate at step (0-based) of total, with linear warmup steps (may be 0).
// LINEAR anneals to 0 at total (CleanRL's anneal), COSINE to 0 along a half cosine.
float lc_lr_at(lc_sched s, float base, int64_t step, int64_t total, int64_t warmup);

// Checkpoints: adds tensors PREFIX.NAME (and PREFIX.NAME.m / .v and the meta key
// PREFIX.step when with_opt) to f. load checks every name and shape.
int lc_params_to_file(const lc_params *p, lc_file *f, const char *prefix, int with_opt, lc_error *err);
int lc_params_from_file(lc_params *p, const lc_file *f, const char *prefix, int with_opt, lc_error *err);

// ---------------------------------------------------------------- MLP

// A multi-layer perceptron over a parameter arena: sizes[0] -> ... -> sizes[nlayers],
// activation after every layer but the last, optional layer norm before each
// activation. Used by policies and world models.
#define LC_MLP_MAX_LAYERS 8
typedef struct lc_mlp {
    int nlayers;
    int sizes[LC_MLP_MAX_LAYERS + 1];
    lc_act act;
    int layernorm;
    int w[LC_MLP_MAX_LAYERS], b[LC_MLP_MAX_LAYERS]; // param indices
    int lnw[LC_MLP_MAX_LAYERS], lnb[LC_MLP_MAX_LAYERS];
} lc_mlp;

// Registers the tensors PREFIX.wI, PREFIX.bI (and PREFIX.lnwI, PREFIX.lnbI) in p.
void lc_mlp_define(lc_mlp *m, lc_params *p, const char *prefix, int nlayers, const int *sizes,
                   lc_act act, int layernorm);
// After lc_params_alloc: orthogonal weights with gain (sqrt 2 for hidden layers
// as in the PPO literature) and out_gain for the last layer; zero biases.
void lc_mlp_init(const lc_mlp *m, lc_params *p, float hidden_gain, float out_gain, lc_rng *rng);
// Floats of activation memory needed for a batch of B.
size_t lc_mlp_act_size(const lc_mlp *m, int B);
// Forward; acts (lc_mlp_act_size) keeps what backward needs. Returns a pointer
// into acts holding the (B, sizes[nlayers]) output.
float *lc_mlp_forward(const lc_mlp *m, const lc_params *p, float *acts, const float *in, int B);
// Backward from dout (B, out); grads += into p->grads; din (B, in) may be NULL.
// work: lc_mlp_act_size floats of scratch.
void lc_mlp_backward(const lc_mlp *m, lc_params *p, float *work, const float *acts,
                     const float *in, const float *dout, float *din, int B);

LC_API_END

#endif
