// worldmodel/tokenizer.c: the VQ-VAE frame tokenizer (see tokenizer.h): forward and
// backward passes over one parameter arena, training with dead-code restarts, encode,
// decode, checkpoint tensors. Leaves out: data augmentation, learning-rate schedules.
//
// B = frames, S = side, C = channels, E = hidden, D = code dim, G = S/4, T = G G, K = codes.
#include "worldmodel/tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"

struct lc_tok {
    lc_tok_cfg cfg;
    int G, T;
    lc_params p;
    int c1w, c1b, c2w, c2b, c3w, c3b, cb, d1w, d1b, d2w, d2b, d3w, d3b;
    int64_t restarts;
    double train_s, loss;
};

// Activations and gradients of a batch of B frames.
typedef struct tok_buf {
    int B;
    float *x, *h1, *h2, *z, *zr, *zqr, *zq, *g1, *g2, *out; // forward
    float *d_big, *d_big2, *d_mid, *d_mid2, *dzr, *dzqr;      // backward scratch
    float *col;
    int *codes; // (B T)
} tok_buf;

lc_tok_cfg lc_tok_cfg_default(void) {
    lc_tok_cfg c = {.side = 64, .channels = 3, .hidden = 32, .dim = 16, .codes = 256,
                    .batch = 16, .steps = 2000, .restart_window = 50, .beta = 0.25f,
                    .lr = 2e-3f, .seed = 1};
    return c;
}

static int check_cfg(const lc_tok_cfg *c, lc_error *err) {
    if (c->side < 4 || c->side > 512 || c->side % 4)
        return lc_fail(err, LC_ERR_ARG, "tokenizer: side %d must be a multiple of 4 in [4, 512]",
                       c->side);
    if (c->channels < 1 || c->channels > 4)
        return lc_fail(err, LC_ERR_ARG, "tokenizer: %d channels (1..4)", c->channels);
    if (c->hidden < 1 || c->hidden > 1024 || c->dim < 1 || c->dim > 1024)
        return lc_fail(err, LC_ERR_ARG, "tokenizer: hidden %d / dim %d out of range", c->hidden,
                       c->dim);
    if (c->codes < 2 || c->codes > 65536)
        return lc_fail(err, LC_ERR_ARG, "tokenizer: codes %d must be in [2, 65536]", c->codes);
    if (c->batch < 1 || c->batch > 4096 || c->steps < 0 || c->restart_window < 0)
        return lc_fail(err, LC_ERR_ARG, "tokenizer: batch, steps or restart window out of range");
    if (!(c->lr > 0 && c->lr < 1) || !(c->beta >= 0 && c->beta < 100))
        return lc_fail(err, LC_ERR_ARG, "tokenizer: lr or beta out of range");
    return LC_OK;
}

static int build(lc_tok *t, lc_error *err) {
    const lc_tok_cfg *c = &t->cfg;
    int rc = check_cfg(c, err);
    if (rc) return rc;
    int C = c->channels, E = c->hidden, D = c->dim, K = c->codes;
    t->G = c->side / 4;
    t->T = t->G * t->G;
    lc_params_init(&t->p);
    int s1[4] = {E, C, 4, 4}, s2[4] = {E, E, 4, 4}, s3[4] = {D, E, 1, 1}, scb[2] = {K, D};
    int sd1[4] = {E, D, 3, 3}, sd2[4] = {E, E, 4, 4}, sd3[4] = {E, C, 4, 4};
    t->c1w = lc_params_add(&t->p, "enc.c1w", 4, s1);
    t->c1b = lc_params_add(&t->p, "enc.c1b", 1, &E);
    t->c2w = lc_params_add(&t->p, "enc.c2w", 4, s2);
    t->c2b = lc_params_add(&t->p, "enc.c2b", 1, &E);
    t->c3w = lc_params_add(&t->p, "enc.c3w", 4, s3);
    t->c3b = lc_params_add(&t->p, "enc.c3b", 1, &D);
    t->cb = lc_params_add(&t->p, "codebook", 2, scb);
    t->d1w = lc_params_add(&t->p, "dec.d1w", 4, sd1);
    t->d1b = lc_params_add(&t->p, "dec.d1b", 1, &E);
    t->d2w = lc_params_add(&t->p, "dec.d2w", 4, sd2); // transposed: (in E, out E, 4, 4)
    t->d2b = lc_params_add(&t->p, "dec.d2b", 1, &E);
    t->d3w = lc_params_add(&t->p, "dec.d3w", 4, sd3); // transposed: (in E, out C, 4, 4)
    t->d3b = lc_params_add(&t->p, "dec.d3b", 1, &C);
    return lc_params_alloc(&t->p, err);
}

static void init_params(lc_tok *t) {
    lc_rng rng;
    lc_rng_seed(&rng, t->cfg.seed, 0x70c);
    int C = t->cfg.channels, E = t->cfg.hidden, D = t->cfg.dim;
    lc_init_kaiming_uniform(lc_param(&t->p, t->c1w), C * 16, (size_t)E * C * 16, &rng);
    lc_init_kaiming_uniform(lc_param(&t->p, t->c2w), E * 16, (size_t)E * E * 16, &rng);
    lc_init_xavier_uniform(lc_param(&t->p, t->c3w), E, D, (size_t)D * E, &rng);
    lc_init_normal(lc_param(&t->p, t->cb), (size_t)t->cfg.codes * D, 1.0f, &rng);
    lc_init_kaiming_uniform(lc_param(&t->p, t->d1w), D * 9, (size_t)E * D * 9, &rng);
    // a transposed 4x4 s2 conv: each output pixel sees 4 taps of each input channel
    lc_init_kaiming_uniform(lc_param(&t->p, t->d2w), E * 4, (size_t)E * E * 16, &rng);
    lc_init_xavier_uniform(lc_param(&t->p, t->d3w), E * 4, C, (size_t)E * C * 16, &rng);
    float *b3 = lc_param(&t->p, t->d3b);
    for (int c = 0; c < C; c++) b3[c] = 0.5f; // mid grey
}

int lc_tok_new(lc_tok **out, const lc_tok_cfg *cfg, lc_error *err) {
    *out = NULL;
    lc_tok *t = calloc(1, sizeof *t);
    if (!t) return lc_fail(err, LC_ERR_NOMEM, "tokenizer: out of memory");
    t->cfg = *cfg;
    int rc = build(t, err);
    if (rc) {
        lc_tok_free(t);
        return rc;
    }
    init_params(t);
    *out = t;
    return LC_OK;
}

void lc_tok_free(lc_tok *t) {
    if (!t) return;
    lc_params_free(&t->p);
    free(t);
}

const lc_tok_cfg *lc_tok_config(const lc_tok *t) { return &t->cfg; }
int lc_tok_grid(const lc_tok *t) { return t->G; }
lc_params *lc_tok_params(lc_tok *t) { return &t->p; }
int64_t lc_tok_restarts(const lc_tok *t) { return t->restarts; }
double lc_tok_train_seconds(const lc_tok *t) { return t->train_s; }

// ---------------------------------------------------------------- buffers

static void buf_free(tok_buf *b) {
    float *ps[] = {b->x,     b->h1,     b->h2,    b->z,      b->zr,  b->zqr, b->zq,
                   b->g1,    b->g2,     b->out,   b->d_big,  b->d_big2, b->d_mid,
                   b->d_mid2, b->dzr,   b->dzqr,  b->col};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) free(ps[i]);
    free(b->codes);
    memset(b, 0, sizeof *b);
}

// enc: 1 = the encoder's buffers, dec: 1 = the decoder's, train: 1 = backward scratch.
static int buf_init(tok_buf *b, const lc_tok *t, int B, int enc, int dec, int train,
                    lc_error *err) {
    memset(b, 0, sizeof *b);
    b->B = B;
    const size_t S = t->cfg.side, C = t->cfg.channels, E = t->cfg.hidden, D = t->cfg.dim;
    const size_t G = t->G, n = B, H = S / 2;
    size_t col = lc_conv2d_col_size((int)C, (int)S, (int)S, 4, 2, 1), c2;
    c2 = lc_conv2d_col_size((int)E, (int)H, (int)H, 4, 2, 1);
    if (c2 > col) col = c2;
    c2 = lc_conv2d_col_size((int)D, (int)G, (int)G, 3, 1, 1);
    if (c2 > col) col = c2;
    c2 = lc_conv2d_col_size((int)E, (int)H, (int)H, 4, 2, 1); // convt E -> E to H x H
    if (c2 > col) col = c2;
    c2 = lc_conv2d_col_size((int)C, (int)S, (int)S, 4, 2, 1); // convt E -> C to S x S
    if (c2 > col) col = c2;
    c2 = lc_conv2d_col_size((int)E, (int)G, (int)G, 1, 1, 0);
    if (c2 > col) col = c2;
    b->col = malloc(col * sizeof(float));
    b->codes = malloc(n * G * G * sizeof(int));
    b->zqr = malloc(n * G * G * D * sizeof(float));
    b->zq = malloc(n * D * G * G * sizeof(float));
    int ok = b->col && b->codes && b->zqr && b->zq;
    if (enc) {
        b->x = malloc(n * C * S * S * sizeof(float));
        b->h1 = malloc(n * E * H * H * sizeof(float));
        b->h2 = malloc(n * E * G * G * sizeof(float));
        b->z = malloc(n * D * G * G * sizeof(float));
        b->zr = malloc(n * G * G * D * sizeof(float));
        ok = ok && b->x && b->h1 && b->h2 && b->z && b->zr;
    }
    if (dec) {
        b->g1 = malloc(n * E * G * G * sizeof(float));
        b->g2 = malloc(n * E * H * H * sizeof(float));
        b->out = malloc(n * C * S * S * sizeof(float));
        ok = ok && b->g1 && b->g2 && b->out;
    }
    if (train) {
        size_t big = n * (E * H * H > C * S * S ? E * H * H : C * S * S);
        size_t mid = n * (E > D ? E : D) * G * G;
        b->d_big = malloc(big * sizeof(float));
        b->d_big2 = malloc(big * sizeof(float));
        b->d_mid = malloc(mid * sizeof(float));
        b->d_mid2 = malloc(mid * sizeof(float));
        b->dzr = malloc(n * G * G * D * sizeof(float));
        b->dzqr = malloc(n * G * G * D * sizeof(float));
        ok = ok && b->d_big && b->d_big2 && b->d_mid && b->d_mid2 && b->dzr && b->dzqr;
    }
    if (!ok) {
        buf_free(b);
        return lc_fail(err, LC_ERR_NOMEM, "tokenizer: out of memory for %d frames", B);
    }
    return LC_OK;
}

// (B, D, T) <-> (B T, D)
static void to_rows(float *rows, const float *chw, int B, int D, int T) {
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            const float *s = chw + ((size_t)b * D + d) * T;
            for (int i = 0; i < T; i++) rows[((size_t)b * T + i) * D + d] = s[i];
        }
}
static void from_rows(float *chw, const float *rows, int B, int D, int T) {
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            float *o = chw + ((size_t)b * D + d) * T;
            for (int i = 0; i < T; i++) o[i] = rows[((size_t)b * T + i) * D + d];
        }
}

// ---------------------------------------------------------------- passes

// Encoder: b->x -> z (NCHW) and zr (rows).
static void encode_fwd(const lc_tok *t, tok_buf *b) {
    const int B = b->B, S = t->cfg.side, C = t->cfg.channels, E = t->cfg.hidden,
              D = t->cfg.dim, G = t->G, H = S / 2;
    const lc_params *p = &t->p;
    lc_conv2d_forward(b->h1, b->col, b->x, lc_param(p, t->c1w), lc_param(p, t->c1b), B, C, S, S,
                      E, 4, 2, 1);
    lc_relu_forward(b->h1, b->h1, (size_t)B * E * H * H);
    lc_conv2d_forward(b->h2, b->col, b->h1, lc_param(p, t->c2w), lc_param(p, t->c2b), B, E, H, H,
                      E, 4, 2, 1);
    lc_relu_forward(b->h2, b->h2, (size_t)B * E * G * G);
    lc_conv2d_forward(b->z, b->col, b->h2, lc_param(p, t->c3w), lc_param(p, t->c3b), B, E, G, G,
                      D, 1, 1, 0);
    to_rows(b->zr, b->z, B, D, t->T);
}

// Decoder: b->zq (NCHW) -> b->out.
static void decode_fwd(const lc_tok *t, tok_buf *b) {
    const int B = b->B, S = t->cfg.side, C = t->cfg.channels, E = t->cfg.hidden,
              D = t->cfg.dim, G = t->G, H = S / 2;
    const lc_params *p = &t->p;
    lc_conv2d_forward(b->g1, b->col, b->zq, lc_param(p, t->d1w), lc_param(p, t->d1b), B, D, G, G,
                      E, 3, 1, 1);
    lc_relu_forward(b->g1, b->g1, (size_t)B * E * G * G);
    lc_convt2d_forward(b->g2, b->col, b->g1, lc_param(p, t->d2w), lc_param(p, t->d2b), B, E, G, G,
                       E, 4, 2, 1);
    lc_relu_forward(b->g2, b->g2, (size_t)B * E * H * H);
    lc_convt2d_forward(b->out, b->col, b->g2, lc_param(p, t->d3w), lc_param(p, t->d3b), B, E, H,
                       H, C, 4, 2, 1);
}

// One forward and backward pass over b->x; returns the loss; grads accumulate.
static double fwd_bwd(lc_tok *t, tok_buf *b) {
    const int B = b->B, S = t->cfg.side, C = t->cfg.channels, E = t->cfg.hidden,
              D = t->cfg.dim, G = t->G, H = S / 2, K = t->cfg.codes, T = t->T;
    lc_params *p = &t->p;
    encode_fwd(t, b);
    lc_vq_losses vl = lc_vq_forward(b->zqr, b->codes, b->zr, lc_param(p, t->cb), B * T, K, D);
    from_rows(b->zq, b->zqr, B, D, T);
    decode_fwd(t, b);
    const size_t nx = (size_t)B * C * S * S;
    double rec = lc_mse_forward(b->out, b->x, nx);
    // decoder backward
    float *dout = b->d_big, *dg2 = b->d_big2;
    memset(dout, 0, nx * sizeof(float));
    lc_mse_backward(dout, b->out, b->x, nx, 1.0f);
    size_t ng2 = (size_t)B * E * H * H, ng1 = (size_t)B * E * G * G;
    memset(dg2, 0, ng2 * sizeof(float));
    lc_convt2d_backward(dg2, lc_grad(p, t->d3w), lc_grad(p, t->d3b), b->col, dout, b->g2,
                        lc_param(p, t->d3w), B, E, H, H, C, 4, 2, 1);
    memset(dout, 0, ng2 * sizeof(float)); // dout is done with: it holds dg2 before the relu
    lc_relu_backward(dout, dg2, b->g2, ng2);
    float *dg1 = b->d_mid, *dg1p = b->d_mid2;
    memset(dg1, 0, ng1 * sizeof(float));
    lc_convt2d_backward(dg1, lc_grad(p, t->d2w), lc_grad(p, t->d2b), b->col, dout, b->g1,
                        lc_param(p, t->d2w), B, E, G, G, E, 4, 2, 1);
    memset(dg1p, 0, ng1 * sizeof(float));
    lc_relu_backward(dg1p, dg1, b->g1, ng1);
    size_t nz = (size_t)B * D * G * G;
    float *dzq = b->d_mid; // (B, D, G, G)
    memset(dzq, 0, nz * sizeof(float));
    lc_conv2d_backward(dzq, lc_grad(p, t->d1w), lc_grad(p, t->d1b), b->col, dg1p, b->zq,
                       lc_param(p, t->d1w), B, D, G, G, E, 3, 1, 1);
    // VQ (straight-through)
    to_rows(b->dzqr, dzq, B, D, T);
    memset(b->dzr, 0, (size_t)B * T * D * sizeof(float));
    lc_vq_backward(b->dzr, lc_grad(p, t->cb), b->dzqr, b->zr, lc_param(p, t->cb), b->codes,
                   B * T, K, D, t->cfg.beta);
    float *dz = b->d_mid2;
    from_rows(dz, b->dzr, B, D, T);
    // encoder backward
    float *dh2 = b->d_mid;
    memset(dh2, 0, ng1 * sizeof(float));
    lc_conv2d_backward(dh2, lc_grad(p, t->c3w), lc_grad(p, t->c3b), b->col, dz, b->h2,
                       lc_param(p, t->c3w), B, E, G, G, D, 1, 1, 0);
    float *dh2p = b->d_mid2;
    memset(dh2p, 0, ng1 * sizeof(float));
    lc_relu_backward(dh2p, dh2, b->h2, ng1);
    float *dh1 = b->d_big;
    memset(dh1, 0, ng2 * sizeof(float));
    lc_conv2d_backward(dh1, lc_grad(p, t->c2w), lc_grad(p, t->c2b), b->col, dh2p, b->h1,
                       lc_param(p, t->c2w), B, E, H, H, E, 4, 2, 1);
    float *dh1p = b->d_big2;
    memset(dh1p, 0, ng2 * sizeof(float));
    lc_relu_backward(dh1p, dh1, b->h1, ng2);
    lc_conv2d_backward(NULL, lc_grad(p, t->c1w), lc_grad(p, t->c1b), b->col, dh1p, b->x,
                       lc_param(p, t->c1w), B, C, S, S, E, 4, 2, 1);
    return rec + vl.codebook + t->cfg.beta * vl.commit;
}

void lc_tok_to_float(const uint8_t *frame, int S, int C, float *out) {
    const size_t n = (size_t)S * S;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < C; c++) out[c * n + i] = frame[i * C + c] * (1.0f / 255.0f);
}

double lc_tok_loss(lc_tok *t, const float *x, int B, int *tokens, lc_error *err) {
    tok_buf b;
    if (buf_init(&b, t, B, 1, 1, 1, err)) return NAN;
    memcpy(b.x, x, (size_t)B * t->cfg.channels * t->cfg.side * t->cfg.side * sizeof(float));
    lc_params_zero_grad(&t->p);
    double l = fwd_bwd(t, &b);
    if (tokens) memcpy(tokens, b.codes, (size_t)B * t->T * sizeof(int));
    buf_free(&b);
    return l;
}

int lc_tok_train(lc_tok *t, const uint8_t *frames, size_t n, lc_tok_progress cb, void *ctx,
                 lc_error *err) {
    const lc_tok_cfg *c = &t->cfg;
    const int B = c->batch, S = c->side, C = c->channels, K = c->codes, D = c->dim, T = t->T;
    if (n < 1) return lc_fail(err, LC_ERR_ARG, "tokenizer: no frames to train on");
    const size_t fs = (size_t)S * S * C;
    tok_buf b;
    int rc = buf_init(&b, t, B, 1, 1, 1, err);
    if (rc) return rc;
    int *usage = calloc((size_t)K, sizeof(int));
    float *errs = malloc((size_t)B * T * sizeof(float));
    if (!usage || !errs) {
        free(usage), free(errs), buf_free(&b);
        return lc_fail(err, LC_ERR_NOMEM, "tokenizer: out of memory");
    }
    lc_rng rng;
    lc_rng_seed(&rng, c->seed, 0x70c1);
    lc_adam opt = lc_adam_default(c->lr);
    double t0 = lc_now(), loss = 0;
    float *cbk = lc_param(&t->p, t->cb);
    for (int s = 0; s < c->steps; s++) {
        for (int i = 0; i < B; i++)
            lc_tok_to_float(frames + (size_t)lc_rng_below(&rng, (uint32_t)n) * fs, S, C,
                            b.x + (size_t)i * fs);
        if (s == 0) { // codebook from encoder outputs (data-dependent init)
            encode_fwd(t, &b);
            for (int k = 0; k < K; k++)
                memcpy(cbk + (size_t)k * D,
                       b.zr + (size_t)lc_rng_below(&rng, (uint32_t)(B * T)) * D,
                       (size_t)D * sizeof(float));
        }
        lc_params_zero_grad(&t->p);
        loss = fwd_bwd(t, &b);
        if (!isfinite(loss)) {
            rc = lc_fail(err, LC_ERR_NAN, "tokenizer: loss is not finite at step %d", s);
            break;
        }
        lc_clip_grad_norm(t->p.grads, t->p.n, 1.0f);
        lc_adam_step(&t->p, &opt);
        // A relu maps NaN to 0: a non-finite weight can leave the loss finite.
        if (!lc_all_finite(t->p.params, t->p.n)) {
            rc = lc_fail(err, LC_ERR_NAN, "tokenizer: parameters are not finite after step %d", s);
            break;
        }
        for (int i = 0; i < B * T; i++) usage[b.codes[i]]++;
        if (c->restart_window > 0 && (s + 1) % c->restart_window == 0) {
            // errors of this batch's vectors under the codes they had (after the step the
            // codebook moved a little; this is the ranking, not the loss)
            for (int i = 0; i < B * T; i++) {
                const float *z = b.zr + (size_t)i * D, *e = cbk + (size_t)b.codes[i] * D;
                float d = 0;
                for (int j = 0; j < D; j++) d += (z[j] - e[j]) * (z[j] - e[j]);
                errs[i] = d;
            }
            for (int k = 0; k < K; k++) {
                if (usage[k]) continue;
                int best = 0; // the worst-fitted vector left
                for (int i = 1; i < B * T; i++)
                    if (errs[i] > errs[best]) best = i;
                errs[best] = -1.0f;
                const float *z = b.zr + (size_t)best * D;
                for (int j = 0; j < D; j++)
                    cbk[(size_t)k * D + j] = z[j] + 0.01f * (float)lc_rng_normal(&rng);
                size_t off = t->p.t[t->cb].offset + (size_t)k * D;
                memset(t->p.m + off, 0, (size_t)D * sizeof(float));
                memset(t->p.v + off, 0, (size_t)D * sizeof(float));
                t->restarts++;
            }
            memset(usage, 0, (size_t)K * sizeof(int));
        }
        if (cb && (s + 1) % 100 == 0 && cb(ctx, s + 1, loss)) break;
    }
    t->loss = loss;
    t->train_s = lc_now() - t0;
    free(usage), free(errs), buf_free(&b);
    return rc;
}

// Chunks of frames per pass in encode/decode (memory stays bounded for any B).
#define CHUNK 64

int lc_tok_encode(const lc_tok *t, const uint8_t *frames, int B, int *tokens, lc_error *err) {
    const int S = t->cfg.side, C = t->cfg.channels;
    const size_t fs = (size_t)S * S * C;
    tok_buf b;
    int cap = B < CHUNK ? (B > 0 ? B : 1) : CHUNK;
    int rc = buf_init(&b, t, cap, 1, 0, 0, err);
    if (rc) return rc;
    for (int i0 = 0; i0 < B; i0 += cap) {
        b.B = B - i0 < cap ? B - i0 : cap;
        for (int i = 0; i < b.B; i++)
            lc_tok_to_float(frames + (size_t)(i0 + i) * fs, S, C, b.x + (size_t)i * fs);
        encode_fwd(t, &b);
        lc_vq_forward(b.zqr, tokens + (size_t)i0 * t->T, b.zr, lc_param(&t->p, t->cb),
                      b.B * t->T, t->cfg.codes, t->cfg.dim);
    }
    buf_free(&b);
    return LC_OK;
}

int lc_tok_decode(const lc_tok *t, const int *tokens, int B, uint8_t *frames, float *xf,
                  lc_error *err) {
    const int S = t->cfg.side, C = t->cfg.channels, D = t->cfg.dim, T = t->T;
    const size_t fs = (size_t)S * S * C, n = (size_t)S * S;
    tok_buf b;
    int cap = B < CHUNK ? (B > 0 ? B : 1) : CHUNK;
    int rc = buf_init(&b, t, cap, 0, 1, 0, err);
    if (rc) return rc;
    const float *cbk = lc_param(&t->p, t->cb);
    for (int i0 = 0; i0 < B; i0 += cap) {
        b.B = B - i0 < cap ? B - i0 : cap;
        for (int i = 0; i < b.B * T; i++) {
            int k = tokens[(size_t)i0 * T + i];
            if (k < 0 || k >= t->cfg.codes) {
                buf_free(&b);
                return lc_fail(err, LC_ERR_ARG, "tokenizer: token %d is not in [0, %d)", k,
                               t->cfg.codes);
            }
            memcpy(b.zqr + (size_t)i * D, cbk + (size_t)k * D, (size_t)D * sizeof(float));
        }
        from_rows(b.zq, b.zqr, b.B, D, T);
        decode_fwd(t, &b);
        if (xf) memcpy(xf + (size_t)i0 * fs, b.out, (size_t)b.B * fs * sizeof(float));
        for (int i = 0; i < b.B; i++) {
            const float *o = b.out + (size_t)i * fs;
            uint8_t *f = frames + (size_t)(i0 + i) * fs;
            for (size_t q = 0; q < n; q++)
                for (int c = 0; c < C; c++) {
                    float v = o[c * n + q];
                    v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                    f[q * C + c] = (uint8_t)(v * 255.0f + 0.5f);
                }
        }
    }
    buf_free(&b);
    return LC_OK;
}

// ---------------------------------------------------------------- checkpoint

#define TOK_INTS(X) X(side) X(channels) X(hidden) X(dim) X(codes) X(batch) X(steps) \
    X(restart_window)

int lc_tok_to_file(const lc_tok *t, lc_file *f, const char *prefix, lc_error *err) {
    if (!lc_all_finite(t->p.params, t->p.n))
        return lc_fail(err, LC_ERR_NAN, "tokenizer: refusing to save non-finite parameters");
    char key[128];
#define SETI(k) snprintf(key, sizeof key, "%s.cfg." #k, prefix), lc_file_set_int(f, key, t->cfg.k);
    TOK_INTS(SETI)
#undef SETI
    snprintf(key, sizeof key, "%s.cfg.beta", prefix), lc_file_set_float(f, key, t->cfg.beta);
    snprintf(key, sizeof key, "%s.cfg.lr", prefix), lc_file_set_float(f, key, t->cfg.lr);
    snprintf(key, sizeof key, "%s.cfg.seed", prefix), lc_file_set_int(f, key, (int64_t)t->cfg.seed);
    snprintf(key, sizeof key, "%s.restarts", prefix), lc_file_set_int(f, key, t->restarts);
    snprintf(key, sizeof key, "%s.train_s", prefix), lc_file_set_float(f, key, t->train_s);
    snprintf(key, sizeof key, "%s.loss", prefix), lc_file_set_float(f, key, t->loss);
    return lc_params_to_file(&t->p, f, prefix, 0, err);
}

int lc_tok_from_file(lc_tok **out, const lc_file *f, const char *prefix, lc_error *err) {
    *out = NULL;
    lc_tok_cfg c = lc_tok_cfg_default();
    char key[128];
    int64_t v;
    double d;
    int rc;
#define GETI(k) \
    snprintf(key, sizeof key, "%s.cfg." #k, prefix); \
    if ((rc = lc_file_get_int(f, key, &v, err))) return rc; \
    if (v < 0 || v > (1 << 20)) return lc_fail(err, LC_ERR_SIZE, "%s = %lld is out of range", key, (long long)v); \
    c.k = (int)v;
    TOK_INTS(GETI)
#undef GETI
    snprintf(key, sizeof key, "%s.cfg.beta", prefix);
    if ((rc = lc_file_get_float(f, key, &d, err))) return rc;
    c.beta = (float)d;
    snprintf(key, sizeof key, "%s.cfg.lr", prefix);
    if ((rc = lc_file_get_float(f, key, &d, err))) return rc;
    c.lr = (float)d;
    lc_tok *t = calloc(1, sizeof *t);
    if (!t) return lc_fail(err, LC_ERR_NOMEM, "tokenizer: out of memory");
    t->cfg = c;
    if ((rc = build(t, err)) || (rc = lc_params_from_file(&t->p, f, prefix, 0, err))) {
        lc_tok_free(t);
        return rc;
    }
    if (!lc_all_finite(t->p.params, t->p.n)) {
        lc_tok_free(t);
        return lc_fail(err, LC_ERR_NAN, "tokenizer: parameters are not finite");
    }
    snprintf(key, sizeof key, "%s.restarts", prefix);
    lc_file_get_int(f, key, &t->restarts, NULL);
    snprintf(key, sizeof key, "%s.train_s", prefix);
    lc_file_get_float(f, key, &t->train_s, NULL);
    snprintf(key, sizeof key, "%s.loss", prefix);
    lc_file_get_float(f, key, &t->loss, NULL);
    *out = t;
    return LC_OK;
}
